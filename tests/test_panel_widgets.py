"""Panel widgets (KPI tiles, charts, tables) rendered offscreen and read back as pixels.

Each test builds a real widget from a hand-written spec, renders it with
``widget.grab()`` and checks what a viewer would see (colours where a bar or a
border must be, ink where text must be), or drives it with qtbot clicks and drags
and checks the intents it emits. Positions come from the pyqtgraph view mapping or
the table view's geometry, never from the widget's own drawing code.

Set PANEL_SHOTS=/some/dir to keep the screenshots of ``test_screenshots``.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QFontInfo, QFontMetricsF, QImage
from PySide6.QtWidgets import QWidget

from layers.i18n import tr
from layers.panels import BarSpec, FunnelSpec, KpiSpec, LineSpec, TableSpec
from painting.fonts import CJK_FAMILIES, cjk_font_available
from widgets.charts import BarChart, FunnelChart, LineChart
from widgets.kpi import KpiStrip, KpiTile
from widgets.tables import DataTable
from widgets.theme import DARK, LIGHT, Theme, apply_theme

RED = (200, 40, 40, 255)


def test_binding_keeps_singleton_references(qtbot) -> None:
    """PySide6 6.12 on CPython 3.11 dropped a reference to None per void C++ call, and
    a long-running window aborted ("deallocating None"); requirements.txt pins 6.11.3,
    which does not. This fails if an upgrade brings the bug back."""
    w = QWidget()
    qtbot.addWidget(w)
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(500):
        w.setToolTip("x")  # a void C++ call
    gc.collect()
    assert sys.getrefcount(None) >= before - 10


BLUE = (40, 90, 220, 255)


# -- helpers -----------------------------------------------------------------------------
def pixels(widget: QWidget) -> np.ndarray:
    """The widget as shown, (h, w, 4) RGBA uint8."""
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 4].reshape(h, w, 4).copy()


def near(arr: np.ndarray, rgba: tuple[int, ...], tol: int = 30) -> np.ndarray:
    """Mask of pixels within ``tol`` of ``rgba`` on every RGB channel."""
    diff = np.abs(arr[..., :3].astype(int) - np.asarray(rgba[:3]))
    return (diff <= tol).all(axis=-1)


def show(qtbot, widget: QWidget, w: int, h: int) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(w, h)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def view_point(chart: BarChart | LineChart, x: float, y: float) -> QPoint:
    """A data point in the chart's own pixel coordinates, through pyqtgraph's mapping."""
    pw = chart.plot_widget()
    scene = chart.view_box().mapViewToScene(QPointF(x, y))
    return pw.mapTo(chart, pw.mapFromScene(scene))


def viewport_point(chart: BarChart | LineChart, x: float, y: float) -> QPoint:
    pw = chart.plot_widget()
    return pw.mapFromScene(chart.view_box().mapViewToScene(QPointF(x, y)))


def ink_box(arr: np.ndarray, background: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels that differ from the background, or None."""
    ys, xs = np.nonzero(~near(arr, background, tol=12))
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


# -- theme -------------------------------------------------------------------------------
def test_theme_palette_and_cjk_font(qtbot) -> None:
    family = cjk_font_available()
    assert family is not None and family in CJK_FAMILIES
    for theme in (DARK, LIGHT):
        assert len(theme.series) == 8 and len(set(theme.series)) == 8
        assert theme.highlight not in theme.series
        assert theme.fonts[0] == "Noto Sans CJK SC" and theme.fonts[-1] == "sans-serif"
    w = QWidget()
    qtbot.addWidget(w)
    apply_theme(w, DARK, 2.0)
    assert w.palette().window().color().getRgb() == DARK.background
    assert w.font().pointSizeF() == pytest.approx(20.0)
    assert QFontInfo(w.font()).family() == family


