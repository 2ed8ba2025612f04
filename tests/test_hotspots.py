"""Hotspots (案件高发区域) against independent computations.

Expected values never come from the cockpit's own code: cell counts are
``np.histogram2d`` on pyproj Web Mercator coordinates of the raw lon/lat, the study
area is a shapely union of the raw polygons, Gi* is ``esda.G_Local`` with libpysal
weights built here (``lat2W`` or a plain neighbour loop), area counts come from a
geopandas spatial join of the raw extract, and the emerging classes from a per-period
esda run and a Mann–Kendall loop written out below.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely
from factory import EXTRACTED_AT, incident, meta_rows, standard_areas, write_extract
from pyproj import Transformer
from scipy.stats import norm
from shapely.geometry import box

from data.analysis.hotspots import (
    EMERGING_CLASSES,
    area_hotspots,
    emerging_hotspots,
    grid_hotspots,
    mann_kendall,
)
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from demo import generate_demo

FWD = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
INV = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
NICE = sorted(s * 10.0 ** d for d in range(1, 7) for s in (1, 1.5, 2, 2.5, 3, 4, 5, 7.5)
              if s * 10.0 ** d >= 50)
BOX = (115.0, 27.0, 115.2, 27.2)  # the union of the factory's areas
COLUMNS = ["incident_id", "reported_at", "category", "subcategory", "lon", "lat", "address",
           "area_id", "status", "closed_at"]
CLUSTER_AT = (115.05, 27.05)  # inside village V00 (town T1)
CLUSTER_MONTH = (datetime(2025, 3, 1), datetime(2025, 3, 29))


@dataclass(frozen=True)
class Geometry:
    x0: float
    y0: float
    cell: float
    cell_m: float
    nx: int
    ny: int

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        return (self.x0 + np.arange(self.nx + 1) * self.cell,
                self.y0 + np.arange(self.ny + 1) * self.cell)

    def cell_of(self, lon: float, lat: float) -> tuple[int, int]:
        x, y = FWD.transform(lon, lat)
        return int((y - self.y0) // self.cell), int((x - self.x0) // self.cell)

    def centre(self, row: int, col: int) -> tuple[float, float]:
        return INV.transform(self.x0 + (col + 0.5) * self.cell, self.y0 + (row + 0.5) * self.cell)


def expected_geometry(bounds: tuple[float, float, float, float],
                      cell_m: float | None = None) -> Geometry:
    """The documented rule: ~100 cells on the long side, nice size, 1/cos(centre latitude)."""
    lon0, lat0, lon1, lat1 = bounds
    (mx0, mx1), (my0, my1) = FWD.transform([lon0, lon1], [lat0, lat1])
    k = math.cos(math.radians((lat0 + lat1) / 2))
    if cell_m is None:
        target = max(max(mx1 - mx0, my1 - my0) * k / 100, 50)
        cell_m = min(NICE, key=lambda c: (abs(math.log(c / target)), c))
    cell = cell_m / k
    x0, y0 = math.floor(mx0 / cell) * cell, math.floor(my0 / cell) * cell
    return Geometry(x0, y0, cell, cell_m, math.floor((mx1 - x0) / cell) + 1,
                    math.floor((my1 - y0) / cell) + 1)


def histogram(lon: np.ndarray, lat: np.ndarray, g: Geometry) -> np.ndarray:
    x, y = FWD.transform(np.asarray(lon, float), np.asarray(lat, float))
    xe, ye = g.edges()
    counts, _, _ = np.histogram2d(y, x, bins=[ye, xe])
    return counts.astype(np.int64)


def study_mask(g: Geometry, polygons: list[shapely.Geometry]) -> np.ndarray:
    """Cells whose centre is covered by the union of the polygons."""
    rows, cols = np.divmod(np.arange(g.nx * g.ny), g.nx)
    lon, lat = INV.transform(g.x0 + (cols + 0.5) * g.cell, g.y0 + (rows + 0.5) * g.cell)
    return shapely.covers(shapely.union_all(polygons), shapely.points(lon, lat)).reshape(
        g.ny, g.nx)


def queen_w(mask: np.ndarray) -> libpysal.weights.W:
    """Queen neighbours among the masked cells, written out cell by cell."""
    key = (mask.shape, mask.tobytes())
    if key not in _W_CACHE:
        _W_CACHE[key] = _queen_w(mask)
    return _W_CACHE[key]


_W_CACHE: dict[tuple, libpysal.weights.W] = {}


def _queen_w(mask: np.ndarray) -> libpysal.weights.W:
    ny, nx = mask.shape
    ids = [int(i) for i in np.flatnonzero(mask)]
    neighbours = {}
    for i in ids:
        r, c = divmod(i, nx)
        neighbours[i] = [(r + dr) * nx + c + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                         if (dr or dc) and 0 <= r + dr < ny and 0 <= c + dc < nx
                         and mask[r + dr, c + dc]]
    return libpysal.weights.W(neighbours, id_order=ids, silence_warnings=True)


def esda_z(y: np.ndarray, w: libpysal.weights.W, star: bool = True) -> np.ndarray:
    return esda.G_Local(np.asarray(y, float), w, transform="B", star=star, permutations=0).Zs


MIN_HOT = 3  # a unit with fewer incidents of its own is never hot (the documented rule)


def conf_class(z: float, count: float | None = None) -> int:
    for threshold, c in ((2.576, 3), (1.960, 2), (1.645, 1)):
        if z >= threshold:
            return c if count is None or count >= MIN_HOT else 0
        if z <= -threshold:
            return -c
    return 0


def interior_points(rng: np.random.Generator, g: Geometry, rows: np.ndarray,
                    cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Random points well inside the given cells (no float32 rounding can move them)."""
    fx, fy = rng.uniform(0.1, 0.9, len(rows)), rng.uniform(0.1, 0.9, len(rows))
    return INV.transform(g.x0 + (cols + fx) * g.cell, g.y0 + (rows + fy) * g.cell)


