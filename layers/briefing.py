"""What a briefing (研判报告) shows besides the screen's panels: its figures and tables.

``briefing_figures`` gathers, for one filter state, the figures the written summary
(``layers.summary``) and the PDF print next to the panels of ``layers.dashboard``: the
window against the same dates a year earlier (``data.analysis.window_change``), by
category and by town, hot villages, emerging hot spots, repeat addresses,
rectification, mediation and the coverage gaps of the nearest forces. Every figure is a
``data/`` function's own result; this module only picks, labels and formats, and stays
free of Qt. Tables are ``TableSpec``s, like the screen's, with their text unmasked: the
exporter masks what it prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from data import agg_counts
from data.analysis.change import Change
from data.analysis.coverage import CoverageGaps, coverage_gaps
from data.analysis.hotspots import area_hotspots, emerging_hotspots
from data.analysis.mediation import Mediation, mediation
from data.analysis.rectification import Rectification, rectification
from data.analysis.repeats import RepeatPlaces, repeat_places
from data.analysis.window_change import window_change, window_change_by
from data.extract import Extract
from data.filters import FilterState
from data.queries import Query
from data.schema import INCIDENT_CATEGORIES

from .i18n import code_label, tr
from .panels import KpiSpec, TableSpec

REPEAT_ROWS = 15
"""Repeat addresses listed (the total is always given)."""
GAP_ROWS = 20
UNIT_ROWS = 8
EMERGING_ROWS = 8
TOWN_ROWS = 20
COVERAGE_RADIUS_KM = 3.0
"""As ``report --json``'s ``coverage_gaps``."""


@dataclass(frozen=True, eq=False)
class BriefingFigures:
    """The figures of one briefing for ``state`` (see the module docstring)."""

    state: FilterState
    region: str
    as_of: date
    incidents: int
    """Incidents in the window (``Query.incident_count``)."""
    unlocated: int
    comparison: Change
    """``window_change``: the window (or the last complete month) against a year earlier."""
    by_category: dict[str, Change]
    by_town: dict[str, Change]
    town_names: dict[str, str]
    hot: dict
    """``area_hotspots().to_json()``: every hot area at the level Gi* ran at (the finest
    with enough areas), strongest first."""
    emerging: dict
    """``emerging_hotspots().to_json(EMERGING_ROWS)``."""
    repeats: RepeatPlaces | None
    """None until computed (``briefing_figures(..., repeats=False)``)."""
    rect: Rectification
    med: Mediation
    coverage: CoverageGaps
    resources_total: int
    resources_available: int
    refused: int | None = None
    """The incidents under the filter when a province read in place has too many for the
    analyses that need every point (emerging hot spots, repeat places): they are not
    computed and the briefing says why (``agg_counts.refused_rows``)."""


def briefing_figures(q: Query, state: FilterState, repeats: RepeatPlaces | bool = True,
                     rect: Rectification | None = None, med: Mediation | None = None
                     ) -> BriefingFigures:
    """Every figure of the briefing; pass results already computed to reuse them.

    ``repeats=False`` leaves the repeat places out (None), for a caller that computes
    that slowest figure elsewhere meanwhile and fills it in with ``dataclasses.replace``.
    """
    areas = q.extract.areas
    refused = agg_counts.refused_rows(q, state)
    by_town = window_change_by(q, state, "area", "town")
    figs = dict(
        state=state, region=q.extract.region_name, as_of=q.as_of(state),
        incidents=q.incident_count(state),
        unlocated=q.unlocated_count(state), comparison=window_change(q, state),
        by_category=window_change_by(q, state, "category"), by_town=by_town,
        town_names={k: areas.names[i] for k in by_town if (i := areas.idx_of(k)) is not None},
        hot=area_hotspots(q, state).to_json(),
        emerging=({} if refused is not None
                  else emerging_hotspots(q, state).to_json(limit=EMERGING_ROWS)),
        rect=rect if rect is not None else rectification(q, state),
        med=med if med is not None else mediation(q, state),
        coverage=coverage_gaps(q, state, radius_km=COVERAGE_RADIUS_KM),
        resources_total=sum(q.resources_by_kind(state).values()),
        resources_available=q.available_resources(state))
    if repeats is True and refused is None:
        repeats = repeat_places(q, state, limit=REPEAT_ROWS)
    return BriefingFigures(**figs, repeats=repeats if isinstance(repeats, RepeatPlaces)
                           else None, refused=refused)


