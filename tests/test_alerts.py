"""Exception alerts (data.analysis.alerts) against pandas counts and a planted spike."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import factory
import numpy as np
import pandas as pd
from oracle import load_raw
from scipy.stats import poisson

from data.analysis import alerts as alerts_mod
from data.analysis.alerts import alerts
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query

AS_OF = factory.EXTRACTED_AT.date()  # 2025-06-15, a Sunday
SPIKE_DAY = AS_OF - timedelta(days=1)


def _extract(tmp_path: Path, spike: int, repeat_place: bool) -> Path:
    """Ten weeks of steady incidents in all four villages, a spike on the last full day."""
    rng = np.random.default_rng(5)
    rows = []
    k = 0
    cats = ("criminal", "traffic", "public_order")
    for d in range(70, 0, -1):
        day = datetime.combine(AS_OF - timedelta(days=d), datetime.min.time())
        for v in range(4):
            for c in cats:
                for _ in range(int(rng.poisson(2))):
                    lon, lat = factory.village_point(v % 2, v // 2, rng.uniform(0.1, 0.9),
                                                     rng.uniform(0.1, 0.9))
                    rows.append(factory.incident(k, lon, lat, day + timedelta(
                        minutes=int(rng.integers(0, 1440))), c))
                    k += 1
    day = datetime.combine(SPIKE_DAY, datetime.min.time())
    for _ in range(spike):
        lon, lat = factory.village_point(0, 0, rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9))
        rows.append(factory.incident(k, lon, lat, day + timedelta(hours=10), "criminal"))
        k += 1
    if repeat_place:  # four calls to one bar in the latest week, none before
        lon, lat = factory.village_point(1, 1, 0.5, 0.5)
        for i in range(4):
            rows.append(factory.incident(k, lon + i * 1e-5, lat, day - timedelta(days=i, hours=2),
                                         "public_order", address="幸福路8号酒吧"))
            k += 1
        # A chronic place: calls every week for two months, three in the latest week.
        lon, lat = factory.village_point(0, 1, 0.3, 0.3)
        for i in [*range(8, 60, 7), 1, 2, 3]:
            rows.append(factory.incident(k, lon, lat + i * 1e-6, day - timedelta(days=i, hours=3),
                                         "public_order", address="和平路1号麻将馆"))
            k += 1
    tables = {"meta": factory.meta_rows(), "areas": factory.standard_areas(), "incidents": rows}
    return factory.write_extract(tmp_path / "a.duckdb", tables)


def _expected_spikes(raw: dict[str, Any], cats: list[str] | None = None
                     ) -> set[tuple[str, str | None, str | None, int]]:
    """(period, category, town, observed) of every alert, by pandas and scipy."""
    inc = raw["incidents"].copy()
    if cats:
        inc = inc[inc["category"].isin(cats)]
    inc["day"] = inc["reported_at"].dt.normalize()
    b = alerts_mod.BASELINE_PERIODS
    day = pd.Timestamp(SPIKE_DAY)
    monday = pd.Timestamp(AS_OF - timedelta(days=AS_OF.weekday())) - pd.Timedelta(days=7)
    out = set()
    for period in ("day", "week"):
        if period == "day":
            slots = {day - pd.Timedelta(days=7 * k): k for k in range(b + 1)}
            slot = inc["day"].map(slots)
        else:
            slot = ((monday + pd.Timedelta(days=6) - inc["day"]).dt.days // 7)
            slot = slot.where((slot >= 0) & (slot <= b))
        sel = inc[slot.notna()].assign(slot=slot[slot.notna()].astype(int))
        for keys in (["category"], ["town"], ["town", "category"]):
            grouped = sel.dropna(subset=keys).groupby([*keys, "slot"]).size().unstack(
                fill_value=0).reindex(columns=range(b + 1), fill_value=0)
            m = len(grouped)
            for key, row in grouped.iterrows():
                obs, expected = int(row[0]), float(row[1:].mean())
                if obs >= alerts_mod.MIN_COUNT and obs > expected and poisson.sf(
                        obs - 1, max(expected, 0.5)) < alerts_mod.ALPHA / m:
                    key = key if isinstance(key, tuple) else (key,)
                    d = dict(zip(keys, key, strict=True))
                    out.add((period, d.get("category"), d.get("town"), obs))
    return out


def _got(result: Any) -> set[tuple[str, str | None, str | None, int]]:
    return {(a.period, a.category, a.area_id, a.observed) for a in result.alerts
            if a.kind == "spike"}


def test_planted_spike_is_the_alert(tmp_path: Path) -> None:
    path = _extract(tmp_path, spike=25, repeat_place=False)
    q = Query(open_extract(path))
    got = alerts(q, FilterState())
    want = _expected_spikes(load_raw(path))
    assert _got(got) == want
    assert ("day", "criminal", "T1", None) in {(p, c, t, None) for p, c, t, _ in want}
    spike = next(a for a in got.alerts if a.period == "day" and a.category == "criminal"
                 and a.area_id == "T1")
    assert spike.observed >= 25 and spike.expected < 10 and spike.area_name == "东镇"
    assert got.day == SPIKE_DAY and got.week_start.weekday() == 0


def test_no_spike_no_day_alert(tmp_path: Path) -> None:
    path = _extract(tmp_path, spike=0, repeat_place=False)
    got = alerts(Query(open_extract(path)), FilterState())
    assert _got(got) == _expected_spikes(load_raw(path))
    assert not [a for a in got.alerts if a.period == "day" and a.category == "criminal"]


def test_category_filter_and_window_independence(tmp_path: Path) -> None:
    path = _extract(tmp_path, spike=25, repeat_place=False)
    q = Query(open_extract(path))
    state = FilterState().with_set("incident_categories", ["traffic"]).with_window(
        date(2025, 1, 1), date(2025, 1, 31))
    got = alerts(q, state)
    assert _got(got) == _expected_spikes(load_raw(path), ["traffic"])
    assert all(a.category in (None, "traffic") for a in got.alerts)


def test_new_repeat_place_is_alerted(tmp_path: Path) -> None:
    path = _extract(tmp_path, spike=0, repeat_place=True)
    got = alerts(Query(open_extract(path)), FilterState())
    repeats = [a for a in got.alerts if a.kind == "new_repeat"]
    assert len(repeats) == 1 and repeats[0].observed == 4 and repeats[0].area_id == "V11"
    assert repeats[0].address == "幸福路8号酒吧"
    assert "和平路1号麻将馆" not in {a.address for a in got.alerts}
