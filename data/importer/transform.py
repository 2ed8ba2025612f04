"""Transform step: a batch of source cells → a batch in the schema's form.

``apply(batch, plan)`` is pure and batch-wise (Spark runs it inside ``mapInArrow``):
it reads each schema column from its source (one column, date + time, five parts,
or a constant), parses values (``values``), maps codes, reprojects x/y to WGS84,
clears placeholder points (0, 0), places rows by area name, derives ids from the
row's content when there is no id column, and keeps ``_source_file`` and
``_source_row``. The ``Plan`` holds only tuples and strings, so it pickles.
``apply_with_stats`` also returns what happened per column, for the import report.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from ..coords import to_wgs84
from ..schema import BLOB, BOOLEAN, DATE, DOUBLE, INTEGER, TABLES, TEXT, TIMESTAMP
from . import times as T
from . import values as V
from .gazetteer import Gazetteer, load_gazetteer
from .mapping import FileMapping, ImportMapping
from .place import AreaLookup, find_in_addresses, resolve_column
from .source import SOURCE_FILE, SOURCE_ROW

ARROW_TYPES = {TEXT: pa.string(), TIMESTAMP: pa.timestamp("us"), DATE: pa.date32(),
               DOUBLE: pa.float64(), INTEGER: pa.int64(), BOOLEAN: pa.bool_(),
               BLOB: pa.binary()}
_EXAMPLES = 3


@dataclass(frozen=True)
class ColumnRule:
    target: str
    kind: str
    column: str | None = None
    parts: tuple[tuple[str, str], ...] = ()
    value: str | None = None
    join: tuple[str, ...] = ()
    codes: tuple[str, ...] | None = None
    fallback: str | None = None
    value_map: tuple[tuple[str, str], ...] = ()
    hint: str | None = None

    def describe(self) -> str:
        if self.value is not None:
            return f"= {self.value!r}"
        if self.parts:
            return " + ".join(c for _k, c in self.parts)
        if self.join:
            return " ".join(self.join)
        return self.column or ""


@dataclass(frozen=True)
class Plan:
    """Everything ``apply`` needs for one source file of one table."""

    table: str
    label: str
    rules: tuple[ColumnRule, ...]
    lon: str | None = None
    lat: str | None = None
    geometry: str | None = None
    crs: str | None = None
    datum: str = "wgs84"
    content_id: tuple[str, ...] | None = None
    """Source columns hashed into the id when the table has no id column."""
    area: AreaLookup | None = None
    area_from_address: bool = False
    timezone: str | None = None
    placeholders: tuple[str, ...] = ()
    """Texts that mean "not known"; a placeholder address also clears the row's point."""
    geocode: Gazetteer | None = None
    """The address lookup for rows without a point (``[geocode]``)."""


# --------------------------------------------------------------------------- statistics

@dataclass
class ColumnStats:
    source: str
    rows: int = 0
    read: int = 0
    blank: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    to_fallback: dict[str, int] = field(default_factory=dict)
    """Values that matched no code (became ``other`` or NULL), with their rows."""

    def merge(self, other: ColumnStats) -> None:
        self.rows += other.rows
        self.read += other.read
        self.blank += other.blank
        for k, v in other.failed.items():
            self.failed[k] = self.failed.get(k, 0) + v
        for k, ex in other.examples.items():
            mine = self.examples.setdefault(k, [])
            mine += [e for e in ex if e not in mine][: _EXAMPLES - len(mine)]
        for k, v in other.to_fallback.items():
            self.to_fallback[k] = self.to_fallback.get(k, 0) + v


