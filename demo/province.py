"""A synthetic province: N demo counties side by side, written as the schema version 2
Parquet directory form (docs/extract-schema-v2.md) in streaming partitions.

    from demo.province import generate_province
    manifest = generate_province("province/", counties=10, incidents=10_000_000)

Each county is a demo county (towns, villages, roads, hotspots; ``demo.geography``)
drawn from its own random stream and moved onto a grid of counties. Counties are the
top level: the schema knows no province or city level (``county``, ``town``,
``village``, ``grid``). Incidents are drawn county by county and month by month
(``demo.incidents.incident_chunks``) and each chunk goes straight to
``incidents/year=YYYY/month=MM/part-<county>-<chunk>.parquet``; the aggregates are made
from the same chunk by ``data.aggregates`` (DuckDB): a chunk's rows per area are final
(areas belong to one county, chunks of one county never share an hour), while the
level-``all`` rows and the cells, which counties share, are staged and summed at the
end, one month at a time. Memory is one chunk and one county, whatever the total.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely

from data.aggregates import BY_AREA, BY_CELL, GRID_ZOOMS, by_area_sql, by_cell_sql, copy_parquet
from data.schema import DATA_TABLES

from . import _area_columns, names
from .common import EXTRACTED_AT, MX, MY, REGION, Frame
from .disputes import dispute_columns
from .geography import GRID_DEG, County, build_county
from .hazards import hazard_columns
from .incidents import incident_chunks
from .lookup import VillageIndex
from .resources import resource_columns
from .writer import to_table

SCHEMA_VERSION_2 = "2"
PROVINCE = "示范省"
STEP_LON, STEP_LAT = 0.75, 0.62
"""Distance between county centres on the grid, degrees (about 74 x 69 km: a demo
county is at most about 72 x 60 km, so neighbours never overlap)."""
MEMORY_LIMIT = "512MB"
"""DuckDB's budget for the per-month sums of the staged cells (it spills beyond)."""

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ProvinceManifest:
    counts: dict[str, int]
    """Rows written per table (aggregates included)."""
    counties: list[tuple[str, str]]
    """(area_id, name) of every county."""
    files: int
    """Parquet files under incidents/."""
    seconds: float
    extracted_at: str = EXTRACTED_AT


def county_names(rng: np.random.Generator, n: int) -> list[str]:
    """示范县 first (the demo county), then distinct invented county names."""
    taken = set(names.TOWN_STEMS) | set(names.SEAT_COMMUNITIES) | {REGION.removesuffix("县")}
    return [REGION, *(s + "县" for s in names.village_stems(rng, n - 1, taken))][:n]


def place_county(county: County, k: int, n: int, name: str) -> County:
    """County ``k`` of ``n``, moved to its place on the grid (whole multiples of 0.001°,
    so six-decimal points stay six-decimal), with its own ids and name."""
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    i, j = k % cols, k // cols
    dlon = round((i - (cols - 1) / 2) * STEP_LON, 3)
    dlat = round(((rows - 1) / 2 - j) * STEP_LAT, 3)
    code = f"C{k + 1:02d}" if n < 100 else f"C{k + 1:03d}"

    def deg(g):
        moved = shapely.transform(g, lambda xy: xy + np.array([dlon, dlat]))
        return shapely.set_precision(moved, GRID_DEG)

    def metres(a: np.ndarray) -> np.ndarray:
        return a + np.array([dlon * MX, dlat * MY])

    villages = np.array([deg(g) for g in county.village_geoms], dtype=object)
    return dataclasses.replace(
        county, county_geom=deg(county.county_geom),
        town_geoms=np.array([deg(g) for g in county.town_geoms], dtype=object),
        village_geoms=villages, index=VillageIndex(villages),
        town_centre_m=metres(county.town_centre_m), water_m=metres(county.water_m),
        road_m=metres(county.road_m), hotspot_m=metres(county.hotspot_m),
        market_m=metres(county.market_m),
        town_ids=[code + t for t in county.town_ids],
        village_ids=[code + v for v in county.village_ids], name=name, county_id=code)


