"""Case hotspots (案件高发区域): Getis-Ord Gi* on a grid and over areas, and emerging hot spots.

Definitions (these are the documentation of every figure below):

- **Gi\\*** (Getis & Ord 1992, the "star" form that counts a unit in its own
  neighbourhood): for a unit *i* with binary weights w_ij (1 for *i* itself and for
  its neighbours inside the study area, 0 otherwise), n units in the study area,
  mean x̄ and population standard deviation S of the values over the study area,
  W_i = Σ_j w_ij::

      z_i = (Σ_j w_ij x_j − x̄ W_i) / (S · sqrt((n W_i − W_i²) / (n − 1)))

  This equals ``esda.G_Local(y, w, star=True, transform='B').Zs``. When S = 0 or
  W_i = n the statistic is undefined and z is 0 (not significant).
- **Confidence classes** (two-sided): z ≥ 2.576 → +3 (hot, 99 %), ≥ 1.960 → +2 (95 %),
  ≥ 1.645 → +1 (90 %), the same negatives → −1..−3 (cold), otherwise 0. Counts per class
  are exclusive: a 99 % cell is not also counted under 95 %. No multiple-testing
  (FDR) correction is applied.
- **Minimum count for a hot spot**: a cell or area is called hot (+1..+3, and "hot" in a
  period of the emerging analysis) only when it holds at least ``MIN_HOT_COUNT`` (3)
  incidents itself; otherwise its class is 0. Gi* looks at the neighbourhood sum, so on a
  tiny window (one hour of a replay: a handful of incidents in a county) the empty cells
  around a single incident score z ≫ 2.58; a place with fewer than three incidents is
  never reported as a hot spot. Cold classes are unaffected (they are about absence).
- **Grid**: square cells in Web Mercator metres (the ``mx``/``my`` columns), never in
  degrees. The cell size is chosen in ground metres and converted to Mercator metres
  with 1 / cos(latitude of the extent's centre). By default the long side of the extent
  holds about 100 cells, the size rounded to the nearest "nice" value (…, 100, 150, 200,
  250, 300, 400, 500, 750, 1000, 1500 … m, at least 50 m), i.e. 82–122 cells (fewer for an
  extent under 5 km). An explicit ``cell_m`` is used as given. The extent
  is that of the area polygons (of the filtered areas, when the filter names areas with
  polygons), else that of the located incidents between the 0.5th and 99.5th percentiles
  (``quantile_disc``) of ``mx`` and of ``my`` (a few geocodes far away do not stretch it;
  incidents outside it are not counted). The origin is snapped to a multiple of
  the cell size, so the grid does not move with the window or the category filter.
- **Study area**: the grid cells whose centre lies in (or on the boundary of) one of the
  area polygons (the filtered areas and their children when an area filter is set), or
  the whole bounding rectangle when the extract has no polygons. Incidents in cells
  outside the study area are not counted, and such cells are nobody's neighbours. A cell
  is named after the finest-level area covering its centre (on a shared boundary, the
  one listed first in the extract).
- **Grid weights**: queen contiguity (the 8 surrounding cells) plus the cell itself.
- **Area weights**: queen contiguity between the polygons of one level (sharing a boundary
  or only a vertex; found with shapely on geometry buffered by 1e-7°, about 1 cm, so that
  producer round-off between neighbours does not break a contiguity) plus the area itself.
  The study set is the areas of that level with a polygon, inside the area filter when
  one is set (empty when the level is coarser than the filter); for the ``rate``
  measure (incidents per 10 000 residents) areas without a positive population are
  left out. Counts are ``Query.incidents_by_area`` (point in polygon, else the
  producer's area id, rolled up to the level).
- **Which level** (``area_hotspots`` without a level, as the report, the panel and the
  briefing call it): the finest level (grid → village → town → county) whose study set
  holds at least ``MIN_GI_AREAS`` (8) areas that each have at least one neighbour in the
  set ("enough": with fewer, or with islands only, Gi* compares a unit with almost the
  whole study area and its z means little). When no level has enough, nothing is
  computed: ``level`` is None and ``reason`` says why (``no_polygons``: the extract has
  no area polygons; ``too_few_areas``: no level has enough, ``candidates`` gives each
  level's number of areas with a neighbour).
- **Emerging hot spots** (adapted from ArcGIS "Emerging Hot Spot Analysis"): the window
  (``state.start`` .. ``state.end``, the end defaulting to, and never past, the as-of
  day) is cut into ``periods`` equal consecutive time spans ending at the end of the
  window (equal in time, so a boundary may fall inside a day); at least two periods.
  Without ``state.start`` the periods are the last ``periods`` 7-day weeks
  ending on the as-of (or end) day. Grid Gi* is computed per period on one fixed grid
  and study area. A cell is *hot* in a period when its z ≥ 1.645 (≥ 90 %). With
  k = ceil(0.9 · periods):

  * ``new``: hot in the last period and in no earlier period;
  * ``intensifying``: hot in the last period and in at least k periods, with a
    significant (p < 0.05) upward Mann–Kendall trend of its per-period z;
  * ``persistent``: hot in the last period and in at least k periods, no significant trend;
  * ``diminishing``: hot in the last period and in at least k periods, with a
    significant downward trend;
  * ``sporadic``: hot in the last period and on and off before (hot in 2 .. k − 1 periods);
  * ``none``: everything else (including cells not hot in the last period).
- **Mann–Kendall**: S = Σ_{i<j} sign(z_j − z_i); Var(S) = [n(n−1)(2n+5) −
  Σ_t t(t−1)(2t+5)] / 18 with the tie correction over groups of t equal values;
  Z = (S − sign S) / sqrt(Var S) (continuity correction), two-sided p = 2 Φ(−|Z|).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely

from .. import agg_counts
from ..areas import AreaSet
from ..coords import lonlat_to_mercator, mercator_to_lonlat
from ..extract import Extract
from ..filters import FilterState, window_span
from ..queries import Grouping, Query
from ..schema import AREA_LEVELS

# (|z| threshold, class) from the weakest to the strongest, two-sided confidence.
Z_LEVELS: tuple[tuple[float, int], ...] = ((1.645, 1), (1.960, 2), (2.576, 3))
CONFIDENCE: dict[int, float] = {1: 0.90, 2: 0.95, 3: 0.99}
NICE_STEPS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5)
MIN_CELL_M = 50.0
TARGET_CELLS = 100
MAX_CELLS = 4_000_000  # a cell size this small for the extent is a mistake, not a request
AREA_EPS_DEG = 1e-7
MIN_HOT_COUNT = 3
"""A unit with fewer incidents of its own is never hot (see the module docstring)."""
MIN_GI_AREAS = 8
"""Area Gi* needs this many areas with a neighbour at a level (see the module docstring)."""
EMERGING_CLASSES = ("none", "new", "intensifying", "persistent", "diminishing", "sporadic")
_EPOCH = datetime(1970, 1, 1)


# --------------------------------------------------------------------------- statistics
def classify(z: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Confidence class −3..3 of each z (NaN → 0). With ``counts``, a unit holding fewer
    than ``MIN_HOT_COUNT`` incidents is never hot (class 0 instead of +1..+3)."""
    z = np.asarray(z, dtype=np.float64)
    out = np.zeros(z.shape, dtype=np.int8)
    for threshold, c in Z_LEVELS:
        out[z >= threshold] = c
        out[z <= -threshold] = -c
    if counts is not None:
        out[(out > 0) & (np.asarray(counts) < MIN_HOT_COUNT)] = 0
    return out


