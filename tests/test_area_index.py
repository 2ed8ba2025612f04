"""AreaIndex against independent answers: geopandas ``sjoin`` and plain ``shapely.covers``."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from data.area_index import AreaIndex

LON0, LAT0 = 114.9, 27.1


def brute(geoms: list, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Lowest ``i`` with ``shapely.covers(geoms[i], point)``, by an unprepared loop."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    out = np.full(x.shape, -1, dtype=np.int64)
    finite = np.isfinite(x) & np.isfinite(y)
    pts = shapely.points(x[finite], y[finite])
    sub = out[finite]
    for i in reversed(range(len(geoms))):  # lower indices overwrite higher ones
        g = geoms[i]
        if g is not None and not g.is_empty:
            sub[shapely.covers(g, pts)] = i
    out[finite] = sub
    return out


def sjoin_labels(geoms: list, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Lowest covering index by a geopandas spatial join (predicate ``covered_by``)."""
    pts = gpd.GeoDataFrame(geometry=shapely.points(x, y))
    polys = gpd.GeoDataFrame(geometry=list(geoms))
    joined = gpd.sjoin(pts, polys, predicate="covered_by", how="left")
    first = joined.groupby(level=0)["index_right"].min()
    return first.reindex(range(len(x))).fillna(-1).to_numpy(dtype=np.int64)


def voronoi(n: int, seed: int) -> tuple[list, tuple[float, float, float, float]]:
    """``n`` Voronoi cells clipped to a ~60 x 50 km box near (LON0, LAT0)."""
    rng = np.random.default_rng(seed)
    w, h = 0.6, 0.45
    box = shapely.box(LON0, LAT0, LON0 + w, LAT0 + h)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(LON0, LON0 + w, n),
                                                 rng.uniform(LAT0, LAT0 + h, n)]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box))
    return list(shapely.intersection(cells, box)), (LON0, LAT0, LON0 + w, LAT0 + h)


@pytest.fixture(scope="module")
def villages() -> tuple[list, tuple[float, float, float, float], object]:
    geoms, bounds = voronoi(300, seed=1)
    return geoms, bounds, AreaIndex.build(geoms)


def test_voronoi_matches_sjoin(villages: tuple) -> None:
    geoms, (x0, y0, x1, y1), index = villages
    rng = np.random.default_rng(2)
    n = 200_000
    x = rng.uniform(x0 - 0.05, x1 + 0.05, n)
    y = rng.uniform(y0 - 0.05, y1 + 0.05, n)
    got = index.locate(x, y)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, sjoin_labels(geoms, x, y))
    assert 0.5 < np.mean(got >= 0) < 1.0  # the test really covered both cases
    assert index.edge_fraction(x, y) < 0.06  # the grid does its job


def test_voronoi_vertices_and_edges(villages: tuple) -> None:
    """Shared vertices, points on and next to shared edges: lowest index wins."""
    geoms, _, index = villages
    verts = np.unique(shapely.get_coordinates(geoms), axis=0)
    lines = shapely.segmentize(shapely.boundary(geoms), 1e-3)
    # Interpolated points are on the edge up to rounding: some exactly on it, some
    # a hair to either side, which is what the edge cells must get right.
    along = shapely.get_coordinates(shapely.line_interpolate_point(
        np.repeat(lines, 7), np.tile(np.linspace(0.05, 0.95, 7), len(lines)), normalized=True))
    x = np.concatenate([verts[:, 0], along[:, 0], np.nextafter(verts[:, 0], np.inf)])
    y = np.concatenate([verts[:, 1], along[:, 1], verts[:, 1]])
    got = index.locate(x, y)
    want = brute(geoms, x, y)
    np.testing.assert_array_equal(got, want)
    assert (want[: len(verts)] >= 0).all()  # every vertex lies in some cell


@pytest.mark.parametrize("cells", [1, 3, 17, 256, None])
def test_grid_resolution_does_not_change_answers(cells: int | None) -> None:
    geoms, (x0, y0, x1, y1) = voronoi(40, seed=3)
    rng = np.random.default_rng(4)
    x = rng.uniform(x0 - 0.01, x1 + 0.01, 20_000)
    y = rng.uniform(y0 - 0.01, y1 + 0.01, 20_000)
    got = AreaIndex.build(geoms, cells=cells).locate(x, y)
    np.testing.assert_array_equal(got, brute(geoms, x, y))


def test_shared_edges_exact() -> None:
    """Unit squares share exactly representable edges; the lower index must win."""
    sq = [shapely.box(i, j, i + 1, j + 1) for j in range(3) for i in range(3)]
    geoms = sq[::-1]  # make the lower index the upper-right square
    index = AreaIndex.build(geoms)
    g = np.arange(0, 3.01, 0.5)
    x, y = (a.ravel() for a in np.meshgrid(g, g))
    np.testing.assert_array_equal(index.locate(x, y), brute(geoms, x, y))
    # (1, 1) is a corner of four squares: boxes 0, 1, 3, 4 of sq → 8, 7, 5, 4 of geoms.
    assert index.locate(np.array([1.0]), np.array([1.0]))[0] == 4
    assert index.locate(np.array([1.0]), np.array([0.5]))[0] == 7