def generate_province(out: str | Path, counties: int, incidents: int,
                      seed: int = 20261120, progress: Progress | None = None,
                      memory_limit: str = MEMORY_LIMIT) -> ProvinceManifest:
    """Write the province to the folder ``out`` (atomically: a folder beside it is
    renamed into place when complete, replacing what was there)."""
    if counties < 1:
        raise ValueError("counties must be >= 1")
    if incidents < 0:
        raise ValueError("incidents must be >= 0")
    t0 = time.perf_counter()
    out = Path(out).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    report = progress or (lambda stage, fraction: None)
    try:
        manifest = _build(tmp, counties, incidents, seed, report, memory_limit)
        old = out.with_name(f".{out.name}.{os.getpid()}.old")
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report("done", 1.0)
    return dataclasses.replace(manifest, seconds=time.perf_counter() - t0)


def _build(tmp: Path, n_counties: int, n_incidents: int, seed: int, report: Progress,
           memory_limit: str) -> ProvinceManifest:
    frame = Frame("wgs84")
    rngs = np.random.default_rng(seed).spawn(n_counties + 1)
    cnames = county_names(rngs[-1], n_counties)
    per = [n_incidents // n_counties + (1 if k < n_incidents % n_counties else 0)
           for k in range(n_counties)]
    stage = tmp / "_stage"
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{stage / 'spill'}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    counts = {t: 0 for t in DATA_TABLES}
    counts[BY_AREA] = counts[BY_CELL] = 0
    files = 0
    done = 0
    listed = []
    for k in range(n_counties):
        geo_rng, inc_rng, res_rng, haz_rng, dis_rng, _ = rngs[k].spawn(6)
        report(f"county {k + 1}/{n_counties}: building", done / max(n_incidents, 1))
        county = place_county(build_county(geo_rng), k, n_counties, cnames[k])
        listed.append((county.county_id, county.name))
        code = county.county_id
        areas = to_table("areas", _area_columns(county, frame))
        _write_small(tmp, "areas", code, areas, counts)
        con.register("_areas", areas)
        _addr, sources, chunks = incident_chunks(county, frame, per[k], inc_rng, None,
                                                 2_000, resolved_areas=True)
        for j, (_n, table) in enumerate(chunks):
            table = _with_prefix(table, code, "incident_id")
            first = table.column("reported_at")[0].as_py()
            part = f"part-{code}-{j:04d}"
            month = tmp / "incidents" / f"year={first:%Y}" / f"month={first:%m}"
            month.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, month / f"{part}.parquet", compression="zstd")
            files += 1
            counts["incidents"] += table.num_rows
            done += table.num_rows
            _aggregate(con, table, stage, part, f"{first:%Y%m}")
            report(f"county {k + 1}/{n_counties}: incidents", done / max(n_incidents, 1))
        con.unregister("_areas")
        res = to_table("resources", resource_columns(res_rng, county, frame))
        _write_small(tmp, "resources", code, _with_prefix(res, code, "resource_id"), counts)
        hz, ev = hazard_columns(haz_rng, county, frame)
        _write_small(tmp, "hazards", code,
                     _with_prefix(to_table("hazards", hz), code, "hazard_id"), counts)
        _write_small(tmp, "rectifications", code, _with_prefix(
            to_table("rectifications", ev), code, "event_id", "hazard_id"), counts)
        dp, st = dispute_columns(dis_rng, county, frame, sources)
        _write_small(tmp, "disputes", code, _with_prefix(
            to_table("disputes", dp), code, "dispute_id", "source_incident_id"), counts)
        _write_small(tmp, "dispute_steps", code,
                     _with_prefix(to_table("dispute_steps", st), code, "dispute_id"), counts)
    report("summing the aggregates", 0.99)
    months = sorted(p.name for p in (stage / "area").glob("*")) if (stage / "area").exists() \
        else []
    for m in months:
        counts[BY_AREA] += _merge_area(con, stage / "area" / m, tmp / BY_AREA / f"part-{m}.parquet")
        counts[BY_CELL] += _merge_cell(con, stage / "cell" / m, tmp / BY_CELL / f"part-{m}.parquet")
    con.close()
    shutil.rmtree(stage, ignore_errors=True)
    meta = {
        "schema_version": SCHEMA_VERSION_2,
        "region_name": PROVINCE if n_counties > 1 else REGION,
        "coord_system": "wgs84",
        "extracted_at": EXTRACTED_AT,
        "source": f"示范数据生成器 (demo.province: {n_counties} counties, seed {seed})",
        "classification": "内部资料 注意保密",
        "aggregates": f"{BY_AREA},{BY_CELL}",
        "grid_zooms": ",".join(str(z) for z in GRID_ZOOMS),
    }
    pq.write_table(pa.table({"key": pa.array(list(meta), pa.string()),
                             "value": pa.array(list(meta.values()), pa.string())}),
                   tmp / "meta.parquet")
    counts["meta"] = len(meta)
    (tmp / "load_report.json").write_text(json.dumps(
        {"schema_version": SCHEMA_VERSION_2, "source": meta["source"], "tables": {},
         "notes": ["synthetic: every row is clean"], "rows": counts,
         "aggregates": {BY_AREA: counts[BY_AREA], BY_CELL: counts[BY_CELL]}},
        ensure_ascii=False, indent=2), encoding="utf-8")
    return ProvinceManifest(counts=counts, counties=listed, files=files, seconds=0.0)


