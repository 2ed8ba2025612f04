"""Glyphs drawn the same way on screen and on paper (QtGui only, no widgets).

``paint_cluster`` draws one group of symbols: a ring split by class counts (a hazard's
state, a resource's kind) around a disc with the total, and a red badge with the
number needing attention (overdue hazards). A group with nothing to act on is drawn
faded. ``cluster_diameter`` grows with the logarithm of the count, so a group of 2,000
does not cover a town.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen

BADGE_RED = QColor(213, 0, 0)
FADED_OPACITY = 0.55


def cluster_diameter(total: int, unit: float) -> float:
    """Diameter for ``total`` members; ``unit`` is one reference pixel on the device."""
    return unit * (20.0 + 9.0 * math.log10(max(total, 1)))


def _count_text(n: int) -> str:
    return f"{n / 1000:.1f}k".replace(".0k", "k") if n >= 10_000 else str(n)


def paint_cluster(p: QPainter, cx: float, cy: float, diameter: float, counts: Sequence[int],
                  colors: Sequence[Sequence[int]], badge: int, faded: bool, font: QFont,
                  center: QColor, ink: QColor, outline: QColor) -> None:
    """One group glyph centred on (cx, cy), in device units."""
    total = int(sum(counts))
    if total <= 0:
        return
    p.save()
    if faded:
        p.setOpacity(p.opacity() * FADED_OPACITY)
    r = diameter / 2
    inner = r * 0.62
    outer_rect = QRectF(cx - r, cy - r, 2 * r, 2 * r)
    inner_rect = QRectF(cx - inner, cy - inner, 2 * inner, 2 * inner)
    p.setPen(Qt.PenStyle.NoPen)
    start = 90.0  # twelve o'clock, clockwise
    for n, c in zip(counts, colors, strict=True):
        if n <= 0:
            continue
        span = -360.0 * n / total
        seg = QPainterPath()
        seg.arcMoveTo(outer_rect, start)
        seg.arcTo(outer_rect, start, span)
        seg.arcTo(inner_rect, start + span, -span)
        seg.closeSubpath()
        p.fillPath(seg, QColor(int(c[0]), int(c[1]), int(c[2]), int(c[3])))
        start += span
    p.setBrush(QBrush(center))
    p.drawEllipse(QPointF(cx, cy), inner, inner)
    pen = QPen(outline)
    pen.setWidthF(max(0.5, diameter * 0.04))
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QPointF(cx, cy), r, r)
    f = QFont(font)
    f.setBold(True)
    f.setPixelSize(max(1, round(inner * (0.95 if total < 100 else 0.8 if total < 1000
                                         else 0.66))))
    p.setFont(f)
    p.setPen(ink)
    p.drawText(inner_rect, int(Qt.AlignmentFlag.AlignCenter), _count_text(total))
    if badge > 0:
        br = max(r * 0.42, diameter * 0.2)
        bx, by = cx + r * 0.72, cy - r * 0.72
        p.setOpacity(1.0)  # overdue is never faded
        p.setPen(QPen(QColor(255, 255, 255), max(0.5, diameter * 0.035)))
        p.setBrush(QBrush(BADGE_RED))
        text = _count_text(badge)
        w = max(2 * br, br * 0.9 * len(text) + br)
        p.drawRoundedRect(QRectF(bx - w / 2, by - br, w, 2 * br), br, br)
        f.setPixelSize(max(1, round(br * 1.1)))
        p.setFont(f)
        p.setPen(QColor(255, 255, 255))
        p.drawText(QRectF(bx - w / 2, by - br, w, 2 * br), int(Qt.AlignmentFlag.AlignCenter),
                   text)
    p.restore()
