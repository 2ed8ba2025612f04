"""Dispute-mediation statistics (矛盾纠纷化解) across village → town → county.

``mediation(q, state)`` gives every figure of the mediation screen ("一屏呈现"); all of
them honour the ``FilterState``: the window on ``received_at`` (never past the end of
the as-of day), areas (children included), dispute categories, levels, statuses and
mediator kinds. The level and status filters select on the dispute's *current*
``level`` and ``status`` columns.

Definitions
-----------
Counts
    ``by_status``, ``by_level``, ``by_category``, ``by_mediator_kind``: disputes under the
    filter per code of the disputes table, every schema code present (0 included), plus
    ``other`` when unknown codes were loaded. ``total`` = their sum; these equal
    ``report --json``'s ``disputes`` section. ``success_rate`` = resolved / (resolved +
    failed + referred) on the status column (design.md), None when that is 0.

Funnel (the three-level ladder), one path per dispute
    Usable steps are the dispute's ``dispute_steps`` rows up to the end of the as-of day
    whose level is known, in (step_at, source row) order; a step of unknown level
    cannot be placed and is ignored, a step of unknown action still shows the level.
    - From steps (the dispute has at least one usable step): a step's level is the level
      that holds the dispute after the step (the schema's reading, ``to``): so
      ``escalated`` at L says it came up to L from the level below (it was at L − 1
      before, even if that level's steps are not on record). The dispute *entered* at
      the lowest level its steps show (one below an escalation's level), so a dispute
      whose first step is ``(town, accepted)`` entered at town and one whose first step
      is ``(town, escalated)`` entered at village. Its *end level* is the highest level
      it reached: the funnel only moves up, and a dispute is counted as having passed
      every level between its entry and its end level.
    - Producers that write an escalation's *from* level are recognised from the
      extract's own evidence (``data/step_reading.py``; the load report's
      ``dispute_steps.findings.level_reading``) and read that way: ``escalated`` at L
      says it left L for the next level (it has *reached* that level even if the
      acceptance there is not on record yet; an escalation from county stays at county),
      and it entered at the lowest level its steps show.
    - When the evidence fits neither reading (``unclear``) the funnel is refused:
      ``refused`` holds the reason (``step_levels_neither``: last steps fit neither
      reading; ``step_levels_mixed``: steps written both ways), every path is taken from
      the fields as below (so the outcomes still add up) and the per-level figures are
      ``null`` in ``to_json`` and not shown; the shares below are None.
    - From fields (no usable step, or no ``dispute_steps`` table): the dispute entered at
      village (the schema's ladder starts there: 小事不出村) and its end level is the
      current ``level`` column, so a dispute now at town reached village and town. An
      unknown level counts as village.
    Outcome (resolved / failed / referred / open) at the end level:
    - The status column is the current truth for the outcome when the record has not
      moved on since the as-of day: pending and mediating are open; resolved, failed
      and referred are that outcome. Steps give only the path.
    - The record has moved on when the dispute has a step after the as-of day or a
      finished status whose ``resolved_at`` is after it. The status column then tells a
      later story, so the last usable step of known action decides (a terminal action is
      that outcome, anything else is open); without usable steps the dispute is open.
      A status of unknown code is decided the same way.
    ``reading``: the reading used (``to``, ``from``, ``unclear``).
    ``status_disagreements``: disputes from steps, not moved on, of known status, whose
    last usable step's outcome (terminal action, else open) differs from the status
    outcome (the status wins). ``level_disagreements``: likewise, whose end level from
    steps differs from a known current ``level`` (the steps win).
    Every dispute under the filter lands in exactly one terminal bucket
    (resolved/failed/referred/open × end level), so ``received`` = their sum;
    ``reached_L`` = disputes with entry ≤ L ≤ end level; ``entered`` sums to ``received``.
    The funnel's outcomes equal ``by_status`` when nothing has moved on since the as-of
    day and no status is of unknown code.

Shares (化解在基层)
    ``resolved_at_lowest_level_share`` = funnel resolved at village / funnel resolved at
    any level; ``resolved_below_county_share`` = (village + town) / all resolved; None
    when nothing was resolved.

Durations
    Fractional days from ``received_at`` to ``resolved_at`` for disputes of status
    resolved (``*_to_resolve``) or resolved/failed/referred (``*_to_finish``) whose
    ``resolved_at`` is before the end of the as-of day. A ``resolved_at`` before
    ``received_at`` is a data error and left out. Median and 90th percentile by linear
    interpolation (numpy's default); None when no dispute qualifies.

Monthly series
    Every month from the window start (default: the month of the first dispute received
    under the filter) to the window end (default and cap: the as-of day), zeros
    included. ``received`` by ``received_at`` month; ``resolved``, ``failed``,
    ``referred`` by the status column, counted in the month of ``resolved_at`` (before the
    end of the as-of day), for the disputes received in the window. Outcomes falling in
    a month outside the series are not shown. ``success_rate`` per month as above.

By area (linked charts)
    Per finest area (``area_idx``: normally villages; a dispute placed only by a coarser
    ``area_id`` counts against that area), per town and per county (rolled up with
    ``AreaSet.ancestor_at``), areas with at least one dispute, ordered by area id:
    total, resolved, failed, referred (status column), open = total − those three
    (pending, mediating and unknown status), success rate. Disputes without an area are
    counted in ``unlocated``; areas with no ancestor at a level are left out of that
    level's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from data.filters import FilterState, Predicate, day_start
from data.queries import Query, Selection, code_counts
from data.schema import DISPUTE_CATEGORIES, DISPUTE_LEVELS, DISPUTE_STATUSES, MEDIATOR_KINDS
from data.step_reading import FROM, UNCLEAR, StepReading, detect_step_reading, level_rank_sql

__all__ = [
    "AreaRow",
    "DisputePaths",
    "Funnel",
    "Mediation",
    "MonthRow",
    "dispute_paths",
    "funnel_stage",
    "mediation",
    "reached_sql",
    "step_reading",
]

FINISHED = ("resolved", "failed", "referred")
OUTCOMES = (*FINISHED, "open")
_FINISHED_SQL = "('resolved', 'failed', 'referred')"
_OPEN_SQL = "('pending', 'mediating')"


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


_level_sql = level_rank_sql


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Funnel:
    received: int
    entered: dict[str, int]
    reached: dict[str, int]
    """Disputes that were at each level at some time (entry ≤ level ≤ end level)."""
    resolved: dict[str, int]
    failed: dict[str, int]
    referred: dict[str, int]
    open: dict[str, int]
    from_steps: int
    from_fields: int
    status_disagreements: int
    level_disagreements: int
    reading: str = "to"
    """How the steps' levels were read (``data/step_reading.py``)."""
    refused: str | None = None
    """Why the per-level figures cannot be given (they are then not shown), or None."""

    @property
    def resolved_total(self) -> int:
        return sum(self.resolved.values())

    def to_json(self) -> dict[str, Any]:
        def per_level(d: dict[str, int]) -> dict[str, int] | None:
            return None if self.refused else dict(d)

        def one(lv: str) -> int | None:
            return None if self.refused else self.reached[lv]

        return {
            "received": self.received,
            "entered": per_level(self.entered),
            "reached_village": one("village"),
            "reached_town": one("town"),
            "reached_county": one("county"),
            "resolved": per_level(self.resolved), "failed": per_level(self.failed),
            "referred": per_level(self.referred), "open": per_level(self.open),
            "from_steps": self.from_steps, "from_fields": self.from_fields,
            "status_disagreements": self.status_disagreements,
            "level_disagreements": self.level_disagreements,
            "reading": self.reading, "refused": self.refused,
        }


