"""The map scene (layers/scene.py) drawn by the real map canvas, checked on pixels."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import factory
import numpy as np
import pytest
from PySide6.QtCore import QPointF

from data.coords import lonlat_to_mercator
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from layers import styles
from layers.scene import POINT_LIMIT, SceneOptions, build_scene, fit_view, full_view
from widgets.map_canvas import LabelItem, MapCanvas

W, H = 800, 600


def _pixel(canvas: MapCanvas, lon: float, lat: float) -> tuple[int, int, int]:
    mx, my = lonlat_to_mercator([lon], [lat])
    vb = canvas.getViewBox()
    scene_pt = vb.mapViewToScene(QPointF(float(mx[0]), float(my[0])))
    pt = canvas.mapFromScene(scene_pt)
    img = canvas.grab().toImage()
    c = img.pixelColor(pt.x(), pt.y())
    return c.red(), c.green(), c.blue()


def _close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 40) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=False))


@pytest.fixture()
def canvas(qtbot) -> MapCanvas:
    c = MapCanvas()
    qtbot.addWidget(c)
    c.resize(W, H)
    c.show()
    qtbot.waitExposed(c)
    return c


def _draw(canvas: MapCanvas, path: Path, options: SceneOptions, qtbot) -> None:
    ex = open_extract(path)
    view = full_view(ex, W, H)
    scene = build_scene(Query(ex), FilterState(), view, options)
    canvas.set_layers(scene.layers)
    canvas.set_home(view)
    qtbot.wait(20)


def test_hazard_shows_its_state_colour_where_it_is(canvas: MapCanvas, tmp_path: Path,
                                                   qtbot) -> None:
    tables = factory.full_tables(10)
    open_at = factory.village_point(0, 0, 0.5, 0.5)
    done_at = factory.village_point(1, 1, 0.5, 0.5)
    tables["hazards"] = [factory.hazard(0, *open_at, risk_level="major"),
                         factory.hazard(1, *done_at, risk_level="major")]
    tables["rectifications"] = [factory.rectification(0, "H0001", "rectified")]
    path = factory.write_extract(tmp_path / "h.duckdb", tables)
    _draw(canvas, path, SceneOptions(situation=False, resources=False), qtbot)
    assert _close(_pixel(canvas, *open_at), styles.HAZARD_STATE_COLORS["open"][:3])
    assert _close(_pixel(canvas, *done_at), styles.HAZARD_STATE_COLORS["rectified"][:3])
    # Hiding the layer removes the symbol: the background shows through.
    canvas.set_layer_visible("hazards", False)
    qtbot.wait(20)
    assert not _close(_pixel(canvas, *open_at), styles.HAZARD_STATE_COLORS["open"][:3])
    canvas.set_layer_visible("hazards", True)
    qtbot.wait(20)
    assert _close(_pixel(canvas, *open_at), styles.HAZARD_STATE_COLORS["open"][:3])
    # A click on the symbol names it.
    mx, my = lonlat_to_mercator([open_at[0]], [open_at[1]])
    assert canvas.symbol_at(float(mx[0]), float(my[0])) == ("hazards", "H0000")


def _incidents(n: int, at: tuple[float, float] | None, extra: int) -> list[tuple]:
    rng = np.random.default_rng(3)
    rows = []
    for k in range(n):
        lon = factory.X0 + rng.uniform(0.01, 0.19)
        lat = factory.Y0 + rng.uniform(0.01, 0.19)
        rows.append(factory.incident(k, lon, lat))
    for k in range(extra):
        rows.append(factory.incident(n + k, at[0], at[1],
                                     factory.EXTRACTED_AT - timedelta(days=2, minutes=k)))
    return rows


def test_density_brightens_where_incidents_were_added(canvas: MapCanvas, tmp_path: Path,
                                                      qtbot) -> None:
    spot = factory.village_point(1, 0, 0.3, 0.7)
    options = SceneOptions(resources=False, hazards=False, hotspots=False)
    base = {"meta": factory.meta_rows(), "areas": factory.standard_areas()}
    plain = factory.write_extract(tmp_path / "a.duckdb",
                                  base | {"incidents": _incidents(POINT_LIMIT + 500, None, 0)})
    more = factory.write_extract(tmp_path / "b.duckdb",
                                 base | {"incidents": _incidents(POINT_LIMIT + 500, spot, 400)})
    _draw(canvas, plain, options, qtbot)
    before = sum(_pixel(canvas, *spot))
    _draw(canvas, more, options, qtbot)
    after = sum(_pixel(canvas, *spot))
    assert after > before + 150, (before, after)


def test_level_of_detail(tmp_path: Path) -> None:
    rows = _incidents(300, None, 0)
    path = factory.write_extract(tmp_path / "few.duckdb", {
        "meta": factory.meta_rows(), "areas": factory.standard_areas(), "incidents": rows})
    ex = open_extract(path)
    q = Query(ex)
    whole = full_view(ex, W, H)
    scene = build_scene(q, FilterState(), whole, SceneOptions(hotspots=False))
    assert scene.layer("incidents").meta == {"mode": "points", "count": 300}
    # Villages show when zoomed in to a village (12 km), not over a 130 km view.
    x, y = lonlat_to_mercator([factory.X0, factory.X0 + factory.STEP],
                              [factory.Y0, factory.Y0 + factory.STEP])
    town = fit_view(x[0], y[0], x[1], y[1], W, H)
    assert build_scene(q, FilterState(), town).layer("areas.village").visible
    wide = fit_view(whole.x0 - 5e4, whole.y0 - 5e4, whole.x1 + 5e4, whole.y1 + 5e4, W, H)
    assert not build_scene(q, FilterState(), wide).layer("areas.village").visible
    many = _incidents(POINT_LIMIT + 1, None, 0)
    path2 = factory.write_extract(tmp_path / "many.duckdb", {
        "meta": factory.meta_rows(), "areas": factory.standard_areas(), "incidents": many})
    ex2 = open_extract(path2)
    dense = build_scene(Query(ex2), FilterState(), full_view(ex2, W, H),
                        SceneOptions(hotspots=False))
    assert dense.layer("incidents").meta == {"mode": "density", "count": POINT_LIMIT + 1}


def test_labels_do_not_collide(canvas: MapCanvas, qtbot) -> None:
    from layers.drawables import Labels

    x = np.array([0.0, 10.0, 5000.0])
    labels = Labels("t", x, np.zeros(3), ("第一个", "第二个", "第三个"), np.array([1.0, 2.0, 1.0]))
    item = LabelItem(labels, 1.0, canvas.font_family)
    canvas.addItem(item)
    canvas.getViewBox().setRange(xRange=(-6000, 6000), yRange=(-4000, 4000), padding=0)
    qtbot.wait(20)
    canvas.grab()
    # The two labels 10 m apart overlap on screen: the higher priority one wins.
    assert sorted(item.placed) == [1, 2]