# -- KPI ---------------------------------------------------------------------------------
def test_kpi_alarm_tile_has_alarm_border(qtbot) -> None:
    plain = show(qtbot, KpiTile(KpiSpec("a", "超期隐患", "0"), DARK, 1.0), 240, 120)
    alarm = show(qtbot, KpiTile(KpiSpec("b", "超期隐患", "23", alarm=True), DARK, 1.0), 240, 120)
    for tile, expect in ((alarm, True), (plain, False)):
        arr = pixels(tile)
        h, w = arr.shape[:2]
        # the frame away from the rounded corners: top and bottom rows, left and right columns
        edges = np.concatenate([arr[1, 20:-20], arr[h - 2, 20:-20], arr[20:-20, 1],
                                arr[20:-20, w - 2]])
        share = near(edges, DARK.alarm, tol=20).mean()
        assert (share > 0.95) if expect else (share == 0.0), share
        centre = arr[h // 2 - 5: h // 2 + 5, w - 30: w - 20]  # inside, clear of text
        assert np.abs(centre[..., :3].astype(int) - DARK.panel[:3]).max() > 10 if expect \
            else near(centre, DARK.panel, tol=2).all()


@pytest.mark.parametrize(("delta", "good_when_down", "colour"), [
    (-12.0, True, "good"), (12.0, True, "bad"), (12.0, False, "good"), (-5.0, False, "bad"),
])
def test_kpi_delta_colour(qtbot, delta: float, good_when_down: bool, colour: str) -> None:
    spec = KpiSpec("k", "警情总数", "1,234", delta, "同比", "去年同期 1,100", good_when_down)
    arr = pixels(show(qtbot, KpiTile(spec, DARK, 1.0), 260, 140))
    other = "bad" if colour == "good" else "good"
    want = near(arr, getattr(DARK, colour), tol=25).sum()
    not_want = near(arr, getattr(DARK, other), tol=25).sum()
    assert want > 40 and not_want == 0, (want, not_want)


def test_kpi_value_shrinks_instead_of_clipping(qtbot) -> None:
    spec = KpiSpec("k", "矛盾纠纷受理总数", "1,234,567,890")
    tile = show(qtbot, KpiTile(spec, DARK, 1.0), 130, 110)
    arr = pixels(tile)
    bright = near(arr[8:-8], DARK.text, tol=60)  # rows clear of the rounded corners
    _, xs = np.nonzero(bright)
    pad = 10 + 1  # the tile's padding and border at scale 1
    assert xs.min() >= pad - 1 and xs.max() <= 130 - pad, (xs.min(), xs.max())
    # the value is still written: bright ink spans most of the content width
    assert xs.max() - xs.min() > 0.8 * (130 - 2 * pad)


def test_kpi_strip_click_and_quiet_update(qtbot) -> None:
    specs = [KpiSpec("incidents", "警情总数", "12,345", 3.1, "同比"),
             KpiSpec("overdue", "超期隐患", "23", alarm=True)]
    strip = show(qtbot, KpiStrip(specs, DARK, 1.0), 600, 130)
    tiles = strip.tiles()
    assert [t.spec() for t in tiles] == specs
    with qtbot.waitSignal(strip.tile_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(tiles[1], Qt.MouseButton.LeftButton, pos=tiles[1].rect().center())
    assert blocker.args == ["overdue"]
    with qtbot.assertNotEmitted(strip.tile_clicked):
        strip.set_specs([*specs, KpiSpec("x", "纠纷", "5")])
        strip.set_specs(specs[:1])
    assert len(strip.tiles()) == 1


# -- bar chart ---------------------------------------------------------------------------
def bar_spec(**kw: object) -> BarSpec:
    base = dict(key="cat", title="警情类别", labels=("刑事", "治安"),
                keys=("criminal", "public_order"), series=((10.0, 100.0),), colors=(RED,),
                field="incident_categories")
    base.update(kw)
    return BarSpec(**base)  # type: ignore[arg-type]


def test_bar_heights_follow_values(qtbot) -> None:
    chart = show(qtbot, BarChart(bar_spec(), DARK, 1.0), 400, 320)
    arr = pixels(chart)
    red = near(arr, RED, tol=10)
    columns = []
    for i, value in enumerate((10.0, 100.0)):
        p = view_point(chart, i, value / 2)
        assert red[p.y(), p.x()], f"bar {i} not at its mapped centre"
        columns.append(int(red[:, p.x()].sum()))
        # just above the bar's top there is no bar colour
        top = view_point(chart, i, value)
        assert not red[top.y() - 3, top.x()]
    ratio = columns[1] / columns[0]
    assert 8.0 < ratio < 12.0, columns
    # nothing red halfway up the short bar's column above its top
    p = view_point(chart, 0, 50.0)
    assert not red[p.y(), p.x()]


def test_bar_selected_is_highlighted_and_horizontal_ranks_top_down(qtbot) -> None:
    spec = bar_spec(selected=frozenset({"public_order"}), series=((60.0, 40.0),))
    chart = show(qtbot, BarChart(spec, DARK, 1.0), 400, 320)
    arr = pixels(chart)
    a, b = view_point(chart, 0, 30.0), view_point(chart, 1, 20.0)
    assert near(arr[a.y(), a.x()], RED, tol=10)
    assert near(arr[b.y(), b.x()], DARK.highlight, tol=10)
    assert near(arr, DARK.highlight, tol=10).sum() > 500

    hchart = show(qtbot, BarChart(bar_spec(horizontal=True), LIGHT, 1.0), 400, 240)
    arr = pixels(hchart)
    a, b = view_point(hchart, 5.0, 0), view_point(hchart, 50.0, 1)
    assert a.y() < b.y()  # the first label is on top
    assert near(arr[a.y(), a.x()], RED, tol=10) and near(arr[b.y(), b.x()], RED, tol=10)
    red_rows = near(arr, RED, tol=10)
    assert red_rows[b.y()].sum() > 6 * red_rows[a.y()].sum()


def test_bar_click_emits_field_and_key(qtbot) -> None:
    chart = show(qtbot, BarChart(bar_spec(), DARK, 1.0), 400, 320)
    viewport = chart.plot_widget().viewport()
    for i, key in enumerate(("criminal", "public_order")):
        with qtbot.waitSignal(chart.bar_clicked, timeout=1000) as blocker:
            qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                             pos=viewport_point(chart, i, 5.0))
        assert blocker.args == ["incident_categories", key]
    # between the bars: nothing
    with qtbot.assertNotEmitted(chart.bar_clicked, wait=50):
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chart, 0.5, 5))
    # a new spec (e.g. the selection coming back from the filter store) does not echo
    with qtbot.assertNotEmitted(chart.bar_clicked, wait=50):
        chart.set_spec(bar_spec(selected=frozenset({"criminal"})))
        chart.set_spec(bar_spec(series=((3.0, 4.0),)))
    # without a field a bar is not clickable
    chart.set_spec(bar_spec(field=None))
    with qtbot.assertNotEmitted(chart.bar_clicked, wait=50):
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chart, 1, 1))


