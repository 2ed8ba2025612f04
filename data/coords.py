"""Coordinate systems: GCJ-02 / BD-09 ↔ WGS84, Web Mercator, great-circle distance.

All functions are vectorised over numpy arrays (scalars work too). GCJ-02 is the
obfuscated datum of Chinese web maps; its inverse has no closed form, so
``gcj02_to_wgs84`` iterates the forward transform (error < 1 cm after a few
steps). Outside China the offset is not applied, as in the published algorithm.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
EARTH_RADIUS_M = 6371008.8  # mean radius (IUGG), for haversine
_MERC_R = 6378137.0  # WGS84 semi-major axis, Web Mercator sphere
MERC_MAX_LAT = 85.05112878

Floats = NDArray[np.float64]


def _arr(x: ArrayLike) -> Floats:
    return np.asarray(x, dtype=np.float64)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """The rough box inside which GCJ-02 offsets apply."""
    lon, lat = _arr(lon), _arr(lat)
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _delta(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
            + 0.2 * np.sqrt(np.abs(x)))
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)))
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    lon, lat = _arr(lon), _arr(lat)
    dlon, dlat = _delta(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, iterations: int = 4) -> tuple[Floats, Floats]:
    """Invert GCJ-02 by fixed-point iteration on the forward transform."""
    glon, glat = _arr(lon), _arr(lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        wlon = wlon - (flon - glon)
        wlat = wlat - (flat - glat)
    inside = in_china(glon, glat)
    return np.where(inside, wlon, glon), np.where(inside, wlat, glat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    lon, lat = _arr(lon), _arr(lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """The published closed form (about 5 cm off), refined by two fixed-point steps."""
    blon, blat = _arr(lon), _arr(lat)
    x, y = blon - 0.0065, blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(2):
        flon, flat = gcj02_to_bd09(glon, glat)
        glon, glat = glon - (flon - blon), glat - (flat - blat)
    return glon, glat


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[Floats, Floats]:
    """Convert from the extract's ``meta.coord_system`` to WGS84."""
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    return _arr(lon), _arr(lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[Floats, Floats]:
    if system == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if system == "bd09":
        return wgs84_to_bd09(lon, lat)
    return _arr(lon), _arr(lat)


def lonlat_to_mercator(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """EPSG:3857 metres."""
    lon, lat = _arr(lon), np.clip(_arr(lat), -MERC_MAX_LAT, MERC_MAX_LAT)
    x = np.radians(lon) * _MERC_R
    y = np.log(np.tan(np.pi / 4.0 + np.radians(lat) / 2.0)) * _MERC_R
    return x, y


def mercator_to_lonlat(x: ArrayLike, y: ArrayLike) -> tuple[Floats, Floats]:
    x, y = _arr(x), _arr(y)
    lon = np.degrees(x / _MERC_R)
    lat = np.degrees(2.0 * np.arctan(np.exp(y / _MERC_R)) - np.pi / 2.0)
    return lon, lat


def haversine_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Floats:
    """Great-circle distance in metres on the mean-radius sphere."""
    p1, p2 = np.radians(_arr(lat1)), np.radians(_arr(lat2))
    dphi = p2 - p1
    dlmb = np.radians(_arr(lon2) - _arr(lon1))
    a = np.sin(dphi / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
