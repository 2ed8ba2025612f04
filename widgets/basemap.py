"""The base map's tiles in the map canvas: a pyqtgraph item that draws what it holds.

The item never loads anything. The canvas tells it which tiles the view wants
(``set_wanted``: one zoom level, chosen from the view's scale and the screen's pixel
ratio) and a loader hands tiles in as they arrive (``put``: an image, or None for a
gap). Until every wanted tile has come, the tiles it held from the previous view stay
under the new ones, so a zoom shows the old, blurrier tiles instead of a blank; once
all have come, the rest are let go. Each tile is drawn onto whole device pixels, so
neighbours meet without seams.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QImage, QPainter

from data.tiles import ORIGIN, WORLD, TileKey, tile_bounds

MAX_HELD = 400
"""Tiles held from earlier views at most (the loader's cache holds more)."""


@dataclass(frozen=True)
class BasemapInfo:
    """What the canvas needs to know of a tile source (nothing that loads)."""

    min_zoom: int
    max_zoom: int
    attribution: str | None = None
    datum: str = "wgs84"


class BasemapItem(pg.GraphicsObject):
    def __init__(self, info: BasemapInfo) -> None:
        super().__init__()
        self.info = info
        self.zoom: int | None = None
        self.wanted: list[TileKey] = []
        self._wanted_set: set[TileKey] = set()
        self.tiles: dict[TileKey, QImage] = {}
        self.resolved: set[TileKey] = set()
        """Wanted tiles that came, as an image or as a gap."""
        self.gaps: set[TileKey] = set()
        self.drawn = 0
        """Tiles drawn in the last paint."""

    def boundingRect(self) -> QRectF:
        return QRectF(-ORIGIN, -ORIGIN, WORLD, WORLD)

    # ----------------------------------------------------------------- state
    def set_wanted(self, zoom: int, keys: list[TileKey]) -> list[TileKey]:
        """The view's tiles; returns those still to load (nearest the centre first)."""
        self.zoom = zoom
        self.wanted = list(keys)
        self._wanted_set = set(keys)
        self.resolved &= self._wanted_set
        self.gaps &= self._wanted_set
        if len(self.tiles) > MAX_HELD:  # a long pan: let the earlier views' tiles go
            self.tiles = {k: v for k, v in self.tiles.items() if k in self._wanted_set}
        self._prune()
        self.update()
        return [k for k in keys if k not in self.resolved]

    def put(self, key: TileKey, image: QImage | None) -> bool:
        """A tile came (None: it does not exist or could not be read); False if unwanted."""
        if key not in self._wanted_set:
            return False
        self.resolved.add(key)
        if image is None or image.isNull():
            self.gaps.add(key)
        else:
            self.tiles[key] = image
        self._prune()
        self.update()
        return True

    def settled(self) -> bool:
        return len(self.resolved) >= len(self._wanted_set)

    def _prune(self) -> None:
        if self.settled():
            self.tiles = {k: v for k, v in self.tiles.items() if k in self._wanted_set}

    # ----------------------------------------------------------------- drawing
    def paint(self, p: QPainter, *args: object) -> None:
        t = p.transform()
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        visible = p.viewport() if p.viewport().isValid() else None
        drawn = 0
        # earlier views' tiles first (other zoom levels), the wanted level on top
        for key in sorted(self.tiles, key=lambda k: (k[0] == self.zoom, -abs(k[0] - (
                self.zoom or 0)))):
            img = self.tiles[key]
            x0, y0, x1, y1 = tile_bounds(*key)
            a, b = t.map(QPointF(x0, y1)), t.map(QPointF(x1, y0))
            target = QRect(round(min(a.x(), b.x())), round(min(a.y(), b.y())), 0, 0)
            target.setRight(round(max(a.x(), b.x())) - 1)
            target.setBottom(round(max(a.y(), b.y())) - 1)
            if target.width() <= 0 or target.height() <= 0:
                continue
            if visible is not None and not target.intersects(visible):
                continue
            p.drawImage(target, img)
            drawn += 1
        self.drawn = drawn
        p.restore()
