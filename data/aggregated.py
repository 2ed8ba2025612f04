"""Open a schema version 2 extract that carries the pre-aggregated tables without copying
its incident rows (docs/extract-schema-v2.md).

A province (10M to 1B incidents) cannot be copied into the cache on open. When the build
job upstream wrote ``incidents_by_area`` and ``incidents_by_cell`` (meta ``aggregates``),
the cache instead holds:

- ``incidents``: a *view* over the Hive-partitioned Parquet rows (the job cleaned them
  already), with the columns the cleaned table has (``mx``/``my``, ``area_idx``) and the
  partition columns ``year``/``month`` so that a time window prunes whole folders;
- ``agg_all(reported_at, category, n)``: every incident per hour and category;
- ``agg_area(reported_at, category, area_idx, n)``: incidents per hour, category and the
  area each one counts against (its finest area, NULL when it has none), derived from the
  per-level counts (an area's own count is its total minus its children's totals), so
  that the row filter's SQL (``reported_at``, ``category``, ``area_idx``) applies as is;
- ``agg_cell(zoom, reported_at, category, cell_x, cell_y, n)``: located incidents per
  Web-Mercator tile of each zoom in ``meta.grid_zooms``;
- ``day_area``/``day_cell``: the same per day (``reported_at`` midnight), without the
  category: what a window of whole days without a category filter reads.

``reported_at`` in the aggregate tables is the start of the hour (the job's day + hour).
Figures read them in ``data.agg_counts``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .areas import AreaSet
from .load_report import OK, LoadReport
from .sources import Source, run, sql_literal

AGG_TABLES = ("agg_all", "agg_area", "agg_cell", "day_area", "day_cell")
LEVELS_IN_AREAS = "('county', 'town', 'village', 'grid')"
INCIDENT_COLUMNS = {  # the cleaned table's columns and their types (data.schema.INCIDENTS)
    "incident_id": "VARCHAR", "reported_at": "TIMESTAMP", "category": "VARCHAR",
    "subcategory": "VARCHAR", "lon": "DOUBLE", "lat": "DOUBLE", "address": "VARCHAR",
    "area_id": "VARCHAR", "status": "VARCHAR", "closed_at": "TIMESTAMP",
}
MERC_R = 6378137.0
MERC_MAX_LAT = 85.0511287798066


def wanted(path: Path, meta: dict[str, str], source: Source) -> bool:
    """Whether the extract is a version 2 Parquet directory with both aggregates and rows."""
    listed = {a.strip() for a in meta.get("aggregates", "").split(",")}
    return (source.kind == "parquet" and meta.get("schema_version") == "2"
            and {"incidents_by_area", "incidents_by_cell"} <= listed
            and "incidents" in source.tables and not source.tables["incidents"].broken_files
            and all(any((path / f).rglob("*.parquet"))
                    for f in ("incidents_by_area", "incidents_by_cell")))


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
    st = source.tables["incidents"]
    rep = report.table("incidents")
    rows = con.execute("SELECT sum(num_rows) FROM parquet_file_metadata("
                       f"{_glob(path, 'incidents')})").fetchall()
    rep.rows, rep.status = int(rows[0][0] or 0), OK
    missing = [c for c in ("incident_id", "reported_at", "category") if c not in st.columns]
    if missing:  # the job always writes them: a foreign folder, refused as the row path does
        rep.set_aside_whole("missing required column(s): " + ", ".join(missing),
                            "missing_columns")
        return
    unlisted = con.execute(
        f"SELECT DISTINCT area_id FROM read_parquet({_glob(path, 'incidents_by_area')}) "
        "WHERE level = 'unlisted' AND area_id IS NOT NULL ORDER BY 1").fetchall()
    for (area_id,) in unlisted:
        if areas.idx_of(area_id) is None:
            areas.add(area_id, area_id, None, None)  # a pseudo area: counted, never drawn
    report.notes.append("incidents: read in place from the Parquet partitions (schema 2 "
                        "with aggregates); figures come from incidents_by_area/_cell")


def create_tables(con: duckdb.DuckDBPyConnection, path: Path, source: Source) -> None:
    """The ``incidents`` view and the aggregate tables (after ``areas`` is written)."""
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
    by_area = f"read_parquet({_glob(path, 'incidents_by_area')})"
    hour = "(CAST(day AS TIMESTAMP) + to_hours(CAST(hour AS BIGINT)))"
    run(con, f"""
        CREATE TABLE agg_all AS
        SELECT {hour} AS reported_at, category, sum(incidents)::BIGINT AS n
        FROM {by_area} WHERE level = 'all' GROUP BY ALL ORDER BY 1, 2""")
    # Totals of each area's subtree; an area's own count = its total - its children's.
    run(con, f"""
        CREATE TEMP TABLE _subtree AS
        SELECT {hour} AS reported_at, b.category, a.area_idx, a.parent_idx,
               sum(b.incidents)::BIGINT AS n
        FROM {by_area} b JOIN areas a ON a.area_id = b.area_id
             AND (b.level = a.level OR (b.level = 'unlisted' AND a.level IS NULL))
        WHERE b.level IN {LEVELS_IN_AREAS} OR b.level = 'unlisted'
        GROUP BY ALL""")
    run(con, """
        CREATE TABLE agg_area AS
        WITH children AS (
            SELECT reported_at, category, parent_idx AS area_idx, sum(n) AS n
            FROM _subtree WHERE parent_idx >= 0 GROUP BY ALL),
        own AS (
            SELECT s.reported_at, s.category, s.area_idx,
                   (s.n - coalesce(c.n, 0))::BIGINT AS n
            FROM _subtree s LEFT JOIN children c USING (reported_at, category, area_idx)),
        roots AS (
            SELECT reported_at, category, sum(n) AS n FROM _subtree WHERE parent_idx < 0
            GROUP BY ALL),
        unlocated AS (
            SELECT t.reported_at, t.category, CAST(NULL AS INTEGER) AS area_idx,
                   (t.n - coalesce(r.n, 0))::BIGINT AS n
            FROM agg_all t LEFT JOIN roots r USING (reported_at, category))
        SELECT * FROM (SELECT * FROM own UNION ALL SELECT * FROM unlocated)
        WHERE n <> 0 ORDER BY reported_at, area_idx""")
    run(con, "DROP TABLE _subtree")
    run(con, f"""
        CREATE TABLE agg_cell AS
        SELECT CAST(zoom AS INTEGER) AS zoom, {hour} AS reported_at, category,
               CAST(cell_x AS INTEGER) AS cell_x, CAST(cell_y AS INTEGER) AS cell_y,
               sum(incidents)::BIGINT AS n
        FROM read_parquet({_glob(path, 'incidents_by_cell')}) GROUP BY ALL
        ORDER BY zoom, reported_at""")
    # Per day without the hour and the category: the map and the area figures of a window
    # of whole days (every window but a playback step of hours) read these, far smaller
    # at the village level, where the hourly table holds about one row per incident.
    run(con, """
        CREATE TABLE day_area AS
        SELECT date_trunc('day', reported_at) AS reported_at, area_idx, sum(n)::BIGINT AS n
        FROM agg_area GROUP BY ALL ORDER BY 1, 2""")
    run(con, """
        CREATE TABLE day_cell AS
        SELECT zoom, date_trunc('day', reported_at) AS reported_at, cell_x, cell_y,
               sum(n)::BIGINT AS n
        FROM agg_cell GROUP BY ALL ORDER BY zoom, reported_at, cell_x""")


def is_aggregated(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a cache holds the aggregate tables (an extract opened without its rows)."""
    rows = con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                       "list_contains($t, table_name) AND table_schema = 'main'",
                       {"t": list(AGG_TABLES)}).fetchall()
    return int(rows[0][0]) == len(AGG_TABLES)
