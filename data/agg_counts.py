"""Incident counts from the aggregate tables of an extract opened in place
(``data.aggregated``): the same figures as ``Query`` counts from rows, for any filter the
aggregates can answer.

They answer the time window (whole hours: ``reported_at`` there is the start of the
hour), the categories and the areas, because ``agg_area`` counts each incident against
the same single area as a row's ``area_idx``: ``compile_filter``'s SQL runs on them
unchanged with ``count(*)`` read as ``sum(n)``. They cannot answer an incident status:
``answers`` says so and ``Query`` counts rows instead.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np

from .filters import FilterState, Predicate, compile_filter

HALF = math.pi * 6378137.0
"""Half the Web-Mercator world in metres (the tiles of ``agg_cell``)."""


def answers(state: FilterState) -> bool:
    """Whether the aggregates may give incident figures of ``state`` at all (each
    figure still returns None when its table cannot, and ``Query`` counts rows)."""
    return not state.incident_statuses


def predicate(q, state: FilterState, window: bool = True) -> Predicate:
    """The row filter of ``state`` (no partition pruning: it runs on the aggregates)."""
    return compile_filter(state, "incidents", q.extract.areas, q.as_of(state), window=window)


# (table, has hours, has categories, has areas), smallest first
TABLES = (("agg_all", True, True, False), ("day_area", False, False, True))


def source(state: FilterState, located: bool = False, hours: bool = False,
           categories: bool = False) -> str | None:
    """The smallest aggregate table that answers ``state`` grouped by hour or category
    (``hours``, ``categories``) or restricted to located incidents (``located``); None
    when none does."""
    hours = hours or state.has_hours()
    categories = categories or bool(state.incident_categories)
    areas = located or bool(state.areas)
    return next((name for name, h, c, a in TABLES
                 if (h or not hours) and (c or not categories) and (a or not areas)), None)


def cell_source(state: FilterState) -> str | None:
    return None if state.has_hours() or state.incident_categories else "day_cell"


def _scalar(q, sql: str, params: dict) -> int:
    rows = q.con.execute(sql, params).fetchall()
    return int(rows[0][0] or 0) if rows else 0


def count(q, state: FilterState, extra: str = "") -> int | None:
    table = source(state, located="area_idx" in extra)
    if table is None:
        return None
    p = predicate(q, state)
    where = p.sql + (f" AND ({extra})" if extra else "")
    return _scalar(q, f"SELECT sum(n) FROM {table} WHERE {where}", p.params)


def grouped(q, state: FilterState, key: str, located: bool = False, hours: bool = False,
            categories: bool = False) -> dict[str, np.ndarray] | None:
    """``key`` → incidents, over the rows of ``state`` (located ones only: ``located``)."""
    table = source(state, located, hours, categories)
    if table is None:
        return None
    p = predicate(q, state)
    where = p.sql + (" AND area_idx IS NOT NULL" if located else "")
    return q.con.execute(
        f"SELECT {key} AS k, sum(n)::BIGINT AS n FROM {table} "
        f"WHERE {where} GROUP BY 1 ORDER BY 1", p.params).fetchnumpy()


def by_category(q, state: FilterState) -> list[tuple] | None:
    res = grouped(q, state, "category", categories=True)
    return None if res is None else list(zip(res["k"].tolist(), res["n"].tolist(),
                                             strict=True))


def by_hour(q, state: FilterState) -> np.ndarray | None:
    res = grouped(q, state, "hour(reported_at)", hours=True)
    if res is None:
        return None
    out = np.zeros(24, dtype=np.int64)
    out[np.asarray(res["k"], np.int64)] = np.asarray(res["n"], np.int64)
    return out


def by_day(q, state: FilterState) -> dict[str, np.ndarray] | None:
    return grouped(q, state, "CAST(reported_at AS DATE)")


def by_area(q, state: FilterState) -> dict[str, np.ndarray] | None:
    return grouped(q, state, "area_idx", located=True)


def between(q, state: FilterState, start: datetime, stop: datetime) -> int | None:
    """Incidents of ``state`` (its window ignored) reported in [start, stop), both
    midnights (``year_over_year``'s months)."""
    table = source(state)
    if table is None:
        return None
    p = predicate(q, state, window=False)
    return _scalar(q, f"SELECT sum(n) FROM {table} WHERE {p.sql} "
                   "AND reported_at >= $m_start AND reported_at < $m_stop",
                   {**p.params, "m_start": start, "m_stop": stop})


POINT_ROWS = 2_000_000
"""Read in place, an analysis that needs every incident's point (repeat places,
near-repeat, alerts per place, emerging hot spots) runs only when the filter holds at
most this many incidents: beyond, it would scan the rows for minutes on the GUI path."""


def refused_rows(q, state: FilterState) -> int | None:
    """The incidents of ``state`` when there are too many to analyse point by point in
    place (``POINT_ROWS``), else None (also for an extract whose rows are in the cache)."""
    if not q.extract.aggregated:
        return None
    n = q.incident_count(state)
    return n if n > POINT_ROWS else None


GRID_ROWS = 250_000
"""Read in place, Gi* on the grid counts rows (nice cell sizes, as from the cache) up to
this many incidents under the filter, and the Web-Mercator tiles beyond (counting the
rows of a month in place takes most of a second on two cores: too slow for the map)."""


def grid_on_tiles(q, state: FilterState) -> bool:
    """Whether Gi* on the grid runs on the tiles for ``state`` (see ``GRID_ROWS``)."""
    return bool(q.extract.aggregated and answers(state)
                and cell_source(state) is not None and q.incident_count(state) > GRID_ROWS)


def refusal(n: int) -> dict:
    """What ``report --json`` says instead of an analysis that needs every point."""
    return {"computed": False, "reason": "too_many_incidents", "incidents": n,
            "limit": POINT_ROWS}


# --------------------------------------------------------------------------- cells
def cell_m(zoom: int) -> float:
    """Width of a tile of ``zoom`` in Web-Mercator metres."""
    return 2.0 * HALF / (1 << zoom)


TILES_ACROSS = 400
"""The map reads a zoom's tiles when at most this many span the view: the finest zoom
over a province holds about a row per incident, too many to sum at each window change."""


def view_zoom(zooms: tuple[int, ...], span_m: float) -> int | None:
    """The finest zoom with at most ``TILES_ACROSS`` tiles across a view ``span_m`` wide
    (the coarsest when none)."""
    if not zooms:
        return None
    fit = [z for z in zooms if span_m / cell_m(z) <= TILES_ACROSS]
    return max(fit) if fit else min(zooms)


def finest_cell_m(zooms: tuple[int, ...], span_m: float) -> float:
    """The smallest density cell a view ``span_m`` wide can show (0: no tiles)."""
    z = view_zoom(zooms, span_m)
    return 0.0 if z is None else cell_m(z)


def pick_zoom(zooms: tuple[int, ...], pixel_m: float) -> int | None:
    """The coarsest zoom whose tiles are no wider than a pixel (each tile then lands in
    one pixel); the finest zoom when every tile is wider."""
    if not zooms:
        return None
    fit = [z for z in zooms if cell_m(z) <= pixel_m * 1.0001]
    return min(fit) if fit else max(zooms)


def density_zoom(zooms: tuple[int, ...], view) -> int | None:
    """The zoom whose tiles ``density_grid`` reads for ``view``."""
    top = view_zoom(zooms, view.x1 - view.x0)
    return pick_zoom(tuple(k for k in zooms if top is not None and k <= top),
                     (view.x1 - view.x0) / int(view.width))


def tile_pixel_key(view, zoom: int) -> tuple[str, str, dict]:
    """(key, condition, params): SQL of the pixel of ``view`` holding the centre of each
    row's tile at ``zoom`` (from its lon/lat, as the job computes tiles), and whether that
    pixel is in the view: the rows behind one pixel of ``density_grid``."""
    r = 6378137.0
    tx = f"floor((radians(lon) * {r} + {HALF}) / $tp_size)"
    ty = (f"floor(({HALF} - ln(tan(pi() / 4 + radians(least(greatest(lat, -85.0511287798066),"
          f" 85.0511287798066)) / 2)) * {r}) / $tp_size)")
    col = f"floor((({tx} + 0.5) * $tp_size - {HALF} - $tp_x0) / $tp_pw)"
    row = f"floor(({HALF} - ({ty} + 0.5) * $tp_size - $tp_y0) / $tp_ph)"
    w, h = int(view.width), int(view.height)
    params = {"tp_size": cell_m(zoom), "tp_x0": view.x0, "tp_y0": view.y0,
              "tp_pw": (view.x1 - view.x0) / w, "tp_ph": (view.y1 - view.y0) / h,
              "tp_w": w, "tp_h": h}
    cond = (f"isfinite(lon) AND isfinite(lat) AND {col} >= 0 AND {col} < $tp_w "
            f"AND {row} >= 0 AND {row} < $tp_h")
    return f"CAST({row} * $tp_w + {col} AS INTEGER)", cond, params


def tile_cell_key(zoom: int, tx0: int, ty0: int, nx: int, ny: int
                  ) -> tuple[str, str, dict]:
    """(key, condition, params): the flat cell (``row * nx + col``, row 0 south) of each
    row's tile in the block of ``tile_counts``: the rows behind one of its cells."""
    r = 6378137.0
    tx = f"floor((radians(lon) * {r} + {HALF}) / $tc_size)"
    ty = (f"floor(({HALF} - ln(tan(pi() / 4 + radians(least(greatest(lat, -85.0511287798066),"
          f" 85.0511287798066)) / 2)) * {r}) / $tc_size)")
    col, row = f"({tx} - $tc_x0)", f"($tc_ny - 1 - ({ty} - $tc_y0))"
    params = {"tc_size": cell_m(zoom), "tc_x0": tx0, "tc_y0": ty0, "tc_nx": nx, "tc_ny": ny}
    cond = (f"isfinite(lon) AND isfinite(lat) AND {col} >= 0 AND {col} < $tc_nx "
            f"AND {row} >= 0 AND {row} < $tc_ny")
    return f"CAST({row} * $tc_nx + {col} AS INTEGER)", cond, params


def density_grid(q, state: FilterState, view, zooms: tuple[int, ...]) -> np.ndarray | None:
    """Incidents per viewport pixel from the tiles: a tile's count goes to the pixel
    holding its centre (``grid[row, col]``, row 0 south, as ``Query.density_grid``).
    Under an area filter the tiles whose centre lies in the areas count whole (a raster
    at tile resolution: a tile across a boundary is in or out as its centre is)."""
    w, h = int(view.width), int(view.height)
    z = density_zoom(zooms, view)
    if z is None or cell_source(state) is None:
        return None
    areas, state = state.areas, state.with_areas(())  # tiles know no areas: see below
    size = cell_m(z)
    # tiles whose centre lies in the view: x from the antimeridian, y from the north edge
    tx0, tx1 = math.floor((view.x0 + HALF) / size - 0.5), math.ceil((view.x1 + HALF) / size)
    ty0, ty1 = math.floor((HALF - view.y1) / size - 0.5), math.ceil((HALF - view.y0) / size)
    p = predicate(q, state)
    res = q.con.execute(
        f"SELECT cell_x, cell_y, sum(n)::BIGINT AS n FROM {cell_source(state)} "
        "WHERE zoom = $z AND "
        f"cell_x BETWEEN $tx0 AND $tx1 AND cell_y BETWEEN $ty0 AND $ty1 AND {p.sql} "
        "GROUP BY 1, 2", {**p.params, "z": z, "tx0": tx0, "tx1": tx1, "ty0": ty0, "ty1": ty1}
    ).fetchnumpy()
    cx = (np.asarray(res["cell_x"], np.float64) + 0.5) * size - HALF
    cy = HALF - (np.asarray(res["cell_y"], np.float64) + 0.5) * size
    n = np.asarray(res["n"], np.int64)
    if areas:  # an area filter keeps the tiles whose centre lies in the areas
        n = np.where(_centres_in(q, areas, cx, cy), n, 0)
    col = np.floor((cx - view.x0) / ((view.x1 - view.x0) / w)).astype(np.int64)
    row = np.floor((cy - view.y0) / ((view.y1 - view.y0) / h)).astype(np.int64)
    ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    grid = np.bincount(row[ok] * w + col[ok], weights=n[ok], minlength=w * h)
    return grid.astype(np.uint32).reshape(h, w)


def lonlat_box(sql: str, params: dict, view) -> tuple[str, dict]:
    """``sql`` also cut to the view's lon/lat box (widened a little: the float32 ``mx``
    decides), which the Parquet reader can test against each file's and row group's
    statistics: files of other counties are then not read."""
    from .coords import mercator_to_lonlat

    lon, lat = mercator_to_lonlat([view.x0, view.x1], [view.y0, view.y1])
    pad = 1e-4
    return (sql + " AND lon >= $bx0 AND lon <= $bx1 AND lat >= $by0 AND lat <= $by1",
            {**params, "bx0": float(lon[0]) - pad, "bx1": float(lon[1]) + pad,
             "by0": float(lat[0]) - pad, "by1": float(lat[1]) + pad})


def _centres_in(q, area_ids: frozenset[str], cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Whether each Mercator point lies in one of the areas (or their descendants)."""
    import shapely

    from .coords import mercator_to_lonlat

    areas = q.extract.areas
    geoms = [areas.geoms[i] for i in areas.resolve(sorted(area_ids))
             if areas.geoms[i] is not None]
    if not geoms or len(cx) == 0:
        return np.zeros(len(cx), bool)
    lon, lat = mercator_to_lonlat(cx, cy)
    return shapely.contains_xy(shapely.union_all(geoms), lon, lat)


def tile_counts(q, state: FilterState, zoom: int, tx0: int, ty0: int, nx: int, ny: int
                ) -> np.ndarray | None:
    """Incidents per tile of ``zoom`` in the block of ``nx`` x ``ny`` tiles whose
    north-west tile is (tx0, ty0), as a (ny, nx) array with row 0 south. An area filter
    is the caller's study area (``Grid.study``: the tiles whose centre lies in the
    areas), the tiles themselves know no area."""
    if cell_source(state) is None:
        return None
    state = state.with_areas(())
    p = predicate(q, state)
    res = q.con.execute(
        f"SELECT cell_x, cell_y, sum(n)::BIGINT AS n FROM {cell_source(state)} "
        "WHERE zoom = $z AND cell_x BETWEEN $tx0 AND $tx1 AND cell_y BETWEEN $ty0 AND $ty1 "
        f"AND {p.sql} GROUP BY 1, 2",
        {**p.params, "z": zoom, "tx0": tx0, "tx1": tx0 + nx - 1, "ty0": ty0,
         "ty1": ty0 + ny - 1}).fetchnumpy()
    out = np.zeros((ny, nx), np.int64)
    ix = np.asarray(res["cell_x"], np.int64) - tx0
    iy = ny - 1 - (np.asarray(res["cell_y"], np.int64) - ty0)
    np.add.at(out, (iy, ix), np.asarray(res["n"], np.int64))
    return out


def in_view(q, state: FilterState, view, zooms: tuple[int, ...]) -> int | None:
    """At most how many located incidents lie in ``view``: the tiles of the finest zoom
    that touch it (an upper bound: a tile on the edge counts whole)."""
    if not zooms or cell_source(state) is None:
        return None
    state = state.with_areas(())  # an upper bound: the tiles know no area
    z = max(zooms)
    size = cell_m(z)
    p = predicate(q, state)
    return _scalar(q, f"SELECT sum(n) FROM {cell_source(state)} WHERE zoom = $z "
                   f"AND cell_x BETWEEN $tx0 AND $tx1 AND cell_y BETWEEN $ty0 AND $ty1 AND {p.sql}",
                   {**p.params, "z": z,
                    "tx0": math.floor((view.x0 + HALF) / size),
                    "tx1": math.floor((view.x1 + HALF) / size),
                    "ty0": math.floor((HALF - view.y1) / size),
                    "ty1": math.floor((HALF - view.y0) / size)})


# --------------------------------------------------------------------------- pruning
def partition_predicate(start: datetime | None, stop: datetime, prefix: str = "pp"
                        ) -> tuple[str, dict]:
    """SQL on the Hive columns ``year``/``month`` keeping the folders that can hold rows
    of [start, stop): DuckDB then opens no file of another month. Written as plain
    comparisons of the columns: DuckDB prunes folders on those, not on arithmetic."""
    last = stop - timedelta(microseconds=1)
    p = prefix
    sql = f"(year < ${p}_y1 OR (year = ${p}_y1 AND month <= ${p}_m1))"
    params: dict[str, object] = {f"{p}_y1": last.year, f"{p}_m1": last.month}
    if start is not None:
        sql += f" AND (year > ${p}_y0 OR (year = ${p}_y0 AND month >= ${p}_m0))"
        params |= {f"{p}_y0": start.year, f"{p}_m0": start.month}
    return sql, params


# --------------------------------------------------------------------------- spans
def _floor(t: datetime, unit: timedelta) -> datetime:
    f = t.replace(minute=0, second=0, microsecond=0)
    return f.replace(hour=0) if unit == timedelta(days=1) else f


def _ceil(t: datetime, unit: timedelta) -> datetime:
    f = _floor(t, unit)
    return f if f == t else f + unit


def span_counts(q, state: FilterState, group: str | None, ranges: tuple
                ) -> list[tuple] | None:
    """What ``data.analysis.change.counts_sql`` counts from rows: per group (``category``,
    ``area_idx`` or None), incidents of ``state`` (its window ignored) in each span
    [start, stop). The whole hours (or days: the area table) of a span come from the
    aggregates; a span edge inside one (the extract time) adds that part from the rows,
    read in place from its month's folder only. None when no table answers."""
    table = source(state.without("start"), located=group == "area_idx",
                   categories=group == "category")
    if table is None:
        return None
    unit = timedelta(hours=1) if dict((t[0], t[1]) for t in TABLES)[table] else timedelta(
        days=1)
    p = predicate(q, state, window=False)
    params = dict(p.params)
    whole = []
    for i, s in enumerate(ranges):
        a, b = _ceil(s.start, unit), _floor(s.stop, unit)
        params[f"c{i}_a"], params[f"c{i}_b"] = a, max(a, b)
        whole.append(f"coalesce(sum(n) FILTER (WHERE reported_at >= $c{i}_a AND "
                     f"reported_at < $c{i}_b), 0)")
    key = f"{group} AS g, " if group else ""
    tail = " GROUP BY 1" if group else ""
    totals: dict[object, list[int]] = {}
    for row in q.con.execute(f"SELECT {key}{', '.join(whole)} FROM {table} "
                             f"WHERE {p.sql}{tail}", params).fetchall():
        g, vals = (row[0], row[1:]) if group else (None, row)
        totals[g] = [int(v) for v in vals]
    # the parts of hours (days) at the span edges, from the rows
    for i, s in enumerate(ranges):
        a, b = _ceil(s.start, unit), _floor(s.stop, unit)
        pieces = [(s.start, min(a, s.stop)), (max(b, s.start), s.stop)] if a <= b else [
            (s.start, s.stop)]
        for lo, hi in pieces:
            if lo >= hi:
                continue
            r = q.where(state, "incidents", window=False)
            part, pp = partition_predicate(lo, hi, "pe")
            sql = (f"SELECT {key}count(*) FROM incidents WHERE {r.sql} AND {part} AND "
                   f"reported_at >= $pe_a AND reported_at < $pe_b{tail}")
            for row in q.con.execute(sql, {**r.params, **pp, "pe_a": lo, "pe_b": hi}
                                     ).fetchall():
                g, n = (row[0], row[1]) if group else (None, row[0])
                totals.setdefault(g, [0] * len(ranges))[i] += int(n)
    if group:
        return [(g, *v) for g, v in totals.items()]
    return [tuple(totals.get(None, [0] * len(ranges)))]
