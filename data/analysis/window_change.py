"""The filter's time window against the same dates a year earlier (同比), for briefings.

``change`` compares calendar days, weeks and months; a briefing compares whatever window
the user picked ("2026-01-01 至 2026-03-31"). Definitions:

- The window is ``state.start`` .. ``min(state.end, as-of day)``, whole days. When it
  ends on the extract's own day it ends at the extract time (that day is still being
  extracted), as ``change(..., to_date=True)`` does.
- The same dates a year earlier: both ends moved back one calendar year (29 Feb → 28
  Feb), the cut time of day kept. ``previous`` is the span of the same length just
  before the window (环比).
- Only the category, status and area filters apply to the three spans (the spans
  replace the window), as in ``change``.
- Without ``state.start`` there is no window to compare. The comparison is then the last
  complete calendar month (the month before the as-of day's month, or the month ending
  on ``state.end`` when that is complete) against the same month a year earlier: with no
  ``end`` it is ``report --json``'s ``incidents.yoy``. ``Change.period`` says which
  (``"window"`` or ``"month"``).
- A window that ends before it starts (an as-of day before ``start``) is empty: all
  three spans have no length and every count is 0.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..filters import FilterState, day_start, window_span
from ..queries import Query
from .change import Change, Span, change, change_by, counts_sql, cutoff, minus_year

__all__ = ["window_change", "window_change_by", "window_spans"]


def window_spans(q: Query, state: FilterState) -> tuple[Span, Span, Span] | None:
    """(window, the span before it, the same dates a year earlier); None without a start."""
    if state.start is None:
        return None
    as_of = q.as_of(state)
    if state.has_hours():  # a playback frame: the span as it is, to the hour
        t0, t1 = window_span(state, as_of)
        assert t0 is not None
        t1 = max(t0, t1)
        cur = Span(t0, t1)
        prev = Span(t0 - (t1 - t0), t0)
        ly0 = day_start(minus_year(t0.date())) + (t0 - day_start(t0.date()))
        return cur, prev, Span(ly0, ly0 + (t1 - t0))
    last = min(state.end, as_of) if state.end is not None else as_of
    first = state.start
    if last < first:
        empty = Span(day_start(first), day_start(first))
        return empty, empty, Span(day_start(minus_year(first)), day_start(minus_year(first)))
    stop = day_start(last + timedelta(days=1))
    cut = cutoff(q, state)
    if cut is not None and day_start(last) < cut < stop:
        stop = cut
    cur = Span(day_start(first), stop)
    prev = Span(cur.start - (cur.stop - cur.start), cur.start)
    tail = stop - day_start(last)  # a whole day, or up to the extract time
    ly = Span(day_start(minus_year(first)), day_start(minus_year(last)) + tail)
    return cur, prev, ly


def _month_anchor(q: Query, state: FilterState) -> date | None:
    """A day in the last complete month on or before ``state.end`` (None: change's default)."""
    if state.end is None or state.end >= q.as_of(state):
        return None
    nxt = state.end + timedelta(days=1)
    return state.end if nxt.day == 1 else state.end.replace(day=1) - timedelta(days=1)


def window_change(q: Query, state: FilterState) -> Change:
    """Incidents in the window against the same dates a year earlier (see the docstring)."""
    spans = window_spans(q, state)
    if spans is None:
        return change(q, state, "month", anchor=_month_anchor(q, state))
    sql, params = counts_sql(q, state, None, spans)
    a, b, c = q.con.execute(sql, params).fetchall()[0]
    return Change("window", *spans, int(a), int(b), int(c))


def window_change_by(q: Query, state: FilterState, by: str = "category",
                     level: str = "town") -> dict[str, Change]:
    """The same per category, or per area rolled up to ``level`` (``by="area"``).

    Keys are category codes or area ids; groups with nothing in any span are absent.
    """
    spans = window_spans(q, state)
    if spans is None:
        return change_by(q, state, by, "month", anchor=_month_anchor(q, state), level=level)
    group = {"category": "category", "area": "area_idx"}[by]
    sql, params = counts_sql(q, state, group, spans)
    rows = q.con.execute(sql, params).fetchall()
    totals: dict[str, list[int]] = {}
    up = q.extract.areas.ancestor_at(level) if by == "area" else None
    for g, a, b, c in rows:
        if up is not None:
            if g is None or up[int(g)] < 0:
                continue
            key = q.extract.areas.ids[int(up[int(g)])]
        else:
            key = str(g)
        acc = totals.setdefault(key, [0, 0, 0])
        acc[0] += int(a)
        acc[1] += int(b)
        acc[2] += int(c)
    return {k: Change("window", *spans, *v) for k, v in sorted(totals.items())}
