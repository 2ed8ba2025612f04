"""The query API: FilterState in, numpy arrays and small dataclasses out.

This is the only road from the user interface (and the exporters, and
``report --json``) to the data. Every method compiles the state with
``compile_filter`` and runs parameterised SQL on the cached extract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np

from .extract import Extract
from .filters import FilterState, Predicate, compile_filter, day_start
from .schema import (
    DISPUTE_LEVELS,
    DISPUTE_STATUSES,
    HAZARD_STATES,
    INCIDENT_CATEGORIES,
    RESOURCE_KINDS,
)


@dataclass(frozen=True)
class Viewport:
    """A map view in Web Mercator metres and its size in pixels."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: int
    height: int


@dataclass(frozen=True)
class YearOverYear:
    month: str  # YYYY-MM
    current: int
    previous: int

    @property
    def change_pct(self) -> float | None:
        if self.previous == 0:
            return None
        return (self.current - self.previous) / self.previous * 100.0


def last_full_month(as_of: date) -> tuple[int, int]:
    """The last calendar month that ends before ``as_of``'s month begins."""
    first = as_of.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def month_bounds(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt


def code_counts(rows: list[tuple], keys: tuple[str, ...]) -> dict[str, int]:
    out = {k: 0 for k in keys}
    for k, n in rows:
        if k is not None:
            out[str(k)] = out.get(str(k), 0) + int(n)
    return out


def hazard_state_sql(pred: Predicate, as_of: date) -> tuple[str, dict]:
    """Hazards under ``pred`` with their state derived from events up to the as-of day.

    The schema's rule: no event → open; the last of assigned → rectifying,
    rectified → rectified, reinspected → verified, reopened → rectifying.
    Events of unknown action are ignored; ties in time keep the extract's order.
    """
    sql = f"""
        WITH last_event AS (
            SELECT hazard_id, arg_max(action, (event_at, _row)) AS action
            FROM rectifications
            WHERE event_at < $hs_stop AND action <> 'other'
            GROUP BY hazard_id
        )
        SELECT h.*, CASE e.action
                WHEN 'assigned' THEN 'rectifying' WHEN 'reopened' THEN 'rectifying'
                WHEN 'rectified' THEN 'rectified' WHEN 'reinspected' THEN 'verified'
                ELSE 'open' END AS state
        FROM hazards h LEFT JOIN last_event e ON e.hazard_id = h.hazard_id
        WHERE {pred.sql}
    """
    return sql, {**pred.params, "hs_stop": day_start(as_of + timedelta(days=1))}


class Query:
    """Figures for one extract. Create one per thread (it holds a cursor)."""

    def __init__(self, extract: Extract, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.extract = extract
        self.con = con if con is not None else extract.cursor()

    # ------------------------------------------------------------- helpers
    def as_of(self, state: FilterState) -> date:
        return state.as_of or self.extract.default_as_of

    def where(self, state: FilterState, table: str, alias: str = "",
              window: bool = True) -> Predicate:
        return compile_filter(state, table, self.extract.areas, self.as_of(state), alias, window)

    def _rows(self, sql: str, params: dict) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def _scalar(self, sql: str, params: dict) -> int:
        rows = self.con.execute(sql, params).fetchall()
        return int(rows[0][0] or 0) if rows else 0

    # ------------------------------------------------------------- incidents
    def incident_count(self, state: FilterState) -> int:
        p = self.where(state, "incidents")
        return self._scalar(f"SELECT count(*) FROM incidents WHERE {p.sql}", p.params)

    def unlocated_count(self, state: FilterState) -> int:
        p = self.where(state, "incidents")
        return self._scalar(
            f"SELECT count(*) FROM incidents WHERE {p.sql} AND area_idx IS NULL", p.params)

    def incidents_by_category(self, state: FilterState) -> dict[str, int]:
        p = self.where(state, "incidents")
        rows = self._rows(f"SELECT category, count(*) FROM incidents WHERE {p.sql} GROUP BY 1",
                          p.params)
        return code_counts(rows, INCIDENT_CATEGORIES)

    def incidents_by_area(self, state: FilterState,
                          level: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(area indices, counts); ``level`` rolls the counts up (e.g. to towns)."""
        p = self.where(state, "incidents")
        res = self.con.execute(
            f"SELECT area_idx, count(*)::BIGINT AS n FROM incidents WHERE {p.sql} "
            "AND area_idx IS NOT NULL GROUP BY 1 ORDER BY 1", p.params).fetchnumpy()
        idx = np.asarray(res["area_idx"], dtype=np.int64)
        n = np.asarray(res["n"], dtype=np.int64)
        if level is None or len(idx) == 0:
            return idx, n
        up = self.extract.areas.ancestor_at(level)[idx]
        keep = up >= 0
        sums = np.bincount(up[keep], weights=n[keep], minlength=len(self.extract.areas))
        nz = np.flatnonzero(sums)
        return nz, sums[nz].astype(np.int64)

    def incidents_by_day(self, state: FilterState) -> tuple[np.ndarray, np.ndarray]:
        """Daily counts over the window (every day present, zeros included)."""
        p = self.where(state, "incidents")
        res = self.con.execute(
            f"SELECT CAST(reported_at AS DATE) AS d, count(*)::BIGINT AS n FROM incidents "
            f"WHERE {p.sql} GROUP BY 1 ORDER BY 1", p.params).fetchnumpy()
        days = np.asarray(res["d"], dtype="datetime64[D]")
        counts = np.asarray(res["n"], dtype=np.int64)
        if len(days) == 0:
            return days, counts
        first = np.datetime64(state.start, "D") if state.start else days[0]
        last = np.datetime64(min(state.end or self.as_of(state), self.as_of(state)), "D")
        full = np.arange(first, last + 1, dtype="datetime64[D]")
        out = np.zeros(len(full), dtype=np.int64)
        pos = (days - first).astype(np.int64)
        ok = (pos >= 0) & (pos < len(full))
        out[pos[ok]] = counts[ok]
        return full, out

    def incidents_by_week(self, state: FilterState) -> tuple[np.ndarray, np.ndarray]:
        """Counts per ISO week (weeks start on Monday), from the daily series."""
        days, counts = self.incidents_by_day(state)
        if len(days) == 0:
            return days, counts
        weekday = (days.astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday
        monday = days - weekday.astype("timedelta64[D]")
        weeks, inv = np.unique(monday, return_inverse=True)
        return weeks, np.bincount(inv, weights=counts).astype(np.int64)

    def incidents_by_hour(self, state: FilterState) -> np.ndarray:
        p = self.where(state, "incidents")
        rows = self._rows(f"SELECT hour(reported_at), count(*) FROM incidents WHERE {p.sql} "
                          "GROUP BY 1", p.params)
        out = np.zeros(24, dtype=np.int64)
        for h, n in rows:
            out[int(h)] = int(n)
        return out

    def density_grid(self, state: FilterState, view: Viewport) -> np.ndarray:
        """Incident counts binned to the viewport's pixels, ``grid[row, col]``, row 0 south."""
        p = self.where(state, "incidents")
        w, h = int(view.width), int(view.height)
        params = {**p.params, "x0": view.x0, "y0": view.y0, "x1": view.x1, "y1": view.y1,
                  "cw": (view.x1 - view.x0) / w, "ch": (view.y1 - view.y0) / h, "w": w,
                  "h": h}
        # DuckDB filters and computes each row's pixel; numpy counts them. A GROUP BY
        # over up to two million pixels is twice as slow as fetching the keys.
        res = self.con.execute(
            f"""SELECT (least(CAST(floor((mx - $x0) / $cw) AS INTEGER), $w - 1)
                     + $w * least(CAST(floor((my - $y0) / $ch) AS INTEGER), $h - 1))::INTEGER
                       AS k
                FROM incidents
                WHERE {p.sql} AND mx >= $x0 AND mx < $x1 AND my >= $y0 AND my < $y1""",
            params).fetchnumpy()
        keys = np.asarray(res["k"], dtype=np.int64)
        return np.bincount(keys, minlength=w * h).astype(np.uint32).reshape(h, w)

    def year_over_year(self, state: FilterState, month: tuple[int, int] | None = None
                       ) -> YearOverYear:
        """A month against the same month a year earlier (area and category filters apply)."""
        year, mon = month or last_full_month(self.as_of(state))
        p = self.where(state, "incidents", window=False)
        counts = []
        for y in (year, year - 1):
            start, stop = month_bounds(y, mon)
            counts.append(self._scalar(
                f"SELECT count(*) FROM incidents WHERE {p.sql} "
                "AND reported_at >= $m_start AND reported_at < $m_stop",
                {**p.params, "m_start": day_start(start), "m_stop": day_start(stop)}))
        return YearOverYear(f"{year:04d}-{mon:02d}", counts[0], counts[1])

    def top_areas(self, state: FilterState, n: int = 10) -> list[dict]:
        idx, counts = self.incidents_by_area(state)
        areas = self.extract.areas
        order = sorted(range(len(idx)), key=lambda i: (-counts[i], areas.ids[idx[i]]))[:n]
        return [{"area_id": areas.ids[idx[i]], "name": areas.names[idx[i]],
                 "count": int(counts[i])} for i in order]

    # ------------------------------------------------------------- resources
    def resources_by_kind(self, state: FilterState) -> dict[str, int]:
        p = self.where(state, "resources")
        return code_counts(self._rows(
            f"SELECT kind, count(*) FROM resources WHERE {p.sql} GROUP BY 1", p.params),
            RESOURCE_KINDS)

    def available_resources(self, state: FilterState) -> int:
        p = self.where(state, "resources")
        return self._scalar(f"SELECT count(*) FROM resources WHERE {p.sql} AND available",
                            p.params)

    # ------------------------------------------------------------- hazards
    def hazard_states(self, state: FilterState) -> dict[str, dict[str, int]]:
        """Counts by (risk level, derived state) plus the overdue count per risk level."""
        p = self.where(state, "hazards", alias="h")
        as_of = self.as_of(state)
        sql, params = hazard_state_sql(p, as_of)
        rows = self._rows(
            f"SELECT risk_level, state, count(*), count(*) FILTER (WHERE deadline < $hs_asof "
            f"AND state NOT IN ('rectified', 'verified')) FROM ({sql}) GROUP BY 1, 2",
            {**params, "hs_asof": as_of})
        out: dict[str, dict[str, int]] = {}
        for level, st, n, overdue in rows:
            d = out.setdefault(str(level), {s: 0 for s in HAZARD_STATES} | {"overdue": 0})
            d[str(st)] += int(n)
            d["overdue"] += int(overdue)
        return out

    # ------------------------------------------------------------- disputes
    def disputes_by(self, state: FilterState, column: str) -> dict[str, int]:
        keys = {"status": DISPUTE_STATUSES, "level": DISPUTE_LEVELS}[column]
        p = self.where(state, "disputes")
        return code_counts(self._rows(
            f"SELECT {column}, count(*) FROM disputes WHERE {p.sql} GROUP BY 1", p.params), keys)

    # ------------------------------------------------------------- map points
    def _points(self, sql: str, params: dict) -> dict[str, np.ndarray]:
        res = self.con.execute(sql, params).fetchnumpy()
        return {k: np.ma.filled(v, None) if np.ma.isMaskedArray(v) and v.dtype == object
                else np.asarray(v) for k, v in res.items()}

    def incident_points(self, state: FilterState, view: Viewport | None = None,
                        limit: int = 20_000) -> dict[str, np.ndarray]:
        """Located incidents (in ``view``): mx, my, category, incident_id; newest first.

        At most ``limit`` rows; the caller shows a density raster above that.
        """
        p = self.where(state, "incidents")
        sql = (f"SELECT mx, my, category, incident_id FROM incidents WHERE {p.sql} "
               "AND mx IS NOT NULL")
        params = dict(p.params)
        if view is not None:
            sql += " AND mx >= $x0 AND mx < $x1 AND my >= $y0 AND my < $y1"
            params |= {"x0": view.x0, "x1": view.x1, "y0": view.y0, "y1": view.y1}
        return self._points(sql + f" ORDER BY reported_at DESC LIMIT {int(limit)}", params)

    def resource_points(self, state: FilterState) -> dict[str, np.ndarray]:
        """Resources with a location: mx, my, lon, lat, kind, available, resource_id, name."""
        p = self.where(state, "resources")
        return self._points(
            f"SELECT mx, my, lon, lat, kind, coalesce(available, TRUE) AS available, "
            f"resource_id, name FROM resources WHERE {p.sql} AND mx IS NOT NULL "
            "ORDER BY resource_id", p.params)

    def hazard_points(self, state: FilterState) -> dict[str, np.ndarray]:
        """Hazards with their derived state: mx, my, lon, lat, category, risk_level, state,
        overdue, hazard_id, name."""
        p = self.where(state, "hazards", alias="h")
        as_of = self.as_of(state)
        sql, params = hazard_state_sql(p, as_of)
        return self._points(
            f"SELECT mx, my, lon, lat, category, risk_level, state, "
            f"coalesce(deadline < $hs_asof AND state NOT IN ('rectified', 'verified'), FALSE) "
            f"AS overdue, hazard_id, name FROM ({sql}) WHERE mx IS NOT NULL ORDER BY hazard_id",
            {**params, "hs_asof": as_of})
