"""Validate and clean each extract table into the working cache.

For every schema table this reads the producer's rows, types them, decides per
row whether it is usable (the first set-aside reason that applies wins), counts
repairs, and writes the clean table into the cache database.
Rejected rows go to ``_quarantine`` with their reason so they can be shown.
Missing or unreadable tables become empty tables, so the query layer never has
to ask whether a table exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from .areas import AreaSet
from .load_report import OK, LoadReport, TableReport
from .row_stream import BATCH_ROWS, RowStream
from .schema import (
    AREA_LEVELS,
    AREAS,
    TABLES,
    TEXT,
    Column,
    Reason,
    Table,
)
from .sources import Source, SourceTable, quiet, quote_ident, run
from .typing_sql import code, typed

Progress = Callable[[str, float], None]

_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass
class BuildContext:
    con: duckdb.DuckDBPyConnection
    source: Source
    report: LoadReport
    coord_system: str
    areas: AreaSet
    progress: Progress
    span: tuple[float, float] = (0.0, 1.0)
    """The share of the whole build the current table takes (its progress maps into it)."""
    duplicates: str = "latest"
    """Which row of a repeated id is kept: ``latest`` (default) or ``first``; see
    ``_set_aside_duplicates``."""

    def step(self, stage: str, fraction: float) -> None:
        """Progress within the current table (``fraction`` of it done)."""
        a, b = self.span
        self.progress(stage, a + (b - a) * min(1.0, max(0.0, fraction)))


def _missing_required(spec: Table, st: SourceTable) -> list[str]:
    return [c for c in spec.required_columns if c not in st.columns]


def _open_table(ctx: BuildContext, spec: Table) -> tuple[SourceTable | None, TableReport]:
    """The readable source table, or None after recording why it is not used."""
    rep = ctx.report.table(spec.name)
    st = ctx.source.tables.get(spec.name)
    if st is None:
        return None, rep
    if st.broken_files:
        ctx.report.notes.append(
            f"{spec.name}: {len(st.broken_files)} unreadable Parquet file(s) skipped: "
            + ", ".join(st.broken_files[:5])
        )
        rep.adjusted["broken_file_skipped"] = len(st.broken_files)
    if not st.columns:
        rep.status = "set_aside"
        rep.message = "no readable file"
        return None, rep
    try:
        rep.rows = int(ctx.con.execute(f"SELECT count(*) FROM {st.relation}").fetchall()[0][0])
    except duckdb.Error as exc:
        rep.set_aside_whole(f"unreadable: {str(exc).splitlines()[0]}", "unreadable")
        return None, rep
    missing = _missing_required(spec, st)
    if missing:
        rep.set_aside_whole("missing required column(s): " + ", ".join(missing),
                            "missing_columns")
        return None, rep
    rep.status = OK
    return st, rep


# --------------------------------------------------------------------------- areas

def clean_areas(ctx: BuildContext) -> None:
    """Read the areas table into ``ctx.areas`` (geometry work is done in shapely)."""
    st, rep = _open_table(ctx, AREAS)
    if st is None:
        return
    exprs = []
    for name in ("area_id", "name", "level", "parent_id", "geom_wkb", "population"):
        col = AREAS.column(name)
        val, bad = typed(st.column_names.get(name), st.columns.get(name), col.kind)
        exprs += [val, bad]
    try:
        rows = ctx.con.execute(f"SELECT {', '.join(exprs)} FROM {st.relation}").fetchall()
    except duckdb.Error as exc:
        rep.set_aside_whole(f"unreadable: {str(exc).splitlines()[0]}", "unreadable")
        return
    reasons: dict[str, int] = {}
    adjusted: dict[str, int] = {}
    kept: list[tuple[str, str, str, str | None, shapely.Geometry, float]] = []
    seen: set[str] = set()

    def reject(why: str) -> None:
        reasons[why] = reasons.get(why, 0) + 1

    wkbs = [r[8] for r in rows]
    geoms = shapely.from_wkb(np.asarray(wkbs, dtype=object), on_invalid="ignore")
    for r, geom in zip(rows, geoms, strict=True):
        area_id = (r[0] or "").strip()
        level = (r[4] or "").strip().lower()
        if not area_id:
            reject(Reason.MISSING_ID)
            continue
        geom, why = _polygon_or_reason(geom, ctx.coord_system)
        if why is not None and why != Reason.REPAIRED_GEOMETRY:
            reject(why)
            continue
        if level not in AREA_LEVELS:
            reject(Reason.UNKNOWN_LEVEL)
            continue
        if area_id in seen:
            reject(Reason.DUPLICATE_ID)
            continue
        seen.add(area_id)
        if why == Reason.REPAIRED_GEOMETRY:
            adjusted[why] = adjusted.get(why, 0) + 1
        if r[11]:
            key = f"{Reason.BAD_OPTIONAL_VALUE}:population"
            adjusted[key] = adjusted.get(key, 0) + 1
        pop = float(r[10]) if r[10] is not None else np.nan
        kept.append((area_id, r[2] if r[2] is not None else area_id, level, r[6], geom, pop))
    for area_id, name, level, _parent, geom, pop in kept:
        ctx.areas.add(area_id, name, level, geom, pop)
    for i, (_a, _n, _l, parent_id, _g, _p) in enumerate(kept):
        if parent_id is None or not str(parent_id).strip():
            continue
        p = ctx.areas.idx_of(str(parent_id).strip())
        if p is None or p == i:
            adjusted["unknown_parent"] = adjusted.get("unknown_parent", 0) + 1
        else:
            ctx.areas.parent[i] = p
    _break_parent_cycles(ctx.areas, adjusted)
    rep.reasons, rep.adjusted = reasons, {**rep.adjusted, **adjusted}
    rep.quarantined = sum(reasons.values())
    ctx.areas.build_index()


def _polygon_or_reason(geom: shapely.Geometry | None,
                       coord_system: str) -> tuple[shapely.Geometry | None, str | None]:
    from .coords import to_wgs84

    if geom is None or shapely.is_empty(geom):
        return None, Reason.INVALID_GEOMETRY
    repaired = False
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
        repaired = True
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL]
        geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.geom_type not in _POLYGONAL or shapely.is_empty(geom):
        return None, Reason.INVALID_GEOMETRY
    x0, y0, x1, y1 = geom.bounds
    if not (np.isfinite([x0, y0, x1, y1]).all() and x0 >= -180 and x1 <= 180
            and y0 >= -90 and y1 <= 90):
        return None, Reason.COORDINATES_OUT_OF_RANGE
    if coord_system != "wgs84":
        geom = shapely.transform(
            geom, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], coord_system))
        )
    return geom, (Reason.REPAIRED_GEOMETRY if repaired else None)


def _break_parent_cycles(areas: AreaSet, adjusted: dict[str, int]) -> None:
    for start in range(len(areas)):
        seen = {start}
        cur = areas.parent[start]
        while cur >= 0:
            if cur in seen:
                areas.parent[start] = -1
                adjusted["parent_cycle"] = adjusted.get("parent_cycle", 0) + 1
                break
            seen.add(cur)
            cur = areas.parent[cur]


def write_areas(con: duckdb.DuckDBPyConnection, areas: AreaSet) -> None:
    wkb = [None if g is None else shapely.to_wkb(g) for g in areas.geoms]
    table = pa.table({
        "area_idx": pa.array(np.arange(len(areas), dtype=np.int32)),
        "area_id": pa.array(areas.ids, pa.string()),
        "name": pa.array(areas.names, pa.string()),
        "level": pa.array(areas.levels, pa.string()),
        "parent_idx": pa.array(np.asarray(areas.parent, dtype=np.int32)),
        "population": pa.array(np.asarray(areas.population, dtype=np.float64),
                               from_pandas=True),
        "geom_wkb": pa.array(wkb, pa.binary()),
    })
    con.register("_areas_arrow", table)
    run(con, "CREATE OR REPLACE TABLE areas AS SELECT * FROM _areas_arrow ORDER BY area_idx")
    con.unregister("_areas_arrow")


# --------------------------------------------------------------------------- rows

def final_columns(spec: Table) -> list[str]:
    """Columns of the clean table in the cache (same for present and absent tables).

    ``area_id`` keeps what the producer wrote; ``area_idx`` is the area the row
    counts against. ``_adj`` holds the row's repairs as bits (see ``_adjustments``).
    """
    cols = ["_row", *(c.name for c in spec.columns)]
    if spec.point:
        cols += ["mx", "my"]
    if any(c.name == "area_id" for c in spec.columns):
        cols.append("area_idx")
    return [*cols, "_adj"]


def clean_rows(ctx: BuildContext, spec: Table,
               references: tuple[str, str, str] | None = None) -> None:
    """Clean one row table (everything but meta and areas), in one streaming pass.

    DuckDB reads and types the source and decides the reasons SQL can see;
    ``RowStream`` adds coordinates and areas batch by batch and keeps rejected
    rows aside; the clean batches are written straight into the cache table.
    Duplicate ids are found afterwards on the written table, where only the id
    column has to be read. ``references`` = (column, referenced table, reason)
    for event tables whose rows must point at a kept row of another table.
    """
    st, rep = _open_table(ctx, spec)
    ctx.step(f"reading {spec.name}", 0.0)
    if st is None:
        _create_empty(ctx, spec)
        return
    value: dict[str, str] = {}
    bad: dict[str, str] = {}
    for c in spec.columns:
        value[c.name], bad[c.name] = typed(st.column_names.get(c.name), st.columns.get(c.name),
                                           c.kind)
    select, adj = _typed_select(spec, value, bad)
    if spec.point:
        adj.append(Reason.SWAPPED_COORDINATES)
        lon, lat = value["lon"], value["lat"]
        select += [f"coalesce({lon}, 'NaN'::DOUBLE) AS _lon_raw",
                   f"coalesce({lat}, 'NaN'::DOUBLE) AS _lat_raw",
                   f"(({lon}) IS NULL OR ({lat}) IS NULL) AND NOT ({bad['lon']} OR {bad['lat']})"
                   " AS _coord_null",
                   f"({bad['lon']} OR {bad['lat']}) AS _coord_bad"]
    reason = _reason_sql(spec, value, references)
    sql = (f"SELECT {st.row_expr} AS _src_row, {', '.join(select)}, {reason} AS _reason "
           f"FROM {st.relation}")
    total = max(1, rep.rows)
    stream = RowStream(spec, final_columns(spec), ctx.areas, ctx.coord_system,
                       1 << (len(adj) - 1), ctx.report.table("areas").status == OK,
                       on_batch=lambda n: ctx.step(f"writing {spec.name}", 0.1 + 0.7 * n / total))
    writer = quiet(ctx.con.cursor())
    try:
        ctx.step(f"writing {spec.name}", 0.1)
        source = ctx.con.sql(sql).to_arrow_reader(BATCH_ROWS)
        writer.register("_clean", stream.reader(source))
        run(writer, f"CREATE OR REPLACE TABLE main.{spec.name} AS SELECT * FROM _clean")
    except duckdb.Error as exc:
        if stream.error is not None:
            raise stream.error from exc  # our bug, not the extract's: do not hide it
        rep.set_aside_whole(f"unreadable: {str(exc).splitlines()[0]}", "unreadable")
        _create_empty(ctx, spec)
        return
    finally:
        writer.close()
    if stream.stopped is not None:  # cancelled between two batches: the table is partial
        raise stream.stopped
    quarantined = stream.quarantined()
    if quarantined is not None:
        ctx.con.register("_rejected", quarantined)
        run(ctx.con, "INSERT INTO _quarantine SELECT * FROM _rejected")
        ctx.con.unregister("_rejected")
    # No sort by time: at 10M rows it costs as much as the whole write, and the
    # queries are within their targets without it (see bench/bench_foundation.py).
    ctx.step(f"checking {spec.name}", 0.8)
    if spec.id_column:
        _set_aside_duplicates(ctx.con, spec, rep, ctx.duplicates)
    if stream.unknown_area_rows:
        rep.adjusted[Reason.UNKNOWN_AREA] = stream.unknown_area_rows
    _count(ctx.con, spec, rep, adj)


def _typed_select(spec: Table, value: dict[str, str], bad: dict[str, str]
                  ) -> tuple[list[str], list[str]]:
    """SELECT list of the typed columns (with ``_adj``) and the repair keys by bit."""
    select: list[str] = []
    adj: list[tuple[str, str]] = []
    for c in spec.columns:
        if spec.point and c.name in ("lon", "lat"):
            continue  # come from RowStream, checked and converted
        expr = value[c.name]
        if c.codes is not None:
            expr, unknown = code(expr, c.codes)
            adj.append((f"{Reason.UNKNOWN_CODE}:{c.name}", unknown))
        elif not c.required and c.kind != TEXT:
            adj.append((f"{Reason.BAD_OPTIONAL_VALUE}:{c.name}", bad[c.name]))
        if c.name == "available":
            expr = f"coalesce({expr}, TRUE)"  # the schema's default
        select.append(f"{expr} AS {quote_ident(c.name)}")
    adj_sql = " + ".join(f"(CASE WHEN {cond} THEN {1 << k} ELSE 0 END)::BIGINT"
                         for k, (_key, cond) in enumerate(adj)) or "0::BIGINT"
    select.append(f"{adj_sql} AS _adj")
    return select, [key for key, _cond in adj]


def _reason_sql(spec: Table, value: dict[str, str],
                references: tuple[str, str, str] | None) -> str:
    """The first set-aside reason SQL can decide (coordinates are checked later)."""
    whens = []
    if spec.id_column:
        v = value[spec.id_column]
        whens.append(f"WHEN ({v}) IS NULL OR trim({v}) = '' THEN '{Reason.MISSING_ID}'")
    if spec.time_column:
        whens.append(f"WHEN ({value[spec.time_column]}) IS NULL THEN '{Reason.BAD_TIMESTAMP}'")
    if references is not None:
        col, table, why = references
        v = value[col]
        ref_id = TABLES[table].id_column
        whens.append(f"WHEN ({v}) IS NULL OR ({v}) NOT IN "
                     f"(SELECT {ref_id} FROM main.{table}) THEN '{why}'")
    if not whens:
        return "CAST(NULL AS VARCHAR)"
    return "CASE " + " ".join(whens) + " ELSE NULL END"


def _set_aside_duplicates(con: duckdb.DuckDBPyConnection, spec: Table, rep: TableReport,
                          rule: str = "latest") -> None:
    """Keep one row of each id; set the others aside (reason ``duplicate_id``).

    Repeated ids are corrections in later exports, so by default the *latest* version
    wins: the row with the newest ``updated_at`` when the table has that column (rows
    without one count as oldest), else the later row in source order (later file,
    later row). ``rule = "first"`` (meta key ``duplicates``) keeps the first row in
    source order instead. The load report's ``findings["duplicates"]`` gives the rule,
    the rows superseded and, for tables with a ``category``, how many superseded rows
    had another category than the kept one.

    Grouping 64-bit hashes instead of the id strings keeps the aggregation small
    at 10M rows; only ids whose hash repeats are compared exactly.
    """
    ident, table = quote_ident(spec.id_column or ""), spec.name
    names = {c.name for c in spec.columns}
    key = ("(coalesce(updated_at, TIMESTAMP '0001-01-01'), _row)" if "updated_at" in names
           else "_row")
    pick = "arg_min(_row, _row)" if rule == "first" else f"arg_max(_row, {key})"
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE _dups AS
        WITH suspects AS (SELECT hash({ident}) AS h FROM main.{table} GROUP BY 1
                          HAVING count(*) > 1)
        SELECT {ident} AS dup_id, {pick} AS keep_row FROM main.{table}
        WHERE hash({ident}) IN (SELECT h FROM suspects)
        GROUP BY 1 HAVING count(*) > 1""")
    if not con.execute("SELECT count(*) FROM _dups").fetchall()[0][0]:
        return
    changed = "NULL"
    if "category" in names:
        changed = f"""(SELECT count(*) FROM main.{table} t JOIN _dups d ON t.{ident} = d.dup_id
                       AND t._row <> d.keep_row
                       JOIN main.{table} k ON k._row = d.keep_row
                       WHERE t.category IS DISTINCT FROM k.category)"""
    superseded, n_changed = con.execute(f"""
        SELECT (SELECT count(*) FROM main.{table} t JOIN _dups d ON t.{ident} = d.dup_id
                AND t._row <> d.keep_row), {changed}""").fetchall()[0]
    rep.findings["duplicates"] = {"rule": "first" if rule == "first" else "latest",
                                  "by": "updated_at" if "updated_at" in names else "order",
                                  "ids": int(con.execute("SELECT count(*) FROM _dups"
                                                         ).fetchall()[0][0]),
                                  "superseded": int(superseded),
                                  "changed_category": None if n_changed is None
                                  else int(n_changed)}
    run(con, f"""
        INSERT INTO _quarantine SELECT $t, t._row, t.{ident}, '{Reason.DUPLICATE_ID}'
        FROM main.{table} t JOIN _dups d ON t.{ident} = d.dup_id AND t._row <> d.keep_row""",
        {"t": table})
    run(con, f"""
        DELETE FROM main.{table} t USING _dups d
        WHERE t.{ident} = d.dup_id AND t._row <> d.keep_row""")


