"""The panels beside the map, as specs: KPI tiles, charts and tables for one filter state.

Every figure comes from ``data/`` (the query API and ``data.analysis``), the same
functions that feed ``report --json``; this module only picks, labels and formats.
The window calls ``build_panels`` in a worker; the PDF exporter calls it headless.

Charts that set a filter field are computed *without* that field's own filter, so
a selected category or a dragged time range still shows its neighbours to add or
compare (the usual cross-filter convention); the selection is highlighted instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

import numpy as np

from data.analysis.change import change, period_span
from data.analysis.hotspots import area_hotspots
from data.analysis.mediation import mediation
from data.analysis.rectification import ACTIVE_STATES, DONE_STATES, rectification
from data.extract import Extract
from data.filters import FilterState, day_start
from data.load_report import OK
from data.period import freshness, incident_feed_end, incident_period
from data.queries import Query
from data.schema import INCIDENT_CATEGORIES

from . import styles
from .filter_text import window_text
from .freshness import feed_notes
from .hotspot_text import hotspot_reason, hotspot_title
from .i18n import code_label, tr
from .jurisdiction import jurisdiction
from .panels import BarSpec, FunnelSpec, KpiSpec, LineSpec, TableSpec

ACCENT: styles.RGBA = (64, 156, 255, 255)
GOOD: styles.RGBA = (67, 160, 71, 255)
WARN: styles.RGBA = (255, 179, 0, 255)
ALARM: styles.RGBA = (229, 57, 53, 255)
T = TypeVar("T")
HOTSPOT_ROWS = 12
OVERDUE_ROWS = 50


@dataclass(frozen=True)
class Header:
    region: str
    as_of: date
    extracted_at: datetime | None
    window: str
    """The time window in words ("全部时段", "2026-01-01 至 2026-03-31")."""
    feed_notes: tuple[str, ...] = ()
    """A sentence per feed that stopped before the extract time (``layers.freshness``)."""


@dataclass(frozen=True)
class PanelError:
    """A panel whose figures could not be computed: shown in its place, the rest stands."""

    panel: str
    message: str


@dataclass(frozen=True)
class Panels:
    """Everything beside the map for one state (``state`` tags the result).

    Any field but ``state`` and ``header`` may be a ``PanelError`` instead of its spec.
    """

    state: FilterState
    header: Header
    kpis: tuple[KpiSpec, ...] | PanelError
    categories: BarSpec | PanelError
    hours: BarSpec | PanelError
    weekdays: BarSpec | PanelError
    timeline: LineSpec | PanelError
    hotspots: TableSpec | PanelError
    rect_funnel: FunnelSpec | PanelError
    overdue: TableSpec | PanelError
    med_funnel: FunnelSpec | PanelError
    med_trend: LineSpec | PanelError
    lang: str | None = None
    """The language the labels are in (panels of another language are never reused)."""

    def errors(self) -> list[PanelError]:
        values = (getattr(self, f.name) for f in dataclasses.fields(self))
        return [v for v in values if isinstance(v, PanelError)]


def _n(v: float | int) -> str:
    return f"{v:,.0f}"


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def header(extract: Extract, q: Query, state: FilterState, lang: str | None = None) -> Header:
    return Header(extract.region_name, q.as_of(state), extract.extracted_at,
                  window_text(state, lang), feed_notes(extract, lang))


def period_state(state: FilterState) -> FilterState:
    """The state of the period tiles: anchored at the as-of day, not cut by the window."""
    return dataclasses.replace(state, start=None, end=None)


def category_state(state: FilterState) -> FilterState:
    """The state of the category chart: without its own field (cross-filtering)."""
    return state.without("incident_categories")


MEDIATION_STAGES = ("village", "town", "county")
"""The mediation funnel's stages: the levels a dispute's path reached."""
PERIOD_TILES = (("day", "kpi_today"), ("week", "kpi_week"), ("month", "kpi_month"))


REGISTERS = ("hazards", "disputes", "resources")
"""The registers beside the incidents; an extract may lack any of them (a city's
incident feed alone is the common case)."""


def register_gap(extract: Extract, table: str, lang: str | None = None) -> str:
    """Why a register's panels are empty for the whole extract (the table is missing,
    set aside or has no rows), for its panels to say instead of zeros; "" when it has rows."""
    t = extract.report.tables.get(table)
    if t is not None and t.status == OK and t.kept > 0:
        return ""
    why = tr(f"absent_{table}", lang)
    return f"{why}: {t.message}" if t is not None and t.message and t.status != OK else why


def _absent_tile(key: str, title: str, table: str, lang: str | None) -> KpiSpec:
    return KpiSpec(key, title, "—", detail=tr(f"kpi_absent_{table}", lang))


# ----------------------------------------------------------------------------- KPIs
def kpis(q: Query, state: FilterState, lang: str | None = None,
         rect: object | None = None, med: object | None = None) -> tuple[KpiSpec, ...]:
    """Today / this week / this month to date against last year, then hazards,
    rectification, mediation and forces."""
    out: list[KpiSpec] = []
    # The period tiles are anchored at the as-of day; the time window does not cut them.
    anchored = period_state(state)
    out += period_tiles(q, anchored, lang)
    out += hazard_tiles(q, state, lang, rect)
    out.append(mediation_kpi(med if med is not None else mediation(q, state), lang,
                             register_gap(q.extract, "disputes", lang)))
    if register_gap(q.extract, "resources", lang):
        out.append(_absent_tile("forces", tr("kpi_forces", lang), "resources", lang))
    else:
        forces = q.resources_by_kind(state)
        out.append(KpiSpec("forces", tr("kpi_forces", lang), _n(q.available_resources(state)),
                           detail=tr("kpi_forces_detail", lang,
                                     total=_n(sum(forces.values()))),
                           good_when_down=False))
    return tuple(out)


def hazard_tiles(q: Query, state: FilterState, lang: str | None = None,
                 rect: object | None = None) -> list[KpiSpec]:
    """Open hazards, overdue and the major-hazard rectification rate."""
    if register_gap(q.extract, "hazards", lang):
        return [_absent_tile(k, tr(t, lang), "hazards", lang) for k, t in (
            ("open_hazards", "kpi_open_hazards"), ("overdue", "kpi_overdue"),
            ("major_rate", "kpi_major_rate"))]
    out: list[KpiSpec] = []
    r = rect if rect is not None else rectification(q, state)
    active = sum(r.by_state[s] for s in ACTIVE_STATES)
    major_active = sum(r.major_by_state[s] for s in ACTIVE_STATES)
    out.append(KpiSpec("open_hazards", tr("kpi_open_hazards", lang), _n(active),
                       detail=tr("kpi_open_detail", lang, major=_n(major_active),
                                 open=_n(r.by_state["open"])),
                       alarm=major_active > 0))
    overdue = len(r.overdue)
    longest = int(r.overdue.columns["days_overdue"][0]) if overdue else 0
    out.append(KpiSpec("overdue", tr("kpi_overdue", lang), _n(overdue),
                       detail=tr("kpi_overdue_detail", lang, days=_n(longest)) if overdue else "",
                       alarm=overdue > 0))
    major_total = sum(r.major_by_state.values())
    major_done = sum(r.major_by_state[s] for s in DONE_STATES)
    out.append(KpiSpec("major_rate", tr("kpi_major_rate", lang),
                       _pct(major_done / major_total if major_total else None),
                       detail=tr("kpi_rate_detail", lang, done=_n(major_done),
                                 total=_n(major_total)), good_when_down=False))
    return out


def period_tiles(q: Query, anchored: FilterState, lang: str | None = None
                 ) -> list[KpiSpec]:
    """今日/本周/本月 to date against the same stretch last year.

    When the incident feed lags (``data.period``), a period it does not reach says so
    (no "0, ▼100 %"), and one it reaches in part compares only up to its newest row.
    """
    out = []
    end = incident_feed_end(q.extract)
    bulk = incident_period(q.extract)
    as_of = q.as_of(anchored)
    for period, key in PERIOD_TILES:
        whole = period_span(period, as_of)
        if end is not None and end < whole.start:
            f = freshness(q.extract)["incidents"]
            out.append(KpiSpec(key, tr(key, lang), "—", detail=tr(
                "kpi_feed_stale", lang, day=end.strftime("%m-%d"),
                days=f"{f.lag_days:,.0f}"), alarm=True))
            continue
        partial = end is not None and end < min(whole.stop, day_start(
            as_of + timedelta(days=1)))
        c = change(q, anchored, period, to_date=True, until=end if partial else None)
        if bulk is not None and c.last_year_span.stop.date() <= bulk.first:
            # the feed starts after last year's stretch: "last year 0" would be no
            # comparison at all (a city's first year of data)
            out.append(KpiSpec(key, tr(key, lang), _n(c.current),
                               detail=tr("kpi_no_last_year", lang)))
            continue
        detail = (tr("kpi_until", lang, time=end.strftime("%m-%d %H:%M"), n=_n(c.last_year))
                  if partial else tr("kpi_last_year", lang, n=_n(c.last_year)))
        out.append(KpiSpec(key, tr(key, lang), _n(c.current), c.yoy_pct, tr("yoy", lang),
                           detail))
    return out


def mediation_kpi(med: object, lang: str | None = None, gap: str = "") -> KpiSpec:
    """The mediation tile: the one KPI that follows the time window (disputes received).
    ``gap``: ``register_gap`` of the disputes (the tile then says there is no ledger)."""
    if gap:
        return _absent_tile("mediation", tr("kpi_mediation", lang), "disputes", lang)
    m = med.to_json()
    return KpiSpec("mediation", tr("kpi_mediation", lang), _pct(m["success_rate"]),
                   detail=tr("kpi_mediation_detail", lang,
                             share=_pct(m["resolved_at_lowest_level_share"])),
                   good_when_down=False)


# ----------------------------------------------------------------------------- charts
def category_chart(q: Query, state: FilterState, lang: str | None = None) -> BarSpec:
    counts = q.incidents_by_category(category_state(state))
    codes = [c for c in INCIDENT_CATEGORIES if counts.get(c)] + sorted(
        c for c in counts if c not in INCIDENT_CATEGORIES and counts[c])
    codes.sort(key=lambda c: -counts[c])
    return BarSpec("categories", tr("chart_categories", lang),
                   tuple(code_label("incident_category", c, lang) for c in codes), tuple(codes),
                   (tuple(float(counts[c]) for c in codes),),
                   colors=tuple(styles.INCIDENT_COLORS.get(c, styles.INCIDENT_COLORS["other"])
                                for c in codes),
                   field="incident_categories", selected=state.incident_categories,
                   horizontal=True)


def hour_chart(q: Query, state: FilterState, lang: str | None = None) -> BarSpec:
    counts = q.incidents_by_hour(state)
    return BarSpec("hours", tr("chart_hours", lang), tuple(f"{h}" for h in range(24)),
                   tuple(str(h) for h in range(24)), (tuple(float(v) for v in counts),),
                   colors=(ACCENT,))


def weekday_chart(q: Query, state: FilterState, lang: str | None = None) -> BarSpec:
    days, counts = q.incidents_by_day(state)
    weekday = (days.astype(np.int64) - 4) % 7 if len(days) else np.zeros(0, np.int64)
    per = np.bincount(weekday, weights=counts, minlength=7) if len(days) else np.zeros(7)
    return BarSpec("weekdays", tr("chart_weekdays", lang),
                   tuple(tr(f"weekday_{d}", lang) for d in range(7)),
                   tuple(str(d) for d in range(7)), (tuple(float(v) for v in per),),
                   colors=(ACCENT,))


def timeline_chart(q: Query, state: FilterState, lang: str | None = None) -> LineSpec:
    """Daily counts over the extract's bulk period (``data.period``: a 1900 placeholder
    or a late-reported old case does not stretch the axis over a century), widened to a
    window that starts earlier; the window is what the user drags on it. The title says
    how many rows lie outside."""
    period = incident_period(q.extract)
    start = period.first if period is not None else None
    if start is not None and state.start is not None:
        start = min(start, state.start)
    days, counts = q.incidents_by_day(dataclasses.replace(state, start=start, end=None))
    x = tuple(float(d) for d in days.astype(np.int64))
    labels = tuple(str(d) for d in days)
    title = tr("chart_timeline", lang)
    if period is not None and period.outside:
        title += " · " + tr("timeline_outside", lang, first=period.first.isoformat(),
                            n=_n(period.outside))
    return LineSpec("timeline", title, x, labels,
                    (tuple(float(v) for v in counts),), (tr("series_incidents", lang),),
                    (ACCENT,))


def _label_point(extract: Extract, idx: int) -> tuple[float, float] | None:
    geom = extract.areas.geoms[idx]
    if geom is None or geom.is_empty:
        return None
    p = geom.representative_point()
    return (float(p.x), float(p.y))


def hotspot_table(q: Query, state: FilterState, lang: str | None = None) -> TableSpec:
    """Areas that are Gi* hot spots at the finest level with enough areas, strongest
    first; a row selects the area. The second column is the enclosing area."""
    hs = area_hotspots(q, state).to_json(limit=HOTSPOT_ROWS)
    areas = q.extract.areas
    level = hs["level"]
    parents = [areas.levels[p] for r in hs["hot_areas"]
               if (i := areas.idx_of(r["area_id"])) is not None and (p := areas.parent[i]) >= 0]
    # the enclosing-area column only when the areas have parents (a city's
    # neighbourhoods often have none: an empty column says nothing)
    up_level = parents[0] if parents else None
    up_name, with_county = _name_with_county(q.extract)
    rows, keys, locs = [], [], []
    for r in hs["hot_areas"]:
        idx = areas.idx_of(r["area_id"])
        p = areas.parent[idx] if idx is not None else -1
        up = (up_name(int(p)),) if up_level else ()
        rows.append((r["name"], *up, _n(r["count"]), f"{r['z']:.1f}",
                     f"{r['confidence'] * 100:.0f}%"))
        keys.append(r["area_id"])
        locs.append(_label_point(q.extract, idx) if idx is not None else None)
    area_col = code_label("area_level", level, lang) if level else tr("col_area", lang)
    parent_col = (_level_head(code_label("area_level", up_level, lang),
                              with_county and up_level != "county", lang),) if up_level else ()
    return TableSpec("hotspots", hotspot_title(hs, lang),
                     (area_col, *parent_col, tr("col_count", lang), tr("col_z", lang),
                      tr("col_confidence", lang)),
                     tuple(rows), tuple(keys), "areas", tuple(locs),
                     (False, *(False,) * len(parent_col), True, True, True),
                     empty="" if rows else hotspot_reason(hs, lang))


def _name_with_county(extract: Extract) -> tuple[Callable[[int], str], bool]:
    """(an area's name by index, with its county first on a city's or a province's
    extract (城关镇 is in every county); whether it does so). -1: ""."""
    areas = extract.areas
    if jurisdiction(extract) == "county":
        return (lambda i: areas.names[i] if i >= 0 else ""), False
    county_of = areas.ancestor_at("county")

    def name(i: int) -> str:
        if i < 0:
            return ""
        c = int(county_of[i])
        return f"{areas.names[c]} {areas.names[i]}" if 0 <= c != i else areas.names[i]
    return name, True


def _level_head(head: str, with_county: bool, lang: str | None) -> str:
    """The head of a column of area names; "县 · " first when they carry their county."""
    return f"{code_label('area_level', 'county', lang)} · {head}" if with_county else head


def overdue_table(q: Query, state: FilterState, rect: object, lang: str | None = None
                  ) -> TableSpec:
    """Overdue hazards, most overdue first; a row zooms the map to the hazard."""
    cols = rect.overdue.columns
    n = min(len(rect.overdue), OVERDUE_ROWS)
    where = q.hazard_places([str(h) for h in cols["hazard_id"][:n]])
    name_of, with_county = _name_with_county(q.extract)

    def town(town_id: str | None, town_name: str | None) -> str:
        i = q.extract.areas.idx_of(town_id) if town_id is not None else None
        return name_of(i) if i is not None else town_name or ""
    rows, keys, locs, alarm = [], [], [], set()
    for i in range(n):
        hid = cols["hazard_id"][i]
        risk = cols["risk_level"][i]
        rows.append((cols["name"][i] or hid, town(cols["town_id"][i], cols["town_name"][i]),
                     cols["responsible_unit"][i] or "", _n(int(cols["days_overdue"][i])),
                     code_label("risk_level", risk, lang)))
        keys.append(hid)
        locs.append(where.get(hid))
        if risk == "major":
            alarm.add(i)
    heads = (tr("col_hazard", lang), _level_head(tr("col_town", lang), with_county, lang),
             *(tr(k, lang) for k in ("col_unit", "col_days_overdue", "col_risk")))
    return TableSpec("overdue", tr("table_overdue", lang), heads,
                     tuple(rows), tuple(keys), "zoom", tuple(locs),
                     (False, False, False, True, False), frozenset(alarm),
                     empty=register_gap(q.extract, "hazards", lang))


def rectification_funnel(rect: object, lang: str | None = None, gap: str = "") -> FunnelSpec:
    """Found → rectified → verified; ``gap`` (``register_gap`` of the hazards): say it
    in place of three zero bars."""
    if gap:
        return FunnelSpec("rect_funnel", tr("chart_rect_funnel", lang), (), (), message=gap)
    total = sum(rect.by_state.values())
    done = sum(rect.by_state[s] for s in DONE_STATES)
    return FunnelSpec("rect_funnel", tr("chart_rect_funnel", lang),
                      (tr("stage_hazards", lang), tr("stage_rectified", lang),
                       tr("stage_verified", lang)),
                      (total, done, rect.by_state["verified"]),
                      (tr("stage_note_overdue", lang, n=_n(len(rect.overdue))), _pct(
                          done / total if total else None),
                       tr("stage_note_reopen", lang, n=_n(rect.reopened_hazards))),
                      (ALARM, WARN, GOOD))


def mediation_funnel(med: object, lang: str | None = None, gap: str = "") -> FunnelSpec:
    """Village → town → county; ``gap``: ``register_gap`` of the disputes."""
    f = med.funnel
    levels = MEDIATION_STAGES
    if gap:
        return FunnelSpec("med_funnel", tr("chart_med_funnel", lang), (), (), message=gap)
    if getattr(f, "refused", None):  # the steps cannot be read: say why, draw nothing
        return FunnelSpec("med_funnel", tr("chart_med_funnel", lang), (), (),
                          message=tr(f"med_refused_{f.refused}", lang))
    return FunnelSpec("med_funnel", tr("chart_med_funnel", lang),
                      tuple(tr(f"stage_{lv}", lang) for lv in levels),
                      tuple(int(f.reached[lv]) for lv in levels),
                      tuple(tr("stage_note_resolved", lang, n=_n(f.resolved[lv]))
                            for lv in levels),
                      (GOOD, WARN, ALARM))


def mediation_trend(med: object, lang: str | None = None, gap: str = "") -> LineSpec:
    """Disputes received and resolved per month; ``gap``: ``register_gap`` of the disputes."""
    months = () if gap else med.monthly
    return LineSpec("med_trend", tr("chart_med_trend", lang),
                    tuple(float(i) for i in range(len(months))),
                    tuple(m.month for m in months),
                    (tuple(float(m.received) for m in months),
                     tuple(float(m.resolved) for m in months)),
                    (tr("series_received", lang), tr("series_resolved", lang)),
                    (ACCENT, GOOD), empty=gap)


# ----------------------------------------------------------------------------- all
def _guarded(panel: str, build: Callable[[], T]) -> T | PanelError:
    """One panel's failure (a bad row, a bug) must not blank the whole dashboard."""
    try:
        return build()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        return PanelError(panel, f"{type(exc).__name__}: {first}"[:200])


