"""The synthetic province (demo.province, ``cockpit demo --counties N``): a schema v2
Parquet folder the cockpit opens, figures checked against pandas and shapely on the
written files, aggregates against an independent count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from data.aggregates import GRID_ZOOMS

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("province")
    out = root / "prov"
    env = {**os.environ, "COCKPIT_CACHE_DIR": str(root / "cache")}
    made = subprocess.run([sys.executable, "main.py", "demo", "--out", str(out), "--counties",
                           "2", "--incidents", "6001", "--seed", "7"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    valid = subprocess.run([sys.executable, "main.py", "validate", str(out)], cwd=REPO,
                           env=env, capture_output=True, text=True)
    rep = subprocess.run([sys.executable, "main.py", "report", str(out), "--json"], cwd=REPO,
                         env=env, capture_output=True, text=True)
    assert rep.returncode == 0, rep.stderr
    inc = pq.read_table(out / "incidents", partitioning="hive").to_pandas()
    areas = pq.read_table(out / "areas").to_pandas()
    return {"out": out, "valid": valid, "report": json.loads(rep.stdout), "inc": inc,
            "areas": areas}


def test_the_v2_folder_is_written_and_opens(province: dict[str, Any]) -> None:
    out: Path = province["out"]
    assert province["valid"].returncode == 0, province["valid"].stderr
    meta = dict(duckdb.sql(f"SELECT key, value FROM '{out}/meta.parquet'").fetchall())
    assert meta["schema_version"] == "2"
    assert meta["aggregates"] == "incidents_by_area,incidents_by_cell"
    assert meta["grid_zooms"] == ",".join(map(str, GRID_ZOOMS))
    parts = sorted(p.relative_to(out / "incidents").parts[:2]
                   for p in (out / "incidents").rglob("*.parquet"))
    assert parts and all(y.startswith("year=") and m.startswith("month=") for y, m in parts)
    inc = province["inc"]
    # every file holds only its own month
    when = pd.to_datetime(inc["reported_at"])
    assert (when.dt.year.astype(str) == inc["year"].astype(str)).all()
    assert (when.dt.month == inc["month"].astype(int)).all()
    lr = province["report"]["load_report"]
    assert all(t["quarantined"] == 0 for t in lr.values()), lr


def test_counties_side_by_side_with_their_own_ids(province: dict[str, Any]) -> None:
    areas, inc = province["areas"], province["inc"]
    counties = areas[areas["level"] == "county"]
    assert len(counties) == 2 and counties["parent_id"].isna().all()
    assert counties["name"].nunique() == 2
    g = shapely.from_wkb(counties["geom_wkb"].to_numpy())
    assert shapely.area(shapely.intersection(g[0], g[1])) == 0
    assert areas["area_id"].is_unique and inc["incident_id"].is_unique
    # every town and village names an area of its own county as parent
    parent = dict(zip(areas["area_id"], areas["parent_id"], strict=True))
    for a in areas.loc[areas["level"] != "county", "area_id"]:
        assert parent[a] in parent and parent[a][:3] == a[:3]
    for t in ("resources", "hazards", "disputes"):
        ids = pq.read_table(province["out"] / t).column(0).to_pylist()
        assert len(set(ids)) == len(ids), t


def test_report_figures_equal_pandas_and_shapely(province: dict[str, Any]) -> None:
    inc, areas, rep = province["inc"], province["areas"], province["report"]
    assert rep["incidents"]["total"] == len(inc) == 6001
    assert rep["incidents"]["by_category"] == {
        k: int(v) for k, v in inc["category"].value_counts().items()
        if k in rep["incidents"]["by_category"]}
    assert rep["incidents"]["unlocated"] == int(inc["area_id"].isna().sum())  # no area
    assert inc.loc[inc["area_id"].isna(), "lon"].isna().all()  # only rows without a point
    # area_id of a located incident is the village polygon that holds its point
    vil = areas[areas["level"] == "village"]
    tree = shapely.STRtree(shapely.from_wkb(vil["geom_wkb"].to_numpy()))
    located = inc[inc["lon"].notna()]
    src, hit = tree.query(shapely.points(located["lon"], located["lat"]),
                          predicate="intersects")
    assert np.array_equal(np.sort(src), np.arange(len(located)))  # exactly one village each
    assert (vil["area_id"].to_numpy()[hit[np.argsort(src)]] == located["area_id"]).all()
    counts = inc["area_id"].value_counts()
    for e in rep["incidents"]["by_area_top"]:
        assert e["count"] == counts[e["area_id"]]


def test_aggregates_equal_an_independent_count(province: dict[str, Any]) -> None:
    inc, areas, out = province["inc"], province["areas"], province["out"]
    parent = dict(zip(areas["area_id"], areas["parent_id"], strict=True))
    level = dict(zip(areas["area_id"], areas["level"], strict=True))
    when = pd.to_datetime(inc["reported_at"])
    want: Counter = Counter()
    for d, h, c, a in zip(when.dt.date, when.dt.hour, inc["category"], inc["area_id"],
                          strict=True):
        want[(d, h, c, "all", None)] += 1
        while isinstance(a, str):
            want[(d, h, c, level[a], a)] += 1
            a = parent[a]
    got = duckdb.sql(f"SELECT day, hour, category, level, area_id, incidents FROM "
                     f"'{out}/incidents_by_area/*.parquet'").fetchall()
    assert len(got) == len(want)
    assert {r[:5]: r[5] for r in got} == dict(want)
    z = GRID_ZOOMS[-1]
    loc = inc[inc["lon"].notna()]
    x = np.floor((loc["lon"] + 180.0) / 360.0 * 2**z).astype(int)
    y = np.floor((1 - np.arcsinh(np.tan(np.radians(loc["lat"]))) / np.pi) / 2 * 2**z
                 ).astype(int)
    cells = Counter(zip(pd.to_datetime(loc["reported_at"]).dt.hour, x, y, strict=True))
    got_cells = duckdb.sql(f"SELECT hour, cell_x, cell_y, sum(incidents) FROM "
                           f"'{out}/incidents_by_cell/*.parquet' WHERE zoom = {z} "
                           "GROUP BY ALL").fetchall()
    assert {r[:3]: r[3] for r in got_cells} == dict(cells)
    for zz in GRID_ZOOMS:
        n = duckdb.sql(f"SELECT sum(incidents) FROM '{out}/incidents_by_cell/*.parquet' "
                       f"WHERE zoom = {zz}").fetchall()[0][0]
        assert n == len(loc)


def test_the_cli_says_what_counties_cannot_do(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "main.py", "demo", "--out", str(tmp_path / "p"),
                        "--counties", "2", "--dirty"], cwd=REPO, capture_output=True,
                       text=True)
    assert r.returncode != 0 and "--dirty" in r.stderr
    assert not (tmp_path / "p").exists()
