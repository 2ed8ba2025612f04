"""Propose a mapping for one file from its header and its values.

Each header is compared with the spellings of ``synonyms.HEADERS`` (exactly after
normalising, else by containment, which scores lower); a candidate whose values do
not look right (a "time" column that holds no times, "经度" that holds no numbers,
an "编号" that is just the row number) is demoted. The best pairs are taken
greedily, one header per target. Code columns get a value map built from every
distinct value of the column: exact spellings first, then keywords, else ``other``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import BOOLEAN, DATE, DOUBLE, INTEGER, TABLES, TIMESTAMP
from . import times as T
from . import values as V
from .mapping import ColumnSource, FileMapping
from .source import GEOMETRY, SourceTable
from .synonyms import CODE_GROUPS, HEADERS, KEYWORDS, VALUES, norm_header, norm_value

SAMPLE_ROWS = 5_000
MAX_VALUES = 500  # distinct values listed in a value map

# The columns without which a table cannot be imported (the rest may be left empty).
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "areas": (("geometry",),),
    "incidents": (("reported_at",),),
    "resources": (("lon", "geometry"), ("lat", "geometry")),
    "hazards": (("discovered_at",), ("lon", "geometry"), ("lat", "geometry")),
    "rectifications": (("hazard_id",), ("event_at",), ("action",)),
    "disputes": (("received_at",),),
    "dispute_steps": (("dispute_id",), ("step_at",), ("action",)),
}
_PART_ORDER = ("year", "month", "day", "hour", "minute", "second")


@dataclass
class Candidate:
    target: str
    header: str
    score: float


def _targets(table: str) -> dict[str, list[str]]:
    """Target → normalised spellings (the schema name itself included).

    Every timestamp column also gets ``.date`` and ``.time`` targets (a date and a
    time in two columns) spelt like the column with 日期 or 时段 for 时间, unless
    ``HEADERS`` lists them; the generic 日期 / 时段 go to the table's main time only.
    """
    spec = TABLES[table]
    given = HEADERS[table]
    out: dict[str, list[str]] = {}
    for target, spellings in given.items():
        names = [norm_header(s) for s in spellings]
        if "." not in target:
            names.append(norm_header(target))
        out[target] = names
    for col in spec.columns:
        if col.kind != TIMESTAMP or col.name not in given:
            continue
        timed = [s for s in given[col.name] if "时间" in s]
        main = col.name == spec.time_column
        if f"{col.name}.date" not in given:
            out[f"{col.name}.date"] = [norm_header(s.replace("时间", "日期")) for s in timed] + (
                ["日期", "date"] if main else [])
        if f"{col.name}.time" not in given:
            out[f"{col.name}.time"] = [norm_header(s) for s in timed] + [
                norm_header(s.replace("时间", w)) for s in timed for w in ("时段", "时刻")] + (
                ["时段", "时间段", "时刻", "time"] if main else [])
    return {t: list(dict.fromkeys(n for n in names if n)) for t, names in out.items()}


def header_score(spellings: list[str], header: str) -> float:
    h = norm_header(header)
    if not h:
        return 0.0
    for rank, s in enumerate(spellings):
        if h == s:
            return 1.0 - 0.002 * rank
    best = 0.0
    for s in spellings:
        if len(s) < 2 or (s.isascii() and len(s) < 4):
            continue  # "x", "id", "lat" inside a longer word mean nothing
        if s in h:
            best = max(best, 0.45 + 0.35 * len(s) / len(h))
        elif len(h) >= 3 and h in s and not h.isascii():
            best = max(best, 0.35 + 0.3 * len(h) / len(s))
    return best


def score_headers(table: str, headers: list[str]) -> float:
    """How well a header row fits a table (for choosing a workbook's sheet)."""
    targets = _targets(table)
    return sum(max((header_score(sp, h) for h in headers), default=0.0)
               for sp in targets.values())


# --------------------------------------------------------------------------- value checks

def _share(reasons: np.ndarray) -> float:
    filled = reasons != V.BLANK
    return float((reasons[filled] == V.OK).mean()) if filled.any() else 0.0


def _looks_like(target: str, kind: str | None, col: pa.Array) -> float:
    """A factor in (0, 1]: 1 when the values fit the target's type."""
    if len(col) == 0:
        return 1.0
    part = target.split(".", 1)[1] if "." in target else None
    if part == "time":
        share = _share(T.parse_time_of_day(col).reasons)
    elif part == "date":
        share = _share(T.parse_timestamp(col).reasons)
    elif part in _PART_ORDER:
        p = V.parse_integer(col)
        share = _share(p.reasons)
    elif kind in (TIMESTAMP, DATE):
        share = _share(T.parse_timestamp(col, T.guess_time_hint(col)).reasons)
    elif target in ("lon", "lat") or kind == DOUBLE:
        share = _share(V.parse_coordinate(col).reasons)
    elif kind == INTEGER:
        share = _share(V.parse_integer(col).reasons)
    else:
        return 1.0
    return 1.0 if share >= 0.5 else 0.15 + share


def is_row_number(col: pa.Array) -> bool:
    """Values 1, 2, 3 ... (a 序号): not an id that is unique across files."""
    p = V.parse_integer(col)
    if len(col) < 3 or (p.reasons != V.OK).any():
        return False
    v = np.asarray(p.values.to_numpy(zero_copy_only=False))
    return bool((np.diff(v) == 1).mean() > 0.95 and v[0] <= 1)


# --------------------------------------------------------------------------- values

def _spellings(group: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for code, spellings in VALUES[group].items():
        index.setdefault(norm_value(code), code)
        for s in spellings:
            index.setdefault(norm_value(s), code)
    return index


def propose_values(group: str, distinct: Iterable[str], fallback: str | None
                   ) -> dict[str, str]:
    """Source value → code for the distinct values that match a spelling or keyword.

    Values that match nothing are left out: they become the fallback (``other``) and are
    counted as unknown, and the mapping file lists them in comments for the user to set.
    """
    index = _spellings(group)
    keywords = [(norm_value(k), c) for k, c in KEYWORDS.get(group, ())]
    out: dict[str, str] = {}
    for value in distinct:
        key = norm_value(value)
        if not key:
            continue
        code = index.get(key)
        if code is None:
            code = next((c for k, c in keywords if k in key), None)
        if code is not None:
            out[value] = code
    return out


def distinct_counts(col: pa.Array | pa.ChunkedArray, limit: int = MAX_VALUES
                    ) -> dict[str, int]:
    """Non-blank values and their row counts, most frequent first (trimmed text)."""
    text = pc.utf8_trim_whitespace(V.as_text(col if isinstance(col, pa.Array)
                                             else col.combine_chunks()))
    vc = pc.value_counts(text)
    vals, counts = vc.field("values"), vc.field("counts")
    _, blank = V.normalise(vals)
    keep = pa.array(~blank)
    vals, counts = vals.filter(keep).to_pylist(), counts.filter(keep).to_pylist()
    pairs = sorted(zip(vals, counts, strict=True), key=lambda kv: (-kv[1], kv[0]))
    return dict(pairs[:limit])


def level_from_names(names: Iterable[str]) -> str | None:
    """The area level most names' suffixes point to (社区/村 → village, 镇/乡/街道 → town)."""
    votes: dict[str, int] = {}
    total = 0
    for name in names:
        if not name:
            continue
        total += 1
        key = norm_value(name)
        for frag, code in KEYWORDS["area_level"]:
            if key.endswith(frag):
                votes[code] = votes.get(code, 0) + 1
                break
    if not votes:
        return None
    code, n = max(votes.items(), key=lambda kv: kv[1])
    return code if n >= 0.8 * total else None


# --------------------------------------------------------------------------- coordinates

def _numbers(col: pa.Array) -> np.ndarray:
    p = V.parse_coordinate(col)
    v = np.asarray(p.values.to_numpy(zero_copy_only=False), dtype=np.float64)
    return v[np.isfinite(v) & (v != 0)]


def gauss_kruger_zone(x: np.ndarray) -> str | None:
    """CGCS2000 3-degree Gauss-Krüger with the zone number in the easting (``38500000``)."""
    if len(x) == 0:
        return None
    zone = np.floor(x / 1_000_000)
    if (zone == zone[0]).all() and 25 <= zone[0] <= 45 and \
            ((x - zone * 1_000_000) > 100_000).all() and ((x - zone * 1_000_000) < 900_000).all():
        return f"EPSG:{4513 + int(zone[0]) - 25}"
    return None


def crs_order(crs: str, x: np.ndarray, y: np.ndarray) -> bool:
    """True when the columns are the other way round (northing first) for ``crs``."""
    from pyproj import CRS, Transformer

    c = CRS.from_user_input(crs)
    area = c.area_of_use
    if area is None or len(x) == 0 or len(x) != len(y):
        return False
    t = Transformer.from_crs(c, CRS.from_epsg(4326), always_xy=True)

    def inside(a: np.ndarray, b: np.ndarray) -> int:
        lon, lat = t.transform(a, b)
        ok = np.isfinite(lon) & np.isfinite(lat) & (lon >= area.west - 1) & \
            (lon <= area.east + 1) & (lat >= area.south - 1) & (lat <= area.north + 1)
        return int(ok.sum())

    return inside(y, x) > inside(x, y)


# --------------------------------------------------------------------------- proposal

def _assign(table: str, src: SourceTable, sample: pa.Table) -> tuple[dict[str, str],
                                                                      list[str]]:
    spec = TABLES[table]
    kinds = {c.name: c.kind for c in spec.columns}
    notes: list[str] = []
    cands: list[Candidate] = []
    targets = _targets(table)
    order = {t: i for i, t in enumerate(targets)}
    for target, spellings in targets.items():
        for header in src.headers:
            s = header_score(spellings, header)
            if s <= 0:
                continue
            s *= _looks_like(target, kinds.get(target.split(".")[0]), sample.column(
                header).combine_chunks())
            cands.append(Candidate(target, header, s))
    cands.sort(key=lambda c: (-c.score, order[c.target], src.headers.index(c.header)))
    chosen: dict[str, str] = {}
    # A 序号 column (1, 2, 3 ...) numbers the rows of one file: it is nothing else either.
    numbering = {h for h in src.headers if is_row_number(sample.column(h).combine_chunks())}
    used = set(numbering)
    for c in cands:
        if c.score < 0.3 or c.target in chosen or c.header in used:
            continue
        chosen[c.target] = c.header
        used.add(c.header)
    if numbering:
        notes.append(f"{', '.join(sorted(numbering))}: row numbers 1, 2, 3... (not an id across "
                     "files): not used")
    _by_content(table, src, sample, chosen, used, notes)
    return chosen, notes


def _by_content(table: str, src: SourceTable, sample: pa.Table, chosen: dict[str, str],
                used: set[str], notes: list[str]) -> None:
    """Targets no header named, found by what the columns hold: the main time (a column of
    timestamps), the coordinates (a pair of degree columns) and code columns (a column
    whose values are nearly all spellings of the codes)."""
    spec = TABLES[table]
    free = [h for h in src.headers if h not in used]
    cols = {h: sample.column(h).combine_chunks() for h in free}
    t = spec.time_column
    if t and not any(k == t or k.startswith(f"{t}.") for k in chosen):
        share = {h: _share(T.parse_timestamp(c).reasons) for h, c in cols.items()}
        best = max(share, key=lambda h: share[h], default=None)
        if best is not None and share[best] >= 0.9:
            chosen[t] = best
            notes.append(f"{best!r} holds timestamps: taken as {t}")
            free.remove(best)
    if spec.point and "lon" not in chosen and "lat" not in chosen:
        deg = {}
        for h in free:
            v = _numbers(cols[h])
            fractional = len(v) and (v != np.round(v)).mean() > 0.9
            if len(v) >= 0.5 * max(1, len(cols[h])) and (np.abs(v) <= 180).all() and fractional:
                deg[h] = float(np.median(np.abs(v)))
        if len(deg) == 2:
            (a, _ma), (b, mb) = sorted(deg.items(), key=lambda kv: -kv[1])
            if mb <= 90:
                chosen["lon"], chosen["lat"] = a, b
                notes.append(f"{a!r} and {b!r} hold degrees: taken as longitude and latitude")
                free = [h for h in free if h not in (a, b)]
    for col in spec.columns:
        group = CODE_GROUPS.get((table, col.name))
        if group is None or col.name in chosen:
            continue
        index = _spellings(group)
        best, best_share = None, 0.0
        for h in free:
            counts = distinct_counts(cols[h], limit=MAX_VALUES)
            total = sum(counts.values())
            if not total or len(counts) >= MAX_VALUES:
                continue
            hit = sum(n for v, n in counts.items() if norm_value(v) in index) / total
            if hit > best_share:
                best, best_share = h, hit
        if best is not None and best_share >= 0.8:
            chosen[col.name] = best
            notes.append(f"{best!r} holds {col.name} values: taken as {col.name}")
            free.remove(best)


def _time_source(table: str, target: str, chosen: dict[str, str], sample: pa.Table
                 ) -> ColumnSource | None:
    single = chosen.get(target)
    date, time = chosen.get(f"{target}.date"), chosen.get(f"{target}.time")
    parts = {p: chosen[f"{target}.{p}"] for p in _PART_ORDER if f"{target}.{p}" in chosen}
    if single and time and not date:
        p = T.parse_timestamp(sample.column(single).combine_chunks())
        us = np.asarray(pc.fill_null(p.values.cast(pa.int64()), 0).to_numpy(
            zero_copy_only=False))
        if (us[p.reasons == V.OK] % 86_400_000_000 == 0).all():
            return ColumnSource(parts={"date": single, "time": time})
    if single:
        return ColumnSource(column=single)
    if date:
        return ColumnSource(parts={"date": date, **({"time": time} if time else {})})
    if {"year", "month", "day"} <= parts.keys():
        return ColumnSource(parts=parts)
    return None


def propose(table: str, src: SourceTable, crs: str | None = None,
            coord_system: str | None = None) -> FileMapping:
    """A mapping entry for ``src`` as ``table`` (its ``files`` is the file's name)."""
    spec = TABLES[table]
    sample = src.table.slice(0, SAMPLE_ROWS)
    chosen, notes = _assign(table, src, sample)
    e = FileMapping(files=file_pattern(src.label), notes=notes, encoding=src.encoding,
                    delimiter=src.delimiter if src.delimiter not in (None, ",") else None,
                    header_row=src.header_row if src.kind in ("csv", "excel") else None,
                    sheet=src.sheet)
    for col in spec.columns:
        if col.kind == TIMESTAMP:
            ts = _time_source(table, col.name, chosen, sample)
            if ts is not None:
                e.columns[col.name] = ts
                first = ts.column or ts.parts.get("date")
                if first:
                    hint = T.guess_time_hint(sample.column(first).combine_chunks())
                    if hint:
                        e.formats[col.name] = hint
        elif col.name in chosen:
            e.columns[col.name] = ColumnSource(column=chosen[col.name])
    if GEOMETRY in src.table.column_names and (
            table == "areas" or ("lon" not in e.columns and "lat" not in e.columns)):
        e.columns["geometry"] = ColumnSource(column=GEOMETRY)
    _coordinates(e, sample, crs, coord_system)
    if table == "areas":
        _area_defaults(e, src)
    if spec.id_column and spec.id_column not in e.columns and table != "areas":
        e.id = "content"
        e.notes.append(f"no id column: {spec.id_column} derived from each row's content "
                       "(identical rows share an id)")
    if spec.point and "area_id" not in e.columns and "address" in e.columns and \
            "lon" not in e.columns and "geometry" not in e.columns:
        e.area_from_address = True
        e.notes.append("no coordinates and no area column: areas looked up by name in the "
                       "address")
    for col in spec.columns:
        group = CODE_GROUPS.get((table, col.name))
        src_col = e.columns.get(col.name)
        if src_col is None or src_col.column is None:
            continue
        if group:
            counts = distinct_counts(src.table.column(src_col.column))
            e.values[col.name] = propose_values(group, counts, col.fallback)
        elif col.kind == BOOLEAN:
            counts = distinct_counts(src.table.column(src_col.column))
            words = {norm_value(w): str(b).lower() for b, ws in V.BOOL_WORDS.items()
                     for w in ws}
            e.values[col.name] = {v: words[norm_value(v)] for v in counts
                                  if norm_value(v) in words}
    return e


def _coordinates(e: FileMapping, sample: pa.Table, crs: str | None,
                 coord_system: str | None) -> None:
    if coord_system and coord_system != "wgs84":
        e.coord_system = coord_system
    lon, lat = e.columns.get("lon"), e.columns.get("lat")
    if lon is None or lat is None or lon.column is None or lat.column is None:
        if (lon is None) != (lat is None):
            e.notes.append("only one coordinate column found: coordinates left empty")
            e.columns.pop("lon", None)
            e.columns.pop("lat", None)
        return
    x = _numbers(sample.column(lon.column).combine_chunks())
    y = _numbers(sample.column(lat.column).combine_chunks())
    if len(x) == 0 or len(y) == 0:
        return
    projected = np.median(np.abs(x)) > 360 or np.median(np.abs(y)) > 360
    if not projected:
        if np.median(np.abs(x)) <= 90 < np.median(np.abs(y)):
            e.columns["lon"], e.columns["lat"] = lat, lon
            e.notes.append(f"{lat.column!r} holds longitudes and {lon.column!r} latitudes: "
                           "taken the other way round")
        return
    if crs is None:
        crs = gauss_kruger_zone(x) or gauss_kruger_zone(y)
        if crs is not None:
            e.notes.append(f"projected x/y with a zone prefix: read as {crs} (CGCS2000 "
                           "3-degree Gauss-Krüger)")
    if crs is None:
        e.notes.append("x/y are projected metres but no CRS is known: give --crs EPSG:NNNN")
        e.crs = "?"
        return
    e.crs = crs
    n = min(len(x), len(y))
    if crs_order(crs, x[:n], y[:n]):
        e.columns["lon"], e.columns["lat"] = lat, lon
        e.notes.append(f"{lat.column!r} holds eastings and {lon.column!r} northings: taken "
                       "the other way round")


def _area_defaults(e: FileMapping, src: SourceTable) -> None:
    if "area_id" not in e.columns and "name" in e.columns:
        e.columns["area_id"] = ColumnSource(column=e.columns["name"].column)
        e.notes.append("no area id column: the name is used as the id")
    if "name" not in e.columns and "area_id" in e.columns:
        e.columns["name"] = ColumnSource(column=e.columns["area_id"].column)
    if "area_id" not in e.columns:
        e.id = "content"
    if "level" not in e.columns:
        names = []
        if "name" in e.columns and e.columns["name"].column:
            names = src.table.column(e.columns["name"].column).slice(0, SAMPLE_ROWS).to_pylist()
        level = level_from_names(str(n) for n in names if n) or "village"
        e.columns["level"] = ColumnSource(value=level)
        e.notes.append(f"no level column: every area taken as {level!r}")


def missing_required(table: str, e: FileMapping) -> list[str]:
    """Required targets (or alternatives) the entry maps no source to."""
    return ["/".join(alts) for alts in REQUIRED[table]
            if not any(a in e.columns for a in alts)]


def looked_for(table: str, target: str) -> str:
    spellings = HEADERS[table].get(target, ())
    return ", ".join(spellings[:5]) if spellings else target


def file_pattern(label: str) -> str:
    """A glob for next month's file: runs of digits become ``*`` (警情2024-05.csv → 警情*-*.csv)."""
    name = label.split("#", 1)[0]  # the sheet is kept apart (``sheet = ...``)
    return re.sub(r"\d+", "*", name.replace("[", "[[]"))
