"""The extent the map opens on ("全县" / home): where the extract's data are.

Rule (once per opened extract):

1. the areas' extent (every polygon), narrowed to the areas that hold the bulk of the
   incidents (the busiest areas, counted against by area, until ``BULK_SHARE`` of the
   placed incidents) when those cover less than ``NARROW_SHARE`` of it by bounding-box
   area (a whole country's or province's boundary layer imported with one city's feed:
   the map opens on the city, not on the country);
2. without polygons: the located incidents between their 0.5th and 99.5th percentiles of
   longitude and latitude (a few stray geocodes do not stretch it);
3. neither: None (the caller picks a default).
"""

from __future__ import annotations

import duckdb
import numpy as np
import shapely

from .extract import Extract

__all__ = ["BULK_SHARE", "NARROW_SHARE", "home_extent"]

NARROW_SHARE = 0.25
BULK_SHARE = 0.99
Extent = tuple[float, float, float, float]


def home_extent(extract: Extract) -> Extent | None:
    """(lon0, lat0, lon1, lat1) of the data, by the rule of the module docstring."""
    return extract.memo("home_extent", lambda: _home_extent(extract))


def _area(e: Extent) -> float:
    return max(e[2] - e[0], 0.0) * max(e[3] - e[1], 0.0)


def _home_extent(extract: Extract) -> Extent | None:
    areas = extract.areas
    whole = areas.extent()
    cur = extract.cursor()
    try:
        if whole is not None:
            try:
                # a province (rows left in Parquet) counts from its per-day table
                src, n = ("day_area", "sum(n)") if extract.aggregated else ("incidents",
                                                                             "count(*)")
                rows = cur.execute(
                    f"SELECT area_idx, {n} AS n FROM {src} WHERE area_idx IS NOT NULL "
                    "GROUP BY 1 ORDER BY n DESC, area_idx").fetchall()
            except duckdb.Error:  # no incidents table: the areas are the region
                return whole
            counts = np.asarray([r[1] for r in rows], dtype=np.int64)
            # the areas of the bulk: the busiest first until BULK_SHARE of the placed
            # incidents (a few rows placed far away do not widen the view)
            keep = int(np.searchsorted(np.cumsum(counts), BULK_SHARE * counts.sum())) + 1
            used = [int(r[0]) for r in rows[:keep]]
            polys = [areas.geoms[i] for i in used
                     if 0 <= i < len(areas.geoms) and areas.geoms[i] is not None]
            if polys:
                b = shapely.total_bounds(np.asarray(polys, dtype=object))
                narrow = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
                if _area(narrow) < NARROW_SHARE * _area(whole):
                    return narrow
            return whole
        try:
            row = cur.execute(
                "SELECT quantile_disc(lon, 0.005), quantile_disc(lat, 0.005), "
                "quantile_disc(lon, 0.995), quantile_disc(lat, 0.995) FROM incidents "
                "WHERE isfinite(lon) AND isfinite(lat)").fetchone()
        except duckdb.Error:
            return None
        if row is None or row[0] is None:
            return None
        return float(row[0]), float(row[1]), float(row[2]), float(row[3])
    finally:
        cur.close()
