"""Wall mode: configuration, reload decisions, and the real wall window offscreen.

The window tests run the real ``WallWindow`` on real demo files and replace the
extract on disk the way a command centre's feed does (rename, garbage, a truncated
copy); figures are compared with the pandas oracle of the file on disk.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMenuBar, QPushButton

from desktop.extract_watch import ReloadTracker
from desktop.wall_config import WallConfig, WallView, expand_views, load_config, parse
from layers.i18n import set_language
from tests.oracle import expected_report, load_raw
from tests.test_cockpit_window import grab, kpi, month_to_date, number
from widgets.filter_bar import FilterBar

ROOT = Path(__file__).resolve().parents[1]


# -- configuration ------------------------------------------------------------------------
def test_builtin_configuration_is_clean_and_complete() -> None:
    cfg = load_config(Path("/nonexistent/wall.toml"))
    assert [w for w in cfg.warnings if "no such file" not in w] == []
    assert cfg.incidents == "density" and cfg.min_cell_m > 0 and not cfg.repeats
    maps = {m for v in cfg.views for m in v.maps}
    assert maps == {"situation", "resources", "hazards"}
    assert {v.focus for v in cfg.views} >= {"rectification", "mediation", "hotspots"}
    assert any(v.each_town for v in cfg.views)


def test_user_file_overrides_key_by_key_and_bad_values_only_warn(tmp_path: Path) -> None:
    f = tmp_path / "wall.toml"
    f.write_text('[wall]\nrotate_seconds = 20\ncheck_seconds = -1\ntheme = "pink"\n'
                 'incidents = "points"\nmystery = 1\n'
                 '[[views]]\nname = "A"\nmaps = ["hazards", "moon"]\nfocus = "nowhere"\n'
                 '[[views]]\nmaps = ["situation"]\n', encoding="utf-8")
    cfg = load_config(f)
    base = load_config(tmp_path / "none.toml")
    assert cfg.rotate_seconds == 20 and cfg.incidents == "points"
    assert cfg.check_seconds == base.check_seconds and cfg.theme == base.theme
    assert [v.name for v in cfg.views] == ["A"]
    assert cfg.views[0].maps == ("hazards",) and cfg.views[0].focus == "map"
    text = "\n".join(cfg.warnings)
    for needle in ("check_seconds", "theme", "mystery", "moon", "nowhere", "needs a name"):
        assert needle in text


def test_garbled_file_keeps_the_defaults(tmp_path: Path) -> None:
    f = tmp_path / "wall.toml"
    f.write_bytes(b"[wall\n\xff\xfe rotate = ")
    cfg = load_config(f)
    assert cfg.warnings and cfg.views == load_config(tmp_path / "x.toml").views
    assert parse("not = [toml", WallConfig()).warnings


def test_each_town_expands_in_area_order() -> None:
    views = (WallView("县"), WallView("{town} 热点", "{town} hotspots", each_town=True))
    got = expand_views(views, [("T1", "甲镇"), ("T2", "乙乡")])
    assert [v.name for v in got] == ["县", "甲镇 热点", "乙乡 热点"]
    assert [v.area for v in got] == ["", "T1", "T2"] and got[2].title("en") == "乙乡 hotspots"


# -- reload decisions ---------------------------------------------------------------------
def test_tracker_waits_for_a_file_to_hold_still_and_retries_failures(tmp_path: Path) -> None:
    f = tmp_path / "x.duckdb"
    f.write_bytes(b"v1")
    t = ReloadTracker(f, retry_s=10)
    t.loading = t.poll(0) or "x"  # the first open is started by the wall itself
    from desktop.extract_watch import signature

    t.succeeded(signature(f))
    assert t.poll(1) is None  # unchanged
    f.write_bytes(b"v2 longer")
    assert t.poll(2) is None  # just changed: let it settle
    sig = t.poll(3)
    assert sig == signature(f) and t.poll(3.5) is None  # one load at a time
    t.failed(sig, "broken", 4)
    assert t.stale_since == 2 and t.failure == "broken"  # stale since it appeared
    assert t.poll(5) is None and t.poll(13) is None  # retried only after retry_s
    assert t.poll(14.5) == sig
    t.failed(sig, "broken", 15)
    f.write_bytes(b"v3 good now")
    assert t.poll(16) is None and t.poll(17) == signature(f)  # a change is tried at once
    t.succeeded(signature(f))
    assert t.stale_since is None and t.failure == ""


def test_tracker_calls_a_missing_file_stale_only_after_a_while(tmp_path: Path) -> None:
    f = tmp_path / "x.duckdb"
    f.write_bytes(b"v1")
    from desktop.extract_watch import signature

    t = ReloadTracker(f, retry_s=5)
    t.succeeded(signature(f))
    f.unlink()
    assert t.poll(0) is None and t.stale_since is None  # between unlink and rename
    assert t.poll(6) is None and t.stale_since == 0 and t.failure == "missing"
    f.write_bytes(b"v1")  # back (a new file: a new version), still stale until it loads
    assert t.poll(7) is None and t.stale_since == 0 and t.failure == "missing"
    sig = t.poll(8)  # it held still for a poll: load it
    assert sig == signature(f) and t.loading == sig and t.stale_since == 0
    t.succeeded(sig)
    assert t.stale_since is None and t.failure == "" and t.poll(9) is None


# -- the wall window ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from demo import generate_demo

    d = tmp_path_factory.mktemp("wall")
    a, b = d / "a.duckdb", d / "b.duckdb"
    generate_demo(a, incidents=20_000, seed=5)
    generate_demo(b, incidents=26_000, seed=5)  # the same county, more incidents
    return a, b


_WALLS: list = []


@pytest.fixture(autouse=True)
def _dispose() -> Iterator[None]:
    set_language("zh")
    yield
    while _WALLS:  # see tests/test_cockpit_window.py: close, then collect, between tests
        win = _WALLS.pop()
        win.close()
        if win.extract is not None:
            win.extract.close()
        win.deleteLater()
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # run deleteLater
    gc.collect()
    QApplication.restoreOverrideCursor()


def settled(win) -> bool:
    panels = win.board.panels.panels
    return (win.extract is not None and not win.session.jobs.busy() and panels is not None
            and panels.state == win.session.filters.state and win.board.map.scene is not None)


def open_wall(qtbot, path: Path, config: WallConfig | None = None, size=(1920, 1080)):
    from desktop.wall import WallWindow

    cfg = config or replace(load_config(path.parent / "none.toml"), check_seconds=0.2,
                            retry_seconds=0.5)
    win = WallWindow(str(path), cfg)
    _WALLS.append(win)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        win.start()
    qtbot.waitUntil(lambda: settled(win), timeout=30_000)
    qtbot.wait(50)
    return win


def test_wall_shows_its_context_and_no_controls(qtbot, demos) -> None:
    a, _ = demos
    win = open_wall(qtbot, a)
    want = expected_report(a)
    b = win.banner
    assert b.title.text() == win.extract.region_name
    assert b.view.text() == win.config.views[0].name
    assert want["as_of"] in b.as_of.text()
    assert "全部时段" in b.filter.text()
    assert re.fullmatch(r"\d\d:\d\d:\d\d", b.clock.text())
    # nothing to click: no menus, no filter chips, no buttons (the map's toolbar is hidden)
    assert not win.findChildren(QMenuBar) and not win.findChildren(FilterBar)
    assert not [b for b in win.findChildren(QPushButton) if b.isVisible()]
    assert not win.board.map_toolbar.isVisible()
    assert not b.is_stale()
    assert number(kpi(win, "overdue")) == want["hazards"]["overdue"]
    assert win.focused_widgets() == [win.board.canvas]


def test_wall_never_shows_single_incidents_or_leaves_a_card_open(qtbot, demos) -> None:
    a, _ = demos
    cfg = replace(load_config(a.parent / "none.toml"), detail_timeout_seconds=1.0)
    win = open_wall(qtbot, a, cfg)
    # zoom to one village: on the desk its few incidents would be symbols at their places
    areas = win.extract.areas
    village = min(areas.at_level("village"), key=lambda i: areas.geoms[i].area)
    win.board.map.zoom_to_area(areas.ids[village])
    qtbot.waitUntil(lambda: settled(win)
                    and win.board.map.scene.view == win.board.canvas.map_view(), timeout=20_000)
    spec = win.board.map.scene.layer("incidents")
    assert spec is not None and spec.meta["mode"] == "density"
    raster = spec.drawables[0]
    x0, _, x1, _ = raster.extent
    assert (x1 - x0) / raster.values.shape[1] >= cfg.min_cell_m * 0.999
    # a details card closes itself
    win.board.details.show_dispatch(None)
    win.board.details.show()
    assert win.board.details.isVisible()
    qtbot.waitUntil(lambda: not win.board.details.isVisible(), timeout=5_000)


def test_pointer_hides_when_idle_and_returns_when_moved(qtbot, demos) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QCursor

    a, _ = demos
    cfg = replace(load_config(a.parent / "none.toml"), cursor_hide_seconds=0.6)
    win = open_wall(qtbot, a, cfg)
    qtbot.waitUntil(win.cursor_hidden, timeout=5_000)
    assert QApplication.overrideCursor().shape() == Qt.CursorShape.BlankCursor
    QCursor.setPos(QCursor.pos() + QPoint(40, 30))
    qtbot.waitUntil(lambda: not win.cursor_hidden(), timeout=5_000)
    assert QApplication.overrideCursor() is None


def frames_have_map_ink(win, frames: list[np.ndarray]) -> bool:
    bg = np.array(win.theme.background[:3])
    return all((np.abs(f[..., :3].astype(int) - bg).sum(axis=2) > 60).mean() > 0.05
               for f in frames)


def test_replaced_extract_reloads_keeping_state_and_survives_bad_files(
        qtbot, demos, tmp_path: Path) -> None:
    a, b = demos
    target = tmp_path / "wall.duckdb"
    shutil.copyfile(a, target)
    win = open_wall(qtbot, target)
    town = win.extract.areas.at_level("town")[2]
    town_id = win.extract.areas.ids[town]
    win.apply_view(WallView("t", area=town_id))
    qtbot.waitUntil(lambda: settled(win), timeout=20_000)
    state, view = win.session.filters.state, win.board.canvas.map_view()
    raw_a = load_raw(a)
    assert number(kpi(win, "kpi_month")) == month_to_date(raw_a, town_id)

    def replace_with(data: bytes | Path) -> None:
        tmp = tmp_path / "incoming.part"
        if isinstance(data, Path):
            shutil.copyfile(data, tmp)
        else:
            tmp.write_bytes(data)
        os.replace(tmp, target)

    def poll_until(cond, timeout: float = 60) -> list[np.ndarray]:
        frames = []
        end = time.monotonic() + timeout
        while not cond() and time.monotonic() < end:
            win.check_extract()
            qtbot.wait(100)
            frames.append(grab(win.board.canvas))
        assert cond()
        return frames

    # a good new version, renamed into place: reloaded, same filter, same view, new figures
    replace_with(b)
    frames = poll_until(lambda: win.reloads == 1 and settled(win))
    assert frames_have_map_ink(win, frames), "the map went blank during the reload"
    assert win.session.filters.state == state and win.board.canvas.map_view() == view
    raw_b = load_raw(b)
    assert number(kpi(win, "kpi_month")) == month_to_date(raw_b, town_id)
    assert not win.banner.is_stale()
    good = [t.spec() for t in win.board.kpis.tiles()]

    # garbage: the last good data stays, with the stale banner
    replace_with(os.urandom(64 * 1024))
    poll_until(lambda: win.banner.is_stale())
    assert win.failures_seen >= 1 and "重试" in win.banner.stale.text()
    assert [t.spec() for t in win.board.kpis.tiles()] == good
    # a half-written copy: still stale, still the last good figures
    replace_with(a.read_bytes()[: a.stat().st_size // 3])
    failures = win.failures_seen
    poll_until(lambda: win.failures_seen > failures)
    assert win.banner.is_stale() and [t.spec() for t in win.board.kpis.tiles()] == good
    # the good file again: reloaded, the banner clears
    replace_with(a)
    poll_until(lambda: win.reloads == 2 and settled(win) and not win.banner.is_stale())
    assert number(kpi(win, "kpi_month")) == month_to_date(raw_a, town_id)
    assert win.session.filters.state == state


def test_a_failing_panel_shows_its_error_and_the_rest_carries_on(
        qtbot, demos, monkeypatch: pytest.MonkeyPatch) -> None:
    import layers.dashboard as dashboard

    a, _ = demos
    win = open_wall(qtbot, a)
    # a view other than the opening one, whose panels come from the render cache
    town = win.extract.areas.ids[win.extract.areas.at_level("town")[0]]
    win.apply_view(WallView("t", area=town))
    qtbot.waitUntil(lambda: settled(win), timeout=20_000)

    def broken(*args, **kwargs):
        raise ValueError("hour column unreadable")

    monkeypatch.setattr(dashboard, "hour_chart", broken)
    win.board.refresh()
    qtbot.waitUntil(lambda: win.board.hours.error() is not None, timeout=20_000)
    assert "hour column unreadable" in win.board.hours.error()
    assert win.board.categories.error() is None and win.board.categories.spec().series
    assert number(kpi(win, "overdue")) == expected_report(a, area=town)["hazards"]["overdue"]
    monkeypatch.undo()
    win.board.refresh()
    qtbot.waitUntil(lambda: win.board.hours.error() is None and win.board.hours.spec() is not None,
                    timeout=20_000)


def test_rotation_visits_every_view_without_a_white_frame(qtbot, demos) -> None:
    a, _ = demos
    win = open_wall(qtbot, a)
    towns = win.extract.areas.at_level("town")
    plain = [v for v in win.config.views if not v.each_town]
    assert len(win.views) == len(plain) + len(towns)
    seen = []
    for _ in range(len(win.views)):
        win.next_view()
        qtbot.waitUntil(lambda: settled(win), timeout=30_000)
        v = win.current_view()
        seen.append(v.name)
        o = win.session.options.value
        assert {g for g in ("situation", "resources", "hazards") if o.group_shown(g)} \
            == set(v.maps)
        assert win.session.filters.state.areas == ({v.area} if v.area else frozenset())
        assert v.name in win.banner.view.text()
        assert set(win.focused_widgets()) == set(win._focus_widgets(v.focus))
        img = grab(win)
        white = (img[..., :3] > 235).all(axis=2).mean()
        assert white < 0.01, f"{v.name}: {white:.1%} white"
    assert len(set(seen)) == len(win.views) and win.rotations == len(win.views)


def test_wall_screenshots_at_4k_and_across_two_screens(tmp_path: Path, demos) -> None:
    a, _ = demos
    sys.path.insert(0, str(ROOT / "bench"))
    from wall_shots import shoot

    out = Path(os.environ.get("COCKPIT_SHOTS") or tmp_path)
    shots = shoot(str(a), out, views=1)
    from PySide6.QtGui import QImage

    sizes = {(s["width"], s["height"]) for s in shots}
    assert sizes == {(3840, 2160), (3840, 1080)}
    for s in shots:
        img = QImage(s["path"])
        assert (img.width(), img.height()) == (s["width"], s["height"])
        # both halves of a span carry content (no black second screen)
        for x0 in (0, img.width() // 2):
            inked = sum(img.pixelColor(x, y).lightness() > 90
                        for x in range(x0 + 20, x0 + img.width() // 2 - 20, 37)
                        for y in range(40, img.height() - 40, 23))
            assert inked > 50


def test_soak_reloads_flat_memory(tmp_path: Path) -> None:
    """A short soak in its own process; bench/soak_wall.py runs the long one."""
    env = dict(os.environ, COCKPIT_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "soak_wall.py"), "--minutes",
                          "1.0", "--every", "3", "--incidents", "15000", "--rotate", "1",
                          "--json", "--check", "--rss-slack", "60"],
                         env=env, capture_output=True, text=True, timeout=600)
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    assert out.returncode == 0, doc["problems"]
    assert doc["reloads"] >= 3 and doc["failed_opens"] >= 2
    assert doc["stale_shown"] >= 1 and doc["stale_cleared"] >= 1
    assert doc["rotations"] >= 10


def test_cli_wall_starts_and_reports_bad_options(tmp_path: Path, demos) -> None:
    a, _ = demos
    env = dict(os.environ, COCKPIT_QUIT_AFTER_FRAME="1", QT_QPA_PLATFORM="offscreen",
               COCKPIT_CACHE_DIR=str(tmp_path / "cache"), COCKPIT_DATA_DIR=str(tmp_path))
    (tmp_path / "wall.toml").write_text("[wall]\nrotate_seconds = 'fast'\n")
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "wall", str(a), "--screen",
                           "7"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "rotate_seconds" in done.stderr and "--screen 7" in done.stderr
    bad = subprocess.run([sys.executable, str(ROOT / "main.py"), "wall", str(a), "--rotate",
                          "-5"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--rotate" in bad.stderr


def test_a_wall_started_before_its_extract_exists_waits_then_shows_it(qtbot, demos,
                                                                      tmp_path: Path) -> None:
    from desktop.wall import WallWindow

    a, _ = demos
    target = tmp_path / "later.duckdb"
    cfg = replace(load_config(tmp_path / "none.toml"), check_seconds=0.2, retry_seconds=0.5)
    win = WallWindow(str(target), cfg)
    _WALLS.append(win)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    win.start()
    qtbot.waitUntil(win.banner.is_stale, timeout=10_000)
    assert win.extract is None and "尚无可用数据" in win.banner.stale.text()
    shutil.copyfile(a, target)
    qtbot.waitUntil(lambda: settled(win) and not win.banner.is_stale(), timeout=60_000)
    assert win.banner.title.text() == win.extract.region_name
