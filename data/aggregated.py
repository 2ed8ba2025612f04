"""Open a schema version 2 extract that carries the pre-aggregated tables without copying
its incident rows (docs/extract-schema-v2.md).

A province (10M to 1B incidents) cannot be copied into the cache on open. When the build
job upstream wrote ``incidents_by_area`` and ``incidents_by_cell`` (meta ``aggregates``),
the cache instead holds:

- ``incidents``: a *view* over the Hive-partitioned Parquet rows (the job cleaned them
  already), with the columns the cleaned table has (``mx``/``my``, ``area_idx``) and the
  partition columns ``year``/``month`` so that a time window prunes whole folders;
- ``agg_all(reported_at, category, n)``: every incident per hour and category;
- ``day_area(reported_at, area_idx, n)``: incidents per day and the area each one counts
  against (its finest area, NULL when it has none), counted from the rows once, so that
  the row filter's SQL (``reported_at``, ``area_idx``) applies as is;
- ``day_cell(zoom, reported_at, cell_x, cell_y, n)``: located incidents per day and
  Web-Mercator tile of each zoom in ``meta.grid_zooms``.

Per day and without the category at the area and tile level: the job's hourly tables
hold about one row per incident at the village level (three times over with the
enclosing levels), while a day table answers every window of whole days. A figure these
tables cannot answer (an area or the map under a category filter or a window of hours)
reads the rows in place, with partition pruning (``data.agg_counts``).
``reported_at`` in these tables is the start of the hour or the day.
Figures read them in ``data.agg_counts``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .areas import AreaSet
from .load_report import OK, LoadReport
from .sources import Source, run, sql_literal

AGG_TABLES = ("agg_all", "day_area", "day_cell")
LEVELS_IN_AREAS = "('county', 'town', 'village', 'grid')"
INCIDENT_COLUMNS = {  # the cleaned table's columns and their types (data.schema.INCIDENTS)
    "incident_id": "VARCHAR", "reported_at": "TIMESTAMP", "category": "VARCHAR",
    "subcategory": "VARCHAR", "lon": "DOUBLE", "lat": "DOUBLE", "address": "VARCHAR",
    "area_id": "VARCHAR", "status": "VARCHAR", "closed_at": "TIMESTAMP",
}
MERC_R = 6378137.0
FINE_ZOOM = 14
"""Within each file's chunk, tiles of this zoom and finer are stored by column
(``cell_x``), coarser ones by day: a fine zoom is read for a narrow view (its columns
skip the rest of the province), a coarse one for a wide view over a window."""
MERC_MAX_LAT = 85.0511287798066


def wanted(path: Path, meta: dict[str, str], source: Source) -> bool:
    """Whether the extract is a version 2 Parquet directory with both aggregates and rows."""
    listed = {a.strip() for a in meta.get("aggregates", "").split(",")}
    return (source.kind == "parquet" and meta.get("schema_version") == "2"
            and {"incidents_by_area", "incidents_by_cell"} <= listed
            and "incidents" in source.tables and not source.tables["incidents"].broken_files
            # the job always writes these: without them the rows are cleaned as in v1
            and {"incident_id", "reported_at", "category"} <= set(
                source.tables["incidents"].columns)
            and all(any((path / f).rglob("*.parquet"))
                    for f in ("incidents_by_area", "incidents_by_cell")))


def declared(path: Path) -> bool:
    """Whether ``meta.parquet`` declares both aggregates (read before attaching, to spare
    the page-by-page check of the incident files that will be read in place)."""
    meta = path / "meta.parquet"
    if not path.is_dir() or not meta.is_file():
        return False
    try:
        rows = dict(duckdb.sql(f"SELECT CAST(key AS VARCHAR), CAST(value AS VARCHAR) "
                               f"FROM read_parquet({sql_literal(str(meta))})").fetchall())
    except duckdb.Error:
        return False
    listed = {a.strip() for a in (rows.get("aggregates") or "").split(",")}
    return (rows.get("schema_version") or "").strip() == "2" and \
        {"incidents_by_area", "incidents_by_cell"} <= listed


def zooms(meta: dict[str, str]) -> tuple[int, ...]:
    out = []
    for z in meta.get("grid_zooms", "").split(","):
        if z.strip().isdigit():
            out.append(int(z))
    return tuple(sorted(set(out)))


def _glob(path: Path, folder: str) -> str:
    return sql_literal(str(path / folder / "**" / "*.parquet"))


def read_incidents(con: duckdb.DuckDBPyConnection, path: Path, source: Source,
                   report: LoadReport, areas: AreaSet) -> None:
    """Take the incident rows as the job kept them (no copy): the load report counts them
    from the Parquet footers, and area ids the areas table lacks become pseudo areas (as
    the row path makes them), read from the aggregate's ``unlisted`` level."""
    rep = report.table("incidents")
    rows = con.execute("SELECT sum(num_rows) FROM parquet_file_metadata("
                       f"{_glob(path, 'incidents')})").fetchall()
    rep.rows, rep.status = int(rows[0][0] or 0), OK
    # one scan of the job's area totals for both levels the cockpit takes from it
    run(con, f"""
        CREATE TEMP TABLE _top AS
        SELECT day, hour, category, level, area_id, incidents
        FROM read_parquet({_glob(path, 'incidents_by_area')})
        WHERE level IN ('all', 'unlisted')""")
    unlisted = con.execute("SELECT DISTINCT area_id FROM _top WHERE level = 'unlisted' "
                           "AND area_id IS NOT NULL ORDER BY 1").fetchall()
    for (area_id,) in unlisted:
        if areas.idx_of(area_id) is None:
            areas.add(area_id, area_id, None, None)  # a pseudo area: counted, never drawn


