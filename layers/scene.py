"""The map scene: the three maps as layer specs for one filter state and one view.

``build_scene`` is a pure function of (extract, state, view, options): the
window calls it in a worker, the exporters call it headless. Level of detail is
decided here, so every renderer gets the same choice: incidents become symbols
only when few enough of them are in view, otherwise a density raster; the outlines of
the county and of the coarsest level below it always show, village (and grid) outlines
and names when zoomed in (``outline_levels``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from data import agg_counts
from data.analysis.hotspots import grid_hotspots
from data.analysis.repeats import repeat_places
from data.coords import lonlat_to_mercator
from data.extract import Extract
from data.filters import FilterState
from data.home_extent import home_extent
from data.privacy import mask_resource_name
from data.queries import Query, Viewport
from data.schema import AREA_LEVELS

from . import clusters, styles
from .drawables import Cells, Clusters, Labels, LayerSpec, LegendEntry, Points, Polygons, Raster
from .i18n import code_label, tr

POINT_LIMIT = 4_000
"""At most this many incidents in view are drawn as symbols; more become a raster."""
VILLAGE_VIEW_M = 30_000.0
"""Village outlines and names appear when the view is narrower than this (Mercator m)."""
GRID_VIEW_M = 8_000.0
"""Grid (网格) outlines and names appear when the view is narrower than this."""
TOWN_VIEW_M = 150_000.0
"""In an extract of several counties (a prefecture, a province), town outlines and names
appear when the view is narrower than this; wider, the counties are named instead."""
ZOOM_IN_M = {"village": VILLAGE_VIEW_M, "grid": GRID_VIEW_M}
LEVEL_PENS: dict[str, tuple[styles.RGBA, float, float, int]] = {
    # level: (pen, width, label size, z); the coarser on top
    "county": ((175, 210, 245, 255), 2.4, 13.0, 11),
    "town": ((150, 190, 230, 230), 1.6, 11.0, 10),
    "village": ((120, 150, 190, 140), 0.6, 8.0, 9),
    "grid": ((110, 135, 170, 110), 0.4, 7.0, 8),
}
RASTER_SCALE = 2
"""Screen pixels per density-raster cell."""


@dataclass(frozen=True)
class SceneOptions:
    situation: bool = True
    resources: bool = True
    hazards: bool = True
    hotspots: bool = True
    repeats: bool = False
    choropleth: str | None = None  # None, "count" or "rate"
    lang: str | None = None
    dark: bool = True
    """Colour the density raster for a dark background (False: a light one)."""
    incident_points: bool = True
    """False: never draw incidents as symbols at their places, only aggregated (the wall)."""
    min_cell_m: float = 0.0
    """Smallest density cell in metres: zoomed in, the raster becomes a coarse grid
    instead of showing single incidents (privacy on the wall)."""


@dataclass(frozen=True)
class Scene:
    layers: tuple[LayerSpec, ...]
    view: Viewport
    notes: dict = field(default_factory=dict)
    notice: str = ""
    """Said on the map when it has nothing to draw, and why ("" otherwise)."""

    def layer(self, name: str) -> LayerSpec | None:
        return next((spec for spec in self.layers if spec.name == name), None)


# --------------------------------------------------------------------------- areas
@dataclass(frozen=True)
class AreaGeometry:
    """Area outlines in Mercator and a label point per area, computed once per extract."""

    rings: tuple[tuple[np.ndarray, ...], ...]
    label_x: np.ndarray
    label_y: np.ndarray


def area_geometry(extract: Extract) -> AreaGeometry:
    """The outlines in Mercator and a label point per area (once per extract)."""
    return extract.memo("area_geometry", lambda: _area_geometry(extract))


def _area_geometry(extract: Extract) -> AreaGeometry:
    areas = extract.areas
    # every ring and label point projected in one call (a province has 30 000 areas)
    rings_ll: list[list[np.ndarray]] = []
    label_ll = np.full((len(areas.geoms), 2), np.nan)
    for k, geom in enumerate(areas.geoms):
        parts: list[np.ndarray] = []
        if geom is not None and not geom.is_empty:
            for poly in getattr(geom, "geoms", [geom]):
                parts.append(np.asarray(poly.exterior.coords)[:, :2])
            p = shapely.point_on_surface(geom)
            label_ll[k] = (p.x, p.y)
        rings_ll.append(parts)
    flat = [r for parts in rings_ll for r in parts]
    if flat:
        xy = np.concatenate(flat)
        mx, my = lonlat_to_mercator(xy[:, 0], xy[:, 1])
        merc = np.column_stack([mx, my])
    ends = np.cumsum([len(r) for r in flat])
    pieces = np.split(merc, ends[:-1]) if flat else []
    rings, i = [], 0
    for parts in rings_ll:
        rings.append(tuple(pieces[i:i + len(parts)]))
        i += len(parts)
    ok = ~np.isnan(label_ll[:, 0])
    lx = np.full(len(label_ll), np.nan)
    ly = np.full(len(label_ll), np.nan)
    if ok.any():
        x, y = lonlat_to_mercator(label_ll[ok, 0], label_ll[ok, 1])
        lx[ok], ly[ok] = x, y
    return AreaGeometry(tuple(rings), lx, ly)


def full_view(extract: Extract, width: int = 1600, height: int = 1000) -> Viewport:
    """Where the data are (``data.home_extent``) with a margin, at the aspect of
    ``width`` × ``height``."""
    ext = home_extent(extract) or (114.5, 26.8, 115.5, 27.6)
    (x0, x1), (y0, y1) = lonlat_to_mercator([ext[0], ext[2]], [ext[1], ext[3]])
    return fit_view(float(x0), float(y0), float(x1), float(y1), width, height)


def fit_view(x0: float, y0: float, x1: float, y1: float, width: int, height: int,
             margin: float = 0.04) -> Viewport:
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w = max(x1 - x0, 200.0) * (1 + 2 * margin)
    h = max(y1 - y0, 200.0) * (1 + 2 * margin)
    if w / h < width / height:
        w = h * width / height
    else:
        h = w * height / width
    return Viewport(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, width, height)


def outline_levels(extract: Extract, span: float) -> dict[str, bool]:
    """The levels with polygons, coarse → fine, each with whether its outlines show in a
    view ``span`` Mercator metres wide: the county and the coarsest level below it always
    (a county-only or a towns-only extract still shows its boundaries), a finer level once
    zoomed in narrower than ``ZOOM_IN_M`` (villages 30 km, grids 8 km)."""
    areas = extract.areas
    present = {lv for lv, g in zip(areas.levels, areas.geoms, strict=True) if g is not None}
    levels = [lv for lv in AREA_LEVELS if lv in present]
    below = [lv for lv in levels if lv != "county"]
    zoom_in = ZOOM_IN_M
    if sum(1 for lv, g in zip(areas.levels, areas.geoms, strict=True)
           if lv == "county" and g is not None) > 1:  # a province: counties first
        zoom_in = {**ZOOM_IN_M, "town": TOWN_VIEW_M}
        below = []
    return {lv: lv == "county" or (bool(below) and lv == below[0])
            or span < zoom_in.get(lv, float("inf")) for lv in levels}


def display_level(extract: Extract, span: float) -> str | None:
    """The finest level whose outlines show at ``span`` (the county only when it is the only
    one): the level the choropleth fills and a click on the map picks."""
    shown = [lv for lv, on in outline_levels(extract, span).items() if on]
    finer = [lv for lv in shown if lv != "county"]
    return (finer or shown or [None])[-1]


def area_layers(extract: Extract, state: FilterState, view: Viewport,
                fills: np.ndarray | None, lang: str | None) -> list[LayerSpec]:
    areas = extract.areas
    geo = area_geometry(extract)
    out = []
    levels = outline_levels(extract, view.x1 - view.x0)
    only_county = [lv for lv, on in levels.items() if on] == ["county"]
    selected = set(areas.resolve(sorted(state.areas)).tolist()) if state.areas else set()
    for level, show in levels.items():
        pen, width, size, z = LEVEL_PENS[level]
        idx = [i for i in areas.at_level(level) if geo.rings[i]]
        if not idx:
            continue
        level_fills = None
        if fills is not None:
            level_fills = fills[idx]
        polys = Polygons(f"areas.{level}", tuple(geo.rings[i] for i in idx),
                         tuple(areas.ids[i] for i in idx), pen, width, level_fills,
                         tuple(areas.names[i] for i in idx), z=z)
        pri = np.array([2.0 if i in selected else 1.0 for i in idx])
        labels = Labels(f"areas.{level}.labels", geo.label_x[idx], geo.label_y[idx],
                        tuple(areas.names[i] for i in idx), pri, size=size)
        # the county's name would sit on its towns' names: named only when alone
        named = level != "county" or only_county
        drawables = ((polys, labels) if named else (polys,)) if show else ()
        out.append(LayerSpec(f"areas.{level}", "base", code_label("area_level", level, lang),
                             drawables, visible=show))
    return out


def choropleth_fills(q: Query, state: FilterState, measure: str, level: str
                     ) -> tuple[np.ndarray, tuple]:
    """RGBA per area from quantile classes of counts or rates per 10k, at ``level``.

    Only the areas of the level on display are filled (towns zoomed out, villages zoomed
    in): a filled town drawn over its filled villages would hide them. Incidents are
    summed up to the level; a level area without its own population gets the sum of its
    descendants' (areas without any population have no rate and no fill).
    """
    areas = q.extract.areas
    idx, counts = q.incidents_by_area(state)
    up = areas.ancestor_at(level)
    values = np.zeros(len(areas))
    target = up[np.asarray(idx, np.int64)]
    keep = target >= 0
    np.add.at(values, target[keep], np.asarray(counts, float)[keep])
    members = np.asarray(areas.at_level(level), np.int64)
    if measure == "rate":
        own = np.nan_to_num(np.asarray(areas.population, float), nan=0.0)
        finest = np.asarray(areas.at_level(areas.finest_level or level), np.int64)
        summed = np.zeros(len(areas))
        below = up[finest]
        ok = below >= 0
        np.add.at(summed, below[ok], own[finest][ok])
        pop = np.where(own > 0, own, summed)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(pop > 0, values / pop * 1e4, np.nan)
    level_values = values[members]
    breaks = styles.quantile_breaks(level_values)
    cls = styles.classify(level_values, breaks)
    fills = np.zeros((len(areas), 4), np.uint8)
    for c, color in enumerate(styles.CHOROPLETH[:len(breaks)]):
        fills[members[cls == c]] = color
    legend = tuple(LegendEntry(f"≤ {b:,.0f}" if measure == "count" else f"≤ {b:,.1f}", color, "s")
                   for b, color in zip(breaks, styles.CHOROPLETH, strict=False))
    return fills, legend


# --------------------------------------------------------------------------- situation
def situation_layers(q: Query, state: FilterState, view: Viewport,
                     options: SceneOptions) -> list[LayerSpec]:
    lang = options.lang
    out: list[LayerSpec] = []
    # read in place, rows are read only when the tiles say few enough are in view
    in_view = (q.incident_points(state, view, limit=POINT_LIMIT + 1)
               if options.incident_points and q.points_affordable(state, view) else None)
    legend_cats = tuple(LegendEntry(code_label("incident_category", c, lang), col)
                        for c, col in styles.INCIDENT_COLORS.items())
    if in_view is not None and len(in_view["mx"]) <= POINT_LIMIT:
        cats = in_view["category"]
        colors = np.array([styles.INCIDENT_COLORS.get(str(c), styles.INCIDENT_COLORS["other"])
                           for c in cats], np.uint8).reshape(-1, 4)
        pts = Points("incidents", in_view["mx"].astype(float), in_view["my"].astype(float),
                     colors, np.full(len(cats), 7.0), "o",
                     keys=tuple(str(i) for i in in_view["incident_id"]),
                     tooltips=tuple(code_label("incident_category", str(c), lang)
                                    for c in cats), z=32)
        out.append(LayerSpec("incidents", "situation", tr("layer_incidents", lang), (pts,),
                             legend_cats, meta={"mode": "points", "count": len(cats)}))
    else:
        w = max(1, view.width // RASTER_SCALE)
        h = max(1, view.height // RASTER_SCALE)
        min_cell = max(options.min_cell_m, q.density_min_cell(view))  # tiles: no finer
        if min_cell > 0:
            w = max(1, min(w, int((view.x1 - view.x0) / min_cell)))
            h = max(1, min(h, int((view.y1 - view.y0) / min_cell)))
        grid = q.density_grid(state, Viewport(view.x0, view.y0, view.x1, view.y1, w, h))
        values = np.log1p(grid.astype(np.float32))
        top = float(values.max()) or 1.0
        raster = Raster("density", values, (view.x0, view.y0, view.x1, view.y1),
                        styles.heat_lut(options.dark), (0.0, top))
        out.append(LayerSpec("incidents", "situation", tr("layer_density", lang), (raster,),
                             (LegendEntry(tr("legend_density_low", lang), tuple(
                                 styles.heat_lut(options.dark)[40]), "s"),
                              LegendEntry(tr("legend_density_high", lang), tuple(
                                  styles.heat_lut(options.dark)[255]), "s")),
                             meta={"mode": "density", "count": int(grid.sum())}))
    if options.hotspots:
        hs = grid_hotspots(q, state)
        sig = np.flatnonzero((hs.cls != 0).ravel())
        if len(sig):
            nx = hs.cls.shape[1]
            rows, cols = np.divmod(sig, nx)
            klass = hs.cls.ravel()[sig]
            colors = np.array([styles.HOT_COLORS[int(k)] for k in klass], np.uint8)
            # Zoomed in, one cell fills the view: fade the cells so the symbols stay legible.
            cells_across = (view.x1 - view.x0) / hs.cell
            colors[:, 3] = (colors[:, 3] * min(1.0, max(0.25, cells_across / 12))).astype(np.uint8)
            tips = tuple(f"Gi* z={hs.z.ravel()[i]:.2f} · {int(hs.counts.ravel()[i])}"
                         for i in sig)
            cells = Cells("hotspots", hs.x0 + cols * hs.cell, hs.y0 + rows * hs.cell, hs.cell,
                          colors, tuple(str(int(i)) for i in sig), tips)
            legend = tuple(LegendEntry(tr(f"legend_hot_{k}", lang), styles.HOT_COLORS[k], "s")
                           for k in (3, 2, 1, -3))
            out.append(LayerSpec("hotspots", "situation", tr("layer_hotspots", lang), (cells,),
                                 legend, meta={"cell_m": hs.cell_m}))
    if options.repeats:
        out += repeat_layers(q, state, lang)
    return out


def repeat_layers(q: Query, state: FilterState, lang: str | None = None,
                  limit: int = 50) -> list[LayerSpec]:
    """The most frequent repeat addresses as stars sized by count (slow at 1M: own job)."""
    out: list[LayerSpec] = []
    refused = agg_counts.refused_rows(q, state)
    if refused is not None:  # a province read in place: say what to select instead
        return [LayerSpec("repeats", "situation", tr("layer_repeats", lang), (), (
            LegendEntry(tr("province_points_refused", lang, n=f"{refused:,}",
                           limit=f"{agg_counts.POINT_ROWS:,}"), (255, 64, 129, 255), "star"),),
            meta={"refused": refused})]
    places = [p for p in repeat_places(q, state, limit=limit) if p.lon is not None]
    if places:
        x, y = lonlat_to_mercator([p.lon for p in places], [p.lat for p in places])
        counts = np.array([p.count for p in places], float)
        sizes = 8 + 14 * np.sqrt(counts / counts.max())
        pts = Points("repeats", np.asarray(x), np.asarray(y),
                     np.tile(np.array([[255, 64, 129, 255]], np.uint8), (len(places), 1)),
                     sizes, "star", tuple(p.place_id for p in places),
                     tuple(f"{p.address or ''} · {p.count}" for p in places), z=36)
        out.append(LayerSpec("repeats", "situation", tr("layer_repeats", lang), (pts,),
                             (LegendEntry(tr("layer_repeats", lang), (255, 64, 129, 255),
                                          "star"),)))
    return out


# --------------------------------------------------------------------------- resources
def resource_layers(q: Query, state: FilterState, options: SceneOptions,
                    view: Viewport | None = None) -> list[LayerSpec]:
    """Resources by kind (unavailable ones dimmed); gathered into counted groups when
    more than ``clusters.SYMBOL_LIMIT`` are in ``view``."""
    lang = options.lang
    r = q.resource_points(state)
    if len(r["mx"]) == 0:
        return []
    drawables: list = []
    legend = []
    mx, my = r["mx"].astype(float), r["my"].astype(float)
    alone = np.ones(len(mx), bool)
    if view is not None and clusters.in_view(mx, my, view) > clusters.SYMBOL_LIMIT:
        grouping, drawable = _resource_groups(r, mx, my, view, lang)
        alone = grouping.member_of < 0
        drawables.append(drawable)
    for kind, (color, symbol) in styles.RESOURCE_STYLE.items():
        sel = np.flatnonzero((r["kind"] == kind) & alone)
        if not np.any(r["kind"] == kind):
            continue
        label = code_label("resource_kind", kind, lang)
        legend.append(LegendEntry(label, color, symbol))
        if len(sel) == 0:
            continue
        colors = np.tile(np.array([color], np.uint8), (len(sel), 1))
        colors[~r["available"][sel].astype(bool), 3] = styles.UNAVAILABLE_ALPHA
        drawables.append(Points(f"resources.{kind}", mx[sel], my[sel], colors,
                                np.full(len(sel), 10.0),
                                symbol, tuple(str(k) for k in r["resource_id"][sel]),
                                tuple(f"{label} {mask_resource_name(kind, n) or k}"
                                      for k, n in zip(r["resource_id"][sel], r["name"][sel],
                                                      strict=True)), z=34))
    if any(isinstance(d, Clusters) for d in drawables):
        legend.append(LegendEntry(tr("legend_cluster_resources", lang), (30, 136, 229, 255)))
    return [LayerSpec("resources", "resources", tr("layer_resources", lang), tuple(drawables),
                      tuple(legend))]


def _resource_groups(r: dict, mx: np.ndarray, my: np.ndarray, view: Viewport,
                     lang: str | None) -> tuple[clusters.Grouping, Clusters]:
    kinds = list(styles.RESOURCE_STYLE)
    unavailable = len(kinds)  # the last class: faded
    kind_of = np.array([kinds.index(k) if k in kinds else kinds.index("other")
                        for k in r["kind"]], np.int64)
    cls = np.where(r["available"].astype(bool), kind_of, unavailable)
    g = clusters.group_points(mx, my, cls, len(kinds) + 1, clusters.cluster_cell(view))
    colors = np.array([c for c, _ in styles.RESOURCE_STYLE.values()]
                      + [(158, 158, 158, styles.UNAVAILABLE_ALPHA)], np.uint8)
    names = [code_label("resource_kind", k, lang) for k in kinds] + [
        tr("cluster_unavailable", lang)]
    faded = g.counts[:, :unavailable].sum(axis=1) == 0
    order = np.lexsort((g.counts.sum(axis=1), ~faded))  # faded below, big groups on top
    return g, _clusters_drawable("resources.groups", g, order, colors, names, faded, lang, 35)


def _clusters_drawable(layer: str, g: clusters.Grouping, order: np.ndarray, colors: np.ndarray,
                       names: list[str], faded: np.ndarray, lang: str | None, z: int
                       ) -> Clusters:
    tips = []
    for i in order.tolist():
        parts = [tr("cluster_tip", lang, n=int(g.counts[i].sum()))]
        parts += [f"{names[k]} {int(c)}" for k, c in enumerate(g.counts[i].tolist()) if c]
        if g.badges[i]:
            parts.append(tr("cluster_overdue", lang, n=int(g.badges[i])))
        tips.append(" · ".join(parts))
    return Clusters(layer, g.x[order], g.y[order], g.counts[order], colors, g.badges[order],
                    faded[order], g.cell, tuple(f"{g.cell_x[i]}:{g.cell_y[i]}"
                                                for i in order.tolist()), tuple(tips), z=z)


# --------------------------------------------------------------------------- hazards
HAZARD_FADED_ALPHA = 110
"""Rectified and verified hazards in a group's ring: there, but nothing to do."""


