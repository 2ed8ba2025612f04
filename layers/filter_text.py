"""The filter in words, for every place that shows it: the window's removable chips, the
wall's banner, the web map's caption, and the line printed on exports.

One table (``FILTER_GROUPS``) says which code list labels each ``FilterState`` field;
the words come from the catalogue (``layers/i18n.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from data.extract import Extract
from data.filters import FilterState

from .i18n import code_label, tr

FILTER_GROUPS = {"incident_categories": "incident_category",
                 "incident_statuses": "incident_status", "resource_kinds": "resource_kind",
                 "hazard_categories": "hazard_category", "risk_levels": "risk_level",
                 "dispute_categories": "dispute_category", "dispute_levels": "dispute_level",
                 "dispute_statuses": "dispute_status", "mediator_kinds": "mediator_kind"}
"""FilterState code sets → the ``code_label`` group naming their values."""


@dataclass(frozen=True)
class Chip:
    """One removable piece of the active filter: ``field`` (and ``value`` for sets)."""

    field: str
    value: str | None
    label: str


def window_text(state: FilterState, lang: str | None = None) -> str:
    """The time window ("全部时段", "2026-01-01 至 2026-03-31", "2026-11-19 13:00–14:00")."""
    if state.start is None and state.end is None:
        return tr("window_all", lang)
    if state.has_hours():
        return _hours_text(state, lang)
    return tr("window", lang, start=state.start.isoformat() if state.start else "…",
              end=state.end.isoformat() if state.end else "…")


def _hours_text(state: FilterState, lang: str | None) -> str:
    # Times are points: the end is where the window closes (24:00 for the end of a day).
    h0 = state.start_hour or 0
    h1 = 24 if state.end_hour is None else state.end_hour + 1
    if state.start is not None and state.start == state.end:
        return tr("window_hours", lang, day=state.start.isoformat(), start=f"{h0:02d}:00",
                  end=f"{h1:02d}:00")
    start = f"{state.start.isoformat()} {h0:02d}:00" if state.start else "…"
    end = f"{state.end.isoformat()} {h1:02d}:00" if state.end else "…"
    return tr("window", lang, start=start, end=end)


def area_name(extract: Extract, area_id: str) -> str:
    idx = extract.areas.idx_of(area_id)
    return extract.areas.names[idx] if idx is not None else area_id


def filter_chips(state: FilterState, extract: Extract, lang: str | None = None
                 ) -> tuple[Chip, ...]:
    """The active filter as chips: the window, each area, each code, "available only"."""
    out: list[Chip] = []
    if state.start is not None or state.end is not None:
        out.append(Chip("start", None, window_text(state, lang)))
    for a in sorted(state.areas):
        out.append(Chip("areas", a, area_name(extract, a)))
    for name, group in FILTER_GROUPS.items():
        for v in sorted(getattr(state, name)):
            out.append(Chip(name, v, code_label(group, v, lang)))
    if state.available_only:
        out.append(Chip("available_only", None, tr("f_available", lang)))
    return tuple(out)


def remove_chip(state: FilterState, chip: Chip) -> FilterState:
    if chip.value is None:
        return state.without(chip.field)
    if chip.field == "areas":
        return state.with_areas(state.areas - {chip.value})
    return state.with_set(chip.field, getattr(state, chip.field) - {chip.value})


def describe_filter(extract: Extract, state: FilterState, lang: str = "zh") -> str:
    """The filters other than time as one line for an export ("区域：城关镇(T01)；警情类别：
    刑事、治安"): areas carry their id too, so the printed filter is unambiguous."""
    parts = []
    for field, value in state.active():
        if field in ("start", "end"):
            continue  # the period (with its hours) is printed on its own
        if field == "areas":
            items = [f"{area_name(extract, a)}({a})" if extract.areas.idx_of(a) is not None
                     else a for a in sorted(value)]
        elif field in FILTER_GROUPS:
            items = [code_label(FILTER_GROUPS[field], c, lang) for c in sorted(value)]
        else:
            items = [tr("x_yes", lang) if value is True else str(value)]
        parts.append(tr(f"filter_{field}", lang) + tr("x_colon", lang)
                     + tr("x_list_sep", lang).join(items))
    return tr("x_field_sep", lang).join(parts) or tr("x_none", lang)
