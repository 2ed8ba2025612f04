"""A map scene painted with QPainter in vector form: the maps of the PDF briefing.

A registry maps each drawable type of ``layers.drawables`` to a paint function, as the
map canvas maps them to pyqtgraph items, so paper shows the same scene as the screen:
area outlines, hot-spot cells, symbols and lines are vector paths; the density raster
is one image placed in the page (it is a picture of counts, not geometry). Coordinates
go from Web Mercator to device units with numpy, once per drawable.

Print adaptations (paper is light, the scene's colours are for a dark wall): area pens
are darkened, labels are dark on a pale box instead of light on a dark halo, sizes in
reference-screen points become millimetres (``SYMBOL_MM``). A scale bar, a north arrow
and a frame are drawn on every map; ``paint_legend`` lays out the layers' legends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF

from data.coords import mercator_to_lonlat
from data.queries import Viewport
from data.tiles import MAX_VIEW_TILES, TILE_PX, tile_bounds, tiles_in, to_display, zoom_for
from layers.backdrop import REFERENCE_PREFIX, Backdrop
from layers.display import shift_drawable
from layers.drawables import (
    Cells,
    Clusters,
    Drawable,
    LayerSpec,
    LegendEntry,
    Lines,
    Points,
    Polygons,
    Polylines,
    Raster,
)
from layers.drawables import (
    Labels as LabelsDrawable,
)
from layers.i18n import tr
from painting.glyphs import cluster_diameter, paint_cluster
from painting.symbols import symbol_path

from .pdf_style import RGBA, Ctx, printable, qcolor

SYMBOL_MM = 0.2
"""Millimetres per reference-screen point of a symbol size (7 → 1.4 mm)."""
LABEL_PT = 0.62
"""Font points per reference point of a label size (town 11 → 6.8 pt)."""
PEN_MM = 0.17
"""Millimetres per reference pixel of a pen width."""
TILE_PX_PER_MM = 6.0
"""Base-map resolution on paper (about 150 dpi): the zoom level of the tiles printed."""


@dataclass(frozen=True)
class MapFrame:
    """Where a view lands on the page: Mercator → device units."""

    view: Viewport
    rect: QRectF

    @property
    def sx(self) -> float:
        return self.rect.width() / max(self.view.x1 - self.view.x0, 1e-9)

    @property
    def sy(self) -> float:
        return self.rect.height() / max(self.view.y1 - self.view.y0, 1e-9)

    def x(self, mx: np.ndarray | float) -> np.ndarray:
        return self.rect.left() + (np.asarray(mx, float) - self.view.x0) * self.sx

    def y(self, my: np.ndarray | float) -> np.ndarray:
        return self.rect.bottom() - (np.asarray(my, float) - self.view.y0) * self.sy


def _darker(rgba: RGBA | tuple[int, ...], factor: float = 0.55) -> tuple[int, int, int, int]:
    r, g, b, a = (int(v) for v in rgba)
    return (round(r * factor), round(g * factor), round(b * factor), a)


# ----------------------------------------------------------------------------- symbols
# ----------------------------------------------------------------------------- drawables
def _polygons(ctx: Ctx, d: Polygons, f: MapFrame) -> None:
    p = ctx.painter
    # the user's own colours for reference layers; the scene's wall colours darkened
    pen = QPen(qcolor(d.pen if d.layer.startswith(REFERENCE_PREFIX) else _darker(d.pen)))
    pen.setWidthF(max(ctx.mm(0.08), ctx.mm(d.pen_width * PEN_MM)))
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    for i, rings in enumerate(d.rings):
        if not rings:
            continue
        path = QPainterPath()
        for ring in rings:
            xs, ys = f.x(ring[:, 0]), f.y(ring[:, 1])
            path.addPolygon(QPolygonF([QPointF(x, y) for x, y in zip(xs.tolist(), ys.tolist(),
                                                                     strict=True)]))
            path.closeSubpath()
        fill = d.fills[i] if d.fills is not None else None
        p.setBrush(QBrush(qcolor(fill)) if fill is not None and fill[3] else Qt.BrushStyle.NoBrush)
        p.drawPath(path)


def _cells(ctx: Ctx, d: Cells, f: MapFrame) -> None:
    """One path per colour: adjacent cells then print without hairline seams."""
    p = ctx.painter
    if not len(d.x):
        return
    x0, x1 = f.x(d.x), f.x(d.x + d.size)
    y0, y1 = f.y(d.y + d.size), f.y(d.y)
    colors = np.asarray(d.colors, np.uint8)
    keys, inverse = np.unique(colors, axis=0, return_inverse=True)
    p.setPen(Qt.PenStyle.NoPen)
    for k, rgba in enumerate(keys.tolist()):
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.WindingFill)
        for i in np.flatnonzero(inverse.ravel() == k).tolist():
            path.addRect(QRectF(float(x0[i]), float(y0[i]), float(x1[i] - x0[i]),
                                float(y1[i] - y0[i])))
        p.fillPath(path, qcolor(rgba))


def _points(ctx: Ctx, d: Points, f: MapFrame) -> None:
    p = ctx.painter
    if not len(d):
        return
    xs, ys = f.x(d.x).tolist(), f.y(d.y).tolist()
    sizes = np.asarray(d.sizes, float)
    outline = QPen(qcolor(d.outline))
    outline.setWidthF(ctx.mm(0.12))
    p.setPen(outline)
    paths: dict[float, QPainterPath] = {}
    last: tuple[int, ...] | None = None
    box = f.rect.adjusted(-ctx.mm(5), -ctx.mm(5), ctx.mm(5), ctx.mm(5))
    for x, y, s, c in zip(xs, ys, sizes.tolist(), map(tuple, np.asarray(d.colors).tolist()),
                          strict=True):
        if not box.contains(QPointF(x, y)):
            continue  # out of view: nothing to print (the clip would hide it anyway)
        diameter = ctx.mm(max(s, 1.0) * SYMBOL_MM)
        path = paths.get(diameter)
        if path is None:
            path = paths[diameter] = symbol_path(d.symbol, diameter)
        if c != last:
            p.setBrush(QBrush(qcolor(c)))
            last = c
        p.drawPath(path.translated(x, y))


def _labels(ctx: Ctx, d: LabelsDrawable, f: MapFrame) -> None:
    """Names on a pale box, higher priority first, skipping any that would overlap."""
    p = ctx.painter
    size = max(5.5, d.size * LABEL_PT)
    font, fm = ctx.font(size, bold=True), ctx.metrics(size, bold=True)
    p.setFont(font)
    xs, ys = f.x(d.x), f.y(d.y)
    pad = ctx.mm(0.5)
    taken: list[QRectF] = []
    for i in np.argsort(-np.asarray(d.priority, float), kind="stable").tolist():
        x, y = float(xs[i]), float(ys[i])
        if not (math.isfinite(x) and math.isfinite(y)) or not f.rect.contains(QPointF(x, y)):
            continue
        text = printable(d.texts[i])
        w, h = fm.horizontalAdvance(text), fm.height()
        box = QRectF(x - w / 2 - pad, y - h / 2 - ctx.mm(d.offset * SYMBOL_MM), w + 2 * pad, h)
        if not f.rect.contains(box) or any(box.intersects(o) for o in taken):
            continue
        taken.append(box.adjusted(-pad, -pad, pad, pad))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(qcolor(ctx.style.label_halo, 170))
        p.drawRoundedRect(box, pad, pad)
        p.setPen(qcolor(ctx.style.label))
        p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)


def raster_image(d: Raster) -> QImage:
    """The raster through its colour table, north up, as an ARGB image."""
    lo, hi = d.levels
    v = np.asarray(d.values, float)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    idx = np.clip(np.nan_to_num((v - lo) * scale), 0, 255).astype(np.uint8)
    lut = np.array(d.lut, np.uint8)
    # The PDF keeps colour and transparency apart and compresses the colour lossily: a
    # transparent pixel must carry a neighbour's colour, not black, or edges go grey.
    lut[0, :3] = lut[1, :3]
    rgba = np.ascontiguousarray(lut[idx][::-1])
    h, w = idx.shape
    return QImage(rgba.tobytes(), w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def _raster(ctx: Ctx, d: Raster, f: MapFrame) -> None:
    if d.values.size == 0:
        return
    x0, y0, x1, y1 = d.extent
    target = QRectF(QPointF(float(f.x(x0)), float(f.y(y1))), QPointF(float(f.x(x1)),
                                                                       float(f.y(y0))))
    p = ctx.painter
    # Qt's PDF engine carries the last fill's opacity over to an image: after a
    # translucent fill (a reference layer's) the raster would print almost invisible.
    p.setPen(QColor(0, 0, 0))
    p.setBrush(QColor(0, 0, 0))
    p.drawImage(target, raster_image(d))


def _lines(ctx: Ctx, d: Lines, f: MapFrame) -> None:
    p = ctx.painter
    pen = QPen(qcolor(d.color))
    pen.setWidthF(ctx.mm(d.width * PEN_MM))
    p.setPen(pen)
    for a, b, c, e in zip(f.x(d.x0).tolist(), f.y(d.y0).tolist(), f.x(d.x1).tolist(),
                          f.y(d.y1).tolist(), strict=True):
        p.drawLine(QPointF(a, b), QPointF(c, e))


def _polylines(ctx: Ctx, d: Polylines, f: MapFrame) -> None:
    p = ctx.painter
    pen = QPen(qcolor(d.color))
    pen.setWidthF(max(ctx.mm(0.08), ctx.mm(d.width * PEN_MM)))
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    xs, ys = f.x(d.x), f.y(d.y)
    breaks = np.flatnonzero(~np.isfinite(xs) | ~np.isfinite(ys))
    path = QPainterPath()
    start = 0
    for end in [*breaks.tolist(), len(xs)]:
        if end - start >= 2:
            path.addPolygon(QPolygonF([QPointF(x, y) for x, y in zip(
                xs[start:end].tolist(), ys[start:end].tolist(), strict=True)]))
        start = end + 1
    p.drawPath(path)


def _clusters(ctx: Ctx, d: Clusters, f: MapFrame) -> None:
    p = ctx.painter
    if not len(d):
        return
    xs, ys = f.x(d.x).tolist(), f.y(d.y).tolist()
    font = ctx.font(ctx.style.size_small, bold=True)
    colors = np.asarray(d.class_colors).tolist()
    for i, total in enumerate(d.totals.tolist()):
        if not f.rect.contains(QPointF(xs[i], ys[i])):
            continue
        paint_cluster(p, xs[i], ys[i], cluster_diameter(total, ctx.mm(SYMBOL_MM)),
                      d.counts[i].tolist(), colors, int(d.badges[i]), bool(d.faded[i]), font,
                      QColor(255, 255, 255, 235), qcolor(ctx.style.text),
                      QColor(255, 255, 255, 255))


PAINTERS: dict[type, Callable[[Ctx, Drawable, MapFrame], None]] = {
    Polygons: _polygons, Cells: _cells, Points: _points, LabelsDrawable: _labels,
    Raster: _raster, Lines: _lines, Polylines: _polylines, Clusters: _clusters,
}
"""Drawable type → paint function (the PDF's registry)."""


# ----------------------------------------------------------------------------- the map
def display_view(view: Viewport, datum: str) -> Viewport:
    """``view`` moved into the tiles' datum by the offset at its centre."""
    if datum == "wgs84":
        return view
    cx, cy = (view.x0 + view.x1) / 2, (view.y0 + view.y1) / 2
    sx, sy = to_display([cx], [cy], datum)
    dx, dy = float(sx[0]) - cx, float(sy[0]) - cy
    return Viewport(view.x0 + dx, view.y0 + dy, view.x1 + dx, view.y1 + dy, view.width,
                    view.height)


def paint_tiles(ctx: Ctx, backdrop: Backdrop, f: MapFrame) -> dict[str, int]:
    """The base map under the map, fetched synchronously (a PDF waits for its tiles);
    a missing or broken tile leaves a gap. Returns counts (drawn, missing, broken)."""
    stats = {"drawn": 0, "missing": 0, "broken": 0}
    src = backdrop.tiles
    if src is None:
        return stats
    v = f.view
    px = f.rect.width() / ctx.dpmm * TILE_PX_PER_MM
    z = zoom_for((v.x1 - v.x0) / max(px, 1.0), src.min_zoom, src.max_zoom)
    keys = tiles_in(v.x0, v.y0, v.x1, v.y1, z)
    if len(keys) > MAX_VIEW_TILES:
        return stats
    p = ctx.painter
    for key in keys:
        try:
            data = src.get(*key)
        except Exception:  # a server or file error: a gap, as for a missing tile
            data = None
        if data is None:
            stats["missing"] += 1
            continue
        img = QImage.fromData(data)
        if img.isNull():
            stats["broken"] += 1
            continue
        x0, y0, x1, y1 = tile_bounds(*key)
        target = QRectF(QPointF(float(f.x(x0)), float(f.y(y1))),
                        QPointF(float(f.x(x1)), float(f.y(y0))))
        # a hair larger: neighbouring tiles then print without white seams
        pad = ctx.mm(0.02)
        p.drawImage(target.adjusted(-pad, -pad, pad, pad), img,
                    QRectF(0, 0, img.width() or TILE_PX, img.height() or TILE_PX))
        stats["drawn"] += 1
    if stats["drawn"] and backdrop.attribution:
        size = ctx.style.size_small * 0.85
        fm = ctx.metrics(size)
        text = printable(backdrop.attribution)
        w = fm.horizontalAdvance(text) + ctx.mm(2)
        box = QRectF(f.rect.right() - w - ctx.mm(0.5), f.rect.bottom() - fm.height() - ctx.mm(0.5),
                     w, fm.height())
        p.fillRect(box, qcolor((255, 255, 255, 190)))
        p.setFont(ctx.font(size))
        p.setPen(qcolor(ctx.style.muted))
        p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
    return stats


def paint_map(ctx: Ctx, layers: Iterable[LayerSpec], view: Viewport, rect: QRectF,
              focus: Sequence[np.ndarray] = (), empty: str = "",
              backdrop: Backdrop | None = None) -> None:
    """Every visible layer's drawables, lowest z first, clipped to ``rect``; then the frame,
    scale bar and north arrow (``empty`` is written when there is nothing to draw). With
    ``focus`` (Mercator rings, e.g. an atlas page's town)
    everything outside those rings is veiled, as atlas pages set their area apart. With a
    ``backdrop`` its tiles are drawn first, and in its datum the data are moved to them."""
    p = ctx.painter
    datum = backdrop.datum if backdrop is not None and backdrop.tiles is not None else "wgs84"
    frame = MapFrame(display_view(view, datum), rect)
    p.save()
    p.setClipRect(rect)
    p.fillRect(rect, qcolor(ctx.style.map_fill))
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    if backdrop is not None:
        p.save()
        paint_tiles(ctx, backdrop, frame)
        p.restore()
    drawables = [shift_drawable(d, datum) for spec in layers if spec.visible
                 for d in spec.drawables]
    if datum != "wgs84":
        focus = [np.column_stack(to_display(r[:, 0], r[:, 1], datum)) for r in focus]
    for d in sorted(drawables, key=lambda d: d.z):  # stable: layer order within a z
        PAINTERS[type(d)](ctx, d, frame)
    if not drawables and empty:
        p.setFont(ctx.font(ctx.style.size_body))
        p.setPen(qcolor(ctx.style.muted))
        p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), empty)
    if focus:
        veil = QPainterPath()
        veil.setFillRule(Qt.FillRule.OddEvenFill)
        veil.addRect(rect)
        for ring in focus:
            veil.addPolygon(QPolygonF([QPointF(x, y) for x, y in zip(
                frame.x(ring[:, 0]).tolist(), frame.y(ring[:, 1]).tolist(), strict=True)]))
            veil.closeSubpath()
        p.fillPath(veil, qcolor((255, 255, 255, 150)))
        pen = QPen(qcolor(ctx.style.accent))
        pen.setWidthF(ctx.mm(0.5))
        p.strokePath(veil, pen)
    p.restore()
    p.save()
    pen = QPen(qcolor(ctx.style.rule))
    pen.setWidthF(ctx.mm(0.25))
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(rect)
    _scale_bar(ctx, frame)
    _north_arrow(ctx, frame)
    p.restore()


