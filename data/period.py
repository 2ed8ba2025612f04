"""The period the data really covers, placeholder timestamps, and feed freshness.

Real feeds carry timestamps no event has: a system's "no date" default (1900-01-01,
Excel's day 0 1899-12-30, the Unix epoch 1970-01-01, in any time zone) and a thin
tail of old events reported late. Drawn as they are, five real years become a sliver
at the edge of a 120-year axis. And a feed that stopped two weeks before the extract
was made reads as "today 0, −100 %" unless something says it stopped.

Placeholder timestamps (``placeholder_timestamp`` in the load report; the rows stay)
- any time on a sentinel day: 0001-01-01, 1601-01-01, 1753-01-01, 1899-12-30,
  1899-12-31, 1900-01-01, 1904-01-01, 1969-12-31, 1970-01-01, 9999-12-31 (the days
  before the defaults are the defaults shifted into a western time zone);
- 2000-01-01 00:00:00 exactly, unless the table has other rows within 183 days of it
  (a feed that really covers New Year 2000 keeps its midnight incidents).

The bulk period (``incidents.period``; the timeline's default extent)
1. Leave out placeholder timestamps and rows after the extract time (the end of the
   as-of day when the extract does not say when it was made).
2. ``q`` = the latest day such that the rows from ``q`` to the last day with data hold
   at least 99 % of what is left.
3. A month is *dense* when it holds at least 10 % of the median monthly count over
   the months from ``q``'s to the last (empty months count as 0), and at least 1 row.
4. From ``q``'s month, step forward over months that are not dense (a fat tail), then
   back over the dense months just before (the real start of the data, which the
   99 % cut may have trimmed).
5. ``first`` = the first day with data in that month, ``last`` = the last day with
   data; ``outside`` = the table's rows not in [first, last] (placeholders included).
The period is the extract's, over all its incidents: a filter does not move it.

Freshness (``freshness``)
- ``newest``: the newest timestamp of each timed table, placeholders and rows more
  than a day after the extract time left out; ``lag_days`` = extract time − newest,
  in days (never below 0).
- A feed *lags* when its lag is at least a day and its own rate over the 91 days
  before its newest row would have put at least 5 rows into the gap: a silence that
  long has a chance under 1 % (Poisson), so the feed stopped, the place did not
  go quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from .load_report import LoadReport
from .schema import TABLES, Reason
from .sources import quote_ident

if TYPE_CHECKING:  # extract.py imports this module
    from .extract import Extract

SENTINEL_DAYS = (date(1, 1, 1), date(1601, 1, 1), date(1753, 1, 1), date(1899, 12, 30),
                 date(1899, 12, 31), date(1900, 1, 1), date(1904, 1, 1), date(1969, 12, 31),
                 date(1970, 1, 1), date(9999, 12, 31))
Y2K = datetime(2000, 1, 1)
Y2K_NEIGHBOURHOOD = timedelta(days=183)
BULK_SHARE = 0.99
DENSE_SHARE = 0.10
LAG_MIN_DAYS = 1.0
LAG_EXPECTED_ROWS = 5.0
RATE_DAYS = 91
TIMED_TABLES = tuple(name for name, t in TABLES.items() if t.time_column)


def placeholder_sql(table: str, column: str) -> str:
    """SQL true for a row of ``table`` whose ``column`` is a placeholder timestamp."""
    col = quote_ident(column)
    days = ", ".join(f"DATE '{d.isoformat()}'" for d in SENTINEL_DAYS)
    y2k = f"TIMESTAMP '{Y2K.isoformat(sep=' ')}'"
    lo = f"TIMESTAMP '{(Y2K - Y2K_NEIGHBOURHOOD).isoformat(sep=' ')}'"
    hi = f"TIMESTAMP '{(Y2K + Y2K_NEIGHBOURHOOD).isoformat(sep=' ')}'"
    return (f"(CAST({col} AS DATE) IN ({days}) OR ({col} = {y2k} AND NOT EXISTS ("
            f"SELECT 1 FROM main.{table} _y WHERE _y.{col} BETWEEN {lo} AND {hi} "
            f"AND _y.{col} <> {y2k})))")


def flag_placeholders(con: duckdb.DuckDBPyConnection, report: LoadReport) -> None:
    """Count placeholder timestamps of every timed table into its load report (kept)."""
    for name in TIMED_TABLES:
        rep = report.tables.get(name)
        if rep is None or not rep.kept:
            continue
        col = TABLES[name].time_column or ""
        n = con.execute(f"SELECT count(*) FROM main.{name} "
                        f"WHERE {placeholder_sql(name, col)}").fetchall()[0][0]
        if n:
            rep.adjusted[Reason.PLACEHOLDER_TIMESTAMP] = int(n)


# ----------------------------------------------------------------------------- period
@dataclass(frozen=True)
class Period:
    first: date
    last: date
    outside: int
    """Rows of the table not in [first, last] (placeholders and future rows included)."""
    placeholders: int

    def to_json(self) -> dict:
        return {"first": self.first.isoformat(), "last": self.last.isoformat(),
                "outside": self.outside, "placeholders": self.placeholders}


def bulk_span(days: np.ndarray, counts: np.ndarray) -> tuple[date, date] | None:
    """[first, last] of the bulk (steps 2-5 of the rule) from daily counts, oldest first."""
    if len(days) == 0 or counts.sum() <= 0:
        return None
    days = np.asarray(days, dtype="datetime64[D]")
    counts = np.asarray(counts, dtype=np.int64)
    keep = counts > 0
    days, counts = days[keep], counts[keep]
    total = int(counts.sum())
    before = np.cumsum(counts) - counts  # rows on earlier days
    q = int(np.flatnonzero(before <= (1 - BULK_SHARE) * total)[-1])
    month = days.astype("datetime64[M]").astype(np.int64)
    m0 = int(month[0])
    per_month = np.bincount(month - m0, weights=counts)
    mq, mlast = int(month[q]) - m0, len(per_month) - 1
    typical = float(np.median(per_month[mq:]))
    dense = per_month >= max(1.0, DENSE_SHARE * typical)
    s = mq
    while s < mlast and not dense[s]:
        s += 1
    while s > 0 and dense[s - 1]:
        s -= 1
    first = days[np.flatnonzero(month - m0 >= s)[0]]
    return first.astype(date), days[-1].astype(date)


def _end(extracted_at: datetime | None, as_of: date) -> datetime:
    """Rows after this are not data yet (a typo or a clock gone wrong)."""
    return extracted_at if extracted_at is not None else datetime.combine(
        as_of + timedelta(days=1), time.min)


def table_period(con: duckdb.DuckDBPyConnection, table: str, end: datetime) -> Period | None:
    """``table`` may be ``agg_all``, the hourly incident counts of an extract read in
    place: an hour counts as its rows, at the time it starts."""
    n = "sum(n)" if table == "agg_all" else "count(*)"
    column = "reported_at" if table == "agg_all" else TABLES[table].time_column or ""
    col = quote_ident(column)
    ph = placeholder_sql(table, column)
    rows = con.execute(
        f"SELECT CAST({col} AS DATE) d, {n}::BIGINT n, "
        f"coalesce({n} FILTER (WHERE {ph}), 0)::BIGINT p, "
        f"coalesce({n} FILTER (WHERE NOT {ph} AND {col} <= $e), 0)::BIGINT r "
        f"FROM main.{table} "
        f"WHERE {col} IS NOT NULL GROUP BY 1 ORDER BY 1", {"e": end}).fetchnumpy()
    span = bulk_span(np.asarray(rows["d"], dtype="datetime64[D]"),
                     np.asarray(rows["r"], dtype=np.int64))
    if span is None:
        return None
    first, last = span
    inside = con.execute(
        f"SELECT coalesce({n}, 0) FROM main.{table} "
        f"WHERE {col} >= $a AND {col} < $b AND {col} <= $e",
        {"a": datetime.combine(first, time.min),
         "b": datetime.combine(last + timedelta(days=1), time.min), "e": end}
    ).fetchall()[0][0]
    total = int(np.asarray(rows["n"], dtype=np.int64).sum())
    return Period(first, last, total - int(inside), int(np.asarray(rows["p"]).sum()))


def incident_period(extract: Extract) -> Period | None:
    """The bulk period of the incidents (computed once per opened extract)."""
    def compute() -> Period | None:
        cur = extract.cursor()
        try:
            # read in place: the hourly counts stand for the rows (``data.aggregated``)
            return table_period(cur, "agg_all" if extract.aggregated else "incidents",
                                _end(extract.extracted_at, extract.default_as_of))
        finally:
            cur.close()
    return extract.memo(("period", "incidents"), compute)


# ----------------------------------------------------------------------------- freshness
@dataclass(frozen=True)
class Freshness:
    table: str
    newest: datetime | None
    lag_days: float | None
    expected_in_gap: float
    """Rows the table's recent rate would have put between ``newest`` and the extract time."""

    @property
    def lags(self) -> bool:
        return (self.lag_days is not None and self.lag_days >= LAG_MIN_DAYS
                and self.expected_in_gap >= LAG_EXPECTED_ROWS)

    def to_json(self) -> dict:
        return {"newest": None if self.newest is None else self.newest.isoformat(
                    timespec="seconds"),
                "lag_days": None if self.lag_days is None else round(self.lag_days, 2),
                "lags": self.lags}


