"""Dates and times as Chinese (and other) systems write them, vectorised.

``2024-05-02 13:04:05``, ``2024/5/2 13:04``, ``2024年5月2日 13时04分``, ``2024/5/2 下午
1:04``, ``20240502130405``, ISO 8601 with ``T`` and ``Z``/offset, Excel serial days, ROC
(民國) dates ``1100420``/``110/04/20``, ``5/2/2024``; a separate time column may hold
``13:04``, ``1304``, ``13时04分``, a two-hour band ``18~20`` (read as its first hour) or
an Excel day fraction; or the parts in five columns. Each spelling is one RE2 pattern
(``pyarrow.compute.extract_regex``) tried only on the rows the earlier ones left; the
parts are checked and turned into microseconds with numpy. Same contract as ``values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .values import (
    BAD_DATE,
    BLANK,
    NO_TIME,
    NOT_TIME,
    OK,
    OUT_OF_RANGE,
    YEAR_RANGE,
    Parsed,
    float_field,
    int_field,
    normalise,
    parse_integer,
)

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
        h = int_field(st, "h", 0)
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
        f.mi[pos] = int_field(st, "mi", 0)
    if "s" in names:
        f.s[pos] = int_field(st, "s", 0)
    if "f" in names:
        frac = st.field("f")
        digits = np.asarray(pc.utf8_length(frac).to_numpy(zero_copy_only=False), dtype=np.int64)
        val = int_field(st, "f", 0)
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
        off[has] = sign * (int_field(sub, "hh", 0) * 60 + int_field(sub, "mm", 0))
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
            f.serial[pos] = float_field(st, "serial", 0.0)
        else:
            y = int_field(st, "y", 0)
            f.y[pos] = y + 1911 if name.startswith("roc") else y
            f.mo[pos], f.d[pos] = int_field(st, "mo", 0), int_field(st, "d", 0)
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
            frac = float_field(st, "frac", 0.0)
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
