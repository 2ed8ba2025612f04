"""Cell values as Chinese (and other) systems write them → the schema's types.

Every function takes one Arrow array (a batch's column, strings or native dates)
and returns ``Parsed``: the typed array and, per row, a reason code (0 = read,
``BLANK`` = empty or a placeholder such as 无/不详/-, anything else = why it could
not be read; ``REASONS`` names them). Vectorised with pyarrow.compute and numpy,
no DuckDB and no clock: the same input gives the same output in any batch split,
so the functions can run inside Spark's ``mapInArrow``.

Timestamps: ``2024-05-02 13:04:05``, ``2024/5/2 13:04``, ``2024年5月2日 13时04分``,
``2024/5/2 下午 1:04``, ``20240502130405``, ISO 8601 with ``T`` and ``Z``/offset,
Excel serial days, ROC (民國) dates ``1100420``/``110/04/20``, ``5/2/2024``; a
separate time column may hold ``13:04``, ``1304``, ``13时04分``, a two-hour band
``18~20`` (read as its first hour) or an Excel day fraction. Coordinates: numbers
or text, degrees or 度分秒 (``114°30'15.2"``, ``114度30分15.2秒``, ``E114°30.25'``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

OK, BLANK, NOT_TIME, BAD_DATE, YEAR_RANGE, NOT_NUMBER, OUT_OF_RANGE, UNKNOWN, ZERO, \
    NO_TIME, BAD_GEOMETRY = range(11)
REASONS = (
    "read", "blank", "not a date/time", "impossible date or time",
    "year before 1900 or after 2100", "not a number", "out of range", "unknown value",
    "placeholder point ((0, 0) or a placeholder address)", "time column unreadable, date kept",
    "not a geometry",
)

# Compared after trimming (lower case here; cased and full-width spellings are added below).
NULL_TOKENS = ("", "无", "不详", "未知", "暂无", "空", "未填", "不明", "-", "--", "—", "——", "/",
               "\\", "null", "none", "nil", "n/a", "na", "nan", "#n/a", "\\n", "?", "？")


def _null_spellings() -> pa.Array:
    import unicodedata

    out = set()
    for t in NULL_TOKENS:
        for v in (t, t.upper(), t.title()):
            out.add(v)
    # full-width forms that NFKC would fold (－, ／, ＮＵＬＬ ...): compared without NFKC
    wide = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
    for v in list(out):
        out.add("".join(next((k for k, a in wide.items() if a == ch), ch) for ch in v))
    return pa.array(sorted(out | {unicodedata.normalize("NFKC", v) for v in out}), pa.string())


_NULLS = _null_spellings()


@dataclass
class Parsed:
    values: pa.Array
    reasons: np.ndarray  # uint8 codes into REASONS


# --------------------------------------------------------------------------- text

def as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any column as strings (dates in ISO form, numbers without a trailing ``.0``)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if pa.types.is_string(t):
        return values
    if pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return values.cast(pa.string())
    if pa.types.is_floating(t):
        whole = pc.equal(values, pc.floor(values))
        ints = pc.if_else(whole, values, None)
        small = pc.less(pc.abs(values), 1e15)
        as_int = pc.cast(pc.if_else(pc.and_(whole, small), ints, None), pa.int64(), safe=False)
        return pc.coalesce(pc.cast(as_int, pa.string()), pc.cast(values, pa.string()))
    if pa.types.is_timestamp(t):
        return pc.strftime(values.cast(pa.timestamp("s"), safe=False), "%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(t):
        return pc.strftime(values.cast(pa.date32()).cast(pa.timestamp("s")), "%Y-%m-%d")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return pa.nulls(len(values), pa.string())
    try:
        return values.cast(pa.string())
    except pa.ArrowNotImplementedError:  # lists and structs (GeoJSON properties): as text
        return pa.array([None if v is None else str(v) for v in values.to_pylist()],
                        pa.string())


def _blank(s: pa.Array) -> np.ndarray:
    """NULL or a placeholder (无, 不详, -, NULL ...) after trimming."""
    blank = pc.or_kleene(pc.is_null(s), pc.is_in(s, value_set=_NULLS))
    return np.asarray(pc.fill_null(blank, True).to_numpy(zero_copy_only=False), dtype=bool)


def nfkc(s: pa.Array) -> pa.Array:
    """NFKC (full-width digits and punctuation to ASCII) of the rows that are not ASCII:
    normalising every row costs more than the rest of parsing a timestamp."""
    wide = pc.invert(pc.fill_null(pc.string_is_ascii(s), True))
    if not pc.any(wide).as_py():
        return s
    return pc.replace_with_mask(s, wide, pc.utf8_normalize(s.filter(wide), form="NFKC"))


def normalise(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """NFKC, trimmed; and the blank mask."""
    s = pc.utf8_trim_whitespace(nfkc(as_text(values)))
    return s, _blank(s)


def parse_text(values: pa.Array) -> Parsed:
    """Free text and identifiers: trimmed, as written (no width change), placeholders NULL."""
    text = pc.utf8_trim_whitespace(as_text(values))
    blank = _blank(text)
    reasons = np.where(blank, BLANK, OK).astype(np.uint8)
    return Parsed(_masked(text, blank), reasons)


def _masked(arr: pa.Array, null: np.ndarray) -> pa.Array:
    if not null.any():
        return arr
    return pc.if_else(pa.array(null), pa.scalar(None, arr.type), arr)


# --------------------------------------------------------------------------- numbers

_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_GROUPED = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"


def _numbers(s: pa.Array, todo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain decimal numbers (``1,234.5`` too) where ``todo``; (values, read mask)."""
    out = np.full(len(s), np.nan)
    if not todo.any():
        return out, np.zeros(len(s), bool)
    grouped = pc.fill_null(pc.match_substring_regex(s, _GROUPED), False)
    s = pc.if_else(grouped, pc.replace_substring(s, ",", ""), s)
    ok = pc.fill_null(pc.match_substring_regex(s, _NUMBER), False)
    read = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool) & todo
    if read.any():
        vals = pc.cast(pc.if_else(pa.array(read), s, None), pa.float64())
        out = np.asarray(vals.to_numpy(zero_copy_only=False), dtype=np.float64)
    return out, read


