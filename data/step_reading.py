"""Which way a producer wrote the level of an ``escalated`` dispute step.

The schema (``../shared/extract-schema.md``, dispute_steps) says a step's level is the
level that holds the dispute *after* the step, so an escalation carries the level it
went **to** (a village → town escalation is ``(town, escalated)``) and the last step's
level equals ``disputes.level``. Some producers write the level it came **from**
(``(village, escalated)``). The funnel counts differently under the two readings, so
the reading is decided once per extract, from the extract's own evidence, and the load
report says which (``findings["level_reading"]`` of ``dispute_steps``).

Evidence (steps of known level, in (step_at, source row) order, per dispute)
    Last step: the level the dispute ends at is the last step's level under *to*, one
    level up when that step is an escalation (county stays county) under *from*. A
    dispute whose ``disputes.level`` (known code) agrees with one reading only is a vote
    for it (``last_to`` / ``last_from``); one that agrees with neither is counted in
    ``last_neither``; ``compared`` = disputes with a usable step and a known level.
    Escalation: an escalated step after a step of the same dispute at a *lower* level
    went to its own level (a vote ``escalation_to``); one at the *same* level as the
    step before it, or a dispute's first step escalated at village, left its own level
    (a vote ``escalation_from``).

Decision
    No vote at all: the schema's reading (``to``). Otherwise the reading with more
    votes (a tie: ``to``). The reading is ``unclear`` (the funnel is refused, with the
    reason) when the evidence disagrees with both readings: more than
    ``NEITHER_SHARE`` of the compared disputes (and at least ``MIN_EVIDENCE``) end at a
    level other than ``disputes.level`` under both readings, or the losing reading has
    more than ``MIXED_SHARE`` of the votes (and at least ``MIN_EVIDENCE``): the steps
    were written both ways.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import duckdb

TO, FROM, UNCLEAR = "to", "from", "unclear"
NEITHER_SHARE = 0.05
MIXED_SHARE = 0.10
MIN_EVIDENCE = 3

__all__ = ["FROM", "TO", "UNCLEAR", "StepReading", "detect_step_reading", "level_rank_sql"]


def level_rank_sql(column: str) -> str:
    """Level codes as ranks 0..2 (village, town, county); anything else → NULL."""
    return (f"CASE {column} WHEN 'village' THEN 0 WHEN 'town' THEN 1 "
            f"WHEN 'county' THEN 2 END")


@dataclass(frozen=True)
class StepReading:
    reading: str
    """``to`` (the schema's), ``from`` (the other convention) or ``unclear`` (refused)."""
    compared: int = 0
    last_to: int = 0
    last_from: int = 0
    last_neither: int = 0
    escalation_to: int = 0
    escalation_from: int = 0
    why: str | None = None
    """For ``unclear``: ``neither`` (last steps fit neither reading) or ``mixed``."""

    @property
    def differs_from_schema(self) -> bool:
        return self.reading != TO

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StepReading:
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k in doc})


def decide(compared: int, last_to: int, last_from: int, last_neither: int,
           escalation_to: int, escalation_from: int) -> StepReading:
    """The reading from the evidence counts (rule: module docstring)."""
    counts = (compared, last_to, last_from, last_neither, escalation_to, escalation_from)
    to_votes, from_votes = last_to + escalation_to, last_from + escalation_from
    if last_neither >= MIN_EVIDENCE and last_neither > NEITHER_SHARE * compared:
        return StepReading(UNCLEAR, *counts, why="neither")
    if not to_votes and not from_votes:
        return StepReading(TO, *counts)
    minority = min(to_votes, from_votes)
    if minority >= MIN_EVIDENCE and minority > MIXED_SHARE * (to_votes + from_votes):
        return StepReading(UNCLEAR, *counts, why="mixed")
    return StepReading(FROM if from_votes > to_votes else TO, *counts)


def detect_step_reading(con: duckdb.DuckDBPyConnection) -> StepReading:
    """Decide the reading from the clean ``disputes`` and ``dispute_steps`` tables."""
    lv = level_rank_sql("level")
    rows = con.execute(f"""
        WITH s AS (
            SELECT dispute_id, step_at, _row, action, {lv} AS lv,
                   lag({lv}) OVER (PARTITION BY dispute_id ORDER BY step_at, _row) AS prev
            FROM dispute_steps WHERE {lv} IS NOT NULL
        ),
        last AS (
            SELECT dispute_id, arg_max(lv, (step_at, _row)) AS lv,
                   arg_max(action, (step_at, _row)) AS act
            FROM s GROUP BY 1
        ),
        cmp AS (
            SELECT l.lv = d.cur AS to_ok,
                   (CASE WHEN l.act = 'escalated' AND l.lv < 2 THEN l.lv + 1 ELSE l.lv END)
                       = d.cur AS from_ok
            FROM last l JOIN (SELECT dispute_id, {level_rank_sql('level')} AS cur
                              FROM disputes) d USING (dispute_id)
            WHERE d.cur IS NOT NULL
        )
        SELECT (SELECT count(*) FROM cmp),
               (SELECT count(*) FILTER (WHERE to_ok AND NOT from_ok) FROM cmp),
               (SELECT count(*) FILTER (WHERE from_ok AND NOT to_ok) FROM cmp),
               (SELECT count(*) FILTER (WHERE NOT to_ok AND NOT from_ok) FROM cmp),
               (SELECT count(*) FILTER (WHERE action = 'escalated' AND lv > prev) FROM s),
               (SELECT count(*) FILTER (WHERE action = 'escalated'
                                        AND (lv = prev OR (prev IS NULL AND lv = 0)))
                FROM s)""").fetchall()[0]
    return decide(*(int(v or 0) for v in rows))
