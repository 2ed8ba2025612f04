"""The records behind every figure count the same as the figure, and as pandas does.

For each kind of figure that opens a records list (KPI tiles, category and hour bars,
hot-village rows, the overdue list, both funnels' stages, areas, density-raster cells
and Gi* grid cells) three numbers are held equal: what the spec on screen shows, the
records list's count, and an independent computation on the raw extract (pandas and
geopandas in tests/oracle.py, plain Python paths in tests/test_mediation.py, numpy
binning of the cached coordinates for grid cells). Each is checked without a filter and
under a window, a town and a category.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from data import records
from data.analysis.hotspots import grid_for, grid_hotspots
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query, Viewport
from layers import dashboard
from layers.records import FigureRef, page_cells, page_keys, records_for
from layers.scene import SceneOptions, build_scene, full_view
from tests import test_mediation as med_oracle
from tests.oracle import is_under, load_raw


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=7)
    return {"path": path, "raw": load_raw(path), "med": med_oracle.load_raw(path),
            "cache": tmp_path_factory.mktemp("cache")}


@pytest.fixture()
def q(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Query:
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(demo["cache"]))
    ex = open_extract(demo["path"])
    yield Query(ex)
    ex.close()


def _town(raw: dict[str, Any]) -> str:
    areas = raw["areas"]
    return sorted(areas.loc[areas["level"] == "town", "area_id"])[3]


def states(raw: dict[str, Any]) -> list[FilterState]:
    as_of = raw["as_of"]
    return [FilterState(),
            FilterState().with_window(as_of - timedelta(days=200), as_of - timedelta(days=20))
            .with_areas({_town(raw)}).with_set("incident_categories", {"criminal", "fraud"})]


def count_of(q: Query, st: FilterState, ref: FigureRef) -> int:
    return records.record_count(q.con, records_for(q, st, ref).selection)


def number(text: str) -> int:
    return int(text.replace(",", ""))


# --------------------------------------------------------------------------- pandas
def incidents(raw: dict[str, Any], st: FilterState, window: bool = True) -> pd.DataFrame:
    inc = raw["incidents"]
    stop = datetime.combine(raw["as_of"] + timedelta(days=1), datetime.min.time())
    m = inc["reported_at"] < stop
    if window and st.start:
        m &= inc["reported_at"] >= datetime.combine(st.start, datetime.min.time())
    if window and st.end:
        m &= inc["reported_at"] < datetime.combine(st.end + timedelta(days=1),
                                                   datetime.min.time())
    if st.incident_categories:
        m &= inc["category"].isin(st.incident_categories)
    sel = inc[m]
    for a in st.areas:
        sel = sel[sel["area"].map(lambda x, a=a: is_under(raw["parent"], x, a))]
    return sel


def hazards(raw: dict[str, Any], st: FilterState) -> pd.DataFrame:
    as_of = raw["as_of"]
    stop = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    hz = raw["hazards"]
    hz = hz[hz["discovered_at"] < stop]
    for a in st.areas:
        hz = hz[hz["area"].map(lambda x, a=a: is_under(raw["parent"], x, a))]
    ev = raw["rectifications"].reset_index()
    ev = ev[ev["event_at"] < stop].sort_values(["event_at", "index"])
    last = ev.groupby("hazard_id")["action"].last().to_dict()
    to_state = {"assigned": "rectifying", "reopened": "rectifying", "rectified": "rectified",
                "reinspected": "verified"}
    hz = hz.assign(state=hz["hazard_id"].map(lambda h: to_state.get(last.get(h), "open")))
    late = pd.to_datetime(hz["deadline"]) < pd.Timestamp(as_of)
    return hz.assign(overdue=late & hz["state"].isin(["open", "rectifying"]))


def disputes(raw: dict[str, Any], st: FilterState) -> pd.DataFrame:
    ds = raw["disputes"]
    stop = datetime.combine(raw["as_of"] + timedelta(days=1), datetime.min.time())
    m = ds["received_at"] < stop
    if st.start:
        m &= ds["received_at"] >= datetime.combine(st.start, datetime.min.time())
    if st.end:
        m &= ds["received_at"] < datetime.combine(st.end + timedelta(days=1),
                                                  datetime.min.time())
    sel = ds[m]
    for a in st.areas:
        sel = sel[sel["area"].map(lambda x, a=a: is_under(raw["parent"], x, a))]
    return sel


# --------------------------------------------------------------------------- KPI tiles
@pytest.mark.parametrize("which", [0, 1])
def test_kpi_tiles(demo: dict[str, Any], q: Query, which: int) -> None:
    raw = demo["raw"]
    st = states(raw)[which]
    tiles = {k.key: k for k in dashboard.kpis(q, st)}
    at = raw["extracted_at"]
    day = datetime.combine(at.date(), datetime.min.time())
    starts = {"kpi_today": day, "kpi_week": day - timedelta(days=at.weekday()),
              "kpi_month": day.replace(day=1)}
    inc = incidents(raw, st, window=False)  # the period tiles ignore the window
    for key, start in starts.items():
        want = int(((inc["reported_at"] >= start) & (inc["reported_at"] < at)).sum())
        assert count_of(q, st, FigureRef("kpi", key)) == number(tiles[key].value) == want, key
    hz = hazards(raw, st)
    active = int(hz["state"].isin(["open", "rectifying"]).sum())
    assert count_of(q, st, FigureRef("kpi", "open_hazards")) == number(
        tiles["open_hazards"].value) == active
    assert count_of(q, st, FigureRef("kpi", "overdue")) == number(
        tiles["overdue"].value) == int(hz["overdue"].sum())
    major = int((hz["risk_level"] == "major").sum())
    assert count_of(q, st, FigureRef("kpi", "major_rate")) == major
    assert f"{major:,}" in tiles["major_rate"].detail  # the tile's "done / total" line
    ds = disputes(raw, st)
    finished = int(ds["status"].isin(["resolved", "failed", "referred"]).sum())
    assert count_of(q, st, FigureRef("kpi", "mediation")) == finished
    res = raw["resources"]
    for a in st.areas:
        res = res[res["area"].map(lambda x, a=a: is_under(raw["parent"], x, a))]
    avail = int(res["available"].fillna(True).astype(bool).sum())
    assert count_of(q, st, FigureRef("kpi", "forces")) == number(tiles["forces"].value) == avail


# --------------------------------------------------------------------------- charts
@pytest.mark.parametrize("which", [0, 1])
def test_category_and_hour_bars(demo: dict[str, Any], q: Query, which: int) -> None:
    raw = demo["raw"]
    st = states(raw)[which]
    bars = dashboard.category_chart(q, st)
    # the chart leaves out its own field: every category stays, to add or compare
    wide = incidents(raw, st.without("incident_categories"))
    assert len(bars.keys) > 2
    for code, value in zip(bars.keys, bars.series[0], strict=True):
        want = int((wide["category"] == code).sum())
        assert count_of(q, st, FigureRef("categories", code)) == int(value) == want, code
    hours = dashboard.hour_chart(q, st)
    inc = incidents(raw, st)
    for h in range(24):
        want = int((inc["reported_at"].dt.hour == h).sum())
        assert count_of(q, st, FigureRef("hours", str(h))) == int(hours.series[0][h]) == want


# --------------------------------------------------------------------------- tables
def test_hot_village_rows(demo: dict[str, Any], q: Query) -> None:
    raw = demo["raw"]
    st = FilterState()
    table = dashboard.hotspot_table(q, st)
    assert table.rows
    inc = incidents(raw, st)
    for key, row in zip(table.keys, table.rows, strict=True):
        want = int(inc["area"].map(lambda x, k=key: is_under(raw["parent"], x, k)).sum())
        assert count_of(q, st, FigureRef("hotspots", key)) == number(row[2]) == want


@pytest.mark.parametrize("which", [0, 1])
def test_overdue_rows(demo: dict[str, Any], q: Query, which: int) -> None:
    from data.analysis.rectification import rectification

    raw = demo["raw"]
    st = states(raw)[which]
    rect = rectification(q, st)
    table = dashboard.overdue_table(q, st, rect)
    src = records_for(q, st, FigureRef("overdue", table.keys[0] if table.keys else ""))
    ids = set()
    for page in records.iter_pages(q.con, src.selection, batch=97):
        ids |= {k for k, _lon, _lat in page_keys(page, "hazards")}
    hz = hazards(raw, st)
    want = set(hz.loc[hz["overdue"], "hazard_id"])
    assert ids == set(rect.overdue.columns["hazard_id"].tolist()) == want
    assert set(table.keys) <= ids  # the table is the top of the list


# --------------------------------------------------------------------------- funnels
@pytest.mark.parametrize("which", [0, 1])
def test_funnel_stages(demo: dict[str, Any], q: Query, which: int) -> None:
    from data.analysis.mediation import mediation
    from data.analysis.rectification import rectification

    raw = demo["raw"]
    st = states(raw)[which]
    rect = dashboard.rectification_funnel(rectification(q, st))
    hz = hazards(raw, st)
    want = [len(hz), int(hz["state"].isin(["rectified", "verified"]).sum()),
            int((hz["state"] == "verified").sum())]
    for i, value in enumerate(rect.values):
        assert count_of(q, st, FigureRef("rect_funnel", str(i))) == value == want[i]
    med = dashboard.mediation_funnel(mediation(q, st))
    expected = med_oracle.expected(demo["med"], st.start, st.end, tuple(st.areas))
    for i, level in enumerate(dashboard.MEDIATION_STAGES):
        assert count_of(q, st, FigureRef("med_funnel", str(i))) == med.values[i] \
            == expected["funnel"][f"reached_{level}"], level


# --------------------------------------------------------------------------- the map
@pytest.mark.parametrize("which", [0, 1])
def test_areas(demo: dict[str, Any], q: Query, which: int) -> None:
    raw = demo["raw"]
    st = states(raw)[which]
    areas = q.extract.areas
    town = _town(raw)
    inc = incidents(raw, st)
    in_town = inc["area"][inc["town"] == town]
    village = in_town.value_counts().index[0]  # the town's busiest village
    for area_id in (town, village):
        idx = areas.idx_of(area_id)
        got_idx, got_n = q.incidents_by_area(st, areas.levels[idx])
        figure = dict(zip(got_idx.tolist(), got_n.tolist(), strict=True)).get(idx, 0)
        want = int(inc["area"].map(lambda x, a=area_id: is_under(raw["parent"], x, a)).sum())
        assert count_of(q, st, FigureRef("area", area_id)) == figure == want > 0


def _cached_points(q: Query, st: FilterState) -> dict[str, np.ndarray]:
    """Located incidents' cached Mercator coordinates, filtered in pandas by id."""
    res = q.con.execute("SELECT incident_id, mx, my FROM incidents WHERE mx IS NOT NULL"
                        ).fetchnumpy()
    return {k: np.asarray(v) for k, v in res.items()}


