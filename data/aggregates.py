"""The pre-aggregated incident tables of schema version 2, defined for DuckDB
(docs/extract-schema-v2.md; ``pipeline.aggregates`` is the same definition in Spark,
tested equal).

- ``incidents_by_area``: day x hour x category x (level, area_id) → incidents, for every
  level of the area tree (an incident counts in its area and every enclosing one), plus
  level ``all`` (area_id NULL: every incident, located or not) and level ``unlisted``
  (an area_id the areas table does not hold, counted under its own id).
- ``incidents_by_cell``: day x hour x category x (zoom, cell_x, cell_y) → incidents, for
  located incidents, at the Web-Mercator (XYZ) tiles of ``GRID_ZOOMS``.

The incidents are any DuckDB table, view or relation with ``reported_at``, ``category``,
``area_id``, ``lon`` and ``lat`` (WGS84); the areas one with ``area_id``, ``level`` and
``parent_id``.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np

from .coords import MERC_MAX_LAT

GRID_ZOOMS: tuple[int, ...] = (10, 13, 16)
"""The zoom levels of ``incidents_by_cell`` (about 39 km, 4.9 km and 611 m at the
equator): enough for a density raster from a province down to a county."""
BY_AREA, BY_CELL = "incidents_by_area", "incidents_by_cell"
AGGREGATES = (BY_AREA, BY_CELL)

_DEG = math.pi / 180.0
_QUARTER = math.pi / 4.0
_TWO_PI = 2.0 * math.pi


def cell_xy(lon: np.ndarray, lat: np.ndarray, zoom: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The XYZ tile at ``zoom`` holding each point: (x, y, ok); x, y are 0 where not ok
    (no point). x counts from the antimeridian eastwards, y from the north edge.

    x is (lon + 180) * 2^zoom / 360 rounded down: multiplying by 2^zoom is exact, so a
    longitude on a tile edge (115.3125 at zoom 10) lands in the tile east of it, as XYZ
    has it. y is the Web-Mercator northing the same way, (pi - ln tan(pi/4 + lat/2)) *
    2^zoom / 2 pi, with the latitude clipped to the Mercator square.
    """
    lon = np.asarray(lon, np.float64)
    lat = np.asarray(lat, np.float64)
    ok = np.isfinite(lon) & np.isfinite(lat)
    cx = np.zeros(len(lon), np.int64)
    cy = np.zeros(len(lon), np.int64)
    if ok.any():
        scale = float(1 << zoom)
        n = (1 << zoom) - 1
        la = np.clip(lat[ok], -MERC_MAX_LAT, MERC_MAX_LAT)
        north = np.log(np.tan(_QUARTER + (la * _DEG) / 2.0))
        cx[ok] = np.clip(np.floor((lon[ok] + 180.0) * scale / 360.0), 0, n).astype(np.int64)
        cy[ok] = np.clip(np.floor((math.pi - north) * scale / _TWO_PI), 0, n).astype(np.int64)
    return cx, cy, ok


def cell_sql(lon: str, lat: str, zoom: int) -> tuple[str, str]:
    """``cell_xy`` as two DuckDB expressions, with the same operations in the same order
    (so that a point on a tile edge falls on the same side in both)."""
    scale, n = repr(float(1 << zoom)), (1 << zoom) - 1
    la = f"greatest(least(({lat}), {MERC_MAX_LAT!r}), {-MERC_MAX_LAT!r})"
    north = f"ln(tan({_QUARTER!r} + ({la} * {_DEG!r}) / 2.0))"
    x = f"CAST(least(greatest(floor((({lon}) + 180.0) * {scale} / 360.0), 0), {n}) AS INTEGER)"
    y = (f"CAST(least(greatest(floor(({math.pi!r} - {north}) * {scale} / {_TWO_PI!r}), 0), "
         f"{n}) AS INTEGER)")
    return x, y


