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

from . import agg_counts
from .aggregated import zooms
from .extract import Extract
from .filters import FilterState, Predicate, compile_filter, day_start, window_span
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
class Selection:
    """The rows of one table behind a figure: a FROM clause and a WHERE predicate.

    A figure counts its selection (or groups it, ``Grouping``); the records panel lists
    the same selection (``data.records``), so the list and the figure cannot disagree.
    ``table`` says what a row is (incidents, hazards, disputes, resources).
    """

    table: str
    source: str
    where: Predicate

    def and_(self, sql: str, **params: object) -> Selection:
        return Selection(self.table, self.source, self.where.and_(sql, **params))

    def sql(self, columns: str) -> str:
        return f"SELECT {columns} FROM {self.source} WHERE {self.where.sql}"

    @property
    def params(self) -> dict:
        return self.where.params


@dataclass(frozen=True)
class Grouping:
    """A figure that counts a selection per key: the bars of a chart, the cells of a grid.

    ``key`` is the SQL expression of a row's key; ``member(k)`` is the selection behind
    the bar or cell ``k``.
    """

    selection: Selection
    key: str

    def counts_sql(self) -> str:
        return (f"SELECT {self.key} AS k, count(*)::BIGINT AS n FROM {self.selection.source} "
                f"WHERE {self.selection.where.sql} GROUP BY 1")

    def keys_sql(self) -> str:
        """Every selected row's key (for figures that count in numpy)."""
        return self.selection.sql(f"{self.key} AS k")

    def member(self, value: object) -> Selection:
        return self.selection.and_(f"{self.key} = $grp_key", grp_key=value)


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


OVERDUE_SQL = ("coalesce(deadline < $hs_asof AND state NOT IN ('rectified', 'verified'), "
               "FALSE)")
"""A hazard is overdue: not rectified or verified, and its deadline before the as-of day
(no deadline: never). Over the rows of ``hazard_state_sql``; every figure uses this."""
DAYS_OVERDUE_SQL = "CASE WHEN overdue THEN date_diff('day', deadline, $hs_asof) END"
"""Whole days an overdue hazard is past its deadline (NULL unless overdue)."""
LOCATED_SQL = "area_idx IS NOT NULL"
"""Rows counted against an area (point in polygon, else their area_id)."""
HOUR_KEY = "hour(reported_at)"
POINTS_IN_PLACE = 20_000
"""In place, incidents are read as rows for symbols only when the tiles hold at most this
many in view (an upper bound; the scene's own limit decides after reading)."""
ROWS_IN_PLACE = 5_000_000
"""... and when the time window holds at most this many incidents: the rows of a view
are found by reading the window's months whole (about a second per 10M on two cores)."""


