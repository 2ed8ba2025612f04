"""Raster base-map tiles, Qt-free: tile maths in Web Mercator, MBTiles and XYZ sources, a cache.

Tile maths is written here rather than taken from a package (mercantile, its last
release in 2021, or morecantile): the map already works in Web Mercator metres, where a
tile is a square of ``WORLD / 2**z`` metres counted from the north-west corner, so the
whole of it is a few lines (tests check them against the textbook lon/lat formula).

Sources give the encoded bytes of a tile by XYZ address (rows from the north), or None
for a tile that is not there. An MBTiles file counts rows from the south (TMS), as its
specification says; a file written in XYZ order is recognised by its ``scheme`` metadata
or, failing that, by which rows exist over the data's extent. An XYZ server is asked
with ``urllib`` (a timeout, no proxy: only the configured host is ever contacted).

``to_display``/``from_display`` move Mercator coordinates between WGS84 (the data) and
the datum of the tiles (GCJ-02 for the common Chinese web maps), so that the data can be
drawn over such tiles while staying WGS84 underneath.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .coords import gcj02_to_wgs84, lonlat_to_mercator, mercator_to_lonlat, wgs84_to_gcj02

WORLD = 2 * math.pi * 6378137.0
"""Width of the Web Mercator square in metres."""
ORIGIN = WORLD / 2
TILE_PX = 256
MAX_ZOOM = 22
DATUMS = ("wgs84", "gcj02")
MAX_VIEW_TILES = 400
"""More tiles than this for one view (a file with only deep zoom levels seen from far
out) and the base map is not drawn for that view instead of loading thousands."""

TileKey = tuple[int, int, int]
"""(z, x, y) in XYZ order (row 0 at the north)."""


# ----------------------------------------------------------------------------- tile maths
def tile_span(z: int) -> float:
    """Side of a tile at zoom ``z`` in Mercator metres."""
    return WORLD / (1 << z)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in Mercator metres of the XYZ tile."""
    s = tile_span(z)
    x0 = -ORIGIN + x * s
    y1 = ORIGIN - y * s
    return x0, y1 - s, x0 + s, y1


def zoom_for(metres_per_px: float, min_zoom: int = 0, max_zoom: int = MAX_ZOOM) -> int:
    """The zoom level whose tile pixels are closest to ``metres_per_px`` (device pixels),
    clamped to the source's levels."""
    if not metres_per_px > 0 or not math.isfinite(metres_per_px):
        return min_zoom
    z = round(math.log2(WORLD / (TILE_PX * metres_per_px)))
    return max(min_zoom, min(max_zoom, z))


