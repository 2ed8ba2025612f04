"""The interactive HTML map (folium): the three maps in one self-contained file.

``export_html`` writes a page that opens offline on any machine: every script and
stylesheet is inlined (``offline_assets``), no tile server is contacted unless
the user configured one, and the data travels as one JSON block that the page's
own script (``assets/cockpit/cockpit_map.js``) turns into layers with text
nodes only, so nothing from an extract can run as code.

Size stays bounded at any number of incidents: they are aggregated to a grid of
at most ``HEAT_CELLS`` cells on the long side (a heat map weighted by count), and
drawn one by one (clustered) only when at most ``CLUSTER_LIMIT`` are selected.
Figures come from ``data.queries``; colours, symbols and sizes from
``layers.styles``, as on screen.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from data.annotations import Annotation, AnnotationStore
from data.coords import lonlat_to_mercator, mercator_to_lonlat
from data.extract import Extract
from data.filters import FilterState
from data.period import incident_period
from data.privacy import mask_phone, mask_resource_name, mask_text
from data.queries import Query, Viewport
from data.reference import ReferenceLayer, ReferenceStyle
from layers import styles
from layers.annotations import COLORS as ANNOTATION_COLORS
from layers.annotations import SYMBOLS as ANNOTATION_SYMBOLS
from layers.backdrop import reference_geojson
from layers.i18n import LANGUAGES, code_label, tr

from .html_legend import AREA_PENS, RISK_ORDER, hex_color, legend_html, text, title_html
from .offline_assets import add_inline_assets, drop_cdn_links, remote_references

CLUSTER_LIMIT = 2_000
"""At most this many incidents are drawn as (clustered) markers; more become a heat map."""
HEAT_CELLS = 400
"""Grid cells on the long side of the region for the heat map (~250 m in a county)."""
SHOWN_RESOURCE_KINDS = frozenset({"police_station", "patrol_unit"})
"""Resource kinds shown when the page opens (the rest are one click away): thousands of
community members on top of the hazards would hide the map."""
HEAT_MAX_QUANTILE = 0.995
HEAT_MAX_FACTOR = 0.6
"""The heat saturates at this quantile of the smoothed cell sums of the opening view,
times this factor (stacked discs do not add up their ink; set by eye on the demo at
20k and at 1M incidents, which then look alike)."""
HEAT_MIN_OPACITY = 0.05
"""Faintest ink of a lone cell: visible, yet a dense county does not turn into one blur."""
TILE_SCHEMES = ("http://", "https://", "cockpit-tiles://")
"""Tile templates accepted: an intranet server, or the cockpit's MBTiles scheme
(``widgets.web_map.TILE_TEMPLATE``, which only the cockpit's web-map tab serves)."""
DATA_ID = "cockpit-data"
"""Id of the <script type="application/json"> element holding the map's data."""

def script_json(obj: Any) -> str:
    """JSON that is safe inside a <script> element: no '<', '>', '&' or line separators."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _texts(values: np.ndarray) -> list[str | None]:
    return [None if v is None else str(v) for v in values.tolist()]


def _coords(values: np.ndarray) -> list[float]:
    return np.round(np.asarray(values, dtype=float), 6).tolist()


# --------------------------------------------------------------------------- incidents
def _region_view(extract: Extract, state: FilterState,
                 points: list[dict[str, np.ndarray]]) -> Viewport | None:
    """The filtered areas (else all areas and the points) in Mercator with a margin."""
    areas = extract.areas
    chosen = [areas.geoms[i] for i in areas.resolve(sorted(state.areas))
              if areas.geoms[i] is not None] if state.areas else []
    xs: list[float] = []
    ys: list[float] = []
    ext = shapely.total_bounds(np.asarray(chosen, dtype=object)).tolist() if chosen \
        else areas.extent()
    if ext is not None:
        mx, my = lonlat_to_mercator([ext[0], ext[2]], [ext[1], ext[3]])
        xs += [float(v) for v in mx]
        ys += [float(v) for v in my]
    for p in points if not chosen else []:
        if len(p["mx"]):
            xs += [float(np.min(p["mx"])), float(np.max(p["mx"]))]
            ys += [float(np.min(p["my"])), float(np.max(p["my"]))]
    if not xs:
        return None
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = max(x1 - x0, y1 - y0, 2_000.0) * 0.05
    return Viewport(x0 - pad, y0 - pad, x1 + pad, y1 + pad, 1, 1)


def _heat(q: Query, state: FilterState, view: Viewport) -> dict[str, Any]:
    """Incident counts per grid cell as [lat, lon, sqrt(count)]."""
    w, h = view.x1 - view.x0, view.y1 - view.y0
    cell = max(w, h) / HEAT_CELLS
    nx, ny = max(1, round(w / cell)), max(1, round(h / cell))
    grid = q.density_grid(state, Viewport(view.x0, view.y0, view.x1, view.y1, nx, ny))
    rows, cols = np.nonzero(grid)
    counts = grid[rows, cols].astype(np.int64)
    lon, lat = mercator_to_lonlat(view.x0 + (cols + 0.5) * (w / nx),
                                  view.y0 + (rows + 0.5) * (h / ny))
    # Square roots: busy town centres stand out without hiding the villages (counts
    # would show only the centres, logarithms would flatten a dense county).
    weights = np.round(np.sqrt(counts), 2)
    points = np.column_stack([np.round(lat, 5), np.round(lon, 5), weights]).tolist()
    lut = styles.heat_lut()
    gradient = {f"{t:.2f}": hex_color(tuple(lut[int(t * 255)])) for t in (0.2, 0.4, 0.6, 0.8, 1.0)}
    return {"points": points, "radius": 10, "blur": 12, "max_quantile": HEAT_MAX_QUANTILE,
            "max_factor": HEAT_MAX_FACTOR, "min_opacity": HEAT_MIN_OPACITY,
            "gradient": gradient, "cell_m": round(cell, 1),
            "incidents": int(counts.sum())}


def _cluster(pts: dict[str, np.ndarray], times: dict[str, str], lang: str) -> dict[str, Any]:
    lon, lat = mercator_to_lonlat(pts["mx"].astype(float), pts["my"].astype(float))
    ids = _texts(pts["incident_id"])
    cats = sorted(styles.INCIDENT_COLORS)
    return {"id": ids, "lon": _coords(lon), "lat": _coords(lat),
            "category": _texts(pts["category"]), "time": [times.get(i or "") for i in ids],
            "colors": {c: hex_color(styles.INCIDENT_COLORS[c]) for c in cats},
            "labels": {c: code_label("incident_category", c, lang) for c in cats}}


def _incident_times(q: Query, ids: list[str | None]) -> dict[str, str]:
    """Report times of a few incidents (the cluster tooltips), by id."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = q.con.execute(
        "SELECT incident_id, strftime(reported_at, '%Y-%m-%d %H:%M') FROM incidents "
        "WHERE list_contains($ids, incident_id)", {"ids": wanted}).fetchall()
    return {str(i): str(t) for i, t in rows}


