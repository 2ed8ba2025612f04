"""Cell values as Chinese (and other) systems write them → the schema's types.

Every function takes one Arrow array (a batch's column, strings or native dates)
and returns ``Parsed``: the typed array and, per row, a reason code (0 = read,
``BLANK`` = empty or a placeholder such as 无/不详/-, anything else = why it could
not be read; ``REASONS`` names them). Vectorised with pyarrow.compute and numpy,
no DuckDB and no clock: the same input gives the same output in any batch split,
so the functions can run inside Spark's ``mapInArrow``. Times are in ``times``.

Numbers (``1,234.5``, full width), coordinates as numbers or 度分秒 (``114°30'15.2"``,
``114度30分15.2秒``, ``E114°30.25'``), codes through a value map, yes/no words.
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
            deg = float_field(sub, "d", 0.0) + float_field(sub, "m", 0.0) / 60.0 \
                + float_field(sub, "s", 0.0) / 3600.0
            hemi = pc.binary_join_element_wise(sub.field("h1"), sub.field("h2"), "")
            neg = np.asarray(pc.is_in(hemi, value_set=_NEGATIVE).to_numpy(
                zero_copy_only=False), dtype=bool)
            pos = idx[hit]
            out[pos] = np.where(neg, -deg, deg)
            read[pos] = True
    reasons = np.where(blank, BLANK, np.where(read & np.isfinite(out), OK, NOT_NUMBER))
    reasons = reasons.astype(np.uint8)
    return Parsed(pa.array(out, mask=reasons != OK), reasons)


def float_field(st: pa.StructArray, name: str, default: float) -> np.ndarray:
    child = st.field(name)
    filled = pc.if_else(pc.equal(child, ""), str(default), child)
    return np.asarray(pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False))


def int_field(st: pa.StructArray, name: str, default: int) -> np.ndarray:
    child = st.field(name)
    filled = pc.if_else(pc.equal(child, ""), str(default), child)
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False))


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
