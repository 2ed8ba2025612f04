"""The panel specs of ``layers.panels`` painted with QPainter for print: KPI tiles, bars,
funnels and lines (the screen draws the same specs with widgets; nothing here imports
them). Each function paints one spec into a rectangle of device units and never
draws outside it: text is elided, numbers shrink to fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen

from layers.panels import BarSpec, FunnelSpec, KpiSpec, LineSpec, format_value
from painting.funnel import FunnelStyle
from painting.funnel import paint_funnel as painting_funnel

from .pdf_style import RGBA, Ctx, qcolor

_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
FUNNEL_MM_PER_UNIT = 0.25
"""A screen pixel at 1920x1080 is drawn as 0.25 mm on paper (the funnel's gaps and bars)."""


def no_data(ctx: Ctx, rect: QRectF, text: str) -> None:
    p = ctx.painter
    p.setFont(ctx.font(ctx.style.size_body))
    p.setPen(qcolor(ctx.style.muted))
    p.drawText(rect, _CENTER, text)


def fitted_size(ctx: Ctx, text: str, size: float, width: float, bold: bool = False,
                smallest: float = 5.0) -> float:
    """The largest point size ≤ ``size`` at which ``text`` fits ``width``."""
    w = ctx.width(text, size, bold)
    if w <= width or w <= 0:
        return size
    return max(smallest, math.floor(size * width / w * 10) / 10)


# ----------------------------------------------------------------------------- KPI tiles
def kpi_height(ctx: Ctx) -> float:
    s = ctx.style
    return (ctx.line(s.size_small) * 3 + ctx.line(s.size_kpi, True) + ctx.mm(3.2))


def paint_kpi(ctx: Ctx, spec: KpiSpec, rect: QRectF) -> None:
    p, s = ctx.painter, ctx.style
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(qcolor(s.alarm_fill if spec.alarm else s.panel))
    p.drawRoundedRect(rect, ctx.mm(1), ctx.mm(1))
    p.setBrush(qcolor(s.alarm if spec.alarm else s.accent))
    p.drawRect(QRectF(rect.left(), rect.top() + ctx.mm(1), ctx.mm(0.9),
                      rect.height() - ctx.mm(2)))
    pad = ctx.mm(2.2)
    inner = rect.adjusted(pad, ctx.mm(1.4), -ctx.mm(1.5), -ctx.mm(1.2))
    y = inner.top()
    small = s.size_small
    fm = ctx.metrics(small)
    p.setFont(ctx.font(small))
    p.setPen(qcolor(s.muted))
    h = fm.height()
    p.drawText(QRectF(inner.left(), y, inner.width(), h), _LEFT,
               fm.elidedText(spec.title, Qt.TextElideMode.ElideRight, inner.width()))
    y += h
    size = fitted_size(ctx, spec.value, s.size_kpi, inner.width(), bold=True)
    vh = ctx.line(s.size_kpi, True)
    p.setFont(ctx.font(size, bold=True))
    p.setPen(qcolor(s.alarm if spec.alarm else s.text))
    p.drawText(QRectF(inner.left(), y, inner.width(), vh), _LEFT, spec.value)
    y += vh
    delta = spec.delta_text()
    if delta:
        good = spec.delta_is_good()
        color = s.muted if good is None else s.good if good else s.bad
        p.setFont(ctx.font(small, bold=True))
        p.setPen(qcolor(color))
        p.drawText(QRectF(inner.left(), y, inner.width(), h), _LEFT,
                   ctx.metrics(small, True).elidedText(delta, Qt.TextElideMode.ElideRight,
                                                       inner.width()))
        y += h
    if spec.detail:
        p.setFont(ctx.font(small))
        p.setPen(qcolor(s.muted))
        p.drawText(QRectF(inner.left(), y, inner.width(), h), _LEFT,
                   fm.elidedText(spec.detail, Qt.TextElideMode.ElideRight, inner.width()))
    p.restore()


# ----------------------------------------------------------------------------- bars
def _bar_color(spec: BarSpec, series: int, i: int, ctx: Ctx) -> RGBA:
    if len(spec.series) == 1 and len(spec.colors) == len(spec.labels) and spec.colors:
        return spec.colors[i]
    if series < len(spec.colors):
        return spec.colors[series]
    return ctx.style.series[series % len(ctx.style.series)]


def paint_bars(ctx: Ctx, spec: BarSpec, rect: QRectF, empty: str) -> None:
    totals = [sum(s[i] for s in spec.series) for i in range(len(spec.labels))]
    if not spec.labels or not any(totals):
        no_data(ctx, rect, empty)
        return
    if spec.horizontal:
        _hbars(ctx, spec, totals, rect)
    else:
        _vbars(ctx, spec, totals, rect)


def _hbars(ctx: Ctx, spec: BarSpec, totals: list[float], rect: QRectF) -> None:
    p, s = ctx.painter, ctx.style
    size = s.size_table
    fm = ctx.metrics(size)
    n = len(spec.labels)
    row = rect.height() / n
    size = min(size, size * row / (fm.height() * 1.15)) if row < fm.height() * 1.15 else size
    fm = ctx.metrics(size)
    label_w = min(max(fm.horizontalAdvance(t) for t in spec.labels) + ctx.mm(2), rect.width() * .3)
    values = [format_value(spec.value_format, v) for v in totals]
    value_w = max(fm.horizontalAdvance(v) for v in values) + ctx.mm(1.5)
    bar_w = max(1.0, rect.width() - label_w - value_w)
    top = max(totals) or 1.0
    p.save()
    p.setFont(ctx.font(size))
    for i in range(n):
        y = rect.top() + i * row
        p.setPen(qcolor(s.text))
        p.drawText(QRectF(rect.left(), y, label_w - ctx.mm(2), row), _RIGHT,
                   fm.elidedText(spec.labels[i], Qt.TextElideMode.ElideRight,
                                 label_w - ctx.mm(2)))
        x = rect.left() + label_w
        bh = row * 0.66
        for k, series in enumerate(spec.series):
            w = bar_w * series[i] / top
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(qcolor(_bar_color(spec, k, i, ctx)))
            p.drawRect(QRectF(x, y + (row - bh) / 2, w, bh))
            x += w
        p.setPen(qcolor(s.text))
        p.drawText(QRectF(x + ctx.mm(1), y, value_w, row), _LEFT, values[i])
    p.restore()


def _nice_step(top: float, ticks: int = 4) -> float:
    raw = top / max(ticks, 1)
    if raw <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)


