"""Reference layers: roads, rivers, police beats (警务区), grid cells (网格) from the user's files.

``load_reference`` reads one GeoPackage, Shapefile or GeoJSON file once (``pyogrio``),
keeps its lines and polygons, and projects them from the file's CRS to Web Mercator
(``pyproj``); a file without a CRS is taken as WGS84 lon/lat when its coordinates fit.
A Shapefile whose ``.dbf`` declares no encoding (no ``.cpg``) is read as UTF-8, else as
GBK (the common case for Chinese files), so names come out right.

Big layers are simplified for display per resolution (``at_resolution``): the
tolerance is half a screen pixel, snapped to a power of two metres so that a few
levels serve every zoom; the simplified forms are kept (a handful, least recently used
dropped). Nothing here raises for a bad file except ``ReferenceFileError`` with a reason.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

RGBA = tuple[int, int, int, int]
SIMPLIFY_VERTICES = 20_000
"""Layers with more vertices than this are simplified for display."""
KEEP_LEVELS = 6
NAME_FIELDS = ("name", "名称", "mc", "jwqmc", "wgmc", "name_zh", "label")
SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".zip")


class ReferenceFileError(Exception):
    """A reference file that cannot be shown; the message says why."""


@dataclass(frozen=True)
class ReferenceStyle:
    """One entry of ``settings.json``'s ``reference_layers``, checked."""

    path: Path
    name: str
    color: RGBA = (255, 255, 255, 255)
    width: float = 1.5
    fill: RGBA | None = None


@dataclass(frozen=True)
class Shapes:
    """Display geometry in Mercator: polylines joined by NaN breaks, polygon rings."""

    line_x: np.ndarray
    line_y: np.ndarray
    rings: tuple[tuple[np.ndarray, ...], ...]
    """Per polygon, its rings as (n, 2) arrays (exteriors and holes)."""
    ring_names: tuple[str, ...]


@dataclass(eq=False)
class ReferenceLayer:
    """A reference file read and projected; ``at_resolution`` gives its display shapes."""

    style: ReferenceStyle
    lines: np.ndarray  # shapely LineStrings in Mercator
    polygons: np.ndarray  # shapely Polygons in Mercator
    polygon_names: tuple[str, ...]
    crs: str
    skipped: int = 0
    """Features that are neither lines nor polygons (points) or empty."""
    _levels: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def vertices(self) -> int:
        return int(shapely.get_num_coordinates(self.lines).sum()
                   + shapely.get_num_coordinates(self.polygons).sum())

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        geoms = np.concatenate([self.lines, self.polygons])
        if not len(geoms):
            return None
        b = shapely.total_bounds(geoms)
        return tuple(float(v) for v in b) if np.all(np.isfinite(b)) else None  # type: ignore

    def at_resolution(self, metres_per_px: float) -> Shapes:
        """The shapes simplified to half a pixel of ``metres_per_px`` (if the layer is big)."""
        level = 0.0
        if self.vertices > SIMPLIFY_VERTICES and metres_per_px > 0 and math.isfinite(
                metres_per_px):
            level = 2.0 ** math.floor(math.log2(metres_per_px / 2))
        with self._lock:
            got = self._levels.get(level)
            if got is not None:
                self._levels.move_to_end(level)
                return got
        shapes = self._shapes(level)
        with self._lock:
            self._levels[level] = shapes
            while len(self._levels) > KEEP_LEVELS:
                self._levels.popitem(last=False)
        return shapes

    def _shapes(self, tolerance: float) -> Shapes:
        lines, polys = self.lines, self.polygons
        if tolerance > 0:
            lines = shapely.simplify(lines, tolerance, preserve_topology=False)
            polys = shapely.simplify(polys, tolerance, preserve_topology=True)
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        for line in lines:
            c = shapely.get_coordinates(line)
            if len(c) >= 2:
                xs += [c[:, 0], np.array([np.nan])]
                ys += [c[:, 1], np.array([np.nan])]
        rings: list[tuple[np.ndarray, ...]] = []
        names: list[str] = []
        for poly, name in zip(polys, self.polygon_names, strict=True):
            if poly is None or poly.is_empty:
                continue
            parts = [np.asarray(poly.exterior.coords)[:, :2]]
            parts += [np.asarray(r.coords)[:, :2] for r in poly.interiors]
            rings.append(tuple(p for p in parts if len(p) >= 3))
            names.append(name)
        return Shapes(np.concatenate(xs) if xs else np.zeros(0),
                      np.concatenate(ys) if ys else np.zeros(0), tuple(rings), tuple(names))


