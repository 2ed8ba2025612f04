"""Base-map tiles for a map canvas, loaded off the GUI thread (the latest view wins).

``attach_basemap(canvas, settings.tiles)`` opens the configured source (nothing
configured: nothing opened, no request, None returned) and connects a ``TileLoader``
to the canvas: the canvas says which tiles its view wants, the loader answers from its
cache at once and queues the rest for two worker threads; a new view replaces the
queue, so tiles of a view already left are never fetched (counted as dropped). The
workers read and decode (a broken image or a missing tile is a gap, counted), and hand
the image to the GUI thread through a queued signal. The cache holds decoded tiles
within a number and a size (``data.tiles.LRUCache``), so a wall that pans all day
keeps a flat memory.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from data.tiles import LRUCache, TileKey, TileSource
from widgets.basemap import BasemapInfo
from widgets.map_canvas import MapCanvas

from .backdrop_files import open_tiles
from .settings import TileSettings

_GAP = "gap"
"""Cached for a tile the source does not have (asked once, not at every pan)."""


@dataclass
class LoaderStats:
    requested: int = 0
    loaded: int = 0
    cached: int = 0
    missing: int = 0
    broken: int = 0
    failed: int = 0
    dropped: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


class _Relay(QObject):
    done = Signal(object, object)  # key, QImage or None (a gap)


def decode(data: bytes | None) -> QImage | None:
    """The tile as an image ready to paint, or None (no data, or not an image)."""
    if not data:
        return None
    img = QImage.fromData(data)
    if img.isNull():
        return None
    # an opaque tile (JPEG, most PNGs) is drawn without blending: scaled, 2.5 times faster
    fmt = (QImage.Format.Format_ARGB32_Premultiplied if img.hasAlphaChannel()
           else QImage.Format.Format_RGB32)
    return img.convertToFormat(fmt)


def _image_bytes(value: object) -> int:
    return value.sizeInBytes() if isinstance(value, QImage) else 64


class TileLoader(QObject):
    """Fetches and decodes tiles of ``source`` on ``threads`` worker threads."""

    tile_ready = Signal(object, object)  # key, QImage or None (a gap)

    def __init__(self, source: TileSource, threads: int = 2, cache: LRUCache | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.cache = cache or LRUCache(sizeof=_image_bytes)
        self.stats = LoaderStats()
        self._queue: list[TileKey] = []
        self._inflight: set[TileKey] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._relay = _Relay()
        self._relay.done.connect(self.tile_ready)
        self._threads = [threading.Thread(target=self._work, name=f"cockpit-tiles-{i}",
                                          daemon=True) for i in range(threads)]
        for t in self._threads:
            t.start()

    def request(self, keys: Sequence[TileKey]) -> None:
        """The tiles a view wants, in order; what was queued for an earlier view goes."""
        todo: list[TileKey] = []
        for key in keys:
            got = self.cache.get(key)
            if got is None:
                todo.append(key)
                continue
            self.stats.cached += 1
            self.tile_ready.emit(key, got if isinstance(got, QImage) else None)
        with self._cond:
            wanted = set(todo)
            self.stats.dropped += sum(1 for k in self._queue if k not in wanted)
            self._queue = [k for k in todo if k not in self._inflight]
            self.stats.requested += len(self._queue)
            self._cond.notify_all()

    def idle(self) -> bool:
        """Nothing queued and no worker inside the source or the image decoder."""
        with self._cond:
            return not self._queue and not self._inflight

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                key = self._queue.pop(0)
                self._inflight.add(key)
            t0 = time.perf_counter()
            image: QImage | None = None
            try:
                data = self.source.get(*key)
            except Exception as exc:  # a server down, a timeout, a locked file: a gap
                data = None
                self.stats.failed += 1
                del self.stats.errors[:-9]
                self.stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            else:
                if data is None:
                    self.stats.missing += 1
                    self.cache.put(key, _GAP)
                else:
                    image = decode(data)
                    if image is None:
                        self.stats.broken += 1
                        self.cache.put(key, _GAP)
                    else:
                        self.stats.loaded += 1
                        self.cache.put(key, image)
            self.stats.seconds += time.perf_counter() - t0
            with self._cond:
                self._inflight.discard(key)
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self._relay.done.emit(key, image)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        for t in self._threads:
            t.join(10.0)
        with contextlib.suppress(Exception):
            self.source.close()
        self.cache.clear()


class BasemapController(QObject):
    """A canvas's base map: its source, its loader and what went wrong."""

    def __init__(self, canvas: MapCanvas, source: TileSource, datum: str, threads: int = 2
                 ) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.source = source
        self.loader = TileLoader(source, threads, parent=self)
        self.info = BasemapInfo(source.min_zoom, source.max_zoom, source.attribution, datum)
        canvas.tiles_wanted.connect(self.loader.request)
        self.loader.tile_ready.connect(canvas.put_tile)
        canvas.set_basemap(self.info)

    def settled(self) -> bool:
        """The view's tiles are all drawn or known to be gaps."""
        return self.canvas.basemap_settled()

    def idle(self) -> bool:
        return self.loader.idle()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            self.canvas.tiles_wanted.disconnect(self.loader.request)
        self.loader.close()


def attach_basemap(canvas: MapCanvas, tiles: TileSettings,
                   extent: tuple[float, float, float, float] | None = None, threads: int = 2
                   ) -> tuple[BasemapController | None, str | None]:
    """Give ``canvas`` the configured base map; (None, None) when none is configured (then
    nothing is opened and no request is made), (None, error) when it cannot be used.
    ``extent`` (lon/lat of the data) lets an MBTiles file without ``scheme`` metadata be
    recognised as XYZ-ordered."""
    source, warning = open_tiles(tiles, extent)
    if source is None:
        return None, warning
    return BasemapController(canvas, source, tiles.datum, threads), None