@dataclass
class BatchStats:
    rows: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)
    zero_points: int = 0
    """Rows whose x/y were both 0: a placeholder, set to no coordinates."""
    placeholder_points: int = 0
    """Rows whose address was a placeholder, so their point was one too: cleared."""
    unlocated: int = 0
    """Rows left without usable coordinates (before placing by name)."""
    placed_by_name: int = 0
    placed_by_address: int = 0
    geocoded: int = 0
    """Rows without a point that got their address's point from the lookup."""
    unmatched_names: dict[str, int] = field(default_factory=dict)
    content_ids: int = 0

    def merge(self, other: BatchStats) -> None:
        self.rows += other.rows
        for k, c in other.columns.items():
            if k in self.columns:
                self.columns[k].merge(c)
            else:
                self.columns[k] = c
        self.zero_points += other.zero_points
        self.placeholder_points += other.placeholder_points
        self.unlocated += other.unlocated
        self.placed_by_name += other.placed_by_name
        self.placed_by_address += other.placed_by_address
        self.geocoded += other.geocoded
        for k, v in other.unmatched_names.items():
            self.unmatched_names[k] = self.unmatched_names.get(k, 0) + v
        self.content_ids += other.content_ids


def _stats(source: str, parsed: V.Parsed, raw: pa.Array | None) -> ColumnStats:
    r = parsed.reasons
    st = ColumnStats(source, rows=len(r), read=int((r == V.OK).sum()),
                     blank=int((r == V.BLANK).sum()))
    bad = r > V.BLANK
    if bad.any():
        for code, n in V.reason_counts(r[bad]).items():
            st.failed[code] = n
        if raw is not None:
            text = V.as_text(raw)
            for code in np.unique(r[bad]):
                sel = text.filter(pa.array(r == code)).slice(0, 50).to_pylist()
                st.examples[V.REASONS[code]] = list(dict.fromkeys(
                    s for s in sel if s is not None))[:_EXAMPLES]
    return st


# --------------------------------------------------------------------------- plan

def build_plan(table: str, label: str, entry: FileMapping, mapping: ImportMapping,
               headers: list[str], area: AreaLookup | None) -> Plan:
    spec = TABLES[table]
    rules = []
    for col in spec.columns:
        if spec.point and col.name in ("lon", "lat"):
            continue
        src = entry.columns.get(col.name)
        if col.name == "geom_wkb":
            src = entry.columns.get("geometry") or src
        if src is None:
            rules.append(ColumnRule(col.name, col.kind, codes=col.codes, fallback=col.fallback))
            continue
        rules.append(ColumnRule(
            col.name, col.kind, column=src.column, parts=tuple(src.parts.items()),
            value=src.value, join=tuple(src.join), codes=col.codes, fallback=col.fallback,
            value_map=tuple(entry.values.get(col.name, {}).items()),
            hint=entry.formats.get(col.name)))
    lon, lat, geom = entry.columns.get("lon"), entry.columns.get("lat"), \
        entry.columns.get("geometry")
    crs = entry.crs or mapping.crs
    if crs == "?":
        crs = None
    content = None
    if spec.id_column and (entry.id == "content" or spec.id_column not in entry.columns):
        content = tuple(h for h in headers if not h.startswith("_"))
    return Plan(
        table=table, label=label, rules=tuple(rules),
        lon=lon.column if lon else None, lat=lat.column if lat else None,
        geometry=geom.column if geom and spec.point else None,
        crs=crs if lon and lat else None,
        datum=entry.coord_system or mapping.coord_system or "wgs84",
        content_id=content, area=area, area_from_address=entry.area_from_address,
        timezone=mapping.timezone, placeholders=tuple(entry.placeholders),
        geocode=load_gazetteer(mapping.geocode)
        if spec.point and mapping.geocode and mapping.geocode.file else None)


# --------------------------------------------------------------------------- apply

def apply(batch: pa.RecordBatch, plan: Plan) -> pa.RecordBatch:
    """The schema-form batch (plus ``_source_file``, ``_source_row``) for ``plan``."""
    return apply_with_stats(batch, plan)[0]


def _column(batch: pa.RecordBatch, name: str) -> pa.Array:
    col = batch.column(name)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _placeholder_mask(raw: pa.Array, placeholders: tuple[str, ...]) -> pa.Array:
    text = pc.utf8_trim_whitespace(V.as_text(raw))
    return pc.fill_null(pc.is_in(text, value_set=pa.array(placeholders, pa.string())), False)


