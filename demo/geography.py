"""The fictional county: outline, towns, villages, a river, a reservoir, roads, hotspots.

Built in a local metre grid (so that spacing and buffers read in metres), then
converted to WGS84 degrees and snapped to a 1e-7° grid so that neighbouring
villages share exactly the same vertices and their unions are clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import Delaunay

from . import names
from .common import REGION, geom_m_to_deg
from .lookup import VillageIndex

N_TOWNS = 15
N_VILLAGES = 300
N_SEAT_COMMUNITIES = 12
GRID_DEG = 1e-7  # ~1 cm: shared village edges snap to identical vertices


@dataclass
class County:
    county_geom: shapely.Geometry  # degrees
    town_ids: list[str]
    town_names: list[str]
    town_geoms: np.ndarray
    town_pop: np.ndarray
    town_centre_m: np.ndarray  # (n_towns, 2) metres
    village_ids: list[str]
    village_names: list[str]
    village_geoms: np.ndarray  # degrees, Polygon or MultiPolygon
    village_town: np.ndarray
    village_pop: np.ndarray
    village_urban: np.ndarray
    river_name: str
    reservoir_name: str
    water_m: np.ndarray  # (n, 2) river bank and reservoir shore points, metres
    water_is_reservoir: np.ndarray
    road_names: list[str]
    road_m: np.ndarray  # (n, 2) points every ~25 m along the roads, metres
    road_of_point: np.ndarray
    road_chain_m: np.ndarray  # stake number (桩号) of each road point, metres
    road_weight: np.ndarray  # per road: traffic per metre
    hotspot_m: np.ndarray  # (n, 2) centres, metres
    hotspot_sigma: np.ndarray
    hotspot_weight: np.ndarray
    market_m: np.ndarray  # (n_towns, 2)
    index: VillageIndex
    name: str = REGION
    """The county's name, as addresses spell it."""
    county_id: str = "C01"

    @property
    def village_display(self) -> list[str]:
        """Town + village, as addresses spell them."""
        return [self.town_names[t] + v
                for t, v in zip(self.village_town, self.village_names, strict=True)]


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    """A star-shaped blob ~60 x 50 km: a few broad lobes plus a ragged border."""
    theta = np.linspace(0.0, 2 * np.pi, 260, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 8):
        r += rng.uniform(0.02, 0.06) / np.sqrt(k - 1) * np.cos(k * theta + rng.uniform(0, 6.3))
    for k in range(8, 40):
        r += rng.uniform(0.0, 0.012) * np.cos(k * theta + rng.uniform(0, 6.3))
    r = np.clip(r, 0.6, None)
    return shapely.Polygon(np.column_stack((29_000 * r * np.cos(theta),
                                            24_000 * r * np.sin(theta))))


def _uniform_in(rng: np.random.Generator, region: shapely.Geometry, n: int) -> np.ndarray:
    x0, y0, x1, y1 = region.bounds
    shapely.prepare(region)
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        pts = np.column_stack((rng.uniform(x0, x1, 2 * n), rng.uniform(y0, y1, 2 * n)))
        pts = pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])]
        out.append(pts)
        got += len(pts)
    return np.concatenate(out)[:n]


def _best_candidates(rng: np.random.Generator, region: shapely.Geometry, existing: np.ndarray,
                     n: int, k: int) -> np.ndarray:
    """Mitchell's best-candidate sampling: evenly spread but not a lattice."""
    pool = _uniform_in(rng, region, n * k).reshape(n, k, 2)
    pts = [p for p in existing]
    for cand in pool:
        if pts:
            d = np.min(np.linalg.norm(cand[:, None, :] - np.asarray(pts)[None, :, :], axis=2), 1)
            pts.append(cand[int(np.argmax(d))])
        else:
            pts.append(cand[0])
    return np.asarray(pts)[len(existing):]


