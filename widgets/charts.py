"""Charts beside the map: bars, lines with a time-range brush, and the mediation funnel.

Each chart draws one spec from ``layers.panels`` and emits intents; none queries data.
What is drawn:
- ``BarChart``: one bar per label, series stacked in order; the total is written at the
  end of each bar with ``value_format``; category labels sit on the axis (elided to the
  room a bar has, full text in the tooltip); the value axis is hidden because every bar
  carries its number. Bars in ``spec.selected`` are filled with the theme's ``highlight``
  (one series) or framed in it (stacked series). Horizontal charts list the first label
  at the top (rankings). A click anywhere in a bar's column (the bar's width, the whole
  height, so short bars are easy to hit) emits ``bar_clicked(field, key)`` when the spec
  has a ``field``.
- ``LineChart``: one line per series on the spec's x; x tick labels come from
  ``x_labels`` thinned to a step (1, 2, 5, 7, 14, 30...) that keeps them from touching;
  y ticks use ``y_format``. With ``selectable=True`` a drag across the plot draws a
  region (pg.LinearRegionItem) and emits ``region_selected(x0, x1)`` (x0 < x1, in x
  units) when the drag ends; moving the region or its edges emits it too. ``set_region``
  shows a region on any line chart (movable only when selectable) and never emits.
- ``FunnelChart``: stages as centred bars whose width is proportional to the value
  (at least a sliver, so a zero stage is still seen), the value inside the bar (beside
  it when it does not fit), the stage name left, the note right.
Every chart shows ``tr("no_data")`` for a missing or empty spec.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from layers.panels import BarSpec, FunnelSpec, LineSpec, format_value
from painting.funnel import FunnelStyle, paint_funnel
from widgets.records_menu import offer_records, wants_records
from widgets.theme import (
    DARK,
    RGBA,
    Theme,
    TitleLabel,
    css,
    make_font,
    no_data_label,
    qcolor,
    signals_blocked,
)

_BAR_WIDTH = 0.62  # of the category band


class _Panel(QWidget):
    """Title, a legend line, and a body that gives way to the no-data text."""

    def __init__(self, body: QWidget, theme: Theme, scale: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._scale = scale
        self._title = TitleLabel()
        self._legend = QLabel()
        self._legend.setTextFormat(Qt.TextFormat.RichText)
        self._legend.setWordWrap(True)
        self._legend.hide()
        self._legend_items: list[tuple[str, RGBA]] = []
        self._body = body
        self._error: str | None = None
        self._empty = no_data_label(theme, scale)
        self._stack = QStackedWidget()
        self._stack.addWidget(body)
        self._stack.addWidget(self._empty)
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self._title)
        self._layout.addWidget(self._legend)
        self._layout.addWidget(self._stack, 1)
        self.setAutoFillBackground(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(round(420 * self._scale), round(260 * self._scale))

    def minimumSizeHint(self) -> QSize:
        return QSize(round(160 * self._scale), round(120 * self._scale))

    def hasHeightForWidth(self) -> bool:
        # the wrapping legend would make the panel height-for-width, and the parent grid
        # would then size it from the plot's large natural height instead of sizeHint
        return False

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()
        self._redraw()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()
        self._redraw()

    def _restyle(self) -> None:
        t, f = self._theme, self._scale
        m = round(8 * f)
        self._layout.setContentsMargins(m, round(6 * f), m, m)
        self._layout.setSpacing(round(4 * f))
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, qcolor(t.panel))
        self.setPalette(pal)
        self._title.restyle(t, f)
        no_data_label(t, f, self._empty, self._error)
        self._legend.setFont(make_font(t, 9, f))
        self._set_legend(self._legend_items)

    def _set_title(self, text: str) -> None:
        self._title.setText(text)
        self._title.setToolTip(text)
        self._title.update()

    def _set_legend(self, items: list[tuple[str, RGBA]]) -> None:
        self._legend_items = items
        if not items:
            self._legend.hide()
            return
        parts = [f'<span style="color:{css(c)}">■</span>&nbsp;'
                 f'<span style="color:{css(self._theme.muted)}">{escape(label)}</span>'
                 for label, c in items]
        self._legend.setText("&nbsp;&nbsp;&nbsp;".join(parts))
        self._legend.show()

    def _show_body(self, has_data: bool) -> None:
        if self._error is not None:  # a new spec arrived: the panel works again
            self._error = None
            no_data_label(self._theme, self._scale, self._empty)
        self._stack.setCurrentIndex(0 if has_data else 1)

    def show_error(self, message: str) -> None:
        """This panel failed: say so in its place (the title and the rest stay)."""
        self._error = message
        self._spec = None  # the next spec is drawn even if it equals the last good one
        no_data_label(self._theme, self._scale, self._empty, message)
        self._stack.setCurrentIndex(1)

    def error(self) -> str | None:
        return self._error

    def _redraw(self) -> None:
        raise NotImplementedError


def _new_plot(axis_items: dict[str, pg.AxisItem] | None = None,
              view_box: pg.ViewBox | None = None) -> pg.PlotWidget:
    pw = pg.PlotWidget(axisItems=axis_items, viewBox=view_box)
    pw.setMenuEnabled(False)
    pw.hideButtons()
    pw.setMouseEnabled(False, False)
    pw.setFrameShape(pg.QtWidgets.QFrame.Shape.NoFrame)
    pw.getPlotItem().layout.setContentsMargins(0, 0, 4, 0)
    return pw


def _style_plot(pw: pg.PlotWidget, theme: Theme, factor: float) -> QFont:
    pw.setBackground(qcolor(theme.panel))
    font = make_font(theme, 9, factor)
    for name in ("left", "bottom"):
        ax = pw.getPlotItem().getAxis(name)
        ax.setPen(pg.mkPen(qcolor(theme.grid), width=max(1.0, factor)))
        ax.setTextPen(pg.mkPen(qcolor(theme.muted)))
        ax.setStyle(tickFont=font, tickLength=round(-4 * factor),
                    tickTextOffset=round(4 * factor))
    return font


# --------------------------------------------------------------------------------------
class BarChart(_Panel):
    """Draws a ``BarSpec``; emits ``bar_clicked(field, key)``, and
    ``records_requested(spec key, bar key)`` on Ctrl+click or the context menu."""

    bar_clicked = Signal(str, str)
    records_requested = Signal(str, str)

    def __init__(self, spec: BarSpec | None = None, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        self._plot = _new_plot()
        super().__init__(self._plot, theme, scale, parent)
        self._spec: BarSpec | None = None
        self.records_enabled = False
        """Whether bars offer their records (Ctrl+click, context menu)."""
        self._totals = np.zeros(0)
        self._labels: list[pg.TextItem] = []
        self._bars: list[pg.BarGraphItem] = []  # kept for updates in place (see _update)
        self._spec_drawn: BarSpec | None = None
        vb = self._plot.getViewBox()
        vb.sigResized.connect(self._fit)
        self._plot.scene().sigMouseClicked.connect(self._on_click)
        self._plot.scene().sigMouseMoved.connect(self._on_hover)
        self._restyle()
        self.set_spec(spec)

    def spec(self) -> BarSpec | None:
        return self._spec

    def plot_widget(self) -> pg.PlotWidget:
        return self._plot

    def view_box(self) -> pg.ViewBox:
        return self._plot.getViewBox()

    def set_spec(self, spec: BarSpec | None) -> None:
        if spec == self._spec and spec is not None:
            return
        with signals_blocked(self):
            self._spec = spec
            self._redraw()

    def _series_colors(self, s: BarSpec) -> list[list[RGBA]]:
        n = len(s.labels)
        if len(s.series) == 1 and len(s.colors) == n and n > 1:
            return [list(s.colors)]
        out = []
        for k in range(len(s.series)):
            c = s.colors[k] if k < len(s.colors) else self._theme.series[k % len(
                self._theme.series)]
            out.append([c] * n)
        return out

    def _bar_style(self, s: BarSpec, n: int) -> list[tuple[list, list]]:
        """(brushes, pens) per series: the selection highlighted."""
        t, f = self._theme, self._scale
        colors = self._series_colors(s)
        stacked = len(s.series) > 1
        selected = [k in s.selected for k in s.keys] + [False] * (n - len(s.keys))
        out = []
        for k in range(len(s.series)):
            brushes, pens = [], []
            for i in range(n):
                fill = t.highlight if (selected[i] and not stacked) else colors[k][i]
                brushes.append(pg.mkBrush(qcolor(fill)))
                if selected[i] and stacked:
                    pens.append(pg.mkPen(qcolor(t.highlight), width=2.5 * f))
                else:
                    # a thin panel-coloured edge separates stacked segments
                    pens.append(pg.mkPen(qcolor(t.panel), width=1) if stacked
                                else pg.mkPen(None))
            out.append((brushes, pens))
        return out

    def _values(self, s: BarSpec, n: int) -> list[np.ndarray]:
        out = []
        for vals in s.series:
            v = np.nan_to_num(np.asarray(vals, dtype=float)[:n])
            out.append(np.pad(v, (0, n - len(v))) if len(v) < n else v)
        return out

    def _update(self, s: BarSpec | None) -> bool:
        """Move the drawn bars and value labels to ``s`` when it has as many bars, series
        and the same orientation as what is drawn (a replay changes only the values, about
        ten times a second: clearing and re-creating two dozen text items cost 25 ms)."""
        if (s is None or not s.series or not self._bars or len(self._bars) != len(s.series)
                or len(s.labels) != len(self._labels) or self._spec_drawn is None
                or s.horizontal != self._spec_drawn.horizontal):
            return False
        n = len(s.labels)
        base = np.zeros(n)
        for item, v, (brushes, pens) in zip(self._bars, self._values(s, n),
                                            self._bar_style(s, n), strict=True):
            if s.horizontal:
                item.setOpts(x0=base.copy(), width=v, brushes=brushes, pens=pens)
            else:
                item.setOpts(y0=base.copy(), height=v, brushes=brushes, pens=pens)
            base += v
        self._totals = base
        for i, text in enumerate(self._labels):
            text.setText(format_value(s.value_format, base[i]))
            text.setPos(*((base[i], i) if s.horizontal else (i, base[i])))
        self._set_title(s.title)
        if len(s.series) > 1:
            colors = self._series_colors(s)
            self._set_legend([(s.series_labels[k] if k < len(s.series_labels) else str(k + 1),
                               colors[k][0]) for k in range(len(s.series))])
        self._show_body(True)  # after an error, the panel works again
        self._spec_drawn = s
        self._fit()
        return True

    def _redraw(self) -> None:
        s, t, f = self._spec, self._theme, self._scale
        if self._update(s):
            return
        self._spec_drawn = s
        pi = self._plot.getPlotItem()
        pi.clear()
        self._labels = []
        self._bars = []
        self._set_title(s.title if s else "")
        n = len(s.labels) if s else 0
        if s is None or n == 0 or not s.series:
            self._totals = np.zeros(0)
            self._set_legend([])
            self._show_body(False)
            return
        self._show_body(True)
        idx = np.arange(n, dtype=float)
        colors = self._series_colors(s)
        stacked = len(s.series) > 1
        base = np.zeros(n)
        for v, (brushes, pens) in zip(self._values(s, n), self._bar_style(s, n), strict=True):
            if s.horizontal:
                item = pg.BarGraphItem(x0=base.copy(), y=idx, width=v, height=_BAR_WIDTH,
                                       brushes=brushes, pens=pens)
            else:
                item = pg.BarGraphItem(x=idx, y0=base.copy(), height=v, width=_BAR_WIDTH,
                                       brushes=brushes, pens=pens)
            pi.addItem(item)
            self._bars.append(item)
            base += v
        self._totals = base
        font = make_font(t, 9, f, bold=True)
        for i in range(n):
            text = pg.TextItem(format_value(s.value_format, base[i]), color=qcolor(t.text),
                               anchor=(0, 0.5) if s.horizontal else (0.5, 1))
            text.setFont(font)
            pos = (base[i], i) if s.horizontal else (i, base[i])
            text.setPos(*pos)
            pi.addItem(text)
            self._labels.append(text)
        legend = []
        if stacked:
            for k in range(len(s.series)):
                name = s.series_labels[k] if k < len(s.series_labels) else str(k + 1)
                legend.append((name, colors[k][0]))
        self._set_legend(legend)
        cat, val = ("left", "bottom") if s.horizontal else ("bottom", "left")
        pi.showAxis(cat)
        pi.hideAxis(val)
        pi.showGrid(x=False, y=False)
        vb = pi.getViewBox()
        vb.invertY(s.horizontal)
        vb.disableAutoRange()
        self._fit()

    def _restyle(self) -> None:
        super()._restyle()
        _style_plot(self._plot, self._theme, self._scale)
        self._bars = []  # a new look is drawn from scratch

    def _fit(self) -> None:
        """Category ticks elided to the room each bar has; value range with room for labels."""
        s = self._spec
        n = len(self._totals)
        if s is None or n == 0:
            return
        vb = self._plot.getViewBox()
        pi = self._plot.getPlotItem()
        font = make_font(self._theme, 9, self._scale)
        fm = QFontMetricsF(font)
        label_font = QFontMetricsF(make_font(self._theme, 9, self._scale, bold=True))
        pad = 6 * self._scale
        if s.horizontal:
            room = min(max(fm.horizontalAdvance(lbl) for lbl in s.labels) + pad,
                       0.35 * max(1.0, self.width()))
            axis = pi.getAxis("left")
            axis.setWidth(math.ceil(room + 4 * self._scale))
            extent = max(label_font.horizontalAdvance(lbl.textItem.toPlainText())
                         for lbl in self._labels) + pad
            size = vb.width()
        else:
            room = vb.width() / n - pad
            axis = pi.getAxis("bottom")
            axis.setHeight(math.ceil(fm.height() + 8 * self._scale))
            extent = label_font.height() + pad
            size = vb.height()
        # value labels shrink a little to stay apart, then are left to the tooltip
        if s.horizontal:
            ratio = vb.height() / n / label_font.height() * 1.1
        else:
            widest = max(label_font.horizontalAdvance(lbl.textItem.toPlainText())
                         for lbl in self._labels)
            ratio = vb.width() / n / widest
        value_font = make_font(self._theme, 9 * min(1.0, ratio), self._scale, bold=True)
        for lbl in self._labels:
            lbl.setFont(value_font)
            lbl.setVisible(ratio >= 0.7)
        step = 1
        widest_tick = max(fm.horizontalAdvance(lbl) for lbl in s.labels)
        if not s.horizontal and widest_tick > room and max(len(lbl) for lbl in s.labels) <= 3:
            # short ordinal labels (hours, days) are thinned rather than elided to "…"
            step = math.ceil((widest_tick + pad) / max(vb.width() / n, 1.0))
        ticks = [(float(i), fm.elidedText(lbl, Qt.TextElideMode.ElideRight,
                                          max(room * step, 1.0)))
                 for i, lbl in enumerate(s.labels) if i % step == 0]
        axis.setTicks([ticks, []])
        lo = min(0.0, float(self._totals.min()))
        hi = max(float(self._totals.max()), 0.0)
        if hi <= lo:
            hi = lo + 1.0
        # the end label takes `extent` pixels beyond the longest bar
        frac = extent / size if size > 0 else 0.3
        top = lo + (hi - lo) / (1 - frac) if frac < 0.6 else hi + (hi - lo) * 1.5
        cats = (-0.5, n - 0.5)
        if s.horizontal:
            vb.setRange(xRange=(lo, top), yRange=cats, padding=0)
        else:
            vb.setRange(xRange=cats, yRange=(lo, top), padding=0)

    def _index_at(self, scene_pos: QPointF) -> int | None:
        s = self._spec
        vb = self._plot.getViewBox()
        if s is None or not len(self._totals) or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        c = p.y() if s.horizontal else p.x()
        i = round(c)
        if not 0 <= i < len(self._totals) or abs(c - i) > _BAR_WIDTH / 2:
            return None
        return i

    def _on_click(self, ev: object) -> None:
        button = ev.button()  # type: ignore[attr-defined]
        i = self._index_at(ev.scenePos())  # type: ignore[attr-defined]
        s = self._spec
        if i is None or s is None or i >= len(s.keys):
            return
        key = s.keys[i]
        if button == Qt.MouseButton.RightButton and self.records_enabled:
            offer_records(self, ev.screenPos().toPoint(),  # type: ignore[attr-defined]
                          lambda: self.records_requested.emit(s.key, key))
            return
        if button != Qt.MouseButton.LeftButton:
            return
        if self.records_enabled and wants_records(ev.modifiers()):  # type: ignore[attr-defined]
            self.records_requested.emit(s.key, key)
        elif s.field is not None:
            self.bar_clicked.emit(s.field, key)

    def _on_hover(self, scene_pos: QPointF) -> None:
        i = self._index_at(scene_pos)
        s = self._spec
        if i is None or s is None:
            self._plot.setToolTip("")
            return
        lines = [f"{s.labels[i]}: {format_value(s.value_format, self._totals[i])}"]
        if len(s.series) > 1:
            for k, vals in enumerate(s.series):
                name = s.series_labels[k] if k < len(s.series_labels) else str(k + 1)
                v = vals[i] if i < len(vals) else 0
                lines.append(f"  {name}: {format_value(s.value_format, v)}")
        self._plot.setToolTip("\n".join(lines))


# --------------------------------------------------------------------------------------
_NICE_STEPS = (1, 2, 3, 5, 7, 10, 14, 15, 20, 30, 60, 90, 120, 180, 365)


class _LabelAxis(pg.AxisItem):
    """x ticks at the spec's x values, labelled by ``x_labels``, thinned so they never touch."""

    def __init__(self, orientation: str = "bottom") -> None:
        super().__init__(orientation)
        self._xs = np.zeros(0)
        self._text: dict[float, str] = {}
        self._width = 1.0

    def set_labels(self, xs: Sequence[float], labels: Sequence[str], font: QFont) -> None:
        self._xs = np.asarray(xs, dtype=float)
        self._text = dict(zip(self._xs.tolist(), labels, strict=False))
        fm = QFontMetricsF(font)
        self._width = max((fm.horizontalAdvance(t) for t in labels), default=1.0) + fm.height()
        self.picture = None
        self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        if not len(self._xs):
            return super().tickValues(minVal, maxVal, size)
        inside = np.flatnonzero((self._xs >= minVal) & (self._xs <= maxVal))
        if not len(inside):
            return []
        room = max(1, int(size // self._width))
        step = next((k for k in _NICE_STEPS if math.ceil(len(inside) / k) <= room), None)
        if step is None:
            step = math.ceil(len(inside) / room / 365) * 365
        picked = [float(self._xs[i]) for i in inside if i % step == 0]
        return [(float(step), picked)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if not self._text:
            return super().tickStrings(values, scale, spacing)
        return [self._text.get(float(v), "") for v in values]


class _ValueAxis(pg.AxisItem):
    """y ticks in the spec's ``y_format``, unless the format would print equal ticks."""

    fmt = "{:,.0f}"

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        return super().tickValues(minVal, maxVal, size)[:1]  # major ticks only: a calm grid

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = [format_value(self.fmt, v * scale) for v in values]
        return out if len(set(out)) == len(out) else super().tickStrings(values, scale, spacing)


class _BrushViewBox(pg.ViewBox):
    """A view box whose left-drag reports an x interval instead of panning."""

    sigBrushed = pg.QtCore.Signal(float, float, bool)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.brushing = False

    def mouseDragEvent(self, ev: object, axis: int | None = None) -> None:
        if not self.brushing or ev.button() != Qt.MouseButton.LeftButton:  # type: ignore
            ev.ignore()  # type: ignore[attr-defined]
            return
        ev.accept()  # type: ignore[attr-defined]
        x0 = self.mapToView(ev.buttonDownPos()).x()  # type: ignore[attr-defined]
        x1 = self.mapToView(ev.pos()).x()  # type: ignore[attr-defined]
        self.sigBrushed.emit(x0, x1, bool(ev.isFinish()))  # type: ignore[attr-defined]


class LineChart(_Panel):
    """Draws a ``LineSpec``; with ``selectable`` emits ``region_selected(x0, x1)``."""

    region_selected = Signal(float, float)

    def __init__(self, spec: LineSpec | None = None, theme: Theme = DARK, scale: float = 1.0,
                 selectable: bool = False, parent: QWidget | None = None) -> None:
        self._xaxis = _LabelAxis("bottom")
        self._yaxis = _ValueAxis("left")
        self._vb = _BrushViewBox()
        self._vb.brushing = selectable
        self._plot = _new_plot({"bottom": self._xaxis, "left": self._yaxis}, self._vb)
        super().__init__(self._plot, theme, scale, parent)
        self._spec: LineSpec | None = None
        self._region = pg.LinearRegionItem(orientation="vertical", movable=selectable)
        self._region.setZValue(10)
        self._region.hide()
        self._region.sigRegionChangeFinished.connect(self._on_region_moved)
        self._vb.sigBrushed.connect(self._on_brush)
        # Added once and kept: every addItem connects the region and its two lines to the
        # view again, and PySide keeps a weak reference per connection for the life of the
        # item (removal does not free them): re-added at each redraw, the wall grew by
        # about 1.3 kB per redraw, thousands of redraws an hour.
        self._plot.getPlotItem().addItem(self._region, ignoreBounds=True)
        self._curves: list[pg.PlotDataItem] = []
        """The series drawn, reused by the next spec (updated in place, not re-created)."""
        self._restyle()
        self.set_spec(spec)

    def spec(self) -> LineSpec | None:
        return self._spec

    def plot_widget(self) -> pg.PlotWidget:
        return self._plot

    def view_box(self) -> pg.ViewBox:
        return self._vb

    def region(self) -> tuple[float, float] | None:
        if not self._region.isVisible():
            return None
        lo, hi = self._region.getRegion()
        return float(lo), float(hi)

    def set_region(self, x0: float | None, x1: float | None = None) -> None:
        """Show the region [x0, x1] (None hides it). Never emits ``region_selected``."""
        with signals_blocked(self):
            if x0 is None or x1 is None:
                self._region.hide()
                return
            self._region.setRegion((min(x0, x1), max(x0, x1)))
            self._region.show()

    def set_spec(self, spec: LineSpec | None) -> None:
        if spec == self._spec and spec is not None:
            return
        with signals_blocked(self):
            self._spec = spec
            self._redraw()

    def _restyle(self) -> None:
        super()._restyle()
        font = _style_plot(self._plot, self._theme, self._scale)
        a = self._theme.accent
        self._region.setBrush(qcolor(a, 50))
        self._region.setHoverBrush(qcolor(a, 80))
        for line in self._region.lines:
            line.setPen(pg.mkPen(qcolor(a), width=max(1.0, 2 * self._scale)))
            line.setHoverPen(pg.mkPen(qcolor(self._theme.highlight),
                                      width=max(1.0, 3 * self._scale)))
        self._xfont = font

    def _redraw(self) -> None:
        s, t, f = self._spec, self._theme, self._scale
        pi = self._plot.getPlotItem()
        region = self.region()
        self._set_title(s.title if s else "")
        if s is None or not s.x or not s.series:
            self._keep_curves(0)
            self._set_legend([])
            self._show_body(False)
            if self._error is None:  # the spec's reason, else "no data"
                no_data_label(t, f, self._empty)
                if s is not None and s.empty:
                    self._empty.setText(s.empty)
                    self._empty.setWordWrap(True)
            return
        self._show_body(True)
        x = np.asarray(s.x, dtype=float)
        legend = []
        self._keep_curves(len(s.series))
        for k, vals in enumerate(s.series):
            c = s.colors[k] if k < len(s.colors) else t.series[k % len(t.series)]
            y = np.asarray(vals, dtype=float)[: len(x)]
            pen = pg.mkPen(qcolor(c), width=max(1.0, 2.0 * f))
            symbol = "o" if len(x) < 3 else None
            self._curves[k].setData(x[: len(y)], y, pen=pen, antialias=True, symbol=symbol,
                                    symbolBrush=qcolor(c), symbolPen=None, symbolSize=6 * f)
            name = s.series_labels[k] if k < len(s.series_labels) else str(k + 1)
            legend.append((name, c))
        self._set_legend(legend if len(s.series) > 1 or s.series_labels else [])
        self._xaxis.set_labels(s.x, s.x_labels, self._xfont)
        self._yaxis.fmt = s.y_format
        fm = QFontMetricsF(self._xfont)
        self._xaxis.setHeight(math.ceil(fm.height() + 8 * f))
        pi.showGrid(x=False, y=True, alpha=0.35)
        if region is not None:
            self.set_region(*region)
        span = float(x.max() - x.min()) or 1.0
        self._vb.setXRange(float(x.min()), float(x.min()) + span, padding=0.01)
        ys = np.concatenate([np.asarray(v, dtype=float) for v in s.series])
        ys = ys[np.isfinite(ys)]
        lo = min(0.0, float(ys.min())) if len(ys) else 0.0
        hi = float(ys.max()) if len(ys) else 1.0
        self._vb.setYRange(lo, hi if hi > lo else lo + 1.0, padding=0.06)

    def _keep_curves(self, n: int) -> None:
        """Exactly ``n`` series items in the plot (extra ones removed, missing ones added)."""
        pi = self._plot.getPlotItem()
        while len(self._curves) > n:
            pi.removeItem(self._curves.pop())
        while len(self._curves) < n:
            curve = pg.PlotDataItem()
            pi.addItem(curve)
            self._curves.append(curve)

    def _on_brush(self, x0: float, x1: float, finished: bool) -> None:
        lo, hi = min(x0, x1), max(x0, x1)
        with signals_blocked(self._region):
            self._region.setRegion((lo, hi))
        self._region.show()
        if finished and hi > lo:
            self.region_selected.emit(lo, hi)

    def _on_region_moved(self) -> None:
        r = self.region()
        if r is not None:
            self.region_selected.emit(*r)


# --------------------------------------------------------------------------------------
class _FunnelCanvas(QWidget):
    stage_requested = Signal(int)
    """The records of a stage (Ctrl+click or the context menu)."""

    def __init__(self) -> None:
        super().__init__()
        self.spec: FunnelSpec | None = None
        self.theme = DARK
        self.scale = 1.0
        self.records_enabled = False

    def stage_at(self, y: float) -> int | None:
        """The stage whose row holds ``y`` (the funnel gives each stage an equal row)."""
        n = len(self.spec.stages) if self.spec else 0
        if not n or not 0 <= y < self.height():
            return None
        return min(n - 1, int(y * n / max(1, self.height())))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        i = self.stage_at(event.position().y())
        if (i is not None and self.records_enabled and event.button() == Qt.MouseButton.LeftButton
                and wants_records(event.modifiers())):
            self.stage_requested.emit(i)
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        i = self.stage_at(event.pos().y())
        if i is not None and self.records_enabled:
            offer_records(self, event.globalPos(), lambda: self.stage_requested.emit(i))

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        t, f = self.theme, self.scale
        return make_font(t, 10, f), make_font(t, 10, f, bold=True), make_font(t, 9, f)

    def paintEvent(self, event: QPaintEvent) -> None:
        s, t, f = self.spec, self.theme, self.scale
        if s is None or not s.stages:
            return
        label_font, value_font, note_font = self._fonts()
        style = FunnelStyle(label_font, value_font, note_font, t.text, t.muted, t.series, f)
        p = QPainter(self)
        paint_funnel(p, s.stages, s.values, s.notes, s.colors,
                     QRectF(0, 0, float(self.width()), float(self.height())), style)
        p.end()


class FunnelChart(_Panel):
    """Draws a ``FunnelSpec``; ``records_requested(spec key, stage index)`` on Ctrl+click
    or the context menu."""

    records_requested = Signal(str, str)

    def __init__(self, spec: FunnelSpec | None = None, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        self._canvas = _FunnelCanvas()
        self._canvas.stage_requested.connect(
            lambda i: self._spec and self.records_requested.emit(self._spec.key, str(i)))
        super().__init__(self._canvas, theme, scale, parent)
        self._spec: FunnelSpec | None = None
        self._restyle()
        self.set_spec(spec)

    def spec(self) -> FunnelSpec | None:
        return self._spec

    @property
    def records_enabled(self) -> bool:
        return self._canvas.records_enabled

    @records_enabled.setter
    def records_enabled(self, on: bool) -> None:
        self._canvas.records_enabled = on

    def set_spec(self, spec: FunnelSpec | None) -> None:
        self._spec = spec
        self._redraw()

    def sizeHint(self) -> QSize:
        n = len(self._spec.stages) if self._spec else 3
        return QSize(round(420 * self._scale), round((40 + 40 * n) * self._scale))

    def _redraw(self) -> None:
        s = self._spec
        self._canvas.spec, self._canvas.theme, self._canvas.scale = s, self._theme, self._scale
        self._set_title(s.title if s else "")
        self._show_body(s is not None and bool(s.stages))
        if self._error is None:  # no stages: the spec's reason, else "no data"
            no_data_label(self._theme, self._scale, self._empty)
            if s is not None and not s.stages and s.message:
                self._empty.setText(s.message)
                self._empty.setWordWrap(True)
        if s is not None:
            self._canvas.setToolTip("\n".join(
                f"{st}: {v:,}" + (f"  {s.notes[i]}" if i < len(s.notes) else "")
                for i, (st, v) in enumerate(zip(s.stages, s.values, strict=False))))
        self._canvas.update()
