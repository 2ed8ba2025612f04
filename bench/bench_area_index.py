"""Benchmark ``data.area_index.AreaIndex`` against a geopandas spatial join.

Run: ``python bench/bench_area_index.py [--villages 300] [--seed 0]``.
Builds Voronoi "villages" over a 60 x 50 km box near lon 114.9, lat 27.1, then
times ``locate`` for 1M and 10M random points (a little beyond the box, so some
fall outside), reports the share of points that needed an exact shapely test and
peak RSS, and times ``geopandas.sjoin`` on the 1M points for comparison (last,
because its memory use would mask ours in the peak RSS).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

LON0, LAT0 = 114.9, 27.1
KM_PER_DEG_LAT = 111.32


def villages(n: int, rng: np.random.Generator) -> tuple[list[shapely.Geometry], tuple]:
    """``n`` Voronoi cells clipped to a 60 x 50 km box; returns (cells, box bounds)."""
    w = 60.0 / (KM_PER_DEG_LAT * np.cos(np.radians(LAT0)))
    h = 50.0 / KM_PER_DEG_LAT
    box = shapely.box(LON0, LAT0, LON0 + w, LAT0 + h)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(LON0, LON0 + w, n),
                                                 rng.uniform(LAT0, LAT0 + h, n)]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box))
    return list(shapely.intersection(cells, box)), (LON0, LAT0, LON0 + w, LAT0 + h)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def random_points(n: int, bounds: tuple, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Uniform points over the box widened by 2 % on each side."""
    x0, y0, x1, y1 = bounds
    mx, my = 0.02 * (x1 - x0), 0.02 * (y1 - y0)
    return rng.uniform(x0 - mx, x1 + mx, n), rng.uniform(y0 - my, y1 + my, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from data.area_index import AreaIndex  # after the sys.path tweak above

    rng = np.random.default_rng(args.seed)

    geoms, bounds = villages(args.villages, rng)
    t = time.perf_counter()
    index = AreaIndex.build(geoms)
    print(f"villages            {len(geoms)}")
    print(f"build               {time.perf_counter() - t:8.3f} s   grid {index.shape}")

    for n in (1_000_000, 10_000_000):
        lon, lat = random_points(n, bounds, rng)
        rss_in = peak_rss_mb()
        index.locate(lon[:1000], lat[:1000])  # warm-up: first-call overheads
        t = time.perf_counter()
        labels = index.locate(lon, lat)
        dt = time.perf_counter() - t
        share = index.edge_fraction(lon, lat)
        print(f"locate {n:>10,}   {dt:8.3f} s   exact-test share {share:6.2%}   "
              f"matched {np.mean(labels >= 0):6.2%}   "
              f"peak RSS {peak_rss_mb():7.0f} MB (inputs in: {rss_in:.0f} MB)")
        if n == 1_000_000:
            small = (lon, lat, labels)
        del lon, lat, labels

    import geopandas as gpd  # only for the comparison

    lon, lat, labels = small
    t = time.perf_counter()
    pts = gpd.GeoDataFrame(geometry=shapely.points(lon, lat))
    polys = gpd.GeoDataFrame(geometry=geoms)
    joined = gpd.sjoin(pts, polys, predicate="covered_by", how="left")
    ref = joined.groupby(level=0)["index_right"].min()
    dt = time.perf_counter() - t
    ref = ref.reindex(range(len(lon))).fillna(-1).to_numpy(dtype=np.int64)
    print(f"sjoin  {len(lon):>10,}   {dt:8.3f} s   agrees: {bool((ref == labels).all())}   "
          f"peak RSS {peak_rss_mb():7.0f} MB")


if __name__ == "__main__":
    main()
