"""Situation playback (态势回放): hour windows of the filter, the frames of a replay, the
play control stepping the window's filter, the wall's replay view, and the GIF/MP4 export.

Counts are checked against pandas over the raw extract (tests/oracle.py), never against
the cockpit's own queries; frames are checked by reading the written files back.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import shiboken6
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication

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
from exporters.video import qimage_rgb, read_back
from layers.filter_text import filter_chips, window_text
from layers.i18n import set_language
from tests.factory import full_tables, incident, village_point, write_extract
from tests.oracle import load_raw

D = date(2025, 5, 3)
ROOT = Path(__file__).resolve().parents[1]


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


# -- the play control in the desk window -------------------------------------------------
_WINDOWS: list = []


@pytest.fixture(autouse=True)
def _dispose_windows() -> Iterator[None]:
    """Close each window and collect its garbage while no worker runs (as in
    tests/test_cockpit_window.py)."""
    set_language("zh")
    yield
    while _WINDOWS:
        win = _WINDOWS.pop()
        if not shiboken6.isValid(win):  # pytest-qt's addWidget closed and deleted it
            continue
        win.close()
        win.deleteLater()
    if QApplication.instance() is not None:
        QApplication.processEvents()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("pbdemo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=7)
    return path


@pytest.fixture(scope="module")
def raw(demo: Path) -> dict:
    return load_raw(demo)


def drawn(win) -> bool:
    board = win.board
    panels = board.panels.panels
    return (not win.session.jobs.busy() and panels is not None
            and panels.state == win.session.filters.state and board.map.scene is not None)


def open_window(qtbot, path: Path, theme: str = "dark", lang: str = "zh"):
    from desktop.main_window import CockpitWindow
    from widgets.theme import DARK, LIGHT

    win = CockpitWindow(LIGHT if theme == "light" else DARK, lang, interactive=False)
    _WINDOWS.append(win)
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        win.open_path(str(path))
    qtbot.waitUntil(lambda: drawn(win), timeout=60_000)
    return win


def shown_total(win) -> int:
    """Incidents of the window's filter as its category chart draws them."""
    return int(sum(win.board.categories.spec().series[0])) \
        if win.board.categories.spec() is not None else 0


def test_play_control_steps_the_filter_and_the_panels_follow(qtbot, demo: Path, raw: dict
                                                             ) -> None:
    win = open_window(qtbot, demo)
    c, p = win.playback.control, win.playback.player
    store = win.session.filters
    assert c.isVisible() and not c.stop_button.isEnabled()
    # the default range of daily steps: the 30 days up to the end of the extract's day
    at = raw["extracted_at"]
    t1 = datetime.combine(at.date() + timedelta(days=1), datetime.min.time())
    t0 = t1 - timedelta(days=30)
    qtbot.mouseClick(c.forward_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: p.active() and drawn(win), timeout=30_000)
    assert window_span(store.state, raw["as_of"]) == (t0, t0 + timedelta(days=1))
    assert shown_total(win) == _count(raw, t0, t0 + timedelta(days=1))
    assert c.stop_button.isEnabled() and "1/30" in c.frame_label.text()
    for k in (1, 2):
        qtbot.mouseClick(c.forward_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: drawn(win), timeout=30_000)
        a = t0 + timedelta(days=k)
        assert window_span(store.state, raw["as_of"]) == (a, a + timedelta(days=1))
        assert shown_total(win) == _count(raw, a, a + timedelta(days=1))
    # cumulative: the same step, everything from the first day on
    c.window_box.setCurrentIndex(c.window_box.findData("cumulative"))
    qtbot.waitUntil(lambda: drawn(win) and store.state.start == t0.date(), timeout=30_000)
    end = t0 + timedelta(days=3)
    assert window_span(store.state, raw["as_of"]) == (t0, end)
    assert shown_total(win) == _count(raw, t0, end)
    # hours: the frame holding the current time, then one hour on
    c.step_box.setCurrentIndex(c.step_box.findData("hour"))
    qtbot.waitUntil(lambda: drawn(win) and p.settings.step == "hour"
                    and store.state.has_hours(), timeout=30_000)
    qtbot.mouseClick(c.forward_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: drawn(win), timeout=30_000)
    t = window_span(store.state, raw["as_of"])
    assert t[0] == t0 and t[1] - t[0] == timedelta(days=2, hours=2)  # cumulative hours
    assert shown_total(win) == _count(raw, *t)
    assert win.window_label.text() == window_text(store.state, "zh")
    # the replay was one change to undo; stop puts the window from before it back
    qtbot.mouseClick(c.stop_button, Qt.MouseButton.LeftButton)
    assert not p.active() and store.state.start is None and not store.state.has_hours()
    assert not c.stop_button.isEnabled()