def test_bar_stacked_series_stack_in_order(qtbot) -> None:
    spec = bar_spec(series=((30.0, 0.0), (70.0, 50.0)), colors=(RED, BLUE),
                    series_labels=("已办结", "待处置"))
    chart = show(qtbot, BarChart(spec, LIGHT, 1.0), 400, 320)
    arr = pixels(chart)
    low, high = view_point(chart, 0, 15.0), view_point(chart, 0, 65.0)
    assert near(arr[low.y(), low.x()], RED, tol=10)
    assert near(arr[high.y(), high.x()], BLUE, tol=10)
    above = view_point(chart, 0, 103.0)
    assert not near(arr[above.y(), above.x()], BLUE, tol=10)


# -- line chart --------------------------------------------------------------------------
def line_spec(n: int = 101) -> LineSpec:
    xs = tuple(float(19_700 + i) for i in range(n))
    labels = tuple(f"{1 + i // 30:02d}-{1 + i % 30:02d}" for i in range(n))
    return LineSpec("trend", "每日警情", xs, labels,
                    (tuple(float(10 + (i % 7)) for i in range(n)),), ("警情",), (BLUE,))


def test_line_region_drag_emits_and_set_region_does_not(qtbot) -> None:
    chart = show(qtbot, LineChart(line_spec(), DARK, 1.0, selectable=True), 700, 300)
    viewport = chart.plot_widget().viewport()
    x0, x1 = 19_720.0, 19_760.0
    a, b = viewport_point(chart, x0, 12.0), viewport_point(chart, x1, 12.0)
    with qtbot.waitSignal(chart.region_selected, timeout=2000) as blocker:
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
        for k in range(1, 11):
            qtbot.mouseMove(viewport, a + (b - a) * (k / 10))
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
    lo, hi = blocker.args
    per_pixel = 100.0 / chart.view_box().width()
    assert abs(lo - x0) < 3 * per_pixel + 0.5 and abs(hi - x1) < 3 * per_pixel + 0.5
    assert chart.region() == pytest.approx((lo, hi))
    with qtbot.assertNotEmitted(chart.region_selected, wait=50):
        chart.set_region(19_705.0, 19_710.0)
        chart.set_spec(line_spec(90))
    assert chart.region() == pytest.approx((19_705.0, 19_710.0))
    # the region is drawn: accent-tinted pixels between its edges, none outside
    arr = pixels(chart)
    inside = view_point(chart, 19_707.5, 16.5)
    outside = view_point(chart, 19_740.0, 16.5)
    assert not near(arr[inside.y(), inside.x()], DARK.panel, tol=4)
    assert near(arr[outside.y(), outside.x()], DARK.panel, tol=4)
    # dragging the region's body moves it and reports the new range
    c, d = viewport_point(chart, 19_707.5, 12.0), viewport_point(chart, 19_727.5, 12.0)
    with qtbot.waitSignal(chart.region_selected, timeout=2000) as blocker:
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=c)
        for k in range(1, 11):
            qtbot.mouseMove(viewport, c + (d - c) * (k / 10))
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=d)
    lo, hi = blocker.args
    assert hi - lo == pytest.approx(5.0, abs=1e-6)
    assert lo == pytest.approx(19_725.0, abs=3 * per_pixel + 0.5)


