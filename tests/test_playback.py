"""Situation playback (态势回放): hour windows of the filter, the frames of a replay, the
play control stepping the window's filter, the wall's replay view, and the GIF/MP4 export.

Counts are checked against pandas over the raw extract (tests/oracle.py), never against
the cockpit's own queries; frames are checked by reading the written files back.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from data.extract import open_extract
from data.filters import FilterState, compile_filter, window_span
from data.playback import (
    PlaybackSettings,
    default_range,
    frames,
    non_empty,
    plan,
    step_counts,
)
from data.queries import Query
from layers.filter_text import filter_chips, window_text
from tests.factory import full_tables, incident, village_point, write_extract
from tests.oracle import load_raw

D = date(2025, 5, 3)


def at(day: date, hour: int, minute: int = 0, second: int = 0, us: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, us)


# -- hour windows of the filter ----------------------------------------------------------
def test_span_of_whole_days_is_the_day_window() -> None:
    st = FilterState().with_span(at(D, 0), at(D + timedelta(days=2), 0))
    assert st == FilterState().with_window(D, D + timedelta(days=1))
    assert not st.has_hours()


def test_span_of_hours_keeps_its_hours_and_bounds() -> None:
    st = FilterState().with_span(at(D, 23), at(D + timedelta(days=1), 2))
    assert (st.start, st.start_hour, st.end, st.end_hour) == (D, 23, D + timedelta(days=1), 1)
    assert window_span(st, date(2025, 6, 15)) == (at(D, 23), at(D + timedelta(days=1), 2))
    # never past the end of the as-of day
    assert window_span(st, D) == (at(D, 23), at(D + timedelta(days=1), 0))


def test_hours_belong_to_the_window() -> None:
    st = FilterState().with_span(at(D, 13), at(D, 14)).toggle("incident_categories", "fire")
    assert st.without("start") == FilterState(incident_categories=frozenset({"fire"}))
    assert st.with_window(D, D).start_hour is None
    assert [f for f, _ in st.active()] == ["start", "end", "incident_categories"]
    # an hour without its day means nothing: dropped, so equal windows compare equal
    assert dataclasses.replace(st, start=None, end=None) == st.without("end")
    no_areas = SimpleNamespace(areas=SimpleNamespace(idx_of=lambda _a: None))
    chips = filter_chips(st, no_areas, "zh")
    assert chips[0].field == "start" and chips[0].label == "2025-05-03 13:00–14:00"


@pytest.mark.parametrize("bad", [
    dict(start=D, start_hour=24), dict(end=D, end_hour=-1), dict(start=D, start_hour=1.5),
    dict(start=D, start_hour=True)])
def test_bad_hours_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        FilterState(**bad)


def test_span_must_be_whole_hours_and_not_empty() -> None:
    with pytest.raises(ValueError):
        FilterState().with_span(at(D, 13, 30), at(D, 14))
    with pytest.raises(ValueError):
        FilterState().with_span(at(D, 14), at(D, 14))


def test_window_text_of_hours() -> None:
    one = FilterState().with_span(at(D, 9), at(D, 10))
    assert window_text(one, "zh") == "2025-05-03 09:00–10:00"
    assert window_text(FilterState().with_span(at(D, 23), at(D, 23) + timedelta(hours=1)),
                       "en") == "2025-05-03 23:00–24:00"
    two = FilterState().with_span(at(D, 6), at(D + timedelta(days=1), 6))
    assert window_text(two, "zh") == "2025-05-03 06:00 至 2025-05-04 06:00"
    assert window_text(two, "en") == "2025-05-03 06:00 to 2025-05-04 06:00"


@pytest.fixture(scope="module")
def hourly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Incidents on the edges of hours: at :00:00, :59:59.999999, and mid-hour."""
    tables = full_tables(0)
    rows = []
    cats = ("criminal", "fire", "traffic")
    k = 0
    for d in range(3):
        day = D + timedelta(days=d)
        for h in (0, 5, 13, 14, 23):
            for minute, second, us in ((0, 0, 0), (59, 59, 999_999), (30, 0, 0)):
                if (h + d + minute) % 4 == 0:
                    continue  # some hours have fewer rows, and some none
                lon, lat = village_point(k % 2, (k // 2) % 2)
                rows.append(incident(k, lon, lat, at(day, h, minute, second, us), cats[k % 3]))
                k += 1
    tables["incidents"] = rows
    return write_extract(tmp_path_factory.mktemp("hourly") / "hourly.duckdb", tables)


def _count(raw: dict, t0: datetime, t1: datetime, cats: set[str] | None = None) -> int:
    inc = raw["incidents"]
    sel = (inc["reported_at"] >= pd.Timestamp(t0)) & (inc["reported_at"] < pd.Timestamp(t1))
    if cats:
        sel &= inc["category"].isin(cats)
    return int(sel.sum())


def test_hour_windows_count_like_pandas(hourly: Path) -> None:
    raw = load_raw(hourly)
    ex = open_extract(hourly)
    try:
        q = Query(ex)
        for t0, t1 in ((at(D, 13), at(D, 14)), (at(D, 23), at(D, 23) + timedelta(hours=2)),
                       (at(D, 5), at(D + timedelta(days=2), 14)), (at(D, 0), at(D, 1))):
            st = FilterState().with_span(t0, t1)
            assert q.incident_count(st) == _count(raw, t0, t1), (t0, t1)
            pred = compile_filter(st, "incidents", ex.areas, ex.default_as_of)
            assert pred.params["f_start"] == t0 and pred.params["f_stop"] == t1
    finally:
        ex.close()


# -- frames of a replay ------------------------------------------------------------------
def test_sliding_and_cumulative_frames() -> None:
    t0, t1 = at(D, 0), at(D, 0) + timedelta(days=3, hours=12)
    slide = frames(t0, t1, "day", "sliding")
    grow = frames(t0, t1, "day", "cumulative")
    assert len(slide) == len(grow) == 4  # the last step is half a day, cut at the end
    for k, (s, c) in enumerate(zip(slide, grow, strict=True)):
        assert s.start == s.step_start == t0 + timedelta(days=k)
        assert c.start == t0 and c.step_start == s.step_start and c.stop == s.stop
    assert slide[-1].stop == t1
    hours = frames(at(D, 6), at(D, 6) + timedelta(hours=24), "hour", "sliding")
    assert [f.start.hour for f in hours] == [*range(6, 24), *range(0, 6)]
    weeks = frames(at(D, 0), at(D, 0) + timedelta(weeks=3), "week", "sliding")
    assert [f.stop - f.start for f in weeks] == [timedelta(days=7)] * 3
    assert frames(t1, t0, "day", "sliding") == []
    with pytest.raises(ValueError):
        frames(t0, t0 + timedelta(days=3650), "hour", "sliding")


def test_frame_states_follow_the_base_filter() -> None:
    base = FilterState(incident_categories=frozenset({"fire"})).with_window(D, D)
    f = frames(at(D, 13), at(D, 15), "hour", "sliding")[1]
    st = f.state(base)
    assert st.incident_categories == {"fire"}
    assert window_span(st, D + timedelta(days=9)) == (at(D, 14), at(D, 15))


def test_default_ranges_end_at_the_data() -> None:
    end = datetime(2026, 11, 20, 6, 30)
    assert default_range("hour", end) == (datetime(2026, 11, 19, 6), datetime(2026, 11, 20, 6))
    t0, t1 = default_range("day", end)
    assert t1 == datetime(2026, 11, 21) and (t1 - t0).days == 30
    t0, t1 = default_range("week", datetime(2026, 11, 21))
    assert t1 == datetime(2026, 11, 21) and (t1 - t0).days == 84


def test_step_counts_and_skip_empty_like_pandas(hourly: Path) -> None:
    raw = load_raw(hourly)
    ex = open_extract(hourly)
    try:
        q = Query(ex)
        t0, t1 = at(D, 0), at(D + timedelta(days=3), 0)
        for base, cats in ((FilterState(), None),
                           (FilterState(incident_categories=frozenset({"fire"}))
                            .with_window(D, D), {"fire"})):
            for window in ("sliding", "cumulative"):
                fs = frames(t0, t1, "hour", window)
                counts = step_counts(q, base, fs)
                want = [_count(raw, f.step_start, f.stop, cats) for f in fs]
                assert counts.tolist() == want
                kept = plan(q, base, t0, t1, PlaybackSettings("hour", window, skip_empty=True))
                assert [f.step_start for f in kept] == [
                    f.step_start for f, n in zip(fs, want, strict=True) if n]
                assert [f.index for f in kept] == list(range(len(kept)))
                # what a kept frame shows is what pandas counts for it
                for f in kept[:6]:
                    assert q.incident_count(f.state(base)) == _count(raw, f.start, f.stop, cats)
        assert non_empty(fs, counts * 0) == []
    finally:
        ex.close()


def test_settings_refuse_nonsense() -> None:
    for bad in (dict(step="month"), dict(window="rolling"), dict(fps=0), dict(fps=1000)):
        with pytest.raises(ValueError):
            PlaybackSettings(**bad)