def hazards_source(pred: Predicate, as_of: date) -> tuple[str, dict]:
    """FROM clause of the hazards under ``pred`` with their ``state`` and ``overdue``
    (``$hs_asof`` is the as-of day: ``DAYS_OVERDUE_SQL`` reads it too)."""
    sql, params = hazard_state_sql(pred, as_of)
    source = f"(SELECT s.*, {OVERDUE_SQL} AS overdue FROM ({sql}) s) AS hz"
    return source, {**params, "hs_asof": as_of}


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
        p = compile_filter(state, table, self.extract.areas, self.as_of(state), alias, window)
        if table == "incidents" and self.extract.aggregated:
            # rows read in place: the window opens only the folders of its months
            sql, params = agg_counts.partition_predicate(
                *window_span(state, self.as_of(state), window))
            p = p.and_(sql.replace("year", f"{alias}.year").replace("month", f"{alias}.month")
                       if alias else sql, **params)
        return p

    def aggregates(self, state: FilterState) -> bool:
        """Whether the incident figures of ``state`` come from the aggregate tables."""
        return self.extract.aggregated and agg_counts.answers(state)

    def grid_zooms(self) -> tuple[int, ...]:
        return zooms(self.extract.meta) if self.extract.aggregated else ()

    def density_min_cell(self, view: Viewport) -> float:
        """The finest density cell this extract can draw in ``view`` (Mercator m; 0: any):
        read in place, the tiles of the zoom the view reads."""
        return agg_counts.finest_cell_m(self.grid_zooms(), view.x1 - view.x0)

    def points_affordable(self, state: FilterState, view: Viewport) -> bool:
        """Whether the incidents in ``view`` may be read as rows to draw them as symbols:
        always from the cache; in place, only when the tiles say few enough are there."""
        if not self.extract.aggregated:
            return True
        counted = state.without("incident_statuses")
        if self.incident_count(counted) > ROWS_IN_PLACE:  # the cheaper test first
            return False
        near = agg_counts.in_view(self, counted, view, self.grid_zooms())
        return near is None or near <= POINTS_IN_PLACE

    def _rows(self, sql: str, params: dict) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def _scalar(self, sql: str, params: dict) -> int:
        rows = self.con.execute(sql, params).fetchall()
        return int(rows[0][0] or 0) if rows else 0

    def count(self, sel: Selection) -> int:
        """How many rows ``sel`` holds (what a records list behind a figure counts)."""
        return self._scalar(sel.sql("count(*)"), sel.params)

    # ------------------------------------------------------------- selections
    def incidents(self, state: FilterState) -> Selection:
        return Selection("incidents", "incidents", self.where(state, "incidents"))

    def hazards(self, state: FilterState) -> Selection:
        """Hazards with their derived ``state`` and ``overdue``."""
        source, params = hazards_source(self.where(state, "hazards", alias="h"),
                                        self.as_of(state))
        return Selection("hazards", source, Predicate("TRUE", params))

    def disputes(self, state: FilterState) -> Selection:
        return Selection("disputes", "disputes", self.where(state, "disputes"))

    def resources(self, state: FilterState) -> Selection:
        return Selection("resources", "resources", self.where(state, "resources"))

    def available(self, state: FilterState) -> Selection:
        """The available forces (the KPI tile and ``resources.available``)."""
        return self.resources(state).and_("available")

    def by_category(self, state: FilterState) -> Grouping:
        return Grouping(self.incidents(state), "category")

    def by_hour(self, state: FilterState) -> Grouping:
        return Grouping(self.incidents(state), HOUR_KEY)

    def located(self, state: FilterState) -> Selection:
        return self.incidents(state).and_(LOCATED_SQL)

    def area_members(self, area_idx: int, level: str | None) -> np.ndarray:
        """The finest areas whose counts ``incidents_by_area(..., level)`` adds to
        ``area_idx`` (itself alone without ``level``)."""
        if level is None:
            return np.asarray([area_idx], dtype=np.int64)
        return np.flatnonzero(self.extract.areas.ancestor_at(level) == area_idx)

    def in_area(self, state: FilterState, area_idx: int, level: str | None) -> Selection:
        """The incidents behind one area's count in ``incidents_by_area(state, level)``."""
        members = [int(i) for i in self.area_members(area_idx, level)]
        return self.located(state).and_("list_contains($area_members, area_idx)",
                                        area_members=members)

    def density_cells(self, state: FilterState, view: Viewport) -> Grouping:
        """Incidents keyed by the viewport pixel they fall in (``row * width + col``)."""
        w, h = int(view.width), int(view.height)
        z = agg_counts.density_zoom(self.grid_zooms(), view) if (
            self.aggregates(state) and agg_counts.cell_source(state) and not state.areas
        ) else None
        if z is not None:  # the raster is drawn from tiles: a pixel holds tile centres
            key, cond, params = agg_counts.tile_pixel_key(view, z)
            return Grouping(self.incidents(state).and_(cond, **params), key)
        sel = self.incidents(state).and_(
            "mx >= $x0 AND mx < $x1 AND my >= $y0 AND my < $y1",
            x0=view.x0, y0=view.y0, x1=view.x1, y1=view.y1,
            cw=(view.x1 - view.x0) / w, ch=(view.y1 - view.y0) / h, w=w, h=h)
        key = ("(least(CAST(floor((mx - $x0) / $cw) AS INTEGER), $w - 1)"
               " + $w * least(CAST(floor((my - $y0) / $ch) AS INTEGER), $h - 1))::INTEGER")
        return Grouping(sel, key)

    # ------------------------------------------------------------- incidents
    def incident_count(self, state: FilterState) -> int:
        if self.aggregates(state) and (n := agg_counts.count(self, state)) is not None:
            return n
        return self.count(self.incidents(state))

    def unlocated_count(self, state: FilterState) -> int:
        if self.aggregates(state) and (
                n := agg_counts.count(self, state, "area_idx IS NULL")) is not None:
            return n
        return self.count(self.incidents(state).and_("area_idx IS NULL"))

    def incidents_by_category(self, state: FilterState) -> dict[str, int]:
        if self.aggregates(state) and (rows := agg_counts.by_category(self, state)) is not None:
            return code_counts(rows, INCIDENT_CATEGORIES)
        g = self.by_category(state)
        return code_counts(self._rows(g.counts_sql(), g.selection.params), INCIDENT_CATEGORIES)

    def incidents_by_area(self, state: FilterState,
                          level: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(area indices, counts); ``level`` rolls the counts up (e.g. to towns)."""
        res = agg_counts.by_area(self, state) if self.aggregates(state) else None
        if res is None:
            g = Grouping(self.located(state), "area_idx")
            res = self.con.execute(f"{g.counts_sql()} ORDER BY 1",
                                   g.selection.params).fetchnumpy()
        idx = np.asarray(res["k"], dtype=np.int64)
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
        res = agg_counts.by_day(self, state) if self.aggregates(state) else None
        if res is not None:
            res = {"d": res["k"], "n": res["n"]}
        else:
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
        if self.aggregates(state) and (out := agg_counts.by_hour(self, state)) is not None:
            return out
        g = self.by_hour(state)
        rows = self._rows(g.counts_sql(), g.selection.params)
        out = np.zeros(24, dtype=np.int64)
        for h, n in rows:
            out[int(h)] = int(n)
        return out

    def density_grid(self, state: FilterState, view: Viewport) -> np.ndarray:
        """Incident counts binned to the viewport's pixels, ``grid[row, col]``, row 0 south.

        In place (``Extract.aggregated``) from the grid tiles: each tile's count in the
        pixel of its centre, pixels no finer than the finest tile (``density_min_cell``).
        """
        if self.aggregates(state) and (grid := agg_counts.density_grid(
                self, state, view, self.grid_zooms())) is not None:
            return grid
        g = self.density_cells(state, view)
        w, h = int(view.width), int(view.height)
        # DuckDB filters and computes each row's pixel; numpy counts them. A GROUP BY
        # over up to two million pixels is twice as slow as fetching the keys.
        res = self.con.execute(g.keys_sql(), g.selection.params).fetchnumpy()
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
            if self.aggregates(state) and (n := agg_counts.between(
                    self, state, day_start(start), day_start(stop))) is not None:
                counts.append(n)
                continue
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
        return self.count(self.available(state))

    # ------------------------------------------------------------- hazards
    def hazard_states(self, state: FilterState) -> dict[str, dict[str, int]]:
        """Counts by (risk level, derived state) plus the overdue count per risk level."""
        sel = self.hazards(state)
        rows = self._rows(sel.sql("risk_level, state, count(*), count(*) FILTER (WHERE overdue)")
                          + " GROUP BY 1, 2", sel.params)
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
            if self.extract.aggregated:  # on lon/lat too: Parquet statistics skip files
                sql, params = agg_counts.lonlat_box(sql, params, view)
        return self._points(sql + f" ORDER BY reported_at DESC LIMIT {int(limit)}", params)

    def resource_points(self, state: FilterState) -> dict[str, np.ndarray]:
        """Resources with a location: mx, my, lon, lat, kind, available, resource_id, name."""
        p = self.where(state, "resources")
        return self._points(
            f"SELECT mx, my, lon, lat, kind, coalesce(available, TRUE) AS available, "
            f"resource_id, name FROM resources WHERE {p.sql} AND mx IS NOT NULL "
            "ORDER BY resource_id", p.params)

    def hazard_places(self, hazard_ids: list[str]) -> dict[str, tuple[float, float]]:
        """lon/lat of the named hazards that have a place (a register lookup: no state is
        derived, so a ten-row table does not read a province's 900k hazards' events)."""
        if not hazard_ids:
            return {}
        rows = self.con.execute(
            "SELECT hazard_id, lon, lat FROM hazards WHERE mx IS NOT NULL "
            "AND hazard_id IN (SELECT unnest($ids))", {"ids": list(hazard_ids)}).fetchall()
        return {str(h): (float(lon), float(lat)) for h, lon, lat in rows}

    def hazard_points(self, state: FilterState, hazard_id: str | None = None
                      ) -> dict[str, np.ndarray]:
        """Hazards with their derived state: mx, my, lon, lat, category, risk_level, state,
        overdue, hazard_id, name (of ``hazard_id`` alone when given)."""
        sel = self.hazards(state).and_("mx IS NOT NULL")
        if hazard_id is not None:
            sel = sel.and_("hazard_id = $one_hazard", one_hazard=hazard_id)
        return self._points(sel.sql("mx, my, lon, lat, category, risk_level, state, overdue, "
                                    "hazard_id, name") + " ORDER BY hazard_id", sel.params)