def _y_axis(ctx: Ctx, rect: QRectF, top: float, template: str) -> tuple[QRectF, float]:
    """Grid lines and tick labels; returns the plot rectangle and the axis maximum."""
    p, s = ctx.painter, ctx.style
    size = s.size_small
    fm = ctx.metrics(size)
    step = _nice_step(top)
    axis_max = step * math.ceil(top / step) if top > 0 else 1.0
    ticks = [step * k for k in range(round(axis_max / step) + 1)]
    label_w = max(fm.horizontalAdvance(format_value(template, t)) for t in ticks) + ctx.mm(1.5)
    plot = QRectF(rect.left() + label_w, rect.top() + fm.height() / 2,
                  rect.width() - label_w, rect.height() - fm.height() * 1.9)
    p.setFont(ctx.font(size))
    for t in ticks:
        y = plot.bottom() - plot.height() * t / axis_max
        pen = QPen(qcolor(s.grid))
        pen.setWidthF(ctx.mm(0.12))
        p.setPen(pen)
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(qcolor(s.muted))
        p.drawText(QRectF(rect.left(), y - fm.height() / 2, label_w - ctx.mm(1), fm.height()),
                   _RIGHT, format_value(template, t))
    return plot, axis_max


def _x_labels(ctx: Ctx, plot: QRectF, centres: list[float], labels: Sequence[str]) -> None:
    """Tick labels under the plot, thinned so they never touch."""
    p, s = ctx.painter, ctx.style
    size = s.size_small
    fm = ctx.metrics(size)
    if not labels:
        return
    widest = max(fm.horizontalAdvance(t) for t in labels) + ctx.mm(1.5)
    spacing = (centres[-1] - centres[0]) / max(len(centres) - 1, 1) if len(centres) > 1 else 1e9
    step = next((k for k in (1, 2, 3, 4, 6, 12, 24, 48, 96) if k * spacing >= widest),
                max(1, len(labels)))
    p.setFont(ctx.font(size))
    p.setPen(qcolor(s.muted))
    for i in range(0, len(labels), step):
        r = QRectF(centres[i] - widest / 2, plot.bottom() + ctx.mm(0.6), widest, fm.height())
        r.moveLeft(min(max(r.left(), plot.left() - ctx.mm(2)), plot.right() - widest + ctx.mm(1)))
        p.drawText(r, _CENTER, labels[i])


