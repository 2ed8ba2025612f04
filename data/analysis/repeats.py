"""Repeat places (重复警情地址) and near-repeat calls (同一地点 D 天内再次报警).

Definitions (these are the documentation of every figure below):

- **Incidents considered**: those under the ``FilterState`` (window, areas, categories,
  statuses; ``Query.where``). *Located* means finite WGS84 ``lon``/``lat`` (the DOUBLE
  columns, never the float32 Mercator ones).
- **Normalised address**: Unicode NFKC, then every character of category P*
  (punctuation, Chinese punctuation included), Z* (spaces), Cc or Cf (control,
  zero-width) removed, then lower-cased.
- **Placeholder address** (a text that names no place; its incidents are in no place,
  even when they have a point, and are counted as ``placeholder``). A non-NULL
  address is a placeholder when
  1. it normalises to nothing (``-``, ``。。``, spaces), or to digits only (``0``,
     ``400``);
  2. *a "not known" word*: once the words of ``PLACEHOLDER_WORDS`` (unknown, unk, n/a,
     none, null, 不详, 未知, 无, 空, 不明, 暂无 …), the digits and the filler words of
     ``FILLER_WORDS`` (block, of, 号, 路 …) are removed from the normalised address,
     nothing is left, and at least one such word was there (``0 UNKNOWN``, ``<UNKNOWN>``,
     ``100 BLOCK UNKNOWN``, ``地址不详``; ``无锡路`` keeps ``锡`` and is an address);
  3. *0-numbered*: its house or block number is 0 (``0 UNKNOWN``, ``000 6TH ST SE``,
     ``解放路0号``): the text begins with a number made of zeros, or has one before 号;
  4. *area name only*: once the names of the extract's areas and its region
     (normalised, longest first) are removed, what is left is nothing or a placeholder
     by rules 1–2 (``Downtown``, ``示范县城关镇``, ``城关镇不详``);
  5. *scattered*: over the whole extract (not the window, so that a filter never changes
     it), fewer than ``SCATTER_SHARE`` (80 %) of the located incidents of the normalised
     address lie in the 3 × 3 block of ``SCATTER_M`` (3 km) cells around its busiest
     cell (cells of the spot grid below, but 3 km wide; ties: the smaller column, then
     row): an address repeated across far-apart coordinates is no place (a geocoder's
     fallback, a default text typed everywhere). 3 km is more than a village (the demo
     county's village addresses spread over about 2 km) and less than a city. Needs at
     least 2 located incidents.
- **Spot**: a located incident's cell of ``SPOT_M`` (5 m) in a local equirectangular
  grid about the extract's centre (x = Δlon·cos(lat₀)·M, y = Δlat·M, M = π·6 371 008.8 m /
  180; cells are squares of 5 m to within 1 % in a 100 km radius). Geocoders snap to
  address points, so incidents at one address point share a cell; a spot is never wider
  than 7.1 m, so spots cannot chain into a city centre (two points 1 m apart across a
  cell edge are two spots: the rare price of a bound).
- **Place key** of an incident, each incident in at most one place:
  1. a non-placeholder address: its normalised address (``A:`` + it);
  2. no address (NULL) but located: the normalised address most frequent among the
     addressed (non-placeholder) incidents under the state in the same spot (ties: the
     one that sorts first), so the incidents at an address point join that address;
     else the spot itself (``S:`` + the cell's column and row);
  3. otherwise (placeholder address, or neither address nor point): none.
  Incidents with the same key make a **repeat place** when they are at least
  ``min_count``: the base (3) per 30 days of the *span* of the incidents considered,
  and never fewer than the base: ``max(base, ⌈base · span / 30 d⌉)``, so 3 in a week
  or a month, 37 in a year, about 180 in five years (a count of 3 over five years
  would make almost every block of a city a "repeat place"). The span runs from the
  0.5th to the 99.5th percentile of their ``reported_at`` (the value at rank
  ⌈q·n⌉ of the n sorted times), so that a few sentinel dates (1900-01-01) or
  stragglers do not stretch it. There is no spatial clustering beyond the 5 m spot:
  in a dense city any radius of tens of metres joins a whole centre into one
  "place".
- **Place fields**: ``place_id`` (``A:`` + the first 12 hex digits of the SHA-1 of
  the normalised address in UTF-8, never the text itself, which may hold a phone
  number; or ``S:`` + the spot's column and row); ``address`` = the most frequent raw address among
  the members (non-placeholder addresses only; ties by the text, code-point order;
  None when none has one); ``lon``/``lat`` = mean of the located members (None if
  none); ``count``; ``first``/``last`` = earliest and latest ``reported_at``;
  ``categories`` = {category: n}; ``area_id``/``name`` = the most frequent finest area
  among the members (ties by area id; None when none has one); ``incident_ids`` = the
  first 20 members by (``reported_at``, ``incident_id``). ``reached_at`` = the time of
  the ``min_count``-th member in that order: when the place became a repeat place.
  ``matched_by`` is ``"address"`` or ``"location"`` (a spot place).
- **Order of places**: count descending, then ``last`` descending, then ``place_id``.
- **Figures of the whole**: ``incidents`` = incidents considered; ``places``,
  ``incidents_in_places`` = the repeat places and the incidents in them;
  ``share`` = incidents_in_places / incidents (None when there are none);
  ``placeholder`` = incidents considered whose address is a placeholder, and
  ``placeholder_by_rule`` the same by the first rule (text 1–3, area 4, scattered 5).
- **New repeat places** since a day: the places (under the state) whose
  ``reached_at`` is on or after the start of that day (fewer than ``min_count`` of
  their members before it).
- **Near-repeat rate** for D days (its own figure, independent of the places): among
  the located incidents in the window, the share that had another located incident
  within ``radius_m`` (50 m) in the preceding D days: 0 ≤ t_i − t_j ≤ D·24 h, and, when
  both have the same ``reported_at``, only the one with the greater ``incident_id``
  counts as preceded (ties in time are ordered by id, so of two simultaneous calls the
  first is not a repeat). The earlier incident must match the same filter (areas,
  categories, statuses) but may fall up to D days before the window start, so the
  first days of the window are not undercounted. Rates by category use the category
  of the later incident; the earlier one may be of any category in the filter.
  Unlocated incidents are in neither numerator nor denominator; the rate is None when
  the denominator is 0. Distances: points are projected with a spherical
  stereographic projection (radius 6 371 008.8 m) centred on the extent of the area
  polygons (else of all located incidents), fixed per extract; planar distances are
  at most c²/4 too long (c the angular distance from the centre: < 2·10⁻⁵ within
  55 km).

Speed: the places are grouped in DuckDB (one pass over the window: a join of the
incidents to the address book on the address hash, the spot computed in SQL, one
GROUP BY), and only the kept places' members are read back. Address texts are
normalised once per extract on first use (the distinct addresses, ~0.6 s for 140 000),
in the same pass over the incidents as the scattered test (address × 3 km cell
counts); should two addresses share a 64-bit hash, the texts are joined instead. The
members are found by row id, and only their ids and addresses are read as text.
The near-repeat search never lists the pairs of the window: a point is preceded in
its own fine cell (side under radius/√2) when the latest earlier point there is recent
enough, and only the points that leaves open test the candidates of the 3 × 3 cells of
side radius around them, slab of time by slab (``_preceded``); only the located
incidents are read, and the ids only of the few pairs at the same instant.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, cached_property
from typing import Any

import numpy as np
import pyarrow as pa

from ..extract import Extract
from ..filters import FilterState, day_start
from ..queries import Query
from ..schema import INCIDENT_CATEGORIES

EARTH_RADIUS_M = 6371008.8
M_PER_DEG = np.pi * EARTH_RADIUS_M / 180.0
FIRST_IDS = 20
SPOT_M = 5.0
SCATTER_M = 3000.0
SCATTER_SHARE = 0.8
PER_DAYS = 30
PLACEHOLDER_WORDS = ("unknown", "unk", "na", "none", "null", "nil", "nan", "tbd", "notknown",
                     "nkloc", "offsettoprotectprivacy", "不详", "未知", "无", "空", "不明",
                     "暂无", "未详", "待定", "待查", "不清楚", "没有", "无地址", "其他", "其它")
FILLER_WORDS = ("block", "blk", "of", "the", "address", "addr", "location", "loc", "st", "x",
                "号", "路", "街", "地址", "地点", "处", "附近")
_EPOCH = datetime(1970, 1, 1)
_US_PER_DAY = 86_400 * 1_000_000
_ZERO_NUMBER = re.compile(r"^\s*0+(?![0-9])|(?<![0-9])0+\s*号")
_SPOT_BIAS = 1 << 30  # cell columns/rows offset to stay non-negative


# --------------------------------------------------------------------------- addresses

@cache
def _deletions() -> dict[int, None]:
    """Code points that normalisation removes (built once; planes 4–13 are unassigned)."""
    out: dict[int, None] = {}
    for cp in [*range(0x40000), *range(0xE0000, 0xE1000)]:
        cat = unicodedata.category(chr(cp))
        if cat[0] in "PZ" or cat in ("Cc", "Cf"):
            out[cp] = None
    return out


def normalise_address(text: str | None) -> str:
    """NFKC, no punctuation, spaces or control characters, lower case ('' = none)."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", text).translate(_deletions()).lower()


