"""Coordinate conversions against pyproj and published reference points."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod, Transformer

from data import coords


def test_mercator_matches_pyproj() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-180, 180, 1000), rng.uniform(-80, 80, 1000)
    x, y = coords.lonlat_to_mercator(lon, lat)
    ex, ey = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    assert np.allclose(x, ex, atol=1e-6) and np.allclose(y, ey, atol=1e-6)
    blon, blat = coords.mercator_to_lonlat(x, y)
    assert np.allclose(blon, lon, atol=1e-9) and np.allclose(blat, lat, atol=1e-9)


def test_haversine_close_to_ellipsoid() -> None:
    rng = np.random.default_rng(2)
    lon1, lat1 = rng.uniform(73, 135, 500), rng.uniform(18, 53, 500)
    lon2, lat2 = lon1 + rng.normal(0, 0.2, 500), lat1 + rng.normal(0, 0.2, 500)
    _, _, d = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    assert np.allclose(coords.haversine_m(lon1, lat1, lon2, lat2), d, rtol=0.005)


def test_gcj02_offset_size_and_round_trip() -> None:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(100, 125, 2000), rng.uniform(20, 45, 2000)
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    shift = coords.haversine_m(lon, lat, glon, glat)
    assert (shift > 50).all() and (shift < 1000).all()  # GCJ-02 moves points by 100s of m
    blon, blat = coords.gcj02_to_wgs84(glon, glat)
    assert coords.haversine_m(lon, lat, blon, blat).max() < 0.05


def test_bd09_round_trip_and_known_point() -> None:
    # Tiananmen: WGS84 (116.391, 39.907) is BD-09 ≈ (116.4037, 39.9150) on Baidu maps.
    blon, blat = coords.wgs84_to_bd09(116.391, 39.907)
    assert coords.haversine_m(blon, blat, 116.4037, 39.9150) < 150
    lon, lat = coords.bd09_to_wgs84(blon, blat)
    assert coords.haversine_m(lon, lat, 116.391, 39.907) < 0.5


def test_no_offset_outside_china() -> None:
    lon, lat = coords.wgs84_to_gcj02([2.35, -74.0], [48.85, 40.7])
    assert np.allclose(lon, [2.35, -74.0]) and np.allclose(lat, [48.85, 40.7])


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_to_from_wgs84_inverse(system: str) -> None:
    lon, lat = np.array([114.9, 115.3]), np.array([27.1, 26.8])
    back = coords.to_wgs84(*coords.from_wgs84(lon, lat, system), system)
    assert coords.haversine_m(lon, lat, *back).max() < 0.05
