"""The command-line contract of design.md, exercised as a user would (subprocess)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from factory import EXTRACTED_AT, incident, meta_rows, standard_areas, write_extract

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COCKPIT_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inc = [incident(i, 115.0 + (i % 20) * 0.0099, 27.0 + (i % 13) * 0.015,
                    category=["fraud", "criminal", "traffic"][i % 3]) for i in range(600)]
    inc.append(incident(9999, float("nan"), 27.1))  # set aside: bad_coordinates
    res = [(f"R{i}", ["officer", "patrol_unit", "mediator", "police_station"][i % 4],
            f"资源{i}", 115.0 + (i * 37 % 100) / 500, 27.0 + (i * 53 % 100) / 500, None, 2,
            f"1390000{i:04d}", i % 5 != 0, None) for i in range(200)]
    hz = [(f"H{i}", "road", f"隐患{i}", 115.05, 27.05, None, ["major", "low"][i % 2],
           datetime(2025, 1, 1), "交通局", date(2025, 3, 1)) for i in range(10)]
    rect = [(f"E{i}", f"H{i}", datetime(2025, 2, 1), "rectified", None, None)
            for i in range(0, 10, 3)]
    disputes = [(f"D{i}", EXTRACTED_AT - timedelta(days=i), "family", None, None, "V00",
                 "village", "people_mediator", ["resolved", "failed", "pending"][i % 3], None,
                 None) for i in range(30)]
    path = tmp_path_factory.mktemp("cli") / "cli.duckdb"
    return write_extract(path, {"meta": meta_rows(), "areas": standard_areas(), "incidents": inc,
                                "resources": res, "hazards": hz, "rectifications": rect,
                                "disputes": disputes})


def test_report_json_has_every_contract_key(extract: Path, tmp_path: Path) -> None:
    out = run("report", str(extract), "--json", cache=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert isinstance(doc["region"], str) and doc["as_of"] == "2025-06-15"
    inc = doc["incidents"]
    assert {"total", "unlocated", "by_category", "by_area_top", "yoy"} <= inc.keys()
    assert inc["total"] == 600 and inc["unlocated"] == 0
    assert inc["by_category"]["fraud"] == 200
    assert set(inc["yoy"]) >= {"month", "current", "previous", "change_pct"}
    assert all(set(a) >= {"area_id", "name", "count"} for a in inc["by_area_top"])
    assert [a["count"] for a in inc["by_area_top"]] == sorted(
        (a["count"] for a in inc["by_area_top"]), reverse=True)
    assert doc["resources"]["total"] == 200
    assert sum(doc["resources"]["by_kind"].values()) == 200
    hz = doc["hazards"]
    assert set(hz["by_state"]) == {"open", "rectifying", "rectified", "verified"}
    assert hz["total"] == 10 and hz["by_state"]["rectified"] == 4
    assert hz["rectification_rate"] == pytest.approx(0.4)
    assert hz["major_rectification_rate"] == pytest.approx(2 / 5)  # H0 and H6 are major
    assert hz["overdue"] == 6  # deadline 2025-03-01, as of 2025-06-15, not rectified
    ds = doc["disputes"]
    assert ds["total"] == 30 and ds["by_status"]["resolved"] == 10
    assert ds["success_rate"] == pytest.approx(0.5) and ds["by_level"]["village"] == 30
    lr = doc["load_report"]["incidents"]
    assert lr["rows"] == 601 and lr["quarantined"] == 1
    assert lr["reasons"] == {"bad_coordinates": 1}
    for table in ("meta", "areas", "incidents", "resources", "hazards", "rectifications",
                  "disputes", "dispute_steps"):
        assert {"rows", "quarantined", "reasons"} <= doc["load_report"][table].keys()


def test_report_filters_and_as_of(extract: Path, tmp_path: Path) -> None:
    out = run("report", str(extract), "--area", "T2", "--from", "2025-01-01", "--to",
              "2025-03-31", "--as-of", "2025-05-31", "--json", cache=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["as_of"] == "2025-05-31" and doc["incidents"]["yoy"]["month"] == "2025-04"
    assert 0 < doc["incidents"]["total"] < 600
    assert all(a["area_id"].startswith("V1") for a in doc["incidents"]["by_area_top"])


def test_report_rejects_unknown_area(extract: Path, tmp_path: Path) -> None:
    out = run("report", str(extract), "--area", "NOPE", "--json", cache=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1


def test_validate_exit_codes(extract: Path, tmp_path: Path) -> None:
    ok = run("validate", str(extract), "--json", cache=tmp_path)
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["tables"]["incidents"]["reasons"] == {"bad_coordinates": 1}
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    bad = run("validate", str(junk), cache=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a DuckDB" in lines[0]
    missing = run("validate", str(tmp_path / "nope.duckdb"), cache=tmp_path)
    assert missing.returncode == 2 and "not found" in missing.stderr


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(a))


@pytest.mark.parametrize("kinds", [[], ["officer"], ["mediator", "police_station"]])
def test_nearest_equals_brute_force(extract: Path, tmp_path: Path, kinds: list[str]) -> None:
    lon, lat = 115.0731, 27.1187
    args = ["nearest", str(extract), "--lon", str(lon), "--lat", str(lat), "--k", "7", "--json"]
    for k in kinds:
        args += ["--kind", k]
    out = run(*args, cache=tmp_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    kinds_all = ["officer", "patrol_unit", "mediator", "police_station"]
    brute = sorted(
        (_haversine(lon, lat, 115.0 + (i * 37 % 100) / 500, 27.0 + (i * 53 % 100) / 500), f"R{i}")
        for i in range(200)
        if i % 5 != 0 and (not kinds or kinds_all[i % 4] in kinds)
    )[:7]
    assert [g["resource_id"] for g in got] == [b[1] for b in brute]
    assert [g["distance_m"] for g in got] == pytest.approx([b[0] for b in brute], abs=0.1)
    for g in got:  # every resource of the fixture has a phone: each comes back masked
        i = int(g["resource_id"][1:])
        raw = f"1390000{i:04d}"
        assert g["phone"] is not None and g["phone"] != raw
        assert g["phone"] == raw[:3] + "****" + raw[-4:]  # 139****0042: first 3, last 4


def test_report_json_analysis_sections_are_consistent(extract: Path, tmp_path: Path) -> None:
    out = run("report", str(extract), "--json", cache=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    for key in ("hotspots", "repeats", "alerts", "rectification", "mediation", "safety_index",
                "change", "coverage_gaps"):
        assert key in doc, key
    assert {"grid", "emerging", "areas"} <= doc["hotspots"].keys()
    rect, hz = doc["rectification"], doc["hazards"]
    not_rectified = 10 - len(range(0, 10, 3))  # see the fixture: every third is rectified
    assert rect["overdue_count"] == hz["overdue"] == len(rect["overdue"]) == not_rectified
    assert all({"hazard_id", "name", "days_overdue", "responsible_unit", "area_id"} <= o.keys()
               for o in rect["overdue"])
    days = [o["days_overdue"] for o in rect["overdue"]]
    assert days == sorted(days, reverse=True) and days[0] == (date(2025, 6, 15)
                                                             - date(2025, 3, 1)).days
    funnel = doc["mediation"]["funnel"]
    buckets = sum(sum(funnel[k].values()) for k in ("resolved", "failed", "referred", "open"))
    assert funnel["received"] == buckets == doc["disputes"]["total"] == 30
    # every call of the fixture has an address of its own: no repeat place, whatever the
    # threshold (a place is one address, or one 5 m spot of calls without an address)
    assert doc["repeats"]["places"] == 0 and doc["repeats"]["incidents"] == 600
    assert "near_repeat" in doc["repeats"]
    assert {a["area_id"] for a in doc["safety_index"]["areas"]} == {"T1", "T2"}


def test_nearest_to_an_incident(extract: Path, tmp_path: Path) -> None:
    by_point = run("nearest", str(extract), "--lon", str(115.0 + 7 * 0.0099),
                   "--lat", str(27.0 + 7 * 0.015), "--json", cache=tmp_path)
    by_incident = run("nearest", str(extract), "--incident", "I000007", "--json", cache=tmp_path)
    assert by_incident.returncode == 0, by_incident.stderr
    assert json.loads(by_incident.stdout) == json.loads(by_point.stdout)
    assert len(json.loads(by_incident.stdout)) == 5
    unknown = run("nearest", str(extract), "--incident", "nope", "--json", cache=tmp_path)
    assert unknown.returncode == 0 and json.loads(unknown.stdout) == []
    neither = run("nearest", str(extract), "--json", cache=tmp_path)
    assert neither.returncode == 2 and "--incident" in neither.stderr
