"""Every analysis on the levels and fields an extract has (issue 14 item 1), the
minimum-count rule of Gi*, and pictures without window chrome (item 6).

Fixtures of four shapes (``factory.SHAPES``): county polygon only, towns only (no
villages), no coordinates, no addresses. Figures are checked against a brute-force
Gi* written here from Getis & Ord's formula with shapely contiguity; outlines against
shapely; the map and the PNG on pixels.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from factory import (
    SHAPES,
    STEP,
    TOWN_COLS,
    TOWN_ROWS,
    X0,
    Y0,
    county_box,
    incident,
    town_box,
    write_extract,
)

from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query

_OPENED: dict[Path, Query] = {}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    base = tmp_path_factory.mktemp("shapes")
    out = {}
    for name, build in SHAPES.items():
        tables = build()
        out[name] = (write_extract(base / f"{name}.duckdb", tables), tables)
    return out


def _query(path: Path) -> Query:
    if path not in _OPENED:
        _OPENED[path] = Query(open_extract(path))
    return _OPENED[path]


@pytest.fixture(scope="module", autouse=True)
def _close() -> Iterator[None]:
    yield
    for q in _OPENED.values():
        q.extract.close()
    _OPENED.clear()


def brute_gi_star(y: np.ndarray, polys: list[shapely.Geometry]) -> np.ndarray:
    """Gi* z (self included, binary weights) by the formula, neighbours by shapely."""
    n = len(y)
    w = np.array([[1.0 if i == j or a.intersects(b) else 0.0 for j, b in enumerate(polys)]
                  for i, a in enumerate(polys)])
    mean, s = y.mean(), y.std()
    wi = w.sum(axis=1)
    return (w @ y - mean * wi) / (s * np.sqrt((n * wi - wi ** 2) / (n - 1)))


def town_of(lon: float, lat: float) -> str:
    i = min(int((lon - X0) / STEP), TOWN_COLS - 1)
    j = min(int((lat - Y0) / STEP), TOWN_ROWS - 1)
    return f"T{i}{j}"


# ----------------------------------------------------------------------------- Gi* level
@pytest.mark.parametrize("shape", ["towns_only", "no_coordinates", "no_addresses"])
def test_area_gi_star_runs_at_town_level_and_matches_brute_force(shapes: dict,
                                                                 shape: str) -> None:
    from data.analysis.hotspots import area_hotspots

    path, tables = shapes[shape]
    res = area_hotspots(_query(path), FilterState())
    assert res.level == "town" and res.reason is None
    ids = [f"T{i}{j}" for i in range(TOWN_COLS) for j in range(TOWN_ROWS)]
    counts = dict.fromkeys(ids, 0)
    for r in tables["incidents"]:
        counts[r[7] if r[4] is None else town_of(r[4], r[5])] += 1
    y = np.array([counts[t] for t in ids], float)
    want = dict(zip(ids, brute_gi_star(y, [town_box(int(t[1]), int(t[2])) for t in ids]),
                    strict=True))
    got = {res.areas.ids[a]: float(z) for a, z in zip(res.area_idx, res.z, strict=True)}
    assert set(got) == set(ids)
    np.testing.assert_allclose([got[t] for t in ids], [want[t] for t in ids], atol=1e-9)
    doc = res.to_json()
    hot = [t for t in ids if want[t] >= 1.645 and counts[t] >= 3]
    assert [r["area_id"] for r in doc["hot_areas"]] == sorted(hot, key=lambda t: -want[t])
    assert hot == ["T00"]
    assert doc["level"] == "town" and doc["min_areas"] == 8 and doc["candidates"] == {"town": 12}


def test_county_only_says_why_there_is_no_area_gi_star(shapes: dict) -> None:
    from data.analysis.hotspots import area_hotspots
    from data.analysis.safety_index import safety_index
    from layers.dashboard import hotspot_table

    q = _query(shapes["county_only"][0])
    doc = area_hotspots(q, FilterState()).to_json()
    assert doc["level"] is None and doc["reason"] == "too_few_areas"
    assert doc["candidates"] == {"county": 0} and doc["hot_areas"] == []
    spec = hotspot_table(q, FilterState(), "zh")
    assert spec.rows == () and "8" in spec.empty and "县" in spec.empty
    en = hotspot_table(q, FilterState(), "en")
    assert "at least 8 areas" in en.empty
    si = safety_index(q, FilterState()).to_json()
    assert si["level"] == "county" and si["areas"] == [] and si["reason"] == "single_area"


def test_report_json_says_the_level(shapes: dict) -> None:
    from data.report import build_report

    towns = build_report(_query(shapes["towns_only"][0]).extract, FilterState())
    assert towns["hotspots"]["areas"]["level"] == "town"
    assert towns["safety_index"]["level"] == "town" and len(towns["safety_index"]["areas"]) == 12
    county = build_report(_query(shapes["county_only"][0]).extract, FilterState())
    assert county["hotspots"]["areas"]["reason"] == "too_few_areas"
    assert county["incidents"]["total"] == 120  # the contract keys are all still there
    for key in ("region", "as_of", "incidents", "resources", "hazards", "disputes",
                "load_report"):
        assert key in county


def test_panel_title_names_the_level(shapes: dict) -> None:
    from layers.dashboard import hotspot_table

    q = _query(shapes["towns_only"][0])
    zh, en = hotspot_table(q, FilterState(), "zh"), hotspot_table(q, FilterState(), "en")
    assert zh.title.startswith("热点乡镇") and en.title.startswith("Hotspot towns")
    assert [r[0] for r in zh.rows] == ["镇00"] and zh.columns[0] == "乡镇"
    assert zh.rows[0][1] == "测试县"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_panel_answers_on_each_shape(shapes: dict, shape: str) -> None:
    from layers.dashboard import build_panels
    from layers.panels import TableSpec

    panels = build_panels(_query(shapes[shape][0]), FilterState(), "zh")
    assert panels.errors() == []
    for spec in (panels.hotspots, panels.overdue):
        assert isinstance(spec, TableSpec)
    assert panels.hotspots.rows or panels.hotspots.empty
    want = 120 if shape == "county_only" else 240
    assert sum(panels.hours.series[0]) == sum(panels.categories.series[0]) == want


# ----------------------------------------------------------------------------- min count
def test_a_single_incident_is_never_a_hot_spot(tmp_path: Path) -> None:
    """One incident in an hour: Gi* scores its empty neighbours far above 2.58; none is hot."""
    from data.analysis.hotspots import MIN_HOT_COUNT, grid_hotspots

    rows = SHAPES["towns_only"]()
    rows["incidents"] = [incident(0, X0 + 1.5 * STEP, Y0 + 1.5 * STEP)]  # a quiet hour
    path = write_extract(tmp_path / "one.duckdb", rows)
    q = Query(open_extract(path))
    try:
        state = FilterState()
        res = grid_hotspots(q, state)
        assert res.counts.sum() >= 1
        assert np.nanmax(res.z) > 2.576  # the statistic alone would call it 99 % hot
        assert (res.cls > 0).sum() == 0 and MIN_HOT_COUNT == 3
        assert res.to_json()["top"] == []
    finally:
        q.extract.close()


# ----------------------------------------------------------------------------- outlines
@pytest.mark.parametrize(("shape", "levels"), [("county_only", {"county"}),
                                                ("towns_only", {"county", "town"})])
def test_map_draws_the_outlines_of_the_levels_present(shapes: dict, shape: str,
                                                      levels: set[str]) -> None:
    from data.coords import mercator_to_lonlat
    from layers.scene import SceneOptions, build_scene, full_view

    q = _query(shapes[shape][0])
    scene = build_scene(q, FilterState(), full_view(q.extract), SceneOptions())
    shown = {s.name.split(".")[1] for s in scene.layers
             if s.name.startswith("areas.") and s.visible and s.drawables}
    assert shown == levels
    county = scene.layer("areas.county").drawables[0]
    (ring,) = county.rings[0]
    lon, lat = mercator_to_lonlat(ring[:, 0], ring[:, 1])
    drawn = shapely.Polygon(np.column_stack([lon, lat]))
    assert drawn.symmetric_difference(county_box()).area < 1e-9


def test_window_shows_the_county_outline(qtbot, shapes: dict, tmp_path: Path) -> None:
    """Offscreen window on a county-only extract: the county's outline colour is drawn
    along the county's edges on the map canvas (pixels counted)."""
    from test_cockpit_window import grab_image, open_window

    from data.coords import lonlat_to_mercator
    from layers.scene import LEVEL_PENS

    win = open_window(qtbot, shapes["county_only"][0], 1600, 1000)
    try:
        img = win.board.canvas.grab().toImage()
        img.save(str(tmp_path / "county_only_map.png"))
        arr = grab_image(img)[..., :3].astype(int)
        pen = np.array(LEVEL_PENS["county"][0][:3])
        near = (np.abs(arr - pen).sum(axis=-1) < 60)
        view = win.board.canvas.map_view()
        (x0, x1), (y0, y1) = lonlat_to_mercator(
            [X0, X0 + TOWN_COLS * STEP], [Y0, Y0 + TOWN_ROWS * STEP])
        c = win.board.canvas
        px = lambda x: round((x - view.x0) / (view.x1 - view.x0) * c.width())  # noqa: E731
        py = lambda y: round((view.y1 - y) / (view.y1 - view.y0) * c.height())  # noqa: E731
        left, right, top, bottom = px(x0), px(x1), py(y1), py(y0)
        assert 0 < left < right < c.width() and 0 < top < bottom < c.height()
        # the west and east edges: most rows between top and bottom have an outline pixel
        for col in (left, right):
            band = near[top + 5:bottom - 5, max(col - 3, 0):col + 4].any(axis=1)
            assert band.mean() > 0.8, (col, band.mean())
        assert near.sum() > 2 * ((right - left) + (bottom - top)) * 0.8
    finally:
        win.close()


