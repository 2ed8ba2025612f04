"""Hazards and resources gathered into counted groups when zoomed out, split when zoomed in.

The groups are checked against a brute-force count: every hazard's state and overdue flag
follow from the events the test wrote (the schema's rule), its grid cell from its lon/lat
by the textbook Mercator formula and the rule "about 16 power-of-two cells across".
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

import factory
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from data.coords import lonlat_to_mercator
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query, Viewport
from layers import styles
from layers.clusters import SYMBOL_LIMIT
from layers.drawables import Clusters, Points
from layers.scene import SceneOptions, build_scene, fit_view, full_view
from widgets.map_canvas import MapCanvas

R = 6378137.0
W, H = 800, 600
ACTIONS = (None, "assigned", "rectified", "reinspected", "reopened")
STATE_OF = {None: "open", "assigned": "rectifying", "rectified": "rectified",
            "reinspected": "verified", "reopened": "rectifying"}
N = 1500


def _layout(n: int) -> list[tuple[float, float, str | None]]:
    """Lon, lat and last action of each hazard: three dense clumps and a thin spread."""
    rng = np.random.default_rng(11)
    out = []
    clumps = [factory.village_point(0, 0, 0.3, 0.3), factory.village_point(1, 1, 0.6, 0.5),
              factory.village_point(1, 0, 0.2, 0.8)]
    for i in range(n):
        if i % 4:
            cx, cy = clumps[i % 3]
            lon, lat = cx + rng.normal(0, 0.004), cy + rng.normal(0, 0.004)
        else:
            lon = factory.X0 + rng.uniform(0.005, 0.195)
            lat = factory.Y0 + rng.uniform(0.005, 0.195)
        out.append((lon, lat, ACTIONS[int(rng.integers(0, len(ACTIONS)))]))
    return out


@pytest.fixture(scope="module")
def hazards(tmp_path_factory: pytest.TempPathFactory):
    layout = _layout(N)
    tables = factory.full_tables(10)
    tables["hazards"] = [factory.hazard(i, lon, lat) for i, (lon, lat, _) in enumerate(layout)]
    tables["rectifications"] = [factory.rectification(i, f"H{i:04d}", a)
                                for i, (_, _, a) in enumerate(layout) if a is not None]
    path = factory.write_extract(tmp_path_factory.mktemp("cl") / "h.duckdb", tables)
    return open_extract(path), layout


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    return R * math.radians(lon), R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def brute_force(layout: list, view: Viewport) -> tuple[dict, int]:
    """{cell: (Counter of states, overdue)} of cells with ≥ 2 hazards, and the lone ones."""
    world = 2 * math.pi * R
    cell = world / 2 ** round(math.log2(world / ((view.x1 - view.x0) / 16)))
    cells: dict[tuple[int, int], list[str]] = defaultdict(list)
    for lon, lat, action in layout:
        x, y = _mercator(lon, lat)
        cells[(math.floor((x + world / 2) / cell), math.floor((y + world / 2) / cell))].append(
            STATE_OF[action])
    groups = {k: (Counter(v), sum(s in ("open", "rectifying") for s in v))
              for k, v in cells.items() if len(v) >= 2}
    alone = sum(1 for v in cells.values() if len(v) == 1)
    return groups, alone


def _hazard_scene(ex, view: Viewport):
    return build_scene(Query(ex), FilterState(), view,
                       SceneOptions(situation=False, resources=False, hazards=True)
                       ).layer("hazards")


def _parts(spec) -> tuple[list[Clusters], int]:
    groups = [d for d in spec.drawables if isinstance(d, Clusters)]
    symbols = sum(len(d) for d in spec.drawables if isinstance(d, Points))
    return groups, symbols


def test_groups_count_states_and_overdue_as_brute_force(hazards) -> None:
    ex, layout = hazards
    view = full_view(ex, W, H)
    spec = _hazard_scene(ex, view)
    groups, symbols = _parts(spec)
    assert len(groups) == 1
    g = groups[0]
    expect, alone = brute_force(layout, view)
    states = list(styles.HAZARD_STATE_COLORS)
    got = {}
    for k, key in enumerate(g.keys):
        cx, cy = (int(v) for v in key.split(":"))
        counts = {states[c]: int(n) for c, n in enumerate(g.counts[k][:len(states)]) if n}
        got[(cx, cy)] = (counts, int(g.badges[k]))
    assert got == {k: (dict(c), o) for k, (c, o) in expect.items()}
    assert symbols == alone
    assert int(g.totals.sum()) + symbols == N
    # faded: groups with nothing open or rectifying; drawn first (under the others)
    pending = g.counts[:, 0] + g.counts[:, 1]
    assert np.array_equal(g.faded, pending == 0)
    if g.faded.any() and (~g.faded).any():
        assert np.flatnonzero(g.faded).max() < np.flatnonzero(~g.faded).min()
    # the most overdue are drawn last (on top)
    live = g.badges[~g.faded]
    assert np.all(np.diff(live) >= 0)


def test_groups_split_as_the_view_zooms_in(hazards) -> None:
    ex, layout = hazards
    whole = full_view(ex, W, H)
    cx, cy = _mercator(*factory.village_point(1, 1, 0.6, 0.5))  # a clump
    span = whole.x1 - whole.x0
    counts = []
    while True:
        view = fit_view(cx - span / 2, cy - span / 2 * H / W, cx + span / 2,
                        cy + span / 2 * H / W, W, H, margin=0.0)
        groups, symbols = _parts(_hazard_scene(ex, view))
        in_view = sum(1 for lon, lat, _ in layout
                      if view.x0 <= _mercator(lon, lat)[0] <= view.x1
                      and view.y0 <= _mercator(lon, lat)[1] <= view.y1)
        if in_view <= SYMBOL_LIMIT:
            assert not groups and symbols == N  # every hazard a symbol again
            break
        assert len(groups) == 1
        expect, alone = brute_force(layout, view)
        assert len(groups[0]) == len(expect) and symbols == alone
        counts.append(len(expect) + alone)
        span /= 2
    assert len(counts) >= 2, "the clumps should be gathered over more than one zoom level"
    assert counts == sorted(counts) and counts[-1] > counts[0]  # finer and finer


def test_resources_group_by_kind_with_unavailable_faded(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    kinds = ["patrol_unit", "officer", "mediator"]
    rows = []
    for i in range(SYMBOL_LIMIT + 300):
        lon, lat = factory.village_point(0, 1, 0.5 + rng.normal(0, 0.03), 0.5 + rng.normal(0, 0.03))
        rows.append(factory.resource(i, lon, lat, kinds[i % 3], available=i % 5 != 0))
    tables = factory.full_tables(10)
    tables["resources"] = rows
    ex = open_extract(factory.write_extract(tmp_path / "r.duckdb", tables))
    spec = build_scene(Query(ex), FilterState(), full_view(ex, W, H),
                       SceneOptions(situation=False, resources=True, hazards=False)
                       ).layer("resources")
    groups, _ = _parts(spec)
    assert len(groups) == 1
    g = groups[0]
    order = list(styles.RESOURCE_STYLE)
    got = Counter()
    for k in range(len(g)):
        for c, n in enumerate(g.counts[k].tolist()):
            got["unavailable" if c == len(order) else order[c]] += n
    for d in spec.drawables:  # the ones left alone, as symbols (unavailable ones dimmed)
        if isinstance(d, Points):
            for a in d.colors[:, 3].tolist():
                got["unavailable" if a == styles.UNAVAILABLE_ALPHA else d.layer.split(".")[1]] += 1
    expect = Counter("unavailable" if i % 5 == 0 else kinds[i % 3] for i in range(len(rows)))
    assert got == expect
    assert g.class_colors[len(order)][3] == styles.UNAVAILABLE_ALPHA
    assert np.array_equal(g.faded, g.counts[:, :len(order)].sum(axis=1) == 0)


def test_canvas_draws_a_group_and_a_click_zooms_in_on_it(hazards, qtbot) -> None:
    ex, _ = hazards
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(W, H)
    canvas.show()
    qtbot.waitExposed(canvas)
    view = full_view(ex, W, H)
    canvas.set_home(view)
    spec = _hazard_scene(ex, view)
    canvas.set_layers((spec,))
    qtbot.wait(30)
    g = next(d for d in spec.drawables if isinstance(d, Clusters))
    big = int(np.argmax(g.totals))
    vb = canvas.getViewBox()
    pt = canvas.mapFromScene(vb.mapViewToScene(QPointF(float(g.x[big]), float(g.y[big]))))
    # the glyph's ring: a hazard-state colour just inside its outer edge (at the bottom:
    # the overdue badge sits on the top right)
    img = canvas.grab().toImage()
    r = 20 + 9 * math.log10(int(g.totals[big]))  # the glyph's diameter in pixels
    ring = img.pixelColor(pt.x(), round(pt.y() + r / 2 - 3))
    assert any(abs(ring.red() - c[0]) + abs(ring.green() - c[1]) + abs(ring.blue() - c[2]) < 90
               for c in styles.HAZARD_STATE_COLORS.values()), ring.name()
    tip = canvas.tooltip_at(float(g.x[big]), float(g.y[big]))
    assert tip is not None and str(int(g.totals[big])) in tip
    before = canvas.map_view()
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=pt)
    qtbot.wait(20)
    after = canvas.map_view()
    assert (after.x1 - after.x0) == pytest.approx((before.x1 - before.x0) / 4, rel=0.02)
    assert after.x0 <= g.x[big] <= after.x1 and after.y0 <= g.y[big] <= after.y1
    x, y = lonlat_to_mercator([factory.X0], [factory.Y0])
    assert canvas.symbol_at(float(x[0]), float(y[0])) is None  # a group is not a symbol