def _parse(rule: ColumnRule, batch: pa.RecordBatch, timezone: str | None,
           placeholders: tuple[str, ...] = ()) -> tuple[V.Parsed, pa.Array | None]:
    n = batch.num_rows
    if rule.value is not None:
        raw = pa.array([rule.value] * n, pa.string())
    elif rule.join:
        # null_handling="skip" drops rows whose parts are all null (pyarrow 26): join with
        # empty strings instead, then squeeze the spaces.
        texts = [pc.fill_null(V.as_text(_column(batch, c)), "") for c in rule.join]
        joined = pc.binary_join_element_wise(*texts, " ")
        raw = pc.utf8_trim_whitespace(pc.replace_substring_regex(joined, r"\s+", " "))
    elif rule.parts:
        parts = dict(rule.parts)
        if "date" in parts:
            raw = _column(batch, parts["date"])
            date = T.parse_timestamp(raw, rule.hint, timezone)
            if "time" not in parts:
                return date, raw
            time = _column(batch, parts["time"])
            both = pc.binary_join_element_wise(V.as_text(raw), V.as_text(time), " | ")
            return T.combine_date_time(date, T.parse_time_of_day(time)), both
        return T.timestamp_from_parts({k: _column(batch, c) for k, c in parts.items()}), None
    else:
        raw = _column(batch, rule.column)
    kind = rule.kind
    if placeholders and kind == TEXT:
        raw = pc.if_else(_placeholder_mask(raw, placeholders), None, V.as_text(raw))
    if rule.codes is not None:
        return V.map_codes(raw, dict(rule.value_map), rule.codes, rule.fallback), raw
    if kind == TEXT:
        return V.parse_text(raw), raw
    if kind == TIMESTAMP:
        return T.parse_timestamp(raw, rule.hint, timezone), raw
    if kind == DATE:
        return T.parse_date(raw, rule.hint), raw
    if kind == DOUBLE:
        return V.parse_number(raw), raw
    if kind == INTEGER:
        return V.parse_integer(raw), raw
    if kind == BOOLEAN:
        return V.parse_bool(raw, dict(rule.value_map)), raw
    if kind == BLOB:
        return _geometry_blob(raw), None
    raise ValueError(kind)  # pragma: no cover - schema kinds are closed


def _geometry_blob(raw: pa.Array) -> V.Parsed:
    """WKB as given (GIS files), or WKT / hex WKB text from a table."""
    if pa.types.is_binary(raw.type) or pa.types.is_large_binary(raw.type):
        null = np.asarray(pc.is_null(raw).to_numpy(zero_copy_only=False), dtype=bool)
        return V.Parsed(raw.cast(pa.binary()), np.where(null, V.BLANK, V.OK).astype(np.uint8))
    s, blank = V.normalise(raw)
    texts = np.asarray(s.to_pylist(), dtype=object)
    geoms = np.full(len(texts), None, dtype=object)
    for i, t in enumerate(texts):
        if blank[i]:
            continue
        try:
            geoms[i] = (shapely.from_wkb(bytes.fromhex(t)) if all(
                c in "0123456789abcdefABCDEF" for c in t[:16]) else shapely.from_wkt(t))
        except (shapely.errors.GEOSException, ValueError):
            geoms[i] = None
    ok = np.asarray([g is not None for g in geoms])
    reasons = np.where(blank, V.BLANK, np.where(ok, V.OK, V.BAD_GEOMETRY)).astype(np.uint8)
    wkb = [shapely.to_wkb(g) if g is not None else None for g in geoms]
    return V.Parsed(pa.array(wkb, pa.binary()), reasons)


@functools.cache
def _transformer(crs: str):
    from pyproj import CRS, Transformer

    return Transformer.from_crs(CRS.from_user_input(crs), CRS.from_epsg(4326), always_xy=True)


