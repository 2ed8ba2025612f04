"""The blocks of a briefing page: titles, headings, KPI tiles, text, charts, rows, maps.

Each block measures itself against the writer's fonts (``Ctx``) and paints inside the
rectangle ``pdf_layout.flow`` gives it. Tables live in ``pdf_table``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPen

from data.queries import Viewport
from layers.backdrop import Backdrop
from layers.drawables import LayerSpec
from layers.panels import KpiSpec
from layers.scene import fit_view

from .chart_painter import kpi_height, paint_kpi
from .pdf_layout import Block
from .pdf_style import Ctx, printable, qcolor
from .scene_painter import LegendItem, legend_height, legend_items, paint_legend, paint_map

_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_WRAP = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)


def wrapped_height(ctx: Ctx, text: str, size: float, width: float, bold: bool = False) -> float:
    if not text:
        return 0.0
    r = ctx.metrics(size, bold).boundingRect(QRectF(0, 0, max(width, 1.0), 1e9), _WRAP, text)
    return r.height()


def title_height(ctx: Ctx) -> float:
    return ctx.line(ctx.style.size_h2, True) + ctx.mm(1.6)


def paint_title(ctx: Ctx, rect: QRectF, text: str) -> float:
    """A panel title with an accent mark; returns its height."""
    p, s = ctx.painter, ctx.style
    h = title_height(ctx)
    fm = ctx.metrics(s.size_h2, True)
    p.save()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(qcolor(s.accent))
    p.drawRect(QRectF(rect.left(), rect.top() + ctx.mm(0.6), ctx.mm(0.8),
                      fm.height() - ctx.mm(0.6)))
    p.setFont(ctx.font(s.size_h2, True))
    p.setPen(qcolor(s.text))
    p.drawText(QRectF(rect.left() + ctx.mm(2), rect.top(), rect.width() - ctx.mm(2), fm.height()),
               _LEFT, fm.elidedText(text, Qt.TextElideMode.ElideRight,
                                    rect.width() - ctx.mm(2)))
    p.restore()
    return h


# ----------------------------------------------------------------------------- titles
@dataclass
class SpanTitle(Block):
    """The title band of a page, across all columns: title, subtitle, then facts in a row."""

    title: str
    subtitle: str = ""
    facts: Sequence[str] = ()
    span = True

    def __post_init__(self) -> None:
        self.title = printable(self.title)
        self.subtitle = printable(self.subtitle)
        self.facts = [printable(f) for f in self.facts]

    def _fact_lines(self, ctx: Ctx, width: float) -> list[list[tuple[str, float]]]:
        """Facts flowed into lines, each fact kept whole (x offsets within its line)."""
        size, gap = ctx.style.size_small, ctx.mm(4)
        lines: list[list[tuple[str, float]]] = [[]]
        x = 0.0
        for fact in self.facts:
            w = min(ctx.width(fact, size), width)
            if lines[-1] and x + w > width:
                lines.append([])
                x = 0.0
            lines[-1].append((fact, x))
            x += w + gap
        return lines if lines[0] else []

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        s = ctx.style
        h = ctx.line(s.size_title, True) + ctx.mm(1)
        if self.subtitle:
            h += ctx.line(s.size_body)
        if self.facts:
            h += ctx.mm(1) + len(self._fact_lines(ctx, width)) * ctx.line(s.size_small)
        return h + ctx.mm(3)

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        p, s = ctx.painter, ctx.style
        y = rect.top()
        fm = ctx.metrics(s.size_title, True)
        p.setFont(ctx.font(s.size_title, True))
        p.setPen(qcolor(s.text))
        p.drawText(QRectF(rect.left(), y, rect.width(), fm.height()), _LEFT,
                   fm.elidedText(self.title, Qt.TextElideMode.ElideRight, rect.width()))
        y += fm.height() + ctx.mm(1)
        if self.subtitle:
            p.setFont(ctx.font(s.size_body))
            p.setPen(qcolor(s.muted))
            h = ctx.line(s.size_body)
            p.drawText(QRectF(rect.left(), y, rect.width(), h), _LEFT, self.subtitle)
            y += h
        if self.facts:
            y += ctx.mm(1)
            h = ctx.line(s.size_small)
            fm = ctx.metrics(s.size_small)
            p.setFont(ctx.font(s.size_small))
            p.setPen(qcolor(s.text))
            for line in self._fact_lines(ctx, rect.width()):
                for fact, x in line:
                    room = rect.width() - x
                    p.drawText(QRectF(rect.left() + x, y, room, h), _LEFT,
                               fm.elidedText(fact, Qt.TextElideMode.ElideRight, room))
                y += h
        pen = QPen(qcolor(s.accent))
        pen.setWidthF(ctx.mm(0.6))
        p.setPen(pen)
        p.drawLine(rect.bottomLeft(), rect.bottomRight())


@dataclass
class Heading(Block):
    """A section heading; it never ends a column alone."""

    text: str
    keep_with_next = True

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        return ctx.line(ctx.style.size_h1, True) + ctx.mm(2)

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        p, s = ctx.painter, ctx.style
        h = ctx.line(s.size_h1, True)
        p.setFont(ctx.font(s.size_h1, True))
        p.setPen(qcolor(s.accent))
        p.drawText(QRectF(rect.left(), rect.top(), rect.width(), h), _LEFT, self.text)
        pen = QPen(qcolor(s.grid))
        pen.setWidthF(ctx.mm(0.3))
        p.setPen(pen)
        y = rect.top() + h + ctx.mm(0.8)
        p.drawLine(rect.left(), y, rect.right(), y)


# ----------------------------------------------------------------------------- KPIs
@dataclass
class KpiGrid(Block):
    title: str
    specs: Sequence[KpiSpec]
    columns: int = 3

    def _rows(self) -> int:
        return max(1, math.ceil(len(self.specs) / self.columns))

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        gap = ctx.mm(2.2)
        return (title_height(ctx) if self.title else 0.0) + self._rows() * (kpi_height(ctx) + gap)

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        y = rect.top() + (paint_title(ctx, rect, self.title) if self.title else 0.0)
        gap = ctx.mm(2.2)
        w = (rect.width() - (self.columns - 1) * gap) / self.columns
        h = kpi_height(ctx)
        for i, spec in enumerate(self.specs):
            r, c = divmod(i, self.columns)
            paint_kpi(ctx, spec, QRectF(rect.left() + c * (w + gap), y + r * (h + gap), w, h))


# ----------------------------------------------------------------------------- text
@dataclass
class Bullets(Block):
    """Paragraphs with bullets (the written summary); splits between paragraphs."""

    title: str
    items: Sequence[str]
    continued: str = ""

    def _item_heights(self, ctx: Ctx, width: float) -> list[float]:
        indent = ctx.mm(4)
        return [wrapped_height(ctx, t, ctx.style.size_body, width - indent) + ctx.mm(1.4)
                for t in self.items]

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        return title_height(ctx) + sum(self._item_heights(ctx, width))

    def min_height(self, ctx: Ctx, width: float) -> float:
        return title_height(ctx) + (self._item_heights(ctx, width)[:1] or [0.0])[0]

    def split(self, ctx: Ctx, width: float, avail: float) -> tuple[Block | None, Block | None]:
        room = avail - title_height(ctx)
        k = 0
        for h in self._item_heights(ctx, width):
            if h > room:
                break
            room -= h
            k += 1
        if k == 0:
            return None, self
        rest = Bullets(self.title + self.continued, self.items[k:], self.continued) \
            if k < len(self.items) else None
        return Bullets(self.title, self.items[:k], self.continued), rest

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        p, s = ctx.painter, ctx.style
        y = rect.top() + paint_title(ctx, rect, self.title)
        indent = ctx.mm(4)
        for text, h in zip(self.items, self._item_heights(ctx, rect.width()), strict=True):
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(qcolor(s.accent))
            dot = ctx.mm(1.1)
            p.drawRect(QRectF(rect.left() + ctx.mm(0.8), y + ctx.line(s.size_body) / 2 - dot / 2,
                              dot, dot))
            p.setFont(ctx.font(s.size_body))
            p.setPen(qcolor(s.text))
            p.drawText(QRectF(rect.left() + indent, y, rect.width() - indent, h), _WRAP, text)
            y += h


# ----------------------------------------------------------------------------- charts
@dataclass
class Chart(Block):
    """A titled chart of fixed height, painted by ``draw(ctx, rect)``."""

    title: str
    draw: Callable[[Ctx, QRectF], None]
    body_mm: float = 45.0

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        return title_height(ctx) + ctx.mm(self.body_mm)

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        y = rect.top() + paint_title(ctx, rect, self.title)
        body = QRectF(rect.left(), y + ctx.mm(0.5), rect.width(), rect.bottom() - y - ctx.mm(0.5))
        ctx.painter.save()
        ctx.painter.setClipRect(body.adjusted(-ctx.mm(1), -ctx.mm(1), ctx.mm(1), ctx.mm(1)))
        self.draw(ctx, body)
        ctx.painter.restore()


@dataclass
class Row(Block):
    """Blocks side by side (widths by ``weights``); as tall as the tallest."""

    blocks: Sequence[Block]
    weights: Sequence[float] = ()

    def _widths(self, ctx: Ctx, width: float) -> list[float]:
        gap = ctx.mm(5)
        weights = list(self.weights) or [1.0] * len(self.blocks)
        room = width - gap * (len(self.blocks) - 1)
        return [room * w / sum(weights) for w in weights]

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        return max(b.height(ctx, w) for b, w in zip(self.blocks, self._widths(ctx, width),
                                                    strict=True))

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        x = rect.left()
        gap = ctx.mm(5)
        for b, w in zip(self.blocks, self._widths(ctx, rect.width()), strict=True):
            b.paint(ctx, QRectF(x, rect.top(), w, min(b.height(ctx, w), rect.height())))
            x += w + gap


# ----------------------------------------------------------------------------- map
LEGEND_ROWS = 3
"""Rows kept for a map's legend (a longer legend takes room from the map)."""


