"""What a click on the map opens: an object's details, and the nearest forces (一键调度).

Qt-free; the window runs these in a worker and the dispatch panel draws the
result. Personal data (names of persons, phones) is masked unless the caller
explicitly asks otherwise (an unmasking that the desktop logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from data.analysis.coverage import nearest_to_incident
from data.coords import lonlat_to_mercator
from data.extract import Extract
from data.filters import FilterState
from data.nearest import nearest_resources
from data.privacy import mask_phone, mask_resource_name, mask_text
from data.queries import Query
from data.reveal import is_personal

from .drawables import LayerSpec, LegendEntry, Lines, Points
from .i18n import code_label, tr
from .panels import TableSpec

DISPATCH_COLOR = (0, 230, 118, 255)
ORIGIN_COLOR = (255, 255, 255, 255)


@dataclass(frozen=True)
class Details:
    title: str
    rows: tuple[tuple[str, str], ...]
    lon: float | None = None
    lat: float | None = None
    record: tuple[str, str] | None = None
    """(table, id) of the object shown."""
    personal: tuple[tuple[int, str], ...] = ()
    """(row, field) of the rows holding masked personal data (a desk may reveal them)."""


@dataclass(frozen=True)
class Dispatch:
    origin: str
    lon: float
    lat: float
    table: TableSpec
    layer: LayerSpec
    text: str
    """The list as plain text, for the clipboard (already masked)."""
    kinds: tuple[str, ...] = ()
    """The resource kind of each row (a name is personal for person kinds only)."""


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _one(extract: Extract, sql: str, key: str) -> dict[str, Any] | None:
    cur = extract.cursor()
    try:
        res = cur.execute(sql, [key])
        names = [d[0] for d in res.description]
        rows = res.fetchall()
    finally:
        cur.close()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def _area_name(extract: Extract, idx: Any) -> str:
    if idx is None or int(idx) < 0:
        return "—"
    areas = extract.areas
    town = areas.ancestor_at("town")[int(idx)]
    name = areas.names[int(idx)]
    return f"{areas.names[int(town)]} {name}" if town >= 0 and town != int(idx) else name


def incident_details(extract: Extract, incident_id: str, lang: str | None = None) -> Details | None:
    r = _one(extract, "SELECT incident_id, reported_at, category, status, address, area_idx, "
             "lon, lat FROM incidents WHERE incident_id = ?", incident_id)
    if r is None:
        return None
    address = mask_text(r["address"])  # a caller's number written into the address
    rows = ((tr("f_time", lang), _fmt(r["reported_at"])),
            (tr("f_category", lang), code_label("incident_category", r["category"], lang)),
            (tr("f_status", lang), code_label("incident_status", r["status"], lang)),
            (tr("f_address", lang), _fmt(address)),
            (tr("f_area", lang), _area_name(extract, r["area_idx"])))
    personal = ((3, "address"),) if address != r["address"] else ()
    return Details(tr("details_incident", lang, id=incident_id), rows, r["lon"], r["lat"],
                   ("incidents", incident_id), personal)


def hazard_details(q: Query, state: FilterState, hazard_id: str,
                   lang: str | None = None) -> Details | None:
    pts = q.hazard_points(state, hazard_id)
    hit = np.flatnonzero(pts["hazard_id"] == hazard_id)
    r = _one(q.extract, "SELECT discovered_at, responsible_unit, deadline, area_idx "
             "FROM hazards WHERE hazard_id = ?", hazard_id)
    if r is None or not len(hit):
        return None
    i = int(hit[0])
    rows = ((tr("f_name", lang), _fmt(pts["name"][i])),
            (tr("f_category", lang), code_label("hazard_category", str(pts["category"][i]),
                                                lang)),
            (tr("f_risk", lang), code_label("risk_level", str(pts["risk_level"][i]), lang)),
            (tr("f_state", lang), code_label("hazard_state", str(pts["state"][i]), lang)),
            (tr("f_overdue", lang), tr("yes" if bool(pts["overdue"][i]) else "no", lang)),
            (tr("f_deadline", lang), _fmt(r["deadline"])),
            (tr("f_unit", lang), _fmt(r["responsible_unit"])),
            (tr("f_discovered", lang), _fmt(r["discovered_at"])),
            (tr("f_area", lang), _area_name(q.extract, r["area_idx"])))
    return Details(tr("details_hazard", lang, id=hazard_id), rows,
                   float(pts["lon"][i]), float(pts["lat"][i]))


def resource_details(extract: Extract, resource_id: str, lang: str | None = None,
                     masked: bool = True) -> Details | None:
    r = _one(extract, "SELECT kind, name, phone, headcount, available, area_idx, lon, lat "
             "FROM resources WHERE resource_id = ?", resource_id)
    if r is None:
        return None
    name = mask_resource_name(r["kind"], r["name"]) if masked else r["name"]
    phone = mask_phone(r["phone"]) if masked else r["phone"]
    rows = ((tr("f_kind", lang), code_label("resource_kind", r["kind"], lang)),
            (tr("f_name", lang), _fmt(name)), (tr("f_phone", lang), _fmt(phone)),
            (tr("f_headcount", lang), _fmt(r["headcount"])),
            (tr("f_available", lang), tr("no" if r["available"] is False else "yes", lang)),
            (tr("f_area", lang), _area_name(extract, r["area_idx"])))
    personal = tuple((i, f) for i, f in ((1, "name"), (2, "phone"))
                     if masked and r[f] and is_personal("resources", f, r["kind"]))
    return Details(tr("details_resource", lang, id=resource_id), rows, r["lon"], r["lat"],
                   ("resources", resource_id), personal)


def _distance(m: float) -> str:
    return f"{m:,.0f} m" if m < 1000 else f"{m / 1000:.1f} km"


def dispatch(extract: Extract, lon: float, lat: float, origin: str, k: int = 5,
             kinds: tuple[str, ...] = (), lang: str | None = None,
             found: list[dict[str, Any]] | None = None) -> Dispatch:
    """The ``k`` nearest available forces to a point, as a table, map lines and text."""
    if found is None:
        found = nearest_resources(extract, lon, lat, k=k, kinds=kinds)
    rows = tuple((code_label("resource_kind", f["kind"], lang), f["name"] or "—",
                  _distance(f["distance_m"]), f["phone"] or "—") for f in found)
    table = TableSpec("dispatch", tr("dispatch_title", lang),
                      tuple(tr(c, lang) for c in ("col_kind", "col_name", "col_distance",
                                                  "col_phone")),
                      rows, tuple(f["resource_id"] for f in found), "zoom",
                      tuple((f["lon"], f["lat"]) for f in found), (False, False, True, False))
    ox, oy = lonlat_to_mercator([lon], [lat])
    rx, ry = lonlat_to_mercator([f["lon"] for f in found], [f["lat"] for f in found])
    n = len(found)
    lines = Lines("dispatch", np.full(n, float(ox[0])), np.full(n, float(oy[0])),
                  np.asarray(rx, float), np.asarray(ry, float), DISPATCH_COLOR, 2.5,
                  tuple(_distance(f["distance_m"]) for f in found))
    mark = Points("dispatch.origin", np.asarray(ox, float), np.asarray(oy, float),
                  np.array([ORIGIN_COLOR], np.uint8), np.array([14.0]), "star",
                  ("origin",), (origin,), outline=(0, 0, 0, 255), z=37)
    layer = LayerSpec("dispatch", "dispatch", tr("layer_dispatch", lang), (lines, mark),
                      (LegendEntry(tr("layer_dispatch", lang), DISPATCH_COLOR, "s"),))
    text = "\n".join([tr("dispatch_text", lang, origin=origin)] + [
        f"{i + 1}. {r[0]} {r[1]} {r[2]} {r[3]}" for i, r in enumerate(rows)]
        if rows else [tr("dispatch_text", lang, origin=origin), tr("dispatch_none", lang)])
    return Dispatch(origin, lon, lat, table, layer, text, tuple(f["kind"] for f in found))


def dispatch_for_incident(extract: Extract, incident_id: str, k: int = 5,
                          lang: str | None = None) -> Dispatch | None:
    d = incident_details(extract, incident_id, lang)
    if d is None or d.lon is None or d.lat is None:
        return None
    found = nearest_to_incident(extract, incident_id, k=k)
    return dispatch(extract, d.lon, d.lat, tr("details_incident", lang, id=incident_id), k,
                    lang=lang, found=found)
