"""The cockpit window, offscreen, on a real demo extract: linking, dispatch, bad input, looks.

Every figure read off the window is compared with an independent pandas
computation on the raw file (tests/oracle.py), never with the code that drew it.
Clicks go through Qt (qtbot) at positions obtained from pyqtgraph's own mapping.
Set COCKPIT_SHOTS=/some/dir to keep the screenshots.
"""

from __future__ import annotations

import gc
import json
import math
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from data.coords import lonlat_to_mercator
from desktop.main_window import CockpitWindow, scale_for
from layers.i18n import set_language
from tests.oracle import expected_report, is_under, load_raw
from widgets.theme import DARK

SHOTS = os.environ.get("COCKPIT_SHOTS")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


@pytest.fixture(scope="module")
def raw(demo: Path) -> dict:
    return load_raw(demo)


@pytest.fixture(autouse=True)
def _zh() -> None:
    set_language("zh")


_WINDOWS: list[CockpitWindow] = []


@pytest.fixture(autouse=True)
def _dispose_windows() -> Iterator[None]:
    """Close each window and collect its garbage when no worker thread runs.

    A window's Python cycles (slots holding ``self``) left to a later, automatic
    collection get freed in the middle of another test while that test's workers
    query DuckDB; with DuckDB 2 and PySide6 that aborted the process about once in
    three runs. The application has one window for its lifetime; tests make many.
    """
    yield
    while _WINDOWS:
        win = _WINDOWS.pop()
        if not shiboken6.isValid(win):  # pytest-qt's addWidget closed and deleted it
            continue
        win.close()  # stops and joins its worker threads
        if win.extract is not None:
            win.extract.close()
        win.deleteLater()
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # run deleteLater
    gc.collect()


def wait_frame(qtbot, win: CockpitWindow, timeout: int = 30_000) -> None:
    """Until every job of the current state has been drawn."""
    board = win.board

    def drawn() -> bool:
        panels = board.panels.panels
        return (not win.session.jobs.busy() and panels is not None
                and panels.state == win.session.filters.state and board.map.scene is not None)
    qtbot.waitUntil(drawn, timeout=timeout)
    qtbot.wait(50)


def open_window(qtbot, path: Path, w: int = 1920, h: int = 1080, lang: str = "zh"
                ) -> CockpitWindow:
    win = CockpitWindow(DARK, lang, interactive=False)
    _WINDOWS.append(win)
    qtbot.addWidget(win)
    win.resize(w, h)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        win.open_path(str(path))
    wait_frame(qtbot, win)
    return win


def kpi(win: CockpitWindow, key: str) -> str:
    return next(t.spec().value for t in win.board.kpis.tiles() if t.spec().key == key)


def number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def month_to_date(raw: dict, area: str | None) -> int:
    """Incidents from the first of the as-of month up to the extract time (pandas)."""
    inc = raw["incidents"]
    at = raw.get("extracted_at")
    as_of = raw["as_of"]
    stop = at if at is not None and at.date() == as_of else datetime.combine(
        as_of + timedelta(days=1), datetime.min.time())
    start = datetime.combine(as_of.replace(day=1), datetime.min.time())
    sel = inc[(inc["reported_at"] >= start) & (inc["reported_at"] < stop)]
    if area:
        sel = sel[sel["area"].map(lambda a: is_under(raw["parent"], a, area))]
    return len(sel)


def canvas_point(win: CockpitWindow, lon: float, lat: float) -> QPoint:
    mx, my = lonlat_to_mercator([lon], [lat])
    vb = win.board.canvas.getViewBox()
    return win.board.canvas.mapFromScene(vb.mapViewToScene(QPointF(float(mx[0]), float(my[0]))))


def grab(widget) -> np.ndarray:
    return grab_image(widget.grab().toImage())


