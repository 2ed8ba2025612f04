"""The map canvas: draws a scene's drawables with pyqtgraph, in Web Mercator metres.

A registry maps each drawable type to a pyqtgraph item factory. Static geometry
(area outlines, hotspot cells) is painted once into a QPicture; labels are
placed in screen space at paint time, higher priority first, skipping any that
would overlap one already drawn. The canvas emits intents only: the view it
shows (debounced), an area or a symbol clicked, a point clicked for dispatch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPicture,
    QPolygonF,
)
from PySide6.QtWidgets import QToolTip

from data.coords import mercator_to_lonlat
from data.queries import Viewport
from layers.drawables import Cells, Drawable, Labels, LayerSpec, Lines, Points, Polygons, Raster
from painting.symbols import unit_path


def _color(rgba: tuple[int, int, int, int] | np.ndarray) -> QColor:
    r, g, b, a = (int(v) for v in rgba)
    return QColor(r, g, b, a)


class PictureItem(pg.GraphicsObject):
    """Geometry painted once into a QPicture (cheap to redraw while panning)."""

    def __init__(self, paint: Callable[[QPainter], None], bounds: QRectF) -> None:
        super().__init__()
        self._picture = QPicture()
        p = QPainter(self._picture)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint(p)
        p.end()
        self._bounds = bounds

    def paint(self, p: QPainter, *args: object) -> None:
        self._picture.play(p)

    def boundingRect(self) -> QRectF:
        return self._bounds


def _polygons_item(d: Polygons, scale: float) -> PictureItem:
    xs, ys = [], []

    def paint(p: QPainter) -> None:
        pen = QPen(_color(d.pen))
        pen.setCosmetic(True)
        pen.setWidthF(d.pen_width * scale)
        p.setPen(pen)
        for i, rings in enumerate(d.rings):
            path = QPainterPath()
            for ring in rings:
                path.addPolygon(QPolygonF([QPointF(x, y) for x, y in ring]))
                path.closeSubpath()
                xs.extend((ring[:, 0].min(), ring[:, 0].max()))
                ys.extend((ring[:, 1].min(), ring[:, 1].max()))
            fill = d.fills[i] if d.fills is not None else None
            p.setBrush(QBrush(_color(fill)) if fill is not None and fill[3] else
                       Qt.BrushStyle.NoBrush)
            p.drawPath(path)

    item = PictureItem(paint, QRectF())
    if xs:
        item._bounds = QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return item


def _cells_item(d: Cells, scale: float) -> PictureItem:
    def paint(p: QPainter) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        for x, y, c in zip(d.x, d.y, d.colors, strict=True):
            p.setBrush(QBrush(_color(c)))
            p.drawRect(QRectF(float(x), float(y), d.size, d.size))

    bounds = QRectF()
    if len(d.x):
        bounds = QRectF(float(d.x.min()), float(d.y.min()),
                        float(d.x.max() - d.x.min() + d.size), float(d.y.max() - d.y.min()
                                                                    + d.size))
    return PictureItem(paint, bounds)


class LabelItem(pg.GraphicsObject):
    """Text labels placed in screen space without collisions (priority first)."""

    def __init__(self, d: Labels, scale: float, family: str) -> None:
        super().__init__()
        self.d = d
        self.font = QFont(family)
        self.font.setPixelSize(max(8, round(d.size * 1.35 * scale)))
        self.font.setBold(True)
        self.order = np.argsort(-d.priority, kind="stable")
        self.placed: list[int] = []
        finite = np.isfinite(d.x) & np.isfinite(d.y)
        self._bounds = QRectF(float(d.x[finite].min()), float(d.y[finite].min()),
                              float(np.ptp(d.x[finite])) or 1.0,
                              float(np.ptp(d.y[finite])) or 1.0) if finite.any() else QRectF()

    def boundingRect(self) -> QRectF:
        return self._bounds.adjusted(-1e5, -1e5, 1e5, 1e5)

    def paint(self, p: QPainter, *args: object) -> None:
        t = p.transform()
        p.save()
        p.resetTransform()
        p.setFont(self.font)
        fm = QFontMetricsF(self.font)
        taken: list[QRectF] = []
        self.placed = []
        halo = QPen(_color(self.d.halo))
        halo.setWidthF(3.0)
        for i in self.order:
            x, y = float(self.d.x[i]), float(self.d.y[i])
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            pt = t.map(QPointF(x, y))
            text = self.d.texts[i]
            w, h = fm.horizontalAdvance(text), fm.height()
            box = QRectF(pt.x() - w / 2, pt.y() - h / 2, w, h)
            if any(box.intersects(o) for o in taken):
                continue
            taken.append(box.adjusted(-3, -2, 3, 2))
            self.placed.append(int(i))
            path = QPainterPath()
            path.addText(box.left(), box.top() + fm.ascent(), self.font, text)
            p.strokePath(path, halo)
            p.fillPath(path, _color(self.d.color))
        p.restore()


def _points_item(d: Points, scale: float) -> pg.ScatterPlotItem:
    # One brush object per distinct colour: pyqtgraph renders a symbol per distinct
    # (brush, size) pair, and 12k fresh brushes cost a second.
    palette: dict[tuple[int, ...], QBrush] = {}
    brushes = []
    for c in map(tuple, d.colors.tolist()):
        if c not in palette:
            palette[c] = pg.mkBrush(*c)
        brushes.append(palette[c])
    outline = pg.mkPen(_color(d.outline), width=max(1.0, scale))
    item = pg.ScatterPlotItem(x=d.x, y=d.y, size=d.sizes * scale, brush=brushes, pen=outline,
                              symbol=unit_path(d.symbol), pxMode=True,
                              data=list(range(len(d))))
    return item


def _raster_item(d: Raster, scale: float) -> pg.ImageItem:
    item = pg.ImageItem(d.values.T, levels=d.levels, lut=d.lut)
    x0, y0, x1, y1 = d.extent
    item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
    return item


def _lines_item(d: Lines, scale: float) -> pg.PlotCurveItem:
    x = np.column_stack([d.x0, d.x1]).ravel()
    y = np.column_stack([d.y0, d.y1]).ravel()
    return pg.PlotCurveItem(x=x, y=y, connect="pairs",
                            pen=pg.mkPen(_color(d.color), width=d.width * scale))


class MapCanvas(pg.PlotWidget):
    """The central map. Draws ``LayerSpec``s; emits what the user asked for."""

    view_changed = Signal(object)  # Viewport, debounced
    area_clicked = Signal(str)  # area id (finest level under the click)
    symbol_clicked = Signal(str, str)  # layer (e.g. "hazards"), key
    point_clicked = Signal(float, float)  # lon, lat of a click on empty map

    def __init__(self, background: tuple[int, int, int] = (11, 26, 46),
                 font_family: str = "Noto Sans CJK SC", parent: object = None) -> None:
        super().__init__(parent=parent, background=pg.mkColor(*background))
        self.scale_factor = 1.0
        self.ink = QColor(230, 230, 230)
        """Colour of the scale bar and north arrow (dark on a light theme)."""
        self.font_family = font_family
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.setMenuEnabled(False)
        self.getViewBox().setAspectLocked(True)
        self.getViewBox().setDefaultPadding(0.0)
        self.hideButtons()
        self._items: dict[str, list[pg.GraphicsObject]] = {}
        self._specs: dict[str, LayerSpec] = {}
        self._hidden: set[str] = set()
        self._area_hit: Callable[[float, float], str | None] | None = None
        self._home: Viewport | None = None
        self._debounce = QTimer(self, singleShot=True, interval=120)
        self._debounce.timeout.connect(self._emit_view)
        self.getViewBox().sigRangeChanged.connect(lambda *_: self._debounce.start())
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._hover)
        self._tip_key: tuple[str, str] | None = None
        self._registry: dict[type, Callable[[Drawable, float], pg.GraphicsObject]] = {
            Polygons: _polygons_item, Cells: _cells_item, Points: _points_item,
            Raster: _raster_item, Lines: _lines_item,
            Labels: lambda d, s: LabelItem(d, s, self.font_family),
        }

    # ----------------------------------------------------------------- drawing
    def set_layers(self, layers: tuple[LayerSpec, ...], names: set[str] | None = None) -> None:
        """Replace the drawn layers (only ``names`` when given; others stay)."""
        for spec in layers:
            if names is not None and spec.name not in names:
                continue
            for item in self._items.pop(spec.name, []):
                self.removeItem(item)
            items = []
            for d in spec.drawables:
                item = self._registry[type(d)](d, self.scale_factor)
                item.setZValue(d.z)
                item.setVisible(bool(spec.name not in self._hidden and spec.visible))
                self.addItem(item)
                items.append(item)
            self._items[spec.name] = items
            self._specs[spec.name] = spec

    def remove_layer(self, name: str) -> None:
        for item in self._items.pop(name, []):
            self.removeItem(item)
        self._specs.pop(name, None)

    def layers(self) -> dict[str, LayerSpec]:
        """The drawn layers by name, in drawing order."""
        return dict(self._specs)

    def set_layer_visible(self, name: str, visible: bool) -> None:
        (self._hidden.discard if visible else self._hidden.add)(name)
        for item in self._items.get(name, []):
            item.setVisible(visible and self._specs[name].visible)

    def layer_visible(self, name: str) -> bool:
        return name not in self._hidden

    def set_area_hit_test(self, hit: Callable[[float, float], str | None]) -> None:
        """How to find the area under a point (lon, lat) → area id; set by the window."""
        self._area_hit = hit

    # ----------------------------------------------------------------- view
    def set_view(self, view: Viewport) -> None:
        self.getViewBox().setRange(xRange=(view.x0, view.x1), yRange=(view.y0, view.y1),
                                   padding=0.0)

    def set_home(self, view: Viewport, move: bool = True) -> None:
        self._home = view
        if move:
            self.set_view(view)

    def reset_view(self) -> None:
        if self._home is not None:
            self.set_view(self._home)

    def map_view(self) -> Viewport:
        (x0, x1), (y0, y1) = self.getViewBox().viewRange()
        return Viewport(x0, y0, x1, y1, max(1, self.width()), max(1, self.height()))

    def _emit_view(self) -> None:
        try:
            view = self.map_view()
        except (AttributeError, RuntimeError):  # closed while the debounce was pending
            return
        self.view_changed.emit(view)

    def closeEvent(self, event: object) -> None:
        self._debounce.stop()
        super().closeEvent(event)

    def zoom_to(self, mx: float, my: float, span_m: float = 3000.0) -> None:
        aspect = self.height() / max(1, self.width())
        self.getViewBox().setRange(xRange=(mx - span_m / 2, mx + span_m / 2),
                                   yRange=(my - span_m * aspect / 2, my + span_m * aspect / 2),
                                   padding=0.0)

    # ----------------------------------------------------------------- clicks
    def _clicked(self, ev: object) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = self.getViewBox().mapSceneToView(ev.scenePos())
        hit = self.symbol_at(pos.x(), pos.y())
        if hit is not None:
            self.symbol_clicked.emit(*hit)
            return
        lon, lat = mercator_to_lonlat([pos.x()], [pos.y()])
        self.point_clicked.emit(float(lon[0]), float(lat[0]))
        if self._area_hit is not None:
            area = self._area_hit(float(lon[0]), float(lat[0]))
            if area:
                self.area_clicked.emit(area)

    def symbol_at(self, mx: float, my: float, radius_px: float = 8.0) -> tuple[str, str] | None:
        """The (layer, key) of the nearest visible symbol within ``radius_px`` pixels."""
        hit = self._nearest_symbol(mx, my, radius_px)
        return None if hit is None else (hit[1], hit[2])

    def _nearest_symbol(self, mx: float, my: float, radius_px: float
                        ) -> tuple[float, str, str, str] | None:
        vb = self.getViewBox()
        px_w = vb.viewPixelSize()[0] or 1.0
        best: tuple[float, str, str, str] | None = None
        for name, spec in self._specs.items():
            if name in self._hidden or not spec.visible:
                continue
            for d in spec.drawables:
                if not isinstance(d, Points) or not len(d) or not d.keys:
                    continue
                dist = np.hypot(d.x - mx, d.y - my) / px_w
                i = int(np.argmin(dist))
                if dist[i] <= max(radius_px, d.sizes[i] * self.scale_factor / 2) and (
                        best is None or dist[i] < best[0]):
                    tip = d.tooltips[i] if i < len(d.tooltips) else ""
                    best = (float(dist[i]), spec.group if spec.group != "situation"
                            else spec.name, d.keys[i], tip)
        return best

    def tooltip_at(self, mx: float, my: float, radius_px: float = 8.0) -> str | None:
        """The tooltip of the nearest visible symbol within ``radius_px`` pixels."""
        hit = self._nearest_symbol(mx, my, radius_px)
        return None if hit is None else hit[3]

    def _hover(self, scene_pos: QPointF) -> None:
        if not self.getViewBox().sceneBoundingRect().contains(scene_pos):
            return
        pos = self.getViewBox().mapSceneToView(scene_pos)
        hit = self._nearest_symbol(pos.x(), pos.y(), 8.0)
        key = None if hit is None else (hit[1], hit[2])
        if key == self._tip_key:
            return
        self._tip_key = key
        if hit is None or not hit[3]:
            QToolTip.hideText()
        else:
            QToolTip.showText(QCursor.pos(), hit[3], self)

    # ----------------------------------------------------------------- overlay
    def drawForeground(self, p: QPainter, rect: QRectF) -> None:
        """Scale bar and north arrow, in screen space."""
        super().drawForeground(p, rect)
        p.save()
        p.resetTransform()
        s = self.scale_factor
        vb = self.getViewBox()
        px = vb.viewPixelSize()[0]
        if px > 0:
            _, (y0, y1) = vb.viewRange()
            lat = float(mercator_to_lonlat([0.0], [(y0 + y1) / 2])[1][0])
            ground_per_px = px * math.cos(math.radians(lat))
            target = 120 * s * ground_per_px
            nice = 10 ** math.floor(math.log10(target))
            for m in (5, 2, 1):
                if m * nice <= target:
                    nice *= m
                    break
            length = nice / ground_per_px
            x, y = 16 * s, self.height() - 20 * s
            pen = QPen(self.ink, 2 * s)
            p.setPen(pen)
            p.drawLine(QPointF(x, y), QPointF(x + length, y))
            p.drawLine(QPointF(x, y - 5 * s), QPointF(x, y))
            p.drawLine(QPointF(x + length, y - 5 * s), QPointF(x + length, y))
            font = QFont(self.font_family)
            font.setPixelSize(round(12 * s))
            p.setFont(font)
            text = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
            p.drawText(QPointF(x, y - 8 * s), text)
        # North arrow (Web Mercator: north is up).
        cx, cy = self.width() - 28 * s, 34 * s
        arrow = QPolygonF([QPointF(cx, cy - 16 * s), QPointF(cx - 8 * s, cy + 8 * s),
                           QPointF(cx, cy + 3 * s), QPointF(cx + 8 * s, cy + 8 * s)])
        p.setPen(QPen(self.ink, 1.5 * s))
        p.setBrush(self.ink)
        p.drawPolygon(arrow)
        font = QFont(self.font_family)
        font.setPixelSize(round(12 * s))
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(cx - 10 * s, cy + 9 * s, 20 * s, 16 * s),
                   Qt.AlignmentFlag.AlignCenter, "N")
        p.restore()