# --------------------------------------------------------------------------- registers
def _resources(q: Query, state: FilterState, lang: str, masked: bool) -> dict[str, Any]:
    r = q.resource_points(state)
    ids = _texts(r["resource_id"])
    # Phones and headcounts are not in resource_points; same filter, same rows.
    p = q.where(state, "resources")
    extra = {str(i): (ph, hc) for i, ph, hc in q.con.execute(
        f"SELECT resource_id, phone, headcount FROM resources WHERE {p.sql} "
        "AND mx IS NOT NULL", p.params).fetchall()}
    kinds = _texts(r["kind"])
    names = _texts(r["name"])
    phones = [extra.get(i or "", (None, None))[0] for i in ids]
    if masked:
        names = [mask_resource_name(k, n) for k, n in zip(kinds, names, strict=True)]
        phones = [mask_phone(ph) for ph in phones]
    return {"id": ids, "kind": kinds, "name": names, "phone": phones,
            "headcount": [None if (hc := extra.get(i or "", (None, None))[1]) is None
                          else int(hc) for i in ids],
            "available": [bool(a) for a in r["available"].tolist()],
            "lon": _coords(r["lon"]), "lat": _coords(r["lat"])}


def _resource_style(lang: str) -> dict[str, Any]:
    return {kind: {"color": hex_color(color), "symbol": symbol, "radius": 5.0,
                   "label": code_label("resource_kind", kind, lang),
                   "unavailable_opacity": round(styles.UNAVAILABLE_ALPHA / 255, 3)}
            for kind, (color, symbol) in styles.RESOURCE_STYLE.items()}