def parse_number(values: pa.Array) -> Parsed:
    """Decimal numbers; text that is not one is unreadable."""
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        arr = pc.cast(values, pa.float64())
        null = np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)
        return Parsed(arr, np.where(null, BLANK, OK).astype(np.uint8))
    s, blank = normalise(values)
    out, read = _numbers(s, ~blank)
    reasons = np.where(blank, BLANK, np.where(read, OK, NOT_NUMBER)).astype(np.uint8)
    return Parsed(pa.array(out, mask=reasons != OK), reasons)


def parse_integer(values: pa.Array) -> Parsed:
    """Whole numbers (``1,234``, ``12.0``); a unit after the number (``12人``) is dropped."""
    s, blank = normalise(values)
    s = pc.replace_substring_regex(s, r"^([+-]?[\d,.]+)\s*[^\d\s,.]{1,3}$", r"\1")
    p = parse_number(s) if not (pa.types.is_integer(values.type)
                                or pa.types.is_floating(values.type)) else parse_number(values)
    v = np.asarray(p.values.to_numpy(zero_copy_only=False), dtype=np.float64)
    whole = np.isfinite(v) & (v == np.round(v)) & (np.abs(v) < 2**62)
    reasons = np.where(blank | (p.reasons == BLANK), BLANK,
                       np.where((p.reasons == OK) & whole, OK,
                                np.where(p.reasons == OK, OUT_OF_RANGE, NOT_NUMBER)))
    reasons = reasons.astype(np.uint8)
    ints = np.where(reasons == OK, np.round(np.nan_to_num(v)), 0).astype(np.int64)
    return Parsed(pa.array(ints, mask=reasons != OK), reasons)