def test_holes() -> None:
    outer = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)],
                            holes=[[(3, 3), (7, 3), (7, 7), (3, 7)]])
    filler = shapely.box(3, 3, 7, 7)
    x = np.array([1.0, 5.0, 3.0, 5.0, 7.0, 3.0, 11.0])
    y = np.array([1.0, 5.0, 5.0, 3.0, 7.0, 3.0, 5.0])
    # hole only: centre → -1, hole boundary → the polygon (boundary counts).
    np.testing.assert_array_equal(AreaIndex.build([outer]).locate(x, y),
                                  [0, -1, 0, 0, 0, 0, -1])
    np.testing.assert_array_equal(AreaIndex.build([outer, filler]).locate(x, y),
                                  [0, 1, 0, 0, 0, 0, -1])
    np.testing.assert_array_equal(AreaIndex.build([filler, outer]).locate(x, y),
                                  [1, 0, 0, 0, 0, 0, -1])
    # A tiny hole deep inside a coarse grid: the hole's cells must not be "inside".
    pin = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)],
                          holes=[[(5, 5), (5.001, 5), (5.001, 5.001), (5, 5.001)]])
    x = np.array([5.0005, 5.0, 5.002, 4.0])
    y = np.array([5.0005, 5.0005, 5.0005, 4.0])
    np.testing.assert_array_equal(AreaIndex.build([pin], cells=4).locate(x, y), [-1, 0, 0, 0])


def test_multipolygons_overlaps_and_empties() -> None:
    rng = np.random.default_rng(5)
    multi = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3),
                                  shapely.Polygon([(4, 0), (6, 0), (6, 2), (4, 2)],
                                                  holes=[[(4.5, 0.5), (5.5, 0.5), (5, 1.5)]])])
    geoms = [
        shapely.Polygon(),  # empty: never matches
        shapely.buffer(shapely.Point(2.5, 2.5), 1.2),  # overlaps the multipolygon
        None,
        multi,
        shapely.box(-1, -1, 7, 4),  # covers everything, lowest priority
        shapely.MultiPolygon(),
    ]
    x = rng.uniform(-2, 8, 50_000)
    y = rng.uniform(-2, 5, 50_000)
    verts = shapely.get_coordinates([g for g in geoms if g is not None])
    x, y = np.concatenate([x, verts[:, 0]]), np.concatenate([y, verts[:, 1]])
    got = AreaIndex.build(geoms).locate(x, y)
    want = brute(geoms, x, y)
    np.testing.assert_array_equal(got, want)
    assert set(np.unique(want)) == {-1, 1, 3, 4}


def test_other_geometry_types() -> None:
    """Points and lines match only where they are; collections are flattened."""
    geoms = [shapely.Point(1, 1), shapely.LineString([(0, 0), (2, 2)]), shapely.box(0, 0, 1, 1),
             shapely.GeometryCollection([shapely.Point(5, 5),
                                         shapely.MultiPolygon([shapely.box(3, 3, 4, 4)])])]
    x = np.array([1.0, 0.5, 0.5, 3.5, 5.0, 5.0 + 1e-9, 1.5])
    y = np.array([1.0, 0.5, 0.6, 3.5, 5.0, 5.0, 1.4])
    got = AreaIndex.build(geoms).locate(x, y)
    np.testing.assert_array_equal(got, [0, 1, 2, 3, 3, -1, -1])
    np.testing.assert_array_equal(got, brute(geoms, x, y))


def test_single_tiny_polygon() -> None:
    d = 1e-7  # ~1 cm, below the minimum cell size
    tri = shapely.Polygon([(LON0, LAT0), (LON0 + d, LAT0), (LON0, LAT0 + d)])
    index = AreaIndex.build([tri])
    t = np.linspace(-0.5, 1.5, 41) * d
    x, y = (a.ravel() for a in np.meshgrid(LON0 + t, LAT0 + t))
    x = np.concatenate([x, [LON0, LON0 + d / 2, LON0 + 1.0, 0.0]])
    y = np.concatenate([y, [LAT0, LAT0 + d / 2, LAT0, 0.0]])
    got = index.locate(x, y)
    np.testing.assert_array_equal(got, brute([tri], x, y))
    assert 0 < (got == 0).sum() < len(got)


