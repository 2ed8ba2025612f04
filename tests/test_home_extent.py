"""The map opens where the data are (data/home_extent.py): a country-wide boundary layer
imported with one city's feed opens on the city; without polygons, on the bulk of the
points. Checked against shapely bounds and numpy quantiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from factory import incident, meta_rows, standard_areas, village_point, write_extract
from shapely.geometry import box

from data.extract import open_extract
from data.home_extent import home_extent


def _extent(tables: dict, path: Path) -> tuple[float, ...] | None:
    ex = open_extract(write_extract(path, tables))
    try:
        return home_extent(ex)
    finally:
        ex.close()


def _far_areas() -> list[tuple]:
    """The standard county (0.2° square) and, 3° east, a large village of a boundary
    layer that reaches far beyond the feed (points are placed at the finest level)."""
    far = box(118.0, 25.0, 121.0, 29.0)
    return [*standard_areas(), ("P", "远村", "village", None, far.wkb, 1)]


def test_every_area_used_gives_the_areas_extent(tmp_path: Path) -> None:
    rows = [incident(k, *village_point(k % 2, (k // 2) % 2)) for k in range(40)]
    got = _extent({"meta": meta_rows(), "areas": standard_areas(), "incidents": rows},
                  tmp_path / "a.duckdb")
    want = shapely.total_bounds([shapely.from_wkb(a[4]) for a in standard_areas()])
    assert got == pytest.approx(tuple(want))


def test_a_wide_boundary_layer_opens_on_the_areas_of_the_bulk(tmp_path: Path) -> None:
    areas = _far_areas()
    # 300 calls in the county's villages, 2 strays in the far province (< 1 %)
    rows = [incident(k, *village_point(k % 2, (k // 2) % 2)) for k in range(300)]
    rows += [incident(900 + k, 119.0 + k * 0.1, 26.0) for k in range(2)]
    got = _extent({"meta": meta_rows(), "areas": areas, "incidents": rows},
                  tmp_path / "b.duckdb")
    villages = [shapely.from_wkb(a[4]) for a in standard_areas() if a[2] == "village"]
    assert got == pytest.approx(tuple(shapely.total_bounds(villages)))
    # the same strays as 5 % of the calls belong to the bulk: the whole extent
    rows += [incident(950 + k, 119.5, 26.5) for k in range(20)]
    wide = _extent({"meta": meta_rows(), "areas": areas, "incidents": rows},
                   tmp_path / "c.duckdb")
    everything = shapely.total_bounds([shapely.from_wkb(a[4]) for a in areas])
    assert wide == pytest.approx(tuple(everything))


def test_without_polygons_the_bulk_of_the_points(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    lon = 121.5 + rng.normal(0, 0.05, 1000)
    lat = 25.0 + rng.normal(0, 0.05, 1000)
    lon[:3], lat[:3] = 0.0, 0.0  # geocoder failures at (0, 0) on the far side of the world
    rows = [incident(k, float(x), float(y)) for k, (x, y) in enumerate(zip(lon, lat,
                                                                           strict=True))]
    rows += [incident(5000 + k, None, None) for k in range(50)]
    got = _extent({"meta": meta_rows(), "incidents": rows}, tmp_path / "d.duckdb")
    q = [np.quantile(v, p, method="inverted_cdf") for p in (0.005, 0.995) for v in (lon, lat)]
    assert got == pytest.approx((q[0], q[1], q[2], q[3]))
    assert got[0] > 100  # the strays at (0, 0) do not stretch it


def test_no_polygons_and_no_points(tmp_path: Path) -> None:
    rows = [incident(k, None, None) for k in range(10)]
    assert _extent({"meta": meta_rows(), "incidents": rows}, tmp_path / "e.duckdb") is None
