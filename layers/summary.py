"""The written summary of a briefing (综合研判), generated from the figures, zh or en.

``summarize`` turns ``BriefingFigures`` into a few sentences, each with the figures it
states (``Sentence.figures``, plain numbers) so that a test can check every number
against an independent computation, and a text made of catalogue templates
(``layers.i18n``). What each sentence says:

- ``incidents``: incidents in the window; then the comparison of ``window_change``: the
  window against the same dates a year earlier, or (no window start) the last complete
  month against the same month a year earlier. "No comparable data" when the earlier
  span has no incident (no percentage is invented from a zero base).
- ``categories``: the categories that rose most and fell most over the same spans,
  ranked by the change in count (a percentage on a small base misleads), at most two
  each, with count, change and percentage.
- ``towns``: the towns whose count rose most (at most two), when several towns are in view.
- ``hotspots``: villages that are Gi* hot spots (90 % and above), the strongest three;
  new and intensifying hot-spot cells of the emerging analysis and where they are.
- ``repeats``: repeat addresses and their incidents; the busiest address.
- ``rectification``: hazards, rectification rate (and for major hazards), overdue count
  and longest overdue, the responsible units with the most overdue hazards (at most 3).
- ``mediation``: disputes received, success rate, share resolved at village level.
- ``coverage``: hazards without an available force within the radius, major ones apart.

A sentence whose data is absent (no hazards table, no disputes...) says so in a few
words instead of printing zeros as findings; nothing divides by zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from data.analysis.change import Change
from data.privacy import mask_text
from data.schema import INCIDENT_CATEGORIES

from .briefing import BriefingFigures, n, pct, refused_text, span_text
from .filter_text import window_text
from .hotspot_text import hotspot_reason
from .i18n import code_label, tr

TOP_CHANGES = 2
TOP_HOT = 3
TOP_UNITS = 3


@dataclass(frozen=True)
class Sentence:
    key: str
    text: str
    figures: dict[str, Any] = field(default_factory=dict)
    """The numbers the text states (counts, rates as fractions, percentages rounded to 0.1)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text.strip())


@dataclass(frozen=True)
class Summary:
    lang: str
    sentences: tuple[Sentence, ...]

    @property
    def text(self) -> str:
        sep = "" if self.lang == "zh" else " "
        return sep.join(s.text for s in self.sentences)

    def get(self, key: str) -> Sentence | None:
        return next((s for s in self.sentences if s.key == key), None)


def _signed(v: int) -> str:
    return f"{v:+,d}"


def _change_pct(c: Change) -> float | None:
    return None if c.yoy_pct is None else round(c.yoy_pct, 1)


def _item(label: str, c: Change, lang: str) -> str:
    diff = c.current - c.last_year
    if c.yoy_pct is None:
        return tr("sum_item_new", lang, name=label, n=n(c.current), diff=_signed(diff))
    return tr("sum_item", lang, name=label, n=n(c.current), diff=_signed(diff),
              pct=f"{c.yoy_pct:+.1f}%")


def _list(items: list[str], lang: str) -> str:
    return tr("list_sep", lang).join(items)


def _ranked(changes: dict[str, Change], sign: int) -> list[tuple[str, Change]]:
    """Keys whose count moved in the direction of ``sign``, biggest move first."""
    order = {k: i for i, k in enumerate(INCIDENT_CATEGORIES)}
    moved = [(k, c) for k, c in changes.items() if sign * (c.current - c.last_year) > 0]
    moved.sort(key=lambda kc: (-abs(kc[1].current - kc[1].last_year), order.get(kc[0], 99),
                               kc[0]))
    return moved