def refused_text(refused: int, lang: str | None = None) -> str:
    """Why the analyses that need every point are not computed on this province."""
    return tr("province_points_refused", lang, n=n(refused), limit=n(agg_counts.POINT_ROWS))


def refused_repeat_table(refused: int, lang: str | None = None) -> TableSpec:
    """The repeat-place table's place when it is not computed: the sentence."""
    return TableSpec("repeats", tr("table_repeats", lang),
                     (tr("col_address", lang), tr("col_area", lang), tr("col_count", lang),
                      tr("col_last", lang), tr("col_main_category", lang)),
                     (), (), "zoom", (), (False, False, True, False, False),
                     empty=refused_text(refused, lang))


# ----------------------------------------------------------------------------- formatting
def n(v: float | int) -> str:
    return f"{v:,.0f}"


def pct(rate: float | None) -> str:
    """A fraction as a percentage ("87.7%"); "—" for none."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def signed_pct(change_pct: float | None) -> str:
    """A change in percent with its sign ("+12.3%", "-4.0%"); "—" for none."""
    return "—" if change_pct is None else f"{change_pct:+.1f}%"


def span_text(c: Change, which: str = "current") -> str:
    """The days of one span of a comparison ("2025-01-01 至 2025-03-31" or "2025-10")."""
    span = {"current": c.current_span, "last_year": c.last_year_span,
            "previous": c.previous_span}[which]
    if c.period == "month":
        return span.label("month")
    first = span.start.date()
    last = (span.stop - timedelta(microseconds=1)).date() if span.stop > span.start else first
    return first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"


# ----------------------------------------------------------------------------- KPI
def period_kpi(incidents: int, unlocated: int, comparison: Change,
               lang: str | None = None) -> KpiSpec:
    """The window's incidents; the change against a year earlier when there is a window."""
    c = comparison
    if c.period == "window":
        return KpiSpec("period", tr("kpi_period", lang), n(incidents), c.yoy_pct,
                       tr("yoy", lang), tr("kpi_last_year", lang, n=n(c.last_year)))
    return KpiSpec("period", tr("kpi_period_all", lang), n(incidents),
                   detail=tr("kpi_unlocated", lang, n=n(unlocated)))


# ----------------------------------------------------------------------------- tables
def category_change_table(figs: BriefingFigures, lang: str | None = None) -> TableSpec:
    """Incidents per category in the comparison span against a year earlier, biggest first."""
    c = figs.comparison
    known = [k for k in INCIDENT_CATEGORIES if k in figs.by_category]
    codes = known + sorted(k for k in figs.by_category if k not in INCIDENT_CATEGORIES)
    codes.sort(key=lambda k: -figs.by_category[k].current)
    rows = [(code_label("incident_category", k, lang), n(figs.by_category[k].current),
             n(figs.by_category[k].last_year), signed_pct(figs.by_category[k].yoy_pct))
            for k in codes]
    rows.append((tr("total", lang), n(c.current), n(c.last_year), signed_pct(c.yoy_pct)))
    alarm = frozenset(i for i, k in enumerate(codes)
                      if figs.by_category[k].current > figs.by_category[k].last_year)
    title = (tr("table_category_change_month", lang, span=span_text(c),
                ly=span_text(c, "last_year")) if c.period == "month"
             else tr("table_category_change", lang))
    return TableSpec("category_change", title,
                     (tr("col_category", lang), tr("col_current", lang),
                      tr("col_last_year", lang), tr("col_yoy", lang)),
                     tuple(rows), tuple([*codes, ""]), numeric=(False, True, True, True),
                     alarm_rows=alarm)