def hazard_layers(q: Query, state: FilterState, options: SceneOptions,
                  view: Viewport | None = None) -> list[LayerSpec]:
    """Hazards by category, coloured by state, sized by risk; gathered into counted groups
    (open and overdue on top, closed ones faded) when more than
    ``clusters.SYMBOL_LIMIT`` are in ``view``."""
    lang = options.lang
    h = q.hazard_points(state)
    if len(h["mx"]) == 0:
        return []
    drawables: list = []
    mx, my = h["mx"].astype(float), h["my"].astype(float)
    alone = np.ones(len(mx), bool)
    if view is not None and clusters.in_view(mx, my, view) > clusters.SYMBOL_LIMIT:
        grouping, drawable = _hazard_groups(h, mx, my, view, lang)
        alone = grouping.member_of < 0
        drawables.append(drawable)
    for cat, symbol in styles.HAZARD_SYMBOLS.items():
        sel = np.flatnonzero((h["category"] == cat) & alone)
        if len(sel) == 0:
            continue
        colors = np.array([styles.HAZARD_STATE_COLORS.get(str(s), (158, 158, 158, 255))
                           for s in h["state"][sel]], np.uint8).reshape(-1, 4)
        sizes = np.array([styles.RISK_SIZES.get(str(r), 7.0) for r in h["risk_level"][sel]])
        tips = tuple(f"{h['name'][i]} · {code_label('hazard_state', str(h['state'][i]), lang)}"
                     for i in sel)
        drawables.append(Points(f"hazards.{cat}", mx[sel], my[sel], colors, sizes, symbol,
                                tuple(str(k) for k in h["hazard_id"][sel]), tips, z=33))
    legend = tuple(LegendEntry(code_label("hazard_state", s, lang), c)
                   for s, c in styles.HAZARD_STATE_COLORS.items())
    legend += tuple(LegendEntry(code_label("hazard_category", c, lang), (200, 200, 200, 255), s)
                    for c, s in styles.HAZARD_SYMBOLS.items() if c != "other")
    if any(isinstance(d, Clusters) for d in drawables):
        legend += (LegendEntry(tr("legend_cluster", lang), styles.HAZARD_STATE_COLORS["open"]),)
    return [LayerSpec("hazards", "hazards", tr("layer_hazards", lang), tuple(drawables), legend)]