@pytest.mark.parametrize("which", [0, 1])
def test_density_cells(demo: dict[str, Any], q: Query, which: int) -> None:
    raw = demo["raw"]
    st = states(raw)[which]
    view = full_view(q.extract, 800, 600)
    # incident_points=False: always the raster (few incidents in view would be symbols)
    scene = build_scene(q, st, view, SceneOptions(hotspots=False, resources=False,
                                                  hazards=False, incident_points=False))
    raster = scene.layer("incidents").drawables[0]
    h, w = raster.values.shape
    grid_view = Viewport(*raster.extent, w, h)
    shown = np.expm1(raster.values).round().astype(np.int64)  # the raster shows log1p(count)
    pts = _cached_points(q, st)
    ids = set(incidents(raw, st)["incident_id"])
    keep = np.isin(pts["incident_id"], list(ids))
    mx, my = pts["mx"][keep].astype(float), pts["my"][keep].astype(float)
    cw, ch = (grid_view.x1 - grid_view.x0) / w, (grid_view.y1 - grid_view.y0) / h
    inside = (mx >= grid_view.x0) & (mx < grid_view.x1) & (my >= grid_view.y0) & (
        my < grid_view.y1)
    col = np.minimum(np.floor((mx[inside] - grid_view.x0) / cw).astype(int), w - 1)
    row = np.minimum(np.floor((my[inside] - grid_view.y0) / ch).astype(int), h - 1)
    brute = np.bincount(row * w + col, minlength=w * h)
    busiest = np.argsort(-shown.ravel(), kind="stable")[:3]
    for cell in [*busiest.tolist(), int(np.flatnonzero(shown.ravel() == 1)[0])]:
        got = count_of(q, st, FigureRef("density", str(cell), grid_view))
        assert got == shown.ravel()[cell] == brute[cell] > 0