def _hazards(q: Query, state: FilterState) -> dict[str, Any]:
    """Hazards with the state derived by ``hazard_points``; major ones last (drawn on top)."""
    h = q.hazard_points(state)
    rank = {r: i for i, r in enumerate(RISK_ORDER)}
    order = sorted(range(len(h["hazard_id"])),
                   key=lambda i: (rank.get(str(h["risk_level"][i]), -1), str(h["hazard_id"][i])))
    idx = np.asarray(order, dtype=np.int64)
    return {"id": _texts(h["hazard_id"][idx]), "name": _texts(h["name"][idx]),
            "category": _texts(h["category"][idx]), "risk_level": _texts(h["risk_level"][idx]),
            "state": _texts(h["state"][idx]),
            "overdue": [bool(v) for v in h["overdue"][idx].tolist()],
            "lon": _coords(h["lon"][idx]), "lat": _coords(h["lat"][idx])}


def _hazard_style(lang: str) -> dict[str, Any]:
    return {"color": {s: hex_color(c) for s, c in styles.HAZARD_STATE_COLORS.items()},
            "color_other": "#9e9e9e", "overdue_color": "#ff1744",
            "symbol": dict(styles.HAZARD_SYMBOLS),
            # Sizes are diameters at the reference screen; Leaflet takes radii.
            "radius": {r: s / 2 for r, s in styles.RISK_SIZES.items()},
            "state_label": {s: code_label("hazard_state", s, lang)
                            for s in styles.HAZARD_STATE_COLORS},
            "risk_label": {r: code_label("risk_level", r, lang) for r in RISK_ORDER},
            "category_label": {c: code_label("hazard_category", c, lang)
                               for c in styles.HAZARD_SYMBOLS}}


