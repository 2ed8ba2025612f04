"""pipeline.build (Apache Spark) against cockpit import of the same station files: the
same report --json figures, the same rows set aside for the same reasons (the Spark SQL
rules against DuckDB's), aggregates that add up to an independent count, and one line
with exit 2 without Java. One build, one SparkSession, local[2]."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]
REPO = Path(__file__).resolve().parent.parent
TABLES = ("areas", "incidents", "hazards", "rectifications")


def _dirty(folder: Path, first: Path) -> Path:
    """A third incident file (UTF-8) with a repeated id, a blank id, a bad time, swapped
    coordinates and a point far away; and a rectification for no known hazard."""
    lines = first.read_bytes().decode("gb18030").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("警情编号"))
    rows = list(csv.reader(lines[header + 1: header + 4]))
    out = folder / "警情补录.csv"
    a, b, c = rows
    swapped = [f"X{a[0]}", *a[1:4], a[5], a[4], *a[6:]]
    far = [f"Y{a[0]}", *a[1:4], "100.0", "40.0", *a[6:]]
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(lines[header].split(","))
        w.writerows([a, ["", *b[1:]], [f"Z{c[0]}", "不详", *c[2:]], swapped, far, b])
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from demo import generate_demo
    from demo.station_files import write_station_files

    root = tmp_path_factory.mktemp("pipeline")
    generate_demo(root / "demo.duckdb", incidents=800, seed=3)
    files = write_station_files(root / "demo.duckdb", root / "station")
    files["incidents"].append(_dirty(root / "station", files["incidents"][0]))
    rect = files["rectifications"][0]
    with open(rect, "a", encoding=_enc(rect), newline="") as fh:
        fh.write("ZG9999999,YH999999,2025-01-01 10:00:00,交办,某人,无此隐患\r\n")
    args = [f"{t}={p}" for t in TABLES for p in files[t]]
    env = {**os.environ, "COCKPIT_CACHE_DIR": str(root / "cache")}
    imp = root / "imported.duckdb"
    subprocess.run([sys.executable, "main.py", "import", "--out", str(imp), *args],
                   cwd=REPO, env=env, check=True, capture_output=True)
    out = root / "spark_out"
    from data.importer.run import parse_inputs
    from pipeline.build import build

    result = build(parse_inputs(args), out, master="local[2]", shuffle_partitions=2)

    def report(path: Path) -> dict[str, Any]:
        r = subprocess.run([sys.executable, "main.py", "report", str(path), "--json"],
                           cwd=REPO, env=env, check=True, capture_output=True, text=True)
        return json.loads(r.stdout)

    return {"imp": imp, "out": out, "env": env, "result": result,
            "r_imp": report(imp), "r_spark": report(out)}


def _enc(path: Path) -> str:
    try:
        path.read_bytes().decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def test_without_java_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "nowhere"), "PATH": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "pipeline.build", "--out", str(tmp_path / "x"),
                        "incidents=x.csv"], cwd=REPO, env=env, capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Java" in r.stderr
    assert not (tmp_path / "x").exists()


def test_the_parquet_form_v2_is_written(built: dict[str, Any]) -> None:
    out: Path = built["out"]
    months = sorted(p.relative_to(out / "incidents").as_posix()
                    for p in (out / "incidents").glob("year=*/month=*"))
    assert months and all(len(m) == len("year=2025/month=05") for m in months)
    for name in ("meta.parquet", "load_report.json", "areas", "hazards", "rectifications",
                 "incidents_by_area", "incidents_by_cell", "set_aside/incidents"):
        assert (out / name).exists(), name
    meta = dict(duckdb.sql(f"SELECT key, value FROM '{out}/meta.parquet'").fetchall())
    assert meta["schema_version"] == "2"
    v = subprocess.run([sys.executable, "main.py", "validate", str(out)], cwd=REPO,
                       env=built["env"], capture_output=True, text=True)
    assert v.returncode == 0, v.stderr


def test_same_figures_as_cockpit_import(built: dict[str, Any]) -> None:
    a, b = dict(built["r_imp"]), dict(built["r_spark"])
    la, lb = a.pop("load_report"), b.pop("load_report")
    assert a.pop("notes", None) == b.pop("notes", None)
    assert a == b
    assert a["incidents"]["total"] > 0
    job = json.loads((built["out"] / "load_report.json").read_text())["tables"]
    for t in TABLES:
        for key in ("rows", "quarantined", "reasons", "adjusted"):
            assert job[t][key] == la[t][key], (t, key)
    assert la["incidents"]["reasons"].get("duplicate_id", 0) >= 2  # the dirty file's
    assert la["rectifications"]["reasons"].get("unknown_hazard") == 1
    assert lb["incidents"]["quarantined"] == 0  # the build's output is clean


def test_same_rows_set_aside_as_duckdb(built: dict[str, Any]) -> None:
    from data.extract import open_extract

    ex = open_extract(built["imp"])
    try:
        duck = Counter(ex.con.execute("SELECT tbl, record_id, reason FROM _quarantine"
                                      ).fetchall())
    finally:
        ex.close()
    spark: Counter = Counter()
    for t in TABLES[1:]:
        folder = built["out"] / "set_aside" / t
        ident = {"incidents": "incident_id", "hazards": "hazard_id",
                 "rectifications": "event_id"}[t]
        for rid, why in duckdb.sql(f"SELECT {ident}, reason FROM '{folder}/*.parquet'"
                                   ).fetchall():
            spark[(t, rid, why)] += 1
    assert spark == duck


def test_aggregates_add_up_to_an_independent_count(built: dict[str, Any]) -> None:
    out = built["out"]
    inc = duckdb.sql(f"SELECT reported_at, category, lon, lat, area_id FROM "
                     f"read_parquet('{out}/incidents/**/*.parquet')").fetchall()
    by_area = f"read_parquet('{out}/incidents_by_area/*.parquet')"
    total = duckdb.sql(f"SELECT sum(incidents) FROM {by_area} WHERE level = 'all'"
                       ).fetchall()[0][0]
    assert total == len(inc) == built["r_spark"]["incidents"]["total"]
    per_day_cat = Counter((r[0].date(), r[0].hour, r[1]) for r in inc)
    got = {(d, h, c): n for d, h, c, n in duckdb.sql(
        f"SELECT day, hour, category, incidents FROM {by_area} WHERE level = 'all'"
    ).fetchall()}
    assert got == dict(per_day_cat)
    top = {e["area_id"]: e["count"] for e in built["r_spark"]["incidents"]["by_area_top"]}
    levels = dict(duckdb.sql(f"SELECT area_id, sum(incidents) FROM {by_area} WHERE level "
                             "NOT IN ('all') GROUP BY 1").fetchall())
    for area_id, n in top.items():
        assert levels[area_id] >= n
    z = 13
    cells: Counter = Counter()
    for _t, _c, lon, lat, _a in inc:
        if lon is None:
            continue
        x = int((lon + 180.0) / 360.0 * 2**z)
        y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * 2**z)
        cells[(x, y)] += 1
    got_cells = dict(duckdb.sql(
        f"SELECT (cell_x, cell_y), sum(incidents) FROM read_parquet('{out}/incidents_by_cell/"
        f"*.parquet') WHERE zoom = {z} GROUP BY 1").fetchall())
    assert {(k["cell_x"] if isinstance(k, dict) else k[0],
             k["cell_y"] if isinstance(k, dict) else k[1]): v
            for k, v in got_cells.items()} == dict(cells)
