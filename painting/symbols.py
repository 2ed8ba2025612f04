"""Map symbols as paths: the same shapes on the map, in the legend and in print.

Each unit path has a diameter of 1 and is centred on the origin (y down, as in Qt).
pyqtgraph draws a ``QPainterPath`` symbol scaled by the point size, so the map canvas
passes these paths as they are; the legend and the PDF painter scale them with
``symbol_path``. Codes: ``o`` circle, ``s`` square, ``t`` triangle, ``d`` diamond,
``h`` hexagon, ``star`` five-pointed star; anything else is a circle.
"""

from __future__ import annotations

import math
from functools import cache

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPolygonF, QTransform

KINDS = ("o", "s", "t", "d", "h", "star")


def _polygon(points: list[tuple[float, float]]) -> QPainterPath:
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
    path.closeSubpath()
    return path


@cache
def unit_path(kind: str) -> QPainterPath:
    """The symbol ``kind`` with diameter 1 around (0, 0)."""
    if kind == "s":
        path = QPainterPath()
        path.addRect(QRectF(-0.42, -0.42, 0.84, 0.84))
        return path
    if kind == "t":
        return _polygon([(0, -0.55), (0.5, 0.4), (-0.5, 0.4)])
    if kind == "d":
        return _polygon([(0, -0.55), (0.5, 0), (0, 0.55), (-0.5, 0)])
    if kind == "h":
        return _polygon([(0.5 * math.cos(k * math.pi / 3), 0.5 * math.sin(k * math.pi / 3))
                         for k in range(6)])
    if kind == "star":
        pts = []
        for k in range(10):
            r = 0.55 if k % 2 == 0 else 0.23
            a = math.pi / 2 + k * math.pi / 5
            pts.append((r * math.cos(a), -r * math.sin(a)))
        return _polygon(pts)
    path = QPainterPath()
    path.addEllipse(QPointF(0, 0), 0.5, 0.5)
    return path


def symbol_path(kind: str, diameter: float, centre: QPointF | None = None) -> QPainterPath:
    """The symbol scaled to ``diameter`` (device units), around ``centre`` (default origin)."""
    t = QTransform.fromScale(diameter, diameter)
    path = t.map(unit_path(kind))
    return path.translated(centre) if centre is not None else path