def test_play_paces_frames_to_drawing_and_never_floods_the_jobs(qtbot, demo: Path, raw: dict
                                                                ) -> None:
    win = open_window(qtbot, demo)
    c, p = win.playback.control, win.playback.player
    store, jobs = win.session.filters, win.session.jobs
    c.set_settings(PlaybackSettings("hour", "sliding", 10.0))
    p.set_settings(c.settings)
    states: list = []
    panels_drawn: list = []
    store.changed.connect(states.append)
    win.board.panels.shown.connect(lambda panels: panels_drawn.append(panels.state))
    cancelled = jobs.stats.cancelled
    with qtbot.waitSignal(p.finished, timeout=120_000):
        qtbot.mouseClick(c.play_button, Qt.MouseButton.LeftButton)
        assert c.playing()
    qtbot.waitUntil(lambda: drawn(win), timeout=30_000)
    at = raw["extracted_at"].replace(minute=0, second=0, microsecond=0)
    want = [(at - timedelta(hours=24 - k), at - timedelta(hours=23 - k)) for k in range(24)]
    assert [window_span(s, raw["as_of"]) for s in states] == want
    # every frame was drawn, each before the next one was asked for: nothing to cancel
    assert panels_drawn == states
    assert jobs.stats.cancelled == cancelled
    assert not c.playing() and p.index == 23
    assert shown_total(win) == _count(raw, *want[-1])


def test_skip_empty_frames_in_the_window(qtbot, hourly: Path) -> None:
    raw = load_raw(hourly)
    win = open_window(qtbot, hourly)
    c, p = win.playback.control, win.playback.player
    store = win.session.filters
    store.set(store.state.with_window(D, D + timedelta(days=1)))
    qtbot.waitUntil(lambda: drawn(win), timeout=30_000)
    c.step_box.setCurrentIndex(c.step_box.findData("hour"))
    c.speed_box.setCurrentIndex(c.speed_box.findData(10.0))
    c.skip_box.setChecked(True)
    assert p.settings == PlaybackSettings("hour", "sliding", 10.0, skip_empty=True)
    states: list = []
    store.changed.connect(states.append)
    with qtbot.waitSignal(p.finished, timeout=120_000):
        p.play()
    hours = [at(D, 0) + timedelta(hours=k) for k in range(48)]
    want = [(h, h + timedelta(hours=1)) for h in hours
            if _count(raw, h, h + timedelta(hours=1)) > 0]
    assert 0 < len(want) < 48
    assert [window_span(s, raw["as_of"]) for s in states] == want