def _points(batch: pa.RecordBatch, plan: Plan, stats: BatchStats
            ) -> tuple[np.ndarray, np.ndarray]:
    n = batch.num_rows
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if plan.geometry:
        wkb = _column(batch, plan.geometry).to_pylist()
        g = shapely.from_wkb(np.asarray(wkb, dtype=object), on_invalid="ignore")
        pts = shapely.point_on_surface(g)
        lon, lat = shapely.get_x(pts), shapely.get_y(pts)
        lon = np.where(np.isfinite(lon), lon, np.nan)
        lat = np.where(np.isfinite(lat), lat, np.nan)
        stats.columns["lon"] = ColumnStats("geometry", n, int(np.isfinite(lon).sum()),
                                           int((~np.isfinite(lon)).sum()))
        stats.columns["lat"] = ColumnStats("geometry", n, int(np.isfinite(lat).sum()),
                                           int((~np.isfinite(lat)).sum()))
        return lon, lat
    if not (plan.lon and plan.lat):
        return lon, lat
    xr, yr = _column(batch, plan.lon), _column(batch, plan.lat)
    px, py = V.parse_coordinate(xr), V.parse_coordinate(yr)
    x = np.array(pc.fill_null(px.values, np.nan).to_numpy(zero_copy_only=False), np.float64)
    y = np.array(pc.fill_null(py.values, np.nan).to_numpy(zero_copy_only=False), np.float64)
    zero = (x == 0) & (y == 0)
    stats.zero_points += int(zero.sum())
    address = next((r for r in plan.rules if r.target == "address" and r.column), None)
    if plan.placeholders and address is not None:
        fake = np.asarray(_placeholder_mask(_column(batch, address.column),
                                            plan.placeholders).to_numpy(zero_copy_only=False),
                          dtype=bool) & ~zero & np.isfinite(x) & np.isfinite(y)
        stats.placeholder_points += int(fake.sum())
        zero = zero | fake
    for p in (px, py):
        p.reasons[zero] = V.ZERO
    x[zero], y[zero] = np.nan, np.nan
    ok = np.isfinite(x) & np.isfinite(y)
    if plan.crs and ok.any():
        lo, la = _transformer(plan.crs).transform(x[ok], y[ok])
        lo, la = np.asarray(lo, np.float64), np.asarray(la, np.float64)
        bad = ~(np.isfinite(lo) & np.isfinite(la))
        lo[bad], la[bad] = np.nan, np.nan
        idx = np.flatnonzero(ok)
        for p in (px, py):
            p.reasons[idx[bad]] = V.OUT_OF_RANGE
        x[ok], y[ok] = lo, la
    elif plan.datum != "wgs84" and ok.any():
        x[ok], y[ok] = to_wgs84(x[ok], y[ok], plan.datum)
    stats.columns["lon"] = _stats(plan.lon, px, xr)
    stats.columns["lat"] = _stats(plan.lat, py, yr)
    return x, y


def content_ids(batch: pa.RecordBatch, columns: tuple[str, ...]) -> pa.Array:
    """A stable id from each row's cells: identical rows get identical ids.

    BLAKE2b of the cells joined by a separator, 16 hex digits. Written with hashlib
    (about a microsecond a row) rather than a library hash: the ids must not change
    between versions or machines, because next month's import must give the same rows
    the same ids.
    """
    if not columns:
        return pa.array(np.char.mod("row%d", np.arange(batch.num_rows)).tolist())
    cols = [pc.fill_null(V.as_text(_column(batch, c)), "\x00") for c in columns]
    joined = pc.binary_join_element_wise(*cols, "\x1f").to_pylist()
    return pa.array([hashlib.blake2b(s.encode(), digest_size=8).hexdigest() for s in joined],
                    pa.string())


