"""The bulk period, placeholder timestamps and feed freshness (issue 14, items 3 and 4),
against an independent pandas reading of the rows the fixture writes.

The "city" fixture is what a real city's feed looks like: five dense recent years,
a tail of old cases reported late, "no date" defaults (1900-01-01, the epoch in
Beijing time, a Y2K midnight), two rows dated after the extract, and a feed that
stopped 15 days before the extract was made.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factory import full_tables, incident, meta_rows, standard_areas, village_point, write_extract

from data.analysis.alerts import alerts
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from data.report import build_report
from layers import dashboard
from layers.freshness import feed_notes

ROOT = Path(__file__).resolve().parents[1]
CITY_EXTRACTED = datetime(2020, 1, 15, 8, 0, 0)
CITY_NEWEST = datetime(2019, 12, 31, 22, 40, 0)
SENTINELS = [datetime(1900, 1, 1)] * 40 + [datetime(1970, 1, 1, 8, 0)] * 10 + \
    [datetime(1899, 12, 30, 0, 0)] * 3 + [datetime(2000, 1, 1)] * 5


def city_times(seed: int = 7) -> list[datetime]:
    rng = np.random.default_rng(seed)
    times: list[datetime] = []
    day = date(2015, 1, 1)
    while day <= CITY_NEWEST.date():
        for _ in range(int(rng.poisson(20))):
            times.append(datetime.combine(day, datetime.min.time())
                         + timedelta(minutes=int(rng.integers(0, 1440))))
        day += timedelta(days=1)
    times = [t for t in times if t < CITY_NEWEST] + [CITY_NEWEST]
    # old cases reported late: thin, denser just before the real start
    for k in range(300):
        years = 55 * (k / 300) ** 3  # most of them within a few years of 2015
        t = datetime(2014, 12, 31) - timedelta(days=365.25 * years, hours=k % 24)
        if abs(t - datetime(2000, 1, 1)) <= timedelta(days=200):
            t -= timedelta(days=400)  # no real rows near New Year 2000 (see the Y2K test)
        times.append(t)
    times += SENTINELS
    times += [datetime(2021, 3, 1, 12, 0), datetime(2020, 2, 1)]  # after the extract
    return times


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.Series]:
    times = city_times()
    rows = [incident(i, *village_point(i % 2, (i // 2) % 2), when=t,
                     category=("criminal", "traffic", "public_order")[i % 3])
            for i, t in enumerate(times)]
    path = tmp_path_factory.mktemp("city") / "city.duckdb"
    write_extract(path, {"meta": meta_rows(extracted_at=CITY_EXTRACTED.isoformat()),
                         "areas": standard_areas(), "incidents": rows})
    return path, pd.Series(pd.to_datetime(times))


# ----------------------------------------------------------------------------- oracle
def is_placeholder(ts: pd.Series) -> pd.Series:
    days = {"0001-01-01", "1601-01-01", "1753-01-01", "1899-12-30", "1899-12-31",
            "1900-01-01", "1904-01-01", "1969-12-31", "1970-01-01", "9999-12-31"}
    on_day = ts.dt.strftime("%Y-%m-%d").isin(days)
    y2k = ts == pd.Timestamp("2000-01-01")
    near = (ts - pd.Timestamp("2000-01-01")).abs() <= pd.Timedelta(days=183)
    return on_day | (y2k & (not (near & ~y2k).any()))


def oracle_period(ts: pd.Series, end: datetime) -> tuple[date, date, int]:
    """The documented rule, step by step, on a plain Series of timestamps."""
    real = ts[~is_placeholder(ts) & (ts <= end)].sort_values()
    daily = real.dt.floor("D").value_counts().sort_index()
    before = daily.cumsum() - daily
    q = before[before <= 0.01 * len(real)].index[-1]
    months = pd.period_range(daily.index[0], daily.index[-1], freq="M")
    per_month = real.dt.to_period("M").value_counts().reindex(months, fill_value=0)
    typical = per_month[per_month.index >= q.to_period("M")].median()
    dense = per_month >= max(1.0, 0.1 * typical)
    pos = list(months).index(q.to_period("M"))
    while pos < len(months) - 1 and not dense.iloc[pos]:
        pos += 1
    while pos > 0 and dense.iloc[pos - 1]:
        pos -= 1
    first = real[real.dt.to_period("M") >= months[pos]].min().date()
    last = real.max().date()
    inside = (ts >= pd.Timestamp(first)) & (ts < pd.Timestamp(last) + pd.Timedelta(days=1)) \
        & (ts <= end)
    return first, last, int((~inside).sum())


# ----------------------------------------------------------------------------- period
def test_city_period_holds_the_five_years(city: tuple[Path, pd.Series]) -> None:
    path, ts = city
    ex = open_extract(path)
    doc = build_report(ex, FilterState(), analysis=False)
    first, last, outside = oracle_period(ts, CITY_EXTRACTED)
    period = doc["incidents"]["period"]
    assert (period["first"], period["last"], period["outside"]) == \
        (first.isoformat(), last.isoformat(), outside)
    # what the rule is for: the five years, ending on the last day with data
    assert first == date(2015, 1, 1) and last == CITY_NEWEST.date()
    assert outside == 300 + len(SENTINELS) + 2
    # rows outside stay in the data: every figure still counts them (up to the as-of day)
    assert doc["incidents"]["total"] == int((ts < pd.Timestamp("2020-01-16")).sum()) \
        == len(ts) - 2
    lr = doc["load_report"]["incidents"]
    assert lr["adjusted"]["placeholder_timestamp"] == int(is_placeholder(ts).sum()) == 58
    assert lr["quarantined"] == 0


def test_y2k_midnight_is_real_when_the_feed_covers_new_year_2000(tmp_path: Path) -> None:
    times = [datetime(1999, 12, 31, 23, 0) - timedelta(hours=7 * k) for k in range(200)] + \
        [datetime(2000, 1, 1)] * 3 + [datetime(1900, 1, 1)]
    ts = pd.Series(pd.to_datetime(times))
    rows = [incident(i, *village_point(0, 0), when=t) for i, t in enumerate(times)]
    path = write_extract(tmp_path / "y2k.duckdb", {
        "meta": meta_rows(extracted_at="2000-01-02T00:00:00"), "areas": standard_areas(),
        "incidents": rows})
    doc = build_report(open_extract(path), FilterState(), analysis=False)
    assert doc["load_report"]["incidents"]["adjusted"]["placeholder_timestamp"] == \
        int(is_placeholder(ts).sum()) == 1
    first, last, outside = oracle_period(ts, datetime(2000, 1, 2))
    assert doc["incidents"]["period"] == {"first": first.isoformat(), "last": last.isoformat(),
                                          "outside": outside, "placeholders": 1}
    assert last == date(2000, 1, 1)


def test_small_clean_extract_period_is_its_whole_span(tmp_path: Path) -> None:
    tables = full_tables(40)
    path = write_extract(tmp_path / "small.duckdb", tables)
    doc = build_report(open_extract(path), FilterState(), analysis=False)
    ts = pd.Series(pd.to_datetime([r[1] for r in tables["incidents"]]))
    assert doc["incidents"]["period"] == {
        "first": ts.min().date().isoformat(), "last": ts.max().date().isoformat(),
        "outside": 0, "placeholders": 0}
    assert "placeholder_timestamp" not in doc["load_report"]["incidents"]["adjusted"]


# ----------------------------------------------------------------------------- freshness
def test_city_feed_lags_and_says_so(city: tuple[Path, pd.Series]) -> None:
    path, ts = city
    ex = open_extract(path)
    doc = build_report(ex, FilterState(), analysis=False)
    ok = ts[~is_placeholder(ts) & (ts < CITY_EXTRACTED + pd.Timedelta(days=1))]
    newest = ok.max()
    lag = (CITY_EXTRACTED - newest).total_seconds() / 86400
    f = doc["freshness"]["incidents"]
    assert f["newest"] == newest.isoformat()
    assert f["lag_days"] == pytest.approx(lag, abs=0.01) and 14.3 < lag < 14.5
    assert f["lags"] is True
    assert feed_notes(ex, "zh") == ("警情数据截至 2019-12-31，比提取时间早 14 天",)
    assert feed_notes(ex, "en") == (
        "Incident data ends on 2019-12-31, 14 days before the extract time",)
    # the contract's keys are untouched; new ones are added
    for key in ("region", "as_of", "incidents", "resources", "hazards", "disputes",
                "load_report"):
        assert key in doc


def test_fresh_feed_does_not_lag(tmp_path: Path) -> None:
    tables = full_tables(40)
    # incidents up to a day before the extract (full_tables' stop 45 days before it)
    tables["incidents"] = [incident(i, *village_point(i % 2, 0)) for i in range(40)]
    path = write_extract(tmp_path / "fresh.duckdb", tables)
    ex = open_extract(path)
    doc = build_report(ex, FilterState())
    newest = max(r[1] for r in tables["incidents"])
    assert doc["freshness"]["incidents"]["newest"] == newest.isoformat()
    assert all(not f["lags"] for f in doc["freshness"].values())
    assert set(doc["freshness"]) == {"incidents", "hazards", "rectifications", "disputes",
                                     "dispute_steps"}
    assert feed_notes(ex) == ()
    assert not doc["change"]["day_to_date"]["feed_stale"]
    assert doc["alerts"]["feed_end"] is None


def test_report_cli_notes_the_lag(city: tuple[Path, pd.Series], tmp_path: Path) -> None:
    path, _ = city
    out = subprocess.run([sys.executable, "main.py", "report", str(path), "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "COCKPIT_CACHE_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert "警情数据截至 2019-12-31，比提取时间早 14 天" in doc["notes"]
    assert doc["change"]["day_to_date"]["feed_stale"] is True


# ----------------------------------------------------------------------------- KPIs, alerts
def _count(ts: pd.Series, a: datetime, b: datetime) -> int:
    return int(((ts >= a) & (ts < b)).sum())


def test_stale_kpis_compare_like_with_like(city: tuple[Path, pd.Series]) -> None:
    path, ts = city
    q = Query(open_extract(path))
    # as of the extract day every period tile lies past the feed's end: it says so
    tiles = {k.key: k for k in dashboard.kpis(q, FilterState(), "zh")}
    for key in ("kpi_today", "kpi_week", "kpi_month"):
        t = tiles[key]
        assert t.value == "—" and t.delta_pct is None and t.alarm
        assert t.detail == "停更：截至 12-31 滞后14天"
    # as of 2020-01-05 the week (Mon 2019-12-30) is covered up to the newest row: it is
    # compared with the same stretch of ISO week 2019-W01 (Mon 2018-12-31)
    state = FilterState(as_of=date(2020, 1, 5))
    tiles = {k.key: k for k in dashboard.kpis(q, state, "zh")}
    stretch = CITY_NEWEST - datetime(2019, 12, 30)
    cur = _count(ts, datetime(2019, 12, 30), CITY_NEWEST)
    ly = _count(ts, datetime(2018, 12, 31), datetime(2018, 12, 31) + stretch)
    week = tiles["kpi_week"]
    assert week.value == f"{cur:,}" and cur > 0
    assert week.delta_pct == pytest.approx((cur - ly) / ly * 100)
    assert week.detail == f"截至 12-31 22:40 · 去年同期 {ly:,}"
    assert tiles["kpi_today"].value == "—" and tiles["kpi_month"].value == "—"


def test_alerts_test_only_days_the_feed_covers(city: tuple[Path, pd.Series]) -> None:
    path, _ = city
    a = alerts(Query(open_extract(path)), FilterState())
    assert a.day == CITY_NEWEST.date() - timedelta(days=1)
    assert a.week_start == date(2019, 12, 23)  # the last complete week before 12-31
    assert a.to_json()["feed_end"] == CITY_NEWEST.isoformat()


# ----------------------------------------------------------------------------- timeline
def test_timeline_spans_the_period(city: tuple[Path, pd.Series]) -> None:
    path, ts = city
    q = Query(open_extract(path))
    spec = dashboard.timeline_chart(q, FilterState(), "zh")
    first, _last, outside = oracle_period(ts, CITY_EXTRACTED)
    assert spec.x_labels[0] == first.isoformat()
    assert spec.x_labels[-1] == CITY_EXTRACTED.date().isoformat()  # to the as-of day
    days = pd.date_range(first, CITY_EXTRACTED.date(), freq="D")
    expect = ts.dt.floor("D").value_counts().reindex(days, fill_value=0)
    assert list(spec.series[0]) == [float(v) for v in expect]
    assert spec.title.endswith(f"另有 {outside:,} 条在此之外")
    # a window that starts earlier widens it, so the dragged range is on the axis
    wide = dashboard.timeline_chart(
        q, dataclasses.replace(FilterState(), start=date(2014, 6, 1)), "en")
    assert wide.x_labels[0] == "2014-06-01"


# ----------------------------------------------------------------------------- header
def test_window_header_says_the_feed_stopped(qtbot, city: tuple[Path, pd.Series]) -> None:
    from tests.test_cockpit_window import open_window

    win = open_window(qtbot, city[0], 1920, 1080)
    try:
        qtbot.waitUntil(lambda: win.feed_label.isVisible(), timeout=30_000)
        assert win.feed_label.text() == "警情数据截至 2019-12-31，比提取时间早 14 天"
        shots = __import__("os").environ.get("COCKPIT_SHOTS")
        if shots:
            win.grab().save(str(Path(shots) / "period_header.png"))
    finally:
        win.close()