def create_tables(con: duckdb.DuckDBPyConnection, path: Path, source: Source) -> None:
    """The ``incidents`` view and the aggregate tables (after ``areas`` is written)."""
    run(con, "SET preserve_insertion_order = false")  # big sorts and sums spill
    cols = source.tables["incidents"].columns
    select = []
    for name, kind in INCIDENT_COLUMNS.items():
        select.append(f"CAST(i.{name} AS {kind}) AS {name}" if name in cols
                      else f"CAST(NULL AS {kind}) AS {name}")
    lat = f"least(greatest(i.lat, -{MERC_MAX_LAT}), {MERC_MAX_LAT})"
    run(con, f"""
        CREATE OR REPLACE VIEW incidents AS
        SELECT CAST(i.file_row_number AS BIGINT) AS _row, {', '.join(select)},
               CASE WHEN isfinite(i.lon) AND isfinite(i.lat)
                    THEN CAST(radians(i.lon) * {MERC_R} AS FLOAT) END AS mx,
               CASE WHEN isfinite(i.lon) AND isfinite(i.lat)
                    THEN CAST(ln(tan(pi() / 4 + radians({lat}) / 2)) * {MERC_R} AS FLOAT)
               END AS my,
               a.area_idx, 0::UTINYINT AS _adj,
               i.year, i.month
        FROM read_parquet({_glob(path, 'incidents')}, hive_partitioning = true,
                          hive_types = {{'year': INTEGER, 'month': INTEGER}},
                          file_row_number = true) i
        LEFT JOIN areas a ON a.area_id = i.area_id""")
    hour = "(CAST(day AS TIMESTAMP) + to_hours(CAST(hour AS BIGINT)))"
    run(con, f"""
        CREATE TABLE agg_all AS
        SELECT {hour} AS reported_at, category, sum(incidents)::BIGINT AS n
        FROM _top WHERE level = 'all' GROUP BY ALL ORDER BY 1, 2""")
    run(con, "DROP TABLE _top")
    # Per day and area from the rows in place: 13 times faster than deriving each
    # area's own count from the job's per-level hourly totals (4 s against 50 s at 10M on
    # two cores: at the village level those hold about a row per incident, three times
    # over with the enclosing levels). Both day tables are summed one month folder (one
    # file) at a time: small sums that never spill, appended in time order, so that a
    # window skips the row groups of other months. A key may then repeat across chunks
    # (a job's file may hold any days): every reader sums.
    run(con, "CREATE TABLE day_area (reported_at TIMESTAMP, area_idx INTEGER, n BIGINT)")
    for year, month in _months(path):
        run(con, f"""
            INSERT INTO day_area
            SELECT CAST(CAST(reported_at AS DATE) AS TIMESTAMP), area_idx, count(*)::BIGINT
            FROM incidents WHERE year = {year} AND month = {month}
            GROUP BY ALL ORDER BY 1, 2""")
    run(con, "CREATE TABLE day_cell (zoom INTEGER, reported_at TIMESTAMP, cell_x INTEGER, "
             "cell_y INTEGER, n BIGINT)")
    for f in sorted((path / "incidents_by_cell").rglob("*.parquet")):
        run(con, f"""
            INSERT INTO day_cell
            SELECT * FROM (
                SELECT CAST(zoom AS INTEGER) AS zoom, CAST(day AS TIMESTAMP) AS reported_at,
                       CAST(cell_x AS INTEGER) AS cell_x, CAST(cell_y AS INTEGER) AS cell_y,
                       sum(incidents)::BIGINT AS n
                FROM read_parquet({sql_literal(str(f))}) GROUP BY ALL) t
            ORDER BY zoom, CASE WHEN zoom >= {FINE_ZOOM} THEN cell_x END NULLS FIRST,
                     reported_at""")


def _months(path: Path) -> list[tuple[int, int]]:
    """(year, month) of each Hive folder of the incident rows."""
    out = set()
    for d in (path / "incidents").glob("year=*/month=*"):
        y, m = d.parent.name.split("=", 1)[1], d.name.split("=", 1)[1]
        if y.isdigit() and m.isdigit() and any(d.rglob("*.parquet")):
            out.add((int(y), int(m)))
    return sorted(out)


def is_aggregated(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a cache holds the aggregate tables (an extract opened without its rows)."""
    rows = con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                       "list_contains($t, table_name) AND table_schema = 'main'",
                       {"t": list(AGG_TABLES)}).fetchall()
    return int(rows[0][0]) == len(AGG_TABLES)
