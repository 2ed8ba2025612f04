"""Every kind of bad input a command centre may be handed, and what the user sees.

Each test writes a real extract (a DuckDB file or a Parquet directory), opens it
twice (the second time from the cache) and checks the load report, the figures
in the cleaned tables and, for some, the ``validate`` command's exit code and
stderr. None may raise anything but ``ExtractError``, and only when the extract
is truly unusable; no open may change a byte of the extract.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import factory as f
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from data import extract as extract_mod
from data.coords import from_wgs84
from data.extract import Extract, open_extract
from data.filters import FilterState
from data.report import build_report
from data.schema import DATA_TABLES
from data.sources import ExtractError

ROOT = Path(__file__).resolve().parents[1]
NASTY = (
    "O'Brien \"the\" `x` \\ back\\slash",
    "'; DROP TABLE incidents; --",
    "<script>alert(1)</script>",
    "🚓 警情 👮‍♀️ 🇨🇳",
    "Robert'); DELETE FROM areas WHERE ('1'='1",
    "%s %d {0} $1 ? :name",
)


# --------------------------------------------------------------------------- helpers

def _no_build(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("the second open rebuilt the cache instead of reading it")


def figures(ex: Extract) -> dict[str, Any]:
    """The report figures; building them runs the whole query API on the extract."""
    doc = build_report(ex, FilterState())
    return {k: doc[k] for k in ("region", "as_of", "incidents", "resources", "hazards",
                                "disputes", "load_report")}


def kept_rows(ex: Extract, table: str) -> int:
    where = " WHERE level IS NOT NULL" if table == "areas" else ""  # not pseudo areas
    return ex.con.execute(f"SELECT count(*) FROM {table}{where}").fetchall()[0][0]


def check_consistent(ex: Extract) -> None:
    """The load report adds up, and kept points are usable."""
    for name, t in ex.report.to_json().items():
        assert sum(t["reasons"].values()) == t["quarantined"], (name, t)
        assert t["status"] in ("ok", "missing", "set_aside"), (name, t)
        if name == "meta":
            continue
        kept = kept_rows(ex, name)
        if t["status"] == "ok":
            assert t["rows"] == t["quarantined"] + kept, (name, t, kept)
        else:
            assert kept == 0, (name, t)
            assert t["rows"] == t["quarantined"], (name, t)
    for table in ("incidents", "resources", "hazards", "disputes"):
        rows = ex.con.execute(f"SELECT lon, lat FROM {table}").fetchall()
        for lon, lat in rows:
            assert (lon is None) == (lat is None)
            if lon is not None:
                assert math.isfinite(lon) and math.isfinite(lat)
                assert -180 <= lon <= 180 and -90 <= lat <= 90


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], Extract]]:
    """Open an extract twice (the second time from the cache); bytes must not change."""
    opened: list[Extract] = []

    def _load(path: Path) -> Extract:
        before = f.sha256(path)
        first = open_extract(path)
        try:
            check_consistent(first)
            report, figs = first.report.to_json(), figures(first)
        finally:
            first.close()
        assert f.sha256(path) == before, "opening changed the extract"
        with monkeypatch.context() as m:
            m.setattr(extract_mod, "_build", _no_build)
            again = open_extract(path)
        opened.append(again)
        assert again.report.to_json() == report
        assert figures(again) == figs
        assert f.sha256(path) == before, "opening changed the extract"
        return again

    yield _load
    for ex in opened:
        ex.close()


def unusable(path: Path) -> str:
    """Both opens raise ExtractError with a one-line message; the bytes do not change."""
    before = f.sha256(path) if path.exists() else None
    cache = Path(os.environ["COCKPIT_CACHE_DIR"])
    cached = sorted(cache.rglob("*"))
    messages = []
    for _ in range(2):
        with pytest.raises(ExtractError) as info:
            open_extract(path)
        messages.append(str(info.value))
    assert sorted(cache.rglob("*")) == cached, "a failed open left files in the cache"
    msg = messages[0]
    assert msg.strip() and "\n" not in msg, msg
    assert messages[1] == msg
    if before is not None:
        assert f.sha256(path) == before, "opening changed the extract"
    return msg


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    assert env.get("COCKPIT_CACHE_DIR"), "the autouse fixture sets a private cache"
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=180)


def cli_unusable(path: Path) -> str:
    before = f.sha256(path) if path.exists() else None
    res = cli("validate", path)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), res.stderr
    if before is not None:
        assert f.sha256(path) == before
    return lines[0]


def cli_usable(path: Path) -> dict[str, Any]:
    before = f.sha256(path)
    res = cli("validate", path, "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["usable"] is True
    assert f.sha256(path) == before
    return doc


def table_of(ex: Extract, sql: str) -> list[tuple[Any, ...]]:
    return ex.con.execute(sql).fetchall()


def area_of(ex: Extract, table: str, id_col: str) -> dict[str, str | None]:
    """id → area_id of the row's assigned area (None when unlocated)."""
    rows = table_of(ex, f"SELECT t.{id_col}, a.area_id FROM {table} t "
                        "LEFT JOIN areas a ON a.area_idx = t.area_idx")
    return dict(rows)


def without_column(table: str, column: str, rows: list[tuple[Any, ...]]
                   ) -> tuple[str, list[tuple[Any, ...]]]:
    """The factory DDL of ``table`` and its rows with ``column`` left out."""
    cols = [c.strip() for c in f.DDL[table].split(",")]
    pos = [c.split()[0] for c in cols].index(column)
    ddl = ", ".join(c for i, c in enumerate(cols) if i != pos)
    return ddl, [tuple(v for i, v in enumerate(r) if i != pos) for r in rows]