def grab_image(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[
        :, : w * 4].reshape(h, w, 4).copy()


# -- figures on the first frame ----------------------------------------------------------
def test_first_frame_figures_match_independent_computation(qtbot, demo: Path, raw: dict
                                                           ) -> None:
    win = open_window(qtbot, demo)
    want = expected_report(demo)
    assert number(kpi(win, "overdue")) == want["hazards"]["overdue"]
    assert kpi(win, "mediation") == f"{want['disputes']['success_rate'] * 100:.1f}%"
    assert number(kpi(win, "kpi_month")) == month_to_date(raw, None)
    spec = win.board.categories.spec()
    got = dict(zip(spec.keys, spec.series[0], strict=True))
    assert got == {k: v for k, v in want["incidents"]["by_category"].items() if v}
    # the header always names the region, the as-of day and the data time
    assert win.extract.region_name in win.title_label.text()
    assert want["as_of"] in win.asof_label.text()


# -- linking -----------------------------------------------------------------------------
def test_clicking_a_town_on_the_map_links_every_view(qtbot, demo: Path, raw: dict) -> None:
    win = open_window(qtbot, demo)
    areas = win.extract.areas
    town = areas.at_level("town")[0]
    town_id = areas.ids[town]
    p = areas.geoms[town].representative_point()
    # a click where no symbol is (hotspot cells are not symbols, incidents are a raster)
    qtbot.mouseClick(win.board.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=canvas_point(win, p.x, p.y))
    assert win.session.filters.state.areas == {town_id}
    wait_frame(qtbot, win)
    want = expected_report(demo, area=town_id)
    assert number(kpi(win, "overdue")) == want["hazards"]["overdue"]
    assert number(kpi(win, "kpi_month")) == month_to_date(raw, town_id)
    spec = win.board.categories.spec()
    assert dict(zip(spec.keys, spec.series[0], strict=True)) == {
        k: v for k, v in want["incidents"]["by_category"].items() if v}
    chips = win.filter_bar.chips()
    assert len(chips) == 1 and areas.names[town] in chips[0].text()
    assert win.board.area_tree.item(town_id).isSelected()
    # the same area from the tree toggles it off again; one source of truth
    win.board.area_tree.tree.itemClicked.emit(win.board.area_tree.item(town_id), 0)
    assert win.session.filters.state.areas == frozenset()


def test_bar_click_filters_and_chip_removes(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    chart = win.board.categories
    spec = chart.spec()
    vp = chart.plot_widget().viewport()
    # horizontal bars: bar i spans y in [i - 0.4, i + 0.4], x from 0 to its value
    pos = chart.plot_widget().mapFromScene(
        chart.view_box().mapViewToScene(QPointF(spec.series[0][0] / 2, 0)))
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=pos)
    assert win.session.filters.state.incident_categories == {spec.keys[0]}
    wait_frame(qtbot, win)
    want = expected_report(demo)["incidents"]["by_category"][spec.keys[0]]
    assert sum(win.board.hours.spec().series[0]) == want  # the hour chart follows the filter
    assert len(win.filter_bar.chips()) == 1
    qtbot.mouseClick(win.filter_bar.chips()[0], Qt.MouseButton.LeftButton)
    assert win.session.filters.state.incident_categories == frozenset()


def test_timeline_drag_sets_the_window(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    x = win.board.panels.panels.timeline.x
    win.board.timeline.region_selected.emit(x[-40], x[-10])  # as a drag would
    st = win.session.filters.state
    assert st.start is not None and (st.end - st.start).days == 30
    wait_frame(qtbot, win)
    want = expected_report(demo, start=st.start, end=st.end)
    assert sum(win.board.categories.spec().series[0]) == want["incidents"]["total"]
    assert st.start.isoformat() in win.window_label.text()
    win.filter_bar.clear_all.emit()
    assert win.session.filters.state.start is None


def test_hotspot_row_selects_and_zooms(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    spec = win.board.hotspots.spec()
    assert spec.rows, "the demo has hot villages"
    before = win.board.canvas.map_view()
    win.board.hotspots.row_activated.emit(spec.field, spec.keys[0], spec.locations[0])
    assert win.session.filters.state.areas == {spec.keys[0]}
    after = win.board.canvas.map_view()
    assert (after.x1 - after.x0) < (before.x1 - before.x0) / 2


# -- dispatch ----------------------------------------------------------------------------
def haversine(lon1: float, lat1: float, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), np.radians(lat2)
    a = (np.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2)
    return 2 * r * np.arcsin(np.sqrt(a))


def test_dispatch_lists_the_nearest_available_and_draws_lines(qtbot, demo: Path, raw: dict
                                                              ) -> None:
    win = open_window(qtbot, demo)
    win.board.map_buttons["dispatch"].setChecked(True)
    town = win.extract.areas.at_level("town")[1]
    p = win.extract.areas.geoms[town].representative_point()
    qtbot.mouseClick(win.board.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=canvas_point(win, p.x, p.y))
    assert win.session.filters.state.areas == frozenset()  # dispatch mode does not filter
    qtbot.waitUntil(lambda: win.board.details.table.spec() is not None, timeout=10_000)
    got = win.board.details.table.spec().keys
    lon, lat = win.board.details._dispatch.lon, win.board.details._dispatch.lat
    res = raw["resources"]
    ok = res[(res["available"].fillna(True)) & res["lon"].notna()]
    d = haversine(lon, lat, ok["lon"].to_numpy(float), ok["lat"].to_numpy(float))
    want = ok.assign(d=d).sort_values(["d", "resource_id"])["resource_id"].head(5).tolist()
    assert list(got) == want
    assert "dispatch" in win.board.canvas.layers()
    lines = win.board.canvas.layers()["dispatch"].drawables[0]
    assert len(lines.x1) == 5
    # masked: no full phone number of any resource is in the copied text
    text = win.board.details.dispatch_text()
    assert all(str(ph) not in text for ph in res["phone"].dropna() if len(str(ph)) >= 8)
    win.board.details._on_close()
    assert "dispatch" not in win.board.canvas.layers()


# -- bad input, jobs ----------------------------------------------------------------------
def test_broken_extract_keeps_the_current_one(qtbot, demo: Path, tmp_path: Path) -> None:
    win = open_window(qtbot, demo)
    before = [t.spec() for t in win.board.kpis.tiles()]
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    with qtbot.waitSignal(win.open_failed, timeout=30_000) as sig:
        win.open_path(str(junk))
    assert str(junk) == sig.args[1] and sig.args[0]
    assert win.extract is not None and win.session.path == str(demo)
    assert [t.spec() for t in win.board.kpis.tiles()] == before
    assert not win.progress.isVisible()


# -- language, scale, looks --------------------------------------------------------------
def test_language_switch_relabels_everything(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    assert win.board.kpis.tiles()[0].spec().title == "今日警情"
    win.set_language("en")
    wait_frame(qtbot, win)
    assert win.board.kpis.tiles()[0].spec().title == "Incidents today"
    assert win.board.map_buttons["hazards"].text() == "Hazards"
    assert "Criminal" in win.board.categories.spec().labels


def test_scale_follows_the_screen() -> None:
    assert scale_for(1920, 1080) == 1.0
    assert scale_for(3840, 2160) == 2.0
    assert scale_for(7680, 2160) == 2.0


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_screenshot(qtbot, demo: Path, tmp_path: Path, size: tuple[int, int]) -> None:
    win = open_window(qtbot, demo, *size)
    arr = grab(win)
    assert arr.shape[:2] == (size[1], size[0])
    bg = np.array(DARK.background[:3])
    # the map shows the density raster and outlines: many pixels off the background
    c = win.board.canvas
    top_left = c.mapTo(win, QPoint(0, 0))
    m = arr[top_left.y():top_left.y() + c.height(), top_left.x():top_left.x() + c.width(), :3]
    assert (np.abs(m.astype(int) - bg).sum(axis=-1) > 60).mean() > 0.03
    # the KPI values are drawn large enough to read across a room (ink height)
    tile = win.board.kpis.tiles()[2]
    t = grab(tile)[..., :3].astype(int)
    ink_rows = np.flatnonzero((np.abs(t - np.array(DARK.text[:3])) < 40).all(-1).any(1))
    assert len(ink_rows) >= 24 * win.board.scale
    out = Path(SHOTS) if SHOTS else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    assert win.grab().save(str(out / f"cockpit-{size[0]}x{size[1]}.png"))


def test_png_export_headless_at_wall_size(demo: Path, tmp_path: Path) -> None:
    """`export --png` in a child process with no display: the image has the asked size
    and shows the filtered town's KPI figures (read back from the figures, not pixels)."""
    import subprocess
    import sys

    out = tmp_path / "wall.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COCKPIT_DATA_DIR=str(tmp_path / "d"))
    env.pop("DISPLAY", None)
    r = subprocess.run([sys.executable, "main.py", "export", str(demo), "--png", str(out),
                        "--size", "7680x2160", "--area", "T01"], env=env, capture_output=True,
                       text=True, timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert r.returncode == 0, r.stderr
    img = QImage(str(out))
    assert (img.width(), img.height()) == (7680, 2160)
    log = (tmp_path / "d" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(log) == 1 and "export_png" in log[0] and "T01" in log[0]
    drawn = json.loads(log[0])["details"]["summary"]
    want = expected_report(demo, area="T01")
    assert number(drawn["kpi_overdue"]) == want["hazards"]["overdue"]
    assert number(drawn["kpi_kpi_month"]) == month_to_date(load_raw(demo), "T01")
    # the tiles are in the picture: the strip is drawn (text and frames), not blank
    x, y, w, h = (int(v) for v in drawn["kpi_box"].split(","))
    strip = grab_image(img)[y:y + h, x:x + w, :3].reshape(-1, 3)
    assert h > 100 and len(np.unique(strip, axis=0)) > 50


def test_no_display_is_a_message_not_a_crash(demo: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "main.py", str(demo)], env=env, capture_output=True,
                       text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert r.returncode == 2
    assert "no display" in r.stderr and "Traceback" not in r.stderr


def test_choropleth_by_rate_per_10k_classes_areas_by_their_rate(qtbot, demo: Path, raw: dict
                                                                ) -> None:
    from layers.styles import CHOROPLETH

    win = open_window(qtbot, demo)
    assert not win.board.map_buttons["choropleth_rate"].isEnabled()
    win.board.map_buttons["choropleth"].setChecked(True)
    win.board.map_buttons["choropleth_rate"].setChecked(True)
    wait_frame(qtbot, win)
    assert "万人" in win.board.map.scene.layer("choropleth").title
    # zoomed out the towns are filled; rates from the raw file (a town's population is
    # its own, or its villages' when it has none)
    areas = raw["areas"].set_index("area_id")
    towns = areas[areas["level"] == "town"]
    villages = areas[areas["level"] == "village"]
    pop = towns["population"].where(towns["population"] > 0, villages.groupby(
        "parent_id")["population"].sum().reindex(towns.index))
    counts = raw["incidents"]["town"].value_counts().reindex(towns.index).fillna(0)
    rate = (counts / pop * 1e4)[pop > 0]
    polys = win.board.map.scene.layer("areas.town").drawables[0]
    fill = {k: tuple(int(v) for v in polys.fills[i]) for i, k in enumerate(polys.keys)}
    assert fill[rate.idxmax()] == CHOROPLETH[-1]
    assert fill[rate[rate > 0].idxmin()] == CHOROPLETH[0]
    win.board.map_buttons["choropleth_rate"].setChecked(False)  # back to counts
    wait_frame(qtbot, win)
    polys = win.board.map.scene.layer("areas.town").drawables[0]
    assert tuple(int(v) for v in polys.fills[polys.keys.index(counts.idxmax())]) == CHOROPLETH[-1]
    assert "万人" not in win.board.map.scene.layer("choropleth").title


def test_switching_theme_repaints_the_window_and_the_application(qtbot, demo: Path) -> None:
    from widgets.theme import LIGHT

    win = open_window(qtbot, demo)
    win.set_theme(LIGHT)
    qtbot.wait(50)
    img = grab(win)
    root = win.centralWidget()
    corner = root.mapTo(win, root.rect().topLeft())
    px = img[corner.y() + 2, corner.x() + 2, :3].astype(int)  # the margin round the panels
    assert np.abs(px - np.array(LIGHT.background[:3])).max() <= 8
    assert QApplication.instance().palette().window().color().getRgb()[:3] == \
        LIGHT.background[:3]  # menus and tooltips follow
    # every panel takes the new colours too (a parent's style sheet once restored the old
    # palettes of its children: dark funnels with dark labels on a light desk)
    for panel in (win.board.rect_funnel, win.board.med_funnel, win.board.categories,
                  win.board.hours):
        p = panel.mapTo(win, panel.rect().bottomRight())
        px = img[p.y() - 3, p.x() - 3, :3].astype(int)
        assert np.abs(px - np.array(LIGHT.panel[:3])).max() <= 8, type(panel).__name__
    # and the funnel's stage names are drawn in the light theme's ink
    funnel = grab(win.board.rect_funnel)
    ink = np.abs(funnel[:, :, :3].astype(int) - np.array(LIGHT.text[:3])).max(axis=2) <= 30
    assert ink.sum() > 50
    win.set_theme(DARK)
