"""An extract with the aggregate tables opens in place: its incident rows are not copied,
and every count the panels and the map show from the aggregates equals the same count
from rows (the same tables opened as a version 1 extract) and a pandas computation."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
import v2_factory as v2

from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query, Viewport

STATES = {
    "all": FilterState(),
    "window": FilterState(start=date(2024, 9, 3), end=date(2025, 1, 20)),
    "hours": FilterState(start=date(2024, 10, 1), end=date(2024, 10, 2),
                         start_hour=7, end_hour=18),
    "town": FilterState(areas=frozenset({"T1"})),
    "village_window": FilterState(start=date(2025, 2, 1), areas=frozenset({"V01", "T2"})),
    "categories": FilterState(incident_categories=frozenset({"criminal", "fraud"}),
                              end=date(2025, 3, 31)),
    "as_of": FilterState(as_of=date(2025, 1, 10)),
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("province")
    rows = v2.province_incidents()
    ex2 = open_extract(v2.write_v2(base / "v2", rows))
    ex1 = open_extract(v2.write_v1(base / "v1.duckdb", rows))
    yield ex2, ex1, v2.frame(rows)
    ex2.close()
    ex1.close()


def _pandas(df: pd.DataFrame, state: FilterState, as_of: date) -> pd.DataFrame:
    """The rows of ``state`` (window, as-of day, categories, areas with their children)."""
    t = df["reported_at"]
    keep = t < pd.Timestamp(as_of) + pd.Timedelta(days=1)
    if state.start:
        keep &= t >= pd.Timestamp(state.start) + pd.Timedelta(hours=state.start_hour or 0)
    if state.end:
        keep &= t < pd.Timestamp(state.end) + pd.Timedelta(
            hours=24 if state.end_hour is None else state.end_hour + 1)
    if state.incident_categories:
        keep &= df["category"].isin(state.incident_categories)
    if state.incident_statuses:
        keep &= df["status"].isin(state.incident_statuses)
    if state.areas:
        inside = {"T1": {"T1", "V00", "V01"}, "T2": {"T2", "V10", "V11"}}
        ids = set().union(*(inside.get(a, {a}) for a in state.areas))
        keep &= df["area_id"].isin(ids)
    return df[keep]


def test_opens_without_copying_rows(pair) -> None:
    ex2, ex1, df = pair
    assert ex2.aggregated and not ex1.aggregated
    kind = ex2.con.execute("SELECT table_type FROM information_schema.tables "
                           "WHERE table_name = 'incidents'").fetchall()
    assert kind == [("VIEW",)]
    assert ex2.report.tables["incidents"].rows == len(df)
    assert ex2.report.tables["incidents"].kept == ex1.report.tables["incidents"].kept
    # the unlisted area id is an area of the extract, as the row path makes it
    assert ex2.areas.idx_of("X9") is not None


@pytest.mark.parametrize("name", list(STATES))
def test_counts_equal_rows_and_pandas(pair, name: str) -> None:
    ex2, ex1, df = pair
    state = STATES[name]
    qa, qr = Query(ex2), Query(ex1)
    assert qa.aggregates(state) and not qr.aggregates(state)
    sel = _pandas(df, state, qa.as_of(state))
    assert qa.incident_count(state) == qr.incident_count(state) == len(sel)
    assert qa.unlocated_count(state) == qr.unlocated_count(state) == int(
        sel["area_id"].isna().sum())
    cats = sel["category"].value_counts().to_dict()
    got = {k: v for k, v in qa.incidents_by_category(state).items() if v}
    assert got == {k: v for k, v in qr.incidents_by_category(state).items() if v} == cats
    hours = np.bincount(sel["reported_at"].dt.hour, minlength=24)
    assert qa.incidents_by_hour(state).tolist() == qr.incidents_by_hour(state).tolist() \
        == hours.tolist()
    da, ca = qa.incidents_by_day(state)
    dr, cr = qr.incidents_by_day(state)
    assert da.tolist() == dr.tolist() and ca.tolist() == cr.tolist()
    per_day = sel.groupby(sel["reported_at"].dt.date).size()
    assert {d: int(c) for d, c in zip(da.astype(date), ca, strict=True) if c} == {
        d: int(c) for d, c in per_day.items()}
    for level in (None, "town", "county"):
        ia, na = qa.incidents_by_area(state, level)
        ir, nr = qr.incidents_by_area(state, level)
        by_id_a = {ex2.areas.ids[i]: int(n) for i, n in zip(ia, na, strict=True)}
        assert by_id_a == {ex1.areas.ids[i]: int(n) for i, n in zip(ir, nr, strict=True)}
    own = sel[sel["area_id"].notna()].groupby("area_id").size().to_dict()
    ia, na = qa.incidents_by_area(state)
    assert {ex2.areas.ids[i]: int(n) for i, n in zip(ia, na, strict=True)} == own
    assert qa.year_over_year(state, (2025, 4)) == qr.year_over_year(state, (2025, 4))
    assert qa.year_over_year(state) == qr.year_over_year(state)


def test_status_filter_counts_rows(pair) -> None:
    ex2, ex1, df = pair
    state = FilterState(incident_statuses=frozenset({"open"}), start=date(2025, 1, 1))
    qa = Query(ex2)
    assert not qa.aggregates(state)
    sel = _pandas(df, state, qa.as_of(state))
    assert qa.incident_count(state) == Query(ex1).incident_count(state) == len(sel)
    assert qa.incidents_by_hour(state).tolist() == np.bincount(
        sel["reported_at"].dt.hour, minlength=24).tolist()


def test_density_from_tiles(pair) -> None:
    """Each tile's count lands in the pixel of its centre: the grid equals the tiles of
    the pandas aggregation (zoom 13 here, 4.9 km tiles on 9.8 km pixels)."""
    ex2, _, df = pair
    q = Query(ex2)
    state = STATES["window"]
    size = 2 * np.pi * 6378137.0 / 2 ** 13
    half = np.pi * 6378137.0
    view = Viewport(12_790_000.0, 3_110_000.0, 12_830_000.0, 3_150_000.0, 4, 4)
    assert (view.x1 - view.x0) / 4 >= size
    grid = q.density_grid(state, view)
    sel = _pandas(df, state, q.as_of(state))
    sel = sel[sel["lon"].notna()]
    tx, ty = v2.tile(sel["lon"].to_numpy(), sel["lat"].to_numpy(), 13)
    cx, cy = (tx + 0.5) * size - half, half - (ty + 0.5) * size
    col = np.floor((cx - view.x0) / 10_000.0).astype(int)
    row = np.floor((cy - view.y0) / 10_000.0).astype(int)
    ok = (col >= 0) & (col < 4) & (row >= 0) & (row < 4)
    want = np.zeros((4, 4), int)
    np.add.at(want, (row[ok], col[ok]), 1)
    assert grid.tolist() == want.tolist()
    assert int(grid.sum()) > 0


def test_window_opens_only_its_months(pair, tmp_path) -> None:
    """Rows in place are read with partition pruning: a month outside the window may even
    be unreadable (the extract's files are never opened for it)."""
    ex2, _, df = pair
    q = Query(ex2)
    state = FilterState(start=date(2024, 12, 3), end=date(2025, 2, 20))
    target = ex2.path / "incidents" / "year=2024" / "month=05" / "part-0.parquet"
    saved = target.read_bytes()
    try:
        target.write_bytes(b"not parquet")
        sel = q.incidents(state)
        assert q.count(sel) == len(_pandas(df, state, q.as_of(state)))
        pts = q.incident_points(state)
        assert len(pts["mx"]) == int(_pandas(df, state, q.as_of(state))["lon"].notna().sum())
    finally:
        target.write_bytes(saved)


def test_rows_in_place_match_the_cache(pair) -> None:
    """The view's computed columns agree with the cleaned table of the row path."""
    ex2, ex1, _ = pair
    cols = "incident_id, reported_at, category, status, round(mx, 3), round(my, 3)"
    a = ex2.con.execute(f"SELECT {cols}, area_idx IS NULL FROM incidents ORDER BY 1").fetchall()
    b = ex1.con.execute(f"SELECT {cols}, area_idx IS NULL FROM incidents ORDER BY 1").fetchall()
    assert a == b
    ids2 = dict(ex2.con.execute("SELECT i.incident_id, a.area_id FROM incidents i "
                                "LEFT JOIN areas a USING (area_idx)").fetchall())
    ids1 = dict(ex1.con.execute("SELECT i.incident_id, a.area_id FROM incidents i "
                                "LEFT JOIN areas a USING (area_idx)").fetchall())
    assert ids2 == ids1
    assert isinstance(datetime.now(), datetime)


@pytest.fixture(scope="module")
def late_pair(tmp_path_factory: pytest.TempPathFactory):
    """Extracted at 13:37 (not on an hour), the feed stopping at the end of May: the KPI
    periods end inside an hour and the freshness reads a lag."""
    base = tmp_path_factory.mktemp("late")
    rows = [r for r in v2.province_incidents(seed=11) if r[1] < datetime(2025, 6, 1, 13, 50)]
    at = {"extracted_at": "2025-06-05T13:37:00"}
    ex2 = open_extract(v2.write_v2(base / "v2", rows, **at))
    ex1 = open_extract(v2.write_v1(base / "v1.duckdb", rows, **at))
    yield ex2, ex1
    ex2.close()
    ex1.close()


@pytest.mark.parametrize("which", ["pair", "late_pair"])
def test_periods_equal_rows(which: str, request: pytest.FixtureRequest) -> None:
    from data.analysis.change import change, change_by, change_series
    from data.period import freshness, incident_period

    ex2, ex1 = request.getfixturevalue(which)[:2]
    qa, qr = Query(ex2), Query(ex1)
    for state in (FilterState(), STATES["town"], STATES["categories"]):
        for period in ("day", "week", "month"):
            for to_date in (True, False):
                assert change(qa, state, period, to_date=to_date) == change(
                    qr, state, period, to_date=to_date)
        until = datetime(2025, 5, 31, 22, 41)
        assert change(qa, state, "week", to_date=True, until=until) == change(
            qr, state, "week", to_date=True, until=until)
        assert change_by(qa, state, "category") == change_by(qr, state, "category")
        assert change_by(qa, state, "area", level="village") == change_by(
            qr, state, "area", level="village")
        assert change_series(qa, state) == change_series(qr, state)
    assert incident_period(ex2) == incident_period(ex1)
    fa, fr = freshness(ex2)["incidents"], freshness(ex1)["incidents"]
    assert (fa.newest, fa.lag_days, fa.lags) == (fr.newest, fr.lag_days, fr.lags)


def test_grid_hotspots_on_tiles(pair, monkeypatch) -> None:
    """Gi* in place over more incidents than the rows may give runs on the Web-Mercator
    tiles: the cell counts are the tiles'. Under the limit it is the row path's."""
    from data import agg_counts
    from data.analysis.hotspots import grid_hotspots

    ex2, ex1, df = pair
    q = Query(ex2)
    state = STATES["window"]
    low = grid_hotspots(q, state)
    assert low.grid.tiles is None
    high = grid_hotspots(Query(ex1), state)
    assert low.counts.tolist() == high.counts.tolist() and low.cell_m == high.cell_m
    monkeypatch.setattr(agg_counts, "GRID_ROWS", 500)
    hs = grid_hotspots(q, state)
    assert hs.grid.tiles is not None
    z, tx0, ty0 = hs.grid.tiles
    sel = _pandas(df, state, q.as_of(state))
    sel = sel[sel["lon"].notna()]
    tx, ty = v2.tile(sel["lon"].to_numpy(), sel["lat"].to_numpy(), z)
    want = np.zeros((hs.ny, hs.nx), int)
    np.add.at(want, (hs.ny - 1 - (ty - ty0), tx - tx0), 1)
    assert hs.counts.tolist() == np.where(hs.study, want, 0).tolist()
    assert hs.counts.sum() > 0


def test_scene_in_place(pair) -> None:
    """Zoomed out the map is a raster from the tiles; zoomed in on a corner of a village,
    the few incidents there are drawn as symbols read from the rows."""
    from layers.scene import SceneOptions, build_scene, full_view

    ex2, _, df = pair
    q = Query(ex2)
    state = STATES["window"]
    opts = SceneOptions(hotspots=True, choropleth="count")
    scene = build_scene(q, state, full_view(ex2, 800, 500),
                        SceneOptions(choropleth="count", incident_points=False))
    assert scene.layer("incidents").meta["mode"] == "density"
    located = _pandas(df, state, q.as_of(state))["lon"].notna().sum()
    assert scene.layer("incidents").meta["count"] == located
    x0, y0 = np.radians(115.04) * 6378137.0, np.log(np.tan(
        np.pi / 4 + np.radians(27.04) / 2)) * 6378137.0
    near = build_scene(q, state, Viewport(x0, y0, x0 + 1500, y0 + 1000, 600, 400), opts)
    layer = near.layer("incidents")
    assert layer.meta["mode"] == "points"
    sel = _pandas(df, state, q.as_of(state))
    r = 6378137.0
    mx = np.radians(sel["lon"]) * r
    my = np.log(np.tan(np.pi / 4 + np.radians(sel["lat"]) / 2)) * r
    inside = (mx >= x0) & (mx < x0 + 1500) & (my >= y0) & (my < y0 + 1000)
    assert layer.meta["count"] == int(inside.sum()) > 0


def test_point_analyses_say_why_on_a_province(pair, monkeypatch) -> None:
    """Over the limit, the analyses that need every point are not run in place: the
    report says so with the count, the repeat layer says what to select (zh and en);
    the same figures from the cache (rows copied) are computed."""
    from data import agg_counts
    from data.report import analysis_sections
    from layers.scene import repeat_layers

    ex2, ex1, df = pair
    monkeypatch.setattr(agg_counts, "POINT_ROWS", 500)
    state = FilterState()
    doc = analysis_sections(Query(ex2), state)
    want = {"computed": False, "reason": "too_many_incidents", "incidents": len(df),
            "limit": 500}
    assert doc["repeats"] == doc["alerts"] == doc["hotspots"]["emerging"] == want
    assert "places" in analysis_sections(Query(ex1), state)["repeats"]
    for lang, word in (("zh", "请选择"), ("en", "select a county")):
        (layer,) = repeat_layers(Query(ex2), state, lang)
        assert word in layer.legend[0].label and f"{len(df):,}" in layer.legend[0].label
    narrow = FilterState(start=date(2025, 5, 1), areas=frozenset({"V00"}))
    assert "places" in analysis_sections(Query(ex2), narrow)["repeats"]


def test_counties_named_first_on_a_province(tmp_path) -> None:
    """Several counties: zoomed out their outlines and names, towns once zoomed in."""
    import factory
    from shapely.geometry import box

    from layers.scene import outline_levels

    areas = []
    for c in range(3):
        x = 115.0 + c
        areas.append((f"C{c}", f"县{c}", "county", None, box(x, 27, x + 1, 28).wkb, 1))
        for t in range(2):
            areas.append((f"C{c}T{t}", f"镇{c}{t}", "town", f"C{c}",
                          box(x + t / 2, 27, x + t / 2 + 0.5, 28).wkb, 1))
    ex = open_extract(factory.write_extract(tmp_path / "p.duckdb", {
        "meta": factory.meta_rows(), "areas": areas}))
    try:
        assert outline_levels(ex, 300_000.0) == {"county": True, "town": False}
        assert outline_levels(ex, 100_000.0) == {"county": True, "town": True}
    finally:
        ex.close()


def test_density_from_tiles_in_an_area(pair) -> None:
    """Under an area filter the tiles whose centre lies in the area count whole."""
    ex2, _, df = pair
    q = Query(ex2)
    state = FilterState(start=date(2024, 9, 3), areas=frozenset({"T1"}))
    r = 6378137.0
    half = np.pi * r
    size = 2 * half / 2 ** 13
    view = Viewport(12_790_000.0, 3_110_000.0, 12_830_000.0, 3_150_000.0, 4, 4)
    grid = q.density_grid(state, view)
    sel = _pandas(df, state.with_areas(()), q.as_of(state))
    sel = sel[sel["lon"].notna()]
    tx, ty = v2.tile(sel["lon"].to_numpy(), sel["lat"].to_numpy(), 13)
    cx, cy = (tx + 0.5) * size - half, half - (ty + 0.5) * size
    lon = np.degrees(cx / r)
    lat = np.degrees(2 * np.arctan(np.exp(cy / r)) - np.pi / 2)
    in_t1 = (lon > 115.0) & (lon < 115.1) & (lat > 27.0) & (lat < 27.2)
    col = np.floor((cx - view.x0) / 10_000.0).astype(int)
    row = np.floor((cy - view.y0) / 10_000.0).astype(int)
    ok = (col >= 0) & (col < 4) & (row >= 0) & (row < 4) & in_t1
    want = np.zeros((4, 4), int)
    np.add.at(want, (row[ok], col[ok]), 1)
    assert grid.tolist() == want.tolist()
    assert 0 < int(grid.sum()) < len(sel)


def test_pdf_briefing_on_a_province(pair, monkeypatch, tmp_path) -> None:
    """The briefing of a province read in place prints the same incident figures as the
    report and says why the point analyses are not in it (en)."""
    import re
    import subprocess

    from data import agg_counts
    from exporters.pdf_briefing import export_pdf

    ex2, _, df = pair
    monkeypatch.setattr(agg_counts, "POINT_ROWS", 500)
    target = tmp_path / "brief.pdf"
    state = FilterState(start=date(2025, 3, 1), end=date(2025, 5, 31))
    export_pdf(ex2, state, target, lang="en")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(target), "-"], check=True,
                          capture_output=True, text=True).stdout
    flat = re.sub(r"\s+", " ", text)
    n = len(_pandas(df, state, Query(ex2).as_of(state)))
    assert f"{n:,}" in flat
    assert "Point-by-point analyses not computed" in flat
    assert flat.count("select a county or town") >= 2  # summary and repeat table


