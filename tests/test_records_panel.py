"""The records panel in the window: opened by Ctrl+click, context menus and tiles; its
count is the clicked figure; pages arrive as they scroll into view; a row zooms the map.

Counts are checked against pandas on the raw file (tests/oracle.py). Set
COCKPIT_SHOTS=/some/dir to keep the screenshots.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMenu

from exporters.audit import read_audit
from tests.oracle import expected_report
from tests.test_cockpit_window import (  # noqa: F401 - autouse fixtures
    _dispose_windows,
    _zh,
    canvas_point,
    kpi,
    number,
    open_window,
    wait_frame,
)

SHOTS = os.environ.get("COCKPIT_SHOTS")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


def wait_list(qtbot, win, n_rows: int | None = None) -> None:
    tools = win.tools
    qtbot.waitUntil(lambda: tools.records.source is not None, timeout=30_000)
    model = tools.records_panel.model
    qtbot.waitUntil(lambda: 0 in model.pages or model.total == 0, timeout=30_000)


def test_ctrl_click_on_a_bar_opens_its_records(qtbot, demo: Path, tmp_path: Path) -> None:
    win = open_window(qtbot, demo)
    chart = win.board.categories
    spec = chart.spec()
    pos = chart.plot_widget().mapFromScene(
        chart.view_box().mapViewToScene(QPointF(spec.series[0][1] / 2, 1)))
    qtbot.mouseClick(chart.plot_widget().viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier, pos)
    assert win.session.filters.state.incident_categories == frozenset()  # not a filter
    wait_list(qtbot, win)
    panel = win.tools.records_panel
    want = expected_report(demo)["incidents"]["by_category"][spec.keys[1]]
    assert panel.model.total == int(spec.series[0][1]) == want
    assert f"{want:,}" in panel.count.text()
    assert win.tools.records_dock.isVisible()
    first = panel.model.row(0)
    assert first is not None and first[0][0].startswith("JQ")
    if SHOTS:
        win.grab().save(str(Path(SHOTS) / "records_panel_dark.png"))
    # a header click sorts: the pages are asked for again, in the new order
    address = 4
    panel.view.horizontalHeader().sectionClicked.emit(address)
    qtbot.waitUntil(lambda: 0 in panel.model.pages, timeout=20_000)
    shown = [panel.model.row(r)[0][address] for r in range(50)]
    assert shown == sorted(shown)
    # scrolling far down fetches the rows there, and only those
    panel.view.scrollTo(panel.model.index(want - 1, 0))
    qtbot.waitUntil(lambda: panel.model.row(want - 1) is not None, timeout=20_000)
    assert len(panel.model.pages) <= 3
    # a row selects the record on the map and opens its details
    panel.view.clicked.emit(panel.model.index(want - 1, 0))
    assert "records.selection" in win.board.canvas.layers()
    qtbot.waitUntil(lambda: win.board.details.isVisible(), timeout=10_000)
    view = win.board.canvas.map_view()
    assert view.x1 - view.x0 < 5_000
    # the list exports as it is sorted, masked and audited
    out = tmp_path / "list.csv"
    with qtbot.waitSignal(win.tools.records.exported, timeout=30_000):
        win.tools.records.export(str(out), "csv")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) - 1 == want
    assert [r[4] for r in rows[1:51]] == shown
    assert read_audit()[-1]["action"] == "export_records_csv"


def test_tiles_tables_funnels_tree_and_map_open_records(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    board, tools = win.board, win.tools
    panel = tools.records_panel
    # a KPI tile: a plain click
    overdue = next(t for t in board.kpis.tiles() if t.spec().key == "overdue")
    qtbot.mouseClick(overdue, Qt.MouseButton.LeftButton)
    wait_list(qtbot, win)
    assert panel.model.total == number(kpi(win, "overdue")) == \
        expected_report(demo)["hazards"]["overdue"]
    # the hot-village table's context menu
    table = board.hotspots
    board.left_tabs.setCurrentIndex(0)
    rect = table.view().visualRect(table.view().model().index(0, 0))
    table.view().customContextMenuRequested.emit(rect.center())
    menu = table.findChild(QMenu, "records_menu")
    assert menu is not None
    menu.actions()[0].trigger()
    wait_list(qtbot, win)
    assert panel.model.total == number(table.spec().rows[0][2])
    # a funnel stage with Ctrl+click
    canvas = board.med_funnel._canvas
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     canvas.rect().center())
    wait_list(qtbot, win)
    stage = canvas.stage_at(canvas.rect().center().y())
    assert panel.model.total == board.med_funnel.spec().values[stage]
    # an area of the tree, Ctrl+click
    areas = win.extract.areas
    town = areas.ids[areas.at_level("town")[0]]
    item = board.area_tree.item(town)
    board.area_tree.tree.scrollToItem(item)
    qtbot.mouseClick(board.area_tree.tree.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier,
                     board.area_tree.tree.visualItemRect(item).center())
    assert win.session.filters.state.areas == frozenset()  # not a selection
    wait_list(qtbot, win)
    assert panel.model.total == expected_report(demo, area=town)["incidents"]["total"] - \
        expected_report(demo, area=town)["incidents"]["unlocated"]
    # the map: the context menu offers the records of what is under the pointer
    g = areas.geoms[areas.idx_of(town)].representative_point()
    mx_my = board.canvas.getViewBox().mapSceneToView(
        board.canvas.mapToScene(canvas_point(win, g.x, g.y)))
    labels = [label for label, _ in tools.map_menu.entries(mx_my.x(), mx_my.y())]
    assert any(areas.names[areas.idx_of(town)] in label for label in labels)
    density = [ref for _, ref in tools.records.refs_at(mx_my.x(), mx_my.y())
               if ref.figure == "density"]
    assert density  # 20,000 incidents: the map shows a raster
    qtbot.mouseClick(board.canvas.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier, canvas_point(win, g.x, g.y))
    wait_list(qtbot, win)
    raster = board.canvas.layers()["incidents"].drawables[0]
    import numpy as np

    cell = int(density[0].key)
    assert panel.model.total == round(float(np.expm1(raster.values.ravel()[cell]))) > 0
    if SHOTS:
        win.board.canvas.grab().save(str(Path(SHOTS) / "records_map.png"))


@pytest.mark.parametrize("theme", ["light"])
def test_records_panel_light(qtbot, demo: Path, theme: str) -> None:
    win = open_window(qtbot, demo)
    win.set_theme(__import__("widgets.theme", fromlist=["LIGHT"]).LIGHT)
    wait_frame(qtbot, win)
    win.tools.records.open(__import__("layers.records", fromlist=["FigureRef"]).FigureRef(
        "kpi", "kpi_month"))
    wait_list(qtbot, win)
    assert win.tools.records_panel.model.total == number(kpi(win, "kpi_month"))
    if SHOTS:
        win.grab().save(str(Path(SHOTS) / "records_panel_light.png"))