def _meander(rng: np.random.Generator, pts: list[np.ndarray], levels: int,
             amp: float) -> np.ndarray:
    """Midpoint displacement: a plausible winding line through the given points."""
    line = np.asarray(pts, dtype=np.float64)
    for _ in range(levels):
        mids = (line[:-1] + line[1:]) / 2
        seg = line[1:] - line[:-1]
        normal = np.column_stack((-seg[:, 1], seg[:, 0]))
        mids += normal * rng.normal(0, amp, (len(mids), 1))
        out = np.empty((len(line) + len(mids), 2))
        out[0::2], out[1::2] = line, mids
        line = out
    return line


def _densify(geom: shapely.Geometry, step: float) -> np.ndarray:
    return shapely.get_coordinates(shapely.segmentize(geom, step))


def _cells(seeds: np.ndarray, outline: shapely.Polygon) -> list[shapely.Geometry]:
    """Voronoi cells clipped to the outline; stray fragments go to the best neighbour."""
    vor = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=outline.buffer(20_000),
                                   ordered=True)
    cells = [shapely.intersection(g, outline) for g in shapely.get_parts(vor)]
    for i in range(len(cells)):
        parts = [p for p in shapely.get_parts(cells[i]) if p.geom_type == "Polygon"]
        if len(parts) <= 1:
            cells[i] = parts[0]
            continue
        seed = shapely.Point(seeds[i])
        keep = max(parts, key=lambda p: (p.covers(seed), p.area))
        cells[i] = keep
        for p in parts:
            if p is keep:
                continue
            shared = [(shapely.length(shapely.intersection(p, c)), j)
                      for j, c in enumerate(cells) if j != i]
            j = max(shared)[1]
            cells[j] = shapely.union(cells[j], p)
    return cells