def test_records_behind_a_figure_in_place(pair) -> None:
    """The records list behind a category bar and an area count reads the rows in place:
    its count is the figure's (from the aggregates) and pandas'."""
    from data.records import area_incidents, category_incidents, fetch_page, record_count

    ex2, _, df = pair
    q = Query(ex2)
    state = STATES["window"]
    sel = category_incidents(q, state, "fraud")
    assert record_count(q.con, sel) == q.incidents_by_category(state)["fraud"] == int(
        (_pandas(df, state, q.as_of(state))["category"] == "fraud").sum())
    page = fetch_page(q.con, sel, 0, 50)
    assert len(page) == min(50, record_count(q.con, sel))
    sel = area_incidents(q, state, "T1", "town")
    idx, n = q.incidents_by_area(state, "town")
    t1 = ex2.areas.idx_of("T1")
    assert record_count(q.con, sel) == int(n[list(idx).index(t1)])


def test_records_behind_a_density_pixel_in_place(pair) -> None:
    """A pixel of the raster drawn from tiles lists the rows whose tile centre it holds:
    list = figure for every pixel."""
    from data.records import density_incidents, record_count

    ex2, _, _ = pair
    q = Query(ex2)
    state = STATES["window"]
    view = Viewport(12_790_000.0, 3_110_000.0, 12_830_000.0, 3_150_000.0, 8, 8)
    grid = q.density_grid(state, view)
    assert grid.sum() > 0
    for cell in np.flatnonzero(grid.ravel()):
        assert record_count(q.con, density_incidents(q, state, view, int(cell))) == \
            grid.ravel()[cell]