def apply_with_stats(batch: pa.RecordBatch, plan: Plan) -> tuple[pa.RecordBatch, BatchStats]:
    spec = TABLES[plan.table]
    n = batch.num_rows
    stats = BatchStats(rows=n)
    out: dict[str, pa.Array] = {}
    for rule in plan.rules:
        typ = ARROW_TYPES[rule.kind]
        if rule.column is None and not rule.parts and rule.value is None and not rule.join:
            out[rule.target] = pa.nulls(n, typ)
            continue
        parsed, raw = _parse(rule, batch, plan.timezone, plan.placeholders)
        out[rule.target] = parsed.values.cast(typ)
        st = _stats(rule.describe(), parsed, raw)
        if rule.codes is not None and raw is not None and (parsed.reasons == V.UNKNOWN).any():
            unknown = V.as_text(raw).filter(pa.array(parsed.reasons == V.UNKNOWN))
            vc = pc.value_counts(unknown)
            st.to_fallback = dict(zip(vc.field("values").to_pylist(),
                                      vc.field("counts").to_pylist(), strict=True))
        stats.columns[rule.target] = st
    if spec.point:
        lon, lat = _points(batch, plan, stats)
        if plan.geocode is not None and "address" in out:
            _geocode(plan, out, lon, lat, stats)
        out["lon"] = pa.array(lon, mask=~np.isfinite(lon))
        out["lat"] = pa.array(lat, mask=~np.isfinite(lat))
        _place(batch, plan, out, np.isfinite(lon) & np.isfinite(lat), stats)
    if plan.content_id is not None and spec.id_column:
        out[spec.id_column] = content_ids(batch, plan.content_id)
        stats.content_ids = n
        stats.columns[spec.id_column] = ColumnStats("row content", n, n)
    names = [c.name for c in spec.columns]
    arrays = [out[c] for c in names]
    arrays += [_column(batch, SOURCE_FILE).cast(pa.string()), _column(batch, SOURCE_ROW)]
    return pa.RecordBatch.from_arrays(arrays, names=[*names, SOURCE_FILE, SOURCE_ROW]), stats


def _geocode(plan: Plan, out: dict[str, pa.Array], lon: np.ndarray, lat: np.ndarray,
             stats: BatchStats) -> None:
    """Rows without a point take their address's point from the lookup (in place)."""
    need = ~(np.isfinite(lon) & np.isfinite(lat))
    if not need.any():
        return
    idx = np.flatnonzero(need)
    glon, glat = plan.geocode.locate(out["address"].take(pa.array(idx)))
    hit = np.isfinite(glon) & np.isfinite(glat)
    lon[idx[hit]], lat[idx[hit]] = glon[hit], glat[hit]
    stats.geocoded += int(hit.sum())


def _place(batch: pa.RecordBatch, plan: Plan, out: dict[str, pa.Array], located: np.ndarray,
           stats: BatchStats) -> None:
    """area_id from names (matched ids everywhere; unmatched names only where there is no
    point to place the row by, so they still count under their own name)."""
    stats.unlocated = int((~located).sum())
    if "area_id" not in out:
        return
    given = out["area_id"]
    has_name = np.asarray(pc.is_valid(given).to_numpy(zero_copy_only=False), dtype=bool)
    if plan.area is not None and has_name.any():
        ids, matched = resolve_column(given, plan.area)
        unmatched = has_name & ~matched
        stats.placed_by_name = int((matched & ~located).sum())
        if unmatched.any():
            vc = pc.value_counts(given.filter(pa.array(unmatched)))
            for v, c in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(),
                            strict=True):
                stats.unmatched_names[v] = stats.unmatched_names.get(v, 0) + c
        keep_raw = pa.array(unmatched)
        out["area_id"] = pc.if_else(keep_raw, given, ids)
    elif has_name.any():
        stats.placed_by_name = int((has_name & ~located).sum())
    if plan.area_from_address and plan.area is not None and "address" in out:
        need = pc.and_(pc.is_null(out["area_id"]), pa.array(~located))
        if pc.any(need).as_py():
            found = find_in_addresses(pc.if_else(need, out["address"], None), plan.area)
            hit = pc.and_(need, pc.is_valid(found))
            stats.placed_by_address = int(pc.sum(pc.cast(hit, pa.int64())).as_py() or 0)
            out["area_id"] = pc.if_else(hit, found, out["area_id"])