def _strip(key: str, words: tuple[str, ...]) -> str:
    for w in words:  # longest first (callers sort)
        key = key.replace(w, "")
    return key


_WORDS = tuple(sorted(PLACEHOLDER_WORDS, key=len, reverse=True))
_FILLERS = tuple(sorted(FILLER_WORDS, key=len, reverse=True))
_WORD_RE = re.compile("|".join(re.escape(w) for w in _WORDS))
_DIGITS = re.compile(r"[0-9]")


def _empty_or_unknown(key: str) -> bool:
    """Rules 1–2 on a normalised address."""
    if not key or key.isdigit():
        return True
    if not _WORD_RE.search(key):  # quick: no "not known" word at all
        return False
    return not _strip(_DIGITS.sub("", _strip(key, _WORDS)), _FILLERS)


@cache
def _area_chars(area_names: tuple[str, ...]) -> frozenset[str]:
    return frozenset("".join(area_names))


def placeholder_rule(text: str | None, area_names: tuple[str, ...] = (),
                     key: str | None = None) -> int:
    """0 when ``text`` is an address, else the placeholder rule it breaks first: 1 for
    text rules (1–3 of the module docstring), 4 for an area name only. ``area_names``
    are normalised, longest first; ``key`` is ``normalise_address(text)`` when known.
    NULL is no placeholder (0)."""
    if text is None:
        return 0
    key = normalise_address(text) if key is None else key
    if _empty_or_unknown(key) or _ZERO_NUMBER.search(unicodedata.normalize("NFKC", text)):
        return 1
    if not area_names:
        return 0
    # Only area names, digits (and "not known" words) can be left empty by rule 4: skip
    # the stripping for the usual address, which has other characters.
    if not _WORD_RE.search(key) and not set(_DIGITS.sub("", key)) <= _area_chars(area_names):
        return 0
    return 4 if _empty_or_unknown(_strip(key, area_names)) else 0


@dataclass
class _AddressBook:
    """Every distinct incident address of an extract, normalised once.

    ``hashes`` (of the non-NULL addresses) is sorted; ``key`` is the code of the
    normalised address (codes in the order of the normalised texts; -1 when the address
    is a placeholder), ``rule`` the placeholder rule (0 none).
    """

    hashes: np.ndarray
    key: np.ndarray
    rule: np.ndarray
    key_text: list[str]
    unique: bool
    table: pa.Table  # h, address, key, rule: joined to the incidents


def _address_book(extract: Extract) -> _AddressBook:
    """The extract's address book, built once: callers on other threads (the PDF's, the
    cockpit's workers) wait for the first build instead of starting their own."""
    return extract.memo("address_book", lambda: _build_address_book(extract))


def _hash_sql(column: str) -> str:
    return f"hash({column})"


def _area_words(extract: Extract) -> tuple[str, ...]:
    names = {normalise_address(n) for n in extract.areas.names if n}
    names.add(normalise_address(extract.region_name))
    return tuple(sorted((n for n in names if n), key=len, reverse=True))


