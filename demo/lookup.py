"""Which village a point lies in, fast enough for ten million points.

A 0.001° raster holds the village of every cell that lies wholly inside one
village; only points in border cells (a few percent) are tested exactly. The
samplers below return WGS84 points already rounded to six decimals, and the
village is looked up after rounding, so area_id always matches the written
coordinates.
"""

from __future__ import annotations

import numpy as np
import shapely

from .common import m_to_deg, round6

CELL_DEG = 0.001
_BORDER = -2


class VillageIndex:
    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms
        shapely.prepare(geoms)
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        self.x0, self.y0 = np.floor(x0 / CELL_DEG) * CELL_DEG, np.floor(y0 / CELL_DEG) * CELL_DEG
        self.nx = int(np.ceil((x1 - self.x0) / CELL_DEG)) + 1
        self.ny = int(np.ceil((y1 - self.y0) / CELL_DEG)) + 1
        self.grid = np.full((self.ny, self.nx), _BORDER, dtype=np.int32)
        for i, g in enumerate(geoms):
            gx0, gy0, gx1, gy1 = shapely.bounds(g)
            ix = np.arange(int((gx0 - self.x0) / CELL_DEG), int((gx1 - self.x0) / CELL_DEG) + 1)
            iy = np.arange(int((gy0 - self.y0) / CELL_DEG), int((gy1 - self.y0) / CELL_DEG) + 1)
            gx, gy = np.meshgrid(ix, iy)
            bx, by = self.x0 + gx.ravel() * CELL_DEG, self.y0 + gy.ravel() * CELL_DEG
            inside = shapely.contains_properly(g, shapely.box(bx, by, bx + CELL_DEG, by + CELL_DEG))
            self.grid[gy.ravel()[inside], gx.ravel()[inside]] = i
        self.tree = shapely.STRtree(geoms)

    def lookup(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Village index per point; -1 outside every village (or not finite)."""
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        out = np.full(lon.shape, -1, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            ix = np.floor((lon - self.x0) / CELL_DEG)
            iy = np.floor((lat - self.y0) / CELL_DEG)
            ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out[ok] = self.grid[iy[ok].astype(np.int64), ix[ok].astype(np.int64)]
        border = np.flatnonzero(out == _BORDER)
        if len(border):
            hit = np.full(len(border), -1, dtype=np.int64)
            src, idx = self.tree.query(shapely.points(lon[border], lat[border]),
                                       predicate="within")
            hit[src] = idx
            out[border] = hit
        return out


def sample_in_villages(rng: np.random.Generator, index: VillageIndex, village: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """A uniform point inside the given village, per row (rejection sampling per village)."""
    village = np.asarray(village, dtype=np.int64)
    lon = np.empty(len(village))
    lat = np.empty(len(village))
    order = np.argsort(village, kind="stable")
    counts = np.bincount(village, minlength=len(index.geoms))
    start = 0
    for v in np.flatnonzero(counts):
        n = int(counts[v])
        rows = order[start:start + n]
        start += n
        g = index.geoms[v]
        x0, y0, x1, y1 = shapely.bounds(g)
        fill = max(shapely.area(g) / ((x1 - x0) * (y1 - y0)), 0.05)
        got_x: list[np.ndarray] = []
        got_y: list[np.ndarray] = []
        have = 0
        while have < n:
            m = int((n - have) / fill * 1.3) + 8
            cx, cy = round6(rng.uniform(x0, x1, m)), round6(rng.uniform(y0, y1, m))
            inside = shapely.contains_xy(g, cx, cy)
            got_x.append(cx[inside])
            got_y.append(cy[inside])
            have += int(inside.sum())
        lon[rows] = np.concatenate(got_x)[:n]
        lat[rows] = np.concatenate(got_y)[:n]
    return lon, lat


def sample_near(rng: np.random.Generator, index: VillageIndex, cx: np.ndarray, cy: np.ndarray,
                sigma: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian scatter (metres) around centres given in metres; redrawn until in the county."""
    cx, cy = np.asarray(cx, dtype=np.float64), np.asarray(cy, dtype=np.float64)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), cx.shape)
    lon = np.empty(len(cx))
    lat = np.empty(len(cx))
    vil = np.full(len(cx), -1, dtype=np.int64)
    todo = np.arange(len(cx))
    for attempt in range(30):
        if not len(todo):
            break
        s = sigma[todo] if attempt < 20 else sigma[todo] * 0.1  # centres sit inside anyway
        x, y = m_to_deg(cx[todo] + rng.normal(0, 1, len(todo)) * s,
                        cy[todo] + rng.normal(0, 1, len(todo)) * s)
        x, y = round6(x), round6(y)
        v = index.lookup(x, y)
        ok = v >= 0
        lon[todo[ok]], lat[todo[ok]], vil[todo[ok]] = x[ok], y[ok], v[ok]
        todo = todo[~ok]
    if len(todo):  # a centre on the very border: fall back to the nearest village interior
        lon[todo], lat[todo] = round6(np.asarray(m_to_deg(cx[todo], cy[todo])))
        x, y = lon[todo], lat[todo]
        near = index.tree.nearest(shapely.points(x, y))
        vil[todo] = near
        p = shapely.get_coordinates(shapely.point_on_surface(index.geoms[near]))
        lon[todo], lat[todo] = round6(p[:, 0]), round6(p[:, 1])
    return lon, lat, vil
