"""平安指数 (data.analysis.safety_index) against a pandas computation on the raw extract."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from oracle import load_raw

from data.analysis.safety_index import WEIGHTS, safety_index
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path, load_raw(path)


def _hazard_states(raw: dict[str, Any], stop: pd.Timestamp) -> pd.Series:
    ev = raw["rectifications"].reset_index()
    ev = ev[ev["event_at"] < stop].sort_values(["event_at", "index"])
    last = ev.groupby("hazard_id")["action"].last().to_dict()
    to_state = {"assigned": "rectifying", "reopened": "rectifying", "rectified": "rectified",
                "reinspected": "verified"}
    return raw["hazards"]["hazard_id"].map(lambda h: to_state.get(last.get(h), "open"))


def _expected(raw: dict[str, Any], start: date, end: date, cats: list[str] | None
              ) -> dict[str, tuple[float, dict[str, float]]]:
    as_of = raw["as_of"]
    stop = pd.Timestamp(as_of + timedelta(days=1))
    areas = raw["areas"]
    towns = areas[areas["level"] == "town"].set_index("area_id")
    inc = raw["incidents"]
    inc = inc[(inc["reported_at"] >= pd.Timestamp(start))
              & (inc["reported_at"] < pd.Timestamp(end + timedelta(days=1)))
              & (inc["reported_at"] < stop)]
    if cats:
        inc = inc[inc["category"].isin(cats)]
    hz = raw["hazards"].assign(state=_hazard_states(raw, stop))
    hz = hz[hz["discovered_at"] < stop]
    open_ = hz["state"].isin(["open", "rectifying"])
    ds = raw["disputes"]
    ds = ds[(ds["received_at"] < stop) & ds["status"].isin(["pending", "mediating"])]
    values = pd.DataFrame({
        "incident_rate": inc["town"].value_counts().reindex(towns.index, fill_value=0)
        / towns["population"] * 1e4,
        "open_major_hazards": hz[open_ & (hz["risk_level"] == "major")]["town"]
        .value_counts().reindex(towns.index, fill_value=0),
        "overdue_rectifications": hz[~hz["state"].isin(["rectified", "verified"])
                                     & (pd.to_datetime(hz["deadline"]) < pd.Timestamp(as_of))]
        ["town"].value_counts().reindex(towns.index, fill_value=0),
        "unresolved_disputes": ds["town"].value_counts().reindex(towns.index, fill_value=0),
    })
    risk = values / values.max() * 100
    index = 100 - sum(risk[c] * w for c, w in WEIGHTS.items())
    return {t: (float(index[t]), values.loc[t].to_dict()) for t in towns.index}


@pytest.mark.parametrize("window,cats", [(None, None),
                                         ((date(2026, 1, 1), date(2026, 6, 30)), None),
                                         (None, ["criminal", "fraud"])])
def test_safety_index_equals_pandas(demo: tuple[Path, dict], window: tuple | None,
                                    cats: list[str] | None) -> None:
    path, raw = demo
    q = Query(open_extract(path))
    state = FilterState().with_set("incident_categories", cats or [])
    if window:
        state = state.with_window(*window)
    got = safety_index(q, state)
    start, end = window or (raw["as_of"] - timedelta(days=89), raw["as_of"])
    want = _expected(raw, start, end, cats)
    assert {a.area_id for a in got.areas} == set(want)
    for a in got.areas:
        index, values = want[a.area_id]
        assert a.index == pytest.approx(index)
        for c in WEIGHTS:
            assert a.values[c] == pytest.approx(values[c])
    # Worst first; the worst area on every component would score 0, none scores above 100.
    assert [a.index for a in got.areas] == sorted(a.index for a in got.areas)
    assert all(0 <= a.index <= 100 for a in got.areas)
    assert got.areas[0].index < got.areas[-1].index


def test_area_filter_selects_rows_not_the_comparison(demo: tuple[Path, dict]) -> None:
    path, _ = demo
    q = Query(open_extract(path))
    everything = {a.area_id: a.index for a in safety_index(q, FilterState()).areas}
    one = safety_index(q, FilterState().with_areas(["T03"])).areas
    assert [(a.area_id, a.index) for a in one] == [("T03", everything["T03"])]
    village = safety_index(q, FilterState().with_areas(["T05V001"])).areas
    assert [a.area_id for a in village] == ["T05"]


def test_missing_tables_and_population(tmp_path: Path) -> None:
    import factory

    tables = factory.full_tables(60)
    tables["areas"] = [(*r[:5], None if r[0] == "T2" else r[5]) for r in tables["areas"]]
    del tables["disputes"], tables["dispute_steps"]
    q = Query(open_extract(factory.write_extract(tmp_path / "x.duckdb", tables)))
    got = {a.area_id: a for a in safety_index(q, FilterState().with_window(
        date(2025, 4, 1), date(2025, 5, 31))).areas}
    assert set(got) == {"T1", "T2"}
    # T2 has no population: no incident rate, the other weights carry the index.
    assert got["T2"].values["incident_rate"] is None and got["T2"].risks["incident_rate"] is None
    assert got["T1"].values["incident_rate"] == pytest.approx(got["T1"].incidents / 2000 * 1e4)
    assert got["T1"].values["unresolved_disputes"] == 0
    assert all(0 <= a.index <= 100 for a in got.values())