def _build_address_book(extract: Extract) -> _AddressBook:
    cur = extract.cursor()
    lon0, lat0 = _centre(extract)
    sx = float(np.cos(np.radians(lat0)) * M_PER_DEG / SCATTER_M)
    sy = float(M_PER_DEG / SCATTER_M)
    located = "isfinite(lon) AND isfinite(lat)"
    # One pass over the incidents: each distinct address with its located incidents per
    # 3 km cell (rule 5), a small table whatever the size of the extract.
    res = cur.sql(
        f"SELECT address, CASE WHEN {located} THEN floor((lon - {lon0!r}) * {sx!r})::BIGINT "
        f"END AS cx, CASE WHEN {located} THEN floor((lat - {lat0!r}) * {sy!r})::BIGINT "
        "END AS cy, count(*) AS n FROM incidents WHERE address IS NOT NULL GROUP BY ALL"
    ).arrow()
    if not isinstance(res, pa.Table):
        res = res.read_all()
    enc = pa.compute.dictionary_encode(res.column("address").combine_chunks())
    texts = [str(v) for v in enc.dictionary.to_pylist()]
    of_row = enc.indices.to_numpy().astype(np.int64)
    name = f"_repeat_texts_{id(res):x}"
    cur.register(name, pa.table({"address": enc.dictionary}))
    try:
        hashes = np.asarray(cur.execute(f"SELECT {_hash_sql('address')} AS h FROM {name}")
                            .fetchnumpy()["h"], dtype=np.uint64)
    finally:
        cur.unregister(name)
    areas = _area_words(extract)
    keys = [normalise_address(t) for t in texts]
    rule = np.asarray([placeholder_rule(t, areas, k) for t, k in zip(texts, keys, strict=True)],
                      np.int8)
    key_text = sorted({k for k, r in zip(keys, rule.tolist(), strict=True) if r == 0})
    code = {k: i for i, k in enumerate(key_text)}
    key = np.asarray([code[k] if r == 0 else -1 for k, r in zip(keys, rule.tolist(),
                                                                 strict=True)], np.int32)
    scattered = _scattered(key[of_row], res.column("cx"), res.column("cy"), res.column("n"))
    if len(scattered):
        hit = np.isin(key, scattered)
        rule[hit] = 5
        key[hit] = -1
    order = np.argsort(hashes, kind="stable")
    hashes, key, rule = hashes[order], key[order], rule[order]
    unique = bool(len(hashes) < 2 or np.all(hashes[1:] != hashes[:-1]))
    table = pa.table({"h": pa.array(hashes, pa.uint64()),
                      "address": pa.array(texts, pa.string()).take(pa.array(order)),
                      "key": pa.array(key), "rule": pa.array(rule)})
    return _AddressBook(hashes, key, rule, key_text, unique, table)


def _scattered(row_key: np.ndarray, cx: pa.ChunkedArray, cy: pa.ChunkedArray,
               count: pa.ChunkedArray) -> np.ndarray:
    """Rule 5 over the whole extract: the keys whose located incidents are spread out.

    Rows: an address (its key, -1 a placeholder) and a 3 km cell (NULL: not located)."""
    ok = row_key >= 0
    ok &= ~np.asarray(cx.is_null().combine_chunks().to_numpy(zero_copy_only=False), bool)
    if not ok.any():
        return np.zeros(0, np.int64)

    def col(a: pa.ChunkedArray) -> np.ndarray:
        return np.asarray(a.combine_chunks().fill_null(0).to_numpy(), np.int64)[ok]

    k, x, y, c = row_key[ok].astype(np.int64), col(cx), col(cy), col(count)
    # (key, cell) counts over the addresses of one key
    o = np.lexsort((y, x, k))
    k, x, y, c = k[o], x[o], y[o], c[o]
    first = np.flatnonzero(np.r_[True, (k[1:] != k[:-1]) | (x[1:] != x[:-1])
                                 | (y[1:] != y[:-1])])
    k, cx_, cy_, n = k[first], x[first], y[first], np.add.reduceat(c, first)
    o = np.lexsort((cy_, cx_, -n, k))  # by key, busiest cell first, ties by column, row
    k, cx_, cy_, n = k[o], cx_[o], cy_[o], n[o]
    head = np.r_[True, k[1:] != k[:-1]]
    seg = np.cumsum(head) - 1
    bx, by = cx_[head][seg], cy_[head][seg]
    near = (np.abs(cx_ - bx) <= 1) & (np.abs(cy_ - by) <= 1)
    total = np.bincount(seg, weights=n)
    inside = np.bincount(seg, weights=n * near)
    return k[head][(total >= 2) & (inside < SCATTER_SHARE * total)]


def _join(book: _AddressBook, name: str, alias: str = "i") -> str:
    on = f"b.h = {_hash_sql(alias + '.address')}" if book.unique else \
        f"b.address = {alias}.address"
    return f" LEFT JOIN {name} b ON {on}"


# --------------------------------------------------------------------------- geometry

def _centre(extract: Extract) -> tuple[float, float]:
    return extract.memo("repeat_centre", lambda: _find_centre(extract))


def _find_centre(extract: Extract) -> tuple[float, float]:
    ext = extract.areas.extent()
    if ext is None:
        rows = extract.cursor().execute(
            "SELECT min(lon), max(lon), min(lat), max(lat) FROM incidents").fetchall()
        x0, x1, y0, y1 = (v if v is not None else 0.0 for v in rows[0])
        ext = (x0, y0, x1, y1)
    return ((ext[0] + ext[2]) / 2.0, (ext[1] + ext[3]) / 2.0)