def test_hotspot_cells(demo: dict[str, Any], q: Query) -> None:
    st = FilterState()
    hs = grid_hotspots(q, st)
    grid = grid_for(q, st)
    hot = np.flatnonzero(hs.cls.ravel() > 0)
    assert len(hot)
    pts = _cached_points(q, st)
    mx, my = pts["mx"].astype(float), pts["my"].astype(float)
    ix = np.floor((mx - grid.x0) / grid.cell).astype(int)
    iy = np.floor((my - grid.y0) / grid.cell).astype(int)
    ok = (ix >= 0) & (ix < grid.nx) & (iy >= 0) & (iy < grid.ny)
    brute = np.bincount(iy[ok] * grid.nx + ix[ok], minlength=grid.nx * grid.ny)
    for cell in hot[:5].tolist():
        got = count_of(q, st, FigureRef("hotspot_cell", str(cell)))
        assert got == int(hs.counts.ravel()[cell]) == brute[cell] > 0


# --------------------------------------------------------------------------- paging
def test_pages_cover_the_list_once_in_order(q: Query) -> None:
    src = records_for(q, FilterState(), FigureRef("categories", "criminal"))
    n = records.record_count(q.con, src.selection)
    assert n > 500
    for sort, desc in ((None, False), ("address", False), ("reported_at", False),
                       ("area_idx", True)):
        ids, values = [], []
        for off in range(0, n, 173):
            page = records.fetch_page(q.con, src.selection, off, 173, sort, desc)
            ids += page.columns["incident_id"]
            values += page.columns[sort or "reported_at"]
        assert len(ids) == len(set(ids)) == n
        present = [v for v in values if v is not None]
        want_desc = desc if sort else True  # the default is newest first
        assert present == sorted(present, reverse=want_desc)
        assert values[len(present):] == [None] * (n - len(present))  # NULLs last
    streamed = [i for p in records.iter_pages(q.con, src.selection, batch=1000)
                for i in p.columns["incident_id"]]
    assert len(streamed) == n and len(set(streamed)) == n