def _read(path: Path) -> tuple[dict, np.ndarray, list[np.ndarray]]:
    import pyogrio  # loads GDAL: only when a reference layer is configured

    info = pyogrio.read_info(path)
    names = [str(f) for f in info.get("fields", [])]
    pick = [f for f in names if f.lower() in NAME_FIELDS][:1]
    encodings: list[str | None] = [None]
    if info.get("driver") == "ESRI Shapefile" and str(info.get("encoding", "")).upper() in (
            "ISO-8859-1", "LATIN1", ""):
        # GDAL found no .cpg nor a code page byte and guessed Latin-1: try UTF-8, then GBK.
        encodings = ["UTF-8", "GBK", None]
        pick = []  # the field names themselves may be undecoded; found again below
    last: Exception | None = None
    for enc in encodings:
        try:
            meta, _, geoms, fields = pyogrio.raw.read(path, encoding=enc, columns=pick or None)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        if not pick:
            keep = [i for i, f in enumerate(meta.get("fields", []))
                    if str(f).lower() in NAME_FIELDS][:1]
            fields = [fields[i] for i in keep]
        return meta, geoms, fields
    raise ReferenceFileError(f"unreadable text ({last})")


def load_reference(style: ReferenceStyle) -> ReferenceLayer:
    """Read, keep lines and polygons, project to Web Mercator; ``ReferenceFileError`` if not."""
    path = style.path
    if not path.exists():
        raise ReferenceFileError("not found")
    if not path.is_file():
        raise ReferenceFileError("not a file")
    try:
        meta, wkb, fields = _read(path)
    except ReferenceFileError:
        raise
    except Exception as exc:  # GDAL's own errors for a garbled or foreign file
        raise ReferenceFileError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    if wkb is None or len(wkb) == 0:
        raise ReferenceFileError("no features")
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    names = [str(v) if v is not None else "" for v in fields[0]] if fields else [""] * len(geoms)
    crs = meta.get("crs")
    geoms = _to_mercator(geoms, crs)
    parts = shapely.get_parts(geoms, return_index=True)
    kept, owner = parts
    kind = shapely.get_type_id(kept)
    line_mask = np.isin(kind, (1, 2))  # LineString, LinearRing
    poly_mask = kind == 3
    # Collections inside collections (rare): one more level of parts.
    nested = np.isin(kind, (4, 5, 6, 7))
    if nested.any():
        sub, sub_owner = shapely.get_parts(kept[nested], return_index=True)
        sub_kind = shapely.get_type_id(sub)
        kept = np.concatenate([kept[~nested], sub])
        owner = np.concatenate([owner[~nested], owner[nested][sub_owner]])
        kind = np.concatenate([kind[~nested], sub_kind])
        line_mask, poly_mask = np.isin(kind, (1, 2)), kind == 3
    lines = kept[line_mask & ~shapely.is_empty(kept)]
    poly_sel = poly_mask & ~shapely.is_empty(kept)
    polys = kept[poly_sel]
    poly_names = tuple(names[i] for i in owner[poly_sel])
    skipped = int(len(geoms) - len(np.unique(owner[line_mask | poly_mask])))
    if not len(lines) and not len(polys):
        raise ReferenceFileError("no lines or polygons")
    return ReferenceLayer(style, lines, polys, poly_names, str(crs or "EPSG:4326"), skipped)


def _to_mercator(geoms: np.ndarray, crs: str | None) -> np.ndarray:
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    if not crs:
        b = shapely.total_bounds(geoms)
        if not (np.all(np.isfinite(b)) and b[0] >= -180 and b[2] <= 180 and b[1] >= -90
                and b[3] <= 90):
            raise ReferenceFileError("no coordinate system, and the coordinates are not lon/lat")
        crs = "EPSG:4326"
    try:
        source = CRS.from_user_input(crs)
    except CRSError as exc:
        raise ReferenceFileError(f"unknown coordinate system {crs!r}") from exc
    if source.equals(CRS.from_epsg(3857)):
        return geoms
    t = Transformer.from_crs(source, CRS.from_epsg(3857), always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(geoms, project)
    b = shapely.total_bounds(out)
    if not np.all(np.isfinite(b)):
        raise ReferenceFileError("coordinates outside the coordinate system's area")
    return out


def load_references(styles: list[ReferenceStyle] | tuple[ReferenceStyle, ...]
                    ) -> tuple[list[ReferenceLayer], list[tuple[ReferenceStyle, str]]]:
    """Every layer that loads, and (style, reason) for each that does not."""
    layers: list[ReferenceLayer] = []
    failed: list[tuple[ReferenceStyle, str]] = []
    for s in styles:
        try:
            layers.append(load_reference(s))
        except ReferenceFileError as exc:
            failed.append((s, str(exc)))
        except MemoryError:
            failed.append((s, "too large"))
    return layers, failed