def project(lon: np.ndarray, lat: np.ndarray, centre: tuple[float, float]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Spherical stereographic coordinates in metres about ``centre`` (lon, lat)."""
    # In place where it can (10M points: fewer fresh arrays), each product and sum in
    # the order of k = 2R / (1 + sin φ0 sin φ + cos φ0 cos φ cos λ), x = k cos φ sin λ,
    # y = k (cos φ0 sin φ − sin φ0 cos φ cos λ).
    lam = np.radians(np.asarray(lon, np.float64) - centre[0])
    phi = np.radians(np.asarray(lat, np.float64))
    phi0 = np.radians(centre[1])
    s0, c0 = np.sin(phi0), np.cos(phi0)
    cphi = np.cos(phi)
    sphi = np.sin(phi, out=phi)
    clam = np.cos(lam)
    slam = np.sin(lam, out=lam)
    k = np.multiply(c0, cphi)
    k *= clam
    den = np.multiply(s0, sphi)
    den += 1.0
    den += k
    k = np.divide(2.0 * EARTH_RADIUS_M, den, out=den)
    x = np.multiply(k, cphi)
    x *= slam
    y = np.multiply(c0, sphi, out=sphi)
    cphi *= s0
    cphi *= clam
    y -= cphi
    y *= k
    return x, y


_DENSE_CELLS = 1 << 23  # up to ~8M cells (a 140 km square at 50 m): a dense look-up table


# --------------------------------------------------------------------------- results

def _iso(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


@dataclass(frozen=True)
class RepeatPlace:
    place_id: str
    matched_by: str  # "location" | "address"
    address: str | None
    lon: float | None
    lat: float | None
    count: int
    first: datetime
    last: datetime
    reached_at: datetime
    categories: dict[str, int]
    area_id: str | None
    name: str | None
    incident_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "place_id": self.place_id, "matched_by": self.matched_by, "address": self.address,
            "lon": None if self.lon is None else round(self.lon, 6),
            "lat": None if self.lat is None else round(self.lat, 6),
            "count": self.count, "first": self.first.isoformat(),
            "last": self.last.isoformat(), "reached_at": self.reached_at.isoformat(),
            "categories": dict(self.categories), "area_id": self.area_id, "name": self.name,
            "incident_ids": list(self.incident_ids),
        }


@dataclass(frozen=True, eq=False)
class RepeatPlaces:
    """Repeat places, best first. Iterating yields ``RepeatPlace`` objects."""

    radius_m: float
    """The spot size (``SPOT_M``)."""
    min_count: int
    """Incidents a place needs: ``base_count`` per ``PER_DAYS`` days of the span."""
    base_count: int
    total_places: int
    """Places found (before ``limit``)."""
    incidents_in_places: int
    """Incidents in those places (before ``limit``)."""
    place_id: np.ndarray  # per kept place, in order; the arrays below likewise
    by_address: np.ndarray
    count: np.ndarray
    first_us: np.ndarray
    last_us: np.ndarray
    reached_us: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    address: list[str | None]
    area: np.ndarray
    categories: np.ndarray  # (places, len(INCIDENT_CATEGORIES))
    member_start: np.ndarray  # CSR over ``member_rows`` (len = places + 1)
    member_rows: np.ndarray = field(repr=False)  # into ``ids``: by place, then time and id
    ids: pa.Array = field(repr=False)  # incident ids of the selection
    area_ids: list[str] = field(repr=False, default_factory=list)
    area_names: list[str] = field(repr=False, default_factory=list)
    incidents: int = 0
    """Incidents considered (under the state)."""
    placeholder: int = 0
    """Incidents considered whose address is a placeholder."""
    placeholder_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        """Share of the incidents considered that are in a (chosen) repeat place."""
        return self.incidents_in_places / self.incidents if self.incidents else None

    def __len__(self) -> int:
        return len(self.place_id)

    def __iter__(self) -> Iterator[RepeatPlace]:
        return iter(self.places)

    def place(self, i: int) -> RepeatPlace:
        a = int(self.area[i])
        s, e = int(self.member_start[i]), int(self.member_start[i + 1])
        located = np.isfinite(self.lon[i])
        return RepeatPlace(
            place_id=str(self.place_id[i]),
            matched_by="address" if self.by_address[i] else "location",
            address=self.address[i],
            lon=float(self.lon[i]) if located else None,
            lat=float(self.lat[i]) if located else None,
            count=int(self.count[i]), first=_iso(self.first_us[i]), last=_iso(self.last_us[i]),
            reached_at=_iso(self.reached_us[i]),
            categories={INCIDENT_CATEGORIES[c]: int(v)
                        for c, v in enumerate(self.categories[i]) if v},
            area_id=self.area_ids[a] if a >= 0 else None,
            name=self.area_names[a] if a >= 0 else None,
            incident_ids=tuple(self._ids(self.member_rows[s:min(e, s + FIRST_IDS)])))

    @cached_property
    def places(self) -> tuple[RepeatPlace, ...]:
        return tuple(self.place(i) for i in range(len(self)))

    def members(self, i: int) -> list[str]:
        """Every incident id of place ``i``, by (reported_at, incident_id)."""
        s, e = int(self.member_start[i]), int(self.member_start[i + 1])
        return self._ids(self.member_rows[s:e])

    def _ids(self, rows: np.ndarray) -> list[str]:
        return self.ids.take(pa.array(rows, pa.int64())).to_pylist()

    def assignment(self) -> dict[str, str]:
        """incident_id → place_id for every incident in a kept place."""
        owner = np.repeat(self.place_id, np.diff(self.member_start)).tolist()
        return dict(zip(self._ids(self.member_rows), owner, strict=True))

    def to_json(self, limit: int | None = 20) -> dict[str, Any]:
        n = len(self) if limit is None else min(limit, len(self))
        return {"radius_m": self.radius_m, "min_count": self.min_count,
                "per_30_days": self.base_count,
                "places": self.total_places, "incidents_in_places": self.incidents_in_places,
                "incidents": self.incidents, "share": self.share,
                "placeholder": self.placeholder,
                "placeholder_by_rule": dict(self.placeholder_by_rule),
                "top": [self.place(i).to_json() for i in range(n)]}


# --------------------------------------------------------------------------- places

def _cat_sql(column: str) -> str:
    cats = ", ".join(f"'{c}'" for c in INCIDENT_CATEGORIES)
    return (f"(coalesce(list_position([{cats}], {column}), {len(INCIDENT_CATEGORIES)}) - 1)"
            "::TINYINT")


def _spot_sql(extract: Extract) -> str:
    """The 5 m cell of a located incident as one BIGINT (row · 2³¹ + column), else NULL."""
    lon0, lat0 = _centre(extract)
    sx = float(np.cos(np.radians(lat0)) * M_PER_DEG / SPOT_M)
    sy = float(M_PER_DEG / SPOT_M)
    return ("CASE WHEN isfinite(i.lon) AND isfinite(i.lat) THEN "
            f"(floor((i.lat - {lat0!r}) * {sy!r})::BIGINT + {_SPOT_BIAS}) * 2147483648 + "
            f"(floor((i.lon - {lon0!r}) * {sx!r})::BIGINT + {_SPOT_BIAS}) END")


def _place_cte(q: Query, state: FilterState, book_name: str, book: _AddressBook,
               extra: str = "") -> tuple[str, dict]:
    """``WITH r, sm, p``: ``p.place`` is the place key (address code ≥ 0, or −2 − spot)."""
    p = q.where(state, "incidents", alias="i")
    sql = (
        "WITH r AS (SELECT epoch_us(i.reported_at) AS t, "
        f"{_cat_sql('i.category')} AS c, i.area_idx AS a, coalesce(b.rule, 0) AS rule, "
        f"b.key AS k, i.address IS NULL AS nul, {_spot_sql(q.extract)} AS s, "
        f"i.lon, i.lat{extra} FROM incidents i{_join(book, book_name)} WHERE {p.sql}), "
        # Only the spots of incidents without an address need their modal address.
        "ns AS (SELECT DISTINCT s FROM r WHERE nul AND s IS NOT NULL), "
        "sm AS (SELECT s, arg_max(k, n * 4294967296 - k) AS sk FROM (SELECT r.s, r.k, "
        "count(*) AS n FROM r SEMI JOIN ns ON r.s = ns.s WHERE r.k >= 0 GROUP BY r.s, r.k) "
        "GROUP BY s), "
        "p AS (SELECT r.*, CASE WHEN r.k >= 0 THEN r.k::BIGINT "
        "WHEN r.nul AND r.s IS NOT NULL THEN coalesce(sm.sk::BIGINT, -2 - r.s) END AS place "
        "FROM r LEFT JOIN sm ON sm.s = CASE WHEN r.nul THEN r.s END) ")
    return sql, p.params


def _place_ids(place: np.ndarray, book: _AddressBook) -> np.ndarray:
    out = []
    for v in place.tolist():
        if v >= 0:
            # a digest, never the text: an address may hold a phone number or a name,
            # and the id goes unmasked into exports and report --json
            digest = hashlib.sha1(book.key_text[v].encode("utf-8")).hexdigest()[:12]
            out.append(f"A:{digest}")
        else:
            s = -2 - v
            out.append(f"S:{(s & 0x7FFFFFFF) - _SPOT_BIAS}:{(s >> 31) - _SPOT_BIAS}")
    return np.asarray(out, dtype=object)


def _mode(group: np.ndarray, value: np.ndarray, groups: int) -> np.ndarray:
    """Most frequent non-negative ``value`` per group (ties: the smallest), -1 if none."""
    out = np.full(groups, -1, np.int64)
    ok = value >= 0
    if not ok.any():
        return out
    g, v = group[ok].astype(np.int64), value[ok].astype(np.int64)
    span = int(v.max()) + 1
    pair, n = np.unique(g * span + v, return_counts=True)
    pg, pv = pair // span, pair % span
    best = np.lexsort((pv, -n, pg))
    first = best[np.r_[True, pg[best][1:] != pg[best][:-1]]]
    out[pg[first]] = pv[first]
    return out


def _text_ranks(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Codes of ``values`` (-1 NULL) whose order is the texts' code-point order."""
    enc = pa.compute.dictionary_encode(values).combine_chunks() \
        if isinstance(values, pa.ChunkedArray) else pa.compute.dictionary_encode(values)
    words = enc.dictionary.to_pylist()
    order = sorted(range(len(words)), key=words.__getitem__)
    rank = np.empty(len(words), np.int64)
    rank[order] = np.arange(len(words))
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(idx >= 0, rank[np.maximum(idx, 0)] if len(rank) else -1, -1), \
        [words[i] for i in order]


def _threshold(q: Query, state: FilterState, base: int) -> int:
    """``base`` per ``PER_DAYS`` days of the span of the incidents' times, at least ``base``."""
    p = q.where(state, "incidents", alias="i")
    row = q.con.execute("SELECT quantile_disc(epoch_us(i.reported_at), [0.005, 0.995]) "
                        f"FROM incidents i WHERE {p.sql}", p.params).fetchone()
    if not row or row[0] is None:
        return base
    lo, hi = (int(v) for v in row[0])
    return max(base, -(-base * (hi - lo) // (PER_DAYS * _US_PER_DAY)))


def _book_table(q: Query, name: str, book: _AddressBook) -> None:
    """The address book as a temporary DuckDB table: its joins to 10M incidents run a
    third faster than with the Arrow table registered as a view."""
    view = name + "_arrow"
    q.con.register(view, book.table)
    try:
        q.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        q.con.unregister(view)


def _members_by_address(q: Query, state: FilterState, book: _AddressBook,
                        kept: np.ndarray) -> pa.Table:
    """Rows (g, rid, t, c, a, lon, lat, keyed) of the incidents under ``state`` whose
    address has the key ``kept[g]``: the members of address places that no incident
    without an address joined (one join to a few book rows, no spots)."""
    of_key = np.full(len(book.key_text), -1, np.int64)
    of_key[kept] = np.arange(len(kept))
    rows = np.flatnonzero((book.key >= 0) & (of_key[np.maximum(book.key, 0)] >= 0))
    small = pa.table({"h": book.table.column("h").take(pa.array(rows)),
                      "address": book.table.column("address").take(pa.array(rows)),
                      "g": pa.array(of_key[book.key[rows]], pa.int64())})
    name = f"_repeat_kb_{id(small):x}"
    p = q.where(state, "incidents", alias="i")
    q.con.register(name, small)
    try:
        on = f"b.h = {_hash_sql('i.address')}" if book.unique else "b.address = i.address"
        res = q.con.sql(
            f"SELECT b.g, {_rid(q, 'i.')} AS rid, epoch_us(i.reported_at) AS t, "
            f"{_cat_sql('i.category')} AS c, coalesce(i.area_idx, -1) AS a, i.lon, i.lat, "
            f"TRUE AS keyed FROM incidents i JOIN {name} b ON {on} WHERE {p.sql}",
            params=p.params).arrow()
        return res if isinstance(res, pa.Table) else res.read_all()
    finally:
        q.con.unregister(name)


def _places(q: Query, state: FilterState, min_count: int, limit: int | None,
            since_us: int | None = None) -> RepeatPlaces:
    """The places; with ``since_us`` only those reaching ``min_count`` by then or later."""
    ex = q.extract
    book = _address_book(ex)
    base = m = max(int(min_count), 1)
    name = f"_repeat_book_{id(book):x}"
    _book_table(q, name, book)
    try:
        m = _threshold(q, state, m)
        cte, params = _place_cte(q, state, name, book)
        since = "NULL" if since_us is None else str(int(since_us))
        agg = q.con.execute(
            f"{cte}SELECT place, CASE WHEN place IS NULL THEN rule END AS rule, "
            f"count(*) AS n, max(t) AS t1, count(*) FILTER (WHERE t < {since}) AS nb, "
            "count(*) FILTER (WHERE nul) AS nn FROM p GROUP BY ALL", params).fetchnumpy()
        place_col = agg["place"]
        is_place = ~np.ma.getmaskarray(place_col)
        n_all = np.asarray(agg["n"], np.int64)
        rule = np.ma.filled(np.ma.asarray(agg["rule"]), 0).astype(np.int64)
        by_rule = {r: int(n_all[~is_place & (rule == r)].sum()) for r in (1, 4, 5)}
        total_incidents = int(n_all.sum())
        big = np.flatnonzero(is_place & (n_all >= m))
        place = np.ma.getdata(place_col)[big].astype(np.int64)
        count = n_all[big]
        last_us = np.asarray(agg["t1"], np.int64)[big]
        no_address = np.asarray(agg["nn"], np.int64)[big]
        chosen = np.arange(len(big)) if since_us is None else \
            np.flatnonzero(np.asarray(agg["nb"], np.int64)[big] < m)
        place_id = _place_ids(place, book)
        order = chosen[np.lexsort((place_id[chosen].astype(str), -last_us[chosen],
                                   -count[chosen]))]
        n_chosen, in_chosen = len(order), int(count[order].sum())
        if limit is not None:
            order = order[:max(limit, 0)]
        k = len(order)
        kept = place[order]
        # The kept places' members (ids, times, areas, addresses) in one more pass.
        kname = f"_repeat_kept_{id(book):x}"
        q.con.register(kname, pa.table({"place": pa.array(kept, pa.int64()),
                                        "g": pa.array(np.arange(k), pa.int64())}))
        try:
            # Row ids first: carrying the texts through the whole pass costs more than
            # the pass (10M rows); then the texts of the members alone.
            if k and (kept >= 0).all() and not no_address[order].any():
                # Every member has the address of its place: join to those alone.
                sel = _members_by_address(q, state, book, kept)
            else:
                cte2, params2 = _place_cte(q, state, name, book, extra=f", {_rid(q, 'i.')} AS rid")
                sel = q.con.sql(
                    f"{cte2}SELECT g, rid, t, c, coalesce(a, -1) AS a, lon, lat, "
                    f"k >= 0 AS keyed FROM p JOIN {kname} USING (place)",
                    params=params2).arrow()
            if not isinstance(sel, pa.Table):
                sel = sel.read_all()
            sname = f"_repeat_sel_{id(book):x}"
            q.con.register(sname, sel)
            try:
                mem = q.con.sql(
                    f"WITH x AS (SELECT {_rid(q)} AS rid, incident_id AS id, address "
                    f"FROM incidents WHERE {_rid(q)} IN (SELECT rid FROM {sname})) "
                    "SELECT s.g, x.id, s.t, s.c, s.a, s.lon, s.lat, "
                    "CASE WHEN s.keyed THEN x.address END AS address "
                    f"FROM {sname} s JOIN x USING (rid) ORDER BY s.g, s.t, x.id").arrow()
                if not isinstance(mem, pa.Table):
                    mem = mem.read_all()
            finally:
                q.con.unregister(sname)
        finally:
            q.con.unregister(kname)
    finally:
        q.con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    g = mem.column("g").to_numpy().astype(np.int64)
    t = mem.column("t").to_numpy().astype(np.int64)
    start = np.r_[0, np.cumsum(np.bincount(g, minlength=k))].astype(np.int64)
    reached_us = t[start[:-1] + m - 1] if k else np.zeros(0, np.int64)
    first_us = t[start[:-1]] if k else np.zeros(0, np.int64)
    ncat = len(INCIDENT_CATEGORIES)
    cat = mem.column("c").to_numpy().astype(np.int64)
    categories = np.bincount(g * ncat + cat, minlength=k * ncat).reshape(k, ncat)
    mlon = mem.column("lon").to_numpy(zero_copy_only=False).astype(np.float64)
    mlat = mem.column("lat").to_numpy(zero_copy_only=False).astype(np.float64)
    located = np.isfinite(mlon) & np.isfinite(mlat)
    nloc = np.bincount(g[located], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        lon = np.bincount(g[located], weights=mlon[located], minlength=k) / nloc
        lat = np.bincount(g[located], weights=mlat[located], minlength=k) / nloc
    raw, raw_text = _text_ranks(mem.column("address"))
    addr = _mode(g, raw, k)
    # The most frequent area, ties by area id (work on the ids' text ranks).
    by_text = np.asarray(sorted(range(len(ex.areas)), key=ex.areas.ids.__getitem__), np.int64)
    text_rank = np.empty(len(by_text), np.int64)
    text_rank[by_text] = np.arange(len(by_text))
    member_area = mem.column("a").to_numpy().astype(np.int64)
    ranked = np.where(member_area >= 0, text_rank[np.maximum(member_area, 0)]
                      if len(text_rank) else -1, -1)
    mode = _mode(g, ranked, k)
    area = np.full(k, -1, np.int64)
    area[mode >= 0] = by_text[mode[mode >= 0]]
    return RepeatPlaces(
        radius_m=SPOT_M, min_count=m, base_count=base, total_places=n_chosen,
        incidents_in_places=in_chosen,
        place_id=place_id[order], by_address=kept >= 0, count=count[order],
        first_us=first_us, last_us=last_us[order], reached_us=reached_us,
        lon=lon, lat=lat, address=[raw_text[r] if r >= 0 else None for r in addr.tolist()],
        area=area, categories=categories, member_start=start,
        member_rows=np.arange(len(t), dtype=np.int64),
        ids=mem.column("id").combine_chunks(), area_ids=list(ex.areas.ids),
        area_names=list(ex.areas.names), incidents=total_incidents,
        placeholder=sum(by_rule.values()),
        placeholder_by_rule={"text": by_rule[1], "area_name": by_rule[4],
                             "scattered": by_rule[5]})


def repeat_places(q: Query, state: FilterState, min_count: int = 3,
                  limit: int | None = None) -> RepeatPlaces:
    """Repeat places under ``state`` (see the module docstring), at most ``limit`` kept."""
    return _places(q, state, min_count, limit)


def new_repeat_places(q: Query, state: FilterState, since: date, min_count: int = 3,
                      limit: int | None = None) -> RepeatPlaces:
    """Places under ``state`` whose ``min_count``-th incident came on or after ``since``."""
    since_us = int((day_start(since) - _EPOCH) // timedelta(microseconds=1))
    return _places(q, state, min_count, limit, since_us)


# --------------------------------------------------------------------------- near repeat

@dataclass(frozen=True)
class NearRepeat:
    days: int
    radius_m: float
    numerator: int
    denominator: int
    by_category: dict[str, tuple[int, int]]
    """category → (numerator, denominator), categories with incidents only."""

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days, "radius_m": self.radius_m, "numerator": self.numerator,
            "denominator": self.denominator, "rate": self.rate,
            "by_category": {c: {"numerator": a, "denominator": b, "rate": a / b if b else None}
                            for c, (a, b) in self.by_category.items()},
        }


# --------------------------------------------------------------------------- near repeat search

_SHRINK = 1.0 - 1e-7  # fine cells a hair under r/√2: any two points of one are within r
_PAIR_CHUNK = 1 << 21  # candidate pairs examined at once in the neighbour search
_MAX_SLABS = 512  # time slabs of the neighbour search (each at least the window long)
IdsOf = Callable[[np.ndarray], list[str]]
"""The incident ids of some points (indices into the point arrays), in that order."""


@dataclass
class _Ties:
    """Points at the same instant as a candidate, decided by their ids at the end."""

    pairs: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    """(point, candidate): the point is preceded when the candidate's id is smaller."""
    groups: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    """(points, group): a point is preceded when another of its group has a smaller id."""
    count: int = 0

    def new_groups(self, k: int, size: np.ndarray) -> np.ndarray:
        out = np.repeat(np.arange(self.count, self.count + k), size)
        self.count += k
        return out

    def decide(self, ids: IdsOf, open_: np.ndarray, done: np.ndarray) -> None:
        """Mark in ``done`` the ``open_`` points that a tie makes preceded."""
        pi = np.concatenate([a for a, _ in self.pairs] or [np.zeros(0, np.int64)])
        pj = np.concatenate([b for _, b in self.pairs] or [np.zeros(0, np.int64)])
        gi = np.concatenate([a for a, _ in self.groups] or [np.zeros(0, np.int64)])
        gg = np.concatenate([b for _, b in self.groups] or [np.zeros(0, np.int64)])
        keep = open_[pi]
        pi, pj = pi[keep], pj[keep]
        if not len(pi) and not open_[gi].any():
            return
        points, back = np.unique(np.r_[pi, pj, gi], return_inverse=True)
        names = ids(points)
        code = {s: k for k, s in enumerate(sorted(set(names)))}  # code-point order
        rank = np.asarray([code[s] for s in names], np.int64)[back]
        ri, rj, rg = rank[:len(pi)], rank[len(pi):2 * len(pi)], rank[2 * len(pi):]
        done[pi[rj < ri]] = True
        low = np.full(self.count, np.iinfo(np.int64).max)
        np.minimum.at(low, gg, rg)
        done[gi[(rg > low[gg]) & open_[gi]]] = True


def _order(major: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Indices sorting by (``major``, ``t``), both non-negative: one argsort of a packed
    key when it fits in 63 bits (times in whole seconds or ms when they all are), else a
    lexsort (several times slower at 10M)."""
    t0 = int(t.min()) if len(t) else 0
    rel = t - t0
    top = int(major.max()) + 1 if len(major) else 1
    for unit in (1, 1000, 1_000_000):
        if unit > 1 and np.any(rel % unit):
            break
        span = int(rel.max()) // unit + 1 if len(rel) else 1
        if top * span < 1 << 62:
            key = major * span
            key += rel // unit if unit > 1 else rel
            return np.argsort(key)
    return np.lexsort((t, major))


def _runs(v: np.ndarray) -> np.ndarray:
    """Mask: where a run of equal values begins."""
    head = np.empty(len(v), bool)
    if len(v):
        head[0] = True
        np.not_equal(v[1:], v[:-1], out=head[1:])
    return head


def _same_cell(x: np.ndarray, y: np.ndarray, t: np.ndarray, r: float, window_us: int,
               ties: _Ties) -> np.ndarray:
    """Mask over points: preceded by another point of its fine cell (side < r/√2).

    In (cell, time) order the latest point of the cell before a point's instant decides
    (any other is older still). Points of one cell at one instant are left to ``ties``
    as a group: the ids decide."""
    n = len(x)
    size = r / np.sqrt(2.0) * _SHRINK
    cx = np.floor((x - x.min()) / size).astype(np.int64)
    key = np.floor((y - y.min()) / size).astype(np.int64)
    key *= int(cx.max()) + 1
    key += cx
    del cx
    order = _order(key, t)  # by cell, then time
    ks = key[order]
    del key
    ts = t[order]
    new_cell = _runs(ks)
    del ks
    new_run = new_cell | _runs(ts)  # a run: the points of one cell at one instant
    run_start = np.flatnonzero(new_run)
    start = run_start[np.cumsum(new_run) - 1]  # first point of each point's run
    del new_run
    hit = ~new_cell[start]
    del new_cell
    hit &= ts - ts[np.maximum(start - 1, 0)] <= window_us
    del start, ts
    sizes = np.diff(np.r_[run_start, n])
    multi = np.flatnonzero(sizes > 1)
    if len(multi):  # a point of a run is preceded when another of the run has a smaller id
        first, size = run_start[multi], sizes[multi]
        at = np.repeat(first - np.cumsum(np.r_[0, size[:-1]]), size) + np.arange(int(size.sum()))
        ties.groups.append((order[at], ties.new_groups(len(multi), size)))
    out = np.zeros(n, bool)
    out[order] = hit
    return out


class _CellTable:
    """Cell key → run index for the cells of one slab: a dense array when the grid is
    small enough (a look-up is one gather), else a sorted key list."""

    def __init__(self, cells: int) -> None:
        self.dense = np.full(cells, -1, np.int32) if cells <= _DENSE_CELLS else None
        self.keys = self.runs = np.zeros(0, np.int64)

    def fill(self, keys: np.ndarray, runs: np.ndarray) -> None:
        self.keys, self.runs = keys, runs  # keys ascending
        if self.dense is not None:
            self.dense[keys] = runs

    def find(self, keys: np.ndarray) -> np.ndarray:
        if self.dense is not None:
            return self.dense[keys]
        if not len(self.keys):
            return np.full(len(keys), -1, np.int64)
        p = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[p] == keys, self.runs[p], -1)

    def clear(self) -> None:
        if self.dense is not None:
            self.dense[self.keys] = -1


def _neighbours(x: np.ndarray, y: np.ndarray, t: np.ndarray, todo: np.ndarray, r: float,
                window_us: int, ties: _Ties) -> np.ndarray:
    """Mask over points: ``todo`` points preceded by a point within ``r`` (ties aside).

    Cells of side r (a 3 × 3 block holds every point within r) in time slabs at least
    the window long (every candidate is in the point's slab or the one before): slab by
    slab, each point looks up its neighbour cells among that slab's and the previous
    slab's (small, sorted) cell lists, and tests every candidate exactly."""
    n = len(x)
    found = np.zeros(n, bool)
    if not len(todo):
        return found
    size = r if r > 0 else 1.0
    cx = np.floor((x - x.min()) / size).astype(np.int64) + 1
    width = int(cx.max()) + 2
    key = np.floor((y - y.min()) / size).astype(np.int64) + 1
    size_cells = (int(key.max()) + 2) * width  # the margins included
    key *= width
    key += cx
    del cx
    t0 = int(t.min())
    slab_us = max(int(window_us), -(-(int(t.max()) - t0 + 1) // _MAX_SLABS), 1)
    cells = int(key.max()) + 1
    slab = (t - t0) // slab_us
    key += slab * cells
    order = _order(key, t - t0 - slab * slab_us)  # by slab, cell, then time
    del slab
    ks = key[order] % cells
    del key
    sl = (t[order] - t0) // slab_us
    want = np.zeros(n, bool)
    want[todo] = True
    want = want[order]  # in sorted order
    block = np.flatnonzero(_runs(sl))
    block_end = np.r_[block[1:], n]
    cell = _runs(ks) | _runs(sl)  # a cell's run within a slab
    cell_start = np.flatnonzero(cell)
    del cell
    cell_end = np.r_[cell_start[1:], n]
    ts, xs, ys = t[order], x[order], y[order]
    r2 = r * r
    offsets = sorted(((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)),
                     key=lambda d: (abs(d[0]) + abs(d[1]), d))
    hit = np.zeros(n, bool)  # in sorted order
    tables = (_CellTable(size_cells), _CellTable(size_cells))
    for b in range(len(block)):
        bs, be = int(block[b]), int(block_end[b])
        q = bs + np.flatnonzero(want[bs:be])
        if not len(q):
            continue
        filled = []  # the cell runs of this slab and of the one before, by cell key
        for a, table in ((b, tables[0]), (b - 1, tables[1])):
            if a < 0 or (a < b and sl[block[a]] != sl[bs] - 1):
                continue
            c0, c1 = np.searchsorted(cell_start, [block[a], block_end[a]])
            table.fill(ks[cell_start[c0:c1]], np.arange(c0, c1))
            filled.append(table)
        for dx, dy in offsets:
            if not len(q):
                break
            target = ks[q] + (dy * width + dx)
            owners, los, lens = [], [], []
            for table in filled:
                run = table.find(target)
                m = np.flatnonzero(run >= 0)
                run = run[m]
                owners.append(q[m])
                los.append(cell_start[run])
                lens.append(cell_end[run] - cell_start[run])
            own, lo, length = np.concatenate(owners), np.concatenate(los), np.concatenate(lens)
            bounds = np.r_[0, np.cumsum(length)]
            s = 0
            while s < len(lo):  # every candidate pair, a chunk at a time
                e = max(int(np.searchsorted(bounds, bounds[s] + _PAIR_CHUNK, side="right")) - 1,
                        s + 1)
                ln = length[s:e]
                i = np.repeat(own[s:e], ln)
                j = np.repeat(lo[s:e] - (bounds[s:e] - bounds[s]), ln) \
                    + np.arange(int(bounds[e] - bounds[s]))
                dt = ts[i] - ts[j]
                good = (dt >= 0) & (dt <= window_us) & (i != j) \
                    & ((xs[i] - xs[j]) ** 2 + (ys[i] - ys[j]) ** 2 <= r2)
                tie = good & (dt == 0)
                if tie.any():  # the same instant: decided by the ids, later
                    ties.pairs.append((order[i[tie]], order[j[tie]]))
                    good &= ~tie
                hit[i[good]] = True
                s = e
            q = q[~hit[q]]
        for table in filled:
            table.clear()
    found[order] = hit
    return found


def _preceded(x: np.ndarray, y: np.ndarray, t: np.ndarray, ids: IdsOf,
              query: np.ndarray, radius: float, window_us: int) -> np.ndarray:
    """Mask over points: in ``query`` (a mask) and preceded by another point within
    ``radius`` at most ``window_us`` earlier (same instant: the smaller id precedes).

    Two steps, both exact: a point whose fine cell (side a hair under radius/√2, so any
    two of its points are within the radius) holds a recent enough earlier point is
    preceded (one look at the latest earlier point of its cell); the others (isolated
    points, the first of a cluster) test every candidate of the 3 × 3 cells of side
    radius around them in their time slab and the one before. Pairs at the same instant
    are decided at the end, with one look-up of the ids involved.
    """
    n = len(x)
    r = abs(float(radius))
    if not query.any() or n < 2 or window_us < 0:
        return np.zeros(n, bool)
    ties = _Ties()
    done = _same_cell(x, y, t, r, window_us, ties) if r > 0 else np.zeros(n, bool)
    done &= query
    done |= _neighbours(x, y, t, np.flatnonzero(query & ~done), r, window_us, ties)
    ties.decide(ids, query & ~done, done)
    return done & query


def _rid(q: Query, alias: str = "") -> str:
    """A row's key: DuckDB's rowid in the cockpit's cache; a province's incidents are a
    view over Parquet (no rowid), whose ids are unique after the build: a 63-bit hash of
    the id (a collision needs ~3e9 rows; point analyses run there under 2M rows)."""
    if getattr(q.extract, "aggregated", False):
        return f"(hash({alias}incident_id) >> 1)::BIGINT"
    return f"{alias}rowid"


def _located(q: Query, state: FilterState) -> dict[str, np.ndarray]:
    """The located incidents under ``state``: row id, time (µs), category, lon, lat."""
    p = q.where(state, "incidents", alias="i")
    tbl = q.con.sql(
        f"SELECT {_rid(q, 'i.')} AS rid, epoch_us(i.reported_at) AS t, "
        f"{_cat_sql('i.category')} AS c, "
        f"i.lon, i.lat FROM incidents i WHERE ({p.sql}) AND isfinite(i.lon) "
        "AND isfinite(i.lat)", params=p.params).arrow()
    if not isinstance(tbl, pa.Table):
        tbl = tbl.read_all()
    out = {}
    for name in tbl.column_names:  # one column at a time: no second copy of the table
        out[name] = tbl.column(name).to_numpy()
        tbl = tbl.drop_columns([name])
    return out


def _ids_by_rowid(q: Query, rowid: np.ndarray) -> IdsOf:
    def ids(points: np.ndarray) -> list[str]:
        name = f"_near_ids_{id(rowid):x}"
        want = rowid[points]
        q.con.register(name, pa.table({"rid": pa.array(want, pa.int64())}))
        try:
            got = q.con.execute(f"SELECT {_rid(q)}, incident_id FROM incidents WHERE "
                                f"{_rid(q)} IN (SELECT rid FROM {name})").fetchall()
        finally:
            q.con.unregister(name)
        by_row = dict(got)
        return [by_row[int(v)] for v in want.tolist()]
    return ids


def near_repeat_rate(q: Query, state: FilterState, days: int = 7,
                     radius_m: float = 50.0) -> NearRepeat:
    """The near-repeat rate under ``state`` (see the module docstring)."""
    window_us = int(days) * _US_PER_DAY
    look = state
    start_us: int | None = None
    if state.start is not None:
        look = dataclasses.replace(state, start=state.start - timedelta(days=int(days)))
        start_us = int((day_start(state.start) - _EPOCH) // timedelta(microseconds=1))
    rows = _located(q, look)
    t, cat = np.asarray(rows["t"], np.int64), rows["c"]  # no copies of 10M values
    query = np.ones(len(t), bool) if start_us is None else t >= start_us
    hit = np.zeros(len(t), bool)
    if len(t):
        x, y = project(rows.pop("lon"), rows.pop("lat"), _centre(q.extract))
        hit = _preceded(x, y, t, _ids_by_rowid(q, rows["rid"]), query, radius_m, window_us)
    ncat = len(INCIDENT_CATEGORIES)
    den = np.bincount(cat[query], minlength=ncat)
    num = np.bincount(cat[hit], minlength=ncat)
    by_cat = {INCIDENT_CATEGORIES[c]: (int(num[c]), int(den[c])) for c in range(ncat) if den[c]}
    return NearRepeat(int(days), float(radius_m), int(hit.sum()), int(query.sum()), by_cat)


def _near_repeat_apart(extract: Extract, state: FilterState) -> NearRepeat:
    q = Query(extract, extract.cursor())  # its own cursor: this runs on another thread
    try:
        return near_repeat_rate(q, state)
    finally:
        q.con.close()


def repeats_section(q: Query, state: FilterState, limit: int = 20) -> dict[str, Any]:
    """Repeat places and the 7-day near-repeat rate, for ``report --json``.

    The rate is computed on a thread meanwhile: it is mostly numpy on one core, the
    places mostly DuckDB, and at 10M rows each takes seconds."""
    with ThreadPoolExecutor(1, thread_name_prefix="near-repeat") as pool:
        near = pool.submit(_near_repeat_apart, q.extract, state)
        out = repeat_places(q, state, limit=limit).to_json(limit)
        out["near_repeat"] = near.result().to_json()
    return out


__all__ = ["NearRepeat", "RepeatPlace", "RepeatPlaces", "near_repeat_rate",
           "new_repeat_places", "normalise_address", "placeholder_rule", "project",
           "repeat_places", "repeats_section"]
