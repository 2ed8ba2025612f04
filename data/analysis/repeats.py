"""Repeat addresses (重复警情) and near-repeat calls (同一地点 D 天内再次报警).

Definitions (these are the documentation of every figure below):

- **Incidents considered**: those under the ``FilterState`` (window, areas, categories,
  statuses; ``Query.where``). *Located* means usable WGS84 ``lon``/``lat`` (the DOUBLE
  columns, never the float32 Mercator ones).
- **Ground distance**: points are projected with a spherical stereographic projection
  (radius 6 371 008.8 m) centred on the extent of the area polygons (else of all
  located incidents), fixed per extract so that a filter never moves it. Planar
  distances are the great-circle distance times a scale between 1 and
  1 / cos²(c / 2), c the angular distance from the centre: they are at most
  c²/4 too long, i.e. < 2·10⁻⁵ (1 mm at 50 m) within 55 km of the centre, 0.04 %
  (2 cm at 50 m) 250 km away. "Within r" means planar distance ≤ r.
- **Repeat places**, each incident in at most one place:
  1. *By location* (leader clustering). The neighbour count of a located incident
     is the number of located incidents within ``radius_m`` of it, itself included.
     Incidents are taken by neighbour count, highest first, ties by ``incident_id``.
     An incident not yet in a place whose still-unassigned neighbours (itself
     included) number at least ``min_count`` becomes the *leader* of a new place,
     which claims those neighbours. Nothing else joins a place later.
  2. *By address*. The incidents left (unlocated, or located but in no place) are
     grouped by their normalised address: Unicode NFKC, then every character of
     category P* (punctuation, Chinese punctuation included), Z* (spaces), Cc or Cf
     (control, zero-width) removed, then lower-cased. An empty result (or NULL) is
     in no group. Groups of at least ``min_count`` incidents are places.
- **Place fields**: ``place_id`` = ``"L:"`` + the leader's incident id, or ``"A:"`` +
  the normalised address; ``address`` = the most frequent raw address among the
  members (members whose address normalises to nothing are left out; ties by the
  text, code-point order; None when none has one); ``lon``/``lat`` = mean of the
  located members (None if none); ``count``; ``first``/``last`` = earliest and latest
  ``reported_at``; ``categories`` = {category: n}; ``area_id``/``name`` = the finest
  area of the leader (location places) or the most frequent area among the members
  (address places; ties by area id; None when none has one); ``incident_ids`` = the
  first 20 members by (``reported_at``, ``incident_id``). ``reached_at`` = the time of
  the ``min_count``-th member in that order: when the place became a repeat place.
- **Order of places**: count descending, then ``last`` descending, then ``place_id``.
- **New repeat places** since a day: the places (under the state) whose
  ``reached_at`` is on or after the start of that day.
- **Near-repeat rate** for D days: among the located incidents in the window, the
  share that had another located incident within ``radius_m`` in the preceding D days:
  0 ≤ t_i − t_j ≤ D·24 h, and, when both have the same ``reported_at``, only the one
  with the greater ``incident_id`` counts as preceded (ties in time are ordered by
  id, so of two simultaneous calls the first is not a repeat). The earlier incident
  must match the same filter (areas, categories, statuses) but may fall up to D days
  before the window start, so the first days of the window are not undercounted.
  Rates by category use the category of the later incident; the earlier one may be
  of any category in the filter. Unlocated incidents are in neither numerator nor
  denominator; the rate is None when the denominator is 0.

Speed: a grid of ``radius_m`` cells first keeps only incidents whose 3 × 3 block of
cells holds at least ``min_count`` incidents (the only ones that can lead a place)
and their neighbours; neighbour counts and claims use a KD-tree on those alone. The
near-repeat pairs are found by a cell × time sort of the incidents and binary searches,
never by a pair list over the whole window. Address texts are normalised once per
extract on first use (a table of the distinct addresses and their DuckDB hashes, kept
on the ``Extract``; about 0.6 s for 140 000 distinct addresses); should two addresses
share a 64-bit hash, the texts are joined instead.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterator
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
FIRST_IDS = 20
_EPOCH = datetime(1970, 1, 1)
_US_PER_DAY = 86_400 * 1_000_000
_CHUNK = 4_000_000  # candidate pairs examined at once in the near-repeat search


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


@dataclass
class _AddressBook:
    """Every distinct incident address of an extract, normalised once.

    ``hashes`` (of the non-NULL addresses) is sorted; ``key`` is the code of the
    normalised address, ``raw`` that of the address in text order (both -1 when the
    address normalises to nothing).
    """

    hashes: np.ndarray
    key: np.ndarray
    raw: np.ndarray
    key_text: list[str]
    raw_text: list[str]
    unique: bool
    table: pa.Table  # address → (key, raw), for the join when hashes collide


def _address_book(extract: Extract) -> _AddressBook:
    book = extract.__dict__.get("_address_book")
    if book is None:
        book = _build_address_book(extract)
        extract.__dict__["_address_book"] = book
    return book


def _hash_sql(column: str) -> str:
    return f"hash({column})"


def _build_address_book(extract: Extract) -> _AddressBook:
    # DuckDB sorts the texts (binary collation = code-point order, as Python's).
    res = extract.cursor().execute(
        f"SELECT address, {_hash_sql('address')} AS h FROM (SELECT DISTINCT address "
        "FROM incidents WHERE address IS NOT NULL) ORDER BY address").fetchnumpy()
    texts = [str(v) for v in np.ma.getdata(res["address"]).tolist()]
    hashes = np.asarray(res["h"], dtype=np.uint64)
    key_of: dict[str, int] = {}
    key = np.asarray([key_of.setdefault(k, len(key_of)) if (k := normalise_address(t)) else -1
                      for t in texts], np.int32)
    has = key >= 0
    raw = np.where(has, np.cumsum(has) - 1, -1).astype(np.int32)
    raw_text = [t for t, h in zip(texts, has.tolist(), strict=True) if h]
    order = np.argsort(hashes, kind="stable")
    hashes, raw, key = hashes[order], raw[order], key[order]
    unique = bool(len(hashes) < 2 or np.all(hashes[1:] != hashes[:-1]))
    table = pa.table({"address": pa.array(texts, pa.string()).take(pa.array(order)),
                      "key": pa.array(key), "raw": pa.array(raw)})
    return _AddressBook(hashes, key, raw, list(key_of), raw_text, unique, table)


# --------------------------------------------------------------------------- incidents

@dataclass(frozen=True, eq=False)
class _Rows:
    """Filtered incidents as arrays, one per incident, sorted by ``incident_id`` unless
    asked otherwise (a row's position is then its rank in id order)."""

    ids: pa.Array  # incident_id strings
    t: np.ndarray  # reported_at, µs since 1970 (local time)
    cat: np.ndarray  # index into INCIDENT_CATEGORIES
    lon: np.ndarray  # NaN when unlocated
    lat: np.ndarray
    area: np.ndarray  # finest area index, -1 none
    key: np.ndarray  # normalised-address code, -1 none
    raw: np.ndarray  # raw-address code, -1 none

    def __len__(self) -> int:
        return len(self.t)

    @cached_property
    def located(self) -> np.ndarray:
        return np.isfinite(self.lon) & np.isfinite(self.lat)


def _fetch(q: Query, state: FilterState, addresses: bool = True, by_id: bool = True) -> _Rows:
    p = q.where(state, "incidents", alias="i")
    cats = ", ".join(f"'{c}'" for c in INCIDENT_CATEGORIES)
    cols = ("i.incident_id, epoch_us(i.reported_at) AS t, "
            f"(coalesce(list_position([{cats}], i.category), {len(INCIDENT_CATEGORIES)}) - 1)"
            "::TINYINT AS c, coalesce(i.lon, 'NaN'::DOUBLE) AS lon, "
            "coalesce(i.lat, 'NaN'::DOUBLE) AS lat, coalesce(i.area_idx, -1) AS a")
    book = _address_book(q.extract) if addresses else None
    join = name = ""
    if book is not None and book.unique:
        cols += f", {_hash_sql('i.address')} AS h, i.address IS NULL AS nul"
    elif book is not None:
        name = f"_repeat_addresses_{id(book):x}"
        q.con.register(name, book.table)
        join = f" LEFT JOIN {name} b ON b.address = i.address"
        cols += ", coalesce(b.key, -1) AS key, coalesce(b.raw, -1) AS raw"
    try:
        # Sorted by id in DuckDB (in parallel): ties are then broken by position.
        order = " ORDER BY i.incident_id" if by_id else ""
        tbl = q.con.sql(f"SELECT {cols} FROM incidents i{join} WHERE {p.sql}{order}",
                        params=p.params).arrow().read_all()
    finally:
        if name:
            q.con.unregister(name)

    def col(column: str, dtype: Any) -> np.ndarray:
        return np.asarray(tbl.column(column).combine_chunks().to_numpy(zero_copy_only=False),
                          dtype=dtype)

    n = tbl.num_rows
    key = raw = np.full(n, -1, np.int32)
    if book is not None and book.unique and len(book.hashes):
        # Distinct hashes first: sorted keys make the binary search cache-friendly.
        uh, inv = np.unique(col("h", np.uint64), return_inverse=True)
        pos = np.minimum(np.searchsorted(book.hashes, uh), len(book.hashes) - 1)
        found = book.hashes[pos] == uh
        inv = inv.reshape(-1)
        null = col("nul", bool) | ~found[inv]
        key = np.where(null, -1, book.key[pos][inv])
        raw = np.where(null, -1, book.raw[pos][inv])
    elif book is not None and not book.unique:
        key, raw = col("key", np.int32), col("raw", np.int32)
    return _Rows(tbl.column("incident_id").combine_chunks(), col("t", np.int64),
                 col("c", np.int64), col("lon", np.float64), col("lat", np.float64),
                 col("a", np.int64), key, raw)


# --------------------------------------------------------------------------- geometry

def _centre(extract: Extract) -> tuple[float, float]:
    c = extract.__dict__.get("_repeat_centre")
    if c is None:
        ext = extract.areas.extent()
        if ext is None:
            rows = extract.cursor().execute(
                "SELECT min(lon), max(lon), min(lat), max(lat) FROM incidents").fetchall()
            x0, x1, y0, y1 = (v if v is not None else 0.0 for v in rows[0])
            ext = (x0, y0, x1, y1)
        c = ((ext[0] + ext[2]) / 2.0, (ext[1] + ext[3]) / 2.0)
        extract.__dict__["_repeat_centre"] = c
    return c


def project(lon: np.ndarray, lat: np.ndarray, centre: tuple[float, float]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Spherical stereographic coordinates in metres about ``centre`` (lon, lat)."""
    lam = np.radians(np.asarray(lon, np.float64) - centre[0])
    phi = np.radians(np.asarray(lat, np.float64))
    phi0 = np.radians(centre[1])
    cphi, sphi, clam = np.cos(phi), np.sin(phi), np.cos(lam)
    k = 2.0 * EARTH_RADIUS_M / (1.0 + np.sin(phi0) * sphi + np.cos(phi0) * cphi * clam)
    return k * cphi * np.sin(lam), k * (np.cos(phi0) * sphi - np.sin(phi0) * cphi * clam)


_DENSE_CELLS = 1 << 23  # up to ~8M cells (a 140 km square at 50 m) a dense lookup table


def _spread(v: np.ndarray) -> np.ndarray:
    """Interleave zero bits into the low 32 bits (for Morton codes)."""
    v = v.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                        (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                        (1, 0x5555555555555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


@dataclass(frozen=True, eq=False)
class _Cells:
    """Points binned to square cells of side ``size``, keys row-major with a margin."""

    cx: np.ndarray
    cy: np.ndarray
    point_key: np.ndarray
    keys: np.ndarray  # distinct cell keys, ascending
    count: np.ndarray  # points per cell
    of_point: np.ndarray  # cell rank of each point
    width: int
    table: np.ndarray | None  # key → rank (-1 empty) when the grid is small enough

    @classmethod
    def build(cls, x: np.ndarray, y: np.ndarray, size: float) -> _Cells:
        cx = np.floor((x - x.min()) / size).astype(np.int64) + 1
        cy = np.floor((y - y.min()) / size).astype(np.int64) + 1
        width, height = int(cx.max()) + 2, int(cy.max()) + 2
        key = cy * width + cx
        keys, of_point, count = np.unique(key, return_inverse=True, return_counts=True)
        table = None
        if width * height <= _DENSE_CELLS:
            table = np.full(width * height, -1, np.int32)
            table[keys] = np.arange(len(keys), dtype=np.int32)
        return cls(cx, cy, key, keys, count, of_point.reshape(-1), width, table)

    def offsets(self) -> list[int]:
        return [dy * self.width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)]

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Rank of each cell key, -1 when the cell is empty."""
        if self.table is not None:
            return self.table[keys].astype(np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1)

    def block_sums(self) -> np.ndarray:
        """Points in each cell's 3 × 3 block."""
        out = np.zeros(len(self.keys), np.int64)
        for off in self.offsets():
            r = self.lookup(self.keys + off)
            out += np.where(r >= 0, self.count[np.maximum(r, 0)], 0)
        return out

    def block_of(self, cells: np.ndarray) -> np.ndarray:
        """Mask of the cells in the 3 × 3 blocks around ``cells`` (a mask)."""
        out = np.zeros(len(self.keys), bool)
        base = self.keys[cells]
        for off in self.offsets():
            r = self.lookup(base + off)
            out[r[r >= 0]] = True
        return out

    def morton(self, points: np.ndarray) -> np.ndarray:
        """``points`` reordered along a Z curve of their cells (neighbours near in memory)."""
        code = _spread(self.cx[points]) | (_spread(self.cy[points]) << np.uint64(1))
        return points[np.argsort(code, kind="stable")]


def _leaders(x: np.ndarray, y: np.ndarray, radius: float, min_count: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Leader clustering of points given in tie-break order.

    Returns (place number per point or -1, leader point per place).
    """
    n = len(x)
    label = np.full(n, -1, np.int64)
    if n < min_count:
        return label, np.zeros(0, np.int64)
    cells = _Cells.build(x, y, radius)
    hot = cells.block_sums() >= min_count
    if not hot.any():
        return label, np.zeros(0, np.int64)
    warm = cells.block_of(hot)
    # Points that may lead (in hot cells) and those they may claim (in warm cells).
    sel = cells.morton(np.flatnonzero(warm[cells.of_point]))
    pts = np.column_stack([x[sel], y[sel]])
    from scipy.spatial import cKDTree  # lazily: not needed for the first frame

    tree = cKDTree(pts, leafsize=32)
    cand = np.flatnonzero(hot[cells.of_point[sel]])
    count = tree.query_ball_point(pts[cand], radius, return_length=True, workers=-1)
    keep = count >= min_count
    cand, count = cand[keep], count[keep]
    order = cand[np.lexsort((sel[cand], -count))]  # count desc, then position (= id)
    taken = np.zeros(len(sel), bool)
    local = np.full(len(sel), -1, np.int64)
    leaders: list[int] = []
    for p in order.tolist():  # sequential by definition; most points are skipped here
        if taken[p]:
            continue
        nb = np.asarray(tree.query_ball_point(pts[p], radius), dtype=np.int64)
        nb = nb[~taken[nb]]
        if len(nb) >= min_count:
            taken[nb] = True
            local[nb] = len(leaders)
            leaders.append(p)
    label[sel] = local
    return label, sel[np.asarray(leaders, dtype=np.int64)]


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
    min_count: int
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
                "places": self.total_places, "incidents_in_places": self.incidents_in_places,
                "top": [self.place(i).to_json() for i in range(n)]}


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


def _places(q: Query, rows: _Rows, radius_m: float, min_count: int, limit: int | None,
            since_us: int | None = None) -> RepeatPlaces:
    """The places; with ``since_us`` only those reaching ``min_count`` by then or later."""
    ex = q.extract
    book = _address_book(ex)
    m = max(int(min_count), 1)
    n = len(rows)
    label = np.full(n, -1, np.int64)
    loc = np.flatnonzero(rows.located)
    leaders = np.zeros(0, np.int64)
    if len(loc):
        x, y = project(rows.lon[loc], rows.lat[loc], _centre(ex))
        local, lead = _leaders(x, y, radius_m, m)
        label[loc] = local
        leaders = loc[lead]
    n_loc = len(leaders)
    # Step 2: what is left, grouped by normalised address.
    rest = np.flatnonzero((label < 0) & (rows.key >= 0))
    key_codes = np.zeros(0, np.int64)
    if len(rest):
        codes, inv, cnt = np.unique(rows.key[rest], return_inverse=True, return_counts=True)
        big = cnt >= m
        num = np.full(len(codes), -1, np.int64)
        num[big] = n_loc + np.arange(int(big.sum()))
        label[rest] = num[inv]
        key_codes = codes[big].astype(np.int64)
    total = n_loc + len(key_codes)

    mem = np.flatnonzero(label >= 0)
    g = label[mem]
    srt = np.lexsort((rows.t[mem], g))  # by place, time, then id (stable: rows by id)
    mem, g = mem[srt], g[srt]
    count = np.bincount(g, minlength=total).astype(np.int64)
    start = np.r_[0, np.cumsum(count)]
    t = rows.t[mem]
    first_us, last_us = t[start[:-1]], t[start[1:] - 1]
    reached_us = t[start[:-1] + m - 1]  # every place has at least m members
    ids = rows.ids
    lead_ids = ids.take(pa.array(leaders)).to_pylist() if n_loc else []
    place_id = np.asarray([f"L:{i}" for i in lead_ids]
                          + [f"A:{book.key_text[k]}" for k in key_codes.tolist()], dtype=object)
    chosen = np.arange(total) if since_us is None else np.flatnonzero(reached_us >= since_us)
    order = chosen[np.lexsort((place_id[chosen].astype(str), -last_us[chosen],
                               -count[chosen]))]
    n_chosen, in_chosen = len(order), int(count[order].sum())
    if limit is not None:
        order = order[:max(limit, 0)]
    # Everything else only for the places kept.
    k = len(order)
    kept_start = np.r_[0, np.cumsum(count[order])].astype(np.int64)
    pick = np.arange(int(kept_start[-1])) + np.repeat(start[order] - kept_start[:-1],
                                                       count[order])
    rk = mem[pick]
    gk = np.repeat(np.arange(k), count[order])
    located = rows.located[rk]
    nloc = np.bincount(gk[located], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        lon = np.bincount(gk[located], weights=rows.lon[rk][located], minlength=k) / nloc
        lat = np.bincount(gk[located], weights=rows.lat[rk][located], minlength=k) / nloc
    ncat = len(INCIDENT_CATEGORIES)
    cats = np.bincount(gk * ncat + rows.cat[rk], minlength=k * ncat).reshape(k, ncat)
    raw = _mode(gk, rows.raw[rk], k)
    # Address places: the most frequent area, ties by area id (work on the ids' text
    # ranks); location places: the leader's.
    by_address = order >= n_loc
    by_text = np.asarray(sorted(range(len(ex.areas)), key=ex.areas.ids.__getitem__), np.int64)
    text_rank = np.empty(len(by_text), np.int64)
    text_rank[by_text] = np.arange(len(by_text))
    member_area = rows.area[rk]
    ranked = np.full(len(rk), -1, np.int64)
    use = (member_area >= 0) & by_address[gk]
    ranked[use] = text_rank[member_area[use]]
    mode = _mode(gk, ranked, k)
    area = np.full(k, -1, np.int64)
    area[mode >= 0] = by_text[mode[mode >= 0]]
    area[~by_address] = rows.area[leaders[order[~by_address]]]
    return RepeatPlaces(
        radius_m=float(radius_m), min_count=m, total_places=n_chosen,
        incidents_in_places=in_chosen, place_id=place_id[order], by_address=by_address,
        count=count[order], first_us=first_us[order], last_us=last_us[order],
        reached_us=reached_us[order], lon=lon, lat=lat,
        address=[book.raw_text[r] if r >= 0 else None for r in raw.tolist()],
        area=area, categories=cats, member_start=kept_start, member_rows=rk, ids=ids,
        area_ids=list(ex.areas.ids), area_names=list(ex.areas.names))


def repeat_places(q: Query, state: FilterState, min_count: int = 3, radius_m: float = 50.0,
                  limit: int | None = None) -> RepeatPlaces:
    """Repeat places under ``state`` (see the module docstring), at most ``limit`` kept."""
    return _places(q, _fetch(q, state), radius_m, min_count, limit)


def new_repeat_places(q: Query, state: FilterState, since: date, min_count: int = 3,
                      radius_m: float = 50.0, limit: int | None = None) -> RepeatPlaces:
    """Places under ``state`` whose ``min_count``-th incident came on or after ``since``."""
    since_us = int((day_start(since) - _EPOCH) // timedelta(microseconds=1))
    return _places(q, _fetch(q, state), radius_m, min_count, limit, since_us)


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


def _preceded(x: np.ndarray, y: np.ndarray, t: np.ndarray, ids: pa.Array,
              query: np.ndarray, radius: float, window_us: int) -> np.ndarray:
    """Mask over points: in ``query`` (a mask) and preceded by another point within
    ``radius`` at most ``window_us`` earlier (same instant: the smaller id precedes)."""
    hit = np.zeros(len(x), bool)
    if not query.any() or len(x) < 2:
        return hit
    cells = _Cells.build(x, y, radius)
    sec = np.floor_divide(t, 1_000_000)
    s0 = int(sec.min())
    span = int(sec.max()) - s0 + 2
    order = np.lexsort((t, cells.of_point))  # by cell, then time
    comp = cells.of_point[order] * span + (sec[order] - s0)
    # Queries in the same (cell, time) order keep every binary search below sorted.
    qs = order[query[order]]
    lo_s = np.clip(np.floor_divide(t[qs] - window_us, 1_000_000) - s0, 0, span - 1)
    hi_s = sec[qs] - s0
    los, his, owners = [], [], []
    for off in cells.offsets():
        r = cells.lookup(cells.point_key[qs] + off)
        ok = np.flatnonzero(r >= 0)
        base = r[ok] * span
        lo = np.searchsorted(comp, base + lo_s[ok], side="left")
        hi = np.searchsorted(comp, base + hi_s[ok], side="right")
        nz = hi > lo
        los.append(lo[nz])
        his.append(hi[nz])
        owners.append(qs[ok[nz]])
    lo, hi, own = np.concatenate(los), np.concatenate(his), np.concatenate(owners)
    length = hi - lo
    bounds = np.r_[0, np.cumsum(length)]
    r2 = radius * radius
    s = 0
    while s < len(lo):  # expand the ranges into candidate pairs, a chunk at a time
        e = max(int(np.searchsorted(bounds, bounds[s] + _CHUNK, side="right")) - 1, s + 1)
        ln = length[s:e]
        i = np.repeat(own[s:e], ln)
        j = order[np.repeat(lo[s:e] - (bounds[s:e] - bounds[s]), ln)
                  + np.arange(int(bounds[e] - bounds[s]))]
        dt = t[i] - t[j]
        ok = (dt >= 0) & (dt <= window_us) & (i != j) \
            & ((x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2 <= r2)
        tie = np.flatnonzero(ok & (dt == 0))
        if len(tie):  # the same instant: only the greater id is preceded
            a = ids.take(pa.array(i[tie])).to_pylist()
            b = ids.take(pa.array(j[tie])).to_pylist()
            ok[tie] = np.asarray([bj < ai for ai, bj in zip(a, b, strict=True)], bool)
        hit[i[ok]] = True
        s = e
    return hit


def near_repeat_rate(q: Query, state: FilterState, days: int = 7,
                     radius_m: float = 50.0) -> NearRepeat:
    """The near-repeat rate under ``state`` (see the module docstring)."""
    window_us = int(days) * _US_PER_DAY
    look = state
    start_us: int | None = None
    if state.start is not None:
        look = dataclasses.replace(state, start=state.start - timedelta(days=int(days)))
        start_us = int((day_start(state.start) - _EPOCH) // timedelta(microseconds=1))
    rows = _fetch(q, look, addresses=False, by_id=False)
    loc = np.flatnonzero(rows.located)
    t = rows.t[loc]
    query = np.ones(len(loc), bool) if start_us is None else t >= start_us
    hit = np.zeros(len(loc), bool)
    if len(loc):
        x, y = project(rows.lon[loc], rows.lat[loc], _centre(q.extract))
        hit = _preceded(x, y, t, rows.ids.take(pa.array(loc)), query, radius_m, window_us)
    cat = rows.cat[loc]
    ncat = len(INCIDENT_CATEGORIES)
    den = np.bincount(cat[query], minlength=ncat)
    num = np.bincount(cat[hit], minlength=ncat)
    by_cat = {INCIDENT_CATEGORIES[c]: (int(num[c]), int(den[c])) for c in range(ncat) if den[c]}
    return NearRepeat(int(days), float(radius_m), int(hit.sum()), int(query.sum()), by_cat)


def repeats_section(q: Query, state: FilterState, limit: int = 20) -> dict[str, Any]:
    """Repeat places and the 7-day near-repeat rate, for ``report --json``."""
    out = repeat_places(q, state, limit=limit).to_json(limit)
    out["near_repeat"] = near_repeat_rate(q, state).to_json()
    return out


__all__ = ["NearRepeat", "RepeatPlace", "RepeatPlaces", "near_repeat_rate",
           "new_repeat_places", "normalise_address", "project", "repeat_places",
           "repeats_section"]