# --------------------------------------------------------------------------- areas
def _round_coords(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [round(v, 5) for v in obj]
        return [_round_coords(v) for v in obj]
    return obj


def _areas(q: Query, state: FilterState, level: str, tolerance: float,
           labels: bool) -> dict[str, Any] | None:
    areas = q.extract.areas
    members = [i for i in areas.at_level(level)
               if areas.geoms[i] is not None and not areas.geoms[i].is_empty]
    if not members:
        return None
    idx, counts = q.incidents_by_area(state, level=level)
    count_of = dict(zip(idx.tolist(), counts.tolist(), strict=True))
    features, marks = [], []
    for i in members:
        geom = shapely.simplify(areas.geoms[i], tolerance, preserve_topology=True)
        features.append({"type": "Feature",
                         "geometry": _round_coords(shapely.geometry.mapping(geom)),
                         "properties": {"id": areas.ids[i], "name": areas.names[i],
                                        "count": int(count_of.get(i, 0))}})
        if labels:
            pt = shapely.point_on_surface(areas.geoms[i])
            marks.append([round(pt.x, 5), round(pt.y, 5), areas.names[i]])
    pen, width = AREA_PENS[level]
    # A faint fill: the canvas finds the area under the pointer for its tooltip.
    style = {"color": pen, "weight": width,
             "opacity": 0.9 if level in ("county", "town") else 0.6,
             "fill": True, "fillColor": pen, "fillOpacity": 0.03}
    return {"geojson": {"type": "FeatureCollection", "features": features},
            "style": style, "labels": marks}


class _Builder(MacroElement):
    """The script that calls ``cockpitMap`` once folium has made the map and its groups."""

    _template = Template("""
{% macro script(this, kwargs) %}
cockpitMap({{ this.map_name }}, {{ this.groups_js }},
           JSON.parse(document.getElementById({{ this.data_id_js }}).textContent));
{% endmacro %}
""")

    def __init__(self, map_name: str, groups: dict[str, Any]) -> None:
        super().__init__()
        self._name = "CockpitBuilder"
        self.map_name = map_name
        self.groups_js = self._object(groups)
        self.data_id_js = json.dumps(DATA_ID)

    @classmethod
    def _object(cls, groups: dict[str, Any]) -> str:
        # Values are folium's generated variable names; keys are codes, quoted as JSON.
        items = []
        for key, value in groups.items():
            inner = cls._object(value) if isinstance(value, dict) else value
            if not isinstance(value, dict) and not str(value).replace("_", "").isalnum():
                raise ValueError(f"not a JavaScript identifier: {value!r}")
            items.append(f"{json.dumps(key)}: {inner}")
        return "{" + ", ".join(items) + "}"


def _period(q: Query, state: FilterState, as_of: date) -> tuple[date | None, date]:
    """The days the map covers: the window, or the incidents' bulk period (``data.period``)
    up to the as-of day."""
    end = min(state.end, as_of) if state.end else as_of
    start = state.start
    period = incident_period(q.extract)
    if start is None and period is not None:
        start = period.first
    if start is None:
        days, _ = q.incidents_by_day(state)
        start = days[0].item() if len(days) else None
    return start, end


@dataclass(frozen=True)
class MapData:
    """What the page shows (JSON-ready ``data``) and the facts its layout needs."""

    data: dict[str, Any]
    mode: str | None
    """"heat", "cluster" or None (no located incident)."""
    incidents: int
    """Located incidents drawn (in the heat cells, or as markers)."""
    resource_kinds: list[str]
    period: tuple[date | None, date]
    as_of: date

    def count(self, key: str) -> int:
        block = self.data.get(key)
        return len(block["id"]) if block else 0

    def summary(self) -> dict[str, Any]:
        d = self.data
        areas = {lv: len(a["geojson"]["features"]) for lv, a in d["areas"].items()}
        return {"incident_mode": self.mode, "incidents": self.incidents,
                "heat_cells": len(d["heat"]["points"]) if d["heat"] else 0,
                "incident_markers": self.count("cluster"),
                "resources": self.count("resources"),
                "resources_unavailable": d["resources"]["available"].count(False)
                if d["resources"] else 0,
                "hazards": self.count("hazards"),
                "towns": areas.get("town", 0), "villages": areas.get("village", 0),
                "counties": areas.get("county", 0),
                "annotations": len(d["annotations"]["items"]) if d.get("annotations") else 0}


def _annotations(notes: Sequence[Annotation], lang: str, masked: bool) -> dict[str, Any] | None:
    """The annotations (标注) as the page's script draws them (notes masked unless told)."""
    if not notes:
        return None
    items = [{"kind": a.kind, "purpose": a.purpose, "points": [list(p) for p in a.points],
              "anchor": list(a.anchor()), "note": (mask_text(a.note) if masked else a.note),
              "who": a.updated_by or a.created_by,
              "when": (a.updated_at or a.created_at).replace("T", " ")[:16]} for a in notes]
    return {"items": items,
            "colors": {p: hex_color(c) for p, c in ANNOTATION_COLORS.items()},
            "symbols": dict(ANNOTATION_SYMBOLS),
            "labels": {p: code_label("annotation_purpose", p, lang) for p in ANNOTATION_COLORS},
            "words": {"note": tr("col_note", lang), "who": tr("col_who", lang),
                      "when": tr("col_when", lang)}}


def map_data(extract: Extract, state: FilterState, lang: str = "zh", masked: bool = True,
             villages: bool = True, annotations: Sequence[Annotation] = ()) -> MapData:
    """Gather the three maps of ``state`` from the query API (masked unless told), and the
    command centre's annotations."""
    q = Query(extract)
    as_of = q.as_of(state)
    resources = _resources(q, state, lang, masked)
    hazards = _hazards(q, state)
    located = q.incident_points(state, limit=CLUSTER_LIMIT + 1)
    view = _region_view(extract, state, [located, q.resource_points(state)])
    heat = cluster = None
    mode: str | None = None
    incidents = 0
    if 0 < len(located["mx"]) <= CLUSTER_LIMIT:
        cluster = _cluster(located, _incident_times(q, _texts(located["incident_id"])), lang)
        mode, incidents = "cluster", len(located["mx"])
    elif len(located["mx"]) and view is not None:
        heat = _heat(q, state, view)
        mode, incidents = "heat", heat.pop("incidents")

    ext = extract.areas.extent()
    tolerance = max(ext[2] - ext[0], ext[3] - ext[1]) / 3000 if ext else 1e-4
    # (level: labels) the county, towns and villages present; villages only when asked
    levels = {"county": False, "town": True, "village": False}
    if not villages:
        del levels["village"]
    areas = {level: a for level, labels in levels.items()
             if (a := _areas(q, state, level, tolerance, labels)) is not None}
    if "county" in areas and len(areas) > 1:
        # under finer areas: the outline only (its fill would take their tooltips)
        areas["county"]["style"]["fill"] = False
    elif "county" in areas:
        areas["county"] = _areas(q, state, "county", tolerance, True)

    bounds = None
    if view is not None:
        (lon0, lon1), (lat0, lat1) = mercator_to_lonlat([view.x0, view.x1], [view.y0, view.y1])
        bounds = [[float(lat0), float(lon0)], [float(lat1), float(lon1)]]
    words = {k: text(k, lang) for k in ("incidents", "id", "time", "kind", "available",
                                        "headcount", "phone", "yes", "no")}
    words |= {"risk": text("risk_level", lang), "category": text("category_short", lang),
              "state": text("state_short", lang), "overdue": text("overdue_short", lang)}
    data = {"lang": lang, "text": words, "bounds": bounds, "heat": heat, "cluster": cluster,
            "resources": resources if resources["id"] else None,
            "hazards": hazards if hazards["id"] else None,
            "style": {"resources": _resource_style(lang), "hazards": _hazard_style(lang)},
            "areas": areas, "annotations": _annotations(annotations, lang, masked)}
    kinds = [k for k in styles.RESOURCE_STYLE if k in set(resources["kind"])]
    return MapData(data, mode, incidents, kinds, _period(q, state, as_of), as_of)


# --------------------------------------------------------------------------- page
def _reference(m: folium.Map, extract: Extract, reference: Sequence[ReferenceLayer]) -> None:
    """Reference layers as GeoJSON (styled, no popups: their names come from files)."""
    ext = extract.areas.extent()
    span = 20_000.0
    if ext is not None:
        (x0, x1), _ = lonlat_to_mercator([ext[0], ext[2]], [ext[1], ext[3]])
        span = max(float(x1 - x0), 2_000.0)
    for layer in reference:
        st = layer.style
        color = hex_color(st.color)
        fill = hex_color(st.fill) if st.fill is not None else None

        def style(_: object, color: str = color, fill: str | None = fill,
                  st: ReferenceStyle = st) -> dict[str, Any]:
            return {"color": color, "weight": st.width, "opacity": st.color[3] / 255,
                    "fill": fill is not None, "fillColor": fill or color,
                    "fillOpacity": (st.fill[3] / 255) if st.fill is not None else 0.0}

        # simplified for a map about 1,500 pixels across the region
        folium.GeoJson(reference_geojson(layer, span / 1500), name=html.escape(st.name),
                       style_function=style, control=True, show=True).add_to(m)


def _page(extract: Extract, md: MapData, lang: str, masked: bool, tiles: str | None,
          tile_attribution: str | None, reference: Sequence[ReferenceLayer] = ()) -> str:
    """The folium page: layer groups for the layer control, the data, inline assets."""
    d = md.data
    bounds = d["bounds"]
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2] \
        if bounds else [0.0, 0.0]
    m = folium.Map(location=center, zoom_start=10, tiles=None, prefer_canvas=True,
                   control_scale=True)
    if tiles:
        folium.TileLayer(tiles=tiles, name=html.escape(text("tiles", lang)),
                         attr=html.escape(tile_attribution or text("tiles", lang)),
                         overlay=False, control=True).add_to(m)
    _reference(m, extract, reference)
    groups: dict[str, Any] = {}

    def group(name: str, show: bool = True) -> str:
        # Leaflet writes layer names with innerHTML: escape them.
        return folium.FeatureGroup(name=html.escape(name), show=show).add_to(m).get_name()

    if "village" in d["areas"]:  # shown at first only without towns (their outlines)
        groups["villages"] = group(code_label("area_level", "village", lang),
                                   show="town" not in d["areas"])
    if "town" in d["areas"]:
        groups["towns"] = group(code_label("area_level", "town", lang))
    if "county" in d["areas"]:
        groups["counties"] = group(code_label("area_level", "county", lang))
    if md.mode is not None:
        groups["situation"] = group(f"{tr('map_situation', lang)} · {text(md.mode, lang)}")
    if d["hazards"]:
        # off at first, as in the window: 9,000 symbols over the heat hide both
        groups["hazards"] = group(tr("map_hazards", lang), show=False)
    if md.resource_kinds:
        groups["resources"] = {
            kind: group(f"{tr('map_resources', lang)} · {code_label('resource_kind', kind, lang)}",
                        show=kind in SHOWN_RESOURCE_KINDS)
            for kind in md.resource_kinds}
    if d.get("annotations"):
        groups["annotations"] = group(tr("layer_annotations", lang))
    folium.LayerControl(collapsed=False).add_to(m)

    fig = m.get_root()
    fig.title = html.escape(text("title", lang, region=extract.region_name))
    fig.html.add_child(Element(title_html(extract.region_name, extract.classification,
                                          *md.period, md.as_of, lang, masked)))
    fig.html.add_child(Element(legend_html(lang, md.mode, d["heat"]["gradient"] if d["heat"]
                                           else None, md.resource_kinds, bool(d["hazards"]))))
    fig.html.add_child(Element(f'<script type="application/json" id="{DATA_ID}">'
                               f"{script_json(d)}</script>"))
    _Builder(m.get_name(), groups).add_to(m)
    drop_cdn_links(m)
    add_inline_assets(fig, ["leaflet"] + (["heat"] if d["heat"] else [])
                      + (["markercluster"] if d["cluster"] else []) + ["cockpit"])
    page = fig.render()
    leaks = remote_references(page, allowed=[tiles or ""])
    if leaks:  # a folium change would show up here, not on a closed network
        raise RuntimeError(f"exported map would load remote files: {leaks[:3]}")
    return page