def nice_length(target: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``target`` (metres)."""
    if target <= 0:
        return 0.0
    base = 10 ** math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * base <= target:
            return m * base
    return base


def _scale_bar(ctx: Ctx, f: MapFrame) -> None:
    p = ctx.painter
    mid = (f.view.y0 + f.view.y1) / 2
    lat = float(mercator_to_lonlat([0.0], [mid])[1][0])
    ground_per_unit = math.cos(math.radians(lat)) / f.sx  # ground metres per device unit
    length_m = nice_length(ctx.mm(30) * ground_per_unit)
    if length_m <= 0:
        return
    length = length_m / ground_per_unit
    x, y = f.rect.left() + ctx.mm(4), f.rect.bottom() - ctx.mm(4)
    text = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    size = ctx.style.size_small
    fm = ctx.metrics(size)
    back = QRectF(x - ctx.mm(1.5), y - ctx.mm(2.2) - fm.height(),
                  max(length, fm.horizontalAdvance(text)) + ctx.mm(3), fm.height() + ctx.mm(3.5))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(qcolor((255, 255, 255, 210)))
    p.drawRect(back)
    seg = length / 2
    for k in range(2):  # alternating black and white halves, as on survey maps
        p.setBrush(qcolor(ctx.style.text) if k == 0 else qcolor((255, 255, 255, 255)))
        pen = QPen(qcolor(ctx.style.text))
        pen.setWidthF(ctx.mm(0.15))
        p.setPen(pen)
        p.drawRect(QRectF(x + k * seg, y - ctx.mm(1.0), seg, ctx.mm(1.0)))
    p.setFont(ctx.font(size))
    p.setPen(qcolor(ctx.style.text))
    p.drawText(QPointF(x, y - ctx.mm(1.6)), text)


def _north_arrow(ctx: Ctx, f: MapFrame) -> None:
    """Web Mercator: north is up."""
    p = ctx.painter
    cx, cy = f.rect.right() - ctx.mm(7), f.rect.top() + ctx.mm(8)
    s = ctx.mm(1)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(qcolor((255, 255, 255, 210)))
    p.drawEllipse(QPointF(cx, cy + 0.5 * s), 5.2 * s, 5.2 * s)
    left = QPolygonF([QPointF(cx, cy - 4 * s), QPointF(cx - 2.6 * s, cy + 3 * s),
                      QPointF(cx, cy + 1.6 * s)])
    right = QPolygonF([QPointF(cx, cy - 4 * s), QPointF(cx + 2.6 * s, cy + 3 * s),
                       QPointF(cx, cy + 1.6 * s)])
    pen = QPen(qcolor(ctx.style.text))
    pen.setWidthF(ctx.mm(0.15))
    p.setPen(pen)
    p.setBrush(qcolor(ctx.style.text))
    p.drawPolygon(left)
    p.setBrush(qcolor((255, 255, 255, 255)))
    p.drawPolygon(right)
    p.setFont(ctx.font(ctx.style.size_small, bold=True))
    p.setPen(qcolor(ctx.style.text))
    p.drawText(QRectF(cx - 3 * s, cy - 9.5 * s, 6 * s, 5 * s), int(Qt.AlignmentFlag.AlignCenter),
               "N")


# ----------------------------------------------------------------------------- legend
@dataclass(frozen=True)
class LegendItem:
    label: str
    color: RGBA
    symbol: str = "s"
    """A ``Points`` symbol, or ``line`` for a boundary."""
    width: float = 1.0


_BOUNDARIES = {"areas.county": "legend_county_boundary", "areas.town": "legend_town_boundary",
               "areas.village": "legend_village_boundary", "areas.grid": "legend_grid_boundary"}


def legend_items(layers: Iterable[LayerSpec], extra: Iterable[LegendItem] = (),
                 lang: str | None = None) -> list[LegendItem]:
    """The legend entries of the visible layers (deduplicated), the area boundaries drawn
    (with the pen they are printed with), then ``extra``."""
    out: list[LegendItem] = []
    lines: list[LegendItem] = []
    seen: set[tuple[str, str]] = set()
    for spec in layers:
        if not spec.visible:
            continue
        for e in spec.legend:
            if (e.label, e.symbol) not in seen:
                seen.add((e.label, e.symbol))
                out.append(_item(e))
        for d in spec.drawables:
            if isinstance(d, Polygons) and d.layer in _BOUNDARIES:
                lines.append(LegendItem(tr(_BOUNDARIES[d.layer], lang), _darker(d.pen), "line",
                                        max(0.1, d.pen_width * PEN_MM)))
    return out + lines + list(extra)


def _item(e: LegendEntry) -> LegendItem:
    width = max(0.1, e.size * PEN_MM) if e.symbol == "line" else 1.0  # a line's size: its pen
    return LegendItem(e.label, tuple(int(v) for v in e.color), e.symbol,  # type: ignore[arg-type]
                      width)


def _legend_cells(ctx: Ctx, items: list[LegendItem], width: float
                  ) -> list[tuple[LegendItem, QRectF]]:
    """Entries flowed left to right in rows (rects relative to the legend's top-left)."""
    size = ctx.style.size_small
    fm = ctx.metrics(size)
    h = fm.height() * 1.25
    sw = ctx.mm(3.2)
    x = y = 0.0
    out = []
    for it in items:
        w = sw + ctx.mm(1.2) + min(fm.horizontalAdvance(it.label), width * 0.6) + ctx.mm(4)
        if x > 0 and x + w > width:
            x, y = 0.0, y + h
        out.append((it, QRectF(x, y, w, h)))
        x += w
    return out


def legend_height(ctx: Ctx, items: list[LegendItem], width: float) -> float:
    cells = _legend_cells(ctx, items, width)
    return cells[-1][1].bottom() if cells else 0.0


def paint_legend(ctx: Ctx, items: list[LegendItem], rect: QRectF) -> None:
    p = ctx.painter
    size = ctx.style.size_small
    fm = ctx.metrics(size)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setFont(ctx.font(size))
    sw = ctx.mm(3.2)
    for it, cell in _legend_cells(ctx, items, rect.width()):
        r = cell.translated(rect.left(), rect.top())
        cy = r.center().y()
        if it.symbol == "line":
            pen = QPen(qcolor(it.color))
            pen.setWidthF(ctx.mm(it.width))
            p.setPen(pen)
            p.drawLine(QPointF(r.left(), cy), QPointF(r.left() + sw, cy))
        else:
            outline = QPen(qcolor((120, 120, 120, 200)))
            outline.setWidthF(ctx.mm(0.1))
            p.setPen(outline)
            p.setBrush(qcolor(it.color))
            p.drawPath(symbol_path(it.symbol, sw * 0.85).translated(r.left() + sw / 2, cy))
        p.setPen(qcolor(ctx.style.text))
        text_rect = QRectF(r.left() + sw + ctx.mm(1.2), r.top(),
                           r.width() - sw - ctx.mm(1.2), r.height())
        p.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                   fm.elidedText(it.label, Qt.TextElideMode.ElideRight, text_rect.width()))
    p.restore()