@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM
    received: int
    resolved: int
    failed: int
    referred: int

    @property
    def success_rate(self) -> float | None:
        return _rate(self.resolved, self.resolved + self.failed + self.referred)

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "received": self.received, "resolved": self.resolved,
                "failed": self.failed, "referred": self.referred,
                "success_rate": self.success_rate}


@dataclass(frozen=True)
class AreaRow:
    area_idx: int
    area_id: str
    name: str
    level: str | None
    total: int
    resolved: int
    failed: int
    referred: int

    @property
    def open(self) -> int:
        return self.total - self.resolved - self.failed - self.referred

    @property
    def success_rate(self) -> float | None:
        return _rate(self.resolved, self.resolved + self.failed + self.referred)

    def to_json(self) -> dict[str, Any]:
        return {"area_id": self.area_id, "name": self.name, "level": self.level,
                "total": self.total, "resolved": self.resolved, "failed": self.failed,
                "referred": self.referred, "open": self.open,
                "success_rate": self.success_rate}


@dataclass(frozen=True)
class Mediation:
    as_of: date
    total: int
    by_status: dict[str, int]
    by_level: dict[str, int]
    by_category: dict[str, int]
    by_mediator_kind: dict[str, int]
    funnel: Funnel
    median_days_to_resolve: float | None
    p90_days_to_resolve: float | None
    median_days_to_finish: float | None
    p90_days_to_finish: float | None
    monthly: tuple[MonthRow, ...]
    by_village: tuple[AreaRow, ...]
    by_town: tuple[AreaRow, ...]
    by_county: tuple[AreaRow, ...]
    unlocated: int

    @property
    def success_rate(self) -> float | None:
        s = self.by_status
        return _rate(s["resolved"], s["resolved"] + s["failed"] + s["referred"])

    @property
    def resolved_at_lowest_level_share(self) -> float | None:
        if self.funnel.refused:
            return None
        return _rate(self.funnel.resolved["village"], self.funnel.resolved_total)

    @property
    def resolved_below_county_share(self) -> float | None:
        if self.funnel.refused:
            return None
        r = self.funnel.resolved
        return _rate(r["village"] + r["town"], self.funnel.resolved_total)

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "total": self.total,
            "by_status": dict(self.by_status),
            "by_level": dict(self.by_level),
            "by_category": dict(self.by_category),
            "by_mediator_kind": dict(self.by_mediator_kind),
            "success_rate": self.success_rate,
            "funnel": self.funnel.to_json(),
            "median_days_to_resolve": self.median_days_to_resolve,
            "p90_days_to_resolve": self.p90_days_to_resolve,
            "median_days_to_finish": self.median_days_to_finish,
            "p90_days_to_finish": self.p90_days_to_finish,
            "resolved_at_lowest_level_share": self.resolved_at_lowest_level_share,
            "resolved_below_county_share": self.resolved_below_county_share,
            "monthly": [m.to_json() for m in self.monthly],
            "by_village": [a.to_json() for a in self.by_village],
            "by_town": [a.to_json() for a in self.by_town],
            "by_county": [a.to_json() for a in self.by_county],
            "unlocated": self.unlocated,
        }