def _aggregate(con: duckdb.DuckDBPyConnection, table: pa.Table, stage: Path, part: str,
               month: str) -> None:
    """The chunk's aggregates, staged by month (``_merge_area``, ``_merge_cell``)."""
    con.register("_chunk", table)
    try:
        copy_parquet(con, by_area_sql("_chunk", "_areas"),
                     stage / "area" / month / f"{part}.parquet")
        copy_parquet(con, by_cell_sql("_chunk"), stage / "cell" / month / f"{part}.parquet")
    finally:
        con.unregister("_chunk")


def _merge_area(con: duckdb.DuckDBPyConnection, folder: Path, target: Path) -> int:
    """One month of ``incidents_by_area``: the rows per area are final as staged (an area
    belongs to one county, and a county's chunks never share an hour); the level-``all``
    rows of the counties are summed."""
    src = _glob(folder)
    return copy_parquet(
        con, f"SELECT * FROM read_parquet('{src}') WHERE level <> 'all' UNION ALL "
             f"SELECT day, hour, category, level, area_id, CAST(sum(incidents) AS BIGINT) "
             f"FROM read_parquet('{src}') WHERE level = 'all' GROUP BY ALL", target)


def _merge_cell(con: duckdb.DuckDBPyConnection, folder: Path, target: Path) -> int:
    """One month of ``incidents_by_cell``: counties share cells along their borders (and
    at zoom 10), so every cell is summed."""
    src = _glob(folder)
    return copy_parquet(
        con, f"SELECT day, hour, category, zoom, cell_x, cell_y, CAST(sum(incidents) AS "
             f"BIGINT) AS incidents FROM read_parquet('{src}') GROUP BY ALL", target)


def _glob(folder: Path) -> str:
    return str(folder / "*.parquet").replace("'", "''")


def _write_small(tmp: Path, table: str, code: str, rows: pa.Table,
                 counts: dict[str, int]) -> None:
    """One county's rows of a small table: one file per county, as they are drawn."""
    (tmp / table).mkdir(exist_ok=True)
    pq.write_table(rows, tmp / table / f"part-{code}.parquet", compression="zstd")
    counts[table] += rows.num_rows


def _prefix(code: str, ids: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The county's code before an id (NULL stays NULL): ids are unique province-wide."""
    return pc.binary_join_element_wise(pa.scalar(code), ids, "")


def _with_prefix(table: pa.Table, code: str, *columns: str) -> pa.Table:
    for c in columns:
        i = table.schema.get_field_index(c)
        table = table.set_column(i, c, _prefix(code, table.column(c)))
    return table