def _count(con: duckdb.DuckDBPyConnection, spec: Table, rep: TableReport,
           adj: list[str]) -> None:
    reasons = con.execute("SELECT reason, count(*) FROM _quarantine WHERE tbl = $t GROUP BY 1",
                          {"t": spec.name}).fetchall()
    rep.reasons = {str(r): int(c) for r, c in reasons}
    rep.quarantined = sum(rep.reasons.values())
    if adj:
        sums = ", ".join(f"sum((_adj >> {k}) & 1)" for k in range(len(adj)))
        counts = con.execute(f"SELECT {sums} FROM main.{spec.name}").fetchall()[0]
        for key, cnt in zip(adj, counts, strict=True):
            if cnt:
                rep.adjusted[key] = int(cnt)


def _create_empty(ctx: BuildContext, spec: Table) -> None:
    cols = []
    for name in final_columns(spec):
        if name == "_row":
            cols.append("CAST(NULL AS BIGINT) AS _row")
        elif name in ("mx", "my"):
            cols.append(f"CAST(NULL AS FLOAT) AS {name}")
        elif name == "area_idx":
            cols.append("CAST(NULL AS INTEGER) AS area_idx")
        elif name == "_adj":
            cols.append("CAST(NULL AS BIGINT) AS _adj")
        else:
            c: Column = spec.column(name)
            val, _bad = typed(None, None, c.kind)
            if c.codes is not None:
                val = "CAST(NULL AS VARCHAR)"
            cols.append(f"{val} AS {quote_ident(name)}")
    run(ctx.con, f"CREATE OR REPLACE TABLE main.{spec.name} AS SELECT {', '.join(cols)} "
                    "WHERE FALSE")