def test_outside_nan_inf_and_shapes(villages: tuple) -> None:
    geoms, (x0, y0, x1, y1), index = villages
    big = np.finfo(np.float64).max
    x = np.array([np.nan, x0 + 0.1, np.inf, -np.inf, x0 + 0.1, x0 - 1, x1 + 1, 0.0, big, -big])
    y = np.array([y0 + 0.1, np.nan, y0 + 0.1, y0 + 0.1, np.inf, y0 + 0.1, y1, 0.0, -big, 0.0])
    with np.errstate(all="raise"):  # no hidden NaN casts or overflow
        got = index.locate(x, y)
    np.testing.assert_array_equal(got, np.full(len(x), -1))

    empty = index.locate(np.array([]), np.array([]))
    assert empty.shape == (0,) and empty.dtype == np.int32
    # Any shape and dtype in, same shape out.
    xx = np.full((2, 3), x0 + 0.3, dtype=np.float32)
    yy = np.full((2, 3), y0 + 0.2, dtype=np.float32)
    got2 = index.locate(xx, yy)
    assert got2.shape == (2, 3)
    assert (got2 == brute(geoms, xx.ravel(), yy.ravel())[0]).all()
    assert index.locate([x0 + 0.3], [y0 + 0.2]).tolist() == [got2[0, 0]]
    with pytest.raises(ValueError, match="shapes differ"):
        index.locate(np.zeros(3), np.zeros(2))


def test_no_geometries() -> None:
    for geoms in ([], [None, shapely.Polygon()]):
        index = AreaIndex.build(geoms)
        got = index.locate(np.array([0.0, 0.5, np.nan]), np.array([0.0, 0.5, 1.0]))
        np.testing.assert_array_equal(got, [-1, -1, -1])


def test_round_trip(villages: tuple) -> None:
    geoms, (x0, y0, x1, y1), index = villages
    buf = io.BytesIO()
    np.savez(buf, **index.to_arrays())
    buf.seek(0)
    with np.load(buf) as z:
        arrays = {k: z[k] for k in z.files}
    # Fresh geometry objects (from WKB), as after loading a cache.
    fresh = list(shapely.from_wkb(shapely.to_wkb(geoms)))
    again = AreaIndex.from_arrays(arrays, fresh)
    rng = np.random.default_rng(6)
    x = rng.uniform(x0 - 0.01, x1 + 0.01, 100_000)
    y = rng.uniform(y0 - 0.01, y1 + 0.01, 100_000)
    np.testing.assert_array_equal(again.locate(x, y), index.locate(x, y))
    assert all(v.dtype != object for v in index.to_arrays().values())
    with pytest.raises(ValueError, match="built for 300"):
        AreaIndex.from_arrays(arrays, fresh[:-1])


# ------------------------------------------------------------------- property test
coord = st.integers(-8, 40).map(lambda v: v / 4)  # quarter units: exact boundary hits


@st.composite
def shapes(draw: st.DrawFn) -> shapely.Geometry:
    kind = draw(st.sampled_from(["box", "disc", "ring", "multi", "tri", "empty"]))
    x, y = draw(coord), draw(coord)
    w, h = draw(st.integers(1, 16)) / 4, draw(st.integers(1, 16)) / 4
    if kind == "box":
        return shapely.box(x, y, x + w, y + h)
    if kind == "disc":
        return shapely.buffer(shapely.Point(x, y), w / 2, quad_segs=draw(st.integers(1, 8)))
    if kind == "ring":  # a box with a box-shaped hole
        return shapely.box(x, y, x + w + 1, y + h + 1).difference(
            shapely.box(x + 0.5, y + 0.5, x + w + 0.5, y + h + 0.5))
    if kind == "multi":
        return shapely.MultiPolygon([shapely.box(x, y, x + w, y + h),
                                     shapely.box(x + w + 0.25, y, x + 2 * w, y + h)])
    if kind == "tri":
        return shapely.Polygon([(x, y), (x + w, y + h / 3), (x + w / 3, y + h)])
    return shapely.Polygon()


@settings(max_examples=200, deadline=None)
@given(geoms=st.lists(shapes(), min_size=1, max_size=6),
       cells=st.sampled_from([1, 2, 5, 16, 64, None]),
       lattice=st.lists(st.tuples(coord, coord), max_size=60),
       seed=st.integers(0, 2**32 - 1))
def test_property_matches_brute_force(geoms: list, cells: int | None,
                                      lattice: list, seed: int) -> None:
    rng = np.random.default_rng(seed)
    verts = shapely.get_coordinates(geoms)
    lat_xy = np.asarray(lattice, dtype=float).reshape(-1, 2)
    x = np.concatenate([rng.uniform(-3, 15, 300), verts[:, 0], lat_xy[:, 0]])
    y = np.concatenate([rng.uniform(-3, 15, 300), verts[:, 1], lat_xy[:, 1]])
    got = AreaIndex.build(geoms, cells=cells).locate(x, y)
    np.testing.assert_array_equal(got, brute(geoms, x, y))
