"""The one filter state of the cockpit, its transitions, and its SQL.

``FilterState`` is frozen and hashable: views compare states to know whether
anything changed, workers tag results with the state they were computed for,
and stale results are recognised by a plain ``!=``. Transitions are pure
functions returning a new state. ``compile_filter`` is the only place where a
state becomes SQL; values always travel as parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from .areas import AreaSet


@dataclass(frozen=True)
class FilterState:
    start: date | None = None
    """First day of the time window (inclusive); None = from the beginning."""
    end: date | None = None
    """Last day of the time window (inclusive); None = up to ``as_of``."""
    areas: frozenset[str] = frozenset()
    """Area ids at any level; their children are included. Empty = everywhere."""
    incident_categories: frozenset[str] = frozenset()
    incident_statuses: frozenset[str] = frozenset()
    resource_kinds: frozenset[str] = frozenset()
    available_only: bool = False
    hazard_categories: frozenset[str] = frozenset()
    risk_levels: frozenset[str] = frozenset()
    dispute_categories: frozenset[str] = frozenset()
    dispute_levels: frozenset[str] = frozenset()
    dispute_statuses: frozenset[str] = frozenset()
    mediator_kinds: frozenset[str] = frozenset()
    as_of: date | None = None
    """The day figures are "as of"; None = the extract's ``meta.extracted_at``."""

    # ----------------------------------------------------------- transitions
    def with_window(self, start: date | None, end: date | None) -> FilterState:
        if start is not None and end is not None and end < start:
            start, end = end, start
        return dataclasses.replace(self, start=start, end=end)

    def with_areas(self, area_ids: Iterable[str]) -> FilterState:
        return dataclasses.replace(self, areas=frozenset(area_ids))

    def toggle_area(self, area_id: str) -> FilterState:
        return self.with_areas(self.areas ^ {area_id})

    def with_set(self, field: str, values: Iterable[str]) -> FilterState:
        """Replace one of the code sets (e.g. ``incident_categories``)."""
        if field not in _SET_FIELDS:
            raise ValueError(f"not a set filter: {field}")
        return dataclasses.replace(self, **{field: frozenset(values)})

    def toggle(self, field: str, value: str) -> FilterState:
        return self.with_set(field, getattr(self, field) ^ {value})

    def with_as_of(self, as_of: date | None) -> FilterState:
        return dataclasses.replace(self, as_of=as_of)

    def cleared(self) -> FilterState:
        """Everything removed except the as-of date."""
        return FilterState(as_of=self.as_of)

    def active(self) -> list[tuple[str, Any]]:
        """(field, value) pairs that differ from the default, for filter chips."""
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name != "as_of" and v != f.default:
                out.append((f.name, v))
        return out

    def without(self, field: str) -> FilterState:
        if field in ("start", "end"):
            return dataclasses.replace(self, start=None, end=None)
        default = {f.name: f.default for f in dataclasses.fields(self)}[field]
        return dataclasses.replace(self, **{field: default})


_SET_FIELDS = {f.name for f in dataclasses.fields(FilterState)
               if f.type in ("frozenset[str]",)} - {"areas"}


@dataclass(frozen=True)
class Predicate:
    """A WHERE fragment and its named parameters."""

    sql: str
    params: dict[str, Any]

    def and_(self, sql: str, **params: Any) -> Predicate:
        return Predicate(f"({self.sql}) AND ({sql})", {**self.params, **params})


# Which state fields apply to which table, and through which column.
_TABLE_SETS: dict[str, tuple[tuple[str, str], ...]] = {
    "incidents": (("incident_categories", "category"), ("incident_statuses", "status")),
    "resources": (("resource_kinds", "kind"),),
    "hazards": (("hazard_categories", "category"), ("risk_levels", "risk_level")),
    "disputes": (("dispute_categories", "category"), ("dispute_levels", "level"),
                 ("mediator_kinds", "mediator_kind"), ("dispute_statuses", "status")),
}
# Event tables filtered by the time window (state-like tables are not).
_TIME_COLUMNS = {"incidents": "reported_at", "disputes": "received_at"}


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min)


def compile_filter(state: FilterState, table: str, areas: AreaSet, as_of: date,
                   alias: str = "", window: bool = True, prefix: str = "f") -> Predicate:
    """The WHERE clause selecting ``table`` rows under ``state``.

    Event tables (incidents, disputes) are cut to the time window and never
    reach past the end of the as-of day; hazards are cut to those discovered by
    then. ``window=False`` keeps only the as-of cut (for year-over-year, which
    defines its own months).
    """
    col = (lambda c: f"{alias}.{c}") if alias else (lambda c: c)
    parts: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    end_excl = day_start(as_of + timedelta(days=1))
    tcol = _TIME_COLUMNS.get(table)
    if tcol is not None:
        stop = end_excl
        if window and state.end is not None:
            stop = min(stop, day_start(state.end + timedelta(days=1)))
        parts.append(f"{col(tcol)} < ${prefix}_stop")
        params[f"{prefix}_stop"] = stop
        if window and state.start is not None:
            parts.append(f"{col(tcol)} >= ${prefix}_start")
            params[f"{prefix}_start"] = day_start(state.start)
    elif table == "hazards":
        parts.append(f"{col('discovered_at')} < ${prefix}_stop")
        params[f"{prefix}_stop"] = end_excl
    for field, column in _TABLE_SETS.get(table, ()):
        values = getattr(state, field)
        if values:
            name = f"{prefix}_{field}"
            parts.append(f"list_contains(${name}, {col(column)})")
            params[name] = sorted(values)
    if table == "resources" and state.available_only:
        parts.append(f"{col('available')}")
    if state.areas:
        name = f"{prefix}_areas"
        parts.append(f"list_contains(${name}, {col('area_idx')})")
        params[name] = [int(i) for i in areas.resolve(sorted(state.areas))]
    return Predicate(" AND ".join(parts), params)
