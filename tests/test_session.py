"""The session under the windows: immediate filter feedback, panels that follow a failed
map, bursts of filter changes, and an open that neither blocks the GUI nor resists cancel.

Figures are compared with the pandas oracle (tests/oracle.py); the window is real and
offscreen, its jobs run on real worker threads against a real DuckDB cache.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from data.cache import cache_dir
from desktop.main_window import CockpitWindow
from desktop.session import CockpitSession, ViewOptions
from layers.filter_text import window_text
from tests.oracle import expected_report
from tests.test_cockpit_window import (  # noqa: F401  (autouse fixtures)
    _WINDOWS,
    _dispose_windows,
    _zh,
    open_window,
    wait_frame,
)
from widgets.theme import DARK


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


def test_chips_tree_and_header_follow_the_filter_at_once(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    areas = win.extract.areas
    town = areas.ids[areas.at_level("town")[2]]
    as_of = win.extract.default_as_of
    new = win.session.filters.state.with_areas({town}).with_window(
        as_of - timedelta(days=30), as_of)
    win.session.filters.set(new)
    # no event loop turn, no job finished: what needs only the state is already shown
    assert win.session.jobs.busy()
    labels = [c.text() for c in win.filter_bar.chips()]
    assert any(areas.names[areas.idx_of(town)] in t for t in labels)
    assert any(window_text(new, "zh") in t for t in labels)
    assert win.window_label.text() == window_text(new, "zh")
    assert win.board.area_tree.item(town).isSelected()
    wait_frame(qtbot, win)


def test_a_failed_map_still_lets_the_panels_follow(qtbot, demo: Path, monkeypatch) -> None:
    import desktop.map_presenter as mp

    win = open_window(qtbot, demo)

    def broken(*_a, **_k):
        raise RuntimeError("map broke")

    monkeypatch.setattr(mp, "build_scene", broken)
    town = win.extract.areas.ids[win.extract.areas.at_level("town")[0]]
    win.session.filters.set(win.session.filters.state.with_areas({town}))
    wait_panels = win.board.panels
    qtbot.waitUntil(lambda: wait_panels.panels is not None
                    and wait_panels.panels.state == win.session.filters.state
                    and not win.session.jobs.busy(), timeout=30_000)
    assert win.board.map_error.isVisible() and "map broke" in win.board.map_error.text()
    want = expected_report(demo, area=town)
    spec = win.board.categories.spec()
    assert dict(zip(spec.keys, spec.series[0], strict=True)) == {
        k: v for k, v in want["incidents"]["by_category"].items() if v}
    assert win.failures and "map broke" in win.failures[-1][1]


def test_a_burst_of_filter_changes_ends_with_the_last_one_drawn(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    as_of = win.extract.default_as_of
    states = [win.session.filters.state.with_window(as_of - timedelta(days=40 + k), as_of)
              for k in range(20)]
    drawn: list[object] = []
    win.board.panels.shown.connect(lambda p: drawn.append(p.state))
    for st in states:
        win.session.filters.set(st)
        qtbot.wait(5)
    wait_frame(qtbot, win)
    assert win.board.panels.panels.state == states[-1] and drawn[-1] == states[-1]
    assert win.session.jobs.running() == []
    # nothing older is drawn after something newer: a late answer never wins
    order = [states.index(s) for s in drawn]
    assert order == sorted(order)
    want = expected_report(demo, start=states[-1].start, end=as_of)
    spec = win.board.categories.spec()
    assert sum(spec.series[0]) == want["incidents"]["total"]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("big") / "big.duckdb"
    generate_demo(path, incidents=400_000, seed=5)
    return path


def _gaps_while(qtbot, until, timeout_ms: int = 60_000) -> float:
    """The longest time (s) the GUI thread ran no 10 ms timer until ``until`` held."""
    ticks: list[float] = [time.perf_counter()]
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    qtbot.waitUntil(until, timeout=timeout_ms)
    timer.stop()
    ticks.append(time.perf_counter())
    return max(b - a for a, b in itertools.pairwise(ticks))


@pytest.mark.slow
def test_opening_never_blocks_the_gui_and_can_be_cancelled(qtbot, demo: Path, big: Path
                                                           ) -> None:
    win = open_window(qtbot, demo)
    before = win.extract
    # cancel: the open stops, the current extract stays, no cache file is left behind
    cancelled: list[tuple[str, str]] = []
    win.open_failed.connect(lambda r, p: cancelled.append((r, p)))
    win.open_path(str(big))
    assert win.progress_box.isVisibleTo(win)
    qtbot.waitUntil(lambda: win.progress.value() > 60, timeout=60_000)  # under way
    win.cancel_button.click()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=30_000)
    assert cancelled == [("", str(big))]
    assert win.extract is before and not win.progress_box.isVisibleTo(win)
    assert not [f for f in cache_dir().glob("*.duckdb") if "big" in f.name]
    assert not list(cache_dir().glob("*.tmp-*"))
    # open it for real: the GUI thread keeps its timer going the whole time
    win.open_path(str(big))
    gap = _gaps_while(qtbot, lambda: win.extract is not before, timeout_ms=120_000)
    assert win.session.path == str(big)
    assert gap < 0.5, f"the GUI thread stalled for {gap:.2f} s while opening"
    wait_frame(qtbot, win, timeout=60_000)


def test_a_newer_open_supersedes_an_older_one(qtbot, demo: Path, big: Path,
                                              tmp_path: Path) -> None:
    session = CockpitSession(ViewOptions())
    try:
        opened: list[str] = []
        session.extract_changed.connect(lambda _e: opened.append(session.path))
        session.open(str(big))
        session.open(str(demo))
        qtbot.waitUntil(lambda: bool(opened) and not session.opening(), timeout=60_000)
        qtbot.wait(100)
        assert opened == [str(demo)]
    finally:
        session.close()


def test_window_shares_a_session_with_another_view(qtbot, demo: Path) -> None:
    """Two windows on one session: a filter set in one is the other's filter."""
    session = CockpitSession(ViewOptions())
    a = CockpitWindow(DARK, session=session, interactive=False)
    b = CockpitWindow(DARK, session=session, interactive=False)
    _WINDOWS.extend([a, b])
    for w in (a, b):
        qtbot.addWidget(w)
        w.resize(1600, 900)
        w.show()
    with qtbot.waitSignal(session.extract_changed, timeout=60_000):
        session.open(str(demo))
    town = session.extract.areas.ids[session.extract.areas.at_level("town")[1]]
    a.board.map.select_area(town, zoom=False)
    assert b.board.area_tree.item(town).isSelected()
    qtbot.waitUntil(lambda: b.board.panels.panels is not None
                    and b.board.panels.panels.state == session.filters.state
                    and not session.jobs.busy(), timeout=30_000)
    a.set_language("en")
    assert b.lang_button.text() == "中文" and b.board.map_buttons["hazards"].text() == "Hazards"
    a.set_language("zh")
    session.close()
