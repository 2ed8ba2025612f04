"""The funnel chart (found → rectified → verified; village → town → county), one drawing
for the screen and the PDF.

Stages are centred bars whose width is proportional to the value (at least a sliver, so
a zero stage is still seen), joined by translucent connectors; the count sits inside a
bar in the ink that reads on it, or beside the bar when it does not fit; the stage name
is right-aligned on the left, the note left-aligned on the right. Every measure is a
multiple of ``FunnelStyle.unit`` (device units per reference point), so the screen
(pixels, scaled with the window) and the PDF (its resolution) lay out alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPaintDevice, QPainter, QPainterPath

from .ink import ink_on
from .numbers import count_text

RGBA = tuple[int, int, int, int]
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
LABEL_SHARE, NOTE_SHARE = 0.32, 0.32
"""At most this share of the width for the stage names and for the notes."""
BAR_HEIGHT = 0.74
"""A bar's height as a share of its row."""


@dataclass(frozen=True)
class FunnelStyle:
    label_font: QFont
    value_font: QFont
    note_font: QFont
    text: RGBA
    muted: RGBA
    series: tuple[RGBA, ...]
    unit: float
    """Device units per reference point (screen: the window's scale; print: dots per pt)."""
    device: QPaintDevice | None = None
    """Fonts are measured against it (the PDF writer's resolution); None: the screen."""


def _color(rgba: Sequence[int], alpha: int | None = None) -> QColor:
    r, g, b, a = (int(v) for v in rgba)
    return QColor(r, g, b, a if alpha is None else alpha)


def _metrics(font: QFont, device: QPaintDevice | None) -> QFontMetricsF:
    return QFontMetricsF(font, device) if device is not None else QFontMetricsF(font)


def funnel_bars(values: Sequence[int], rect: QRectF, label_w: float, note_w: float,
                unit: float) -> list[QRectF]:
    """The bar of each stage in ``rect`` (exposed for tests: widths ∝ values)."""
    n = len(values)
    gap = 8 * unit
    mid_w = max(1.0, rect.width() - label_w - note_w)
    cx = rect.left() + label_w + mid_w / 2
    row = rect.height() / max(1, n)
    bar_h = min(row * BAR_HEIGHT, 44 * unit)
    vmax = max(values, default=0) or 1
    out = []
    for i, v in enumerate(values):
        bw = max(4 * unit, (mid_w - 2 * gap) * max(0, v) / vmax)
        out.append(QRectF(cx - bw / 2, rect.top() + row * i + (row - bar_h) / 2, bw, bar_h))
    return out


def paint_funnel(p: QPainter, stages: Sequence[str], values: Sequence[int],
                 notes: Sequence[str], colors: Sequence[RGBA], rect: QRectF,
                 style: FunnelStyle) -> None:
    """Draw the funnel into ``rect`` (nothing outside it)."""
    n = len(stages)
    if not n:
        return
    vals = [max(0, int(v)) for v in values[:n]] + [0] * max(0, n - len(values))
    notes = [notes[i] if i < len(notes) else "" for i in range(n)]
    colors = [colors[i] if i < len(colors) else style.series[i % len(style.series)]
              for i in range(n)]
    dev = style.device
    lfm, vfm, nfm = (_metrics(f, dev) for f in (style.label_font, style.value_font,
                                                style.note_font))
    gap = 8 * style.unit
    label_w = min(max(lfm.horizontalAdvance(s) for s in stages) + gap,
                  LABEL_SHARE * rect.width())
    note_w = (min(max(nfm.horizontalAdvance(s) for s in notes) + gap, NOTE_SHARE * rect.width())
              if any(notes) else 0.0)
    bars = funnel_bars(vals, rect, label_w, note_w, style.unit)
    mid_right = rect.right() - note_w
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    p.setClipRect(rect)
    p.setPen(Qt.PenStyle.NoPen)
    for i in range(n - 1):  # connectors first, so the bars sit on top of them
        a, b = bars[i], bars[i + 1]
        path = QPainterPath(QPointF(a.left(), a.bottom()))
        path.lineTo(a.right(), a.bottom())
        path.lineTo(b.right(), b.top())
        path.lineTo(b.left(), b.top())
        path.closeSubpath()
        p.setBrush(_color(colors[i], 60))
        p.drawPath(path)
    radius = 3 * style.unit
    for i, r in enumerate(bars):
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_color(colors[i]))
        p.drawRoundedRect(r, radius, radius)
        text = count_text(vals[i])
        p.setFont(style.value_font)
        if vfm.horizontalAdvance(text) + 2 * gap <= r.width():
            p.setPen(_color(ink_on(colors[i])))
            p.drawText(r, _CENTER, text)
        else:
            p.setPen(_color(style.text))
            p.drawText(QRectF(r.right() + gap / 2, r.top(),
                              max(0.0, mid_right - r.right() - gap / 2), r.height()),
                       _LEFT, text)
        p.setFont(style.label_font)
        p.setPen(_color(style.text))
        band = QRectF(rect.left(), r.top(), label_w - gap, r.height())
        p.drawText(band, _RIGHT, lfm.elidedText(stages[i], Qt.TextElideMode.ElideRight,
                                                band.width()))
        if notes[i]:
            p.setFont(style.note_font)
            p.setPen(_color(style.muted))
            band = QRectF(rect.right() - note_w + gap, r.top(), note_w - gap, r.height())
            p.drawText(band, _LEFT, nfm.elidedText(notes[i], Qt.TextElideMode.ElideRight,
                                                   band.width()))
    p.restore()