def test_someone_else_moving_the_window_ends_the_replay(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    p, store = win.playback.player, win.session.filters
    p.step(1)
    qtbot.waitUntil(lambda: p.active() and drawn(win), timeout=30_000)
    store.apply(lambda st: st.toggle("incident_categories", "fire"))  # kept, replay goes on
    assert p.active()
    p.step(1)
    assert store.state.incident_categories == {"fire"}
    store.back()  # undo: the category, then the whole replay, in one step each
    store.back()
    assert not p.active() and store.state.start is None


def test_screenshots_of_the_play_control(qtbot, demo: Path, tmp_path: Path) -> None:
    """The control above the timeline, dark and light, playing (kept with COCKPIT_SHOTS)."""
    out = Path(os.environ.get("COCKPIT_SHOTS") or tmp_path)
    for theme in ("dark", "light"):
        win = open_window(qtbot, demo, theme, "zh" if theme == "dark" else "en")
        p = win.playback.player
        p.step(1)
        qtbot.waitUntil(lambda p=p, win=win: p.active() and drawn(win), timeout=30_000)
        c = win.playback.control
        assert c.geometry().bottom() < win.board.timeline.mapTo(c.parentWidget(),
                                                                QPoint(0, 0)).y() + 1
        img = win.grab().toImage()
        img.save(str(out / f"play_control_{theme}.png"))
        bar = img.copy(QRect(c.mapTo(win, QPoint(0, 0)), c.size()))
        # drawn in the theme's colours: the control is not a white strip on a dark window
        rgb = qimage_rgb(bar).reshape(-1, 3).astype(int)
        bright = (rgb.min(axis=1) > 235).mean()
        assert (bright < 0.2) if theme == "dark" else (bright > 0.2)
        win.close()


# -- the wall's replay view --------------------------------------------------------------
def test_wall_replays_the_last_hours_then_moves_on(qtbot, demo: Path, raw: dict) -> None:
    from desktop.wall import WallWindow
    from desktop.wall_config import WallConfig, WallView

    cfg = WallConfig(rotate_seconds=30.0, check_seconds=5.0, views=(
        WallView("回放", maps=("situation",), hotspots=False, replay="6h", replay_step="hour",
                 replay_fps=10.0),
        WallView("全县态势", maps=("situation",))))
    win = WallWindow(str(demo), cfg)
    _WINDOWS.append(win)
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    win.show()
    states: list = []
    texts: list = []
    win.session.filters.changed.connect(states.append)
    win.session.filters.changed.connect(lambda _s: texts.append(win.banner.filter.text()))
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        win.start()
    qtbot.waitUntil(lambda: win.current_view() is not None
                    and win.current_view().name == "全县态势", timeout=60_000)
    at = raw["extracted_at"].replace(minute=0, second=0, microsecond=0)
    want = [(at - timedelta(hours=6 - k), at - timedelta(hours=5 - k)) for k in range(6)]
    hours = [window_span(s, raw["as_of"]) for s in states if s.has_hours()]
    assert hours == want
    assert window_text(states[-2], "zh") in texts  # the banner said which hour it showed
    assert win.session.options.value.incident_points is False  # still aggregated only
    assert not win.session.filters.state.has_hours()  # the next view has no replay window
    assert win._rotate.isActive()  # the rotation goes on


def test_wall_config_replay_keys() -> None:
    from desktop.wall_config import parse

    cfg = parse('[[views]]\nname = "a"\nreplay = "24h"\nreplay_window = "cumulative"\n'
                '[[views]]\nname = "b"\nreplay = "soon"\n'
                '[[views]]\nname = "c"\nreplay = "30d"\nreplay_step = "hour"\n')
    a, b, c = cfg.views
    assert (a.replay, a.replay_step, a.replay_window) == ("24h", "hour", "cumulative")
    assert b.replay == "" and c.replay == ""
    text = "\n".join(cfg.warnings)
    assert "views[1].replay" in text and "views[2].replay" in text


# -- cockpit playback: GIF and MP4 -------------------------------------------------------
def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})})


def gif_frames(path: Path) -> list[np.ndarray]:
    out = []
    with Image.open(path) as im:
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("RGB")))
    return out