def only_window_differs(a: FilterState, b: FilterState) -> bool:
    return a.without("start") == b.without("start")


def build_panels(q: Query, state: FilterState, lang: str | None = None,
                 reuse: Panels | None = None) -> Panels:
    """Every panel for ``state``. ``reuse``: the panels of another state *of the same
    extract* that differs only in its time window (a dragged timeline, the next frame of
    a replay); the panels that do not depend on the window (the registers: hazards,
    rectification, forces; the anchored KPI periods; the whole-extract timeline) are
    taken from it instead of computed again."""
    if (reuse is not None and reuse.lang == lang and not reuse.errors()
            and only_window_differs(reuse.state, state)):
        return _new_window(q, state, lang, reuse)
    rect = _guarded("rectification", lambda: rectification(q, state))
    med = _guarded("mediation", lambda: mediation(q, state))

    def needs(source: object, build: Callable[[], T]) -> Callable[[], T]:
        def run() -> T:
            if isinstance(source, PanelError):  # the panel says why it is empty
                raise RuntimeError(source.message)
            return build()
        return run

    return Panels(
        state=state,
        header=header(q.extract, q, state, lang),
        kpis=_guarded("kpis", needs(rect, needs(med, lambda: kpis(q, state, lang, rect, med)))),
        categories=_guarded("categories", lambda: category_chart(q, state, lang)),
        hours=_guarded("hours", lambda: hour_chart(q, state, lang)),
        weekdays=_guarded("weekdays", lambda: weekday_chart(q, state, lang)),
        timeline=_guarded("timeline", lambda: timeline_chart(q, state, lang)),
        hotspots=_guarded("hotspots", lambda: hotspot_table(q, state, lang)),
        rect_funnel=_guarded("rect_funnel", needs(rect, lambda: rectification_funnel(
            rect, lang, register_gap(q.extract, "hazards", lang)))),
        overdue=_guarded("overdue", needs(rect, lambda: overdue_table(q, state, rect, lang))),
        med_funnel=_guarded("med_funnel", needs(med, lambda: mediation_funnel(
            med, lang, register_gap(q.extract, "disputes", lang)))),
        med_trend=_guarded("med_trend", needs(med, lambda: mediation_trend(
            med, lang, register_gap(q.extract, "disputes", lang)))),
        lang=lang,
    )