@dataclass(frozen=True)
class DisputePaths:
    """Each dispute's funnel path (for drill-down lists), in dispute_id order."""

    dispute_id: np.ndarray  # object (str)
    entry: np.ndarray  # int8 level rank: 0 village, 1 town, 2 county
    end_level: np.ndarray  # int8 level rank
    outcome: np.ndarray  # object: resolved / failed / referred / open
    from_steps: np.ndarray  # bool: path from dispute_steps (else from the current fields)
    status_disagrees: np.ndarray  # bool
    level_disagrees: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.dispute_id)


# --------------------------------------------------------------------------- SQL

def _stop(q: Query, state: FilterState) -> datetime:
    return day_start(q.as_of(state) + timedelta(days=1))


def step_reading(q: Query) -> StepReading:
    """The extract's reading of step levels: the load report's, else detected once."""
    t = q.extract.report.tables.get("dispute_steps")
    doc = t.findings.get("level_reading") if t is not None else None
    if doc:
        return StepReading.from_json(doc)
    return q.extract.memo("step_reading", lambda: detect_step_reading(q.con))


def _paths_sql(pred: Predicate, reading: str) -> str:
    """One row per dispute under ``pred``: the funnel path (see the module docstring).

    Uses ``$m_stop`` (the end of the as-of day) next to the predicate's parameters.
    ``reading`` is ``to``, ``from`` or ``unclear`` (no step is used).
    """
    if reading == FROM:  # escalated at L: it left L for the level above
        low, high = "lv", "CASE WHEN action = 'escalated' AND lv < 2 THEN lv + 1 ELSE lv END"
    else:  # escalated at L: it came up to L from the level below
        low, high = "CASE WHEN action = 'escalated' AND lv > 0 THEN lv - 1 ELSE lv END", "lv"
    # Only the steps of the disputes under ``pred``: a month's window aggregates its own
    # disputes' steps, not the whole register's (1.6 s -> 0.2 s over 2M disputes).
    steps = ("FROM dispute_steps WHERE dispute_id IN (SELECT dispute_id FROM d)"
             if reading != UNCLEAR else "FROM dispute_steps WHERE FALSE")
    return f"""
        WITH d AS (
            SELECT dispute_id, coalesce(status, 'other') AS status, level, resolved_at
            FROM disputes WHERE {pred.sql}
        ),
        agg AS (
            SELECT dispute_id,
                min({low}) FILTER (WHERE step_at < $m_stop) AS low,
                max({high}) FILTER (WHERE step_at < $m_stop) AS high,
                arg_max(action, (step_at, _row)) FILTER (
                    WHERE step_at < $m_stop AND lv IS NOT NULL AND action <> 'other')
                    AS last_action,
                bool_or(step_at >= $m_stop) AS later
            FROM (SELECT dispute_id, step_at, _row, action, {_level_sql('level')} AS lv
                  {steps})
            GROUP BY 1
        ),
        per AS (
            SELECT d.dispute_id, d.status, a.low, a.high, a.last_action,
                a.low IS NOT NULL AS from_steps,
                {_level_sql('d.level')} AS cur_lv,
                coalesce(a.later, FALSE)
                    OR (d.status IN {_FINISHED_SQL} AND coalesce(d.resolved_at >= $m_stop,
                                                              FALSE)) AS moved_on
            FROM d LEFT JOIN agg a ON a.dispute_id = d.dispute_id
        )
        SELECT dispute_id, from_steps,
            CASE WHEN from_steps THEN low ELSE 0 END::TINYINT AS entry,
            CASE WHEN from_steps THEN high ELSE coalesce(cur_lv, 0) END::TINYINT AS end_level,
            CASE WHEN NOT moved_on AND status IN {_FINISHED_SQL} THEN status
                 WHEN NOT moved_on AND status IN {_OPEN_SQL} THEN 'open'
                 WHEN last_action IN {_FINISHED_SQL} THEN last_action
                 ELSE 'open' END AS outcome,
            from_steps AND NOT moved_on AND status <> 'other'
                AND (CASE WHEN status IN {_FINISHED_SQL} THEN status ELSE 'open' END)
                    <> (CASE WHEN last_action IN {_FINISHED_SQL} THEN last_action
                             ELSE 'open' END) AS status_disagrees,
            from_steps AND NOT moved_on AND coalesce(cur_lv <> high, FALSE) AS level_disagrees
        FROM per
    """


