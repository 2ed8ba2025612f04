"""Change over time: 同比 (against the same period a year earlier) and 环比 (against
the period just before), for any category, area and period length.

Definitions
- A period is a calendar ``day``, an ISO ``week`` (Monday to Sunday) or a
  calendar ``month``. Only the category, status and area filters of the state
  apply; the periods replace the time window. Nothing after the end of the
  as-of day exists.
- The default anchor is the last *complete* period: the one that ends before
  the as-of day (the as-of day itself is still being extracted).
- ``to_date=True`` compares the period holding the as-of day, from its start to
  the end of the as-of day (to the extract time when the as-of day is the
  extract's own day), with the same length of time at the start of the previous
  period and of the same period a year earlier ("本月截至今日", "今日截至06:00").
- The same period a year earlier: the same date in the previous year (29 Feb
  → 28 Feb), the ISO week with the same number in the previous ISO year (week
  53 → week 52), the same month.
- ``change_pct`` = (current − base) / base × 100, None when base is 0; the
  counts behind each percentage travel with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .. import agg_counts
from ..filters import FilterState, day_start
from ..queries import Query, Selection

PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class Span:
    """From ``start`` (inclusive) to ``stop`` (exclusive), local time."""

    start: datetime
    stop: datetime

    @classmethod
    def of_days(cls, first: date, stop: date) -> Span:
        return cls(day_start(first), day_start(stop))

    def label(self, period: str) -> str:
        d = self.start.date()
        if period == "month":
            return f"{d.year:04d}-{d.month:02d}"
        if period == "week":
            y, w, _ = d.isocalendar()
            return f"{y:04d}-W{w:02d}"
        return d.isoformat()

    def to_json(self) -> dict:
        # The last day touched: a stop at midnight ends the day before.
        last = (self.stop - timedelta(microseconds=1)).date()
        out = {"from": self.start.date().isoformat(), "to": last.isoformat()}
        if self.stop != day_start(last + timedelta(days=1)):
            out["until"] = self.stop.isoformat(timespec="minutes")
        return out


def pct(current: int, base: int) -> float | None:
    return (current - base) / base * 100.0 if base else None


@dataclass(frozen=True)
class Change:
    period: str
    current_span: Span
    previous_span: Span
    last_year_span: Span
    current: int
    previous: int
    last_year: int
    to_date: bool = False

    @property
    def mom_pct(self) -> float | None:
        """环比: against the period just before."""
        return pct(self.current, self.previous)

    @property
    def yoy_pct(self) -> float | None:
        """同比: against the same period a year earlier."""
        return pct(self.current, self.last_year)

    def to_json(self) -> dict:
        return {"period": self.period, "label": self.current_span.label(self.period),
                "to_date": self.to_date, "current": self.current, "previous": self.previous,
                "last_year": self.last_year, "mom_pct": self.mom_pct, "yoy_pct": self.yoy_pct,
                "current_span": self.current_span.to_json(),
                "previous_span": self.previous_span.to_json(),
                "last_year_span": self.last_year_span.to_json()}


# ----------------------------------------------------------------------------- calendars
def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, n: int) -> date:
    m = d.year * 12 + d.month - 1 + n
    return date(m // 12, m % 12 + 1, 1)


def minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def period_span(period: str, day: date) -> Span:
    """The whole period that holds ``day``."""
    if period == "day":
        return Span.of_days(day, day + timedelta(days=1))
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return Span.of_days(monday, monday + timedelta(days=7))
    if period == "month":
        return Span.of_days(_month_start(day), _add_months(day, 1))
    raise ValueError(f"unknown period: {period}")


def previous_span(period: str, span: Span) -> Span:
    first = span.start.date()
    if period == "month":
        return Span.of_days(_add_months(first, -1), first)
    return Span(span.start - (span.stop - span.start), span.start)


def last_year_span(period: str, span: Span) -> Span:
    first = span.start.date()
    if period == "day":
        d = minus_year(first)
        return Span.of_days(d, d + timedelta(days=1))
    if period == "week":
        year, week, _ = first.isocalendar()
        weeks_then = date(year - 1, 12, 28).isocalendar()[1]  # 28 Dec is always in the last week
        monday = date.fromisocalendar(year - 1, min(week, weeks_then), 1)
        return Span.of_days(monday, monday + timedelta(days=7))
    start = date(first.year - 1, first.month, 1)
    return Span.of_days(start, _add_months(start, 1))


def _truncate(span: Span, length: timedelta) -> Span:
    return Span(span.start, min(span.stop, span.start + length))


def spans(period: str, as_of: date, anchor: date | None = None, to_date: bool = False,
          cutoff: datetime | None = None) -> tuple[Span, Span, Span]:
    """(current, previous, same period last year) for an anchor day or the default.

    ``cutoff`` ends a to-date period (the extract time on the as-of day, so that
    06:00 today is compared with 06:00 on the other days, not with whole days).
    """
    if period not in PERIODS:
        raise ValueError(f"unknown period: {period}")
    if to_date:
        day = anchor or as_of
        whole = period_span(period, day)
        end = day_start(day + timedelta(days=1))
        if cutoff is not None and whole.start < cutoff < end:
            end = cutoff
        length = end - whole.start
        return (_truncate(whole, length), _truncate(previous_span(period, whole), length),
                _truncate(last_year_span(period, whole), length))
    if anchor is None:
        anchor = period_span(period, as_of).start.date() - timedelta(days=1)
    cur = period_span(period, anchor)
    return cur, previous_span(period, cur), last_year_span(period, cur)


def cutoff(q: Query, state: FilterState) -> datetime | None:
    """The extract time when the as-of day is the extract's own day."""
    at = q.extract.extracted_at
    return at if at is not None and at.date() == q.as_of(state) else None


