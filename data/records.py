"""The records behind a figure (穿透到明细): the rows a count was made of, paged and sorted.

Every kind of figure that can be opened has one function here, and each returns the
``Selection`` that the figure itself counts, built by the figure's own builder (the
same FROM, the same WHERE, the same parameters). So the list's count is the figure by
construction; ``tests/test_records.py`` also holds both against pandas.

| figure                                    | records                                     |
|-------------------------------------------|---------------------------------------------|
| KPI today / week / month to date          | ``change.period_incidents``                 |
| KPI hazards in progress                   | hazards in ``ACTIVE_STATES``                |
| KPI overdue, the overdue list             | hazards with ``overdue`` (``OVERDUE_SQL``)  |
| KPI major-hazard rate                     | major hazards (the rate's denominator)      |
| KPI mediation success rate                | finished disputes (the rate's denominator)  |
| KPI available forces                      | ``Query.available``                         |
| a category bar, an hour bar               | ``Query.by_category`` / ``by_hour`` member  |
| an area (map, tree), a hot-village row    | ``Query.in_area`` (the area roll-up)        |
| a density-raster cell                     | ``Query.density_cells`` member              |
| a Gi* hot-spot grid cell                  | ``hotspots.grid_cells`` member              |
| rectification funnel stage                | hazards in the stage's states               |
| mediation funnel stage                    | ``mediation.funnel_stage``                  |

A page is a LIMIT/OFFSET query ordered by one column (then the source row), so the
window never holds more rows than it shows; the export streams them in batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from .analysis.change import period_incidents
from .analysis.hotspots import grid_cells, grid_for
from .analysis.mediation import FINISHED, funnel_stage
from .analysis.rectification import DONE_STATES
from .filters import FilterState
from .queries import DAYS_OVERDUE_SQL, Query, Selection, Viewport

__all__ = ["COLUMNS", "DEFAULT_SORT", "Column", "Page", "area_incidents",
           "available_forces", "category_incidents", "density_incidents", "fetch_page",
           "finished_disputes", "funnel_hazards", "hazards_in_states", "hotspot_cell_incidents",
           "hour_incidents", "iter_pages", "major_hazards", "mediation_stage",
           "overdue_hazards", "period_incidents", "record_count"]

RECT_STAGES = (("open", "rectifying", "rectified", "verified"), DONE_STATES, ("verified",))
"""The states of the rectification funnel's stages: found, rectified, verified by 回头看."""


# --------------------------------------------------------------------------- figures
def category_incidents(q: Query, state: FilterState, code: str) -> Selection:
    return q.by_category(state).member(code)


def hour_incidents(q: Query, state: FilterState, hour: int) -> Selection:
    return q.by_hour(state).member(int(hour))


def area_incidents(q: Query, state: FilterState, area_id: str,
                   level: str | None = None) -> Selection:
    """The incidents of one area's count in ``incidents_by_area(state, level)`` (default
    level: the area's own, so a town adds up its villages)."""
    idx = q.extract.areas.idx_of(area_id)
    if idx is None:
        raise ValueError(f"unknown area: {area_id}")
    return q.in_area(state, idx, level or q.extract.areas.levels[idx])


def density_incidents(q: Query, state: FilterState, view: Viewport, cell: int) -> Selection:
    """One pixel of ``density_grid(state, view)`` (``row * width + col``, row 0 south)."""
    return q.density_cells(state, view).member(int(cell))


def hotspot_cell_incidents(q: Query, state: FilterState, cell: int,
                           cell_m: float | None = None) -> Selection:
    """One cell of ``grid_hotspots(q, state, cell_m)`` (flat index ``row * nx + col``)."""
    return grid_cells(q, state, grid_for(q, state, cell_m)).member(int(cell))


def hazards_in_states(q: Query, state: FilterState, states: tuple[str, ...]) -> Selection:
    return q.hazards(state).and_("list_contains($rec_states, state)", rec_states=list(states))


def overdue_hazards(q: Query, state: FilterState) -> Selection:
    return q.hazards(state).and_("overdue")


def major_hazards(q: Query, state: FilterState) -> Selection:
    return q.hazards(state).and_("risk_level = 'major'")


def funnel_hazards(q: Query, state: FilterState, stage: int) -> Selection:
    return hazards_in_states(q, state, RECT_STAGES[stage])


def finished_disputes(q: Query, state: FilterState) -> Selection:
    """The denominator of the success rate: resolved, failed or referred."""
    return q.disputes(state).and_("list_contains($rec_finished, status)",
                                  rec_finished=list(FINISHED))


def mediation_stage(q: Query, state: FilterState, level: str) -> Selection:
    return funnel_stage(q, state, level)


def available_forces(q: Query, state: FilterState) -> Selection:
    return q.available(state)


