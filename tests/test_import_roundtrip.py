"""A demo extract written out as a station would hand it over, imported with no mapping
file: the figures equal the original's, and an independent pandas computation on the
imported rows (tests/oracle.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest
from oracle import expected_report
from test_report_oracle import assert_same

from data.extract import open_extract
from data.filters import FilterState
from data.importer.mapping import load_mapping
from data.importer.run import parse_inputs, run_import
from data.report import build_report

pytestmark = pytest.mark.slow

TABLES = ("areas", "incidents", "resources", "hazards", "rectifications", "disputes",
          "dispute_steps")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=4_000, seed=7)
    return path


@pytest.fixture(scope="module")
def station(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    from demo.station_files import write_station_files

    return write_station_files(demo, tmp_path_factory.mktemp("station"))


def _hashes(files: dict[str, list[Path]]) -> dict[Path, str]:
    out = {}
    for paths in files.values():
        for p in paths:
            for q in p.parent.glob(p.stem + ".*"):
                out[q] = hashlib.sha256(q.read_bytes()).hexdigest()
    return out


def _args(files: dict[str, list[Path]]) -> list[str]:
    return [f"{t}={p}" for t in TABLES for p in files[t]]


@pytest.fixture(scope="module")
def imported(station: dict[str, list[Path]], tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, Any]:
    before = _hashes(station)
    out = tmp_path_factory.mktemp("out") / "station.duckdb"
    report = run_import(parse_inputs(_args(station)), out, save_mapping=f"{out}.mapping.toml")
    return {"path": out, "report": report, "before": before}


def test_the_station_files_have_the_real_shapes(station: dict[str, list[Path]]) -> None:
    inc1, inc2 = station["incidents"]
    assert inc1.read_bytes()[:60].decode("gb18030").startswith("示范县公安局")  # a title row
    assert inc2.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    assert not station["areas"][0].with_suffix(".cpg").exists()
    assert "4547" in station["areas"][0].with_suffix(".prj").read_text() or \
        "114" in station["areas"][0].with_suffix(".prj").read_text()


def test_every_file_read_with_a_proposed_mapping(imported: dict[str, Any]) -> None:
    report = imported["report"]
    assert report.written
    for f in report.files:
        assert f.mapping == "proposed"
        for target, c in f.stats.columns.items():
            assert not c.failed, (f.file, target, c.failed, c.examples)
            assert not c.to_fallback, (f.file, target, c.to_fallback)


def assert_close(got: Any, want: Any, where: str) -> None:
    """Equal, floats within 1e-9 relative (nested dicts and lists)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        for k in want:
            assert_close(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9), where
    else:
        assert got == want, where


def test_figures_equal_the_original(demo: Path, imported: dict[str, Any]) -> None:
    got = build_report(open_extract(imported["path"]), FilterState(), analysis=False)
    want = build_report(open_extract(demo), FilterState(), analysis=False)
    assert got["region"] == want["region"] and got["as_of"] == want["as_of"]
    for key in ("incidents", "resources", "hazards", "disputes"):
        assert_close(got[key], want[key], key)
    for table in TABLES:
        g, w = got["load_report"][table], want["load_report"][table]
        assert (g["rows"], g["quarantined"], g["reasons"]) == \
            (w["rows"], w["quarantined"], w["reasons"]), table


def test_figures_equal_an_independent_computation(imported: dict[str, Any]) -> None:
    path = imported["path"]
    got = build_report(open_extract(path), FilterState(), analysis=False)
    assert_same(got, expected_report(path))


def test_rows_keep_their_source(imported: dict[str, Any], station: dict[str, list[Path]]) -> None:
    con = duckdb.connect(str(imported["path"]), read_only=True)
    try:
        rows = con.execute("SELECT _source_file, min(_source_row), max(_source_row), count(*) "
                           "FROM incidents GROUP BY 1 ORDER BY 1").fetchall()
        order = [r[0] for r in con.execute("SELECT _source_file FROM incidents").fetchall()]
    finally:
        con.close()
    names = [p.name for p in station["incidents"]]
    assert [r[0] for r in rows] == sorted(names)
    assert all(r[1] == 1 and r[2] == r[3] for r in rows)
    first = order.index(names[1])
    assert set(order[:first]) == {names[0]} and set(order[first:]) == {names[1]}


def test_sources_are_not_modified(imported: dict[str, Any], station: dict[str, list[Path]]
                                  ) -> None:
    assert _hashes(station) == imported["before"]


def test_the_saved_mapping_gives_the_same_extract(imported: dict[str, Any],
                                                  station: dict[str, list[Path]],
                                                  tmp_path: Path) -> None:
    mapping = load_mapping(f"{imported['path']}.mapping.toml")
    out = tmp_path / "again.duckdb"
    report = run_import(parse_inputs(_args(station)), out, mapping)
    assert all(f.mapping.startswith("mapping file entry") for f in report.files)
    a = duckdb.connect(str(imported["path"]), read_only=True)
    b = duckdb.connect(str(out), read_only=True)
    try:
        for t in TABLES:
            assert a.execute(f"SELECT * FROM {t}").fetchall() == \
                b.execute(f"SELECT * FROM {t}").fetchall(), t
    finally:
        a.close()
        b.close()