def _gi_z(window_sum: np.ndarray, card: np.ndarray, n: int, mean: np.ndarray,
          std: np.ndarray) -> np.ndarray:
    """Analytical Gi* z from neighbourhood sums, cardinalities and the study moments."""
    if n < 2:
        return np.zeros(np.broadcast_shapes(window_sum.shape, card.shape))
    spread = np.sqrt(np.clip(card * (n - card), 0, None) / (n - 1))
    # equal values whose mean is off by round-off are still constant, not a hotspot
    std = np.where(std > 1e-12 * np.abs(mean), std, 0.0)
    den = std * spread
    num = window_sum - card * mean
    out = np.zeros(np.broadcast_shapes(num.shape, den.shape))
    np.divide(num, den, out=out, where=den > 0)
    return out


def _queen_sum(a: np.ndarray) -> np.ndarray:
    """Sum over each cell and its 8 neighbours (zeros beyond the edge) on the last two
    axes: binary queen weights plus self, without importing scipy.ndimage (0.3 s)."""
    pad = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(1, 1), (1, 1)])
    ny, nx = a.shape[-2:]
    out = np.zeros_like(pad[..., 1:-1, 1:-1])
    for dy in range(3):
        for dx in range(3):
            out += pad[..., dy:dy + ny, dx:dx + nx]
    return out


