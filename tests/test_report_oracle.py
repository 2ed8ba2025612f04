"""``report --json`` equals an independent computation (tests/oracle.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from oracle import expected_report

from data.extract import open_extract
from data.filters import FilterState
from data.report import build_report


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


def _nonzero(d: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in d.items() if v}


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got["as_of"] == want["as_of"]
    gi, wi = got["incidents"], want["incidents"]
    assert gi["total"] == wi["total"] and gi["unlocated"] == wi["unlocated"]
    assert gi["by_category"] == wi["by_category"]
    assert gi["by_area_top"] == wi["by_area_top"]
    assert {k: v for k, v in gi["yoy"].items() if k != "change_pct"} == \
        {k: v for k, v in wi["yoy"].items() if k != "change_pct"}
    assert gi["yoy"]["change_pct"] == pytest.approx(wi["yoy"]["change_pct"])
    assert got["resources"]["total"] == want["resources"]["total"]
    assert _nonzero(got["resources"]["by_kind"]) == want["resources"]["by_kind"]
    gh, wh = got["hazards"], want["hazards"]
    for key in ("total", "by_state", "overdue"):
        assert gh[key] == wh[key], key
    for key in ("rectification_rate", "major_rectification_rate"):
        assert gh[key] == pytest.approx(wh[key]), key
    gd, wd = got["disputes"], want["disputes"]
    assert gd["total"] == wd["total"]
    assert _nonzero(gd["by_status"]) == wd["by_status"]
    assert _nonzero(gd["by_level"]) == wd["by_level"]
    assert gd["success_rate"] == pytest.approx(wd["success_rate"])


@pytest.mark.parametrize("window", [
    (None, None, None),
    (date(2026, 1, 1), date(2026, 6, 30), None),
    (None, None, "T03"),
    (date(2025, 11, 1), date(2026, 10, 31), "T07"),
])
def test_demo_report_matches_oracle(demo: Path, window: tuple) -> None:
    start, end, area = window
    ex = open_extract(demo)
    state = FilterState().with_window(start, end).with_areas([area] if area else [])
    got = build_report(ex, state)
    want = expected_report(demo, start, end, area)
    assert got["incidents"]["total"] > 0
    assert_same(got, want)


def test_demo_figures_are_not_trivial(demo: Path) -> None:
    got = build_report(open_extract(demo), FilterState())
    hz = got["hazards"]
    assert hz["overdue"] > 0 and all(v > 0 for v in hz["by_state"].values())
    assert 0 < hz["rectification_rate"] < 1 and 0 < got["disputes"]["success_rate"] < 1
    assert len(got["incidents"]["by_area_top"]) == 10
    assert got["incidents"]["yoy"]["previous"] > 0


def test_hazard_places_and_details_match_the_raw_register(demo: Path) -> None:
    """The overdue table's map places and a hazard's details (each looked up for its own
    hazards, not read from the whole register) equal the raw rows and a pandas state."""
    from oracle import load_raw

    from data.analysis.rectification import rectification
    from data.queries import Query
    from layers.dashboard import overdue_table
    from layers.details import hazard_details
    from layers.i18n import code_label, tr

    raw = load_raw(demo)
    stop = raw["extracted_at"].replace(hour=0, minute=0, second=0, microsecond=0) \
        + pd.Timedelta(days=1)
    hz = raw["hazards"].set_index("hazard_id")
    ev = raw["rectifications"].reset_index()
    ev = ev[ev["event_at"] < stop].sort_values(["event_at", "index"])
    last = ev.groupby("hazard_id")["action"].last().to_dict()
    to_state = {"assigned": "rectifying", "reopened": "rectifying", "rectified": "rectified",
                "reinspected": "verified"}

    q = Query(open_extract(demo))
    state = FilterState()
    table = overdue_table(q, state, rectification(q, state), "zh")
    assert len(table.keys) > 3
    for key, loc in zip(table.keys, table.locations, strict=True):
        assert loc == pytest.approx((hz.at[key, "lon"], hz.at[key, "lat"]))

    state_row = tr("f_state", "zh")
    for hid in [*table.keys[:3], *hz.index[:: max(1, len(hz) // 5)][:5]]:
        d = hazard_details(q, state, hid, "zh")
        assert d is not None
        assert (d.lon, d.lat) == pytest.approx((hz.at[hid, "lon"], hz.at[hid, "lat"]))
        want = code_label("hazard_state", to_state.get(last.get(hid), "open"), "zh")
        assert dict(d.rows)[state_row] == want
    assert hazard_details(q, state, "no such hazard", "zh") is None
