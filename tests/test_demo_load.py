"""The dirty demo: every broken row the generator injected is reported by the loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from factory import sha256

from data.extract import open_extract
from demo import generate_demo


@pytest.mark.parametrize("coord_system", ["wgs84", "gcj02", "bd09"])
def test_load_report_matches_injected_rows(tmp_path: Path, coord_system: str) -> None:
    path = tmp_path / "dirty.duckdb"
    manifest = generate_demo(path, incidents=20_000, seed=3, dirty=True,
                             coord_system=coord_system)
    before = sha256(path)
    ex = open_extract(path)
    assert sha256(path) == before
    report = ex.report.to_json()
    assert manifest.dirty, "the dirty switch injected nothing"
    for table, reasons in manifest.dirty.items():
        t = report[table]
        found = {**t["reasons"], **t["adjusted"]}
        for reason, count in reasons.items():
            assert found.get(reason) == count, (table, reason, found)
        # nothing set aside that was not injected
        assert set(t["reasons"]) <= set(reasons), (table, t["reasons"])
        assert t["rows"] == manifest.counts[table]
    kept = ex.con.execute("SELECT count(*) FROM incidents").fetchall()[0][0]
    assert kept == report["incidents"]["rows"] - report["incidents"]["quarantined"]
    names = {r[0] for r in ex.con.execute("SELECT name FROM hazards").fetchall()}
    assert "<script>alert(1)</script>" in names
