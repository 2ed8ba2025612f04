"""data.aggregates (DuckDB) against an independent pandas count, and against the Spark SQL
definition in pipeline.aggregates on the same rows (marked ``spark``)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from data.aggregates import BY_AREA, BY_CELL, GRID_ZOOMS, cell_sql, cell_xy, write_aggregates

# area_id, level, parent_id: a county with two towns and four villages, a village whose
# parent is not listed, and two areas that name each other as parent (a producer's cycle).
AREAS = [
    ("C1", "county", None), ("T1", "town", "C1"), ("T2", "town", "C1"),
    ("V1", "village", "T1"), ("V2", "village", "T1"), ("V3", "village", "T2"),
    ("V4", "village", "T2"), ("V5", "village", "TX"), ("A", "town", "B"), ("B", "county", "A"),
]


def _incidents(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = datetime(2025, 3, 30, 20, 0)
    secs = rng.integers(0, 3 * 86400, n)
    ids = [a for a, _, _ in AREAS] + ["ZZ1", "ZZ2", None]
    area = [ids[i] for i in rng.integers(0, len(ids), n)]
    lon = np.round(rng.uniform(114.5, 115.6, n), 6)
    lat = np.round(rng.uniform(26.6, 27.6, n), 6)
    lon[:3] = [115.3125, 114.609375, 115.0]  # on tile edges at zoom 10 and 16
    gone = rng.random(n) < 0.05
    lon[gone] = np.nan
    lat[gone] = np.nan
    cats = ["criminal", "traffic", "fraud", None]
    return pd.DataFrame({
        "incident_id": [f"I{i}" for i in range(n)],
        "reported_at": [t0 + timedelta(seconds=int(s), microseconds=int(u))
                        for s, u in zip(secs, rng.integers(0, 10**6, n), strict=True)],
        "category": pd.Series([cats[i] for i in rng.choice(4, n, p=[0.4, 0.3, 0.27, 0.03])],
                              dtype=object),
        "area_id": pd.Series(area, dtype=object), "lon": lon, "lat": lat,
    })


def _oracle(df: pd.DataFrame) -> tuple[set, set]:
    """By hand: walk each area's parents, and the textbook slippy-map tile formula."""
    level = {a: lv for a, lv, _ in AREAS}
    parent = {a: p for a, _, p in AREAS}
    area_rows: dict[tuple, int] = {}
    cell_rows: dict[tuple, int] = {}
    for r in df.itertuples():
        key = (r.reported_at.date(), r.reported_at.hour, r.category)
        chain = []
        if r.area_id in level:
            cur = r.area_id
            while cur in level and cur not in chain:
                chain.append(cur)
                cur = parent[cur]
            for a in chain:
                k = (*key, level[a], a)
                area_rows[k] = area_rows.get(k, 0) + 1
        elif r.area_id is not None:
            k = (*key, "unlisted", r.area_id)
            area_rows[k] = area_rows.get(k, 0) + 1
        k = (*key, "all", None)
        area_rows[k] = area_rows.get(k, 0) + 1
        if math.isnan(r.lon):
            continue
        for z in GRID_ZOOMS:
            x = int((r.lon + 180.0) / 360.0 * 2**z)
            y = int((1.0 - math.asinh(math.tan(math.radians(r.lat))) / math.pi) / 2.0 * 2**z)
            k = (*key, z, x, y)
            cell_rows[k] = cell_rows.get(k, 0) + 1
    return ({(*k, n) for k, n in area_rows.items()}, {(*k, n) for k, n in cell_rows.items()})


def _duck(df: pd.DataFrame, out: Path) -> tuple[set, set, dict[str, int]]:
    con = duckdb.connect()
    con.register("inc_df", pa.table({
        "incident_id": pa.array(df["incident_id"].tolist(), pa.string()),
        "reported_at": pa.array(df["reported_at"].tolist(), pa.timestamp("us")),
        "category": pa.array(df["category"].tolist(), pa.string()),
        "area_id": pa.array(df["area_id"].tolist(), pa.string()),
        "lon": pa.array(df["lon"].to_numpy()), "lat": pa.array(df["lat"].to_numpy())}))
    con.execute("CREATE TABLE incidents AS SELECT incident_id, "
                "CAST(reported_at AS TIMESTAMP) AS reported_at, category, area_id, "
                "CASE WHEN isnan(lon) THEN NULL ELSE lon END AS lon, "
                "CASE WHEN isnan(lat) THEN NULL ELSE lat END AS lat FROM inc_df")
    con.execute("CREATE TABLE areas (area_id VARCHAR, level VARCHAR, parent_id VARCHAR)")
    con.executemany("INSERT INTO areas VALUES (?, ?, ?)", AREAS)
    written = write_aggregates(con, "incidents", con.table("areas"), out)
    con.close()
    return (*_read(out), written)


