"""Coordinate checks for point tables, vectorised.

Coordinates arrive in the extract's datum and may be NULL, NaN, infinite, out
of range, swapped or far away from the county. This decides, per row, whether
the point is usable, repairs swaps, converts to WGS84 and assigns the finest
area by point in polygon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .areas import AreaSet
from .coords import lonlat_to_mercator, to_wgs84
from .schema import Reason

# Index 0 means "no problem"; the rest are set-aside reasons in schema order.
GEO_REASONS: tuple[str | None, ...] = (
    None, Reason.MISSING_COORDINATES, Reason.BAD_COORDINATES,
    Reason.COORDINATES_OUT_OF_RANGE, Reason.COORDINATES_OUTSIDE_EXTENT,
)
_MISSING, _BAD, _RANGE, _EXTENT = 1, 2, 3, 4


@dataclass
class GeoResult:
    reason: np.ndarray  # uint8 codes into GEO_REASONS
    swapped: np.ndarray  # bool
    lon: np.ndarray  # WGS84, NaN where unusable
    lat: np.ndarray
    mx: np.ndarray  # Web Mercator metres, float32, NaN where unusable
    my: np.ndarray
    area: np.ndarray  # int32 area index by point in polygon, -1 if none


def far_extent(areas: AreaSet) -> tuple[float, float, float, float] | None:
    """The box beyond which a point is "far outside" the county.

    Generous on purpose: an incident just across the county line is real; one
    hundreds of kilometres away is a geocoding error. The margin is the
    extent's own size plus 0.1 degree.
    """
    ext = areas.extent()
    if ext is None:
        return None
    x0, y0, x1, y1 = ext
    m = max(x1 - x0, y1 - y0) + 0.1
    return x0 - m, y0 - m, x1 + m, y1 + m


def _plausible(lon: np.ndarray, lat: np.ndarray,
               box: tuple[float, float, float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    in_range = (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)
    if box is None:
        return in_range, in_range
    inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    return in_range, in_range & inside


def clean_points(lon: np.ndarray, lat: np.ndarray, is_null: np.ndarray, unreadable: np.ndarray,
                 required: bool, coord_system: str, areas: AreaSet | None) -> GeoResult:
    """Check raw coordinates (source datum; NULLs as NaN with ``is_null`` set)."""
    n = len(lon)
    lon = np.asarray(lon, dtype=np.float64).copy()
    lat = np.asarray(lat, dtype=np.float64).copy()
    reason = np.zeros(n, dtype=np.uint8)
    finite = np.isfinite(lon) & np.isfinite(lat)
    reason[unreadable | (~is_null & ~finite)] = _BAD
    if required:
        reason[is_null & (reason == 0)] = _MISSING
    box = far_extent(areas) if areas is not None else None
    candidate = finite & (reason == 0)
    with np.errstate(invalid="ignore"):
        in_range, ok = _plausible(lon, lat, box)
        _sw_range, sw_ok = _plausible(lat, lon, box)
    swapped = candidate & ~ok & sw_ok
    lon[swapped], lat[swapped] = lat[swapped], lon[swapped].copy()
    reason[candidate & ~swapped & ~in_range] = _RANGE
    reason[candidate & ~swapped & in_range & ~ok] = _EXTENT
    usable = (reason == 0) & finite
    wlon = np.full(n, np.nan)
    wlat = np.full(n, np.nan)
    if usable.any():
        wlon[usable], wlat[usable] = to_wgs84(lon[usable], lat[usable], coord_system)
    area = np.full(n, -1, dtype=np.int32)
    if areas is not None and usable.any():
        area[usable] = areas.locate(wlon[usable], wlat[usable])
    mx = np.full(n, np.nan, dtype=np.float32)
    my = np.full(n, np.nan, dtype=np.float32)
    if usable.any():
        x, y = lonlat_to_mercator(wlon[usable], wlat[usable])
        mx[usable], my[usable] = x.astype(np.float32), y.astype(np.float32)
    return GeoResult(reason, swapped, wlon, wlat, mx, my, area)