def _new_window(q: Query, state: FilterState, lang: str | None, reuse: Panels) -> Panels:
    """``reuse`` with what depends on the time window computed for ``state``."""
    med = _guarded("mediation", lambda: mediation(q, state))

    def kpi_tiles() -> tuple[KpiSpec, ...]:
        if isinstance(med, PanelError):
            raise RuntimeError(med.message)
        return tuple(mediation_kpi(med, lang, gap) if k.key == "mediation" else k
                     for k in reuse.kpis)

    gap = register_gap(q.extract, "disputes", lang)

    def from_med(build: Callable[[object, str | None, str], T]) -> Callable[[], T]:
        def run() -> T:
            if isinstance(med, PanelError):
                raise RuntimeError(med.message)
            return build(med, lang, gap)
        return run

    return dataclasses.replace(
        reuse, state=state, header=header(q.extract, q, state, lang),
        kpis=_guarded("kpis", kpi_tiles),
        categories=_guarded("categories", lambda: category_chart(q, state, lang)),
        hours=_guarded("hours", lambda: hour_chart(q, state, lang)),
        weekdays=_guarded("weekdays", lambda: weekday_chart(q, state, lang)),
        hotspots=_guarded("hotspots", lambda: hotspot_table(q, state, lang)),
        med_funnel=_guarded("med_funnel", from_med(mediation_funnel)),
        med_trend=_guarded("med_trend", from_med(mediation_trend)))