# --------------------------------------------------------------------------- coordinates

_DMS = (r"^(?P<h1>东经|西经|北纬|南纬|[NSEWnsew])?\s*(?P<d>\d+(?:\.\d+)?)\s*(?:[°度º˚:]\s*"
        r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:['′’‘分:]\s*(?:(?P<s>\d+(?:\.\d+)?)\s*"
        r"(?:[\"″”“秒]|'')?)?)?)?)?\s*(?P<h2>[NSEWnsew])?$")
_NEGATIVE = pa.array(["西经", "南纬", "S", "W", "s", "w"])


def parse_coordinate(values: pa.Array) -> Parsed:
    """A coordinate: a number (degrees or projected metres) or degrees-minutes-seconds."""
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return parse_number(values)
    s, blank = normalise(values)
    out, read = _numbers(s, ~blank)
    todo = ~blank & ~read
    if todo.any():
        idx = np.flatnonzero(todo)
        st = pc.extract_regex(s.take(pa.array(idx)), _DMS)
        hit = np.asarray(st.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if hit.any():
            sub = st.filter(pa.array(hit))
            deg = _float_field(sub, "d", 0.0) + _float_field(sub, "m", 0.0) / 60.0 \
                + _float_field(sub, "s", 0.0) / 3600.0
            hemi = pc.binary_join_element_wise(sub.field("h1"), sub.field("h2"), "")
            neg = np.asarray(pc.is_in(hemi, value_set=_NEGATIVE).to_numpy(
                zero_copy_only=False), dtype=bool)
            pos = idx[hit]
            out[pos] = np.where(neg, -deg, deg)
            read[pos] = True
    reasons = np.where(blank, BLANK, np.where(read & np.isfinite(out), OK, NOT_NUMBER))
    reasons = reasons.astype(np.uint8)
    return Parsed(pa.array(out, mask=reasons != OK), reasons)


def _float_field(st: pa.StructArray, name: str, default: float) -> np.ndarray:
    child = st.field(name)
    filled = pc.if_else(pc.equal(child, ""), str(default), child)
    return np.asarray(pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False))


def _int_field(st: pa.StructArray, name: str, default: int) -> np.ndarray:
    child = st.field(name)
    filled = pc.if_else(pc.equal(child, ""), str(default), child)
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False))


# --------------------------------------------------------------------------- time

_AMPM = r"(?P<ap>上午|下午|早上|晚上|中午|凌晨|AM|PM|am|pm|a\.m\.|p\.m\.)"
_CLOCK = (r"(?P<h>\d{1,2})\s*(?:[:时時点點]\s*(?P<mi>\d{1,2})?\s*(?:[:分]\s*(?P<s>\d{1,2})"
          r"(?:\.(?P<f>\d{1,6})\d*)?\s*秒?)?)?\s*分?")
