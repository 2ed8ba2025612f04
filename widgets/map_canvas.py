"""The map canvas: draws a scene's drawables with pyqtgraph, in Web Mercator metres.

A registry maps each drawable type to a pyqtgraph item factory. Static geometry
(area outlines, hotspot cells) is painted once into a QPicture; labels are
placed in screen space at paint time, higher priority first, skipping any that
would overlap one already drawn. The canvas emits intents only: the view it
shows (debounced), an area or a symbol clicked, a point clicked for dispatch.

With a base map (``set_basemap``) the canvas says which tiles its view wants
(``tiles_wanted``, at every change of view) and draws those handed to it
(``put_tile``) under everything else; it loads nothing itself. Tiles in the GCJ-02
datum move the canvas's own coordinates into that datum: every drawable is shifted
for display (``layers.display``), while everything the canvas says or is told (views,
clicks, ``symbol_at``) stays WGS84 Mercator.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPicture,
    QPolygonF,
)
from PySide6.QtWidgets import QToolTip

from data.coords import mercator_to_lonlat
from data.queries import Viewport
from data.reference import ReferenceLayer
from data.tiles import MAX_VIEW_TILES, TileKey, from_display, tiles_in, to_display, zoom_for
from layers.backdrop import REFERENCE_PREFIX, reference_specs
from layers.display import shift_spec
from layers.drawables import (
    Cells,
    Clusters,
    Drawable,
    Labels,
    LayerSpec,
    Lines,
    Points,
    Polygons,
    Polylines,
    Raster,
)
from painting.glyphs import cluster_diameter, paint_cluster
from painting.symbols import unit_path
from widgets.records_menu import wants_records

from .basemap import BasemapInfo, BasemapItem


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
        self.lift = d.offset * scale
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
            box = QRectF(pt.x() - w / 2, pt.y() - h / 2 - self.lift, w, h)
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


def _polylines_item(d: Polylines, scale: float) -> pg.PlotCurveItem:
    pen = pg.mkPen(_color(d.color), width=d.width * scale)
    return pg.PlotCurveItem(x=np.asarray(d.x, float), y=np.asarray(d.y, float),
                            connect="finite", pen=pen, antialias=True)


class ClusterItem(pg.GraphicsObject):
    """Groups of symbols drawn in screen space (``painting.glyphs``), in spec order.

    Each glyph is painted once into a small image (its size on screen does not change
    with the view) and blitted at paint time: drawing rings and text for hundreds of
    groups at every frame of a pan cost more than the rest of the map."""

    def __init__(self, d: Clusters, scale: float, family: str,
                 ink: Callable[[], QColor]) -> None:
        super().__init__()
        self.d = d
        self.scale = scale
        self.font = QFont(family)
        self.ink = ink
        self._colors = np.asarray(d.class_colors).tolist()
        self._totals = d.totals.tolist()
        self._sprites: dict[int, QImage] = {}
        self._sprite_ink: tuple[int, float] | None = None
        finite = np.isfinite(d.x) & np.isfinite(d.y)
        self._bounds = QRectF(float(d.x[finite].min()), float(d.y[finite].min()),
                              float(np.ptp(d.x[finite])) or 1.0,
                              float(np.ptp(d.y[finite])) or 1.0) if finite.any() else QRectF()

    def boundingRect(self) -> QRectF:
        return self._bounds.adjusted(-1e5, -1e5, 1e5, 1e5)

    def diameter(self, i: int) -> float:
        return cluster_diameter(self._totals[i], self.scale)

    def _sprite(self, i: int, ink: QColor, ratio: float) -> QImage:
        img = self._sprites.get(i)
        if img is None:
            d = self.diameter(i)
            side = math.ceil(d * 2.0 + 4)  # room for the badge on the top right
            img = QImage(round(side * ratio), round(side * ratio),
                         QImage.Format.Format_ARGB32_Premultiplied)
            img.setDevicePixelRatio(ratio)
            img.fill(0)
            light_ink = ink.lightness() > 128
            center = QColor(16, 28, 46, 235) if light_ink else QColor(255, 255, 255, 235)
            outline = QColor(255, 255, 255, 220) if light_ink else QColor(60, 60, 60, 200)
            p = QPainter(img)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            paint_cluster(p, side / 2, side / 2, d, self.d.counts[i].tolist(), self._colors,
                          int(self.d.badges[i]), bool(self.d.faded[i]), self.font, center,
                          ink, outline)
            p.end()
            self._sprites[i] = img
        return img

    def paint(self, p: QPainter, *args: object) -> None:
        t = p.transform()
        ink = self.ink()
        ratio = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        if self._sprite_ink != (ink.rgba(), ratio):  # a theme switch: paint them again
            self._sprites.clear()
            self._sprite_ink = (ink.rgba(), ratio)
        p.save()
        p.resetTransform()
        box = QRectF(p.viewport()).adjusted(-60, -60, 60, 60)
        for i in range(len(self.d)):
            pt = t.map(QPointF(float(self.d.x[i]), float(self.d.y[i])))
            if not box.contains(pt):
                continue
            img = self._sprite(i, ink, ratio)
            half = img.width() / ratio / 2
            p.drawImage(QPointF(round(pt.x() - half), round(pt.y() - half)), img)
        p.restore()


class MapCanvas(pg.PlotWidget):
    """The central map. Draws ``LayerSpec``s; emits what the user asked for."""

    view_changed = Signal(object)  # Viewport, debounced
    area_clicked = Signal(str)  # area id (finest level under the click)
    symbol_clicked = Signal(str, str)  # layer (e.g. "hazards"), key
    point_clicked = Signal(float, float)  # lon, lat of a click on empty map
    tiles_wanted = Signal(object)  # list of (z, x, y) still to load, nearest the centre first
    records_requested = Signal(float, float)  # mx, my of a Ctrl+click: the records there
    context_requested = Signal(float, float, QPoint)  # mx, my, screen position: right click

    def __init__(self, background: tuple[int, int, int] = (11, 26, 46),
                 font_family: str = "Noto Sans CJK SC", parent: object = None) -> None:
        super().__init__(parent=parent, background=pg.mkColor(*background))
        self.scale_factor = 1.0
        self.notice = ""
        """Why the map is blank, drawn in its middle (``set_notice``)."""
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
        self._shown: dict[str, LayerSpec] = {}  # the specs as drawn (in the tiles' datum)
        self.datum = "wgs84"
        self.basemap: BasemapItem | None = None
        self._reference: tuple[ReferenceLayer, ...] = ()
        self._reference_px = 0.0  # the resolution the reference layers were drawn for
        self._placed = False  # a view was set: before it, no tile is worth asking for
        self.tiles_over_limit = 0
        """Views for which the base map would have needed too many tiles (not drawn)."""
        self._hidden: set[str] = set()
        self._area_hit: Callable[[float, float], str | None] | None = None
        self._home: Viewport | None = None
        self.click_interceptor: Callable[[float, float, bool], bool] | None = None
        """Sees every left click first (mx, my, double click); returning True consumes it
        (drawing an annotation: the clicks are vertices, not selections)."""
        self._debounce = QTimer(self, singleShot=True, interval=120)
        self._debounce.timeout.connect(self._emit_view)
        self.getViewBox().sigRangeChanged.connect(self._range_changed)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._hover)
        self._tip_key: tuple[str, str] | None = None
        self._registry: dict[type, Callable[[Drawable, float], pg.GraphicsObject]] = {
            Polygons: _polygons_item, Cells: _cells_item, Points: _points_item,
            Raster: _raster_item, Lines: _lines_item, Polylines: _polylines_item,
            Labels: lambda d, s: LabelItem(d, s, self.font_family),
            Clusters: lambda d, s: ClusterItem(d, s, self.font_family, lambda: self.ink),
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
            shown = shift_spec(spec, self.datum)
            self._shown[spec.name] = shown
            for d in shown.drawables:
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
        self._shown.pop(name, None)

    def layers(self) -> dict[str, LayerSpec]:
        """The drawn layers of the scene by name, in drawing order (not the reference
        layers, which stay whatever scene is drawn: ``reference_layers``)."""
        return {k: v for k, v in self._specs.items() if not k.startswith(REFERENCE_PREFIX)}

    def set_reference(self, layers: tuple[ReferenceLayer, ...]) -> None:
        """Reference layers (roads, beats...) drawn under the data whatever scene is shown,
        simplified again when the view's resolution changes by a factor of two."""
        for name in [n for n in self._specs if n.startswith(REFERENCE_PREFIX)]:
            self.remove_layer(name)
        self._reference = tuple(layers)
        self._reference_px = 0.0
        self._update_reference()

    def reference_layers(self) -> dict[str, LayerSpec]:
        """The reference layers drawn, by name (``reference.0``...), in settings order."""
        return {k: v for k, v in self._specs.items() if k.startswith(REFERENCE_PREFIX)}

    def _update_reference(self) -> None:
        if not self._reference or self.width() < 2:
            return
        view = self.map_view()
        px = (view.x1 - view.x0) / max(1, view.width)
        if self._reference_px and 0.75 < px / self._reference_px < 1.5:
            return  # the same level of simplification
        self._reference_px = px
        self.set_layers(tuple(reference_specs(self._reference, view)))

    def set_notice(self, text: str) -> None:
        """A sentence in the middle of the map saying why it is blank ("" for none)."""
        if text != self.notice:
            self.notice = text
            self.viewport().update()

    def set_layer_visible(self, name: str, visible: bool) -> None:
        (self._hidden.discard if visible else self._hidden.add)(name)
        for item in self._items.get(name, []):
            item.setVisible(visible and self._specs[name].visible)

    def layer_visible(self, name: str) -> bool:
        return name not in self._hidden

    def set_area_hit_test(self, hit: Callable[[float, float], str | None]) -> None:
        """How to find the area under a point (lon, lat) → area id; set by the window."""
        self._area_hit = hit

    # ----------------------------------------------------------------- base map
    def set_basemap(self, info: BasemapInfo | None) -> None:
        """Draw tiles of a source with these zoom levels under the data (None: no base map);
        in its datum the layers drawn so far are shifted again."""
        if self.basemap is not None:
            self.getViewBox().removeItem(self.basemap)
            self.basemap = None
        datum = info.datum if info is not None else "wgs84"
        if info is not None:
            self.basemap = BasemapItem(info)
            self.basemap.setZValue(-1000)
            self.getViewBox().addItem(self.basemap, ignoreBounds=True)
        if datum != self.datum:
            view = self.map_view()
            self.datum = datum
            self.set_layers(tuple(self._specs.values()))
            for name in self._hidden:
                self.set_layer_visible(name, False)
            self.set_view(view)
        self._update_tiles()

    def put_tile(self, key: TileKey, image: QImage | None) -> None:
        """A tile the loader fetched (None: it does not exist or is broken: a gap)."""
        if self.basemap is not None:
            self.basemap.put(key, image)

    def basemap_settled(self) -> bool:
        """Every tile the view wants has come (or is known to be missing)."""
        return self.basemap is None or self.basemap.settled()

    def _range_changed(self, *_: object) -> None:
        self._debounce.start()
        self._update_tiles()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        if getattr(self, "basemap", None) is not None:  # also called while constructing
            self._update_tiles()

    def _update_tiles(self) -> None:
        b = self.basemap
        if b is None or self.width() < 2 or not self._placed:
            return
        try:
            vb = self.getViewBox()
        except AttributeError:  # closing: the plot item is gone
            return
        (x0, x1), (y0, y1) = vb.viewRange()
        px = max(1.0, vb.width() or self.width())
        metres_per_device_px = (x1 - x0) / (px * self.devicePixelRatioF())
        z = zoom_for(metres_per_device_px, b.info.min_zoom, b.info.max_zoom)
        keys = tiles_in(x0, y0, x1, y1, z)
        if len(keys) > MAX_VIEW_TILES:
            self.tiles_over_limit += 1
            keys = []
        missing = b.set_wanted(z, keys)
        if missing:
            self.tiles_wanted.emit(missing)

    # ----------------------------------------------------------------- view
    def _offset(self, x: float, y: float) -> tuple[float, float]:
        """Display minus data coordinates at a point (zero without a GCJ-02 base map)."""
        if self.datum == "wgs84":
            return 0.0, 0.0
        sx, sy = to_display([x], [y], self.datum)
        return float(sx[0]) - x, float(sy[0]) - y

    def to_data(self, x: float, y: float) -> tuple[float, float]:
        """A point of the canvas (display) in WGS84 Mercator."""
        if self.datum == "wgs84":
            return x, y
        dx, dy = from_display([x], [y], self.datum)
        return float(dx[0]), float(dy[0])

    def set_view(self, view: Viewport) -> None:
        self._placed = True
        dx, dy = self._offset((view.x0 + view.x1) / 2, (view.y0 + view.y1) / 2)
        self.getViewBox().setRange(xRange=(view.x0 + dx, view.x1 + dx),
                                   yRange=(view.y0 + dy, view.y1 + dy), padding=0.0)

    def set_home(self, view: Viewport, move: bool = True) -> None:
        self._home = view
        if move:
            self.set_view(view)

    def reset_view(self) -> None:
        if self._home is not None:
            self.set_view(self._home)

    def map_view(self) -> Viewport:
        """The view in WGS84 Mercator (what queries and scenes are built for)."""
        (x0, x1), (y0, y1) = self.getViewBox().viewRange()
        if self.datum != "wgs84":
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            dx, dy = self.to_data(cx, cy)
            x0, x1, y0, y1 = x0 + dx - cx, x1 + dx - cx, y0 + dy - cy, y1 + dy - cy
        return Viewport(x0, y0, x1, y1, max(1, self.width()), max(1, self.height()))

    def _emit_view(self) -> None:
        try:
            view = self.map_view()
            self._update_reference()
        except (AttributeError, RuntimeError):  # closed while the debounce was pending
            return
        self.view_changed.emit(view)

    def closeEvent(self, event: object) -> None:
        self._debounce.stop()
        super().closeEvent(event)

    def zoom_to(self, mx: float, my: float, span_m: float = 3000.0) -> None:
        self._placed = True
        dx, dy = self._offset(mx, my)
        mx, my = mx + dx, my + dy
        aspect = self.height() / max(1, self.width())
        self.getViewBox().setRange(xRange=(mx - span_m / 2, mx + span_m / 2),
                                   yRange=(my - span_m * aspect / 2, my + span_m * aspect / 2),
                                   padding=0.0)

    # ----------------------------------------------------------------- clicks
    def _clicked(self, ev: object) -> None:
        pos = self.getViewBox().mapSceneToView(ev.scenePos())
        if ev.button() == Qt.MouseButton.RightButton:
            self.context_requested.emit(*self.to_data(pos.x(), pos.y()),
                                        ev.screenPos().toPoint())
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if self.click_interceptor is not None and self.click_interceptor(
                *self.to_data(pos.x(), pos.y()), ev.double()):
            return
        if wants_records(ev.modifiers()):
            self.records_requested.emit(*self.to_data(pos.x(), pos.y()))
            return
        group = self._cluster_at(pos.x(), pos.y())
        if group is not None:  # a group: zoom in two levels on it (it splits)
            (x0, x1), _ = self.getViewBox().viewRange()
            cx, cy = self.to_data(group[0], group[1])
            self.zoom_to(cx, cy, (x1 - x0) / 4)
            return
        hit = self._nearest_symbol(pos.x(), pos.y(), 8.0)
        if hit is not None:
            self.symbol_clicked.emit(hit[1], hit[2])
            return
        mx, my = self.to_data(pos.x(), pos.y())
        lon, lat = mercator_to_lonlat([mx], [my])
        self.point_clicked.emit(float(lon[0]), float(lat[0]))
        if self._area_hit is not None:
            area = self._area_hit(float(lon[0]), float(lat[0]))
            if area:
                self.area_clicked.emit(area)

    def symbol_at(self, mx: float, my: float, radius_px: float = 8.0) -> tuple[str, str] | None:
        """The (layer, key) of the nearest visible symbol within ``radius_px`` pixels of a
        WGS84 Mercator point."""
        dx, dy = self._offset(mx, my)
        hit = self._nearest_symbol(mx + dx, my + dy, radius_px)
        return None if hit is None else (hit[1], hit[2])

    def _cluster_at(self, x: float, y: float) -> tuple[float, float, str] | None:
        """(x, y, tooltip) of the group glyph under a display point, topmost first."""
        vb = self.getViewBox()
        px_w = vb.viewPixelSize()[0] or 1.0
        for name, items in reversed(list(self._items.items())):
            if name in self._hidden or not self._specs[name].visible:
                continue
            for item in reversed(items):
                if not isinstance(item, ClusterItem) or not len(item.d):
                    continue
                d = item.d
                dist = np.hypot(d.x - x, d.y - y) / px_w
                for i in np.flatnonzero(dist <= [item.diameter(k) / 2 for k in range(len(d))]
                                        )[::-1].tolist():
                    tip = d.tooltips[i] if i < len(d.tooltips) else ""
                    return float(d.x[i]), float(d.y[i]), tip
        return None

    def _nearest_symbol(self, mx: float, my: float, radius_px: float
                        ) -> tuple[float, str, str, str] | None:
        vb = self.getViewBox()
        px_w = vb.viewPixelSize()[0] or 1.0
        best: tuple[float, str, str, str] | None = None
        for name, spec in self._shown.items():
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
        """The tooltip of the group or nearest visible symbol at a WGS84 Mercator point."""
        dx, dy = self._offset(mx, my)
        group = self._cluster_at(mx + dx, my + dy)
        if group is not None:
            return group[2]
        hit = self._nearest_symbol(mx + dx, my + dy, radius_px)
        return None if hit is None else hit[3]

    def _hover(self, scene_pos: QPointF) -> None:
        if not self.getViewBox().sceneBoundingRect().contains(scene_pos):
            return
        pos = self.getViewBox().mapSceneToView(scene_pos)
        group = self._cluster_at(pos.x(), pos.y())
        hit = (0.0, "group", f"{group[0]:.0f}:{group[1]:.0f}", group[2]) if group else \
            self._nearest_symbol(pos.x(), pos.y(), 8.0)
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
        if self.basemap is not None and self.basemap.info.attribution:
            self._attribution(p, self.basemap.info.attribution)
        if self.notice:
            font = QFont(self.font_family)
            font.setPixelSize(round(16 * s))
            p.setFont(font)
            p.setPen(QPen(self.ink))
            box = QRectF(self.width() * 0.15, 0, self.width() * 0.7, self.height())
            p.drawText(box, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                       self.notice)
        p.restore()

    def _attribution(self, p: QPainter, text: str) -> None:
        """The tiles' credit, bottom right on a pale band (as web maps do)."""
        s = self.scale_factor
        font = QFont(self.font_family)
        font.setPixelSize(max(8, round(10 * s)))
        fm = QFontMetricsF(font)
        w = min(fm.horizontalAdvance(text) + 8 * s, self.width() * 0.6)
        h = fm.height() + 2 * s
        box = QRectF(self.width() - w, self.height() - h, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 170))
        p.drawRect(box)
        p.setFont(font)
        p.setPen(QColor(40, 40, 40))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter,
                   fm.elidedText(text, Qt.TextElideMode.ElideRight, w - 6 * s))
