"""Fast exact point-in-polygon labelling of many points against a fixed polygon set.

``AreaIndex`` answers, for every point, the lowest index ``i`` such that
``shapely.covers(geoms[i], point)`` (boundary points count as inside), or -1.
It rasterises the polygons onto a regular lon/lat grid in which every cell is
either provably inside the same polygons everywhere (its answer is stored in the
cell) or an *edge* cell that some relevant boundary may cross. Points in the
former are labelled by one array lookup; only points in edge cells get an exact
shapely test, and only against the few polygons whose boundary touches that cell.

Construction, per polygon ``i``:

* its rings are densified to segments shorter than half a cell, so that each
  segment's bounding box (widened by a tiny margin, see ``_MARGIN``) spans at
  most 2 x 2 cells; marking those cells gives a conservative set ``edge_i`` of
  cells that ring *i*'s boundary may touch;
* the other cells of its bounding box are split into connected components
  (``scipy.ndimage.label``); no boundary of ``i`` reaches a component, so one
  exact test of one cell centre classifies the whole component as in or out.

Then ``base[c]`` = lowest ``i`` whose interior holds cell ``c`` entirely; cell
``c`` is an edge cell only if some ``j < base[c]`` has ``c`` in ``edge_j``, and
its candidates are exactly those ``j`` (ascending), falling back to ``base[c]``.
Boundaries of higher-index polygons inside a lower-index one therefore cost
nothing.

Coordinates are planar degrees, as in shapely. Geometries are normally
(Multi)Polygons, possibly with holes; other types work too (a point then matches
only on a line or point), and empty geometries or None never match. The index
prepares the geometries (``shapely.prepare``) it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

__all__ = ["AreaIndex"]

FORMAT_VERSION = 1
DEFAULT_CELLS = 2048
"""Cells on the long side of the extent: for ~300 villages about 3 % of points land
in edge cells, and the int32 grid stays at <= 16 MB."""

_PAD = 2  # empty cells around the extent, so every polygon sits strictly inside the grid
_MARGIN = 1e-6
"""Widening (in cells) of every boundary segment before marking cells: it covers
the rounding of densified vertices and of the cell arithmetic in ``locate`` (both
<= 1e-7 cell thanks to the minimum cell size), so a point can never be rounded
into a cell that the boundary actually reaches but which was not marked."""
_MIN_CELL_REL = 1e-8  # minimum cell size relative to the coordinate magnitude (see _MARGIN)
_BUILD_CELL_BUDGET = 64_000_000  # sum of per-polygon bbox cells labelled during build
_VERTEX_BUDGET = 8_000_000  # densified boundary vertices during build
_CHUNK = 1 << 18  # points per locate chunk: ~10 MB of temporaries, cache-friendlier than 1M
_NO = np.iinfo(np.int32).max  # "no polygon" while building ``base``
_COLLECTIONS = (4, 5, 6, 7)  # shapely type ids of Multi* and GeometryCollection
_POLYGON = 3

IntArray = NDArray[np.int32]


def _as_geom_array(geoms: Sequence[shapely.Geometry | None]) -> NDArray[np.object_]:
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)  # slice assignment keeps geometries as scalars, never as sequences
    return arr


class AreaIndex:
    """Raster-accelerated exact ``covers`` lookup; see the module docstring."""

    __slots__ = ("_edge_base", "_edge_cand", "_edge_ptr", "_geoms", "_grid", "_inv", "_nx",
                 "_ny", "_x0", "_y0")

    def __init__(self, geoms: NDArray[np.object_], grid: IntArray, origin: tuple[float, float],
                 inv_cell: float, edge_ptr: NDArray[np.int64], edge_cand: IntArray,
                 edge_base: IntArray) -> None:
        """Low-level constructor; use :meth:`build` or :meth:`from_arrays`."""
        self._geoms = geoms
        shapely.prepare(geoms)  # intersects_xy on prepared polygons is ~50 ns a point
        # GEOS builds a prepared polygon's point locator lazily on the first query inside
        # its envelope, which is not thread-safe; build them now so that later
        # concurrent ``locate`` calls only read.
        live = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        if live.size:
            b = shapely.bounds(live)
            shapely.intersects_xy(live, (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
        self._grid = np.ascontiguousarray(grid, dtype=np.int32)
        self._ny, self._nx = self._grid.shape
        self._x0, self._y0 = float(origin[0]), float(origin[1])
        self._inv = float(inv_cell)
        self._edge_ptr = np.ascontiguousarray(edge_ptr, dtype=np.int64)
        self._edge_cand = np.ascontiguousarray(edge_cand, dtype=np.int32)
        self._edge_base = np.ascontiguousarray(edge_base, dtype=np.int32)

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, geoms: Sequence[shapely.Geometry | None],
              cells: int | None = None) -> AreaIndex:
        """Index ``geoms``; ``cells`` = grid cells on the long side (default: automatic)."""
        garr = _as_geom_array(geoms)
        n = len(garr)
        if n >= np.iinfo(np.int32).max:
            raise ValueError("too many geometries")
        present = ~(shapely.is_missing(garr) | shapely.is_empty(garr))
        idx = np.flatnonzero(present)
        empty_edges = (np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32))
        if idx.size == 0:
            return cls(garr, np.full((1, 1), -1, np.int32), (0.0, 0.0), 1.0, *empty_edges)

        bounds = shapely.bounds(garr[idx])
        xmin, ymin = bounds[:, 0].min(), bounds[:, 1].min()
        xmax, ymax = bounds[:, 2].max(), bounds[:, 3].max()
        if not np.isfinite([xmin, ymin, xmax, ymax]).all():
            raise ValueError("geometries have non-finite coordinates")
        w, h = xmax - xmin, ymax - ymin
        span = max(w, h)
        if cells is None:
            cells = _auto_cells(garr[idx], bounds, span)
        if cells < 1:
            raise ValueError("cells must be >= 1")
        scale = max(1.0, abs(xmin), abs(xmax), abs(ymin), abs(ymax))
        size = max(span / cells, _MIN_CELL_REL * scale)
        nx = int(np.ceil(w / size)) + 1 + 2 * _PAD
        ny = int(np.ceil(h / size)) + 1 + 2 * _PAD
        x0, y0 = xmin - _PAD * size, ymin - _PAD * size
        inv = 1.0 / size

        # Edge cells of every polygon, as sorted unique keys poly * ncells + cell.
        keys = _edge_keys(garr, idx, size, x0, y0, inv, nx, ny)
        ncells = nx * ny
        kpoly = keys // ncells
        kcell = keys - kpoly * ncells
        starts = np.searchsorted(kpoly, np.arange(n + 1))

        base = np.full(ncells, _NO, dtype=np.int32)
        base2 = base.reshape(ny, nx)
        for i in idx:  # ascending, so the first polygon to claim a cell is the lowest
            cells_i = kcell[starts[i]:starts[i + 1]]
            if cells_i.size:
                _claim_interior(garr[i], int(i), cells_i, base2, nx, x0, y0, size)

        # An edge cell needs an exact test only against lower-index polygons than the
        # one (if any) that covers it entirely.
        keep = kpoly < base[kcell]
        ecell, epoly = kcell[keep], kpoly[keep].astype(np.int32)
        order = np.lexsort((epoly, ecell))  # by cell, then ascending polygon
        ecell, epoly = ecell[order], epoly[order]
        first = np.flatnonzero(np.diff(ecell, prepend=-1))
        uniq = ecell[first]
        edge_ptr = np.append(first, ecell.size).astype(np.int64)
        edge_base = base[uniq]
        edge_base[edge_base == _NO] = -1
        base[base == _NO] = -1
        base[uniq] = -2 - np.arange(uniq.size, dtype=np.int32)
        return cls(garr, base2, (x0, y0), inv, edge_ptr, epoly, edge_base)

    # ----------------------------------------------------------------- locate
    def locate(self, lon: ArrayLike, lat: ArrayLike) -> IntArray:
        """Index of the lowest polygon covering each point, -1 if none (or NaN/inf)."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        if x.shape != y.shape:
            raise ValueError(f"lon and lat shapes differ: {x.shape} vs {y.shape}")
        out = np.empty(x.shape, dtype=np.int32)
        xf, yf, of = x.reshape(-1), y.reshape(-1), out.reshape(-1)
        flat = self._grid.reshape(-1)
        edge_pts: list[NDArray[np.intp]] = []
        for s in range(0, xf.size, _CHUNK):
            e = min(s + _CHUNK, xf.size)
            lab = self._lookup(xf[s:e], yf[s:e], flat)
            of[s:e] = lab
            hit = np.flatnonzero(lab <= -2)
            if hit.size:
                edge_pts.append(hit + s)
        if edge_pts:
            pts = np.concatenate(edge_pts)
            of[pts] = self._exact(xf[pts], yf[pts], -2 - of[pts])
        return out

    def _lookup(self, x: NDArray[np.float64], y: NDArray[np.float64],
                flat: IntArray) -> IntArray:
        """Grid code of each point: polygon, -1, or -2 - edge row."""
        with np.errstate(over="ignore"):  # |x| near float max: inf is off-grid anyway
            fx = x - self._x0
            fx *= self._inv
            fy = y - self._y0
            fy *= self._inv
        # NaN fails every comparison, so NaN/inf land in ``outside`` with off-grid points.
        ok = fx >= 0
        ok &= fx < self._nx
        ok &= fy >= 0
        ok &= fy < self._ny
        np.copyto(fx, 0.0, where=~ok)  # keep the int cast below free of NaN/inf
        np.copyto(fy, 0.0, where=~ok)
        cell = fy.astype(np.intp)  # truncation == floor for the non-negative values left
        cell *= self._nx
        cell += fx.astype(np.intp)
        lab = flat.take(cell)
        lab[~ok] = -1
        return lab

    def _exact(self, x: NDArray[np.float64], y: NDArray[np.float64],
               rows: NDArray[np.int32]) -> IntArray:
        """Exact answers for points in edge cells ``rows`` (CSR rows of candidates)."""
        res = self._edge_base[rows]
        starts = self._edge_ptr[rows]
        counts = self._edge_ptr[rows + 1] - starts
        total = int(counts.sum())
        owner = np.repeat(np.arange(rows.size), counts)  # point of each (point, candidate)
        offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = self._edge_cand[starts[owner] + offset]
        order = np.argsort(cand, kind="stable")
        cand, owner = cand[order], owner[order]
        cut = np.flatnonzero(np.diff(cand)) + 1
        lo = np.concatenate(([0], cut))
        hi = np.concatenate((cut, [total]))
        # Highest candidate first: a later (lower-index) hit overwrites, so the lowest wins.
        for a, b in zip(lo[::-1], hi[::-1], strict=True):
            if a == b:
                continue
            p = owner[a:b]
            inside = shapely.intersects_xy(self._geoms[cand[a]], x[p], y[p])
            res[p[inside]] = cand[a]  # for a point, intersects == covers
        return res

    # ---------------------------------------------------------------- caching
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything but the geometries, for ``np.savez`` caching."""
        return {
            "meta": np.array([FORMAT_VERSION, len(self._geoms)], dtype=np.int64),
            "grid": self._grid,
            "origin": np.array([self._x0, self._y0], dtype=np.float64),
            "inv_cell": np.array([self._inv], dtype=np.float64),
            "edge_ptr": self._edge_ptr,
            "edge_cand": self._edge_cand,
            "edge_base": self._edge_base,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray],
                    geoms: Sequence[shapely.Geometry | None]) -> AreaIndex:
        """Rebuild from :meth:`to_arrays` output and the same geometries, in the same order."""
        version, count = (int(v) for v in arrays["meta"])
        if version != FORMAT_VERSION:
            raise ValueError(f"AreaIndex format {version}, expected {FORMAT_VERSION}")
        garr = _as_geom_array(geoms)
        if count != len(garr):
            raise ValueError(f"index was built for {count} geometries, got {len(garr)}")
        ox, oy = (float(v) for v in arrays["origin"])
        return cls(garr, np.asarray(arrays["grid"]), (ox, oy), float(arrays["inv_cell"][0]),
                   np.asarray(arrays["edge_ptr"]), np.asarray(arrays["edge_cand"]),
                   np.asarray(arrays["edge_base"]))

    # ------------------------------------------------------------- inspection
    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape (rows, columns)."""
        return self._ny, self._nx

    def edge_fraction(self, lon: ArrayLike, lat: ArrayLike) -> float:
        """Share of the given points that would need an exact test (diagnostics)."""
        x = np.asarray(lon, dtype=np.float64).reshape(-1)
        y = np.asarray(lat, dtype=np.float64).reshape(-1)
        if x.size == 0:
            return 0.0
        flat = self._grid.reshape(-1)
        n = sum(int((self._lookup(x[s:s + _CHUNK], y[s:s + _CHUNK], flat) <= -2).sum())
                for s in range(0, x.size, _CHUNK))
        return n / x.size