_TIME = rf"(?:[\sT]*{_AMPM}?\s*{_CLOCK}\s*(?P<ap2>AM|PM|am|pm)?)?"
_TZ = r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
_PATTERNS = {
    "ymd": rf"^(?P<y>\d{{4}})\s*[-/.年]\s*(?P<mo>\d{{1,2}})\s*[-/.月]\s*(?P<d>\d{{1,2}})\s*"
           rf"[日号號]?{_TIME}{_TZ}$",
    "compact": r"^(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})(?:[\sT]?(?P<h>\d{2})(?P<mi>\d{2})"
               r"(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?)?$",
    "roc": rf"^(?:民國|民国|中華民國|中华民国)\s*(?P<y>\d{{1,3}})\s*[-/.年]\s*(?P<mo>\d{{1,2}})\s*"
           rf"[-/.月]\s*(?P<d>\d{{1,2}})\s*日?{_TIME}$",
    "roc3": rf"^(?P<y>\d{{3}})\s*[-/.年]\s*(?P<mo>\d{{1,2}})\s*[-/.月]\s*(?P<d>\d{{1,2}})\s*日?"
            rf"{_TIME}$",
    "roc_compact": r"^(?P<y>\d{3})(?P<mo>\d{2})(?P<d>\d{2})(?:\s?(?P<h>\d{2})(?P<mi>\d{2}))?$",
    "roc_short": r"^(?P<y>\d{3})(?P<mo>\d)(?P<d>\d{2})$",
    "mdy": rf"^(?P<mo>\d{{1,2}})[-/.](?P<d>\d{{1,2}})[-/.](?P<y>\d{{4}}){_TIME}$",
    "dmy": rf"^(?P<d>\d{{1,2}})[-/.](?P<mo>\d{{1,2}})[-/.](?P<y>\d{{4}}){_TIME}$",
    "serial": r"^(?P<serial>\d{5}(?:\.\d+)?)$",
}
_TIME_ONLY = {
    "band": r"^(?P<h>\d{1,2})\s*[时時点點]?\s*[~\-至到]\s*(?P<h2>\d{1,2})\s*[时時点點]?$",
    "clock": rf"^{_AMPM}?\s*{_CLOCK}\s*(?P<ap2>AM|PM|am|pm)?$",
    "hhmm": r"^(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})?$",
    "hmm": r"^(?P<h>\d)(?P<mi>\d{2})$",
    "fraction": r"^(?P<frac>0?\.\d+|0|1(?:\.0+)?)$",
}
_DAY_US = 86_400_000_000
_EXCEL_EPOCH_DAYS = -25569  # 1899-12-30 relative to 1970-01-01
TIME_HINTS = ("auto", "roc", "dmy", "mdy", "serial")


def _patterns(hint: str | None) -> list[str]:
    order = ["ymd", "compact", "roc", "roc3", "roc_compact"]
    if hint == "roc":
        order.append("roc_short")
    order += ["dmy"] if hint == "dmy" else ["mdy"]
    order.append("serial")
    return order


@dataclass
class _Fields:
    """Date-time parts of the rows read so far (positions into the column)."""

    n: int

    def __post_init__(self) -> None:
        z = np.zeros(self.n, np.int64)
        self.y, self.mo, self.d = z.copy(), z.copy(), z.copy()
        self.h, self.mi, self.s, self.us = z.copy(), z.copy(), z.copy(), z.copy()
        self.serial = np.full(self.n, np.nan)
        self.offset_min = np.full(self.n, np.iinfo(np.int64).min)  # none
        self.done = np.zeros(self.n, bool)


def _take_time(f: _Fields, pos: np.ndarray, st: pa.StructArray, names: set[str]) -> None:
    if "h" in names:
        h = _int_field(st, "h", 0)
        ap = pc.binary_join_element_wise(st.field("ap"), st.field("ap2"), "") \
            if "ap" in names else None
        if ap is not None:
            pm = np.asarray(pc.is_in(pc.utf8_lower(ap), value_set=pa.array(
                ["下午", "晚上", "pm", "p.m."])).to_numpy(zero_copy_only=False), dtype=bool)
            am = np.asarray(pc.is_in(pc.utf8_lower(ap), value_set=pa.array(
                ["上午", "早上", "凌晨", "am", "a.m."])).to_numpy(zero_copy_only=False),
                dtype=bool)
            noon = np.asarray(pc.equal(ap, "中午").to_numpy(zero_copy_only=False), dtype=bool)
            h = np.where((pm & (h < 12)) | (noon & (h < 11)), h + 12, h)
            h = np.where(am & (h == 12), 0, h)
        f.h[pos] = h
    if "mi" in names:
        f.mi[pos] = _int_field(st, "mi", 0)
    if "s" in names:
        f.s[pos] = _int_field(st, "s", 0)
    if "f" in names:
        frac = st.field("f")
        digits = np.asarray(pc.utf8_length(frac).to_numpy(zero_copy_only=False), dtype=np.int64)
        val = _int_field(st, "f", 0)
        f.us[pos] = val * 10 ** np.clip(6 - digits, 0, 6)