def test_line_ticks_are_thinned_to_fit(qtbot) -> None:
    chart = show(qtbot, LineChart(line_spec(365), DARK, 1.0), 500, 260)
    axis = chart.plot_widget().getPlotItem().getAxis("bottom")
    (lo, hi) = chart.view_box().viewRange()[0]
    levels = axis.tickValues(lo, hi, axis.width())
    shown = levels[0][1]
    assert 2 <= len(shown) < 365
    strings = axis.tickStrings(shown, 1.0, levels[0][0])
    assert all(re.fullmatch(r"\d\d-\d\d", s) for s in strings)
    fm = QFontMetricsF(axis.style["tickFont"])
    widest = max(fm.horizontalAdvance(s) for s in strings)
    gap = (shown[1] - shown[0]) * axis.width() / (hi - lo)
    assert gap > widest


# -- funnel ------------------------------------------------------------------------------
def test_funnel_bars_shrink_with_values(qtbot) -> None:
    colours = ((200, 40, 40, 255), (40, 160, 60, 255), (40, 90, 220, 255))
    spec = FunnelSpec("med", "三级化解", ("受理", "村级", "县级"), (1000, 500, 100),
                      ("", "村级化解 500", "县级 100"), colours)
    arr = pixels(show(qtbot, FunnelChart(spec, DARK, 1.0), 600, 300))
    widths = []
    for c in colours:
        mask = near(arr, c, tol=6)
        rows = np.nonzero(mask.any(axis=1))[0]
        cols = np.nonzero(mask[int(np.median(rows))])[0]  # the value text sits inside the bar
        widths.append(int(cols.max() - cols.min() + 1))
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[1] / widths[0] == pytest.approx(0.5, abs=0.05)
    assert widths[2] / widths[0] == pytest.approx(0.1, abs=0.03)


# -- table -------------------------------------------------------------------------------
def table_spec() -> TableSpec:
    return TableSpec(
        key="hz", title="超期隐患", columns=("编号", "名称", "超期天数", "整改率"),
        rows=(("HZ-1", "青石桥水塘", "987", "9.5%"), ("HZ-2", "城关网吧", "1,234", "87.7%"),
              ("HZ-3", "国道急弯", "—", "100.0%"), ("HZ-4", "加油站", "15", "—")),
        keys=("HZ-1", "HZ-2", "HZ-3", "HZ-4"), field="hazards",
        locations=((104.1, 30.6), None, (104.2, 30.7), (104.3, 30.5)),
        numeric=(False, False, True, True), alarm_rows=frozenset({1}))


