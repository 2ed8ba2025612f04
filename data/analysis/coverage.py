"""Coverage of hazards by available forces (风险隐患 × 可用资源) and the forces nearest an incident.

Definitions (these are the documentation of every figure below):

- **Distance**: great-circle (haversine on the 6 371 008.8 m sphere, ``data.coords``),
  from WGS84 coordinates. The nearest resource is found with the KD-tree of unit
  vectors of ``data.nearest`` (chord length grows with arc length, so the tree's
  nearest is the great-circle nearest); equally near resources are told apart by
  ``resource_id``.
- **Resources considered**: available ones (``available``, which defaults to true)
  with coordinates, of the given kinds; when none are given, of
  ``state.resource_kinds``; when that is empty too, of every kind. The area filter does
  not cut resources: a station just across a boundary still covers a hazard.
- **nearest_to_incident**: the ``k`` nearest such resources to the incident's location,
  in the shape of ``data.nearest.nearest_resources`` (nearest first, names of persons
  and phones masked); ``[]`` when the incident id is unknown or the incident has no
  location. The incident is looked up in the whole extract (no filter).
- **Coverage gaps**: the hazards under the state's hazard filter (categories, risk
  levels, areas; discovered by the as-of day), whatever their rectification state
  (reported beside each, derived by ``data.queries.hazard_state_sql`` from the events
  up to the as-of day), whose nearest considered resource is farther than
  ``radius_km`` or that have none at all. ``hazards_checked`` counts the hazards under
  the filter (the schema requires their coordinates).
- **Order**: risk level major, high, medium, low, other; then distance descending
  (no resource at all first); then ``hazard_id``. ``by_risk_level`` counts the gaps of
  each level (every level present as a key).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..coords import haversine_m
from ..extract import Extract
from ..filters import FilterState
from ..nearest import nearest_resources, resource_index, unit_vectors
from ..queries import Query, hazard_state_sql
from ..schema import RISK_LEVELS

RISK_ORDER: tuple[str, ...] = (*RISK_LEVELS, "other")


def nearest_to_incident(extract: Extract, incident_id: str, k: int = 5,
                        kinds: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The ``k`` nearest available resources to an incident (``[]`` if unknown/unlocated)."""
    rows = extract.cursor().execute(
        "SELECT lon, lat FROM incidents WHERE incident_id = $id", {"id": str(incident_id)}
    ).fetchall()
    if not rows or rows[0][0] is None or rows[0][1] is None:
        return []
    lon, lat = float(rows[0][0]), float(rows[0][1])
    if not (np.isfinite(lon) and np.isfinite(lat)):
        return []
    return nearest_resources(extract, lon, lat, k, kinds)


@dataclass(frozen=True)
class CoverageGap:
    hazard_id: str
    name: str | None
    category: str
    risk_level: str
    state: str
    area_id: str | None
    area_name: str | None
    lon: float
    lat: float
    nearest_resource_id: str | None
    nearest_kind: str | None
    nearest_distance_m: float | None

    def to_json(self) -> dict[str, Any]:
        d = self.nearest_distance_m
        return {"hazard_id": self.hazard_id, "name": self.name, "category": self.category,
                "risk_level": self.risk_level, "state": self.state, "area_id": self.area_id,
                "area_name": self.area_name, "lon": round(self.lon, 6),
                "lat": round(self.lat, 6), "nearest_resource_id": self.nearest_resource_id,
                "nearest_kind": self.nearest_kind,
                "nearest_distance_m": None if d is None else round(d, 1)}


@dataclass(frozen=True)
class CoverageGaps:
    radius_km: float
    kinds: tuple[str, ...]
    """The resource kinds considered, sorted (empty = every kind)."""
    hazards_checked: int
    total_gaps: int
    """Gaps found (before ``limit``)."""
    by_risk_level: dict[str, int]
    gaps: tuple[CoverageGap, ...]
    """In order, at most ``limit``."""

    def __len__(self) -> int:
        return len(self.gaps)

    def __iter__(self) -> Iterator[CoverageGap]:
        return iter(self.gaps)

    def to_json(self, limit: int | None = 20) -> dict[str, Any]:
        top = self.gaps if limit is None else self.gaps[:max(limit, 0)]
        return {"radius_km": self.radius_km, "kinds": list(self.kinds),
                "hazards_checked": self.hazards_checked, "gaps": self.total_gaps,
                "by_risk_level": dict(self.by_risk_level),
                "top": [g.to_json() for g in top]}