def _hazard_groups(h: dict, mx: np.ndarray, my: np.ndarray, view: Viewport,
                   lang: str | None) -> tuple[clusters.Grouping, Clusters]:
    states = list(styles.HAZARD_STATE_COLORS)  # open, rectifying, rectified, verified
    cls = np.array([states.index(s) if s in states else len(states) for s in h["state"]],
                   np.int64)
    g = clusters.group_points(mx, my, cls, len(states) + 1, clusters.cluster_cell(view),
                              h["overdue"].astype(bool))
    colors = np.array([*styles.HAZARD_STATE_COLORS.values(), (158, 158, 158, 255)], np.uint8)
    colors[[states.index("rectified"), states.index("verified"), len(states)], 3] = \
        HAZARD_FADED_ALPHA
    names = [code_label("hazard_state", s, lang) for s in states] + [
        code_label("hazard_state", "other", lang)]
    pending = g.counts[:, states.index("open")] + g.counts[:, states.index("rectifying")]
    faded = pending == 0
    # drawn in this order: faded groups, then by overdue, then by pending (urgent on top)
    order = np.lexsort((pending, g.badges, ~faded))
    return g, _clusters_drawable("hazards.groups", g, order, colors, names, faded, lang, 36)


# --------------------------------------------------------------------------- scene
def build_scene(q: Query, state: FilterState, view: Viewport,
                options: SceneOptions = SceneOptions()) -> Scene:
    fills, choro_legend = (None, ())
    if options.choropleth:
        level = display_level(q.extract, view.x1 - view.x0) or "town"
        fills, choro_legend = choropleth_fills(q, state, options.choropleth, level)
    layers = area_layers(q.extract, state, view, fills, options.lang)
    if choro_legend:
        title = (f"{tr('layer_choropleth', options.lang)} · "
                 f"{tr(f'choropleth_{options.choropleth}', options.lang)}")
        layers.append(LayerSpec("choropleth", "situation", title, (), choro_legend))
    if options.situation:
        layers += situation_layers(q, state, view, options)
    if options.hazards:
        layers += hazard_layers(q, state, options, view)
    if options.resources:
        layers += resource_layers(q, state, options, view)
    return Scene(tuple(layers), view, notice=map_notice(q, state, options.lang))


def map_notice(q: Query, state: FilterState, lang: str | None = None) -> str:
    """Why the map is blank, when it is: the extract has no area outline and no incident
    under ``state`` has coordinates (a feed of addresses alone); "" when there is a map."""
    outlines = q.extract.memo("has_outlines", lambda: any(
        g is not None and not g.is_empty for g in q.extract.areas.geoms))
    if outlines or q.count(q.incidents(state).and_("mx IS NOT NULL")):
        return ""
    return tr("map_nothing_to_draw", lang, n=f"{q.incident_count(state):,}")
