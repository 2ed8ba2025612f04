"""Reference layers (roads, rivers, beats, grids): read in any CRS, drawn in their colour on
the canvas and in the exports, simplified when big, and a bad file is a notice, not a crash.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import factory
import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from shapely.geometry import LineString, Point, Polygon

from data.coords import lonlat_to_mercator
from data.reference import ReferenceStyle, load_reference, load_references
from desktop.backdrop import BackdropController, load_backdrop
from desktop.settings import Settings, load_settings
from layers.backdrop import reference_specs
from layers.scene import fit_view
from widgets.map_canvas import MapCanvas

W, H = 640, 480
GREEN = (0, 255, 0)
ROAD = [(115.02, 27.03), (115.08, 27.07), (115.15, 27.06)]
BEAT = [(115.03, 27.10), (115.09, 27.10), (115.09, 27.15), (115.03, 27.15)]
CENTER = (115.085, 27.09)


def write_layers(folder: Path, crs: str = "EPSG:4547", driver: str = "GPKG",
                 name: str = "ref.gpkg") -> Path:
    """A road (line) and a police beat (polygon) written in ``crs``."""
    df = gpd.GeoDataFrame({"name": ["国道", "东城警务区"]},
                          geometry=[LineString(ROAD), Polygon(BEAT)], crs="EPSG:4326")
    path = folder / name
    df.to_crs(crs).to_file(path, driver=driver)
    return path


def pixel(canvas: MapCanvas, img: QImage, lon: float, lat: float) -> tuple[int, int, int]:
    mx, my = lonlat_to_mercator([lon], [lat])
    pt = canvas.mapFromScene(canvas.getViewBox().mapViewToScene(QPointF(mx[0], my[0])))
    c = img.pixelColor(pt.x(), pt.y())
    return c.red(), c.green(), c.blue()


@pytest.fixture()
def canvas(qtbot) -> MapCanvas:
    c = MapCanvas(background=(11, 26, 46))
    qtbot.addWidget(c)
    c.resize(W, H)
    c.show()
    qtbot.waitExposed(c)
    x, y = lonlat_to_mercator([CENTER[0]], [CENTER[1]])
    c.set_view(fit_view(x[0] - 9000, y[0] - 9000, x[0] + 9000, y[0] + 9000, W, H, margin=0))
    return c


@pytest.mark.parametrize("crs", ["EPSG:4547", "EPSG:4326", "EPSG:32650"])
def test_reference_layer_in_its_colour_where_it_is(canvas: MapCanvas, tmp_path: Path, qtbot,
                                                   crs: str) -> None:
    path = write_layers(tmp_path, crs)
    layers, failed = load_references([ReferenceStyle(path, "路网", (*GREEN, 255), 4.0,
                                                     (255, 0, 0, 255))])
    assert failed == []
    canvas.set_reference(tuple(layers))
    qtbot.wait(30)
    img = canvas.grab().toImage()
    mid = ((ROAD[0][0] + ROAD[1][0]) / 2, (ROAD[0][1] + ROAD[1][1]) / 2)
    assert pixel(canvas, img, *mid) == GREEN
    inside = pixel(canvas, img, BEAT[0][0] + 0.02, BEAT[0][1] + 0.02)
    assert inside[0] > 200 and inside[1] < 60  # the red fill
    assert pixel(canvas, img, 115.12, 27.12) == (11, 26, 46)  # nothing else drawn
    # listed apart from the scene's layers, and toggleable
    assert list(canvas.reference_layers()) == ["reference.0"] and canvas.layers() == {}
    canvas.set_layer_visible("reference.0", False)
    qtbot.wait(30)
    assert pixel(canvas, canvas.grab().toImage(), *mid) == (11, 26, 46)


def test_shapefile_with_gbk_names_and_no_cpg(tmp_path: Path) -> None:
    df = gpd.GeoDataFrame({"名称": ["东城警务区", "西区网格"]},
                          geometry=[Polygon(BEAT), shapely.box(115.1, 27.0, 115.12, 27.02)],
                          crs="EPSG:4326")
    df.to_file(tmp_path / "beats.shp", encoding="GBK")
    (tmp_path / "beats.cpg").unlink(missing_ok=True)  # as many Chinese files come
    layer = load_reference(ReferenceStyle(tmp_path / "beats.shp", "警务区"))
    shapes = layer.at_resolution(10.0)
    assert shapes.ring_names == ("东城警务区", "西区网格")
    df.to_file(tmp_path / "utf8.shp", encoding="UTF-8")
    (tmp_path / "utf8.cpg").unlink(missing_ok=True)
    assert load_reference(ReferenceStyle(tmp_path / "utf8.shp", "x")).polygon_names == (
        "东城警务区", "西区网格")


def test_bad_reference_files_are_skipped_with_a_reason(canvas: MapCanvas, tmp_path: Path,
                                                       qtbot) -> None:
    good = write_layers(tmp_path)
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(b"\x00not a geopackage" * 50)
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[Point(115, 27)], crs="EPSG:4326").to_file(points)
    projected = tmp_path / "nocrs.geojson"
    projected.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {
            "type": "LineString", "coordinates": [[500000, 3000000], [510000, 3010000]]}}]}))
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(b"")
    styles = [ReferenceStyle(p, p.stem) for p in (tmp_path / "missing.gpkg", garbage, points,
                                                  projected, empty, tmp_path, good)]
    layers, failed = load_references(styles)
    assert [layer.style.path for layer in layers] == [good]
    reasons = {s.path.name: r for s, r in failed}
    assert reasons["missing.gpkg"] == "not found"
    assert reasons[tmp_path.name] == "not a file"
    assert reasons["points.geojson"] == "no lines or polygons"
    # GeoJSON is WGS84 by definition: metres there are far outside the world
    assert "outside" in reasons["nocrs.geojson"]
    assert set(reasons) == {"missing.gpkg", "garbage.gpkg", "points.geojson", "nocrs.geojson",
                            "empty.gpkg", tmp_path.name}
    # the window's controller: notices to show, the good layer drawn
    settings = Settings(reference_layers=tuple(styles))
    ctl = BackdropController(canvas, settings)
    qtbot.waitUntil(lambda: not ctl.loading(), timeout=20_000)
    assert len(ctl.warnings) == 6 and {n.key for n in ctl.warnings} == {"reference_failed"}
    assert "missing.gpkg" in ctl.warnings[0].text("en")
    assert list(canvas.reference_layers()) == ["reference.0"]
    canvas.grab()
    ctl.close()


def test_big_layers_are_simplified_within_half_a_pixel(tmp_path: Path) -> None:
    t = np.linspace(0, 1, 60_000)
    lon = 115.0 + 0.2 * t
    lat = 27.0 + 0.05 * np.sin(t * 40) + 0.0005 * np.sin(t * 3000)
    gpd.GeoDataFrame(geometry=[LineString(np.column_stack([lon, lat]))], crs="EPSG:4326"
                     ).to_file(tmp_path / "river.gpkg")
    layer = load_reference(ReferenceStyle(tmp_path / "river.gpkg", "河流"))
    assert layer.vertices == 60_000
    full = shapely.LineString(np.column_stack(lonlat_to_mercator(lon, lat)))
    for m_per_px in (5.0, 40.0, 300.0):
        shapes = layer.at_resolution(m_per_px)
        n = int(np.isfinite(shapes.line_x).sum())
        assert n < 60_000
        drawn = shapely.LineString(np.column_stack([shapes.line_x[:n], shapes.line_y[:n]]))
        assert shapely.hausdorff_distance(full, drawn) <= m_per_px / 2 + 1e-6
    assert layer.at_resolution(300.0) is layer.at_resolution(310.0)  # kept, not redone
    small = load_reference(ReferenceStyle(write_layers(tmp_path), "小"))
    spec = reference_specs([small], fit_view(0, 0, 1e6, 1e6, 100, 100))[0]
    assert int(sum(len(r) for p in spec.drawables[0].rings for r in p)) == 5  # untouched


def _settings_dir(tmp_path: Path) -> Path:
    from mbtiles_maker import write_mbtiles

    data = tmp_path / "userdata"
    data.mkdir()
    write_layers(data)
    write_mbtiles(data / "base.mbtiles", (114.95, 26.95, 115.25, 27.25), range(8, 14),
                  background=(250, 240, 200), grid=None)
    (data / "settings.json").write_text(json.dumps({
        "tiles": {"mbtiles": "base.mbtiles", "attribution": "测试底图"},
        "reference_layers": [{"path": "ref.gpkg", "name": "路网", "color": "#00ff00",
                              "width": 5}]}), encoding="utf-8")
    return data


@pytest.mark.slow
def test_png_export_shows_the_base_map_and_the_reference_layer(tmp_path: Path,
                                                               monkeypatch) -> None:
    data = _settings_dir(tmp_path)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(data))
    extract = factory.write_extract(tmp_path / "x.duckdb", factory.full_tables(40))
    out = tmp_path / "x.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COCKPIT_DATA_DIR=str(data))
    run = subprocess.run([os.sys.executable, "main.py", "export", str(extract), "--png",
                          str(out), "--size", "1920x1080"], cwd=Path(__file__).parents[1],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rgb = np.asarray(Image.open(out).convert("RGB"))
    green = np.all(rgb == np.array(GREEN), axis=2).sum()
    paper = np.all(np.abs(rgb.astype(int) - np.array((250, 240, 200))) <= 3, axis=2).sum()
    assert green > 200, green  # the road, a few hundred pixels long and 5 wide
    assert paper > 10_000, paper  # the base map's tiles under the map


@pytest.mark.slow
def test_pdf_shows_the_reference_layer(tmp_path: Path, monkeypatch) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed")
    from data.extract import open_extract
    from data.filters import FilterState
    from exporters.pdf_briefing import export_pdf

    data = _settings_dir(tmp_path)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(data))
    ex = open_extract(factory.write_extract(tmp_path / "x.duckdb", factory.full_tables(40)))
    backdrop, notes = load_backdrop(load_settings(), ex.areas.extent())
    assert notes == [] and backdrop.tiles is not None and len(backdrop.reference) == 1
    out = tmp_path / "b.pdf"
    export_pdf(ex, FilterState(), out, backdrop=backdrop)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(out),
                    str(tmp_path / "page")], check=True, timeout=120)
    found = 0
    for page in sorted(tmp_path.glob("page*.png")):
        rgb = np.asarray(Image.open(page).convert("RGB")).astype(int)
        found += int((np.abs(rgb - np.array(GREEN)).sum(axis=2) < 60).sum())
    assert found > 30, found


def test_html_map_carries_the_reference_layer(tmp_path: Path) -> None:
    from data.extract import open_extract
    from data.filters import FilterState
    from exporters.html_map import export_html

    layer = load_reference(ReferenceStyle(write_layers(tmp_path), "<b>路网</b>", (*GREEN, 255),
                                          3.0, (255, 0, 0, 64)))
    ex = open_extract(factory.write_extract(tmp_path / "x.duckdb", factory.full_tables(20)))
    out = tmp_path / "m.html"
    summary = export_html(ex, FilterState(), out, reference=[layer])
    page = out.read_text(encoding="utf-8")
    assert summary["reference_layers"] == 1
    # the name is text in the layer control (escaped), never markup
    assert "<b>路网</b>" not in page
    assert '"\\u0026lt;b\\u0026gt;\\u8def\\u7f51\\u0026lt;/b\\u0026gt;" : geo_json' in page
    assert '"color": "#00ff00"' in page and '"fillColor": "#ff0000"' in page
    # the road's vertices back in lon/lat (written in CGCS2000 / Gauss-Kruger)
    assert "[[[115.02, 27.03], [115.08, 27.07], [115.15, 27.06]]]" in page


def test_layer_list_toggles_and_the_legend_follows(canvas: MapCanvas, tmp_path: Path,
                                                   qtbot) -> None:
    from desktop.settings import ReferenceStyle as Style  # the same class, via the settings
    from widgets.reference_button import ReferenceButton

    settings = Settings(reference_layers=(Style(write_layers(tmp_path), "路网",
                                                (*GREEN, 255), 4.0),))
    ctl = BackdropController(canvas, settings)
    button = ReferenceButton()
    qtbot.addWidget(button)
    ctl.bind(button)
    qtbot.waitUntil(lambda: not ctl.loading(), timeout=20_000)
    assert list(button.actions_by_name) == ["reference.0"] and not button.isHidden()
    [(title, entries)] = ctl.legend_section("zh")
    assert title == "参考图层" and [e.label for e in entries] == ["路网"]
    mid = ((ROAD[0][0] + ROAD[1][0]) / 2, (ROAD[0][1] + ROAD[1][1]) / 2)
    qtbot.wait(30)
    assert pixel(canvas, canvas.grab().toImage(), *mid) == GREEN
    with qtbot.waitSignal(ctl.changed):
        button.actions_by_name["reference.0"].setChecked(False)
    qtbot.wait(30)
    assert pixel(canvas, canvas.grab().toImage(), *mid) == (11, 26, 46)
    assert ctl.legend_section("zh") == []
    ctl.close()