# --------------------------------------------------------------------------- export
def export_html(extract: Extract, state: FilterState, path: str | Path, lang: str = "zh",
                tiles: str | None = None, masked: bool = True, *,
                tile_attribution: str | None = None, villages: bool = True,
                reference: Sequence[ReferenceLayer] = (),
                annotations: Sequence[Annotation] | None = None) -> dict[str, Any]:
    """Write the interactive map of ``state`` to ``path``; return what was drawn.

    ``tiles`` is an XYZ URL template the user configured (an intranet server,
    ``{z}/{x}/{y}``); without it the map has no base map and reaches nothing.
    ``masked`` masks personal names and phones; recording an unmasked export in
    the audit log is the caller's duty (it knows who asked, and why). ``reference``
    layers (``data.reference``) are drawn under the data, each in the layer control.
    ``annotations`` (None: the region's, from the user's ``annotations.json``) are drawn
    in their group.
    """
    t0 = time.perf_counter()
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language: {lang}")
    if tiles is not None and (not tiles.startswith(TILE_SCHEMES)
                              or not all(k in tiles for k in ("{z}", "{x}", "{y}"))):
        raise ValueError("tiles must be an http(s) or cockpit-tiles URL template with "
                         "{z}, {x} and {y}")
    path = Path(path)
    if annotations is None:
        annotations = AnnotationStore().of_region(extract.region_name)
    md = map_data(extract, state, lang, masked, villages, annotations)
    page = _page(extract, md, lang, masked, tiles, tile_attribution, reference)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a file
    return {"path": str(path), "bytes": path.stat().st_size, **md.summary(),
            "reference_layers": len(reference), "masked": masked, "lang": lang,
            "seconds": round(time.perf_counter() - t0, 3)}