def table_freshness(con: duckdb.DuckDBPyConnection, table: str, end: datetime,
                    aggregated: bool = False) -> Freshness:
    if aggregated and table == "incidents":
        return _incident_freshness_in_place(con, end)
    col = quote_ident(TABLES[table].time_column or "")
    ph = placeholder_sql(table, TABLES[table].time_column or "")
    newest = con.execute(f"SELECT max({col}) FROM main.{table} WHERE {col} < $e AND NOT {ph}",
                         {"e": end + timedelta(days=1)}).fetchall()[0][0]
    if newest is None:
        return Freshness(table, None, None, 0.0)
    lag = max(0.0, (end - newest).total_seconds() / 86400.0)
    recent = con.execute(f"SELECT count(*) FROM main.{table} WHERE {col} > $a AND {col} <= $b",
                         {"a": newest - timedelta(days=RATE_DAYS), "b": newest}
                         ).fetchall()[0][0]
    return Freshness(table, newest, lag, int(recent) / RATE_DAYS * lag)


def _incident_freshness_in_place(con: duckdb.DuckDBPyConnection, end: datetime
                                 ) -> Freshness:
    """``table_freshness`` of incidents read in place: the newest hour from the hourly
    counts, the newest time in it from that hour's rows (one month's folder), the recent
    rate from the hourly counts."""
    ph = placeholder_sql("agg_all", "reported_at")
    hour = con.execute(f"SELECT max(reported_at) FROM main.agg_all WHERE reported_at < $e "
                       f"AND NOT {ph}", {"e": end + timedelta(days=1)}).fetchall()[0][0]
    if hour is None:
        return Freshness("incidents", None, None, 0.0)
    newest = con.execute(
        "SELECT max(reported_at) FROM main.incidents WHERE year = $y AND month = $m AND "
        "reported_at >= $h AND reported_at < least($h + INTERVAL 1 HOUR, $e)",
        {"y": hour.year, "m": hour.month, "h": hour, "e": end + timedelta(days=1)}
    ).fetchall()[0][0] or hour
    lag = max(0.0, (end - newest).total_seconds() / 86400.0)
    recent = con.execute("SELECT coalesce(sum(n), 0) FROM main.agg_all WHERE reported_at > $a "
                         "AND reported_at <= $b",
                         {"a": hour - timedelta(days=RATE_DAYS), "b": hour}).fetchall()[0][0]
    return Freshness("incidents", newest, lag, int(recent) / RATE_DAYS * lag)


def freshness(extract: Extract) -> dict[str, Freshness]:
    """Each present timed table's freshness against the extract time (memoised)."""
    def compute() -> dict[str, Freshness]:
        end = _end(extract.extracted_at, extract.default_as_of)
        cur = extract.cursor()
        try:
            return {t: table_freshness(cur, t, end, extract.aggregated)
                    for t in TIMED_TABLES if extract.has(t)}
        finally:
            cur.close()
    return extract.memo(("freshness",), compute)


def incident_feed_end(extract: Extract) -> datetime | None:
    """The newest incident when the incident feed lags (figures stop there), else None."""
    f = freshness(extract).get("incidents")
    return f.newest if f is not None and f.lags else None