def test_records_behind_a_gi_cell_in_place(pair, monkeypatch) -> None:
    from data import agg_counts
    from data.analysis.hotspots import grid_hotspots
    from data.records import hotspot_cell_incidents, record_count

    monkeypatch.setattr(agg_counts, "GRID_ROWS", 500)
    ex2, _, _ = pair
    q = Query(ex2)
    state = STATES["window"]
    hs = grid_hotspots(q, state)
    cells = np.flatnonzero(hs.counts.ravel())
    assert len(cells) > 0
    for cell in cells[:40]:
        assert record_count(q.con, hotspot_cell_incidents(q, state, int(cell))) == \
            hs.counts.ravel()[cell]


def test_a_damaged_incident_file_falls_back_to_cleaning(tmp_path) -> None:
    """A data page of an incident file damaged (its footer intact): the extract still
    opens, as a version 1 one, with the file set aside and said so."""
    rows = v2.province_incidents(n=800)
    path = v2.write_v2(tmp_path / "v2", rows)
    bad = sorted((path / "incidents").rglob("*.parquet"))[-3]
    data = bytearray(bad.read_bytes())
    data[200:len(data) // 2] = b"Z" * (len(data) // 2 - 200)
    bad.write_bytes(bytes(data))
    ex = open_extract(path)
    try:
        assert not ex.aggregated
        assert ex.report.tables["incidents"].adjusted.get("broken_file_skipped") == 1
        assert any("unreadable" in n for n in ex.report.notes)
        assert 0 < Query(ex).incident_count(FilterState()) < len(rows)
    finally:
        ex.close()