# ----------------------------------------------------------------------------- sentences
def _incidents(f: BriefingFigures, lang: str) -> Sentence:
    c = f.comparison
    figures: dict[str, Any] = {"total": f.incidents, "period": c.period, "current": c.current,
                               "last_year": c.last_year, "change_pct": _change_pct(c),
                               "span": span_text(c), "last_year_span": span_text(c, "last_year")}
    text = tr("sum_total", lang, window=window_text(f.state, lang), n=n(f.incidents))
    if c.period == "month":
        text += tr("sum_month", lang, month=span_text(c), n=n(c.current))
    base = "sum_ly_month" if c.period == "month" else "sum_ly_window"
    if c.last_year == 0:
        text += tr(f"{base}_none", lang, span=span_text(c, "last_year"))
    else:
        direction = "up" if c.current > c.last_year else "down" if c.current < c.last_year \
            else "flat"
        text += tr(f"{base}_{direction}", lang, span=span_text(c, "last_year"),
                   ly=n(c.last_year), pct=f"{abs(c.yoy_pct or 0):.1f}%",
                   diff=n(abs(c.current - c.last_year)))
    return Sentence("incidents", text, figures)


def _categories(f: BriefingFigures, lang: str) -> Sentence | None:
    if not f.by_category or f.comparison.last_year == 0:
        return None  # nothing to compare with: the first sentence said so
    rose = _ranked(f.by_category, 1)[:TOP_CHANGES]
    fell = _ranked(f.by_category, -1)[:TOP_CHANGES]

    def label(k: str) -> str:
        return code_label("incident_category", k, lang)

    parts = [tr("sum_rose", lang, items=_list([_item(label(k), c, lang) for k, c in rose],
                                               lang)) if rose else tr("sum_none_rose", lang),
             tr("sum_fell", lang, items=_list([_item(label(k), c, lang) for k, c in fell],
                                               lang)) if fell else tr("sum_none_fell", lang)]
    figures = {"rose": [(k, c.current, c.last_year, _change_pct(c)) for k, c in rose],
               "fell": [(k, c.current, c.last_year, _change_pct(c)) for k, c in fell]}
    return Sentence("categories", tr("sum_categories", lang, parts=tr("part_sep", lang).join(
        parts)), figures)


def _towns(f: BriefingFigures, lang: str) -> Sentence | None:
    if len(f.by_town) < 2 or f.comparison.last_year == 0:
        return None
    rose = _ranked(f.by_town, 1)[:TOP_CHANGES]
    if not rose:
        return Sentence("towns", tr("sum_towns_none", lang), {"rose": []})
    items = [_item(f.town_names.get(k, k), c, lang) for k, c in rose]
    return Sentence("towns", tr("sum_towns", lang, items=_list(items, lang)),
                    {"rose": [(k, c.current, c.last_year, _change_pct(c)) for k, c in rose]})


def _hotspots(f: BriefingFigures, lang: str) -> Sentence:
    hot = f.hot.get("hot_areas", [])
    counts = f.emerging.get("counts", {})
    new, rising = int(counts.get("new", 0)), int(counts.get("intensifying", 0))
    figures: dict[str, Any] = {"hot_villages": len(hot),
                               "top": [(r["area_id"], r["count"]) for r in hot[:TOP_HOT]],
                               "new_cells": new, "intensifying_cells": rising}
    level = f.hot.get("level", "village")
    figures["hot_level"] = level
    label = code_label("area_level", level, lang) if level else ""
    if label and lang == "en":
        label = label.lower()
    if level is None:  # not computed: say why (no polygons, too few areas)
        text = tr("sum_hot_not_computed", lang, why=hotspot_reason(f.hot, lang))
    elif hot:
        items = [tr("sum_hot_item", lang, name=r["name"], n=n(r["count"])) for r in hot[:TOP_HOT]]
        text = tr("sum_hot_lv", lang, k=n(len(hot)), items=_list(items, lang), level=label)
    else:
        text = tr("sum_hot_none_lv", lang, level=label)
    if f.refused is not None:  # a province read in place: not computed, say why
        text += tr("sum_province_refused", lang, why=refused_text(f.refused, lang))
    elif new or rising:
        where = []
        for r in f.emerging.get("top", {}).get("new", []):
            if r["name"] and r["name"] not in where:
                where.append(r["name"])
        figures["new_where"] = where[:TOP_HOT]
        key = "sum_emerging" if new and rising else "sum_emerging_new" if new \
            else "sum_emerging_rising"
        text += tr(key, lang, new=n(new), rising=n(rising),
                   where=tr("sum_where", lang, names=_list(where[:TOP_HOT], lang))
                   if where else "")
    else:
        text += tr("sum_emerging_none", lang)
    return Sentence("hotspots", text, figures)