def _read(out: Path) -> tuple[set, set]:
    area = duckdb.sql(f"SELECT day, hour, category, level, area_id, incidents FROM "
                      f"read_parquet('{out}/{BY_AREA}/*.parquet')").fetchall()
    cell = duckdb.sql(f"SELECT day, hour, category, zoom, cell_x, cell_y, incidents FROM "
                      f"read_parquet('{out}/{BY_CELL}/*.parquet')").fetchall()
    assert len(set(area)) == len(area) and len(set(cell)) == len(cell)  # one row per key
    return set(area), set(cell)


def test_duckdb_aggregates_equal_an_independent_count(tmp_path: Path) -> None:
    df = _incidents()
    area, cell, written = _duck(df, tmp_path)
    want_area, want_cell = _oracle(df)
    assert area == want_area
    assert cell == want_cell
    assert written == {BY_AREA: len(area), BY_CELL: len(cell)}
    levels = {r[3] for r in area}
    assert levels == {"county", "town", "village", "unlisted", "all"}
    schema = {r[0]: r[1] for r in duckdb.sql(
        f"DESCRIBE SELECT * FROM '{tmp_path}/{BY_AREA}/*.parquet'").fetchall()}
    assert schema == {"day": "DATE", "hour": "INTEGER", "category": "VARCHAR",
                      "level": "VARCHAR", "area_id": "VARCHAR", "incidents": "BIGINT"}


def test_the_sql_tile_is_the_numpy_tile_on_edges() -> None:
    rng = np.random.default_rng(1)
    z = 16
    step = 360.0 / 2**z
    edges = -180.0 + step * rng.integers(2**15 + 2**13, 2**15 + 2**14, 500)  # exact edges
    lon = np.r_[edges, np.round(rng.uniform(70, 135, 2000), 6), 180.0, -180.0]
    lat = np.r_[np.round(rng.uniform(18, 53, len(lon) - 2), 6), 89.9, -89.9]
    for zoom in (*GRID_ZOOMS, z):
        x, y = cell_sql("lon", "lat", zoom)
        got = duckdb.sql(f"SELECT {x}, {y} FROM (SELECT unnest($lon) AS lon, "
                         f"unnest($lat) AS lat)", params={"lon": lon.tolist(),
                                                          "lat": lat.tolist()}).fetchall()
        cx, cy, ok = cell_xy(lon, lat, zoom)
        assert ok.all()
        assert got == list(zip(cx.tolist(), cy.tolist(), strict=True)), zoom


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_and_spark_give_the_same_rows(tmp_path: Path) -> None:
    from data.areas import AreaSet
    from pipeline.aggregates import cell_keys, incidents_by_area, incidents_by_cell
    from pipeline.spark import session

    df = _incidents()
    area, cell, _ = _duck(df, tmp_path / "duck")
    areas = AreaSet()
    for a, lv, _p in AREAS:
        areas.add(a, a, lv, None)
    for i, (_a, _lv, p) in enumerate(AREAS):
        areas.parent[i] = areas.idx_of(p) if p is not None and areas.idx_of(p) is not None \
            else -1
    lon, lat = df["lon"].to_numpy(), df["lat"].to_numpy()
    cells = {z: cell_keys(lon, lat, z).to_pylist() for z in GRID_ZOOMS}
    rows = [(r.reported_at.to_pydatetime(), r.category, r.area_id,
             *(cells[z][i] for z in GRID_ZOOMS)) for i, r in enumerate(df.itertuples())]
    spark = session("local[2]", 2)
    ddl = "reported_at TIMESTAMP_NTZ, category STRING, area_id STRING, " + ", ".join(
        f"_cell_{z} BIGINT" for z in GRID_ZOOMS)
    sdf = spark.createDataFrame(rows, ddl)
    s_area = {tuple(r) for r in incidents_by_area(spark, sdf, areas).collect()}
    s_cell = {tuple(r) for r in incidents_by_cell(sdf).collect()}
    assert s_area == area
    assert s_cell == cell
