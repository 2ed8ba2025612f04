"""The stored opening view (desktop/first_frame.py): reused exactly, never stale."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

import desktop.first_frame as ff
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from layers.dashboard import build_panels
from layers.scene import SceneOptions, build_scene, full_view


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("ff") / "demo.duckdb"
    generate_demo(path, incidents=8_000, seed=3)
    return path


def test_panels_round_trip_and_only_for_the_default_state(demo: Path) -> None:
    ex = open_extract(demo)
    q = Query(ex, ex.cursor())
    panels = build_panels(q, FilterState(), "zh")
    assert ff.load(ex, FilterState(), "zh") is None
    ff.store(ex, panels, "zh")
    assert ff.load(ex, FilterState(), "zh") == panels
    assert ff.load(ex, FilterState(), "en") is None  # another language is another file
    day = FilterState().with_window(None, ex.default_as_of)
    ff.store(ex, build_panels(q, day, "zh"), "zh")
    assert ff.load(ex, day, "zh") is None
    ex.close()


def test_a_damaged_file_is_ignored_and_removed(demo: Path) -> None:
    ex = open_extract(demo)
    ff.store(ex, build_panels(Query(ex, ex.cursor()), FilterState(), "zh"), "zh")
    path = ff.memo_path(ex, "zh")
    path.write_bytes(b"\x80\x05not a pickle")
    assert ff.load(ex, FilterState(), "zh") is None and not path.exists()
    ex.close()


def test_new_code_or_a_replaced_extract_never_reads_an_old_file(demo: Path, tmp_path: Path,
                                                                 monkeypatch) -> None:
    ex = open_extract(demo)
    ff.store(ex, build_panels(Query(ex, ex.cursor()), FilterState(), "zh"), "zh")
    monkeypatch.setattr(ff, "code_version", lambda: "another")
    assert ff.load(ex, FilterState(), "zh") is None
    monkeypatch.undo()
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(demo.read_bytes())
    other = open_extract(copy)
    assert ff.memo_path(other, "zh") != ff.memo_path(ex, "zh")
    assert ff.load(other, FilterState(), "zh") is None
    ex.close()
    other.close()


def test_the_map_is_reused_only_for_the_same_view_and_options(demo: Path) -> None:
    ex = open_extract(demo)
    q = Query(ex, ex.cursor())
    view = full_view(ex, 900, 600)
    opts = SceneOptions(lang="zh", resources=False)
    scene = build_scene(q, FilterState(), view, opts)
    ff.store_scene(ex, FilterState(), opts, scene)
    got = ff.load_scene(ex, FilterState(), view, opts)
    assert got is not None and [s.name for s in got.layers] == [s.name for s in scene.layers]
    assert ff.load_scene(ex, FilterState(), full_view(ex, 901, 600), opts) is None
    assert ff.load_scene(ex, FilterState(), view, SceneOptions(lang="zh")) is None
    ex.close()


@pytest.fixture
def _windows() -> Iterator[list]:
    """Windows opened by the test, disposed of after qtbot's own teardown (see
    tests/test_cockpit_window.py for why they are collected between tests)."""
    from tests.test_cockpit_window import _WINDOWS

    yield _WINDOWS
    while _WINDOWS:
        w = _WINDOWS.pop()
        if not shiboken6.isValid(w):  # pytest-qt's addWidget closed and deleted it
            continue
        w.close()
        if w.extract is not None:
            w.extract.close()
        w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()


def test_a_second_start_shows_the_stored_panels(_windows, qtbot, demo: Path,
                                                monkeypatch) -> None:
    import desktop.panels_presenter as presenter
    from tests.test_cockpit_window import kpi, open_window

    first = open_window(qtbot, demo)
    want = [t.spec() for t in first.board.kpis.tiles()]
    first.close()

    def refuse(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(presenter, "build_panels", refuse)
    second = open_window(qtbot, demo)
    assert [t.spec() for t in second.board.kpis.tiles()] == want
    assert second.board.kpis.error() is None
    assert kpi(second, "overdue") == kpi(first, "overdue")