def gi_star_grid(counts: np.ndarray, study: np.ndarray) -> np.ndarray:
    """Gi* z of every cell of ``counts`` (…, ny, nx) over the ``study`` mask; NaN outside.

    Leading axes (periods) are independent: each slice has its own mean and deviation.
    """
    study = np.asarray(study, dtype=bool)
    y = np.where(study, counts, 0)
    window = _queen_sum(y)
    card = _queen_sum(study.astype(np.int64))
    n = int(study.sum())
    if n == 0:
        return np.full(y.shape, np.nan)
    axes = (-2, -1)
    mean = y.sum(axis=axes, keepdims=True) / n
    dev = np.where(study, y - mean, 0.0)
    std = np.sqrt((dev * dev).sum(axis=axes, keepdims=True) / n)
    z = _gi_z(window.astype(np.float64), card.astype(np.float64), n, mean, std)
    return np.where(study, z, np.nan)


def gi_star_edges(values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Gi* z for values on units with binary neighbours given as directed edges.

    ``left``/``right`` hold each neighbouring pair in both directions, once, with no
    self pairs (the self weight is added here). Plain numpy: scipy.sparse costs 0.3 s
    of start-up for what two bincounts do.
    """
    y = np.asarray(values, dtype=np.float64)
    n = len(y)
    if n == 0:
        return np.zeros(0)
    wy = y + np.bincount(left, weights=y[right], minlength=n)
    card = 1.0 + np.bincount(left, minlength=n)
    mean = y.mean()
    std = float(np.sqrt(((y - mean) ** 2).mean()))
    return _gi_z(wy, card, n, np.asarray(mean), np.asarray(std))


def mann_kendall(x: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann–Kendall S, Z and two-sided p along the last axis (tie-corrected variance)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    flat = x.reshape(-1, n)
    s = np.zeros(len(flat))
    ties = np.zeros(len(flat))
    iu, ju = np.triu_indices(n, k=1)
    for a in range(0, len(flat), chunk):  # chunks bound the (rows × n × n) temporaries
        b = flat[a:a + chunk]
        s[a:a + chunk] = np.sign(b[:, ju] - b[:, iu]).sum(axis=1)
        equal = (b[:, :, None] == b[:, None, :]).sum(axis=2)
        ties[a:a + chunk] = ((equal - 1) * (2 * equal + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    z = np.zeros(len(flat))
    np.divide(s - np.sign(s), np.sqrt(np.clip(var, 0, None)), out=z, where=var > 0)
    from scipy.special import ndtr  # here: 0.3 s of import the first frame does not need

    p = 2.0 * ndtr(-np.abs(z))
    shape = x.shape[:-1]
    return s.reshape(shape), z.reshape(shape), p.reshape(shape)


# --------------------------------------------------------------------------- the grid
def nice_cell_m(long_side_m: float) -> float:
    """The "nice" cell size nearest (in ratio) to a hundredth of the long side, ≥ 50 m."""
    target = max(long_side_m / TARGET_CELLS, MIN_CELL_M)
    decade = math.floor(math.log10(target))
    candidates = [s * 10.0 ** d for d in (decade - 1, decade, decade + 1) for s in NICE_STEPS]
    candidates = [c for c in candidates if c >= MIN_CELL_M]
    return min(candidates, key=lambda c: (abs(math.log(c / target)), c))


@dataclass(frozen=True, eq=False)
class Grid:
    """A regular grid in Web Mercator metres, row 0 south, and its study area."""

    x0: float
    """West edge (Mercator metres)."""
    y0: float
    """South edge (Mercator metres)."""
    cell: float
    """Cell size in Mercator metres."""
    cell_m: float
    """Cell size in ground metres at the extent's centre latitude."""
    nx: int
    ny: int
    study: np.ndarray = field(repr=False)
    """(ny, nx) bool: cells whose centre lies in the area polygons."""
    cell_area: np.ndarray = field(repr=False)
    """(ny, nx) finest area index containing each cell centre, -1 for none."""
    tiles: tuple[int, int, int] | None = None
    """(zoom, x of the west column, y of the north row) when the cells are the
    Web-Mercator tiles of an extract read in place: their counts come from its tiles."""

    @property
    def n_study(self) -> int:
        return int(self.study.sum())

    def centre_lonlat(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 centres of cells given by flat index (row * nx + col)."""
        iy, ix = np.divmod(np.asarray(flat, dtype=np.int64), max(self.nx, 1))
        return mercator_to_lonlat(self.x0 + (ix + 0.5) * self.cell,
                                  self.y0 + (iy + 0.5) * self.cell)


def grid_for(q: Query, state: FilterState, cell_m: float | None = None) -> Grid:
    """The grid and study area for ``state``'s area filter (cached per extract)."""
    if cell_m is not None and not (cell_m > 0 and math.isfinite(cell_m)):
        raise ValueError(f"cell_m must be a positive number, not {cell_m!r}")
    # A province read in place with many incidents under the filter: the cells are its
    # Web-Mercator tiles (``agg_counts.grid_on_tiles``).
    tiles = cell_m is None and agg_counts.grid_on_tiles(q, state)
    key = (tuple(sorted(state.areas)), None if cell_m is None else float(cell_m), tiles)
    return q.extract.memo(("hotspot_grid", key), lambda: _build_grid(q, key[0], key[1], tiles))


def _study_areas(areas: AreaSet, roots: tuple[str, ...]) -> np.ndarray:
    """Indices of the areas with a polygon that make up the study area."""
    everything = np.asarray([i for i, g in enumerate(areas.geoms) if g is not None], np.int64)
    if not roots:
        return everything
    chosen = np.asarray([i for i in areas.resolve(roots) if areas.geoms[i] is not None],
                        np.int64)
    return chosen if len(chosen) else everything  # areas without polygons: the whole county


def _build_grid(q: Query, roots: tuple[str, ...], cell_m: float | None,
                tiles_wanted: bool = False) -> Grid:
    areas = q.extract.areas
    members = _study_areas(areas, roots)
    geoms = [areas.geoms[i] for i in members]
    if geoms:
        b = shapely.total_bounds(np.asarray(geoms, dtype=object))
        (mx0, mx1), (my0, my1) = lonlat_to_mercator(b[[0, 2]], b[[1, 3]])
        lat_c = (b[1] + b[3]) / 2.0
    else:
        # the bulk of the points, as data/home_extent.py: a few geocodes far outside the
        # city would otherwise make the grid so coarse that the city is a few cells
        rows = q.con.execute(
            "SELECT quantile_disc(mx, 0.005), quantile_disc(mx, 0.995), "
            "quantile_disc(my, 0.005), quantile_disc(my, 0.995) FROM incidents "
            "WHERE mx IS NOT NULL AND my IS NOT NULL").fetchall()
        if not rows or rows[0][0] is None:
            empty = np.zeros((0, 0), dtype=bool)
            return Grid(0.0, 0.0, 1.0, cell_m or MIN_CELL_M, 0, 0, empty,
                        np.zeros((0, 0), dtype=np.int32))
        mx0, mx1, my0, my1 = (float(v) for v in rows[0])
        lat_c = float(np.mean(mercator_to_lonlat(np.zeros(2), np.array([my0, my1]))[1]))
    scale = math.cos(math.radians(lat_c))
    size_m = cell_m or nice_cell_m(max(mx1 - mx0, my1 - my0) * scale)
    cell = size_m / scale
    x0 = math.floor(mx0 / cell) * cell
    y0 = math.floor(my0 / cell) * cell
    nx = math.floor((mx1 - x0) / cell) + 1
    ny = math.floor((my1 - y0) / cell) + 1
    tiles = None
    zooms = q.grid_zooms() if cell_m is None and tiles_wanted else ()
    if zooms:  # read in place: the tiles nearest the nice size are the cells
        z = min(zooms, key=lambda k: abs(math.log(agg_counts.cell_m(k) * scale / size_m)))
        cell = agg_counts.cell_m(z)
        size_m = cell * scale
        h = agg_counts.HALF
        tx0, tx1 = math.floor((mx0 + h) / cell), math.floor((mx1 + h) / cell)
        ty0, ty1 = math.floor((h - my1) / cell), math.floor((h - my0) / cell)
        nx, ny = tx1 - tx0 + 1, ty1 - ty0 + 1
        x0, y0 = tx0 * cell - h, h - (ty1 + 1) * cell
        tiles = (z, tx0, ty0)
    if nx * ny > MAX_CELLS:
        raise ValueError(f"{size_m} m cells give {nx} x {ny} cells for this extent; too many")
    iy, ix = np.divmod(np.arange(nx * ny), nx)
    lon, lat = mercator_to_lonlat(x0 + (ix + 0.5) * cell, y0 + (iy + 0.5) * cell)
    cell_area = np.full(nx * ny, -1, dtype=np.int32)
    if geoms:
        pt, hit = shapely.STRtree(geoms).query(shapely.points(lon, lat), predicate="intersects")
        study = np.zeros(nx * ny, dtype=bool)
        study[pt] = True
        # The finest covering area names the cell; on a shared boundary the lowest index wins.
        finest = areas.finest_level
        fine = np.asarray([areas.levels[i] == finest for i in members])[hit]
        best = np.full(nx * ny, np.iinfo(np.int32).max, dtype=np.int64)
        np.minimum.at(best, pt[fine], members[hit[fine]])
        named = best < np.iinfo(np.int32).max
        cell_area[named] = best[named]
    else:
        study = np.ones(nx * ny, dtype=bool)
    return Grid(float(x0), float(y0), float(cell), float(size_m), nx, ny,
                study.reshape(ny, nx), cell_area.reshape(ny, nx), tiles)


def _cell_sql(grid: Grid) -> tuple[str, str, dict[str, Any]]:
    """(cell key expression, range condition, params) over the incidents' mx/my."""
    key = ("(least(CAST(floor((mx - $h_x0) / $h_cell) AS INTEGER), $h_nx - 1) + $h_nx * "
           "least(CAST(floor((my - $h_y0) / $h_cell) AS INTEGER), $h_ny - 1))")
    cond = "mx >= $h_x0 AND mx < $h_x1 AND my >= $h_y0 AND my < $h_y1"
    params = {"h_x0": grid.x0, "h_y0": grid.y0, "h_cell": grid.cell, "h_nx": grid.nx,
              "h_ny": grid.ny, "h_x1": grid.x0 + grid.nx * grid.cell,
              "h_y1": grid.y0 + grid.ny * grid.cell}
    return key, cond, params


def grid_cells(q: Query, state: FilterState, grid: Grid) -> Grouping:
    """The incidents in the grid's rectangle keyed by flat cell index (``row * nx + col``);
    a cell's count is its member count (cells outside the study area are not counted)."""
    if grid.tiles is not None and q.aggregates(state) and not state.areas and \
            agg_counts.cell_source(state):
        # counted from tiles: a row is in the cell of its tile (from its lon/lat)
        key, cond, params = agg_counts.tile_cell_key(*grid.tiles, grid.nx, grid.ny)
        return Grouping(q.incidents(state).and_(cond, **params), key)
    key, cond, params = _cell_sql(grid)
    return Grouping(q.incidents(state).and_(cond, **params), f"{key}::INTEGER")


def _grid_counts(q: Query, state: FilterState, grid: Grid) -> np.ndarray:
    if grid.nx * grid.ny == 0:
        return np.zeros((grid.ny, grid.nx), dtype=np.int64)
    if grid.tiles is not None and q.aggregates(state) and (
            counts := agg_counts.tile_counts(q, state, *grid.tiles, grid.nx, grid.ny)
    ) is not None:
        return np.where(grid.study, counts, 0)
    g = grid_cells(q, state, grid)
    # DuckDB filters and computes each row's cell; numpy counts (as Query.density_grid).
    res = q.con.execute(g.keys_sql(), g.selection.params).fetchnumpy()
    counts = np.bincount(np.asarray(res["k"], dtype=np.int64), minlength=grid.nx * grid.ny)
    return np.where(grid.study, counts.reshape(grid.ny, grid.nx), 0)


def _conf(c: int) -> float:
    return CONFIDENCE[abs(int(c))]


def _class_counts(cls: np.ndarray) -> tuple[dict[str, int], dict[str, int]]:
    names = {3: "99", 2: "95", 1: "90"}
    return ({names[c]: int((cls == c).sum()) for c in (3, 2, 1)},
            {names[c]: int((cls == -c).sum()) for c in (3, 2, 1)})


def _area_ref(areas: AreaSet, idx: int) -> tuple[str | None, str | None]:
    return (areas.ids[idx], areas.names[idx]) if idx >= 0 else (None, None)


def _cell_rows(grid: Grid, areas: AreaSet, flat: np.ndarray, counts: np.ndarray,
               z: np.ndarray, cls: np.ndarray | None) -> list[dict[str, Any]]:
    lon, lat = grid.centre_lonlat(flat)
    out = []
    for k, f in enumerate(flat.tolist()):
        area_id, name = _area_ref(areas, int(grid.cell_area.flat[f]))
        row: dict[str, Any] = {"lon": round(float(lon[k]), 6), "lat": round(float(lat[k]), 6),
                               "count": int(counts.flat[f]), "z": round(float(z.flat[f]), 3)}
        if cls is not None:
            row["confidence"] = _conf(cls.flat[f])
        out.append(row | {"area_id": area_id, "name": name})
    return out


def _top(z: np.ndarray, chosen: np.ndarray, limit: int | None) -> np.ndarray:
    """Flat indices of the chosen cells by z descending, ties by position."""
    flat = np.flatnonzero(chosen)
    order = np.lexsort((flat, -z.ravel()[flat]))
    return flat[order][:limit]


# --------------------------------------------------------------------------- grid hotspots
@dataclass(frozen=True, eq=False)
class GridHotspots:
    """Gi* on a regular grid. Arrays are (ny, nx), row 0 south."""

    grid: Grid
    counts: np.ndarray = field(repr=False)
    """Incidents per cell (0 outside the study area)."""
    z: np.ndarray = field(repr=False)
    """Gi* z-score (NaN outside the study area)."""
    cls: np.ndarray = field(repr=False)
    """Confidence class −3..3 (0 outside the study area)."""
    areas: AreaSet = field(repr=False)

    @property
    def x0(self) -> float:
        return self.grid.x0

    @property
    def y0(self) -> float:
        return self.grid.y0

    @property
    def cell(self) -> float:
        return self.grid.cell

    @property
    def cell_m(self) -> float:
        return self.grid.cell_m

    @property
    def nx(self) -> int:
        return self.grid.nx

    @property
    def ny(self) -> int:
        return self.grid.ny

    @property
    def study(self) -> np.ndarray:
        return self.grid.study

    def to_json(self, limit: int = 20) -> dict[str, Any]:
        hot, cold = _class_counts(self.cls)
        top = _top(self.z, self.cls > 0, limit)
        return {"cell_m": float(self.grid.cell_m), "cells": self.grid.n_study,
                "incidents": int(self.counts.sum()), "hot": hot, "cold": cold,
                "top": _cell_rows(self.grid, self.areas, top, self.counts, self.z, self.cls)}


def grid_hotspots(q: Query, state: FilterState, cell_m: float | None = None) -> GridHotspots:
    """Getis-Ord Gi* of incident counts on a regular grid (see the module docstring)."""
    grid = grid_for(q, state, cell_m)
    counts = _grid_counts(q, state, grid)
    z = gi_star_grid(counts, grid.study)
    return GridHotspots(grid, counts, z, classify(z, counts), q.extract.areas)


# --------------------------------------------------------------------------- area hotspots
def area_neighbours(ex: Extract, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area indices of ``level`` with a polygon, queen neighbour edges among them), cached.

    Edges are positions in the first array, every pair in both directions, once.
    """
    return ex.memo(("hotspot_area_w", level), lambda: _area_neighbours(ex, level))


def _area_neighbours(ex: Extract, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    areas = ex.areas
    members = np.asarray([i for i in areas.at_level(level) if areas.geoms[i] is not None],
                         dtype=np.int64)
    m = len(members)
    if m:
        geoms = np.asarray([areas.geoms[i] for i in members], dtype=object)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(shapely.buffer(geoms, AREA_EPS_DEG), predicate="intersects")
        keep = left != right
        pairs = np.concatenate([np.column_stack([left[keep], right[keep]]),
                                np.column_stack([right[keep], left[keep]])])
        pairs = np.unique(pairs, axis=0) if len(pairs) else np.zeros((0, 2), np.int64)
        edges = (pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64))
    else:
        edges = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    return (members, *edges)


@dataclass(frozen=True, eq=False)
class AreaHotspots:
    """Gi* over the areas of one level; arrays are aligned with ``area_idx``."""

    level: str | None
    """None: no level had enough areas (``reason`` says why; the arrays are empty)."""
    measure: str
    area_idx: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    values: np.ndarray = field(repr=False)
    """The analysed value: the count, or incidents per 10 000 residents."""
    z: np.ndarray = field(repr=False)
    cls: np.ndarray = field(repr=False)
    areas: AreaSet = field(repr=False)
    candidates: dict[str, int] = field(default_factory=dict)
    """Per level looked at, finest first: its areas with a neighbour in the study set."""
    reason: str | None = None
    """Why nothing was computed: ``no_polygons`` or ``too_few_areas`` (None: computed)."""

    def _rows(self, chosen: np.ndarray, sign: int, limit: int | None) -> list[dict[str, Any]]:
        pos = np.flatnonzero(chosen)
        ids = [self.areas.ids[self.area_idx[i]] for i in pos]
        order = sorted(range(len(pos)), key=lambda k: (-sign * self.z[pos[k]], ids[k]))[:limit]
        out = []
        for k in order:
            i, a = pos[k], int(self.area_idx[pos[k]])
            row: dict[str, Any] = {"area_id": self.areas.ids[a], "name": self.areas.names[a],
                                   "count": int(self.counts[i]), "z": round(float(self.z[i]), 3),
                                   "confidence": _conf(self.cls[i])}
            if self.measure == "rate":
                row["rate_per_10k"] = round(float(self.values[i]), 4)
            out.append(row)
        return out

    def to_json(self, limit: int | None = None) -> dict[str, Any]:
        hot, cold = _class_counts(self.cls)
        return {"level": self.level, "measure": self.measure, "areas": len(self.area_idx),
                "hot": hot, "cold": cold,
                "hot_areas": self._rows(self.cls > 0, 1, limit),
                "cold_areas": self._rows(self.cls < 0, -1, limit),
                "min_areas": MIN_GI_AREAS, "min_hot_count": MIN_HOT_COUNT,
                "candidates": dict(self.candidates), "reason": self.reason}


@dataclass(frozen=True, eq=False)
class _Study:
    """The study set of one level: positions in ``area_neighbours``' members kept, and
    the neighbour edges among them (positions in the kept set)."""

    members: np.ndarray
    sel: np.ndarray
    left: np.ndarray
    right: np.ndarray

    @property
    def with_neighbour(self) -> int:
        return len(np.unique(self.left))


def _study(q: Query, state: FilterState, level: str, measure: str) -> _Study:
    areas = q.extract.areas
    members, left, right = area_neighbours(q.extract, level)
    keep = np.ones(len(members), dtype=bool)
    if state.areas:
        keep &= np.isin(members, areas.resolve(sorted(state.areas)))
    if measure == "rate":
        pop = np.asarray(areas.population, dtype=np.float64)[members]
        keep &= np.isfinite(pop) & (pop > 0)
    sel = np.flatnonzero(keep)
    pos = np.full(len(members), -1, np.int64)
    pos[sel] = np.arange(len(sel))
    inside = (pos[left] >= 0) & (pos[right] >= 0)
    return _Study(members, sel, pos[left[inside]], pos[right[inside]])


def choose_area_level(q: Query, state: FilterState, measure: str = "count"
                      ) -> tuple[str | None, dict[str, int], str | None]:
    """(level, candidates, reason): the finest level with at least ``MIN_GI_AREAS`` areas
    that have a neighbour in the study set (see the module docstring)."""
    present = {lv for lv, g in zip(q.extract.areas.levels, q.extract.areas.geoms, strict=True)
               if g is not None}
    candidates: dict[str, int] = {}
    for level in reversed(AREA_LEVELS):
        if level not in present:
            continue
        candidates[level] = _study(q, state, level, measure).with_neighbour
        if candidates[level] >= MIN_GI_AREAS:
            return level, candidates, None
    return None, candidates, "too_few_areas" if present else "no_polygons"


def area_hotspots(q: Query, state: FilterState, level: str | None = None,
                  measure: str = "count") -> AreaHotspots:
    """Getis-Ord Gi* of incident counts (or rates per 10 000) over one area level; without
    ``level``, the finest level with enough areas (``choose_area_level``)."""
    if measure not in ("count", "rate"):
        raise ValueError(f"measure must be 'count' or 'rate', not {measure!r}")
    areas = q.extract.areas
    reason, candidates = None, None
    if level is None:
        level, candidates, reason = choose_area_level(q, state, measure)
        if level is None:
            empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
            return AreaHotspots(None, measure, empty_i, empty_i, empty_f, empty_f,
                                np.zeros(0, np.int8), areas, candidates, reason)
    st = _study(q, state, level, measure)
    members, sel = st.members, st.sel
    if candidates is None:
        candidates = {level: st.with_neighbour}
    pop = np.asarray(areas.population, dtype=np.float64)[members]
    idx, n = q.incidents_by_area(state, level)
    per_area = np.zeros(len(areas), dtype=np.int64)
    per_area[idx] = n
    counts = per_area[members[sel]]
    values = counts / pop[sel] * 1e4 if measure == "rate" else counts.astype(np.float64)
    z = gi_star_edges(values, st.left, st.right)
    return AreaHotspots(level, measure, members[sel], counts, values, z, classify(z, counts),
                        areas, candidates, reason)


# --------------------------------------------------------------------------- emerging
@dataclass(frozen=True, eq=False)
class EmergingHotspots:
    """Emerging hot spot classes on one grid; per-period arrays are (periods, ny, nx)."""

    grid: Grid
    starts: tuple[datetime, ...]
    """Start of each period (inclusive)."""
    stop: datetime
    """End of the last period (exclusive)."""
    counts: np.ndarray = field(repr=False)
    z: np.ndarray = field(repr=False)
    hot_periods: np.ndarray = field(repr=False)
    """(ny, nx) number of periods in which the cell was hot (≥ 90 %)."""
    trend_z: np.ndarray = field(repr=False)
    """(ny, nx) Mann–Kendall Z of the per-period z (NaN outside the study area)."""
    trend_p: np.ndarray = field(repr=False)
    cls: np.ndarray = field(repr=False)
    """(ny, nx) index into ``EMERGING_CLASSES``."""
    areas: AreaSet = field(repr=False)

    @property
    def periods(self) -> int:
        return len(self.starts)

    def class_counts(self) -> dict[str, int]:
        inside = self.cls[self.grid.study]
        return {name: int((inside == k).sum()) for k, name in enumerate(EMERGING_CLASSES)}

    def to_json(self, limit: int = 10) -> dict[str, Any]:
        ends = (*self.starts[1:], self.stop)
        out: dict[str, Any] = {
            "cell_m": float(self.grid.cell_m), "cells": self.grid.n_study,
            "periods": [{"start": a.isoformat(), "end": b.isoformat()}
                        for a, b in zip(self.starts, ends, strict=True)],
            "counts": self.class_counts(), "top": {}}
        if self.periods == 0:
            return out
        last_z, last_n = self.z[-1], self.counts[-1]
        for k, name in enumerate(EMERGING_CLASSES[1:], start=1):
            top = _top(last_z, self.cls == k, limit)
            out["top"][name] = _cell_rows(self.grid, self.areas, top, last_n, last_z, None)
        return out


def _period_bounds(q: Query, state: FilterState, periods: int) -> tuple[datetime, datetime]:
    start, stop = window_span(state, q.as_of(state))
    t0 = stop - timedelta(days=7 * periods) if start is None else start
    return t0, max(stop, t0)


def _us(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1)


def emerging_hotspots(q: Query, state: FilterState, periods: int = 8,
                      cell_m: float | None = None) -> EmergingHotspots:
    """Emerging hot spot analysis over ``periods`` equal periods (see the module docstring)."""
    if periods < 2:
        raise ValueError("emerging hot spots need at least two periods")
    grid = grid_for(q, state, cell_m)
    t0, stop = _period_bounds(q, state, periods)
    span = _us(stop) - _us(t0)
    ncell = grid.nx * grid.ny
    shape = (periods, grid.ny, grid.nx)
    counts = np.zeros(shape, dtype=np.int64)
    if span > 0 and ncell > 0:
        p = q.where(state, "incidents")
        key, cond, params = _cell_sql(grid)
        res = q.con.execute(
            f"""SELECT ({key} + $h_ncell * ((epoch_us(reported_at) - $h_t0) * $h_np
                        // $h_span))::INTEGER AS k
                FROM incidents
                WHERE {p.sql} AND {cond} AND reported_at >= $h_start AND reported_at < $h_stop""",
            {**p.params, **params, "h_ncell": ncell, "h_t0": _us(t0), "h_np": periods,
             "h_span": span, "h_start": t0, "h_stop": stop}).fetchnumpy()
        keys = np.asarray(res["k"], dtype=np.int64)
        counts = np.bincount(keys, minlength=periods * ncell).reshape(shape)
        counts = np.where(grid.study, counts, 0)
    # Period k starts at the first microsecond t with (t - t0) * periods >= k * span.
    starts = tuple(t0 + timedelta(microseconds=-(-k * span // periods)) for k in range(periods))
    z = gi_star_grid(counts, grid.study)
    hot = (z >= Z_LEVELS[0][0]) & (counts >= MIN_HOT_COUNT)
    n_hot = hot.sum(axis=0)
    last = hot[-1]
    need = -(-9 * periods // 10)  # ceil(0.9 * periods) without float round-off
    often = last & (n_hot >= need)
    trend_z = np.full(grid.study.shape, np.nan)
    trend_p = np.full(grid.study.shape, np.nan)
    if grid.n_study:
        _, mk_z, mk_p = mann_kendall(np.moveaxis(z, 0, -1)[grid.study])
        trend_z[grid.study], trend_p[grid.study] = mk_z, mk_p
    significant = trend_p < 0.05  # NaN compares False
    cls = np.zeros(grid.study.shape, dtype=np.int8)
    cls[last & ~often & (n_hot >= 2)] = EMERGING_CLASSES.index("sporadic")
    cls[last & (n_hot == 1)] = EMERGING_CLASSES.index("new")
    cls[often & ~significant] = EMERGING_CLASSES.index("persistent")
    cls[often & significant & (trend_z > 0)] = EMERGING_CLASSES.index("intensifying")
    cls[often & significant & (trend_z < 0)] = EMERGING_CLASSES.index("diminishing")
    return EmergingHotspots(grid, starts, stop, counts, z, n_hot.astype(np.int64), trend_z,
                            trend_p, cls, q.extract.areas)