def dispute_paths(q: Query, state: FilterState) -> DisputePaths:
    """Every dispute's funnel path under ``state`` (the per-dispute view of the funnel)."""
    p = q.where(state, "disputes")
    sql = _paths_sql(p, step_reading(q).reading)
    res = q.con.execute(f"SELECT * FROM ({sql}) ORDER BY dispute_id",
                        {**p.params, "m_stop": _stop(q, state)}).fetchnumpy()
    return DisputePaths(
        dispute_id=np.asarray(res["dispute_id"], dtype=object),
        entry=np.asarray(res["entry"], dtype=np.int8),
        end_level=np.asarray(res["end_level"], dtype=np.int8),
        outcome=np.asarray(res["outcome"], dtype=object),
        from_steps=np.asarray(res["from_steps"], dtype=bool),
        status_disagrees=np.asarray(res["status_disagrees"], dtype=bool),
        level_disagrees=np.asarray(res["level_disagrees"], dtype=bool),
    )


def reached_sql(rank: int) -> str:
    """A dispute's path passed the level of ``rank`` (0 village, 1 town, 2 county): it
    entered at or below it and ended at or above it (over the rows of ``_paths_sql``)."""
    return f"(entry <= {int(rank)} AND end_level >= {int(rank)})"


def funnel_stage(q: Query, state: FilterState, level: str) -> Selection:
    """The disputes behind the funnel's ``reached[level]`` (their paths pass ``level``)."""
    p = q.where(state, "disputes")
    rank = DISPUTE_LEVELS.index(level)
    paths = _paths_sql(p, step_reading(q).reading)
    return Selection("disputes", f"disputes JOIN ({paths}) AS fp USING (dispute_id)",
                     Predicate(reached_sql(rank), {**p.params, "m_stop": _stop(q, state)}))