def _assign_towns(rng: np.random.Generator, seeds: np.ndarray, cells: list[shapely.Geometry],
                  n_towns: int) -> np.ndarray:
    """Grow towns from their centre villages over the adjacency graph (contiguous towns)."""
    tri = Delaunay(seeds)
    edges = set()
    for s in tri.simplices:
        for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
            edges.add((min(a, b), max(a, b)))
    pairs = np.array(sorted(edges))
    garr = np.asarray(cells, dtype=object)
    shared = shapely.length(shapely.intersection(garr[pairs[:, 0]], garr[pairs[:, 1]]))
    pairs = pairs[shared > 1.0]
    dist = np.linalg.norm(seeds[pairs[:, 0]] - seeds[pairs[:, 1]], axis=1)
    w = dist * rng.uniform(0.6, 1.5, len(pairs))  # irregular town borders
    n = len(seeds)
    graph = coo_matrix((w, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    _, _, src = dijkstra(graph, directed=False, indices=np.arange(n_towns), min_only=True,
                         return_predecessors=True)
    orphan = src < 0
    if orphan.any():
        d = np.linalg.norm(seeds[orphan, None, :] - seeds[None, :n_towns, :], axis=2)
        src[orphan] = np.argmin(d, axis=1)
    return src.astype(np.int64)


def build_county(rng: np.random.Generator) -> County:
    outline = _outline(rng)
    inner = outline.buffer(-4_000)
    seat = rng.uniform(-3_000, 3_000, 2)
    towns = np.vstack([seat, _best_candidates(rng, inner, seat[None, :], N_TOWNS - 1, 40)])
    ang = rng.uniform(0, 2 * np.pi, N_SEAT_COMMUNITIES)
    rad = 2_600 * np.sqrt(rng.uniform(0.05, 1, N_SEAT_COMMUNITIES))
    urban = seat + np.column_stack((rad * np.cos(ang), rad * np.sin(ang)))
    first = np.vstack([towns, urban])
    rest = _best_candidates(rng, outline.buffer(-300), first, N_VILLAGES - len(first), 12)
    seeds = np.vstack([first, rest])

    cells = _cells(seeds, outline)
    vtown = _assign_towns(rng, seeds, cells, N_TOWNS)
    is_urban = np.zeros(N_VILLAGES, dtype=bool)
    is_urban[: len(first)] = True

    tnames = names.town_names(rng, N_TOWNS)
    taken = {names.town_stem(t) for t in tnames} | set(names.TOWN_STEMS) | set(
        names.SEAT_COMMUNITIES)
    stems = iter(names.village_stems(rng, N_VILLAGES, taken))
    communities = iter(rng.permutation(names.SEAT_COMMUNITIES))
    vnames = []
    for i in range(N_VILLAGES):
        if i < N_TOWNS:
            vnames.append(names.town_stem(tnames[i]) + "社区")
        elif i < len(first):
            vnames.append(str(next(communities)) + "社区")
        else:
            vnames.append(next(stems) + "村")

    pop = np.clip(rng.lognormal(np.log(1_900), 0.45, N_VILLAGES), 800, 9_000)
    pop[:N_TOWNS] = rng.uniform(4_000, 9_000, N_TOWNS)
    pop[N_TOWNS:len(first)] = rng.uniform(5_000, 9_000, len(first) - N_TOWNS)
    pop = np.round(pop).astype(np.int64)

    # Order villages by town, then north to south within the town, and number them.
    order = np.lexsort((seeds[:, 0], -seeds[:, 1], vtown))
    vids, counter = [], np.zeros(N_TOWNS, dtype=int)
    for i in order:
        counter[vtown[i]] += 1
        vids.append(f"T{vtown[i] + 1:02d}V{counter[vtown[i]]:03d}")
    geoms = np.array([geom_m_to_deg(cells[i]) for i in order], dtype=object)
    geoms = shapely.set_precision(geoms, GRID_DEG)
    vtown, pop, is_urban = vtown[order], pop[order], is_urban[order]
    vnames = [vnames[i] for i in order]

    tgeoms = np.array([shapely.union_all(geoms[vtown == t], grid_size=GRID_DEG)
                       for t in range(N_TOWNS)], dtype=object)
    county_geom = shapely.union_all(tgeoms, grid_size=GRID_DEG)
    tpop = np.bincount(vtown, weights=pop, minlength=N_TOWNS).astype(np.int64)

    river_name, reservoir_name, water, water_res = _water(rng, outline, seat, seeds, vnames, order)
    road_names, road_pts, road_of, road_chain, road_w = _roads(rng, outline, towns)
    hot, sigma, weight, markets = _hotspots(rng, towns, tpop)
    return County(
        county_geom=county_geom, town_ids=[f"T{t + 1:02d}" for t in range(N_TOWNS)],
        town_names=tnames, town_geoms=tgeoms, town_pop=tpop, town_centre_m=towns,
        village_ids=vids, village_names=vnames, village_geoms=geoms, village_town=vtown,
        village_pop=pop, village_urban=is_urban, river_name=river_name,
        reservoir_name=reservoir_name, water_m=water, water_is_reservoir=water_res,
        road_names=road_names, road_m=road_pts, road_of_point=road_of, road_chain_m=road_chain,
        road_weight=road_w,
        hotspot_m=hot, hotspot_sigma=sigma, hotspot_weight=weight, market_m=markets,
        index=VillageIndex(geoms),
    )


def _water(rng: np.random.Generator, outline: shapely.Polygon, seat: np.ndarray,
           seeds: np.ndarray, vnames: list[str], order: np.ndarray
           ) -> tuple[str, str, np.ndarray, np.ndarray]:
    """A river crossing the county past the seat, and a reservoir in the hills."""
    x0, _, x1, _ = outline.bounds
    river = _meander(rng, [np.array([x0 - 3_000, seat[1] + rng.uniform(-8_000, 8_000)]),
                           seat + np.array([0.0, -1_500.0]),
                           np.array([x1 + 3_000, seat[1] + rng.uniform(-8_000, 8_000)])], 7, 0.12)
    river_pts = _densify(shapely.intersection(shapely.LineString(river), outline), 25.0)

    inner = outline.buffer(-5_000)
    cand = _uniform_in(rng, inner, 200)
    far = cand[np.linalg.norm(cand - seat, axis=1) > 12_000]
    centre = far[0] if len(far) else cand[0]
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    r = 1 + 0.15 * np.sin(3 * t + rng.uniform(0, 6)) + 0.08 * np.sin(7 * t + rng.uniform(0, 6))
    rot = rng.uniform(0, np.pi)
    ex, ey = 1_800 * r * np.cos(t), 700 * r * np.sin(t)
    shore = np.column_stack((centre[0] + ex * np.cos(rot) - ey * np.sin(rot),
                             centre[1] + ex * np.sin(rot) + ey * np.cos(rot)))
    shore_pts = _densify(shapely.LinearRing(shore), 25.0)
    nearest = int(np.argmin(np.linalg.norm(seeds[order] - centre, axis=1)))
    stem = vnames[nearest].removesuffix("村").removesuffix("社区")
    water = np.vstack([river_pts, shore_pts])
    is_res = np.r_[np.zeros(len(river_pts), bool), np.ones(len(shore_pts), bool)]
    return "秀水河", stem + "水库", water, is_res


def _roads(rng: np.random.Generator, outline: shapely.Polygon, towns: np.ndarray
           ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A national road N-S and a provincial road W-E through the seat, county roads to towns."""
    x0, y0, x1, y1 = outline.bounds
    seat = towns[0]
    lines = [
        ("G105国道", 812_000, [np.array([seat[0] + rng.uniform(-6e3, 6e3), y1 + 3e3]), seat,
                     np.array([seat[0] + rng.uniform(-6e3, 6e3), y0 - 3e3])], 3.0),
        ("S223省道", 96_000, [np.array([x0 - 3e3, seat[1] + rng.uniform(-6e3, 6e3)]),
                             seat + np.array([0.0, 800.0]),
                     np.array([x1 + 3e3, seat[1] + rng.uniform(-6e3, 6e3)])], 2.0),
    ]
    lines += [(f"X{300 + t}县道", 0, [seat, towns[t]], 1.0) for t in range(1, len(towns))]
    rnames, pts, of, chain, weight = [], [], [], [], []
    for k, (name, km0, ctrl, w) in enumerate(lines):
        geom = shapely.intersection(shapely.LineString(_meander(rng, ctrl, 5, 0.08)), outline)
        p = _densify(geom, 25.0)
        step = np.r_[0.0, np.linalg.norm(np.diff(p, axis=0), axis=1)]
        rnames.append(name)
        pts.append(p)
        of.append(np.full(len(p), k))
        chain.append(km0 + np.cumsum(np.minimum(step, 25.0)))  # parts: count on, skip gaps
        weight.append(w)
    return (rnames, np.vstack(pts), np.concatenate(of), np.concatenate(chain),
            np.asarray(weight))


def _hotspots(rng: np.random.Generator, towns: np.ndarray, tpop: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Town centres and markets, plus the seat's bus station and pedestrian street."""
    n = len(towns)
    ang = rng.uniform(0, 2 * np.pi, n)
    markets = towns + 350 * np.column_stack((np.cos(ang), np.sin(ang)))
    centres = [towns, markets]
    sigma = [np.r_[1_300.0, np.full(n - 1, 450.0)], np.full(n, 120.0)]
    rel = tpop / tpop.mean()
    weight = [np.r_[7.0, rel[1:]], np.r_[1.0, np.full(n - 1, 0.5)]]
    for dist, s, w in ((1_200.0, 150.0, 1.2), (400.0, 200.0, 1.5)):
        a = rng.uniform(0, 2 * np.pi)
        centres.append(towns[:1] + dist * np.array([[np.cos(a), np.sin(a)]]))
        sigma.append(np.array([s]))
        weight.append(np.array([w]))
    return np.vstack(centres), np.concatenate(sigma), np.concatenate(weight), markets
