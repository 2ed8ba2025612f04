"""Pre-aggregated incident tables (schema version 2, docs/extract-schema-v2.md).

- ``incidents_by_area``: day x hour x category x (level, area_id) → incidents, for every
  level of the area tree (an incident counts in its area and every enclosing one), plus
  level ``all`` (area_id NULL: every incident, located or not) and level ``unlisted``
  (an area_id the areas table does not hold, counted under its own id as the cockpit does).
- ``incidents_by_cell``: day x hour x category x (zoom, cell_x, cell_y) → incidents, for
  located incidents, at the Web-Mercator tile grids of ``GRID_ZOOMS`` (a cell is one
  tile of that zoom: about 39 km, 4.9 km and 611 m at the equator, less at 27°N).

The zoom list and the tile of a point are ``data.aggregates``'s, which defines the same
two tables for DuckDB (tested equal: tests/test_aggregates.py).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from data.aggregates import GRID_ZOOMS, cell_xy
from data.areas import AreaSet

__all__ = ["GRID_ZOOMS", "cell_keys", "incidents_by_area", "incidents_by_cell", "rollup"]


def cell_keys(lon: np.ndarray, lat: np.ndarray, zoom: int) -> pa.Array:
    """Tile (x, y) at ``zoom`` (``data.aggregates.cell_xy``) packed as x << 32 | y;
    NULL where there is no point."""
    cx, cy, ok = cell_xy(lon, lat, zoom)
    return pa.array((cx << 32) | cy, mask=~ok)


def rollup(areas: AreaSet) -> pa.Table:
    """(area_id, level, ancestor_id) for every area and each of its enclosing areas
    (itself included): the join that counts an incident at every level."""
    ids, levels, anc = [], [], []
    for i, area_id in enumerate(areas.ids):
        if areas.levels[i] is None:  # a pseudo area: counted under "unlisted" instead
            continue
        cur, seen = i, set()
        while cur >= 0 and cur not in seen:
            seen.add(cur)
            ids.append(area_id)
            levels.append(areas.levels[cur])
            anc.append(areas.ids[cur])
            cur = areas.parent[cur]
    return pa.table({"area_id": pa.array(ids, pa.string()),
                     "level": pa.array(levels, pa.string()),
                     "ancestor_id": pa.array(anc, pa.string())})


def incidents_by_area(spark, incidents, areas: AreaSet):
    """The area aggregate from the kept incidents (a Spark DataFrame).

    One shuffle to (day, hour, category, area_id), then one to the output: each row of
    that goes to its area's ancestors (a broadcast join; an id the areas table lacks
    goes to ``unlisted`` under itself), and once more to ``all``. (A cached first step
    read three times took 7x as long: 200 tiny cached partitions per branch.)
    """
    from pyspark.sql import functions as F

    up = spark.createDataFrame(_rows(rollup(areas)),
                               "area_id STRING, level STRING, ancestor_id STRING")
    base = (incidents
            .select(F.to_date("reported_at").alias("day"),
                    F.hour("reported_at").cast("int").alias("hour"), "category", "area_id")
            .groupBy("day", "hour", "category", "area_id").agg(F.count("*").alias("n")))
    placed = (base.filter(F.col("area_id").isNotNull())
              .join(F.broadcast(up), "area_id", "left")
              .select("day", "hour", "category",
                      F.coalesce("level", F.lit("unlisted")).alias("level"),
                      F.coalesce("ancestor_id", "area_id").alias("aid"), "n"))
    total = base.select("day", "hour", "category", F.lit("all").alias("level"),
                        F.lit(None).cast("string").alias("aid"), "n")
    return (placed.unionByName(total)
            .groupBy("day", "hour", "category", "level", "aid")
            .agg(F.sum("n").cast("long").alias("incidents"))
            .select("day", "hour", "category", "level", F.col("aid").alias("area_id"),
                    "incidents"))


def incidents_by_cell(incidents):
    """The grid aggregate from the kept incidents with their ``_cell_<zoom>`` keys."""
    from pyspark.sql import functions as F

    parts = []
    for z in GRID_ZOOMS:
        key = F.col(f"_cell_{z}")
        parts.append(incidents.filter(key.isNotNull()).select(
            F.to_date("reported_at").alias("day"),
            F.hour("reported_at").cast("int").alias("hour"), "category",
            F.lit(z).cast("int").alias("zoom"),
            F.shiftrightunsigned(key, 32).cast("int").alias("cell_x"),
            key.bitwiseAND(F.lit(0xFFFFFFFF)).cast("int").alias("cell_y")))
    cells = parts[0]
    for p in parts[1:]:
        cells = cells.unionByName(p)
    return (cells.groupBy("day", "hour", "category", "zoom", "cell_x", "cell_y")
            .agg(F.count("*").cast("long").alias("incidents")))


def _rows(t: pa.Table) -> list[tuple]:
    return list(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))