# ----------------------------------------------------------------------------- exports
def test_pdf_and_html_on_a_county_only_extract(shapes: dict, tmp_path: Path) -> None:
    from data.analysis.hotspots import area_hotspots
    from exporters.html_map import export_html
    from exporters.pdf_briefing import export_pdf
    from layers.hotspot_text import hotspot_reason

    q = _query(shapes["county_only"][0])
    out = tmp_path / "c.pdf"
    export_pdf(q.extract, FilterState(), out, lang="en")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    why = hotspot_reason(area_hotspots(q, FilterState()).to_json(), "en")
    flat = " ".join(text.split())
    assert "Hotspot areas not computed" in flat and why.split(";")[0] in flat
    summary = export_html(q.extract, FilterState(), tmp_path / "c.html")
    assert summary["counties"] == 1 and summary["towns"] == 0


def test_png_export_has_no_window_chrome(shapes: dict, tmp_path: Path, qtbot) -> None:
    """The image is the content at the asked size; its top rows are not the menu bar."""
    from PySide6.QtGui import QImage
    from test_cockpit_window import grab_image

    from desktop.export_png import export_png
    from desktop.main_window import CockpitWindow
    from widgets.theme import DARK

    out = tmp_path / "shot.png"
    info = export_png(str(shapes["towns_only"][0]), str(out), (1280, 800), FilterState())
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1280, 800) == (info["width"], info["height"])
    win = CockpitWindow(DARK, "zh", interactive=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    bar = grab_image(win.menuBar().grab().toImage())[..., :3].astype(int)
    h = bar.shape[0]
    assert h > 10
    top = grab_image(img)[:h, :bar.shape[1], :3].astype(int)
    assert np.abs(top - bar).mean() > 5  # not the menu bar
    # the header of the content starts the image: the region's name is in the top rows
    assert int(info["kpi_box"].split(",")[1]) < 200
    win.close()


def test_atlas_pages_the_levels_present(shapes: dict, tmp_path: Path) -> None:
    from exporters.pdf_briefing import export_pdf
    from layers.briefing import town_states

    towns = town_states(_query(shapes["towns_only"][0]).extract, FilterState())
    assert [t[0] for t in towns] == [f"T{i}{j}" for i in range(TOWN_COLS)
                                      for j in range(TOWN_ROWS)]
    q = _query(shapes["county_only"][0])
    assert [t[0] for t in town_states(q.extract, FilterState())] == ["C"]
    info = export_pdf(q.extract, FilterState(), tmp_path / "atlas.pdf", lang="en", atlas="town")
    assert info["towns"] == 1
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "atlas.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "1/1" in text.replace(" ", "") or "1 of 1" in text