def write_world(path: Path, rows: list[tuple], areas: bool = True) -> Path:
    """meta (and areas) through the factory; incidents appended in bulk from a frame."""
    tables: dict[str, list] = {"meta": meta_rows(), "incidents": []}
    if areas:
        tables["areas"] = standard_areas()
    write_extract(path, tables)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    con = duckdb.connect(str(path))
    try:
        con.register("frame", frame)
        con.execute("INSERT INTO incidents SELECT * FROM frame")
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------- grid world
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Uniform 'traffic' noise over the county and a 'criminal' cluster in March."""
    rng = np.random.default_rng(5)
    g = expected_geometry(BOX)
    # 1.5 incidents per study cell on average, inside the county box and away from cell edges
    cells = np.flatnonzero(study_mask(g, [box(*BOX)]))
    n_bg = len(cells) * 3 // 2
    rows_, cols_ = np.divmod(rng.choice(cells, n_bg), g.nx)
    (bx0, bx1), (by0, by1) = FWD.transform([BOX[0], BOX[2]], [BOX[1], BOX[3]])
    fx = rng.uniform(np.maximum(0.1, (bx0 - g.x0) / g.cell - cols_ + 0.01),
                     np.minimum(0.9, (bx1 - g.x0) / g.cell - cols_ - 0.01))
    fy = rng.uniform(np.maximum(0.1, (by0 - g.y0) / g.cell - rows_ + 0.01),
                     np.minimum(0.9, (by1 - g.y0) / g.cell - rows_ - 0.01))
    lon, lat = INV.transform(g.x0 + (cols_ + fx) * g.cell, g.y0 + (rows_ + fy) * g.cell)
    when = [EXTRACTED_AT - timedelta(minutes=int(m)) for m in rng.integers(60, 300 * 1440, n_bg)]
    rows = [incident(i, float(lon[i]), float(lat[i]), when[i], "traffic") for i in range(n_bg)]
    # the cluster: 80 incidents in one cell, 15 in each of its eight neighbours
    r, c = g.cell_of(*CLUSTER_AT)
    cr = np.concatenate([np.full(80, r)] + [np.full(15, r + dr) for dr in (-1, 0, 1)
                                             for dc in (-1, 0, 1) if dr or dc])
    cc = np.concatenate([np.full(80, c)] + [np.full(15, c + dc) for dr in (-1, 0, 1)
                                             for dc in (-1, 0, 1) if dr or dc])
    clon, clat = interior_points(rng, g, cr, cc)
    span = int((CLUSTER_MONTH[1] - CLUSTER_MONTH[0]).total_seconds())
    for k in range(len(cr)):
        t = CLUSTER_MONTH[0] + timedelta(seconds=int(rng.integers(0, span)))
        rows.append(incident(n_bg + k, float(clon[k]), float(clat[k]), t, "criminal"))
    # the box corners (beyond the bulk: the grid without areas leaves them out)
    rows += [incident(len(rows), BOX[0], BOX[1], EXTRACTED_AT - timedelta(days=2)),
             incident(len(rows) + 1, BOX[2], BOX[3], EXTRACTED_AT - timedelta(days=2))]
    base = tmp_path_factory.mktemp("hot")
    frame = pd.DataFrame(rows, columns=COLUMNS)
    villages = {a[0]: shapely.from_wkb(a[4]) for a in standard_areas() if a[2] == "village"}
    # without polygons the grid covers the bulk of the points: their 0.5th to 99.5th
    # percentiles (DuckDB's quantile_disc is numpy's inverted_cdf)
    bulk = tuple(float(np.quantile(frame[c], q, method="inverted_cdf"))
                 for q in (0.005, 0.995) for c in ("lon", "lat"))
    return {"with_areas": write_world(base / "areas.duckdb", rows),
            "bare": write_world(base / "bare.duckdb", rows, areas=False),
            "bare_geometry": expected_geometry(bulk),
            "frame": frame, "geometry": g, "cluster": (r, c), "villages": villages,
            "polygons": [shapely.from_wkb(a[4]) for a in standard_areas()]}


_OPENED: dict[Path, Query] = {}


def _query(path: Path) -> Query:
    """One opened extract per file for the module (opening builds the cockpit's cache)."""
    if path not in _OPENED:
        _OPENED[path] = Query(open_extract(path))
    return _OPENED[path]


@pytest.fixture(scope="module", autouse=True)
def _close_extracts() -> Iterator[None]:
    yield
    for q in _OPENED.values():
        q.extract.close()
    _OPENED.clear()


def _geometry_matches(res, g: Geometry) -> None:
    assert (res.nx, res.ny, res.cell_m) == (g.nx, g.ny, g.cell_m)
    # float32 mx/my move the incidents' extent by a metre at most
    assert res.cell == pytest.approx(g.cell, rel=1e-6)
    assert res.x0 == pytest.approx(g.x0, abs=2) and res.y0 == pytest.approx(g.y0, abs=2)


def test_default_cell_size_and_geometry(world: dict) -> None:
    g = world["geometry"]
    assert g.cell_m == 200  # 22.3 km long side → 223 m → nearest nice value 200 m
    for key, want in (("with_areas", g), ("bare", world["bare_geometry"])):
        res = grid_hotspots(_query(world[key]), FilterState())
        _geometry_matches(res, want)
        assert 60 <= max(res.nx, res.ny) <= 150
        assert res.counts.shape == res.z.shape == res.cls.shape == (want.ny, want.nx)
    explicit = grid_hotspots(_query(world["with_areas"]), FilterState(), cell_m=1000)
    _geometry_matches(explicit, expected_geometry(BOX, 1000))


def test_grid_gi_star_equals_esda_full_rectangle(world: dict) -> None:
    g, df = world["bare_geometry"], world["frame"]  # points outside the grid not counted
    res = grid_hotspots(_query(world["bare"]), FilterState())
    assert res.study.all()
    y = histogram(df["lon"], df["lat"], g)
    assert np.array_equal(res.counts, y)
    w = libpysal.weights.lat2W(g.ny, g.nx, rook=False)
    gstar = esda.G_Local(y.ravel().astype(float), w, transform="B", star=True, permutations=0)
    assert np.allclose(gstar.w.sparse.diagonal(), 1.0)  # esda added the self weight
    np.testing.assert_allclose(res.z.ravel(), gstar.Zs, rtol=1e-9, atol=1e-9)
    # Without the self weight (plain Gi) the scores are clearly different, so the
    # comparison above would catch a missing self weight.
    assert np.abs(esda_z(y.ravel(), w, star=False) - res.z.ravel()).max() > 1.0


def test_grid_gi_star_equals_esda_masked_study_area(world: dict) -> None:
    g, df = world["geometry"], world["frame"]
    res = grid_hotspots(_query(world["with_areas"]), FilterState())
    mask = study_mask(g, world["polygons"])
    assert (~mask).sum() > 0 and np.array_equal(res.study, mask)
    y = np.where(mask, histogram(df["lon"], df["lat"], g), 0)
    assert np.array_equal(res.counts, y)
    w = queen_w(mask)
    want = esda_z(y.ravel()[w.id_order], w)
    np.testing.assert_allclose(res.z.ravel()[w.id_order], want, rtol=1e-9, atol=1e-9)
    assert np.isnan(res.z[~mask]).all() and (res.cls[~mask] == 0).all()
    assert np.abs(esda_z(y.ravel()[w.id_order], w, star=False) - want).max() > 1.0
    classes = Counter(conf_class(z, n) for z, n in zip(want, y.ravel()[w.id_order],
                                                        strict=True))
    # the minimum-count rule removes some hot cells here (the test would see it missing)
    assert Counter(conf_class(z) for z in want)[1] > classes[1]
    doc = res.to_json()
    assert doc["cells"] == int(mask.sum())
    assert doc["hot"] == {"99": classes[3], "95": classes[2], "90": classes[1]}
    assert doc["cold"] == {"99": classes[-3], "95": classes[-2], "90": classes[-1]}


def test_planted_cluster_is_the_top_hot_cell(world: dict) -> None:
    g = world["geometry"]
    r, c = world["cluster"]
    res = grid_hotspots(_query(world["with_areas"]), FilterState())
    assert res.cls[r, c] == 3
    assert res.z[r, c] == np.nanmax(res.z) > 20
    top = res.to_json(limit=5)["top"][0]
    lon, lat = g.centre(r, c)
    assert (top["lon"], top["lat"]) == (pytest.approx(lon, abs=1e-6), pytest.approx(lat, abs=1e-6))
    assert top["confidence"] == 0.99 and top["count"] == res.counts[r, c] >= 80
    assert top["area_id"] == next(v for v, p in world["villages"].items()
                                  if p.covers(shapely.Point(lon, lat)))
    assert json.loads(json.dumps(res.to_json(), allow_nan=False))["top"]


def test_category_filter_uniform_noise_has_almost_no_hot_cells(world: dict) -> None:
    g, df = world["geometry"], world["frame"]
    r, c = world["cluster"]
    state = FilterState().with_set("incident_categories", ["traffic"])
    res = grid_hotspots(_query(world["with_areas"]), state)
    mask = res.study
    sub = df[df["category"] == "traffic"]
    y = np.where(mask, histogram(sub["lon"], sub["lat"], g), 0)
    assert np.array_equal(res.counts, y)
    w = queen_w(mask)
    np.testing.assert_allclose(res.z.ravel()[w.id_order], esda_z(y.ravel()[w.id_order], w),
                               rtol=1e-9, atol=1e-9)
    # Under the null about 5 % of cells pass 90 % one-sided and 0.5 % pass 99 %; Poisson
    # counts have a heavier upper tail than the normal approximation, hence some slack.
    # The planted cluster scores z > 20.
    n = int(mask.sum())
    assert res.cls[r, c] < 3
    assert (res.cls > 0).sum() < 0.08 * n and (res.cls == 3).sum() < 0.02 * n
    assert np.nanmax(res.z) < 6


def test_window_filter_moves_the_hotspot(world: dict) -> None:
    g, df = world["geometry"], world["frame"]
    r, c = world["cluster"]
    q = _query(world["with_areas"])
    for start, end, hot in ((date(2025, 3, 1), date(2025, 3, 31), True),
                            (date(2025, 4, 1), date(2025, 6, 15), False)):
        res = grid_hotspots(q, FilterState().with_window(start, end))
        ts = df["reported_at"]
        sub = df[(ts >= pd.Timestamp(start)) & (ts < pd.Timestamp(end + timedelta(days=1)))]
        y = np.where(res.study, histogram(sub["lon"], sub["lat"], g), 0)
        assert np.array_equal(res.counts, y)
        w = queen_w(res.study)
        np.testing.assert_allclose(res.z.ravel()[w.id_order],
                                   esda_z(y.ravel()[w.id_order], w), rtol=1e-9, atol=1e-9)
        assert bool(res.cls[r, c] == 3) is hot


def test_area_filter_restricts_grid_and_study_area(world: dict) -> None:
    df = world["frame"]
    town = next(shapely.from_wkb(a[4]) for a in standard_areas() if a[0] == "T1")
    g = expected_geometry(town.bounds)
    res = grid_hotspots(_query(world["with_areas"]), FilterState().with_areas(["T1"]))
    _geometry_matches(res, g)
    mask = study_mask(g, [town])
    assert np.array_equal(res.study, mask)
    inside = [town.covers(shapely.Point(x, y)) for x, y in zip(df["lon"], df["lat"], strict=True)]
    sub = df[inside]
    y = np.where(mask, histogram(sub["lon"], sub["lat"], g), 0)
    assert np.array_equal(res.counts, y)
    w = queen_w(mask)
    np.testing.assert_allclose(res.z.ravel()[w.id_order], esda_z(y.ravel()[w.id_order], w),
                               rtol=1e-9, atol=1e-9)
    assert res.to_json()["top"][0]["area_id"] == "V00"


def test_empty_window_has_no_hotspots(world: dict) -> None:
    q = _query(world["with_areas"])
    state = FilterState().with_window(date(2020, 1, 1), date(2020, 1, 31))
    res = grid_hotspots(q, state)
    assert res.counts.sum() == 0 and (res.cls == 0).all()
    assert res.to_json()["top"] == []
    em = emerging_hotspots(q, state, periods=4)
    assert em.class_counts()["none"] == em.grid.n_study
    json.dumps(em.to_json(), allow_nan=False)


# --------------------------------------------------------------------------- areas
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    con = duckdb.connect(str(path), read_only=True)
    try:
        areas = con.execute("SELECT * FROM areas").df()
        inc = con.execute("SELECT * FROM incidents").df()
        extracted = con.execute("SELECT value FROM meta WHERE key = 'extracted_at'").fetchall()
    finally:
        con.close()
    areas["geometry"] = shapely.from_wkb(areas["geom_wkb"].map(bytes))
    villages = gpd.GeoDataFrame(areas[areas["level"] == "village"]
                                [["area_id", "parent_id", "population", "geometry"]],
                                geometry="geometry", crs="EPSG:4326")
    villages = villages.sort_values("area_id").reset_index(drop=True)
    # point in polygon where lon/lat are usable, else the producer's area id
    located = inc["lon"].notna() & inc["lat"].notna()
    pts = gpd.GeoDataFrame(inc.loc[located, ["incident_id"]], crs="EPSG:4326",
                           geometry=gpd.points_from_xy(inc.loc[located, "lon"],
                                                       inc.loc[located, "lat"]))
    hit = gpd.sjoin(pts, villages[["area_id", "geometry"]], predicate="covered_by", how="left")
    hit = hit[~hit.index.duplicated(keep="first")]["area_id"]
    inc["village"] = hit.reindex(inc.index).fillna(inc["area_id"])
    inc = inc[inc["village"].isin(set(villages["area_id"]))]
    as_of = datetime.fromisoformat(extracted[0][0]).date()
    inc = inc[inc["reported_at"] < pd.Timestamp(as_of + timedelta(days=1))]
    return {"path": path, "villages": villages, "incidents": inc}


def _area_z(res) -> dict[str, float]:
    return {res.areas.ids[i]: float(z) for i, z in zip(res.area_idx, res.z, strict=True)}


@pytest.mark.parametrize("measure", ["count", "rate"])
def test_area_gi_star_equals_esda_queen(demo: dict, measure: str) -> None:
    vil, inc = demo["villages"], demo["incidents"]
    res = area_hotspots(_query(demo["path"]), FilterState(), "village", measure)
    w = libpysal.weights.Queen.from_dataframe(vil, ids=list(vil["area_id"]), use_index=False)
    counts = inc["village"].value_counts().reindex(vil["area_id"], fill_value=0).to_numpy()
    y = counts if measure == "count" else counts / vil["population"].to_numpy() * 1e4
    want = dict(zip(vil["area_id"], esda_z(y, w), strict=True))
    got = _area_z(res)
    assert set(got) == set(want)
    np.testing.assert_allclose([got[a] for a in sorted(want)], [want[a] for a in sorted(want)],
                               rtol=1e-9, atol=1e-9)
    assert dict(zip((res.areas.ids[i] for i in res.area_idx), res.counts.tolist(),
                    strict=True)) == dict(zip(vil["area_id"], counts.tolist(), strict=True))
    doc = json.loads(json.dumps(res.to_json(), allow_nan=False))
    n_of = dict(zip(vil["area_id"], counts.tolist(), strict=True))
    hot = sorted((a for a in want if conf_class(want[a], n_of[a]) > 0),
                 key=lambda a: (-want[a], a))
    assert [h["area_id"] for h in doc["hot_areas"]] == hot and hot
    assert doc["hot_areas"][0]["confidence"] == {3: 0.99, 2: 0.95, 1: 0.9}[
        conf_class(want[hot[0]])]


def test_area_filter_and_category_change_area_hotspots(demo: dict) -> None:
    vil, inc = demo["villages"], demo["incidents"]
    town = vil["parent_id"].value_counts().index[0]  # the town with the most villages
    sub = vil[vil["parent_id"] == town].reset_index(drop=True)
    state = FilterState().with_areas([town]).with_set("incident_categories", ["dispute"])
    res = area_hotspots(_query(demo["path"]), state, "village")
    w = libpysal.weights.Queen.from_dataframe(sub, ids=list(sub["area_id"]), use_index=False,
                                              silence_warnings=True)
    sel = inc[inc["category"] == "dispute"]
    counts = sel["village"].value_counts().reindex(sub["area_id"], fill_value=0).to_numpy()
    want = dict(zip(sub["area_id"], esda_z(counts, w), strict=True))
    got = _area_z(res)
    assert set(got) == set(want)
    np.testing.assert_allclose([got[a] for a in sorted(want)], [want[a] for a in sorted(want)],
                               rtol=1e-9, atol=1e-9)
    unfiltered = _area_z(area_hotspots(_query(demo["path"]), FilterState(), "village"))
    assert any(abs(unfiltered[a] - want[a]) > 0.1 for a in want)


# --------------------------------------------------------------------------- emerging
PERIODS = 8
STOP = datetime.combine(EXTRACTED_AT.date() + timedelta(days=1), datetime.min.time())
PLANTED = {  # class → (row, col, incidents planted in each of the eight weeks)
    "new": (8, 8, [0] * 7 + [30]),
    "intensifying": (8, 30, [16 + 5 * t for t in range(PERIODS)]),
    "persistent": (35, 8, [24] * PERIODS),
    "diminishing": (35, 30, [51 - 5 * t for t in range(PERIODS)]),
}


@pytest.fixture(scope="module")
def trend_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """500 m cells, Poisson(1) noise per cell and week, four planted clusters."""
    rng = np.random.default_rng(23)
    g = expected_geometry(BOX, 500)
    mask = study_mask(g, [shapely.from_wkb(a[4]) for a in standard_areas()])
    quiet = np.zeros_like(mask)
    r, c = PLANTED["new"][:2]
    quiet[r - 2:r + 3, c - 2:c + 3] = True  # the new spot is quiet before it appears
    rows_in, cols_in = np.nonzero(mask & ~quiet)
    # keep to cells wholly inside the county box
    (bx0, bx1), (by0, by1) = FWD.transform([BOX[0], BOX[2]], [BOX[1], BOX[3]])
    ok = ((g.x0 + cols_in * g.cell > bx0) & (g.x0 + (cols_in + 1) * g.cell < bx1)
          & (g.y0 + rows_in * g.cell > by0) & (g.y0 + (rows_in + 1) * g.cell < by1))
    rows_in, cols_in = rows_in[ok], cols_in[ok]
    rows: list[tuple] = []
    for t in range(PERIODS):
        start = STOP - timedelta(days=7 * (PERIODS - t))
        k = rng.poisson(1.0, len(rows_in))
        rr, cc = np.repeat(rows_in, k), np.repeat(cols_in, k)
        for name, (pr, pc, series) in PLANTED.items():
            # a peaked cluster: the planted cell and a quarter as many in each neighbour
            for dr, dc in ((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)):
                n = series[t] if dr == dc == 0 else series[t] // 4
                rr = np.concatenate([rr, np.full(n, pr + dr)])
                cc = np.concatenate([cc, np.full(n, pc + dc)])
            assert mask[pr - 1:pr + 2, pc - 1:pc + 2].all(), name
        lon, lat = interior_points(rng, g, rr, cc)
        secs = rng.integers(3600, 7 * 86400 - 3600, len(rr))
        for i in range(len(rr)):
            rows.append(incident(len(rows), float(lon[i]), float(lat[i]),
                                 start + timedelta(seconds=int(secs[i])), "public_order"))
    path = write_world(tmp_path_factory.mktemp("trend") / "trend.duckdb", rows)
    return {"path": path, "frame": pd.DataFrame(rows, columns=COLUMNS), "geometry": g,
            "mask": mask}


def mk_loop(x: list[float]) -> tuple[float, float, float]:
    """Mann–Kendall S, Z and two-sided p, pair by pair, with the tie correction."""
    n = len(x)
    s = sum((x[j] > x[i]) - (x[j] < x[i]) for i in range(n) for j in range(i + 1, n))
    ties = sum(t * (t - 1) * (2 * t + 5) for t in Counter(x).values())
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18
    z = 0.0 if s == 0 or var <= 0 else (s - math.copysign(1, s)) / math.sqrt(var)
    return s, z, 2 * norm.sf(abs(z))


def oracle_class(zs: list[float], ns: list[float]) -> str:
    hot = [z >= 1.645 and n >= MIN_HOT for z, n in zip(zs, ns, strict=True)]
    if not hot[-1]:
        return "none"
    n = sum(hot)
    if n == 1:
        return "new"
    if n >= math.ceil(0.9 * len(zs)):
        _, z, p = mk_loop(zs)
        if p < 0.05:
            return "intensifying" if z > 0 else "diminishing"
        return "persistent"
    return "sporadic"


def test_mann_kendall_matches_loop() -> None:
    rng = np.random.default_rng(3)
    series = [rng.normal(size=9).tolist() for _ in range(20)]
    series += [[1, 2, 2, 3, 3, 3, 5, 4, 6], [5, 5, 5, 5, 5, 5, 5, 5, 5], list(range(9, 0, -1)),
               [0, 1, 0, 1, 0, 1, 0, 1, 0]]
    s, z, p = mann_kendall(np.asarray(series, dtype=float))
    for k, x in enumerate(series):
        want = mk_loop([float(v) for v in x])
        assert (s[k], z[k], p[k]) == (want[0], pytest.approx(want[1]), pytest.approx(want[2]))


@pytest.mark.parametrize("explicit_window", [False, True])
def test_emerging_classes_match_oracle(trend_world: dict, explicit_window: bool) -> None:
    g, df, mask = trend_world["geometry"], trend_world["frame"], trend_world["mask"]
    state = FilterState()
    if explicit_window:  # the same eight weeks as an explicit window
        state = state.with_window(STOP.date() - timedelta(days=7 * PERIODS), EXTRACTED_AT.date())
    res = emerging_hotspots(_query(trend_world["path"]), state, PERIODS, cell_m=500)
    _geometry_matches(res.grid, g)
    assert np.array_equal(res.grid.study, mask)
    assert list(res.starts) == [STOP - timedelta(days=7 * (PERIODS - t)) for t in range(PERIODS)]
    w = queen_w(mask)
    zs, ns = [], []
    for t, start in enumerate(res.starts):
        sub = df[(df["reported_at"] >= start) & (df["reported_at"] < start + timedelta(days=7))]
        y = np.where(mask, histogram(sub["lon"], sub["lat"], g), 0)
        assert np.array_equal(res.counts[t], y)
        zs.append(esda_z(y.ravel()[w.id_order], w))
        ns.append(y.ravel()[w.id_order])
    zs, ns = np.asarray(zs), np.asarray(ns)
    np.testing.assert_allclose(res.z.reshape(PERIODS, -1)[:, w.id_order], zs, rtol=1e-9,
                               atol=1e-9)
    want = [oracle_class(zs[:, k].tolist(), ns[:, k].tolist()) for k in range(len(w.id_order))]
    got = [EMERGING_CLASSES[c] for c in res.cls.ravel()[w.id_order]]
    assert got == want
    for name, (r, c, _) in PLANTED.items():
        assert EMERGING_CLASSES[res.cls[r, c]] == name
    counts = Counter(want)
    assert res.class_counts() == {k: counts.get(k, 0) for k in EMERGING_CLASSES}
    doc = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert doc["counts"] == res.class_counts() and len(doc["periods"]) == PERIODS
    for name, (r, c, series) in PLANTED.items():  # each planted cell leads its class
        first = doc["top"][name][0]
        lon, lat = g.centre(r, c)
        assert (first["lon"], first["lat"]) == (pytest.approx(lon, abs=1e-6),
                                                pytest.approx(lat, abs=1e-6))
        assert first["count"] == int(res.counts[-1, r, c]) >= series[-1]
        assert first["z"] == pytest.approx(zs[-1, w.id_order.index(r * g.nx + c)], abs=1e-3)