def _main_category(counts: dict[str, int], lang: str | None) -> str:
    if not counts:
        return ""
    rank = {k: -i for i, k in enumerate(INCIDENT_CATEGORIES)}  # ties: schema order
    top = max(counts, key=lambda k: (counts[k], rank.get(k, -len(rank))))
    return code_label("incident_category", top, lang)


def repeat_table(places: RepeatPlaces, lang: str | None = None,
                 rows: int = REPEAT_ROWS) -> TableSpec:
    """The top repeat places (count, latest call), as ``repeat_places`` orders them."""
    out, keys, locs = [], [], []
    for p in list(places)[:rows]:
        out.append((p.address or "", p.name or "", n(p.count), p.last.strftime("%Y-%m-%d"),
                    _main_category(p.categories, lang)))
        keys.append(p.place_id)
        locs.append((p.lon, p.lat) if p.lon is not None else None)
    return TableSpec("repeats", tr("table_repeats", lang),
                     (tr("col_address", lang), tr("col_area", lang), tr("col_count", lang),
                      tr("col_last", lang), tr("col_main_category", lang)),
                     tuple(out), tuple(keys), "zoom", tuple(locs),
                     (False, False, True, False, False))


def emerging_table(figs: BriefingFigures, lang: str | None = None) -> TableSpec:
    """New and intensifying hot-spot cells of the last period, by z (strongest first)."""
    rows, keys = [], []
    for cls in ("new", "intensifying"):
        for r in figs.emerging.get("top", {}).get(cls, []):
            rows.append((code_label("hotspot_class", cls, lang), r["name"] or "",
                         n(r["count"]), f"{r['z']:.1f}"))
            keys.append(r["area_id"] or "")
    return TableSpec("emerging", tr("table_emerging", lang),
                     (tr("col_class", lang), tr("col_area", lang), tr("col_count_last", lang),
                      tr("col_z", lang)),
                     tuple(rows), tuple(keys), numeric=(False, False, True, True),
                     empty=refused_text(figs.refused, lang) if figs.refused else "")


def unit_table(rect: Rectification, lang: str | None = None,
               rows: int = UNIT_ROWS) -> TableSpec:
    """Responsible units with overdue hazards, worst first (``Rectification.by_unit``)."""
    worst = [u for u in rect.by_unit if u.overdue > 0][:rows]
    return TableSpec("units", tr("table_units", lang),
                     (tr("col_unit", lang), tr("col_hazards", lang), tr("col_overdue", lang),
                      tr("col_rect_rate", lang)),
                     tuple((u.key or tr("unit_unknown", lang), n(u.total), n(u.overdue),
                            pct(u.rectification_rate)) for u in worst),
                     tuple(u.key or "" for u in worst), numeric=(False, True, True, True),
                     alarm_rows=frozenset(range(min(3, len(worst)))))


def coverage_table(gaps: CoverageGaps, lang: str | None = None,
                   limit: int = GAP_ROWS) -> TableSpec:
    """Hazards without available forces within the radius, most severe first."""
    rows, locs, alarm = [], [], set()
    shown = gaps.gaps[:limit]
    for i, g in enumerate(shown):
        far = ("—" if g.nearest_distance_m is None else f"{g.nearest_distance_m / 1000:.1f}")
        rows.append((g.name or g.hazard_id, g.area_name or "",
                     code_label("risk_level", g.risk_level, lang),
                     code_label("hazard_state", g.state, lang),
                     code_label("resource_kind", g.nearest_kind, lang) if g.nearest_kind
                     else tr("none_found", lang), far))
        locs.append((g.lon, g.lat))
        if g.risk_level == "major":
            alarm.add(i)
    return TableSpec("coverage", tr("table_coverage", lang, km=f"{gaps.radius_km:g}"),
                     (tr("col_hazard", lang), tr("col_area", lang), tr("col_risk", lang),
                      tr("col_state", lang), tr("col_nearest", lang), tr("col_km", lang)),
                     tuple(rows), tuple(g.hazard_id for g in shown), "zoom", tuple(locs),
                     (False, False, False, False, False, True), frozenset(alarm))