def _nearest(extract: Extract, kinds: frozenset[str], lon: np.ndarray, lat: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """(resource position in the index or -1, great-circle metres or NaN) per point."""
    index = resource_index(extract, kinds)
    n = len(lon)
    pos = np.full(n, -1, np.int64)
    dist = np.full(n, np.nan)
    if index.tree is None or n == 0:
        return pos, dist
    here = unit_vectors(lon, lat)
    chord, pos = index.tree.query(here, k=1)
    pos = np.asarray(pos, np.int64)
    # Equally near resources: the smallest id (the index is sorted by resource_id).
    reach = np.asarray(chord) * (1 + 1e-9) + 1e-12
    many = np.flatnonzero(index.tree.query_ball_point(here, reach, return_length=True) > 1)
    c = index.columns
    for i in many.tolist():
        near = np.asarray(index.tree.query_ball_point(here[i], reach[i]), np.int64)
        d = haversine_m(lon[i], lat[i], c["lon"][near], c["lat"][near])
        pos[i] = near[np.lexsort((near, d))[0]]
    dist = haversine_m(lon, lat, c["lon"][pos], c["lat"][pos])
    return pos, dist


def coverage_gaps(q: Query, state: FilterState, kinds: Iterable[str] = (),
                  radius_km: float = 3.0, limit: int | None = None) -> CoverageGaps:
    """Hazards farther than ``radius_km`` from any available resource of ``kinds``."""
    chosen = frozenset(kinds) or frozenset(state.resource_kinds)
    p = q.where(state, "hazards", alias="h")
    sql, params = hazard_state_sql(p, q.as_of(state))
    res = q.con.execute(
        f"SELECT hazard_id, name, category, risk_level, state, "
        f"coalesce(area_idx, -1) AS a, lon, lat FROM ({sql}) ORDER BY hazard_id",
        params).fetchnumpy()
    lon = np.asarray(res["lon"], np.float64)
    lat = np.asarray(res["lat"], np.float64)
    pos, dist = _nearest(q.extract, chosen, lon, lat)
    gap = np.flatnonzero((pos < 0) | (dist > radius_km * 1000.0))
    risk = np.asarray(res["risk_level"], dtype=object)
    level = np.asarray([RISK_ORDER.index(r) if r in RISK_ORDER else len(RISK_ORDER)
                        for r in risk[gap]], np.int64)
    hid = np.asarray(res["hazard_id"], dtype=object)[gap].astype(str)
    far = np.where(pos[gap] < 0, np.inf, dist[gap])
    order = gap[np.lexsort((hid, -far, level))]
    by_level = {r: 0 for r in RISK_ORDER}
    for r in risk[gap].tolist():
        by_level[str(r)] = by_level.get(str(r), 0) + 1
    if limit is not None:
        order = order[:max(limit, 0)]
    areas = q.extract.areas
    cols = resource_index(q.extract, chosen).columns
    out = []
    for i in order.tolist():
        a, r = int(res["a"][i]), int(pos[i])
        out.append(CoverageGap(
            hazard_id=str(res["hazard_id"][i]), name=_text(res["name"][i]),
            category=str(res["category"][i]), risk_level=str(res["risk_level"][i]),
            state=str(res["state"][i]), area_id=areas.ids[a] if a >= 0 else None,
            area_name=areas.names[a] if a >= 0 else None, lon=float(lon[i]), lat=float(lat[i]),
            nearest_resource_id=str(cols["resource_id"][r]) if r >= 0 else None,
            nearest_kind=str(cols["kind"][r]) if r >= 0 else None,
            nearest_distance_m=float(dist[i]) if r >= 0 else None))
    return CoverageGaps(float(radius_km), tuple(sorted(chosen)), len(lon), len(gap), by_level,
                        tuple(out))


def _text(v: Any) -> str | None:
    if v is None or v is np.ma.masked:
        return None
    return str(v)


__all__ = ["CoverageGap", "CoverageGaps", "coverage_gaps", "nearest_to_incident"]