def _vbars(ctx: Ctx, spec: BarSpec, totals: list[float], rect: QRectF) -> None:
    p = ctx.painter
    p.save()
    plot, axis_max = _y_axis(ctx, rect, max(totals), spec.value_format)
    n = len(spec.labels)
    band = plot.width() / n
    centres = [plot.left() + band * (i + 0.5) for i in range(n)]
    for i in range(n):
        y = plot.bottom()
        for k, series in enumerate(spec.series):
            h = plot.height() * series[i] / axis_max
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(qcolor(_bar_color(spec, k, i, ctx)))
            p.drawRect(QRectF(centres[i] - band * 0.32, y - h, band * 0.64, h))
            y -= h
    _x_labels(ctx, plot, centres, spec.labels)
    p.restore()


# ----------------------------------------------------------------------------- lines
def paint_lines(ctx: Ctx, spec: LineSpec, rect: QRectF, empty: str) -> None:
    p, s = ctx.painter, ctx.style
    if not spec.x or not any(any(v) for v in spec.series):
        no_data(ctx, rect, empty)
        return
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    size = s.size_small
    fm = ctx.metrics(size)
    legend_h = fm.height() * 1.3
    body = rect.adjusted(0, legend_h, 0, 0)
    top = max(max(v) for v in spec.series if v)
    plot, axis_max = _y_axis(ctx, body, top, spec.y_format)
    x0, x1 = min(spec.x), max(spec.x)
    span = (x1 - x0) or 1.0

    def px(x: float) -> float:
        return plot.left() + plot.width() * ((x - x0) / span if x1 > x0 else 0.5)

    colors = [spec.colors[k] if k < len(spec.colors) else s.series[k % len(s.series)]
              for k in range(len(spec.series))]
    for k, values in enumerate(spec.series):
        pen = QPen(qcolor(colors[k]))
        pen.setWidthF(ctx.mm(0.45))
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        path = QPainterPath()
        for i, (x, v) in enumerate(zip(spec.x, values, strict=True)):
            pt = QPointF(px(x), plot.bottom() - plot.height() * v / axis_max)
            path.moveTo(pt) if i == 0 else path.lineTo(pt)
        p.drawPath(path)
        if len(values) <= 40:
            p.setBrush(qcolor(colors[k]))
            for x, v in zip(spec.x, values, strict=True):
                p.drawEllipse(QPointF(px(x), plot.bottom() - plot.height() * v / axis_max),
                              ctx.mm(0.45), ctx.mm(0.45))
    _x_labels(ctx, plot, [px(x) for x in spec.x], spec.x_labels)
    # legend above the plot
    x = plot.left()
    p.setFont(ctx.font(size))
    for k, label in enumerate(spec.series_labels):
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(qcolor(colors[k]))
        p.drawRect(QRectF(x, rect.top() + legend_h / 2 - ctx.mm(0.4), ctx.mm(4), ctx.mm(0.8)))
        p.setPen(qcolor(s.text))
        w = fm.horizontalAdvance(label)
        p.drawText(QRectF(x + ctx.mm(5), rect.top(), w + ctx.mm(1), legend_h), _LEFT, label)
        x += w + ctx.mm(9)
    p.restore()


# ----------------------------------------------------------------------------- funnel
def paint_funnel(ctx: Ctx, spec: FunnelSpec, rect: QRectF, empty: str) -> None:
    """The funnel as the screen draws it (``painting.funnel``), in print's fonts and units."""
    if spec.message and not spec.stages:  # why the funnel cannot be drawn, wrapped
        p = ctx.painter
        p.setFont(ctx.font(ctx.style.size_body))
        p.setPen(qcolor(ctx.style.muted))
        p.drawText(rect, _CENTER | int(Qt.TextFlag.TextWordWrap), spec.message)
        return
    if not spec.stages or not any(spec.values):
        no_data(ctx, rect, empty)
        return
    s = ctx.style
    size = s.size_table
    style = FunnelStyle(ctx.font(size), ctx.font(size, True), ctx.font(s.size_small), s.text,
                        s.muted, tuple(s.series), unit=ctx.mm(FUNNEL_MM_PER_UNIT),
                        device=ctx.device)
    painting_funnel(ctx.painter, spec.stages, spec.values, spec.notes, spec.colors, rect, style)