def mediation_level_table(med: Mediation, lang: str | None = None) -> TableSpec:
    """The village → town → county ladder: reached, then the outcome at each end level."""
    f = med.funnel
    levels = ("village", "town", "county")
    if f.refused:  # no per-level figure: the reason in the first column
        rows = [(tr(f"med_refused_{f.refused}", lang), "", "", "", "", "")]
        levels = ("",)
    else:
        rows = [(code_label("dispute_level", lv, lang), n(f.reached[lv]), n(f.resolved[lv]),
                 n(f.failed[lv]), n(f.referred[lv]), n(f.open[lv])) for lv in levels]
    rows.append((tr("total", lang), n(f.received), n(sum(f.resolved.values())),
                 n(sum(f.failed.values())), n(sum(f.referred.values())),
                 n(sum(f.open.values()))))
    return TableSpec("med_levels", tr("table_med_levels", lang),
                     (tr("col_level", lang), tr("col_reached", lang),
                      code_label("dispute_status", "resolved", lang),
                      code_label("dispute_status", "failed", lang),
                      code_label("dispute_status", "referred", lang), tr("col_open", lang)),
                     tuple(rows), (*levels, ""), numeric=(False, True, True, True, True, True))


def mediation_town_table(med: Mediation, lang: str | None = None,
                         rows: int = TOWN_ROWS) -> TableSpec:
    """Disputes per town, most first, with the success rate."""
    towns = sorted(med.by_town, key=lambda r: (-r.total, r.area_id))[:rows]
    low = frozenset(i for i, r in enumerate(towns)
                    if r.success_rate is not None and med.success_rate is not None
                    and r.success_rate < med.success_rate - 0.1)
    return TableSpec("med_towns", tr("table_med_towns", lang),
                     (tr("col_town", lang), tr("col_disputes", lang),
                      code_label("dispute_status", "resolved", lang), tr("col_open", lang),
                      tr("col_success", lang)),
                     tuple((r.name, n(r.total), n(r.resolved), n(r.open), pct(r.success_rate))
                           for r in towns),
                     tuple(r.area_id for r in towns), "areas",
                     numeric=(False, True, True, True, True), alarm_rows=low)


# ----------------------------------------------------------------------------- atlas
def atlas_level(extract: Extract) -> str:
    """The level of the atlas pages: towns; without town polygons the coarsest level
    below the county that has polygons (villages, grids), else the county itself."""
    areas = extract.areas
    present = {lv for lv, g in zip(areas.levels, areas.geoms, strict=True) if g is not None}
    return next((lv for lv in ("town", "village", "grid") if lv in present), "county")


def town_states(extract: Extract, state: FilterState) -> list[tuple[str, str, FilterState]]:
    """(town id, name, state) for each town of the atlas, in the order of the areas table.

    Without an area filter every town with a polygon; with one, the towns it touches: a
    selected town (or one under a selected county) shows whole, a town holding selected
    villages shows only those villages. An extract without towns pages its
    ``atlas_level`` instead (a county-only extract: one page, the county).
    """
    areas = extract.areas
    level = atlas_level(extract)
    towns = [i for i in areas.at_level(level) if areas.geoms[i] is not None]
    if not state.areas:
        return [(areas.ids[i], areas.names[i], state.with_areas([areas.ids[i]])) for i in towns]
    chosen = set(areas.resolve(sorted(state.areas)).tolist())
    up = areas.ancestor_at(level)
    out = []
    for t in towns:
        if t in chosen:
            out.append((areas.ids[t], areas.names[t], state.with_areas([areas.ids[t]])))
            continue
        inside = sorted(a for a in state.areas
                        if (i := areas.idx_of(a)) is not None and int(up[i]) == t)
        if inside:
            out.append((areas.ids[t], areas.names[t], state.with_areas(inside)))
    return out