def _funnel(q: Query, p: Predicate, stop: datetime) -> Funnel:
    levels = DISPUTE_LEVELS
    evidence = step_reading(q)
    reading = evidence.reading
    reach = ", ".join(f"{reached_sql(k)} AS r{k}" for k in range(len(levels)))
    rows = q.con.execute(
        f"""SELECT from_steps, entry, end_level, outcome, status_disagrees, level_disagrees,
                   {reach}, count(*) FROM ({_paths_sql(p, reading)}) GROUP BY ALL""",
        {**p.params, "m_stop": stop}).fetchall()
    zero = dict.fromkeys(levels, 0)
    entered, reached = dict(zero), dict(zero)
    buckets = {o: dict(zero) for o in OUTCOMES}
    received = from_steps = status_dis = level_dis = 0
    for steps, entry, end, outcome, sdis, ldis, *passed, n in rows:
        n = int(n)
        received += n
        entered[levels[entry]] += n
        for lv, hit in zip(levels, passed, strict=True):
            reached[lv] += n if hit else 0
        buckets[outcome][levels[end]] += n
        from_steps += n if steps else 0
        status_dis += n if sdis else 0
        level_dis += n if ldis else 0
    return Funnel(received, entered, reached, buckets["resolved"], buckets["failed"],
                  buckets["referred"], buckets["open"], from_steps, received - from_steps,
                  status_dis, level_dis, reading,
                  f"step_levels_{evidence.why or 'unclear'}" if reading == UNCLEAR and received
                  else None)


def _code_counts(q: Query, p: Predicate) -> dict[str, dict[str, int]]:
    cols = ("status", "level", "category", "mediator_kind")
    rows = q.con.execute(
        f"""SELECT GROUPING(status, level, category, mediator_kind) AS g,
                   coalesce(status, level, category, mediator_kind) AS code, count(*)
            FROM disputes WHERE {p.sql}
            GROUP BY GROUPING SETS ((status), (level), (category), (mediator_kind))""",
        p.params).fetchall()
    # GROUPING's bit for a column is 0 when that column is the grouped one.
    per: dict[str, list[tuple]] = {c: [] for c in cols}
    for g, code, n in rows:
        for i, c in enumerate(cols):
            if not (int(g) >> (len(cols) - 1 - i)) & 1:
                per[c].append((code, n))
    keys = {"status": DISPUTE_STATUSES, "level": DISPUTE_LEVELS,
            "category": DISPUTE_CATEGORIES, "mediator_kind": MEDIATOR_KINDS}
    return {c: code_counts(per[c], keys[c]) for c in cols}


def _durations(q: Query, p: Predicate, stop: datetime) -> tuple[float | None, ...]:
    rows = q.con.execute(
        f"""SELECT quantile_cont(days, [0.5, 0.9]) FILTER (WHERE status = 'resolved'),
                   quantile_cont(days, [0.5, 0.9])
            FROM (SELECT status,
                         date_diff('microsecond', received_at, resolved_at) / 86400e6 AS days
                  FROM disputes WHERE {p.sql} AND status IN {_FINISHED_SQL}
                    AND resolved_at < $m_stop AND resolved_at >= received_at)""",
        {**p.params, "m_stop": stop}).fetchall()
    res, fin = rows[0] if rows else (None, None)
    res, fin = res or [None, None], fin or [None, None]
    return tuple(None if v is None else float(v) for v in (*res, *fin))


def _month_key(d: date) -> int:
    return d.year * 12 + d.month - 1