def _repeats(f: BriefingFigures, lang: str, masked: bool) -> Sentence | None:
    r = f.repeats
    if r is None and f.refused is not None:
        return Sentence("repeats", tr("sum_province_refused", lang,
                                      why=refused_text(f.refused, lang)), {})
    if r is None:
        return None  # not computed
    figures: dict[str, Any] = {"places": r.total_places, "incidents": r.incidents_in_places}
    if not r.total_places:
        return Sentence("repeats", tr("sum_repeats_none", lang, k=r.min_count), figures)
    top = r.place(0)
    where = top.address or top.name or top.place_id
    where = (mask_text(where) or "") if masked else where
    figures["top_count"] = top.count
    return Sentence("repeats", tr("sum_repeats", lang, places=n(r.total_places),
                                  incidents=n(r.incidents_in_places), where=where,
                                  n=n(top.count)), figures)


def _rectification(f: BriefingFigures, lang: str, masked: bool) -> Sentence:
    r = f.rect
    overdue = r.overdue_count
    longest = int(r.overdue.columns["days_overdue"][0]) if overdue else 0
    units = [u for u in r.by_unit if u.overdue > 0][:TOP_UNITS]
    figures: dict[str, Any] = {"total": r.total, "rate": r.rectification_rate,
                               "major_rate": r.major_rectification_rate, "overdue": overdue,
                               "longest_days": longest,
                               "units": [(u.key, u.overdue) for u in units]}
    if not r.total:
        return Sentence("rectification", tr("sum_rect_none", lang), figures)
    text = tr("sum_rect", lang, total=n(r.total), rate=pct(r.rectification_rate),
              major=pct(r.major_rectification_rate))
    if not overdue:
        return Sentence("rectification", text + tr("sum_overdue_none", lang), figures)
    text += tr("sum_overdue", lang, n=n(overdue), days=n(longest))
    if units:
        names = [tr("sum_unit_item", lang, name=(mask_text(u.key) if masked else u.key)
                    or tr("unit_unknown", lang), n=n(u.overdue)) for u in units]
        text += tr("sum_units", lang, items=_list(names, lang))
    else:
        text += tr("sum_end", lang)
    return Sentence("rectification", text, figures)


def _mediation(f: BriefingFigures, lang: str) -> Sentence:
    m = f.med
    share = m.resolved_at_lowest_level_share
    figures = {"total": m.total, "success_rate": m.success_rate, "village_share": share}
    if not m.total:
        return Sentence("mediation", tr("sum_med_none", lang), figures)
    text = tr("sum_med", lang, n=n(m.total), rate=pct(m.success_rate))
    if share is not None:
        text += tr("sum_med_share", lang, share=pct(share))
    return Sentence("mediation", text + tr("sum_end", lang), figures)


def _coverage(f: BriefingFigures, lang: str) -> Sentence:
    g = f.coverage
    major = int(g.by_risk_level.get("major", 0))
    figures = {"gaps": g.total_gaps, "checked": g.hazards_checked, "major": major,
               "radius_km": g.radius_km}
    km = f"{g.radius_km:g}"
    if not g.hazards_checked:
        return Sentence("coverage", tr("sum_cov_none", lang), figures)
    if not g.total_gaps:
        return Sentence("coverage", tr("sum_cov_ok", lang, n=n(g.hazards_checked), km=km),
                        figures)
    return Sentence("coverage", tr("sum_cov", lang, gaps=n(g.total_gaps), km=km,
                                   n=n(g.hazards_checked), major=n(major)), figures)


def summarize(f: BriefingFigures, lang: str = "zh", masked: bool = True) -> Summary:
    """The summary sentences, in reading order (see the module docstring)."""
    parts = [_incidents(f, lang), _categories(f, lang), _towns(f, lang), _hotspots(f, lang),
             _repeats(f, lang, masked), _rectification(f, lang, masked), _mediation(f, lang),
             _coverage(f, lang)]
    return Summary(lang, tuple(s for s in parts if s is not None))