@pytest.mark.slow
def test_gif_has_one_frame_per_step_each_with_its_stamp(demo: Path, raw: dict,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "replay.gif"
    r = run_cli("playback", str(demo), "--out", str(out), "--step", "hour", "--size",
                "800x600", "--fps", "4", env={"COCKPIT_DATA_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    frames = gif_frames(out)
    assert len(frames) == 24 and frames[0].shape == (600, 800, 3)
    for a, b in itertools.pairwise(frames):
        assert (np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 30).sum() > 100
    with Image.open(out) as im:
        assert im.info.get("loop") == 0 and im.info.get("duration") == 250
    line = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert line["action"] == "export_playback" and line["details"]["summary"]["frames"] == 24
    assert not [f for f in tmp_path.iterdir() if ".part" in f.name]


@pytest.mark.slow
def test_stamps_and_frames_follow_the_steps(qtbot, demo: Path, raw: dict,
                                            tmp_path: Path) -> None:
    """In process, the map alone: each frame's stamp names its own window."""
    from desktop.playback_export import PlaybackExport, render_playback

    settings = PlaybackSettings("hour", "cumulative", 5.0)
    t1 = raw["extracted_at"].replace(minute=0, second=0, microsecond=0)
    t0 = t1 - timedelta(hours=5)
    fs = tuple(frames(t0, t1, "hour", "cumulative"))
    job = PlaybackExport(str(demo), str(tmp_path / "m.gif"), fs, FilterState(), settings,
                         (640, 480), "en", "light", map_only=True)
    summary = render_playback(job)
    assert t0.date() == t1.date()  # the demo's extract time is 06:00: one day
    want = [f"{t0:%Y-%m-%d} {t0.hour:02d}:00–{t0.hour + k + 1:02d}:00" for k in range(5)]
    assert summary["captions"] == want
    assert summary["frames"] == 5 and read_back(tmp_path / "m.gif") == (5, (640, 480))



@pytest.mark.slow
def test_the_same_arguments_give_the_same_file(demo: Path, tmp_path: Path) -> None:
    outs = [tmp_path / "a.gif", tmp_path / "b.gif"]
    for out in outs:
        r = run_cli("playback", str(demo), "--out", str(out), "--map-only", "--size",
                    "400x300", "--step", "day", "--window", "cumulative",
                    env={"COCKPIT_DATA_DIR": str(tmp_path)})
        assert r.returncode == 0, r.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert read_back(outs[0]) == (30, (400, 300))


@pytest.mark.slow
def test_mp4_is_a_valid_h264_file_with_every_frame(demo: Path, raw: dict,
                                                   tmp_path: Path) -> None:
    import imageio_ffmpeg

    out = tmp_path / "week.mp4"
    last = raw["as_of"]
    first = last - timedelta(days=6)
    r = run_cli("playback", str(demo), "--out", str(out), "--from", first.isoformat(),
                "--to", last.isoformat(), "--size", "643x481", "--window", "cumulative",
                "--lang", "en", env={"COCKPIT_DATA_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert read_back(out) == (7, (642, 480))  # odd sizes rounded down to even (yuv420p)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    decoded = [np.frombuffer(f, np.uint8).reshape(480, 642, 3) for f in reader]
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert len(decoded) == 7
    assert all(np.abs(a.astype(int) - b.astype(int)).mean() > 0.05
               for a, b in itertools.pairwise(decoded))
    data = out.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # faststart: the index first


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-11-10", "--to", "2026-11-01"], "is after --to"),
    (["--area", "NOWHERE"], "unknown area"),
    (["--size", "10x10"], "--size"),
    (["--size", "wide"], "--size"),
    (["--fps", "0"], "fps"),
    (["--from", "2001-01-01", "--to", "2001-01-02"], "no incidents"),
    (["--from", "2030-01-01", "--to", "2030-01-02"], "no frames"),
    (["--step", "hour", "--from", "2020-01-01", "--to", "2026-11-01"], "frames"),
])
def test_bad_arguments_one_line_exit_2_nothing_written(demo: Path, tmp_path: Path, capsys,
                                                       monkeypatch, args: list, message: str
                                                       ) -> None:
    from desktop.cli import main

    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path))
    out = tmp_path / "x.gif"
    assert main(["playback", str(demo), "--out", str(out), *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_wrong_suffix_and_missing_folder(demo: Path, tmp_path: Path, capsys) -> None:
    from desktop.cli import main

    for out in (tmp_path / "x.avi", tmp_path / "no" / "x.gif"):
        assert main(["playback", str(demo), "--out", str(out)]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_bar_chart_updated_in_place_looks_drawn_afresh(qtbot) -> None:
    """A replay changes only the bars' values: the chart moves its bars and labels instead
    of re-creating them, and must look exactly like one drawn from scratch."""
    from layers.panels import BarSpec
    from widgets.charts import BarChart

    def spec(k: int, horizontal: bool = False) -> BarSpec:
        n = 24 if not horizontal else 6
        return BarSpec("hours", f"时段 {k}", tuple(str(h) for h in range(n)),
                       tuple(str(h) for h in range(n)),
                       (tuple(float((h * k) % 7 + k) for h in range(n)),),
                       colors=((64, 156, 255, 255),) if not horizontal else tuple(
                           (40 * h, 100, 200, 255) for h in range(n)),
                       selected=frozenset({"2"}) if k % 2 else frozenset(),
                       horizontal=horizontal)

    for horizontal in (False, True):
        moved, fresh = BarChart(), BarChart()
        for w in (moved, fresh):
            qtbot.addWidget(w)
            w.resize(420, 260)
            w.show()
        moved.set_spec(spec(1, horizontal))
        moved.show_error("boom")  # and back from an error
        for k in (2, 3):
            moved.set_spec(spec(k, horizontal))
        fresh.set_spec(spec(3, horizontal))
        qtbot.wait(20)
        assert moved.error() is None
        a, b = qimage_rgb(moved.grab().toImage()), qimage_rgb(fresh.grab().toImage())
        assert a.shape == b.shape and (a != b).any(axis=2).sum() == 0


def test_panels_reused_across_windows_equal_panels_built_afresh(demo: Path) -> None:
    """build_panels(reuse=...) keeps the window-free panels of the last frame: the result
    must be what a build from scratch gives, for windows of hours and days, and nothing
    is reused when more than the window changed."""
    from layers.dashboard import build_panels

    ex = open_extract(demo)
    try:
        q = Query(ex)
        end = ex.extracted_at.replace(minute=0, second=0, microsecond=0)
        states = [FilterState().with_span(end - timedelta(hours=k + 1), end - timedelta(hours=k))
                  for k in range(3)]
        states += [FilterState().with_window(end.date() - timedelta(days=9), end.date()),
                   FilterState(incident_categories=frozenset({"fire"}),
                               areas=frozenset({"T01"})).with_window(
                       end.date() - timedelta(days=3), end.date()),
                   FilterState()]
        previous = build_panels(q, states[0], "zh")
        for st in states[1:]:
            reused = build_panels(q, st, "zh", previous)
            assert reused == build_panels(q, st, "zh"), st
            previous = reused
        en = build_panels(q, states[-1], "en", previous)  # another language: nothing reused
        assert en.kpis[0].title != previous.kpis[0].title and en.lang == "en"
        q.con.close()
    finally:
        ex.close()


def test_writers_leave_nothing_behind_when_they_fail(tmp_path: Path) -> None:
    from exporters.video import GifWriter, Mp4Writer, VideoError

    rng = np.random.default_rng(3)
    frames_rgb = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    with pytest.raises(ValueError):
        Mp4Writer(tmp_path / "odd.mp4", (63, 48), 2.0)
    w = Mp4Writer(tmp_path / "a.mp4", (64, 48), 2.0)
    w.add(frames_rgb[0])
    w.abort()
    with pytest.raises(VideoError):
        Mp4Writer(tmp_path / "b.mp4", (64, 48), 2.0).close()  # no frames
    with pytest.raises(ValueError):
        GifWriter(tmp_path / "c.gif", (64, 48), 2.0).add(frames_rgb[0][:, :10])
    assert list(tmp_path.iterdir()) == []
    g = GifWriter(tmp_path / "d.gif", (64, 48), 5.0, palette="global")
    for f in frames_rgb:
        g.add(f)
    g.close()
    assert read_back(tmp_path / "d.gif") == (3, (64, 48))
    assert [p.name for p in tmp_path.iterdir()] == ["d.gif"]


def test_wall_moves_on_when_new_data_cuts_a_replay_short(qtbot, demo: Path) -> None:
    """A feed replaced every few seconds must not hold the rotation on its replay view."""
    from desktop.wall import WallWindow
    from desktop.wall_config import WallConfig, WallView

    cfg = WallConfig(rotate_seconds=30.0, check_seconds=60.0, views=(
        WallView("回放", replay="24h", replay_step="hour", replay_fps=0.5),
        WallView("全县态势")))
    win = WallWindow(str(demo), cfg)
    _WINDOWS.append(win)
    qtbot.addWidget(win)
    win.resize(1600, 900)
    win.show()
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        win.start()
    qtbot.waitUntil(lambda: win.replay.active(), timeout=30_000)
    assert win.current_view().name == "回放" and not win._rotate.isActive()
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        win.session.open(str(demo))  # what the wall does when the file is replaced
    assert win.current_view().name == "全县态势" and not win.replay.active()
    assert win._rotate.isActive() and win.reloads == 1