def tiles_in(x0: float, y0: float, x1: float, y1: float, z: int) -> list[TileKey]:
    """The XYZ tiles of zoom ``z`` that cover the Mercator rectangle, nearest the centre
    first (they are asked for first)."""
    s, n = tile_span(z), 1 << z
    c0 = max(0, math.floor((min(x0, x1) + ORIGIN) / s))
    c1 = min(n - 1, math.floor((max(x0, x1) + ORIGIN) / s - 1e-9))
    r0 = max(0, math.floor((ORIGIN - max(y0, y1)) / s))
    r1 = min(n - 1, math.floor((ORIGIN - min(y0, y1)) / s - 1e-9))
    if c1 < c0 or r1 < r0:
        return []
    # the view's centre in tile units: tiles whose centre is nearest it come first
    cx = ((x0 + x1) / 2 + ORIGIN) / s - 0.5
    cy = (ORIGIN - (y0 + y1) / 2) / s - 0.5
    keys = [(z, c, r) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
    keys.sort(key=lambda k: (k[1] - cx) ** 2 + (k[2] - cy) ** 2)
    return keys


def lonlat_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ column and row holding a WGS84 point (through Mercator metres)."""
    mx, my = lonlat_to_mercator([lon], [lat])
    s = tile_span(z)
    return int((float(mx[0]) + ORIGIN) // s), int((ORIGIN - float(my[0])) // s)


# ----------------------------------------------------------------------------- datum
def to_display(mx: Any, my: Any, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 Mercator → Mercator in the tiles' datum (identity for ``wgs84``)."""
    mx, my = np.asarray(mx, float), np.asarray(my, float)
    if datum != "gcj02" or mx.size == 0:
        return mx, my
    lon, lat = mercator_to_lonlat(mx, my)
    return lonlat_to_mercator(*wgs84_to_gcj02(lon, lat))


def from_display(mx: Any, my: Any, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Mercator in the tiles' datum → WGS84 Mercator (a click, the view's rectangle)."""
    mx, my = np.asarray(mx, float), np.asarray(my, float)
    if datum != "gcj02" or mx.size == 0:
        return mx, my
    lon, lat = mercator_to_lonlat(mx, my)
    return lonlat_to_mercator(*gcj02_to_wgs84(lon, lat))


# ----------------------------------------------------------------------------- sources
class TileError(Exception):
    """A source that cannot be opened (the message says why)."""


class TileSource(Protocol):
    min_zoom: int
    max_zoom: int
    attribution: str | None

    def get(self, z: int, x: int, y: int) -> bytes | None: ...
    def close(self) -> None: ...


def _lonlat_bounds(text: object) -> tuple[float, float, float, float] | None:
    try:
        b = tuple(float(v) for v in str(text).split(","))
    except ValueError:
        return None
    if len(b) != 4 or not all(math.isfinite(v) for v in b) or b[0] >= b[2] or b[1] >= b[3]:
        return None
    return b  # type: ignore[return-value]


class MBTilesSource:
    """Raster tiles from an MBTiles file, read-only; safe to share between threads."""

    def __init__(self, path: str | Path, extent: tuple[float, float, float, float] | None = None
                 ) -> None:
        self.path = Path(path)
        try:
            self._con = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True,
                                        check_same_thread=False)
            self._lock = threading.Lock()
            meta = self._meta()
            self._con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles "
                              "LIMIT 0").fetchall()
        except sqlite3.Error as exc:
            raise TileError(f"not an MBTiles file ({exc})") from exc
        self.format = str(meta.get("format", "png")).lower()
        self.attribution = str(meta["attribution"]) if meta.get("attribution") else None
        self.bounds = _lonlat_bounds(meta.get("bounds"))
        zooms = self._zoom_range(meta)
        if zooms is None:
            raise TileError("no tiles")
        self.min_zoom, self.max_zoom = zooms
        declared = str(meta.get("scheme", "")).strip().lower()
        self.scheme = declared if declared in ("tms", "xyz") else self.detect_scheme(
            extent or self.bounds)
        self.scheme_declared = declared in ("tms", "xyz")

    def _meta(self) -> dict[str, str]:
        try:
            rows = self._con.execute("SELECT name, value FROM metadata").fetchall()
        except sqlite3.Error:
            return {}
        return {str(k).lower(): str(v) for k, v in rows if k is not None and v is not None}

    def _zoom_range(self, meta: dict[str, str]) -> tuple[int, int] | None:
        try:
            lo, hi = int(meta["minzoom"]), int(meta["maxzoom"])
            if 0 <= lo <= hi <= 30:
                return lo, hi
        except (KeyError, ValueError):
            pass
        row = self._con.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        if row is None or row[0] is None:
            return None
        return max(0, int(row[0])), min(30, int(row[1]))

    def _count(self, z: int, c0: int, c1: int, r0: int, r1: int) -> int:
        with self._lock:
            return int(self._con.execute(
                "SELECT count(*) FROM tiles WHERE zoom_level = ? AND tile_column BETWEEN ? AND ?"
                " AND tile_row BETWEEN ? AND ?", (z, c0, c1, r0, r1)).fetchone()[0])

    def detect_scheme(self, extent: tuple[float, float, float, float] | None) -> str:
        """``xyz`` when more tiles exist at the XYZ rows of ``extent`` (lon/lat) than at its
        TMS rows, on the deepest level where either has any; ``tms`` otherwise (the
        specification's order, also when nothing tells)."""
        if extent is None:
            return "tms"
        lon0, lat0, lon1, lat1 = extent
        for z in range(self.max_zoom, self.min_zoom - 1, -1):
            c0, r0 = lonlat_tile(lon0, lat1, z)  # north-west: the smallest XYZ row
            c1, r1 = lonlat_tile(lon1, lat0, z)
            n = 1 << z
            if (c1 - c0 + 1) * (r1 - r0 + 1) > 4096:
                continue  # a deep level seen over a whole province: look higher up
            xyz = self._count(z, c0, c1, r0, r1)
            tms = self._count(z, c0, c1, n - 1 - r1, n - 1 - r0)
            if xyz or tms:
                return "xyz" if xyz > tms else "tms"
        return "tms"

    def get(self, z: int, x: int, y: int) -> bytes | None:
        row = y if self.scheme == "xyz" else (1 << z) - 1 - y
        with self._lock:
            got = self._con.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                "AND tile_row = ?", (z, x, row)).fetchone()
        return bytes(got[0]) if got and got[0] is not None else None

    def close(self) -> None:
        with self._lock:
            self._con.close()


class XYZSource:
    """Tiles from an intranet XYZ server: one GET per tile, with a timeout, no proxy."""

    def __init__(self, template: str, attribution: str | None = None, timeout: float = 5.0,
                 min_zoom: int = 0, max_zoom: int = 19) -> None:
        self.template = template
        self.attribution = attribution
        self.timeout = timeout
        self.min_zoom, self.max_zoom = min_zoom, max_zoom
        # No proxy from the environment: the request goes to the configured host or nowhere.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def url(self, z: int, x: int, y: int) -> str:
        return self.template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))

    def get(self, z: int, x: int, y: int) -> bytes | None:
        req = urllib.request.Request(self.url(z, x, y), headers={"User-Agent": "cockpit"})
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return resp.read(8_000_000) if resp.status == 200 else None
        except urllib.error.HTTPError as exc:
            if exc.code in (204, 404):
                return None
            raise

    def close(self) -> None:
        pass


