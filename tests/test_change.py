"""同比/环比 (data.analysis.change) against pandas periods on the raw demo extract."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from oracle import is_under, load_raw

from data.analysis.change import change, change_by, change_series
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path, load_raw(path)


def _period(kind: str, day: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    p = pd.Period(day, {"day": "D", "week": "W-SUN", "month": "M"}[kind])
    return p.start_time, p.end_time.normalize() + pd.Timedelta(days=1)


def _expected(raw: dict[str, Any], kind: str, anchor: date | None, to_date: bool,
              cats: list[str] | None, area: str | None) -> tuple[int, int, int]:
    inc = raw["incidents"]
    as_of, at = raw["as_of"], pd.Timestamp(raw["extracted_at"])
    inc = inc[inc["reported_at"] < pd.Timestamp(as_of + timedelta(days=1))]
    if cats:
        inc = inc[inc["category"].isin(cats)]
    if area:
        inc = inc[inc["area"].map(lambda a: is_under(raw["parent"], a, area))]
    if to_date:
        a, b = _period(kind, anchor or as_of)
        b = min(b, at) if (anchor or as_of) == as_of else min(
            b, pd.Timestamp(anchor + timedelta(days=1)))
    else:
        a, b = _period(kind, anchor or (_period(kind, as_of)[0] - pd.Timedelta(days=1)).date())
    length = b - a
    pa = _period(kind, (a - pd.Timedelta(days=1)).date())[0]
    if kind == "week":
        y, w, _ = a.date().isocalendar()
        last_week = date(y - 1, 12, 28).isocalendar()[1]
        ly = pd.Timestamp(date.fromisocalendar(y - 1, min(w, last_week), 1))
    else:
        ly = a - pd.DateOffset(years=1)

    def n(s: pd.Timestamp) -> int:
        # Whole periods are compared whole (months differ in length); to-date ones by length.
        stop = _period(kind, s.date())[1]
        if to_date:  # the same length, never past the period's own end
            stop = min(stop, s + length)
        t = inc["reported_at"]
        return int(((t >= s) & (t < stop)).sum())

    return n(a), n(pa), n(ly)


@pytest.mark.parametrize("kind", ["day", "week", "month"])
@pytest.mark.parametrize("anchor", [None, date(2026, 3, 1), date(2025, 12, 31)])
@pytest.mark.parametrize("to_date", [False, True])
def test_change_equals_pandas_periods(demo: tuple[Path, dict], kind: str, anchor: date | None,
                                      to_date: bool) -> None:
    path, raw = demo
    q = Query(open_extract(path))
    got = change(q, FilterState(), kind, anchor, to_date)
    assert (got.current, got.previous, got.last_year) == _expected(raw, kind, anchor, to_date,
                                                                   None, None)
    if got.last_year:
        assert got.yoy_pct == pytest.approx((got.current - got.last_year) / got.last_year * 100)


@pytest.mark.parametrize("cats,area", [(["fraud"], None), (None, "T03"),
                                       (["criminal", "public_order"], "T07")])
def test_change_honours_category_and_area(demo: tuple[Path, dict], cats: list[str] | None,
                                          area: str | None) -> None:
    path, raw = demo
    q = Query(open_extract(path))
    state = FilterState().with_set("incident_categories", cats or []).with_areas(
        [area] if area else [])
    # The time window must not matter: the periods define the time.
    state = state.with_window(date(2026, 1, 1), date(2026, 1, 31))
    for kind in ("week", "month"):
        got = change(q, state, kind)
        want = _expected(raw, kind, None, False, cats, area)
        assert (got.current, got.previous, got.last_year) == want
        assert sum(want) > 0


def test_change_by_category_and_town(demo: tuple[Path, dict]) -> None:
    path, raw = demo
    q = Query(open_extract(path))
    by_cat = change_by(q, FilterState(), "category", "month")
    for cat, ch in by_cat.items():
        assert (ch.current, ch.previous, ch.last_year) == _expected(raw, "month", None, False,
                                                                    [cat], None)
    assert sum(c.current for c in by_cat.values()) == change(q, FilterState(), "month").current
    by_town = change_by(q, FilterState(), "area", "week")
    assert len(by_town) == 15
    for town, ch in by_town.items():
        assert (ch.current, ch.previous, ch.last_year) == _expected(raw, "week", None, False,
                                                                    None, town)


def test_change_series_is_consecutive_periods(demo: tuple[Path, dict]) -> None:
    path, raw = demo
    q = Query(open_extract(path))
    series = change_series(q, FilterState(), "month", 6)
    assert [c.current_span.label("month") for c in series] == \
        ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    for c in series:
        anchor = c.current_span.start.date()
        assert (c.current, c.previous, c.last_year) == _expected(raw, "month", anchor, False,
                                                                 None, None)
    # Each month's 环比 base is the month before's count.
    for a, b in pairwise(series):
        assert b.previous == a.current


def test_to_date_stops_at_the_extract_time(demo: tuple[Path, dict]) -> None:
    path, raw = demo
    q = Query(open_extract(path))
    today = change(q, FilterState(), "day", to_date=True)
    at: datetime = raw["extracted_at"]
    assert today.current_span.stop == at
    assert today.last_year_span.stop.time() == at.time()
    inc = raw["incidents"]
    assert today.current == int(((inc["reported_at"] >= pd.Timestamp(at.date()))
                                 & (inc["reported_at"] < pd.Timestamp(at))).sum())