def _monthly(q: Query, state: FilterState, p: Predicate, stop: datetime) -> tuple[MonthRow, ...]:
    rows = q.con.execute(
        f"""SELECT 'received' AS k, year(received_at) * 12 + month(received_at) - 1 AS m,
                   count(*) FROM disputes WHERE {p.sql} GROUP BY 1, 2
            UNION ALL
            SELECT status, year(resolved_at) * 12 + month(resolved_at) - 1, count(*)
            FROM disputes WHERE {p.sql} AND status IN {_FINISHED_SQL}
              AND resolved_at < $m_stop GROUP BY 1, 2""",
        {**p.params, "m_stop": stop}).fetchall()
    as_of = q.as_of(state)
    last = _month_key(min(state.end, as_of) if state.end else as_of)
    received_months = [int(m) for k, m, _ in rows if k == "received"]
    if state.start is not None:
        first = _month_key(state.start)
    elif received_months:
        first = min(received_months)
    else:
        return ()
    if first > last:
        return ()
    grid = {k: np.zeros(last - first + 1, dtype=np.int64) for k in ("received", *FINISHED)}
    for k, m, n in rows:
        if first <= int(m) <= last:
            grid[k][int(m) - first] += int(n)
    return tuple(
        MonthRow(f"{(first + i) // 12:04d}-{(first + i) % 12 + 1:02d}",
                 int(grid["received"][i]), int(grid["resolved"][i]), int(grid["failed"][i]),
                 int(grid["referred"][i]))
        for i in range(last - first + 1))


def _by_area(q: Query, p: Predicate) -> tuple[tuple[AreaRow, ...], tuple[AreaRow, ...],
                                               tuple[AreaRow, ...], int]:
    res = q.con.execute(
        f"""SELECT coalesce(area_idx, -1)::BIGINT AS area_idx, count(*)::BIGINT AS total,
                   count(*) FILTER (WHERE status = 'resolved')::BIGINT AS resolved,
                   count(*) FILTER (WHERE status = 'failed')::BIGINT AS failed,
                   count(*) FILTER (WHERE status = 'referred')::BIGINT AS referred
            FROM disputes WHERE {p.sql} GROUP BY 1""", p.params).fetchnumpy()
    areas = q.extract.areas
    idx = np.asarray(res["area_idx"], dtype=np.int64)
    located = idx >= 0
    cols = {k: np.asarray(res[k], dtype=np.int64) for k in ("total", "resolved", "failed",
                                                            "referred")}
    unlocated = int(cols["total"][~located].sum())
    idx = idx[located]
    cols = {k: v[located] for k, v in cols.items()}

    def rows_for(target: np.ndarray) -> tuple[AreaRow, ...]:
        keep = target >= 0
        sums = {k: np.bincount(target[keep], weights=v[keep], minlength=len(areas))
                for k, v in cols.items()}
        out = [AreaRow(int(i), areas.ids[i], areas.names[i], areas.levels[i],
                       *(int(sums[k][i]) for k in ("total", "resolved", "failed", "referred")))
               for i in np.flatnonzero(sums["total"])]
        return tuple(sorted(out, key=lambda r: r.area_id))

    finest = rows_for(idx)
    if len(idx):
        town = rows_for(areas.ancestor_at("town")[idx])
        county = rows_for(areas.ancestor_at("county")[idx])
    else:
        town = county = ()
    return finest, town, county, unlocated


# --------------------------------------------------------------------------- entry point

def mediation(q: Query, state: FilterState) -> Mediation:
    """Every mediation figure under ``state`` (definitions: module docstring)."""
    p = q.where(state, "disputes")
    stop = _stop(q, state)
    codes = _code_counts(q, p)
    med_res, p90_res, med_fin, p90_fin = _durations(q, p, stop)
    villages, towns, counties, unlocated = _by_area(q, p)
    return Mediation(
        as_of=q.as_of(state),
        total=sum(codes["status"].values()),
        by_status=codes["status"],
        by_level=codes["level"],
        by_category=codes["category"],
        by_mediator_kind=codes["mediator_kind"],
        funnel=_funnel(q, p, stop),
        median_days_to_resolve=med_res,
        p90_days_to_resolve=p90_res,
        median_days_to_finish=med_fin,
        p90_days_to_finish=p90_fin,
        monthly=_monthly(q, state, p, stop),
        by_village=villages,
        by_town=towns,
        by_county=counties,
        unlocated=unlocated,
    )
