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
    start_hour: int | None = None
    """With ``start``: the window opens at this hour of that day (0-23); None = 00:00."""
    end_hour: int | None = None
    """With ``end``: the window closes after this hour of that day (0-23, inclusive like
    the day); None = the whole day. Hours exist for playback steps of an hour; an hour
    without its day means nothing and is dropped."""

    def __post_init__(self) -> None:
        for name, day in (("start_hour", self.start), ("end_hour", self.end)):
            hour = getattr(self, name)
            if hour is None:
                continue
            if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
                raise ValueError(f"{name} must be an hour from 0 to 23, not {hour!r}")
            if day is None:  # normalised so that equal windows compare equal
                object.__setattr__(self, name, None)

    # ----------------------------------------------------------- transitions
    def with_window(self, start: date | None, end: date | None) -> FilterState:
        """Whole days, ``start`` to ``end`` inclusive (any hours are dropped)."""
        if start is not None and end is not None and end < start:
            start, end = end, start
        return dataclasses.replace(self, start=start, end=end, start_hour=None, end_hour=None)

    def with_span(self, t0: datetime, t1: datetime) -> FilterState:
        """The window [t0, t1) on whole hours; whole days are written as days alone, so a
        day-long span equals the ``with_window`` of that day."""
        if t1 <= t0:
            raise ValueError(f"empty span: {t0} to {t1}")
        for t in (t0, t1):
            if (t.minute, t.second, t.microsecond) != (0, 0, 0):
                raise ValueError(f"a window starts and ends on whole hours, not {t}")
        last = t1 - timedelta(hours=1)  # the last hour inside the span
        return dataclasses.replace(
            self, start=t0.date(), end=last.date(),
            start_hour=t0.hour or None, end_hour=None if last.hour == 23 else last.hour)

    def has_hours(self) -> bool:
        return self.start_hour is not None or self.end_hour is not None

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
        """(field, value) pairs that differ from the default, for filter chips (the hours
        belong to the window: they are part of ``start``/``end``)."""
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name not in ("as_of", *_HOUR_FIELDS) and v != f.default:
                out.append((f.name, v))
        return out

    def without(self, field: str) -> FilterState:
        if field in _WINDOW_FIELDS:
            return dataclasses.replace(self, start=None, end=None, start_hour=None,
                                       end_hour=None)
        default = {f.name: f.default for f in dataclasses.fields(self)}[field]
        return dataclasses.replace(self, **{field: default})


_SET_FIELDS = {f.name for f in dataclasses.fields(FilterState)
               if f.type in ("frozenset[str]",)} - {"areas"}
_HOUR_FIELDS = ("start_hour", "end_hour")
_WINDOW_FIELDS = ("start", "end", *_HOUR_FIELDS)


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


def window_span(state: FilterState, as_of: date, window: bool = True
                ) -> tuple[datetime | None, datetime]:
    """The time window as [start, stop) timestamps: start None = from the beginning; stop
    never past the end of the as-of day. The one reading of ``start``/``end`` and their
    hours: every count over a window (SQL or aggregates) takes its bounds from here."""
    stop = day_start(as_of + timedelta(days=1))
    if not window:
        return None, stop
    if state.end is not None:
        end = day_start(state.end) + timedelta(
            hours=24 if state.end_hour is None else state.end_hour + 1)
        stop = min(stop, end)
    start = None
    if state.start is not None:
        start = day_start(state.start) + timedelta(hours=state.start_hour or 0)
    return start, stop


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
        start, stop = window_span(state, as_of, window)
        parts.append(f"{col(tcol)} < ${prefix}_stop")
        params[f"{prefix}_stop"] = stop
        if start is not None:
            parts.append(f"{col(tcol)} >= ${prefix}_start")
            params[f"{prefix}_start"] = start
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
