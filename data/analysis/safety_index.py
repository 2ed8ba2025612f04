"""The safety index (平安指数) of each area: one explainable number from 0 to 100.

Components, each measured per area at one level (``safety_level``: towns when the
extract has towns, else the coarsest level below the county it has — villages, grids —
else the county):
- ``incident_rate``: incidents per 10k population in the window (the last 90
  days up to the as-of day when the window has no start); category filters
  apply;
- ``open_major_hazards``: major hazards not rectified or verified on the as-of day;
- ``overdue_rectifications``: hazards past their deadline and not rectified or
  verified on the as-of day;
- ``unresolved_disputes``: disputes received by the as-of day and still pending or
  being mediated (a backlog, so the window start does not apply).

Each component becomes a risk score from 0 to 100: the area's value divided by the
largest value among all areas of the level in the county, times 100 (0 when no area
has any). The index is ``100 − Σ weight × risk``, so 100 means no area does better on
any component and the worst area on every component scores 0. It ranks areas of one
extract against each other; it is not comparable between extracts. An area without
population has no incident rate: that component is left out and the other weights
are rescaled to sum to 1. The area filter selects which rows are returned, never the
areas they are compared with. With fewer than two areas at the level there is nothing
to rank: no rows, and ``reason`` says so (``single_area``, ``no_areas``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from ..areas import AreaSet
from ..filters import FilterState
from ..queries import Query, hazard_state_sql
from ..schema import AREA_LEVELS

# The weights, in one place. They sum to 1.
WEIGHTS: dict[str, float] = {
    "incident_rate": 0.40,
    "open_major_hazards": 0.25,
    "overdue_rectifications": 0.20,
    "unresolved_disputes": 0.15,
}
COMPONENTS = tuple(WEIGHTS)
DEFAULT_DAYS = 90

# Grades shown next to the index: lower bound → grade code.
GRADES = ((90.0, "excellent"), (75.0, "good"), (60.0, "fair"), (0.0, "poor"))


def grade(index: float) -> str:
    return next(code for bound, code in GRADES if index >= bound)


@dataclass(frozen=True)
class AreaSafety:
    area_id: str
    name: str
    index: float
    grade: str
    values: dict[str, float | None]
    """Raw component values (incidents per 10k, counts)."""
    risks: dict[str, float | None]
    """Component risk scores 0–100 (None = left out)."""
    incidents: int
    population: float | None

    def to_json(self) -> dict:
        return {"area_id": self.area_id, "name": self.name, "index": round(self.index, 1),
                "grade": self.grade, "incidents": self.incidents,
                "population": None if self.population is None else int(self.population),
                "components": {c: {"value": _round(self.values[c]),
                                   "risk": _round(self.risks[c]), "weight": WEIGHTS[c]}
                               for c in COMPONENTS}}


def _round(v: float | None) -> float | None:
    return None if v is None else round(float(v), 2)


@dataclass(frozen=True)
class SafetyIndex:
    level: str
    window_from: str
    window_to: str
    areas: list[AreaSafety]
    """Worst first (lowest index), ties by area id."""

    reason: str | None = None
    """Why there are no rows: ``single_area`` or ``no_areas`` (None: ranked)."""

    def to_json(self, limit: int | None = None) -> dict:
        rows = self.areas if limit is None else self.areas[:limit]
        return {"level": self.level, "weights": dict(WEIGHTS),
                "window": {"from": self.window_from, "to": self.window_to},
                "areas": [a.to_json() for a in rows], "reason": self.reason}


def safety_level(areas: AreaSet) -> str | None:
    """Towns when present, else the coarsest level below the county, else the county."""
    present = {lv for lv in areas.levels if lv is not None}
    below = [lv for lv in AREA_LEVELS if lv in present and lv != "county"]
    return below[0] if below else ("county" if "county" in present else None)


def _per_area(q: Query, sql: str, params: dict, n: int, up: np.ndarray) -> np.ndarray:
    """Counts grouped by ``area_idx`` rolled up with ``up`` into an array of n areas."""
    res = q.con.execute(sql, params).fetchnumpy()
    idx = np.asarray(res["area_idx"], dtype=np.int64)
    cnt = np.asarray(res["n"], dtype=np.float64)
    if len(idx) == 0:
        return np.zeros(n)
    to = up[idx]
    keep = to >= 0
    return np.bincount(to[keep], weights=cnt[keep], minlength=n)


def safety_index(q: Query, state: FilterState, level: str | None = None) -> SafetyIndex:
    areas = q.extract.areas
    level = level or safety_level(areas) or "town"
    as_of = q.as_of(state)
    everywhere = dataclasses.replace(state, areas=frozenset())
    if everywhere.start is None:
        everywhere = everywhere.with_window(as_of - timedelta(days=DEFAULT_DAYS - 1),
                                            everywhere.end)
    start = everywhere.start
    end = min(everywhere.end or as_of, as_of)
    n = len(areas)
    up = areas.ancestor_at(level)
    members = np.asarray(areas.at_level(level), dtype=np.int64)

    inc_idx, inc_n = q.incidents_by_area(everywhere, level)
    incidents = np.zeros(n)
    incidents[inc_idx] = inc_n

    hp = q.where(everywhere, "hazards", alias="h")
    hsql, hparams = hazard_state_sql(hp, as_of)
    major = _per_area(q, f"SELECT area_idx, count(*) AS n FROM ({hsql}) WHERE area_idx IS NOT "
                         "NULL AND risk_level = 'major' AND state IN ('open', 'rectifying') "
                         "GROUP BY 1", hparams, n, up)
    overdue = _per_area(q, f"SELECT area_idx, count(*) AS n FROM ({hsql}) WHERE area_idx IS NOT "
                           "NULL AND deadline < $hs_asof AND state NOT IN ('rectified', "
                           "'verified') GROUP BY 1", {**hparams, "hs_asof": as_of}, n, up)
    dp = q.where(everywhere, "disputes", window=False)
    unresolved = _per_area(q, f"SELECT area_idx, count(*) AS n FROM disputes WHERE {dp.sql} "
                              "AND area_idx IS NOT NULL AND status IN ('pending', 'mediating') "
                              "GROUP BY 1", dp.params, n, up)

    pop = np.asarray(areas.population, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(pop > 0, incidents / pop * 1e4, np.nan)
    values = {"incident_rate": rate, "open_major_hazards": major,
              "overdue_rectifications": overdue, "unresolved_disputes": unresolved}
    risks = {}
    for c, v in values.items():
        top = np.nanmax(v[members]) if len(members) and np.isfinite(v[members]).any() else 0.0
        risks[c] = np.where(np.isfinite(v), v / top * 100.0 if top > 0 else 0.0, np.nan)

    shown = set(members.tolist())
    if state.areas:
        sel = set(areas.resolve(sorted(state.areas)).tolist())
        # A selected village shows its town; a selected town shows itself.
        shown = {int(i) for i in members if int(i) in sel} | {
            int(up[i]) for i in sel if up[i] >= 0}
    rows = []
    for i in sorted(shown):
        used = {c: WEIGHTS[c] for c in COMPONENTS if np.isfinite(risks[c][i])}
        total_w = sum(used.values())
        penalty = sum(w * float(risks[c][i]) for c, w in used.items()) / total_w if total_w \
            else 0.0
        idx = 100.0 - penalty
        rows.append(AreaSafety(
            area_id=areas.ids[i], name=areas.names[i], index=idx, grade=grade(idx),
            values={c: None if not np.isfinite(values[c][i]) else float(values[c][i])
                    for c in COMPONENTS},
            risks={c: None if not np.isfinite(risks[c][i]) else float(risks[c][i])
                   for c in COMPONENTS},
            incidents=int(incidents[i]),
            population=None if not np.isfinite(pop[i]) else float(pop[i])))
    rows.sort(key=lambda a: (a.index, a.area_id))
    reason = None
    if len(members) < 2:  # one area compared with itself: every score would be 0 or 100
        rows, reason = [], "single_area" if len(members) else "no_areas"
    return SafetyIndex(level, start.isoformat(), end.isoformat(), rows, reason)