def open_source(mbtiles: str | Path | None = None, xyz: str | None = None,
                attribution: str | None = None,
                extent: tuple[float, float, float, float] | None = None) -> TileSource | None:
    """The configured source (MBTiles first, as in the settings), or None: no base map."""
    if mbtiles is not None:
        src = MBTilesSource(mbtiles, extent)
        if attribution:
            src.attribution = attribution
        return src
    if xyz is not None:
        return XYZSource(xyz, attribution)
    return None


# ----------------------------------------------------------------------------- cache
@dataclass
class LRUCache:
    """Least recently used entries kept within a number of entries and of bytes."""

    max_items: int = 600
    max_bytes: int = 96 * 1024 * 1024
    sizeof: Callable[[Any], int] = len
    _data: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _sizes: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    bytes: int = 0
    evicted: int = 0

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def put(self, key: Hashable, value: Any) -> None:
        size = max(0, int(self.sizeof(value)))
        with self._lock:
            if key in self._data:
                self.bytes -= self._sizes.pop(key)
                del self._data[key]
            self._data[key] = value
            self._sizes[key] = size
            self.bytes += size
            while self._data and (len(self._data) > self.max_items
                                  or self.bytes > self.max_bytes):
                old, _ = self._data.popitem(last=False)
                self.bytes -= self._sizes.pop(old)
                self.evicted += 1

    def __len__(self) -> int:
        return len(self._data)

    def keys(self) -> Iterator[Hashable]:
        with self._lock:
            return iter(list(self._data))

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._sizes.clear()
            self.bytes = 0
