"""Hazard rectification tracking (隐患整改, with re-inspection 回头看).

Every figure honours the ``FilterState``: hazard categories, risk levels, areas and the
as-of day. The time window does not apply (hazards are a register, not events).
Nothing after the as-of day exists yet: a hazard counts when it was discovered before
the end of the as-of day, an event when ``event_at`` is before the end of the as-of day.

Definitions
- state: derived by ``data.queries.hazard_state_sql`` (the SQL behind ``report --json``):
  the hazard's last event by (event_at, source row) decides; no event → open, assigned
  or reopened → rectifying, rectified → rectified, reinspected → verified. Events with
  an unknown action are ignored by every figure here.
- done: state rectified or verified.
- rectification_rate = done / total; major_rectification_rate = the same over
  risk_level 'major' (design.md). Every rate is None when its denominator is 0.
- verified_rate = verified / total (major_verified_rate over 'major'): only a fix that
  passed 回头看 counts, so a rectification that failed re-inspection (reopened) and was
  rectified again does not count until it is re-inspected.
- overdue: not done and deadline < as-of day; days_overdue = as-of day − deadline in
  whole days. A hazard without a deadline is never overdue. Listed most overdue first,
  then by risk level (major, high, medium, low, anything else), then hazard_id.
- due for re-inspection (回头看待办): state rectified. rectified_at is the hazard's last
  rectified event; days_waiting = as-of day − that event's date in whole days. Listed
  longest waiting (earliest rectified_at) first, then hazard_id.
- reopen_rate = hazards with ≥ 1 reopened event / hazards with ≥ 1 re-inspection
  outcome (reinspected or reopened); reopened_events counts the reopened events.
- days to rectify: discovered_at → the hazard's first rectified event, in fractional
  days, over hazards rectified by the as-of day (whatever their state is now). Median
  and 90th percentile interpolate linearly (numpy's default, as DuckDB's
  ``quantile_cont``); None when no hazard was rectified.
- area of a hazard: its finest area (``area_idx``); its town is that area's ancestor
  at level 'town'. Hazards with no town (unlocated, or placed above town level) form
  the town row whose key is None.
- by_town / by_category / by_unit: the state counts, overdue and both rates per group
  (groups without hazards are left out; unit None = no responsible unit recorded).
  by_town is ordered by area id (None last), by_category in schema order, by_unit worst
  first: most overdue, then the lower rectification rate, then the unit's name.
- weekly: the last ``weeks`` ISO weeks (Monday first) ending with the as-of day's week.
  A week ends with its Sunday, or with the as-of day for the current week. discovered =
  selected hazards discovered in the week; assigned / rectified / reinspected / reopened
  = their events in the week; backlog = hazards discovered by the week's end whose
  state derived from the events up to the week's end is not done; overdue = those of
  the backlog whose deadline is before the week's last day. The current week's backlog is therefore
  open + rectifying and its overdue is ``overdue_count``.

DuckDB derives the states (``hazard_state_sql``) and filters the events; the rest is a
sort and bincounts in numpy over at most a few 100k numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..areas import AreaSet
from ..filters import FilterState, day_start
from ..queries import Query
from ..schema import HAZARD_CATEGORIES, HAZARD_STATES, RISK_LEVELS

__all__ = ["ACTIVE_STATES", "DONE_STATES", "GroupRow", "HazardList", "Rectification",
           "WeekRow", "rectification", "week_starts"]

ACTIONS = ("assigned", "rectified", "reinspected", "reopened")
ACTIVE_STATES = ("open", "rectifying")
"""Hazards in progress (the KPI tile 在办隐患)."""
DONE_STATES = ("rectified", "verified")
"""Hazards counted as rectified (the rates, the funnel's second stage)."""


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class HazardList:
    """Hazards in display order, held as columns (numpy arrays of one length).

    Strings are object arrays (None = missing), dates ``datetime64[D]``, times
    ``datetime64[us]`` (NaT = missing), day counts int64. Columns are in JSON order.
    """

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    def to_json(self, limit: int | None = None) -> list[dict[str, Any]]:
        cols = {k: [_plain(v) for v in a[:limit].tolist()] for k, a in self.columns.items()}
        return [dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v  # datetime is a date too


@dataclass(frozen=True)
class GroupRow:
    """Counts for one town, category or responsible unit (key None: none recorded)."""

    key: str | None
    name: str | None
    total: int
    open: int
    rectifying: int
    rectified: int
    verified: int
    overdue: int

    @property
    def rectification_rate(self) -> float | None:
        return _rate(self.rectified + self.verified, self.total)

    @property
    def verified_rate(self) -> float | None:
        return _rate(self.verified, self.total)

    def to_json(self, key: str, with_name: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {key: self.key} | ({"name": self.name} if with_name else {})
        return out | {"total": self.total, "open": self.open, "rectifying": self.rectifying,
                      "rectified": self.rectified, "verified": self.verified,
                      "overdue": self.overdue, "rectification_rate": self.rectification_rate,
                      "verified_rate": self.verified_rate}


@dataclass(frozen=True)
class WeekRow:
    week: date
    """The Monday that starts the week."""
    discovered: int
    assigned: int
    rectified: int
    reinspected: int
    reopened: int
    backlog: int
    overdue: int

    def to_json(self) -> dict[str, Any]:
        return {"week": self.week.isoformat(), "discovered": self.discovered,
                "assigned": self.assigned, "rectified": self.rectified,
                "reinspected": self.reinspected, "reopened": self.reopened,
                "backlog": self.backlog, "overdue": self.overdue}


@dataclass(frozen=True)
class Rectification:
    """Rectification figures for one FilterState (definitions in the module docstring)."""

    as_of: date
    has_events: bool
    """Whether the extract had a usable rectifications table."""
    by_state: dict[str, int]
    major_by_state: dict[str, int]
    overdue: HazardList
    due_reinspection: HazardList
    reinspected_hazards: int
    """Hazards with at least one re-inspection outcome (reinspected or reopened)."""
    reopened_hazards: int
    reopened_events: int
    median_days_to_rectify: float | None
    p90_days_to_rectify: float | None
    by_town: tuple[GroupRow, ...]
    by_category: tuple[GroupRow, ...]
    by_unit: tuple[GroupRow, ...]
    weekly: tuple[WeekRow, ...]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def overdue_count(self) -> int:
        return len(self.overdue)

    @property
    def rectification_rate(self) -> float | None:
        return _rate(self.by_state["rectified"] + self.by_state["verified"], self.total)

    @property
    def major_rectification_rate(self) -> float | None:
        m = self.major_by_state
        return _rate(m["rectified"] + m["verified"], sum(m.values()))

    @property
    def verified_rate(self) -> float | None:
        return _rate(self.by_state["verified"], self.total)

    @property
    def major_verified_rate(self) -> float | None:
        return _rate(self.major_by_state["verified"], sum(self.major_by_state.values()))

    @property
    def reopen_rate(self) -> float | None:
        return _rate(self.reopened_hazards, self.reinspected_hazards)

    def to_json(self, limit: int = 50) -> dict[str, Any]:
        """Plain JSON; the overdue and re-inspection lists are cut to ``limit`` rows."""
        return {
            "as_of": self.as_of.isoformat(),
            "has_events": self.has_events,
            "by_state": dict(self.by_state),
            "total": self.total,
            "rectification_rate": self.rectification_rate,
            "major_rectification_rate": self.major_rectification_rate,
            "verified_rate": self.verified_rate,
            "major_verified_rate": self.major_verified_rate,
            "reopen_rate": self.reopen_rate,
            "reopened_events": self.reopened_events,
            "median_days_to_rectify": self.median_days_to_rectify,
            "p90_days_to_rectify": self.p90_days_to_rectify,
            "overdue_count": self.overdue_count,
            "overdue": self.overdue.to_json(limit),
            "due_reinspection_count": len(self.due_reinspection),
            "due_reinspection": self.due_reinspection.to_json(limit),
            "by_town": [r.to_json("area_id", with_name=True) for r in self.by_town],
            "by_category": [r.to_json("category") for r in self.by_category],
            "by_unit": [r.to_json("responsible_unit") for r in self.by_unit],
            "weekly": [w.to_json() for w in self.weekly],
        }


# --------------------------------------------------------------------------- SQL

# The selected hazards and their state, from the SQL behind report --json.
_HAZARD_COLUMNS = ("hazard_id, name, category, risk_level, responsible_unit, area_idx, deadline, "
                   "discovered_at, state, overdue")
# All events up to the as-of day as numbers (plus the hazard id). DuckDB filters; arrow
# matches them to the selected hazards and numpy does the rest (histories, running
# states, breakdowns): at 100k hazards a hash lookup, a sort and some bincounts cost a
# fraction of the joins, window functions and grouping sets that would do it in SQL.
_EVENTS = f"""
    SELECT hazard_id, epoch_us(event_at) AS t, _row,
           CASE action {" ".join(f"WHEN '{a}' THEN {i}" for i, a in enumerate(ACTIONS))}
           END AS a
    FROM rectifications
    WHERE event_at < $stop AND list_contains($actions, action)
"""
_RECTIFIED, _REINSPECTED, _REOPENED = (ACTIONS.index(a)
                                       for a in ("rectified", "reinspected", "reopened"))
_DAY_US = 86_400_000_000


# --------------------------------------------------------------------------- API

def rectification(q: Query, state: FilterState, weeks: int = 12) -> Rectification:
    """Rectification tracking under ``state`` (see the module docstring)."""
    as_of = q.as_of(state)
    today = _epoch_days(as_of)
    stop = day_start(as_of + timedelta(days=1))
    areas = q.extract.areas
    sel = q.hazards(state)
    hz = q.con.sql(sel.sql(_HAZARD_COLUMNS), params=sel.params).to_arrow_table()
    n = len(hz)
    ev = _events(q, hz, stop)
    hist = _History.of(ev, n)

    st = pc.index_in(hz.column("state"), value_set=pa.array(HAZARD_STATES)).to_numpy()
    st = st.astype(np.int64)
    deadline = pc.fill_null(pc.cast(hz.column("deadline"), pa.int32()),
                            np.iinfo(np.int32).max).to_numpy().astype(np.int64)
    overdue = hz.column("overdue").to_numpy(zero_copy_only=False).astype(bool)
    disc = pc.cast(hz.column("discovered_at"), pa.int64()).to_numpy()
    area_idx = pc.fill_null(hz.column("area_idx"), -1).to_numpy().astype(np.int64)
    town_of = areas.ancestor_at("town")
    town = np.full(n, -1, dtype=np.int64)
    known = (area_idx >= 0) & (area_idx < len(town_of))
    town[known] = town_of[area_idx[known]]

    # Breakdowns: town (code 0 = none), category, responsible unit.
    ids, names = [None, *areas.ids], [None, *areas.names]
    by_town = _groups(town + 1, ids, st, overdue, names=names,
                      order=lambda g: (g.key is None, g.key or ""))
    cats, cat_codes = _encode(hz.column("category"))
    rank = {c: i for i, c in enumerate(HAZARD_CATEGORIES)}
    by_category = _groups(cat_codes, cats, st, overdue,
                          order=lambda g: (rank.get(g.key, len(rank)), g.key or ""))
    units, unit_codes = _encode(hz.column("responsible_unit"))
    by_unit = _groups(unit_codes, units, st, overdue, order=lambda g: (
        -g.overdue, _float_or(g.rectification_rate, 1.0), g.key is None, g.key or ""))
    major = pc.fill_null(pc.equal(hz.column("risk_level"), "major"), False)
    major = major.to_numpy(zero_copy_only=False).astype(bool)

    days = (hist.first_rectified - disc)[hist.rectified] / _DAY_US
    q50, q90 = np.quantile(days, [0.5, 0.9]) if len(days) else (None, None)
    risk_rank = pc.fill_null(pc.index_in(hz.column("risk_level"),
                                         value_set=pa.array(RISK_LEVELS)),
                             len(RISK_LEVELS)).to_numpy().astype(np.int64)
    columns = {"town": town, "area_idx": area_idx, "days_overdue": today - deadline,
               "rectified_at": hist.last_rectified, "risk_rank": risk_rank}
    late = np.flatnonzero(overdue)
    due = np.flatnonzero(st == HAZARD_STATES.index("rectified"))
    return Rectification(
        as_of=as_of, has_events=q.extract.has("rectifications"),
        by_state=_states(np.bincount(st, minlength=4)),
        major_by_state=_states(np.bincount(st[major], minlength=4)),
        overdue=_hazard_list(hz, columns, late, [("days_overdue", "descending"),
                                                 ("risk_rank", "ascending")],
                             areas, _OVERDUE_KEYS, today),
        due_reinspection=_hazard_list(hz, columns, due, [("rectified_at", "ascending")],
                                      areas, _DUE_KEYS, today),
        reinspected_hazards=int(np.count_nonzero(hist.outcomes)),
        reopened_hazards=int(np.count_nonzero(hist.reopens)),
        reopened_events=int(hist.reopens.sum()),
        median_days_to_rectify=_float_or(q50, None), p90_days_to_rectify=_float_or(q90, None),
        by_town=by_town, by_category=by_category, by_unit=by_unit,
        weekly=_weekly(ev, disc, deadline, as_of, weeks))


def week_starts(as_of: date, weeks: int) -> list[date]:
    """The Mondays of the last ``weeks`` ISO weeks, ending with the week of ``as_of``."""
    monday = as_of - timedelta(days=as_of.weekday())
    return [monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


# --------------------------------------------------------------------------- helpers

@dataclass(frozen=True)
class _Events:
    """Events of the selected hazards in state order: by hazard, event_at, source row."""

    pos: np.ndarray  # the hazard's row in the hazards table
    t: np.ndarray  # event_at, microseconds since 1970
    action: np.ndarray  # index into ACTIONS


@dataclass(frozen=True)
class _History:
    """Per hazard (by row): what its events up to the as-of day say."""

    rectified: np.ndarray  # has a rectified event
    first_rectified: np.ndarray  # microseconds; meaningful where ``rectified``
    last_rectified: np.ndarray
    reopens: np.ndarray  # number of reopened events
    outcomes: np.ndarray  # has a reinspected or reopened event

    @classmethod
    def of(cls, ev: _Events, n: int) -> _History:
        fix = ev.action == _RECTIFIED
        pos, t = ev.pos[fix], ev.t[fix]  # sorted by hazard, then time
        hit, start = np.unique(pos, return_index=True)
        end = np.append(start[1:], len(pos))[:len(start)] - 1  # each hazard's last one
        first = np.zeros(n, dtype=np.int64)
        last = np.zeros(n, dtype=np.int64)
        first[hit], last[hit] = t[start], t[end]
        has = np.zeros(n, dtype=bool)
        has[hit] = True
        reopens = np.bincount(ev.pos[ev.action == _REOPENED], minlength=n)
        outcome = np.bincount(ev.pos[ev.action >= _REINSPECTED], minlength=n) > 0
        return cls(has, first, last, reopens.astype(np.int64), outcome)


def _events(q: Query, hz: pa.Table, stop: datetime) -> _Events:
    ev = q.con.sql(_EVENTS, params={"stop": stop, "actions": list(ACTIONS)}).to_arrow_table()
    pos = pc.index_in(ev.column("hazard_id"), value_set=hz.column("hazard_id"))
    keep = pc.is_valid(pos)  # events of hazards outside the selection drop out here
    ev = ev.append_column("pos", pos).filter(keep)
    pos, t, a, row = (ev.column(k).to_numpy().astype(np.int64) for k in ("pos", "t", "a", "_row"))
    order = np.lexsort((row, t, pos))  # the order of hazard_state_sql's arg_max
    return _Events(pos[order], t[order], a[order])


def _float_or(value: Any, default: float | None) -> float | None:
    return default if value is None else float(value)


def _epoch_days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _states(counts: np.ndarray) -> dict[str, int]:
    return {s: int(counts[i]) for i, s in enumerate(HAZARD_STATES)}


def _encode(col: pa.ChunkedArray) -> tuple[list[str | None], np.ndarray]:
    """(distinct values with None last, code of each row)."""
    enc = pc.dictionary_encode(col.combine_chunks() if col.num_chunks else
                               pa.array([], col.type))
    values = [*enc.dictionary.to_pylist(), None]
    codes = pc.fill_null(enc.indices, len(values) - 1).to_numpy()
    return values, codes.astype(np.int64)


def _groups(codes: np.ndarray, keys: list[str | None], st: np.ndarray, overdue: np.ndarray,
            *, order: Callable[[GroupRow], Any], names: list[str | None] | None = None
            ) -> tuple[GroupRow, ...]:
    """One GroupRow per code that has hazards (``keys[code]``, ``names[code]``), sorted."""
    k = len(keys)
    states = np.bincount(codes * 4 + st, minlength=k * 4).reshape(k, 4)
    late = np.bincount(codes, weights=overdue, minlength=k)
    rows = (GroupRow(keys[c], names[c] if names else None, int(states[c].sum()),
                     *(int(v) for v in states[c]), int(late[c]))
            for c in np.flatnonzero(states.sum(axis=1)))
    return tuple(sorted(rows, key=order))


_TAIL = ("responsible_unit", "area_id", "area_name", "town_id", "town_name", "category",
         "risk_level")
_OVERDUE_KEYS = ("hazard_id", "name", "days_overdue", *_TAIL, "state", "deadline")
_DUE_KEYS = ("hazard_id", "name", "rectified_at", "days_waiting", *_TAIL, "deadline")


def _hazard_list(hz: pa.Table, columns: dict[str, np.ndarray], rows: np.ndarray,
                 sort: list[tuple[str, str]], areas: AreaSet, keys: tuple[str, ...],
                 today: int) -> HazardList:
    """The hazards at ``rows`` ordered by ``sort`` ((column, direction), ...), then id."""
    sub = hz.take(pa.array(rows, pa.int64()))
    table = pa.table({**{k: columns[k][rows] for k, _ in sort},
                      "hazard_id": sub.column("hazard_id")})
    order = pc.sort_indices(table, sort_keys=[*sort, ("hazard_id", "ascending")]).to_numpy()
    sub, rows = sub.take(pa.array(order, pa.int64())), rows[order]
    out = {c: sub.column(c).to_numpy(zero_copy_only=False) for c in sub.column_names}
    ids = np.array([*areas.ids, None], dtype=object)  # -1 (none) picks the None at the end
    names = np.array([*areas.names, None], dtype=object)
    for key, idx in (("area", columns["area_idx"][rows]), ("town", columns["town"][rows])):
        out[f"{key}_id"], out[f"{key}_name"] = ids[idx], names[idx]
    out["days_overdue"] = columns["days_overdue"][rows]
    at = columns["rectified_at"][rows]
    out["rectified_at"] = at.astype("datetime64[us]")
    out["days_waiting"] = today - at // _DAY_US
    return HazardList({k: out[k] for k in keys})


def _weekly(ev: _Events, disc: np.ndarray, deadline: np.ndarray, as_of: date, weeks: int
            ) -> tuple[WeekRow, ...]:
    """The weekly series as running sums of per-week increments.

    Week k covers days [m0 + 7k, m0 + 7k + 7); anything earlier falls in week 0's running
    sums. Each hazard adds 1 to the hazards existing from its discovery week on; each event
    that flips the hazard's "done" (in the order of hazard_state_sql) adds ±1 to the done
    count from max(event week, discovery week) on, so the running sum at week k is the
    number of hazards done at the week's end. Overdue is the same with a third week, the
    first one whose last day is after the deadline.
    """
    starts = week_starts(as_of, max(0, weeks))
    n = len(starts)
    if not n:
        return ()
    m0 = _epoch_days(starts[0])

    def week_of(t_us: np.ndarray) -> np.ndarray:
        return np.clip((t_us - m0 * _DAY_US) // (7 * _DAY_US), 0, n - 1)

    def count(k: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(k, weights, minlength=n + 1)[:n].astype(np.int64)

    found = week_of(disc)
    # The last day of week k is m0 + 7k + 6 (the as-of day for the last week); n = never.
    late = np.where(deadline < _epoch_days(as_of),
                    np.clip((deadline - m0 + 1) // 7, 0, n - 1), n)
    pos, t, a = ev.pos, ev.t, ev.action
    done = (a == _RECTIFIED) | (a == _REINSPECTED)
    before = np.zeros(len(done), dtype=bool)  # done after the same hazard's previous event
    before[1:] = done[:-1] & (pos[1:] == pos[:-1])
    delta = done.astype(np.int64) - before
    flip = np.maximum(week_of(t), found[pos])

    backlog = np.cumsum(count(found)) - np.cumsum(count(flip, delta))
    overdue = (np.cumsum(count(np.maximum(found, late)))
               - np.cumsum(count(np.maximum(flip, late[pos]), delta)))
    discovered = count(found[disc >= m0 * _DAY_US])
    recent = t >= m0 * _DAY_US
    acts = [count(week_of(t[recent & (a == i)])) for i in range(len(ACTIONS))]
    return tuple(WeekRow(m, int(discovered[k]), *(int(x[k]) for x in acts), int(backlog[k]),
                         int(overdue[k])) for k, m in enumerate(starts))