def test_table_sorts_numbers_as_numbers(qtbot) -> None:
    table = show(qtbot, DataTable(table_spec(), DARK, 1.0), 500, 260)
    assert table.shown_rows() == [0, 1, 2, 3]  # the spec's order until a header is clicked
    header = table.view().horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(2) + 10, header.height() // 2))
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(2) + 10, header.height() // 2))
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    # 1,234 > 987 > 15, and the cell without a number last
    assert table.shown_rows() == [1, 0, 3, 2]
    table.sort_by(2, Qt.SortOrder.AscendingOrder)
    assert table.shown_rows() == [3, 0, 1, 2]
    table.sort_by(3, Qt.SortOrder.DescendingOrder)
    assert table.shown_rows() == [2, 1, 0, 3]  # 100% > 87.7% > 9.5% > —
    table.sort_by(1, Qt.SortOrder.AscendingOrder)
    names = [table_spec().rows[r][1] for r in table.shown_rows()]
    assert names == sorted(names)
    # a refreshed spec with the same columns keeps the user's sort
    table.sort_by(2, Qt.SortOrder.DescendingOrder)
    table.set_spec(table_spec())
    assert table.shown_rows() == [1, 0, 3, 2]


def test_table_row_click_emits_key_and_location(qtbot) -> None:
    table = show(qtbot, DataTable(table_spec(), DARK, 1.0), 500, 260)
    table.sort_by(2, Qt.SortOrder.DescendingOrder)  # shown: HZ-2, HZ-1, HZ-4, HZ-3
    view = table.view()
    expected = [("HZ-2", None), ("HZ-1", (104.1, 30.6)), ("HZ-4", (104.3, 30.5))]
    for shown_row, (key, loc) in enumerate(expected):
        rect = view.visualRect(view.model().index(shown_row, 1))
        with qtbot.waitSignal(table.row_activated, timeout=1000) as blocker:
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert blocker.args == ["hazards", key, loc]
    with qtbot.assertNotEmitted(table.row_activated, wait=50):
        table.set_spec(table_spec())


def test_table_copy_text_and_alarm_row(qtbot) -> None:
    spec = table_spec()
    table = show(qtbot, DataTable(spec, DARK, 1.0), 500, 260)
    table.sort_by(2, Qt.SortOrder.DescendingOrder)
    order = [1, 0, 3, 2]
    expected = "编号\t名称\t超期天数\t整改率\n" + "".join(
        "\t".join(spec.rows[r]) + "\n" for r in order)
    assert table.copy_text() == expected
    arr = pixels(table)
    view = table.view()
    rect = view.visualRect(view.model().index(0, 0))  # HZ-2, the alarm row, is first
    top_left = view.viewport().mapTo(table, rect.topLeft())
    band = arr[top_left.y() + 2: top_left.y() + rect.height() - 2, :]
    assert near(band, DARK.alarm, tol=40).sum() > 30  # alarm-coloured text
    rect2 = view.visualRect(view.model().index(1, 0))
    y2 = view.viewport().mapTo(table, rect2.topLeft()).y()
    band2 = arr[y2 + 2: y2 + rect2.height() - 2, :]
    assert near(band2, DARK.alarm, tol=40).sum() == 0


# -- empty specs -------------------------------------------------------------------------
def _assert_cjk_text(arr: np.ndarray) -> None:
    background = tuple(int(v) for v in arr[2, 2])
    box = ink_box(arr, background)
    assert box is not None, "nothing drawn"
    x0, y0, x1, y1 = box
    assert x1 - x0 > 20 and y1 - y0 > 8
    # three different glyphs, not three identical "missing glyph" boxes
    crop = ~near(arr[y0: y1 + 1, x0: x1 + 1], background, tol=12)
    thirds = np.array_split(crop, 3, axis=1)
    n = min(t.shape[1] for t in thirds)
    thirds = [t[:, :n] for t in thirds]
    assert not np.array_equal(thirds[0], thirds[1])
    assert not np.array_equal(thirds[1], thirds[2])


@pytest.mark.parametrize("make", [
    lambda t: KpiStrip([], t, 1.0),
    lambda t: KpiTile(None, t, 1.0),
    lambda t: BarChart(None, t, 1.0),
    lambda t: BarChart(BarSpec("b", "", (), (), ((),)), t, 1.0),
    lambda t: LineChart(LineSpec("l", "", (), (), (), (), ()), t, 1.0, selectable=True),
    lambda t: FunnelChart(None, t, 1.0),
    lambda t: DataTable(TableSpec("t", "", ("a", "b"), ()), t, 1.0),
], ids=["strip", "tile", "bar-none", "bar-empty", "line-empty", "funnel", "table"])
def test_empty_spec_shows_no_data(qtbot, make) -> None:
    assert tr("no_data") == "无数据"
    assert cjk_font_available() is not None
    widget = show(qtbot, make(DARK), 300, 160)
    _assert_cjk_text(pixels(widget))