# ---------------------------------------------------------------------- helpers
def _auto_cells(geoms: NDArray[np.object_], bounds: NDArray[np.float64], span: float) -> int:
    """Long-side cell count: DEFAULT_CELLS unless build work would blow its budgets."""
    if span <= 0:
        return 1
    # Labelling touches each polygon's bbox, densifying each boundary; both grow with the
    # grid, and many large overlapping polygons make them big, so cap the grid there.
    bbox_frac = ((bounds[:, 2] - bounds[:, 0]) / span + 1.0 / DEFAULT_CELLS) * (
        (bounds[:, 3] - bounds[:, 1]) / span + 1.0 / DEFAULT_CELLS)
    by_area = np.sqrt(_BUILD_CELL_BUDGET / max(bbox_frac.sum(), 1e-12))
    perim = float(shapely.length(geoms).sum()) / span  # polygon perimeters, line lengths
    by_perim = _VERTEX_BUDGET / max(2.0 * perim, 1e-12)
    return int(max(64, min(DEFAULT_CELLS, by_area, by_perim)))


def _linework(garr: NDArray[np.object_], idx: NDArray[np.intp],
              ) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Rings of polygons, lines and points making up ``garr[idx]``, with their owner."""
    parts, owner = garr[idx], idx.astype(np.int64)
    while True:  # collections may nest
        multi = np.isin(shapely.get_type_id(parts), _COLLECTIONS)
        if not multi.any():
            break
        sub, of = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        owner = np.concatenate([owner[~multi], owner[multi][of]])
    poly = shapely.get_type_id(parts) == _POLYGON
    rings, of = shapely.get_rings(parts[poly], return_index=True)
    return (np.concatenate([parts[~poly], rings]),
            np.concatenate([owner[~poly], owner[poly][of]]))


def _edge_keys(garr: NDArray[np.object_], idx: NDArray[np.intp], size: float, x0: float,
               y0: float, inv: float, nx: int, ny: int) -> NDArray[np.int64]:
    """Sorted unique ``poly * nx * ny + cell`` for every cell a boundary may touch."""
    lines, owner = _linework(garr, idx)
    # Half a cell: each segment (plus margin) then spans at most 2 x 2 cells.
    lines = shapely.segmentize(lines, 0.5 * size)
    xy, vert_of = shapely.get_coordinates(lines, return_index=True)
    fx = (xy[:, 0] - x0) * inv  # identical arithmetic to AreaIndex._lookup
    fy = (xy[:, 1] - y0) * inv
    same = vert_of[:-1] == vert_of[1:]  # drop the bogus segment between two lines
    # A lone vertex (a Point part) is a zero-length segment.
    lone = np.bincount(vert_of, minlength=len(lines))[vert_of] == 1
    ax = np.concatenate([fx[:-1][same], fx[lone]])
    bx = np.concatenate([fx[1:][same], fx[lone]])
    ay = np.concatenate([fy[:-1][same], fy[lone]])
    by = np.concatenate([fy[1:][same], fy[lone]])
    seg_poly = owner[np.concatenate([vert_of[:-1][same], vert_of[lone]])]
    x_lo = np.floor(np.minimum(ax, bx) - _MARGIN).astype(np.int64)
    x_hi = np.floor(np.maximum(ax, bx) + _MARGIN).astype(np.int64)
    y_lo = np.floor(np.minimum(ay, by) - _MARGIN).astype(np.int64)
    y_hi = np.floor(np.maximum(ay, by) + _MARGIN).astype(np.int64)
    if ((x_hi - x_lo) > 1).any() or ((y_hi - y_lo) > 1).any():
        raise AssertionError("densified segment spans more than two cells")
    if x_lo.size and (x_lo.min() < 1 or y_lo.min() < 1 or x_hi.max() > nx - 2
                      or y_hi.max() > ny - 2):
        raise AssertionError("boundary too close to the grid border")
    head = seg_poly * (np.int64(nx) * ny)
    keys = np.concatenate([head + yy * nx + xx
                           for yy in (y_lo, y_hi) for xx in (x_lo, x_hi)])
    return _sorted_unique(keys)


def _sorted_unique(a: NDArray[np.int64]) -> NDArray[np.int64]:
    """``np.unique`` for int keys; numpy 2's hash-based unique is ~50x slower than sorting."""
    a = np.sort(a)
    keep = np.empty(a.size, dtype=bool)
    keep[:1] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _claim_interior(geom: shapely.Geometry, i: int, cells: NDArray[np.int64],
                    base: IntArray, nx: int, x0: float, y0: float, size: float) -> None:
    """Set ``base`` to ``i`` on still-unclaimed cells lying wholly inside ``geom``."""
    cy, cx = np.divmod(cells, nx)
    # Cells wholly inside ``geom`` are enclosed by its edge cells, so their bounding
    # window is enough; every component in it gets its own exact test anyway.
    r0, r1 = int(cy.min()), int(cy.max()) + 1
    c0, c1 = int(cx.min()), int(cx.max()) + 1
    edge = np.zeros((r1 - r0, c1 - c0), dtype=bool)
    edge[cy - r0, cx - c0] = True
    from scipy import ndimage  # only when an index is built (0.4 s to import)

    comp, ncomp = ndimage.label(~edge)
    if ncomp == 0:
        return
    # A representative cell per component: the first in its bbox's top row.
    rep_r = np.empty(ncomp, dtype=np.int64)
    rep_c = np.empty(ncomp, dtype=np.int64)
    for k, (sr, sc) in enumerate(ndimage.find_objects(comp)):
        rep_r[k] = sr.start
        rep_c[k] = sc.start + int(np.argmax(comp[sr.start, sc] == k + 1))
    # Cell centres are far from any boundary of ``geom``, so in/out is unambiguous.
    px = x0 + (rep_c + c0 + 0.5) * size
    py = y0 + (rep_r + r0 + 0.5) * size
    inside = np.zeros(ncomp + 1, dtype=bool)
    inside[1:] = shapely.intersects_xy(geom, px, py)
    if not inside.any():
        return
    win = base[r0:r1, c0:c1]
    claim = inside[comp]
    claim &= win == _NO
    win[claim] = i