# --------------------------------------------------------------------------- columns
@dataclass(frozen=True)
class Column:
    """One column of a records list: its SQL over the selection's source and its kind.

    Kinds: ``id``, ``time``, ``date``, ``text`` (free text: phones in it are masked),
    ``code:<group>`` (a code of the catalogue), ``area`` (an area index), ``int``,
    ``bool``, ``person`` (a name, masked for person kinds), ``phone``, ``coord``.
    """

    key: str
    sql: str
    kind: str
    shown: bool = True


_WHERE = (Column("area_idx", "area_idx", "area"), Column("lon", "lon", "coord", False),
          Column("lat", "lat", "coord", False))
COLUMNS: dict[str, tuple[Column, ...]] = {
    "incidents": (Column("incident_id", "incident_id", "id"),
                  Column("reported_at", "reported_at", "time"),
                  Column("category", "category", "code:incident_category"),
                  Column("subcategory", "subcategory", "text"),
                  Column("address", "address", "text"), *_WHERE[:1],
                  Column("status", "status", "code:incident_status"), *_WHERE[1:]),
    "hazards": (Column("hazard_id", "hazard_id", "id"), Column("name", "name", "text"),
                Column("hazard_category", "category", "code:hazard_category"),
                Column("risk_level", "risk_level", "code:risk_level"),
                Column("state", "state", "code:hazard_state"),
                Column("deadline", "deadline", "date"),
                Column("days_overdue", DAYS_OVERDUE_SQL, "int"),
                Column("responsible_unit", "responsible_unit", "text"), *_WHERE),
    "disputes": (Column("dispute_id", "dispute_id", "id"),
                 Column("received_at", "received_at", "time"),
                 Column("dispute_category", "category", "code:dispute_category"),
                 Column("level", "level", "code:dispute_level"),
                 Column("dispute_status", "status", "code:dispute_status"),
                 Column("mediator_kind", "mediator_kind", "code:mediator_kind"),
                 Column("resolved_at", "resolved_at", "time"), *_WHERE),
    "resources": (Column("resource_id", "resource_id", "id"),
                  Column("kind", "kind", "code:resource_kind"),
                  Column("name", "name", "person"), Column("phone", "phone", "phone"),
                  Column("headcount", "headcount", "int"),
                  Column("available", "available", "bool"), *_WHERE),
}
ID_COLUMN = {"incidents": "incident_id", "hazards": "hazard_id", "disputes": "dispute_id",
             "resources": "resource_id"}
DEFAULT_SORT: dict[str, tuple[str, bool]] = {
    "incidents": ("reported_at", True), "hazards": ("days_overdue", True),
    "disputes": ("received_at", True), "resources": ("kind", False)}
"""Per table: (column key, descending) of a list not yet sorted by the user."""


@dataclass(frozen=True)
class Page:
    """Rows ``offset`` … ``offset + len - 1`` of a sorted list, as columns of raw values."""

    offset: int
    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))


def _column(table: str, key: str) -> Column:
    for c in COLUMNS[table]:
        if c.key == key:
            return c
    raise ValueError(f"no column {key!r} in the {table} records")


def _ordered(sel: Selection, sort: str | None, descending: bool) -> str:
    key, desc = (sort, descending) if sort else DEFAULT_SORT[sel.table]
    col = _column(sel.table, key)
    direction = "DESC" if desc else "ASC"
    # the source row breaks ties: pages of one order never overlap or skip a row
    return (sel.sql(", ".join(f"{c.sql} AS {c.key}" for c in COLUMNS[sel.table]))
            + f" ORDER BY {col.sql} {direction} NULLS LAST, _row {direction}")


def record_count(con: duckdb.DuckDBPyConnection, sel: Selection) -> int:
    rows = con.execute(sel.sql("count(*)"), sel.params).fetchall()
    return int(rows[0][0]) if rows else 0


def fetch_page(con: duckdb.DuckDBPyConnection, sel: Selection, offset: int, limit: int,
               sort: str | None = None, descending: bool = False) -> Page:
    """Rows ``offset`` to ``offset + limit`` of ``sel`` in the order of ``sort``."""
    res = con.execute(f"{_ordered(sel, sort, descending)} LIMIT $rec_limit OFFSET $rec_offset",
                      {**sel.params, "rec_limit": int(limit), "rec_offset": int(offset)})
    names = [d[0] for d in res.description]
    rows = res.fetchall()
    return Page(int(offset), {n: [r[i] for r in rows] for i, n in enumerate(names)})


def iter_pages(con: duckdb.DuckDBPyConnection, sel: Selection, sort: str | None = None,
               descending: bool = False, batch: int = 20_000,
               limit: int | None = None) -> Iterator[Page]:
    """Every row of ``sel`` in order, ``batch`` rows at a time (an export of 1M rows)."""
    sql = _ordered(sel, sort, descending)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    reader = con.sql(sql, params=sel.params).to_arrow_reader(batch)
    offset = 0
    for rb in reader:
        cols = {name: rb.column(i).to_pylist() for i, name in enumerate(rb.schema.names)}
        page = Page(offset, cols)
        offset += len(page)
        if len(page):
            yield page