# ----------------------------------------------------------------------------- figures
def _in_span(name: str) -> str:
    """Rows reported in the span whose bounds are the parameters ``$<name>_a``/``_b``."""
    return f"reported_at >= ${name}_a AND reported_at < ${name}_b"


def counts_sql(q: Query, state: FilterState, group: str | None,
                ranges: tuple[Span, ...]) -> tuple[str, dict]:
    p = q.where(state, "incidents", window=False)
    params = dict(p.params)
    cols = []
    for i, s in enumerate(ranges):
        params[f"c{i}_a"], params[f"c{i}_b"] = s.start, s.stop
        cols.append(f"count(*) FILTER (WHERE {_in_span(f'c{i}')})")
    lo = min(s.start for s in ranges)
    hi = max(s.stop for s in ranges)
    params["c_lo"], params["c_hi"] = lo, hi
    sel = ", ".join(cols)
    where = f"{p.sql} AND reported_at >= $c_lo AND reported_at < $c_hi"
    if group is None:
        return f"SELECT {sel} FROM incidents WHERE {where}", params
    return f"SELECT {group} AS g, {sel} FROM incidents WHERE {where} GROUP BY 1", params


def span_rows(q: Query, state: FilterState, group: str | None,
              ranges: tuple[Span, ...]) -> list[tuple]:
    """``counts_sql``'s result: from the aggregates when the extract is read in place."""
    if q.aggregates(state) and (
            rows := agg_counts.span_counts(q, state, group, ranges)) is not None:
        return rows
    sql, params = counts_sql(q, state, group, ranges)
    return q.con.execute(sql, params).fetchall()


def period_incidents(q: Query, state: FilterState, period: str = "month",
                     anchor: date | None = None, to_date: bool = False) -> Selection:
    """The incidents behind ``change(...).current`` for the same arguments."""
    cur, _, _ = spans(period, q.as_of(state), anchor, to_date, cutoff(q, state))
    return Selection("incidents", "incidents", q.where(state, "incidents", window=False)).and_(
        _in_span("cur"), cur_a=cur.start, cur_b=cur.stop)


def change(q: Query, state: FilterState, period: str = "month", anchor: date | None = None,
           to_date: bool = False, until: datetime | None = None) -> Change:
    """Incidents of one period against the previous period and the same one last year.

    ``until`` ends a to-date period earlier than the extract time: where a lagging feed
    stops (``data.period.incident_feed_end``), so that the three spans hold the same
    stretch of time with data in the current one (like with like).
    """
    cut = cutoff(q, state)
    if until is not None:
        cut = until if cut is None else min(cut, until)
    cur, prev, ly = spans(period, q.as_of(state), anchor, to_date, cut)
    a, b, c = span_rows(q, state, None, (cur, prev, ly))[0]
    return Change(period, cur, prev, ly, int(a), int(b), int(c), to_date)


def change_by(q: Query, state: FilterState, by: str = "category", period: str = "month",
              anchor: date | None = None, to_date: bool = False,
              level: str = "town") -> dict[str, Change]:
    """The same comparison per category, or per area (``by="area"``, rolled up to ``level``).

    Keys are category codes or area ids; groups with no incident in any of the three
    periods are absent.
    """
    cur, prev, ly = spans(period, q.as_of(state), anchor, to_date, cutoff(q, state))
    group = {"category": "category", "area": "area_idx"}[by]
    rows = span_rows(q, state, group, (cur, prev, ly))
    totals: dict[str, list[int]] = {}
    if by == "area":
        areas = q.extract.areas
        up = areas.ancestor_at(level)
        for g, a, b, c in rows:
            if g is None or up[int(g)] < 0:
                continue
            acc = totals.setdefault(areas.ids[int(up[int(g)])], [0, 0, 0])
            acc[0] += int(a)
            acc[1] += int(b)
            acc[2] += int(c)
    else:
        for g, a, b, c in rows:
            totals[str(g)] = [int(a), int(b), int(c)]
    return {k: Change(period, cur, prev, ly, *v, to_date) for k, v in sorted(totals.items())}


def change_series(q: Query, state: FilterState, period: str = "month",
                  count: int = 12) -> list[Change]:
    """The last ``count`` complete periods, oldest first, each with its comparisons."""
    _, _, _ = spans(period, q.as_of(state))  # validates the period
    anchor = period_span(period, q.as_of(state)).start.date() - timedelta(days=1)
    anchors = []
    for _ in range(count):
        anchors.append(anchor)
        anchor = period_span(period, anchor).start.date() - timedelta(days=1)
    anchors.reverse()
    triples = [spans(period, q.as_of(state), a) for a in anchors]
    flat = tuple(s for t in triples for s in t)
    counts = [int(v) for v in span_rows(q, state, None, flat)[0]]
    return [Change(period, *t, *counts[3 * i:3 * i + 3]) for i, t in enumerate(triples)]
