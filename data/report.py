"""The key figures (``report --json``), built only from the query API.

The keys and definitions are a contract (../shared/design.md): scripts and
checks read them. More keys may be added; none may be renamed.
"""

from __future__ import annotations

from typing import Any

from . import agg_counts
from .analysis.alerts import alerts
from .analysis.change import PERIODS, change, change_by
from .analysis.coverage import coverage_gaps
from .analysis.hotspots import area_hotspots, emerging_hotspots, grid_hotspots
from .analysis.mediation import mediation
from .analysis.rectification import rectification
from .analysis.repeats import repeats_section
from .analysis.safety_index import safety_index
from .extract import Extract
from .filters import FilterState
from .period import freshness, incident_feed_end, incident_period
from .queries import Query
from .schema import HAZARD_STATES, INCIDENT_CATEGORIES


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def incidents_section(q: Query, state: FilterState) -> dict[str, Any]:
    yoy = q.year_over_year(state)
    period = incident_period(q.extract)
    by_category = q.incidents_by_category(state)
    return {
        "total": q.incident_count(state),
        "unlocated": q.unlocated_count(state),
        "by_category": {k: by_category.get(k, 0) for k in INCIDENT_CATEGORIES}
        | {k: v for k, v in by_category.items() if k not in INCIDENT_CATEGORIES},
        "by_area_top": q.top_areas(state, 10),
        "yoy": {"month": yoy.month, "current": yoy.current, "previous": yoy.previous,
                "change_pct": yoy.change_pct},
        "period": period.to_json() if period is not None else None,
    }


def resources_section(q: Query, state: FilterState) -> dict[str, Any]:
    by_kind = q.resources_by_kind(state)
    return {"total": sum(by_kind.values()), "available": q.available_resources(state),
            "by_kind": by_kind}


def hazards_section(q: Query, state: FilterState) -> dict[str, Any]:
    by_risk = q.hazard_states(state)
    by_state = {s: sum(d[s] for d in by_risk.values()) for s in HAZARD_STATES}
    total = sum(by_state.values())
    major = by_risk.get("major", {s: 0 for s in HAZARD_STATES})
    major_total = sum(major[s] for s in HAZARD_STATES)
    return {
        "total": total,
        "by_state": by_state,
        "overdue": sum(d["overdue"] for d in by_risk.values()),
        "rectification_rate": _rate(by_state["rectified"] + by_state["verified"], total),
        "major_rectification_rate": _rate(major["rectified"] + major["verified"], major_total),
        "by_risk_level": {k: {s: v[s] for s in HAZARD_STATES} for k, v in sorted(by_risk.items())},
    }


def disputes_section(q: Query, state: FilterState) -> dict[str, Any]:
    by_status = q.disputes_by(state, "status")
    finished = by_status["resolved"] + by_status["failed"] + by_status["referred"]
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_level": q.disputes_by(state, "level"),
        "success_rate": _rate(by_status["resolved"], finished),
    }


def change_section(q: Query, state: FilterState) -> dict[str, Any]:
    """Today, this week and this month to date, and the last complete ones (同比/环比)."""
    out: dict[str, Any] = {}
    end = incident_feed_end(q.extract)  # a lagging feed: compare only what it covers
    for period in PERIODS:
        c = change(q, state, period, to_date=True, until=end)
        out[f"{period}_to_date"] = c.to_json() | {
            "feed_stale": end is not None and end < c.current_span.stop}
        out[f"last_{period}"] = change(q, state, period).to_json()
    out["by_category_last_month"] = {k: v.to_json() for k, v in
                                     change_by(q, state, "category", "month").items()}
    return out


def hotspots_section(q: Query, state: FilterState) -> dict[str, Any]:
    refused = agg_counts.refused_rows(q, state)
    return {"grid": grid_hotspots(q, state).to_json(),
            "areas": area_hotspots(q, state).to_json(limit=20),
            "emerging": (agg_counts.refusal(refused) if refused is not None
                         else emerging_hotspots(q, state).to_json())}


def analysis_sections(q: Query, state: FilterState) -> dict[str, Any]:
    """The analysis figures (issue 3), each from its module in ``data.analysis``.

    A province read in place (``Extract.aggregated``) under a filter of more than
    ``agg_counts.POINT_ROWS`` incidents says why instead of the analyses that need every
    point (``{"computed": false, "reason": "too_many_incidents", ...}``)."""
    refused = agg_counts.refused_rows(q, state)
    return {
        "change": change_section(q, state),
        "hotspots": hotspots_section(q, state),
        "repeats": (agg_counts.refusal(refused) if refused is not None
                    else repeats_section(q, state)),
        "alerts": (agg_counts.refusal(refused) if refused is not None
                   else alerts(q, state).to_json(limit=50)),
        "rectification": rectification(q, state).to_json(),
        "mediation": mediation(q, state).to_json(),
        "safety_index": safety_index(q, state).to_json(),
        "coverage_gaps": coverage_gaps(q, state).to_json(),
    }


def build_report(extract: Extract, state: FilterState, analysis: bool = True) -> dict[str, Any]:
    """Every figure of ``report --json`` for ``state``.

    ``analysis=False`` leaves out the analysis sections (the design.md keys only).
    """
    q = Query(extract)
    as_of = q.as_of(state)
    doc = {
        "region": extract.region_name,
        "as_of": as_of.isoformat(),
        "window": {"from": state.start.isoformat() if state.start else None,
                   "to": state.end.isoformat() if state.end else None,
                   "areas": sorted(state.areas)},
        "incidents": incidents_section(q, state),
        "resources": resources_section(q, state),
        "hazards": hazards_section(q, state),
        "disputes": disputes_section(q, state),
        "load_report": extract.report.to_json(),
        "notes": list(extract.report.notes),
        "freshness": {t: f.to_json() for t, f in freshness(extract).items()},
    }
    if analysis:
        doc |= analysis_sections(q, state)
    return doc
