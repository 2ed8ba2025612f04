"""Repeated ids: the latest version wins (or the first, on request), against pandas."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from factory import (
    EXTRACTED_AT,
    incident,
    meta_rows,
    resource,
    standard_areas,
    village_point,
    write_extract,
)

from data.extract import open_extract
from layers.load_notes import finding_lines

CATS = ("criminal", "public_order", "traffic", "fraud")


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))


def _incidents() -> list[tuple]:
    rows = []
    for k in range(60):
        i = k % 25  # ids repeat: later rows are corrections
        row = list(incident(i, *village_point(k % 2, (k // 2) % 2), category=CATS[k % 4]))
        row[8] = ("open", "closed")[k % 2]
        rows.append(tuple(row))
    return rows


@pytest.mark.parametrize("rule", ["latest", "first"])
def test_repeated_incident_ids_against_pandas(tmp_path: Path, rule: str) -> None:
    meta = meta_rows() if rule == "latest" else meta_rows(duplicates="first")
    path = write_extract(tmp_path / f"{rule}.duckdb", {
        "meta": meta, "areas": standard_areas(), "incidents": _incidents()})
    with duckdb.connect(str(path), read_only=True) as con:
        df = con.execute("SELECT rowid AS r, * FROM incidents").df()
    keep = "last" if rule == "latest" else "first"
    want = df.sort_values("r").drop_duplicates("incident_id", keep=keep)
    ex = open_extract(path)
    got = dict(ex.con.execute("SELECT incident_id, category FROM incidents").fetchall())
    assert got == dict(zip(want["incident_id"], want["category"], strict=True))
    kept_cat = dict(zip(want["incident_id"], want["category"], strict=True))
    dropped = df.drop(want.index)
    rep = ex.report.to_json()["incidents"]
    assert rep["reasons"] == {"duplicate_id": len(dropped)}
    assert rep["findings"]["duplicates"] == {
        "rule": rule, "by": "order", "ids": int(df["incident_id"].duplicated().groupby(
            df["incident_id"]).any().sum()),
        "superseded": len(dropped),
        "changed_category": int((dropped["category"] != dropped["incident_id"].map(kept_cat)
                                 ).sum())}
    assert any("superseded" in s for s in finding_lines(ex.report, "en"))
    assert any("被取代" in s for s in finding_lines(ex.report, "zh"))
    ex.close()


def test_update_timestamp_decides_before_order(tmp_path: Path) -> None:
    old = EXTRACTED_AT - timedelta(days=3)
    a = list(resource(1, *village_point(0, 0), kind="officer"))
    b = list(resource(1, *village_point(0, 0), kind="auxiliary"))
    a[9], b[9] = EXTRACTED_AT, old  # the earlier row is the newer version
    path = write_extract(tmp_path / "res.duckdb", {
        "meta": meta_rows(), "areas": standard_areas(), "resources": [tuple(a), tuple(b)]})
    with duckdb.connect(str(path), read_only=True) as con:
        df = con.execute("SELECT rowid AS r, * FROM resources").df()
    want = df.sort_values(["updated_at", "r"]).drop_duplicates("resource_id", keep="last")
    ex = open_extract(path)
    assert ex.con.execute("SELECT kind FROM resources").fetchall() == \
        [(want["kind"].iloc[0],)] == [("officer",)]
    assert ex.report.to_json()["resources"]["findings"]["duplicates"]["by"] == "updated_at"
    ex.close()


@pytest.mark.parametrize("rule", [None, "first"])
def test_import_then_load_agree_with_pandas(tmp_path: Path, rule: str | None) -> None:
    """`cockpit import` of two monthly exports: a correction in the later file wins."""
    import pandas as pd

    from data.importer.run import parse_inputs, run_import

    a = pd.DataFrame({"incident_id": ["A1", "A2", "A3"],
                      "reported_at": ["2025-05-01 10:00", "2025-05-02 11:00",
                                      "2025-05-03 12:00"],
                      "category": ["criminal", "traffic", "fraud"],
                      "lon": [115.05, 115.06, 115.07], "lat": [27.05, 27.06, 27.07],
                      "status": ["open", "open", "open"]})
    b = a.iloc[[0, 2]].assign(category=["public_order", "fraud"], status="closed")
    a.to_csv(tmp_path / "m1.csv", index=False)
    b.to_csv(tmp_path / "m2.csv", index=False)
    out = tmp_path / "imp.duckdb"
    run_import(parse_inputs([f"incidents={tmp_path / 'm1.csv'}",
                             f"incidents={tmp_path / 'm2.csv'}"]), out, region="测试县",
               duplicates=rule)
    both = pd.concat([a, b], ignore_index=True)
    want = both.drop_duplicates("incident_id", keep="first" if rule else "last")
    ex = open_extract(out)
    got = dict(ex.con.execute("SELECT incident_id, category FROM incidents").fetchall())
    assert got == dict(zip(want["incident_id"], want["category"], strict=True))
    dup = ex.report.to_json()["incidents"]["findings"]["duplicates"]
    assert (dup["rule"], dup["superseded"], dup["changed_category"]) == \
        (rule or "latest", 2, 1)
    ex.close()