# -- screenshots -------------------------------------------------------------------------
def _gallery(theme: Theme, f: float) -> list[tuple[str, QWidget, tuple[int, int]]]:
    kpis = [KpiSpec("incidents", "警情总数", "12,345", 12.3, "同比", "去年同期 10,992"),
            KpiSpec("rate", "隐患整改率", "87.7%", -3.2, "同比", "重大隐患 91.2%", False),
            KpiSpec("overdue", "超期未整改隐患", "23", 0.0, "环比", "其中重大 4 处", alarm=True),
            KpiSpec("big", "矛盾纠纷受理总数", "1,234,567,890")]
    towns = ("城关镇", "青石桥镇", "白马镇", "龙泉驿镇", "石门乡", "大河镇", "新安镇", "柳林乡")
    hbar = BarSpec("towns", "乡镇警情排名", towns, tuple(f"t{i}" for i in range(8)),
                   ((900, 800, 700, 650, 600, 420, 380, 300), (100, 120, 80, 60, 40, 30, 20, 20)),
                   series_labels=("已办结", "待处置"), field="areas", horizontal=True,
                   selected=frozenset({"t2"}))
    cats = ("刑事", "治安", "纠纷", "交通", "火灾", "求助", "诈骗", "其他")
    vbar = BarSpec("cat", "警情类别", cats, cats, ((1200, 3400, 2100, 900, 120, 2600, 800, 300),),
                   field="incident_categories", selected=frozenset({"纠纷"}))
    funnel = FunnelSpec("med", "矛盾纠纷三级化解", ("受理", "村级化解", "乡镇级化解", "县级化解"),
                        (18000, 14274, 2900, 420),
                        ("", "村级化解 14,274 (79.3%)", "乡镇级 2,900", "县级 420"))
    line = LineChart(line_spec(120), theme, f, selectable=True)
    line.set_region(19_730.0, 19_760.0)
    return [("kpi", KpiStrip(kpis, theme, f), (1100, 130)),
            ("bar", BarChart(vbar, theme, f), (520, 300)),
            ("hbar", BarChart(hbar, theme, f), (520, 340)),
            ("line", line, (700, 300)),
            ("funnel", FunnelChart(funnel, theme, f), (620, 260)),
            ("table", DataTable(table_spec(), theme, f), (520, 220)),
            ("empty", BarChart(None, theme, f), (300, 180))]


def test_screenshots(qtbot, tmp_path: Path) -> None:
    out = Path(os.environ.get("PANEL_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for theme, factors in ((DARK, (1.0, 2.0)), (LIGHT, (1.0,))):
        for f in factors:
            for name, widget, (w, h) in _gallery(theme, f):
                show(qtbot, widget, round(w * f), round(h * f))
                img = widget.grab().toImage()
                assert (img.width(), img.height()) == (round(w * f), round(h * f))
                path = out / f"{name}-{theme.name}-x{f:g}.png"
                assert img.save(str(path))
                # something is drawn beyond the panel colour
                box = ink_box(pixels(widget), theme.panel)
                assert box is not None
                widget.close()


@pytest.mark.parametrize("kind", ["kpi", "bar", "line", "funnel", "table"])
def test_set_scale_and_theme_equal_a_fresh_widget(qtbot, kind: str) -> None:
    specs = {
        "kpi": KpiSpec("k", "警情总数", "12,345", 4.2, "同比", "去年同期 11,847"),
        "bar": bar_spec(selected=frozenset({"criminal"})),
        "line": line_spec(60),
        "funnel": FunnelSpec("f", "三级化解", ("受理", "村级"), (100, 60), ("", "60%")),
        "table": table_spec(),
    }
    make = {"kpi": KpiTile, "bar": BarChart, "line": LineChart, "funnel": FunnelChart,
            "table": DataTable}[kind]
    fresh = show(qtbot, make(specs[kind], LIGHT, 2.0), 640, 360)
    changed = show(qtbot, make(specs[kind], DARK, 1.0), 640, 360)
    changed.set_scale(2.0)
    changed.set_theme(LIGHT)
    qtbot.wait(10)
    assert np.array_equal(pixels(fresh), pixels(changed))
