"""A deterministic demo county (示范县) written as a cockpit extract (DuckDB, schema v1).

    from demo import generate_demo
    manifest = generate_demo("demo.duckdb", incidents=200_000, dirty=True)

Same arguments give the same table contents: all randomness comes from
``numpy.random.default_rng(seed)`` (one spawned stream per table family) and
the clock is never read. With ``dirty=True`` a few broken rows are added and
the manifest says, per table and load-report reason, how many the loader must
report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from data.schema import COORD_SYSTEMS, DATA_TABLES, SCHEMA_VERSION

from . import dirty as dirt
from .common import EXTRACTED_AT, REGION, Frame
from .disputes import dispute_columns
from .geography import County, build_county
from .hazards import hazard_columns
from .incidents import write_incidents
from .resources import resource_columns
from .writer import append, create_tables, to_table

__all__ = ["DEMO_VERSION", "DemoManifest", "generate_demo"]

DEMO_VERSION = 1
"""Bumped whenever the same arguments would write different contents (cached demos rebuild)."""

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DemoManifest:
    counts: dict[str, int]
    """Rows written per table (dirty rows included)."""
    dirty: dict[str, dict[str, int]]
    """table → load-report reason → injected rows the loader must report; empty when clean."""
    repeat_addresses: list[str]
    """Address texts reported again and again (麻将馆, 酒吧, 网吧...)."""
    extracted_at: str


def generate_demo(out: str | Path, incidents: int = 200_000, seed: int = 20261120,
                  dirty: bool = False, coord_system: str = "wgs84",
                  progress: Progress | None = None) -> DemoManifest:
    """Write the demo extract to ``out`` (atomically, replacing any existing file).

    ``progress(stage, fraction)`` gets the overall fraction done, 0 to 1.
    """
    if coord_system not in COORD_SYSTEMS:
        raise ValueError(f"coord_system must be one of {COORD_SYSTEMS}, not {coord_system!r}")
    if incidents < 0:
        raise ValueError("incidents must be >= 0")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    _remove(tmp)
    report = progress or (lambda stage, fraction: None)
    try:
        con = duckdb.connect(str(tmp))
        try:
            # Rows only stream in; a small buffer pool keeps the peak RSS low (~0.7 GB at 10M).
            con.execute("SET memory_limit = '256MB'")
            manifest = _build(con, incidents, seed, dirty, Frame(coord_system), report)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _remove(Path(f"{out}.wal"))  # a stale WAL would be replayed into the new file
        os.replace(tmp, out)
    except BaseException:
        _remove(tmp)
        raise
    report("done", 1.0)
    return manifest


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)


def _build(con: duckdb.DuckDBPyConnection, n_incidents: int, seed: int, dirty: bool,
           frame: Frame, report: Progress) -> DemoManifest:
    geo_rng, inc_rng, res_rng, haz_rng, dis_rng, dirt_rng = np.random.default_rng(seed).spawn(6)
    log = dirt.DirtyLog()
    create_tables(con)
    append(con, "meta", {
        "key": ["schema_version", "region_name", "coord_system", "extracted_at", "source",
                "classification"],
        "value": [SCHEMA_VERSION, REGION, frame.system, EXTRACTED_AT, "示范数据生成器",
                  "内部资料 注意保密"],
    })

    report("building the county", 0.0)
    county = build_county(geo_rng)
    areas = to_table("areas", _area_columns(county, frame))
    if dirty:
        areas = _with(areas, dirt.areas(frame, county.county_geom.bounds, county.town_ids, log))
    append(con, "areas", areas)

    report("generating incidents", 0.03)
    hook = dirt.IncidentDirt(dirt_rng, log) if dirty else None
    repeat, sources = write_incidents(
        con, county, frame, n_incidents, inc_rng, hook,
        lambda f: report("generating incidents", 0.03 + 0.82 * f), sources_wanted=2_000)

    report("generating resources", 0.85)
    resources = to_table("resources", resource_columns(res_rng, county, frame))
    if dirty:
        resources = _with(resources, dirt.resources(dirt_rng, resources, log))
    append(con, "resources", resources)

    report("generating hazards", 0.88)
    hz, ev = hazard_columns(haz_rng, county, frame)
    hazards, events = to_table("hazards", hz), to_table("rectifications", ev)
    if dirty:
        hazards = _with(hazards, dirt.hazards(dirt_rng, hazards, log))
        events = _with(events, dirt.rectifications(log))
    append(con, "hazards", hazards)
    append(con, "rectifications", events)

    report("generating disputes", 0.93)
    dp, st = dispute_columns(dis_rng, county, frame, sources)
    disputes, steps = to_table("disputes", dp), to_table("dispute_steps", st)
    if dirty:
        bad, bad_steps = dirt.disputes(dirt_rng, disputes, log)
        disputes, steps = _with(disputes, bad), _with(steps, bad_steps)
    append(con, "disputes", disputes)
    append(con, "dispute_steps", steps)

    report("finishing", 0.98)
    counts = {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
              for t in ("meta", *DATA_TABLES)}
    return DemoManifest(counts=counts, dirty=log.as_dict(), repeat_addresses=list(repeat),
                        extracted_at=EXTRACTED_AT)


def _with(table: pa.Table, rows: list[dict]) -> pa.Table:
    return pa.concat_tables([table, pa.Table.from_pylist(rows, schema=table.schema)])


def _area_columns(county: County, frame: Frame) -> dict[str, list]:
    geoms = [county.county_geom, *county.town_geoms, *county.village_geoms]
    return {
        "area_id": [county.county_id, *county.town_ids, *county.village_ids],
        "name": [county.name, *county.town_names, *county.village_names],
        "level": ["county"] + ["town"] * len(county.town_ids)
        + ["village"] * len(county.village_ids),
        "parent_id": [None] + [county.county_id] * len(county.town_ids)
        + [county.town_ids[t] for t in county.village_town],
        "geom_wkb": [shapely.to_wkb(frame.geom(g)) for g in geoms],
        "population": [int(county.town_pop.sum()), *map(int, county.town_pop),
                       *map(int, county.village_pop)],
    }