def test_cells_are_masked(q: Query) -> None:
    src = records_for(q, FilterState(), FigureRef("kpi", "forces"))
    page = records.fetch_page(q.con, src.selection, 0, 500, "kind", False)
    raw_phones = {p for p in page.columns["phone"] if p}
    raw_names = {n for n, k in zip(page.columns["name"], page.columns["kind"], strict=True)
                 if k in ("officer", "auxiliary", "mediator", "mass_prevention") and n}
    assert raw_phones and raw_names
    text = "\n".join("\t".join(r) for r in page_cells(page, "resources", q.extract))
    assert not any(p in text for p in raw_phones)
    assert not any(n in text for n in raw_names if len(n) > 1)
    assert "****" in text


def test_unknown_figure_is_refused(q: Query) -> None:
    with pytest.raises(ValueError):
        records_for(q, FilterState(), FigureRef("kpi", "no_such_tile"))
    with pytest.raises(ValueError):
        records_for(q, FilterState(), FigureRef("area", "NO_SUCH_AREA"))


def test_sources_are_real_duckdb(tmp_path: Path) -> None:
    """A tiny extract: a filter that selects nothing gives an empty list, not an error."""
    from tests.factory import incident, meta_rows, standard_areas, write_extract

    path = write_extract(tmp_path / "x.duckdb", {
        "meta": meta_rows(), "areas": standard_areas(),
        "incidents": [incident(i, 115.05, 27.05) for i in range(5)]})
    ex = open_extract(path)
    try:
        qq = Query(ex)
        st = FilterState().with_set("incident_categories", {"fire"})
        assert count_of(qq, st, FigureRef("hours", "3")) == 0
        assert count_of(qq, FilterState(), FigureRef("area", "V00")) == 5
        page = records.fetch_page(qq.con, records_for(qq, st, FigureRef("hours", "3")).selection,
                                  0, 10)
        assert len(page) == 0
    finally:
        ex.close()