def rollup_sql(areas: str) -> str:
    """(area_id, level, ancestor_id) for every area with a level and each of its enclosing
    areas, itself included (a parent that is not in ``areas``, or a cycle, ends the walk)."""
    return f"""
        WITH RECURSIVE a AS (
            SELECT CAST(area_id AS VARCHAR) AS area_id, CAST(level AS VARCHAR) AS level,
                   CAST(parent_id AS VARCHAR) AS parent_id FROM {areas}),
        up(area_id, cur, path) AS (
            SELECT area_id, area_id, [area_id] FROM a WHERE level IS NOT NULL
            UNION ALL
            SELECT up.area_id, a.parent_id, list_append(up.path, a.parent_id)
            FROM up JOIN a ON a.area_id = up.cur
            WHERE a.parent_id IS NOT NULL AND NOT list_contains(up.path, a.parent_id)
              AND a.parent_id IN (SELECT area_id FROM a))
        SELECT up.area_id, a.level, up.cur AS ancestor_id FROM up JOIN a ON a.area_id = up.cur
    """


def by_area_sql(incidents: str, areas: str) -> str:
    """The ``incidents_by_area`` rows of the incidents ``incidents`` and areas ``areas``."""
    return f"""
        WITH base AS (
            SELECT CAST(reported_at AS DATE) AS day, CAST(hour(reported_at) AS INTEGER) AS hour,
                   CAST(category AS VARCHAR) AS category, CAST(area_id AS VARCHAR) AS area_id,
                   count(*) AS n
            FROM {incidents} GROUP BY ALL),
        up AS ({rollup_sql(areas)})
        SELECT day, hour, category, up.level, up.ancestor_id AS area_id,
               CAST(sum(n) AS BIGINT) AS incidents
        FROM base JOIN up USING (area_id) GROUP BY ALL
        UNION ALL
        SELECT day, hour, category, 'unlisted', area_id, CAST(sum(n) AS BIGINT)
        FROM base WHERE area_id IS NOT NULL
          AND area_id NOT IN (SELECT area_id FROM up WHERE area_id IS NOT NULL)
        GROUP BY ALL
        UNION ALL
        SELECT day, hour, category, 'all', CAST(NULL AS VARCHAR), CAST(sum(n) AS BIGINT)
        FROM base GROUP BY ALL
    """


def by_cell_sql(incidents: str, zooms: tuple[int, ...] = GRID_ZOOMS) -> str:
    """The ``incidents_by_cell`` rows of the located incidents of ``incidents``."""
    parts = []
    for z in zooms:
        x, y = cell_sql("lon", "lat", z)
        parts.append(f"SELECT CAST(reported_at AS DATE) AS day, "
                     f"CAST(hour(reported_at) AS INTEGER) AS hour, "
                     f"CAST(category AS VARCHAR) AS category, {int(z)} AS zoom, "
                     f"{x} AS cell_x, {y} AS cell_y FROM {incidents} "
                     f"WHERE isfinite(lon) AND isfinite(lat)")
    return (f"SELECT day, hour, category, zoom, cell_x, cell_y, "
            f"CAST(count(*) AS BIGINT) AS incidents FROM ({' UNION ALL '.join(parts)}) "
            f"GROUP BY ALL")


def _name(con: duckdb.DuckDBPyConnection, source: str | duckdb.DuckDBPyRelation,
          alias: str) -> str:
    if isinstance(source, str):
        return source
    source.create_view(alias, replace=True)
    return alias


def write_aggregates(con: duckdb.DuckDBPyConnection,
                     incidents: str | duckdb.DuckDBPyRelation,
                     areas: str | duckdb.DuckDBPyRelation, out: str | Path,
                     zooms: tuple[int, ...] = GRID_ZOOMS, part: str = "part-00000"
                     ) -> dict[str, int]:
    """Write ``out/incidents_by_area/<part>.parquet`` and ``out/incidents_by_cell/...``;
    returns the rows written per table."""
    inc = _name(con, incidents, "_agg_incidents")
    ar = _name(con, areas, "_agg_areas")
    written = {}
    for name, sql in ((BY_AREA, by_area_sql(inc, ar)), (BY_CELL, by_cell_sql(inc, zooms))):
        written[name] = copy_parquet(con, sql, Path(out) / name / f"{part}.parquet")
    return written


def copy_parquet(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> int:
    """Rows of ``sql`` into one zstd Parquet file; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = str(path).replace("'", "''")
    rows = con.execute(f"COPY ({sql}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
                       ).fetchone()
    return int(rows[0]) if rows else 0