def _take_tz(f: _Fields, pos: np.ndarray, st: pa.StructArray) -> None:
    tz = st.field("tz")
    z = pc.utf8_upper(tz)
    utc = np.asarray(pc.is_in(z, value_set=pa.array(["Z", "UTC", "GMT"])).to_numpy(
        zero_copy_only=False), dtype=bool)
    parts = pc.extract_regex(tz, r"^(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})?$")
    has = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    off = np.full(len(pos), np.iinfo(np.int64).min)
    off[utc] = 0
    if has.any():
        sub = parts.filter(pa.array(has))
        sign = np.where(np.asarray(pc.equal(sub.field("sign"), "-").to_numpy(
            zero_copy_only=False), dtype=bool), -1, 1)
        off[has] = sign * (_int_field(sub, "hh", 0) * 60 + _int_field(sub, "mm", 0))
    f.offset_min[pos] = off


def _read_dates(s: pa.Array, todo: np.ndarray, hint: str | None) -> _Fields:
    f = _Fields(len(s))
    for name in _patterns(hint):
        left = todo & ~f.done
        if not left.any():
            break
        idx = np.flatnonzero(left)
        st = pc.extract_regex(s.take(pa.array(idx)), _PATTERNS[name])
        hit = np.asarray(st.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if not hit.any():
            continue
        st = st.filter(pa.array(hit))
        pos = idx[hit]
        names = {st.type.field(i).name for i in range(st.type.num_fields)}
        if name == "serial":
            f.serial[pos] = _float_field(st, "serial", 0.0)
        else:
            y = _int_field(st, "y", 0)
            f.y[pos] = y + 1911 if name.startswith("roc") else y
            f.mo[pos], f.d[pos] = _int_field(st, "mo", 0), _int_field(st, "d", 0)
            _take_time(f, pos, st, names)
            if "tz" in names:
                _take_tz(f, pos, st)
        f.done[pos] = True
    return f


def _compose(f: _Fields) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since 1970 (naive) and reason codes for the rows in ``f.done``."""
    n = f.n
    us = np.zeros(n, np.int64)
    reason = np.where(f.done, OK, NOT_TIME).astype(np.uint8)
    serial = f.done & np.isfinite(f.serial)
    if serial.any():
        v = f.serial[serial]
        ok = (v >= 20_000) & (v < 80_000)  # 1954 to 2119: a plain number otherwise
        secs = np.round((v + _EXCEL_EPOCH_DAYS) * 86400.0).astype(np.int64)
        us[serial] = np.where(ok, secs * 1_000_000, 0)
        reason[serial] = np.where(ok, OK, OUT_OF_RANGE)
    ymd = f.done & ~serial
    if ymd.any():
        y, mo, d = f.y[ymd], f.mo[ymd], f.d[ymd]
        month_ok = (mo >= 1) & (mo <= 12)
        ym = (y - 1970) * 12 + np.where(month_ok, mo - 1, 0)
        first = ym.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        nxt = (ym + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        h, mi, s = f.h[ymd], f.mi[ymd], f.s[ymd]
        valid = month_ok & (d >= 1) & (d <= nxt - first) & (h < 24) & (mi < 60) & (s < 60)
        in_years = (y >= 1900) & (y <= 2100)
        days = first + d - 1
        val = ((days * 86400 + h * 3600 + mi * 60 + s) * 1_000_000 + f.us[ymd])
        off = f.offset_min[ymd]
        has_off = off != np.iinfo(np.int64).min
        val = np.where(has_off, val - np.where(has_off, off, 0) * 60_000_000, val)
        us[ymd] = np.where(valid & in_years, val, 0)
        reason[ymd] = np.where(~valid, BAD_DATE, np.where(in_years, OK, YEAR_RANGE))
    return us, reason


def _to_local(us: np.ndarray, f: _Fields, timezone: str | None) -> np.ndarray:
    """Times written with an offset are instants: shown in ``timezone`` when one is given,
    else as the wall-clock time they were written in (the offset is dropped)."""
    has_off = f.done & (f.offset_min != np.iinfo(np.int64).min)
    if not has_off.any():
        return us
    out = us.copy()
    if timezone:
        utc = pa.array(us[has_off], pa.timestamp("us", "UTC"))
        local = pc.local_timestamp(utc.cast(pa.timestamp("us", timezone)))
        out[has_off] = np.asarray(local.cast(pa.int64()).to_numpy(zero_copy_only=False))
    else:
        out[has_off] = us[has_off] + f.offset_min[has_off] * 60_000_000
    return out


def _native_time(values: pa.Array) -> Parsed | None:
    t = values.type
    if pa.types.is_timestamp(t):
        arr = values
        if t.tz is not None:
            arr = pc.local_timestamp(values)
        arr = arr.cast(pa.timestamp("us"))
    elif pa.types.is_date(t):
        arr = values.cast(pa.date32()).cast(pa.timestamp("us"))
    else:
        return None
    null = np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)
    return Parsed(arr, np.where(null, BLANK, OK).astype(np.uint8))


def parse_timestamp(values: pa.Array, hint: str | None = None,
                    timezone: str | None = None) -> Parsed:
    """A date-time column (``timestamp[us]``, naive local time).

    ``hint``: ``roc`` also reads six-digit ROC dates (``110420`` = 110-4-20), ``dmy``
    reads ``2/5/2024`` as 2 May (default: month first), or a ``strptime`` format that
    is tried before the built-in spellings. ``timezone`` (IANA name) converts times
    written with an offset or ``Z`` to local time.
    """
    native = _native_time(values)
    if native is not None:
        return native
    s, blank = normalise(values)
    n = len(s)
    pre_us = np.zeros(n, np.int64)
    pre = np.zeros(n, bool)
    if hint and "%" in hint:
        got = pc.strptime(s, format=hint, unit="us", error_is_null=True)
        pre = np.asarray(pc.is_valid(got).to_numpy(zero_copy_only=False), dtype=bool) & ~blank
        if pre.any():
            pre_us = np.asarray(pc.fill_null(got.cast(pa.int64()), 0).to_numpy(
                zero_copy_only=False), dtype=np.int64)
        hint = None
    f = _read_dates(s, ~blank & ~pre, hint)
    us, reason = _compose(f)
    us = _to_local(us, f, timezone)
    us = np.where(pre, pre_us, us)
    reason = np.where(blank, BLANK, np.where(pre, OK, reason)).astype(np.uint8)
    return Parsed(pa.array(us, pa.timestamp("us"), mask=reason != OK), reason)


def parse_date(values: pa.Array, hint: str | None = None) -> Parsed:
    """A date column (``date32``); a time part, if written, is ignored."""
    p = parse_timestamp(values, hint)
    return Parsed(pc.cast(pc.floor_temporal(p.values, unit="day"), pa.date32()), p.reasons)


def parse_time_of_day(values: pa.Array) -> Parsed:
    """A time-of-day column → microseconds after midnight (``int64``)."""
    t = values.type
    if pa.types.is_timestamp(t) or pa.types.is_time(t):
        arr = values.cast(pa.timestamp("us")) if pa.types.is_timestamp(t) else None
        if arr is not None:
            us = pc.subtract(arr.cast(pa.int64()),
                             pc.floor_temporal(arr, unit="day").cast(pa.int64()))
        else:
            us = values.cast(pa.time64("us")).cast(pa.int64())
        null = np.asarray(pc.is_null(us).to_numpy(zero_copy_only=False), dtype=bool)
        return Parsed(us, np.where(null, BLANK, OK).astype(np.uint8))
    s, blank = normalise(values)
    n = len(s)
    out = np.zeros(n, np.int64)
    done = np.zeros(n, bool)
    bad = np.zeros(n, bool)
    for name, pattern in _TIME_ONLY.items():
        left = ~blank & ~done
        if not left.any():
            break
        idx = np.flatnonzero(left)
        st = pc.extract_regex(s.take(pa.array(idx)), pattern)
        hit = np.asarray(st.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if not hit.any():
            continue
        st = st.filter(pa.array(hit))
        pos = idx[hit]
        if name == "fraction":
            frac = _float_field(st, "frac", 0.0)
            out[pos] = np.round(frac * 86400.0).astype(np.int64) * 1_000_000
            bad[pos] = frac >= 1.0
        else:
            f = _Fields(len(pos))
            names = {st.type.field(i).name for i in range(st.type.num_fields)}
            _take_time(f, np.arange(len(pos)), st, names)
            out[pos] = ((f.h * 60 + f.mi) * 60 + f.s) * 1_000_000 + f.us
            bad[pos] = (f.h > 23) | (f.mi > 59) | (f.s > 59)
        done[pos] = True
    reason = np.where(blank, BLANK, np.where(~done, NOT_TIME, np.where(bad, BAD_DATE, OK)))
    reason = reason.astype(np.uint8)
    return Parsed(pa.array(np.where(reason == OK, out, 0), mask=reason != OK), reason)


def combine_date_time(date: Parsed, time: Parsed) -> Parsed:
    """A date column and a time column: the date's day plus the time of day.

    A row whose time is blank keeps midnight; one whose time is unreadable keeps the
    date too and is counted (``NO_TIME``).
    """
    days = date.values
    if pa.types.is_date(days.type):
        days = days.cast(pa.timestamp("us"))
    day = pc.floor_temporal(days, unit="day").cast(pa.int64())
    tod = pc.fill_null(time.values, 0)
    us = pc.add(day, tod)
    reason = date.reasons.copy()
    reason[(date.reasons == OK) & (time.reasons > BLANK)] = NO_TIME
    return Parsed(us.cast(pa.timestamp("us")), reason)


def timestamp_from_parts(parts: Mapping[str, pa.Array]) -> Parsed:
    """Year, month, day (and optionally hour, minute, second) in separate columns."""
    n = len(next(iter(parts.values())))
    f = _Fields(n)
    blank = np.zeros(n, bool)
    bad = np.zeros(n, bool)
    for key, attr, required in (("year", "y", True), ("month", "mo", True), ("day", "d", True),
                                ("hour", "h", False), ("minute", "mi", False),
                                ("second", "s", False)):
        if key not in parts:
            continue
        p = parse_integer(parts[key])
        v = np.asarray(pc.fill_null(p.values, 0).to_numpy(zero_copy_only=False), np.int64)
        setattr(f, attr, v)
        if required:
            blank |= p.reasons == BLANK
        bad |= p.reasons > BLANK
    f.done[:] = ~blank & ~bad
    us, reason = _compose(f)
    reason = np.where(blank, BLANK, np.where(bad, NOT_TIME, reason)).astype(np.uint8)
    return Parsed(pa.array(us, pa.timestamp("us"), mask=reason != OK), reason)


def guess_time_hint(values: pa.Array) -> str | None:
    """``roc``/``dmy``/None from a sample: what the data shows, for the mapping file."""
    s, blank = normalise(values)
    s = s.filter(pa.array(~blank))
    if len(s) == 0:
        return None
    roc = pc.sum(pc.cast(pc.match_substring_regex(s, r"^(\d{7}|\d{3}[-/.]\d{1,2}[-/.]\d{1,2}|"
                                                  r"民[國国].*)"), pa.int64())).as_py() or 0
    if roc > 0.5 * len(s):
        return "roc"
    dmy = pc.extract_regex(s, r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.]\d{4}")
    ok = dmy.is_valid()
    if pc.any(ok).as_py():
        sub = dmy.filter(ok)
        if pc.any(pc.greater(pc.cast(sub.field("a"), pa.int64()), 12)).as_py():
            return "dmy"
    return None


# --------------------------------------------------------------------------- codes

def code_key(values: pa.Array) -> pa.Array:
    """How a code value is compared: NFKC, trimmed, lower case, inner spaces removed."""
    s = pc.utf8_trim_whitespace(nfkc(as_text(values)))
    return pc.replace_substring_regex(pc.utf8_lower(s), r"\s+", "")


def code_key_text(text: str) -> str:
    """``code_key`` for one Python string (map keys are normalised the same way)."""
    return code_key(pa.array([text])).to_pylist()[0] or ""


def map_codes(values: pa.Array, value_map: Mapping[str, str], codes: tuple[str, ...],
              fallback: str | None) -> Parsed:
    """Source values → schema codes through ``value_map`` (keys compared by ``code_key``);
    the codes themselves are accepted as written. Anything else becomes ``fallback``.

    The work is done once per distinct value (a code column has few) and spread back.
    """
    encoded = pc.dictionary_encode(as_text(values))
    uniq, index = encoded.dictionary, encoded.indices
    _, blank = normalise(uniq)
    key = code_key(uniq)
    pairs = {code_key_text(k): v for k, v in value_map.items()}
    for c in codes:
        pairs.setdefault(c.lower(), c)
    keys = pa.array(list(pairs), pa.string())
    targets = pa.array(list(pairs.values()), pa.string())
    idx = pc.index_in(key, value_set=keys)
    found = np.asarray(pc.is_valid(idx).to_numpy(zero_copy_only=False), dtype=bool)
    mapped = targets.take(pc.fill_null(idx, 0))
    reason_u = np.where(blank, BLANK, np.where(found, OK, UNKNOWN)).astype(np.uint8)
    out_u = pc.if_else(pa.array(reason_u == UNKNOWN), pa.scalar(fallback, pa.string()), mapped)
    out_u = _masked(out_u, blank)
    pos = np.asarray(pc.fill_null(index, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    reasons = np.where(pos < 0, BLANK, reason_u[np.clip(pos, 0, None)]).astype(np.uint8)
    return Parsed(out_u.take(index), reasons)


BOOL_WORDS = {
    True: ("是", "有", "可用", "可调度", "在岗", "在线", "空闲", "启用", "正常", "y", "yes", "true",
           "t", "1", "√", "✓", "available", "on"),
    False: ("否", "不可用", "不可调度", "离岗", "离线", "忙碌", "执勤中", "停用", "故障", "n", "no",
            "false", "f", "0", "×", "✗", "unavailable", "off"),
}


def parse_bool(values: pa.Array, value_map: Mapping[str, str] | None = None) -> Parsed:
    """Yes/no columns (是/否, 可用/不可用, 1/0 ...); ``value_map`` maps more words to
    ``true``/``false``."""
    words = {w: str(b).lower() for b, ws in BOOL_WORDS.items() for w in ws}
    words |= {code_key_text(k): str(v).lower() for k, v in (value_map or {}).items()}
    p = map_codes(values, words, ("true", "false"), None)
    arr = pc.equal(p.values, "true")
    return Parsed(arr, p.reasons)


# --------------------------------------------------------------------------- statistics

def reason_counts(reasons: np.ndarray) -> dict[str, int]:
    """{reason name: rows} for the non-zero codes."""
    counts = np.bincount(reasons, minlength=len(REASONS))
    return {REASONS[i]: int(c) for i, c in enumerate(counts) if c}