@dataclass
class MapBlock(Block):
    """A titled map of ``bounds`` (Mercator x0, y0, x1, y1) with its legend underneath.

    ``build(view)`` gives the layers for a view (``build_scene`` and friends). The map is
    as tall as the region's shape asks (between ``min_mm`` and ``max_mm``), never taller
    than the room left in the column, and its size does not depend on its layers, so
    ``prefetch`` can build them on another thread while the rest of the document is
    made; ``paint`` builds them itself when the size it gets was not foreseen.
    """

    title: str
    build: Callable[[Viewport], Sequence[LayerSpec]]
    bounds: tuple[float, float, float, float]
    extra_legend: Sequence[LegendItem] = ()
    min_mm: float = 80.0
    max_mm: float | None = None
    focus: Sequence[np.ndarray] = ()
    """Mercator rings of the area the page is about; the rest of the map is veiled."""
    empty: str = ""
    """Written on a map with nothing to draw."""
    lang: str | None = None
    px_per_mm: float = 5.5
    """Map pixels per millimetre: the density raster's resolution (2 px a cell)."""
    backdrop: Backdrop | None = None
    """The base map and reference layers under the map."""
    _cache: dict[tuple[int, int], tuple[Viewport, Any]] = field(default_factory=dict,
                                                                repr=False)

    def _key(self, ctx: Ctx, w: float, h: float) -> tuple[int, int]:
        return (max(16, round(w / ctx.dpmm * self.px_per_mm)),
                max(16, round(h / ctx.dpmm * self.px_per_mm)))

    def _layers(self, ctx: Ctx, w: float, h: float) -> tuple[Viewport, Sequence[LayerSpec]]:
        key = self._key(ctx, w, h)
        if key not in self._cache:
            view = fit_view(*self.bounds, *key)
            built = self.build(view)
            if self.backdrop is not None and self.backdrop.reference:
                built = [*self.backdrop.reference_specs(view), *built]
            self._cache[key] = (view, built)
        view, layers = self._cache[key]
        if isinstance(layers, Future):
            layers = layers.result()
            if self.backdrop is not None and self.backdrop.reference:
                layers = [*self.backdrop.reference_specs(view), *layers]
            self._cache[key] = (view, layers)
        return view, layers

    def _legend(self, layers: Sequence[LayerSpec]) -> list[LegendItem]:
        return legend_items(layers, self.extra_legend, self.lang)

    def _legend_room(self, ctx: Ctx) -> float:
        return LEGEND_ROWS * ctx.metrics(ctx.style.size_small).height() * 1.25

    def _extra(self, ctx: Ctx) -> float:
        return title_height(ctx) + ctx.mm(2) + self._legend_room(ctx)

    def _map_height(self, ctx: Ctx, width: float, avail: float) -> float:
        x0, y0, x1, y1 = self.bounds
        aspect = max(y1 - y0, 1.0) / max(x1 - x0, 1.0)
        want = width * aspect * 1.06
        if self.max_mm is not None:
            want = min(want, ctx.mm(self.max_mm))
        want = min(want, avail - self._extra(ctx))
        return max(ctx.mm(self.min_mm), want)

    def min_height(self, ctx: Ctx, width: float) -> float:
        return self._extra(ctx) + ctx.mm(self.min_mm)

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        return self._map_height(ctx, width, avail) + self._extra(ctx)

    def prefetch(self, ctx: Ctx, width: float, avail: float,
                 submit: Callable[..., Future]) -> None:
        """Start building the layers for the size the map will get with ``avail`` room."""
        key = self._key(ctx, width, self._map_height(ctx, width, avail))
        if key not in self._cache:
            view = fit_view(*self.bounds, *key)
            self._cache[key] = (view, submit(self.build, view))

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        y = rect.top() + paint_title(ctx, rect, self.title)
        room = self._legend_room(ctx)
        map_h = max(ctx.mm(20), rect.bottom() - y - ctx.mm(2) - room)
        view, layers = self._layers(ctx, rect.width(), map_h)
        legend = self._legend(layers)
        need = legend_height(ctx, legend, rect.width())
        if need > room + 1e-6:  # a long legend: the map gives way (and is built again)
            map_h = max(ctx.mm(20), map_h - (need - room))
            view, layers = self._layers(ctx, rect.width(), map_h)
        box = QRectF(rect.left(), y, rect.width(), map_h)
        paint_map(ctx, layers, view, box, self.focus, self.empty, self.backdrop)
        paint_legend(ctx, legend, QRectF(rect.left(), box.bottom() + ctx.mm(2), rect.width(),
                                         max(need, room)))