@pytest.fixture(scope="module")
def real_extract(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a valid, complete extract (several MB: one block per table)."""
    path = tmp_path_factory.mktemp("real") / "real.duckdb"
    f.write_extract(path, f.full_tables(400))
    return path.read_bytes()


# --------------------------------------------------------------------------- not an extract

@pytest.mark.parametrize("content", [
    b"incident_id,lon,lat\nI1,115.0,27.0\n" * 20,
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
    np.random.default_rng(7).bytes(300_000),
], ids=["text", "png", "random"])
def test_not_a_duckdb_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "extract.duckdb"
    path.write_bytes(content)
    msg = unusable(path)
    assert "not a DuckDB extract" in msg
    assert "not a DuckDB extract" in cli_unusable(path)


def test_single_parquet_file_is_not_an_extract(tmp_path: Path) -> None:
    folder = f.write_parquet_dir(tmp_path / "pq", {"incidents": [f.incident(1, 115.05, 27.05)]})
    single = next((folder / "incidents").rglob("*.parquet"))
    assert "Parquet" in unusable(single)


def test_truncated_duckdb_file(tmp_path: Path, real_extract: bytes) -> None:
    path = tmp_path / "truncated.duckdb"
    path.write_bytes(real_extract[: len(real_extract) // 2])
    msg = unusable(path)
    assert "truncated" in msg, msg
    cli_unusable(path)


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
def test_corrupted_duckdb_file(tmp_path: Path, real_extract: bytes,
                               load: Callable[[Path], Extract], fraction: float) -> None:
    data = bytearray(real_extract)
    at = int(len(data) * fraction)
    data[at: at + 4096] = b"\xab" * 4096
    path = tmp_path / "corrupt.duckdb"
    path.write_bytes(bytes(data))
    before = f.sha256(path)
    try:
        first = open_extract(path)
    except ExtractError as exc:
        msg = unusable(path)
        assert msg == str(exc)
        # A damaged file is not "locked by another process": that sends people astray.
        assert "locked" not in msg, msg
        assert f.sha256(path) == before
        return
    first.close()
    assert f.sha256(path) == before
    ex = load(path)  # usable: a damaged table may be set aside, the rest must hold
    for name, t in ex.report.to_json().items():
        if t["status"] == "set_aside":
            assert t["message"] and "unreadable" in t["message"], (name, t)


def test_corrupted_header(tmp_path: Path, real_extract: bytes) -> None:
    data = bytearray(real_extract)
    data[100:164] = bytes(64)
    path = tmp_path / "header.duckdb"
    path.write_bytes(bytes(data))
    msg = unusable(path)
    assert "locked" not in msg, msg
    assert "locked" not in cli_unusable(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    path.touch()
    assert "empty" in unusable(path)
    assert "empty" in cli_unusable(path)


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "extract.duckdb"
    assert "not found" in unusable(path)
    assert "not found" in cli_unusable(path)
    assert not path.exists()


def test_empty_directory(tmp_path: Path) -> None:
    path = tmp_path / "empty_dir"
    path.mkdir()
    (path / "README.txt").write_text("nothing here", encoding="utf-8")
    assert "no extract tables" in unusable(path)
    cli_unusable(path)


def test_foreign_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "erp.duckdb"
    f.write_extract(path, {"customers": [(1, "张三")], "orders": [(1, 1, 9.5)]},
                    ddl={"customers": "id INTEGER, name VARCHAR",
                         "orders": "id INTEGER, customer INTEGER, amount DOUBLE"})
    msg = unusable(path)
    assert "none of the extract tables" in msg and "customers" in msg
    assert "none of the extract tables" in cli_unusable(path)
    res = cli("validate", path, "--json")
    assert res.returncode == 2
    assert json.loads(res.stdout) == {"usable": False, "error": msg}
    assert res.stderr.splitlines() == [msg]


# --------------------------------------------------------------------------- Parquet directories

def _dirty_tables() -> dict[str, list[tuple[Any, ...]]]:
    """The full extract plus broken rows that both formats must treat alike."""
    tables = f.full_tables(60)
    may = datetime(2025, 5, 20, 9, 0)
    tables["incidents"] += [
        f.incident(900, float("nan"), 27.05, may),
        f.incident(901, 27.15, 115.05, may),  # swapped
        f.incident(902, None, None, may, area_id="V10"),
        f.incident(903, None, None, may),
        f.incident(904, 115.05, 27.05, may, category="burglary"),
        f.incident(904, 115.15, 27.15, may),  # duplicate id, same partition
        (None, may, "fire", None, 115.05, 27.05, "无编号", None, "open", None),
    ]
    tables["hazards"].append(f.hazard(99, None, None))
    tables["rectifications"].append(f.rectification(99, "H9999"))
    return tables


def test_parquet_directory_matches_duckdb_file(tmp_path: Path,
                                                load: Callable[[Path], Extract]) -> None:
    tables = _dirty_tables()
    folder = f.write_parquet_dir(tmp_path / "extract", tables)
    assert (folder / "incidents" / "year=2025" / "month=05" / "part-0.parquet").is_file()
    assert (folder / "meta.parquet").is_file()
    single = f.write_extract(tmp_path / "extract.duckdb", tables)
    from_dir, from_file = load(folder), load(single)
    assert from_dir.kind == "parquet" and from_file.kind == "duckdb"
    a, b = figures(from_dir), figures(from_file)
    assert a == b
    assert a["incidents"]["total"] == 64
    assert a["load_report"]["incidents"]["reasons"] == {
        "bad_coordinates": 1, "duplicate_id": 1, "missing_id": 1}
    cols = "incident_id, reported_at, category, status, lon, lat, address, area_idx, mx, my"
    sql = f"SELECT {cols} FROM incidents ORDER BY incident_id"
    assert table_of(from_dir, sql) == table_of(from_file, sql)
    for table in DATA_TABLES:
        assert kept_rows(from_dir, table) == kept_rows(from_file, table), table
    assert cli_usable(folder)["kind"] == "parquet"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zero_bytes", "corrupt_pages"])
def test_parquet_directory_with_a_broken_file(tmp_path: Path, load: Callable[[Path], Extract],
                                              damage: str) -> None:
    folder = f.write_parquet_dir(tmp_path / "extract", f.full_tables(60))
    broken = folder / "incidents" / "year=2025" / "month=04" / "part-0.parquet"
    data = broken.read_bytes()
    if damage == "garbage":
        broken.write_bytes(b"this is not parquet\n" * 50)
    elif damage == "truncated":
        broken.write_bytes(data[: len(data) // 2])
    elif damage == "zero_bytes":
        broken.write_bytes(b"")
    else:  # the footer is intact, a data page is not: only a real read notices
        spoiled = bytearray(data)
        spoiled[len(data) // 4: len(data) // 4 + 200] = np.random.default_rng(3).bytes(200)
        broken.write_bytes(bytes(spoiled))
    ex = load(folder)
    rep = ex.report.to_json()
    assert rep["incidents"]["status"] == "ok"
    assert rep["incidents"]["rows"] == 30  # May only; April's file is skipped
    assert rep["incidents"]["adjusted"]["broken_file_skipped"] == 1
    assert any("incidents/year=2025/month=04/part-0.parquet" in n for n in ex.report.notes)
    months = table_of(ex, "SELECT DISTINCT month(reported_at) FROM incidents")
    assert months == [(5,)]
    for table in ("areas", "resources", "hazards", "rectifications", "disputes"):
        assert rep[table]["status"] == "ok" and rep[table]["quarantined"] == 0, table
    doc = cli_usable(folder)
    assert doc["tables"]["incidents"]["adjusted"]["broken_file_skipped"] == 1


def test_parquet_table_whose_only_file_is_broken(tmp_path: Path,
                                                 load: Callable[[Path], Extract]) -> None:
    folder = f.write_parquet_dir(tmp_path / "extract", f.full_tables(10))
    (folder / "hazards" / "part-0.parquet").write_bytes(b"PAR1 nonsense PAR1")
    ex = load(folder)
    rep = ex.report.to_json()
    assert rep["hazards"]["status"] == "set_aside"
    assert rep["incidents"]["status"] == "ok" and kept_rows(ex, "incidents") == 10
    assert kept_rows(ex, "hazards") == 0
    # Events of hazards nobody can read point at no known hazard.
    assert rep["rectifications"]["reasons"] == {"unknown_hazard": 4}


# --------------------------------------------------------------------------- tables and columns

def test_only_incidents_and_areas(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    tables = f.full_tables(12)
    path = f.write_extract(tmp_path / "x.duckdb",
                           {"areas": tables["areas"], "incidents": tables["incidents"]})
    ex = load(path)
    rep = ex.report.to_json()
    for name in ("meta", "resources", "hazards", "rectifications", "disputes", "dispute_steps"):
        assert rep[name]["status"] == "missing", name
        assert rep[name]["rows"] == 0
    assert rep["incidents"]["status"] == "ok" and rep["incidents"]["rows"] == 12
    figs = figures(ex)
    assert figs["incidents"]["total"] == 12
    assert figs["resources"]["total"] == 0 and figs["hazards"]["total"] == 0
    assert figs["disputes"]["total"] == 0
    assert ex.coord_system == "wgs84" and ex.region_name == "x"
    assert cli_usable(path)["tables"]["hazards"]["status"] == "missing"


@pytest.mark.parametrize(("table", "column"), [
    ("incidents", "status"), ("incidents", "reported_at"), ("areas", "geom_wkb"),
    ("resources", "lon"), ("hazards", "risk_level"), ("rectifications", "hazard_id"),
    ("disputes", "level"), ("dispute_steps", "step_at"), ("meta", "value"),
])
def test_table_missing_a_required_column(tmp_path: Path, load: Callable[[Path], Extract],
                                         table: str, column: str) -> None:
    tables = f.full_tables(12)
    ddl, rows = without_column(table, column, tables[table])
    tables[table] = rows
    path = f.write_extract(tmp_path / "x.duckdb", tables, ddl={table: ddl})
    ex = load(path)
    rep = ex.report.to_json()
    t = rep[table]
    assert t["status"] == "set_aside"
    assert column in t["message"]
    assert t["rows"] == len(rows) and t["quarantined"] == len(rows)
    assert t["reasons"] == {"missing_columns": len(rows)}
    if table != "meta":
        assert kept_rows(ex, table) == 0
    dependants = {"hazards": "rectifications", "disputes": "dispute_steps"}
    for other in DATA_TABLES:
        if other == table:
            continue
        assert rep[other]["status"] == "ok", other
        if other != dependants.get(table):
            assert rep[other]["quarantined"] == 0, (other, rep[other])
    if table != "incidents":
        assert figures(ex)["incidents"]["total"] == 12
    if table == "areas":  # incidents are still counted, though nowhere
        assert figures(ex)["incidents"]["unlocated"] == 12
    if table == "meta":
        assert ex.region_name == "x" and ex.coord_system == "wgs84"


def test_extra_columns_and_odd_column_names_are_ignored(tmp_path: Path,
                                                        load: Callable[[Path], Extract]) -> None:
    ddl = ('"INCIDENT_ID" VARCHAR, "Reported_At" TIMESTAMP, category VARCHAR, lon DOUBLE, '
           'lat DOUBLE, status VARCHAR, "odd ""name""; DROP TABLE x" VARCHAR, extra INTEGER')
    when = datetime(2025, 5, 2, 10, 0)
    path = f.write_extract(tmp_path / "x.duckdb", {
        "areas": f.standard_areas(),
        "incidents": [("I1", when, "fire", 115.05, 27.05, "closed", "?", 1),
                      ("I2", when, "fraud", 115.15, 27.15, "open", "'", 2)],
    }, ddl={"incidents": ddl})
    ex = load(path)
    assert ex.report.to_json()["incidents"]["quarantined"] == 0
    assert area_of(ex, "incidents", "incident_id") == {"I1": "V00", "I2": "V11"}


def test_wrong_column_types(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    ddl = ("incident_id VARCHAR, reported_at VARCHAR, category VARCHAR, subcategory VARCHAR, "
           "lon DOUBLE, lat VARCHAR, address VARCHAR, area_id VARCHAR, status VARCHAR, "
           "closed_at VARCHAR")
    lon = 115.05

    def row(i: int, when: str | None, lat: str | None, closed: str | None = None
            ) -> tuple[Any, ...]:
        return (f"I{i}", when, "criminal", None, lon, lat, None, None, "closed", closed)

    iso = "2025-05-01 08:00:00"
    rows = [
        row(1, iso, "27.05"),
        row(2, "2025-05-01T08:00:00", " 27.15 "),
        row(3, "2025/05/01 08:00:00", "27.05", "2025/05/02 09:30:00"),
        row(4, "2025年05月01日 08:00", "27.05", "not a time"),
        row(5, "20250501080000", "27.05"),
        row(6, "junk", "27.05"),
        row(7, "", "27.05"),
        row(8, None, "27.05"),
        row(9, "2025-13-45 99:00:00", "27.05"),
        row(10, iso, "abc"),
        row(11, iso, ""),
        row(12, iso, "27,05"),
        row(13, iso, "N27°03'"),
        row(14, iso, None),
        row(15, iso, "1e400"),
    ]
    path = f.write_extract(tmp_path / "x.duckdb", {"areas": f.standard_areas(),
                                                   "incidents": rows}, ddl={"incidents": ddl})
    ex = load(path)
    t = ex.report.to_json()["incidents"]
    assert t["reasons"] == {"bad_timestamp": 4, "bad_coordinates": 5}
    assert t["adjusted"] == {"bad_optional_value:closed_at": 1}
    kept = dict(table_of(ex, "SELECT incident_id, reported_at FROM incidents"))
    assert set(kept) == {"I1", "I2", "I3", "I4", "I5", "I14"}
    assert set(kept.values()) == {datetime(2025, 5, 1, 8, 0)}
    lat = dict(table_of(ex, "SELECT incident_id, lat FROM incidents"))
    assert lat["I1"] == pytest.approx(27.05) and lat["I2"] == pytest.approx(27.15)
    assert lat["I14"] is None  # NULL lat: kept, unlocated
    assert area_of(ex, "incidents", "incident_id") == {
        "I1": "V00", "I2": "V01", "I3": "V00", "I4": "V00", "I5": "V00", "I14": None}
    closed = dict(table_of(ex, "SELECT incident_id, closed_at FROM incidents"))
    assert closed["I3"] == datetime(2025, 5, 2, 9, 30) and closed["I4"] is None
    assert figures(ex)["incidents"]["unlocated"] == 1


def test_wrong_types_in_other_tables(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    tables = f.full_tables(4)
    ddl = {
        "areas": "area_id VARCHAR, name VARCHAR, level VARCHAR, parent_id VARCHAR, "
                 "geom_wkb BLOB, population VARCHAR",
        "resources": "resource_id VARCHAR, kind VARCHAR, name VARCHAR, lon VARCHAR, "
                     "lat VARCHAR, area_id VARCHAR, headcount VARCHAR, phone BIGINT, "
                     "available VARCHAR, updated_at DATE",
        "hazards": "hazard_id INTEGER, category VARCHAR, name VARCHAR, lon FLOAT, lat FLOAT, "
                   "area_id VARCHAR, risk_level VARCHAR, discovered_at DATE, "
                   "responsible_unit VARCHAR, deadline VARCHAR",
    }
    tables["areas"] = [(*r[:5], p) for r, p in
                       zip(tables["areas"], ["4000", "many", None, "1e3", "12", "-", "7"],
                           strict=True)]
    tables["resources"] = [
        ("R1", "officer", "甲", "115.05", "27.05", None, "2", 13800000000, "yes", None),
        ("R2", "officer", "乙", "115.15", "27.15", None, "two", None, "0", None),
        ("R3", "officer", "丙", "east", "27.15", None, None, None, "maybe", None),
        ("R4", "officer", "丁", "115.15", "27.05", None, None, None, "maybe", None),
    ]
    tables["hazards"] = [
        (1, "road", "桥", 115.05, 27.05, None, "high", "2025-04-01", None, "2025-06-01"),
        (2, "road", "坝", 115.15, 27.15, None, "low", "2025-04-02", None, "soon"),
    ]
    tables["rectifications"] = [f.rectification(1, "1", "assigned")]
    path = f.write_extract(tmp_path / "x.duckdb", tables, ddl=ddl)
    ex = load(path)
    rep = ex.report.to_json()
    assert rep["areas"]["quarantined"] == 0
    assert rep["areas"]["adjusted"]["bad_optional_value:population"] == 2  # many, -
    pops = dict(table_of(ex, "SELECT area_id, population FROM areas"))
    assert pops == {"C": 4000, "T1": None, "T2": None, "V00": 1000, "V01": 12, "V10": None,
                    "V11": 7}
    assert rep["resources"]["reasons"] == {"bad_coordinates": 1}
    assert rep["resources"]["adjusted"] == {"bad_optional_value:headcount": 1,
                                            "bad_optional_value:available": 1}
    res = dict(table_of(ex, "SELECT resource_id, (headcount, phone, available) FROM resources"))
    assert res["R1"] == (2, "13800000000", True)
    assert res["R2"] == (None, None, False)
    assert res["R4"] == (None, None, True)  # unreadable: the schema's default
    hz = dict(table_of(ex, "SELECT hazard_id, deadline FROM hazards"))
    assert set(hz) == {"1", "2"} and hz["2"] is None
    assert rep["hazards"]["adjusted"] == {"bad_optional_value:deadline": 1}
    assert rep["rectifications"]["quarantined"] == 0


# --------------------------------------------------------------------------- coordinates

def test_all_coordinates_null(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    incidents = [f.incident(i, None, None) for i in range(5)]
    incidents += [f.incident(10, None, None, area_id="V01"),
                  f.incident(11, None, None, area_id="T2"),
                  f.incident(12, None, None, area_id="X99")]  # an area nobody knows
    resources = [f.resource(1, None, None), f.resource(2, None, None)]
    disputes = [f.dispute(1), f.dispute(2, area_id="V10")]
    path = f.write_extract(tmp_path / "x.duckdb", {
        "meta": f.meta_rows(), "areas": f.standard_areas(), "incidents": incidents,
        "resources": resources, "disputes": disputes})
    ex = load(path)
    rep = ex.report.to_json()
    assert rep["incidents"]["quarantined"] == 0 and kept_rows(ex, "incidents") == 8
    assert rep["incidents"]["adjusted"] == {"unknown_area": 1}
    figs = figures(ex)
    assert figs["incidents"]["total"] == 8
    assert figs["incidents"]["unlocated"] == 5
    assert area_of(ex, "incidents", "incident_id")["I000010"] == "V01"
    assert area_of(ex, "incidents", "incident_id")["I000012"] == "X99"
    assert table_of(ex, "SELECT count(*) FROM incidents WHERE lon IS NOT NULL "
                        "OR mx IS NOT NULL") == [(0,)]
    # Resources must be placed on the map: without coordinates they are set aside.
    assert rep["resources"]["reasons"] == {"missing_coordinates": 2}
    assert rep["disputes"]["quarantined"] == 0
    assert area_of(ex, "disputes", "dispute_id") == {"D0001": None, "D0002": "V10"}


def test_nan_infinite_and_huge_coordinates(tmp_path: Path,
                                           load: Callable[[Path], Extract]) -> None:
    nan, inf = float("nan"), float("inf")
    bad = [(nan, 27.05), (115.05, nan), (nan, nan), (inf, 27.05), (115.05, -inf),
           (inf, inf), (-inf, nan)]
    out_of_range = [(1e308, 27.05), (-1e308, -1e308), (115.05, 1e300), (200.0, 95.0)]
    far = [(100.0, 40.0), (-74.0, 40.7), (0.0, 0.0)]
    good = [(115.05, 27.05), (115.15, 27.15)]
    pts = bad + out_of_range + far + good
    incidents = [f.incident(i, lon, lat) for i, (lon, lat) in enumerate(pts)]
    resources = [f.resource(i, lon, lat) for i, (lon, lat) in enumerate(pts)]
    disputes = [f.dispute(i, lon, lat) for i, (lon, lat) in enumerate(pts)]
    ddl = {"resources": f.DDL["resources"].replace("headcount INTEGER", "headcount DOUBLE"),
           "areas": f.DDL["areas"].replace("population BIGINT", "population DOUBLE")}
    resources = [(*r[:6], (nan, inf, -inf, 1e300, 3.0)[i % 5], *r[7:])
                 for i, r in enumerate(resources)]
    areas = [(*r[:5], (nan, inf, 1000.0)[i % 3]) for i, r in enumerate(f.standard_areas())]
    path = f.write_extract(tmp_path / "x.duckdb", {
        "meta": f.meta_rows(), "areas": areas, "incidents": incidents, "resources": resources,
        "disputes": disputes}, ddl=ddl)
    ex = load(path)
    rep = ex.report.to_json()
    expected = {"bad_coordinates": len(bad), "coordinates_out_of_range": len(out_of_range),
                "coordinates_outside_extent": len(far)}
    for table in ("incidents", "resources", "disputes"):
        assert rep[table]["reasons"] == expected, table
        assert kept_rows(ex, table) == len(good)
    assert rep["areas"]["quarantined"] == 0
    assert rep["areas"]["adjusted"]["bad_optional_value:population"] == 5
    heads = [h for (h,) in table_of(ex, "SELECT headcount FROM resources ORDER BY resource_id")]
    assert heads == [3, None]  # R0014, R0015 (NaN is no headcount)
    assert rep["resources"]["adjusted"] == {"bad_optional_value:headcount": 1}
    pops = table_of(ex, "SELECT population FROM areas WHERE population IS NOT NULL")
    assert all(math.isfinite(p) for (p,) in pops) and len(pops) == 2
    assert figures(ex)["incidents"]["total"] == 2


def test_swapped_coordinates_are_repaired(tmp_path: Path,
                                          load: Callable[[Path], Extract]) -> None:
    lon01, lat01 = f.village_point(0, 1)
    lon10, lat10 = f.village_point(1, 0, 0.3, 0.7)
    incidents = [f.incident(1, lat01, lon01), f.incident(2, lat10, lon10),
                 f.incident(3, lon10, lat10)]
    resources = [f.resource(1, lat10, lon10)]
    hazards = [f.hazard(1, lat01, lon01)]
    path = f.write_extract(tmp_path / "x.duckdb", {
        "meta": f.meta_rows(), "areas": f.standard_areas(), "incidents": incidents,
        "resources": resources, "hazards": hazards})
    ex = load(path)
    rep = ex.report.to_json()
    assert rep["incidents"]["adjusted"] == {"swapped_coordinates": 2}
    assert rep["incidents"]["quarantined"] == 0
    assert rep["resources"]["adjusted"] == {"swapped_coordinates": 1}
    assert rep["hazards"]["adjusted"] == {"swapped_coordinates": 1}
    assert area_of(ex, "incidents", "incident_id") == {
        "I000001": "V01", "I000002": "V10", "I000003": "V10"}
    assert area_of(ex, "resources", "resource_id") == {"R0001": "V10"}
    assert area_of(ex, "hazards", "hazard_id") == {"H0001": "V01"}
    pts = dict(table_of(ex, "SELECT incident_id, (lon, lat) FROM incidents"))
    assert pts["I000001"] == pytest.approx((lon01, lat01))


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_chinese_datums_land_in_the_right_villages(tmp_path: Path,
                                                   load: Callable[[Path], Extract],
                                                   system: str) -> None:
    rng = np.random.default_rng(11)
    n = 200
    lon = f.X0 + rng.uniform(0.003, 2 * f.STEP - 0.003, n)
    lat = f.Y0 + rng.uniform(0.003, 2 * f.STEP - 0.003, n)
    # Keep clear of the village lines: the datums agree to a centimetre, not to zero.
    near = (np.abs((lon - f.X0) % f.STEP - f.STEP / 2) > f.STEP / 2 - 0.0005) | \
        (np.abs((lat - f.Y0) % f.STEP - f.STEP / 2) > f.STEP / 2 - 0.0005)
    lon, lat = lon[~near], lat[~near]
    truth = [f"V{int((x - f.X0) // f.STEP)}{int((y - f.Y0) // f.STEP)}"
             for x, y in zip(lon, lat, strict=True)]
    slon, slat = from_wgs84(lon, lat, system)
    # The offset is hundreds of metres: without conversion some points change village.
    shifted = [f"V{int((x - f.X0) // f.STEP)}{int((y - f.Y0) // f.STEP)}"
               for x, y in zip(slon, slat, strict=True)]
    assert shifted != truth

    def convert(geom: shapely.Geometry) -> shapely.Geometry:
        dense = shapely.segmentize(geom, 0.002)
        return shapely.transform(
            dense, lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], system)))

    areas = [(*r[:4], shapely.to_wkb(convert(shapely.from_wkb(r[4]))), r[5])
             for r in f.standard_areas()]
    incidents = [f.incident(i, float(x), float(y)) for i, (x, y) in
                 enumerate(zip(slon, slat, strict=True))]
    rx, ry = from_wgs84(np.array([115.05]), np.array([27.15]), system)
    path = f.write_extract(tmp_path / "x.duckdb", {
        "meta": f.meta_rows(coord_system=system.upper()), "areas": areas,
        "incidents": incidents, "resources": [f.resource(1, float(rx[0]), float(ry[0]))]})
    ex = load(path)
    assert ex.coord_system == system
    rep = ex.report.to_json()
    assert rep["incidents"]["quarantined"] == 0 and rep["incidents"]["adjusted"] == {}
    got = area_of(ex, "incidents", "incident_id")
    assert [got[f"I{i:06d}"] for i in range(len(truth))] == truth
    pts = dict(table_of(ex, "SELECT incident_id, (lon, lat) FROM incidents"))
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        assert pts[f"I{i:06d}"] == pytest.approx((x, y), abs=1e-6)
    assert area_of(ex, "resources", "resource_id") == {"R0001": "V01"}
    county = ex.areas.geoms[ex.areas.idx_of("C")]
    assert county.bounds == pytest.approx((f.X0, f.Y0, f.X0 + 0.2, f.Y0 + 0.2), abs=1e-6)


def test_infinite_and_odd_times(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    path = f.write_extract(tmp_path / "x.duckdb", {
        "areas": f.standard_areas(), "incidents": [f.incident(1, 115.05, 27.05)],
        "hazards": [f.hazard(1, 115.05, 27.05)]})
    con = duckdb.connect(str(path))
    try:
        for ident, when, closed in (("I2", "infinity", "NULL"), ("I3", "-infinity", "NULL"),
                                    ("I4", "2025-05-01", "'infinity'")):
            con.execute(f"INSERT INTO incidents VALUES ('{ident}', '{when}'::TIMESTAMP, "
                        "'fire', NULL, 115.05, 27.05, NULL, NULL, 'closed', "
                        f"{closed}::TIMESTAMP)").fetchall()
        con.execute("INSERT INTO hazards VALUES ('H2', 'road', '桥', 115.05, 27.05, NULL, "
                    "'high', '2025-05-01', NULL, 'infinity'::DATE)").fetchall()
    finally:
        con.close()
    ex = load(path)  # no meta: "as of" comes from the newest record, which must be real
    rep = ex.report.to_json()
    assert rep["incidents"]["reasons"] == {"bad_timestamp": 2}
    assert rep["incidents"]["adjusted"] == {"bad_optional_value:closed_at": 1}
    assert rep["hazards"]["adjusted"] == {"bad_optional_value:deadline": 1}
    assert ex.default_as_of.isoformat() == "2025-06-13"
    assert figures(ex)["incidents"]["total"] == 2


def test_odd_extract_paths(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    folder = tmp_path / "O'Brien's \"数据\" 🚓 (1); DROP TABLE x"
    folder.mkdir()
    single = f.write_extract(folder / "吉安县 it's.duckdb", f.full_tables(6))
    parquet = f.write_parquet_dir(folder / "dir 'x'", f.full_tables(6))
    assert figures(load(single))["incidents"]["total"] == 6
    assert figures(load(parquet))["incidents"]["total"] == 6
    assert cli_usable(single)["tables"]["incidents"]["rows"] == 6


_CRASHING_WRITER = """
import os, signal, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET checkpoint_threshold = '1TB'").fetchall()
con.execute("INSERT INTO incidents SELECT * REPLACE ('W' || incident_id AS incident_id) "
            "FROM incidents").fetchall()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_leftover_wal_of_a_crashed_writer(tmp_path: Path,
                                          load: Callable[[Path], Extract]) -> None:
    path = f.write_extract(tmp_path / "x.duckdb", f.full_tables(10))
    subprocess.run([sys.executable, "-c", _CRASHING_WRITER, str(path)], timeout=120)
    wal = Path(f"{path}.wal")
    assert wal.is_file()
    before = f.sha256(wal)
    ex = load(path)
    assert figures(ex)["incidents"]["total"] == 20  # the WAL's rows are part of it
    assert f.sha256(wal) == before and wal.is_file()


# --------------------------------------------------------------------------- ids, geometry, codes

def _untimed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (row[0], None, *row[2:])


def test_duplicate_ids_keep_the_latest(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    when = datetime(2025, 5, 3, 12, 0)
    incidents = [
        f.incident(1, 115.05, 27.05, datetime(2025, 5, 9), category="fire"),
        f.incident(1, 115.15, 27.15, datetime(2025, 5, 1), category="traffic"),
        f.incident(1, 115.15, 27.05, when, category="fraud"),
        # The first row of id 2 is unusable: the usable one with that id is kept.
        _untimed(f.incident(2, 115.05, 27.05, category="fire")),
        f.incident(2, 115.05, 27.15, when, category="dispute"),
        f.incident(3, 115.05, 27.05, when),
    ]
    areas = [*f.standard_areas(), ("V00", "重复村", "village", "T1",
                                   box(116, 28, 116.1, 28.1).wkb, 5)]
    resources = [f.resource(1, 115.05, 27.05, kind="officer"),
                 f.resource(1, 115.15, 27.15, kind="mediator")]
    path = f.write_extract(tmp_path / "x.duckdb", {
        "meta": f.meta_rows(), "areas": areas, "incidents": incidents, "resources": resources})
    ex = load(path)
    rep = ex.report.to_json()
    assert rep["incidents"]["reasons"] == {"duplicate_id": 2, "bad_timestamp": 1}
    kept = dict(table_of(ex, "SELECT incident_id, category FROM incidents"))
    # later rows are corrections: the last usable row of an id wins
    assert kept == {"I000001": "fraud", "I000002": "dispute", "I000003": "criminal"}
    assert rep["incidents"]["findings"]["duplicates"] == {
        "rule": "latest", "by": "order", "ids": 1, "superseded": 2, "changed_category": 2}
    assert rep["areas"]["reasons"] == {"duplicate_id": 1}
    assert ex.areas.names[ex.areas.idx_of("V00")] == "村00"
    assert rep["resources"]["reasons"] == {"duplicate_id": 1}
    # same updated_at: the later row wins
    assert table_of(ex, "SELECT kind FROM resources") == [("mediator",)]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_bad_geometries(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    x, y = f.X0 + 0.2, f.Y0  # east of the grid, still inside the far extent
    bowtie = Polygon([(x, y), (x + 0.1, y + 0.1), (x + 0.1, y), (x, y + 0.1)])
    assert not bowtie.is_valid
    nan_poly = Polygon([(x, y), (x + 0.1, y), (float("nan"), y + 0.1)])
    areas = [*f.standard_areas(),
             ("BAD1", "坏1", "village", "T2", b"\x01\x03\x00\x00\x00garbage", 1),
             ("BAD2", "坏2", "village", "T2", b"", 1),
             ("BAD3", "坏3", "village", "T2", None, 1),
             ("LINE", "线", "village", "T2", LineString([(x, y), (x + 1, y + 1)]).wkb, 1),
             ("PT", "点", "village", "T2", Point(x, y).wkb, 1),
             ("EMPTY", "空", "village", "T2", shapely.to_wkb(Polygon()), 1),
             ("NANP", "NaN", "village", "T2", shapely.to_wkb(nan_poly), 1),
             ("FAR", "远", "village", "T2", box(500, 500, 501, 501).wkb, 1),
             ("BOW", "蝴蝶村", "village", "T2", bowtie.wkb, 1),
             ("HEX", "文本", "village", "T2", b"010300000001000000", 1)]
    incidents = [f.incident(1, x + 0.01, y + 0.05),  # in the bowtie's left wing
                 f.incident(2, x + 0.09, y + 0.05),  # right wing
                 f.incident(3, x + 0.05, y + 0.09),  # between the wings: no village
                 f.incident(4, 115.05, 27.05)]
    path = f.write_extract(tmp_path / "x.duckdb", {
        "meta": f.meta_rows(), "areas": areas, "incidents": incidents})
    ex = load(path)
    rep = ex.report.to_json()["areas"]
    bad = rep["reasons"]
    assert bad.get("invalid_geometry", 0) + bad.get("coordinates_out_of_range", 0) == 9
    assert bad.get("coordinates_out_of_range", 0) >= 1  # FAR
    assert rep["adjusted"] == {"repaired_geometry": 1}
    assert ex.areas.idx_of("BOW") is not None
    assert ex.areas.geoms[ex.areas.idx_of("BOW")].is_valid
    assert area_of(ex, "incidents", "incident_id") == {
        "I000001": "BOW", "I000002": "BOW", "I000003": None, "I000004": "V00"}
    assert figures(ex)["incidents"]["unlocated"] == 1


def test_unknown_codes_are_kept_as_other(tmp_path: Path,
                                         load: Callable[[Path], Extract]) -> None:
    when = datetime(2025, 5, 4)
    incidents = [f.incident(1, 115.05, 27.05, when, category="burglary"),
                 f.incident(2, 115.05, 27.05, when, category=" FIRE "),
                 f.incident(3, 115.05, 27.05, when, category=None, status="weird"),
                 f.incident(4, 115.05, 27.05, when, category="'; DROP TABLE incidents; --"),
                 f.incident(5, 115.05, 27.05, when, category="traffic", status="Closed")]
    areas = [*f.standard_areas(), ("H1", "小组", "hamlet", "V00", box(115, 27, 115.01, 27.01).wkb,
                                   1)]
    resources = [f.resource(1, 115.05, 27.05, kind="drone"), f.resource(2, 115.05, 27.05)]
    disputes = [f.dispute(1, status="lost"), f.dispute(2, level="province")]
    steps = [f.dispute_step("D0001", "moon", "teleported")]
    path = f.write_extract(tmp_path / "x.duckdb", {
        "meta": f.meta_rows(), "areas": areas, "incidents": incidents, "resources": resources,
        "disputes": disputes, "dispute_steps": steps})
    ex = load(path)
    rep = ex.report.to_json()
    assert rep["incidents"]["quarantined"] == 0
    assert rep["incidents"]["adjusted"] == {"unknown_code:category": 3,
                                            "unknown_code:status": 1}
    cats = dict(table_of(ex, "SELECT incident_id, category FROM incidents"))
    assert cats == {"I000001": "other", "I000002": "fire", "I000003": "other",
                    "I000004": "other", "I000005": "traffic"}
    assert dict(table_of(ex, "SELECT incident_id, status FROM incidents"))["I000003"] == "other"
    assert figures(ex)["incidents"]["by_category"]["other"] == 3
    assert rep["areas"]["reasons"] == {"unknown_level": 1}
    assert rep["resources"]["adjusted"] == {"unknown_code:kind": 1}
    assert figures(ex)["resources"]["by_kind"].get("other") == 1
    assert rep["disputes"]["adjusted"] == {"unknown_code:level": 1, "unknown_code:status": 1}
    assert rep["dispute_steps"]["adjusted"] == {"unknown_code:action": 1,
                                                "unknown_code:level": 1}
    assert rep["dispute_steps"]["quarantined"] == 0


def test_references_to_unknown_hazards_and_disputes(tmp_path: Path,
                                                    load: Callable[[Path], Extract]) -> None:
    tables = f.full_tables(4)
    tables["hazards"].append(f.hazard(50, None, None))  # set aside: no coordinates
    tables["rectifications"] += [f.rectification(10, "H9999"),
                                 f.rectification(11, "H0050"),  # a hazard set aside
                                 ("E0012", None, datetime(2025, 5, 1), "assigned", None, None)]
    tables["dispute_steps"] += [f.dispute_step("D9999"), f.dispute_step(None)]
    path = f.write_extract(tmp_path / "x.duckdb", tables)
    ex = load(path)
    rep = ex.report.to_json()
    assert rep["hazards"]["reasons"] == {"missing_coordinates": 1}
    assert rep["rectifications"]["reasons"] == {"unknown_hazard": 3}
    assert rep["dispute_steps"]["reasons"] == {"unknown_dispute": 2}
    assert kept_rows(ex, "rectifications") == 4 and kept_rows(ex, "dispute_steps") == 2
    assert figures(ex)["hazards"]["total"] == 6


def test_every_table_empty(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    path = f.write_extract(tmp_path / "x.duckdb", {name: [] for name in f.DDL})
    ex = load(path)
    rep = ex.report.to_json()
    for name, t in rep.items():
        assert t["status"] == "ok", name
        assert (t["rows"], t["quarantined"], t["reasons"]) == (0, 0, {}), name
    figs = figures(ex)
    assert figs["incidents"]["total"] == 0 and figs["incidents"]["unlocated"] == 0
    assert figs["incidents"]["by_area_top"] == []
    assert sum(figs["incidents"]["by_category"].values()) == 0
    assert figs["resources"]["total"] == 0 and figs["hazards"]["total"] == 0
    assert figs["hazards"]["rectification_rate"] is None
    assert figs["disputes"]["total"] == 0 and figs["disputes"]["success_rate"] is None
    assert len(ex.areas) == 0
    doc = cli_usable(path)
    assert doc["tables"]["incidents"]["rows"] == 0


# --------------------------------------------------------------------------- text

def test_hostile_text_survives_unchanged(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    when = datetime(2025, 5, 5, 10, 0)
    incidents = []
    for k, text in enumerate(NASTY):
        row = list(f.incident(k, 115.05, 27.05, when, address=text))
        row[3] = text  # subcategory
        incidents.append(tuple(row))
    weird_id = "I'\"; DROP TABLE incidents; --"
    incidents.append((weird_id, when, "fire", "赌博", 115.15, 27.15, NASTY[2], None, "open", None))
    areas = [*f.standard_areas(), (NASTY[1], NASTY[3], "village", "T1",
                                   box(115.3, 27.3, 115.35, 27.35).wkb, 1)]
    resources = [f.resource(k, 115.05, 27.05, name=text) for k, text in enumerate(NASTY)]
    hazards = [f.hazard(k, 115.15, 27.15, name=text) for k, text in enumerate(NASTY)]
    rects = [(f"E{k}", "H0000", when, "assigned", text, text) for k, text in enumerate(NASTY)]
    path = f.write_extract(tmp_path / "x.duckdb", {
        "meta": f.meta_rows(region_name=NASTY[3] + NASTY[1], source=NASTY[2]),
        "areas": areas, "incidents": [*incidents, f.incident(99, 115.31, 27.31)],
        "resources": resources, "hazards": hazards, "rectifications": rects})
    ex = load(path)
    rep = ex.report.to_json()
    for name in ("areas", "incidents", "resources", "hazards", "rectifications"):
        assert rep[name]["quarantined"] == 0, (name, rep[name])
    got = table_of(ex, "SELECT incident_id, subcategory, address FROM incidents "
                       "WHERE incident_id <> 'I000099' ORDER BY _row")
    assert got == [(f"I{k:06d}", t, t) for k, t in enumerate(NASTY)] + \
        [(weird_id, "赌博", NASTY[2])]
    assert [n for (n,) in table_of(ex, "SELECT name FROM resources ORDER BY _row")] == \
        list(NASTY)
    assert [n for (n,) in table_of(ex, "SELECT name FROM hazards ORDER BY _row")] == list(NASTY)
    assert table_of(ex, "SELECT actor, note FROM rectifications ORDER BY _row") == \
        [(t, t) for t in NASTY]
    assert ex.region_name == NASTY[3] + NASTY[1]
    assert ex.meta["source"] == NASTY[2]
    assert area_of(ex, "incidents", "incident_id")["I000099"] == NASTY[1]
    assert ex.areas.names[ex.areas.idx_of(NASTY[1])] == NASTY[3]
    assert figures(ex)["incidents"]["total"] == len(NASTY) + 2
    assert cli_usable(path)["region"] == NASTY[3] + NASTY[1]


# --------------------------------------------------------------------------- locks and changes

_WRITER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SELECT count(*) FROM incidents").fetchall()
print("ready", flush=True)
sys.stdin.read()
con.close()
"""


def test_file_locked_by_a_writer(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    path = f.write_extract(tmp_path / "x.duckdb", f.full_tables(10))
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        msg = unusable(path)
        assert "locked" in msg, msg
        assert "locked" in cli_unusable(path)
    finally:
        assert writer.stdin is not None
        writer.stdin.close()
        writer.wait(timeout=60)
    assert writer.returncode == 0
    ex = load(path)
    assert figures(ex)["incidents"]["total"] == 10


def test_replaced_extract_is_read_again(tmp_path: Path, load: Callable[[Path], Extract]) -> None:
    path = f.write_extract(tmp_path / "x.duckdb", f.full_tables(10))
    first = load(path)
    assert figures(first)["incidents"]["total"] == 10
    first.close()
    # Rewritten in place.
    f.write_extract(path, f.full_tables(14))
    assert figures(load(path))["incidents"]["total"] == 14
    # Swapped in atomically from a copy whose times were preserved (cp -p, rsync -a).
    stat = path.stat()
    other = f.write_extract(tmp_path / "new.duckdb", f.full_tables(12))
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(other, path)
    assert figures(load(path))["incidents"]["total"] == 12
    # Copied over in place (same inode), same size, modification time kept.
    stat = path.stat()
    other = f.write_extract(tmp_path / "again.duckdb", f.full_tables(11))
    assert other.stat().st_size == stat.st_size
    shutil.copyfile(other, path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert figures(load(path))["incidents"]["total"] == 11


def test_replaced_parquet_directory_is_read_again(tmp_path: Path,
                                                  load: Callable[[Path], Extract]) -> None:
    folder = f.write_parquet_dir(tmp_path / "extract", f.full_tables(20))
    target = folder / "incidents" / "year=2025" / "month=05" / "part-0.parquet"
    plain = {"compression": "NONE", "use_dictionary": False, "write_statistics": False,
             "store_schema": False}
    may = pq.ParquetFile(target).read()
    pq.write_table(may, target, **plain)  # fixed-width values: same size after a change
    figs = figures(load(folder))["incidents"]
    assert figs["total"] == 20
    assert {a["area_id"]: a["count"] for a in figs["by_area_top"]} == {
        "V00": 5, "V01": 5, "V10": 5, "V11": 5}
    # Deliver the May file again with every incident moved to V11: same name, same
    # size, same modification time (a copy that keeps times, as cp -p does).
    stat = target.stat()
    lon, lat = f.village_point(1, 1)
    moved = pa.Table.from_arrays(
        [pa.array([{"lon": lon, "lat": lat}[c]] * may.num_rows, pa.float64())
         if c in ("lon", "lat") else may[c] for c in may.column_names], schema=may.schema)
    fresh = tmp_path / "fresh.parquet"
    pq.write_table(moved, fresh, **plain)
    assert fresh.stat().st_size == stat.st_size
    shutil.copyfile(fresh, target)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    figs = figures(load(folder))["incidents"]
    assert figs["total"] == 20
    # April's incidents lie in V00 and V01 (even k); May's are all in V11 now.
    assert {a["area_id"]: a["count"] for a in figs["by_area_top"]} == {
        "V00": 5, "V01": 5, "V11": 10}
