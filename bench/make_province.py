"""A synthetic province in the schema version 2 Parquet directory form, for
``bench_province.py`` when no province from the demo generator is at hand.

    python bench/make_province.py --out /tmp/prov10m --incidents 10000000

Counties on a grid of squares, each split into towns and villages (squares too), the
incident rows generated, partitioned and aggregated by DuckDB alone (streaming: no row
reaches Python), following docs/extract-schema-v2.md. Not a test fixture.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from shapely.geometry import box

X0, Y0 = 112.0, 25.0
COUNTY_DEG = 0.4
TOWNS, VILLAGES = 4, 3  # per side: 16 towns per county, 9 villages per town
CATS = ("criminal", "public_order", "dispute", "traffic", "fire", "assistance", "fraud")
ZOOMS = (10, 13, 16)


def areas(side: int) -> pa.Table:
    rows = []
    t = COUNTY_DEG / TOWNS
    v = t / VILLAGES
    for cx in range(side):
        for cy in range(side):
            c = f"C{cx:02d}{cy:02d}"
            x, y = X0 + cx * COUNTY_DEG, Y0 + cy * COUNTY_DEG
            rows.append((c, f"县{cx:02d}{cy:02d}", "county", None,
                         box(x, y, x + COUNTY_DEG, y + COUNTY_DEG).wkb, 400_000))
            for tx in range(TOWNS):
                for ty in range(TOWNS):
                    tid = f"{c}T{tx}{ty}"
                    xt, yt = x + tx * t, y + ty * t
                    rows.append((tid, f"{c[1:]}镇{tx}{ty}", "town", c,
                                 box(xt, yt, xt + t, yt + t).wkb, 25_000))
                    for vx in range(VILLAGES):
                        for vy in range(VILLAGES):
                            xv, yv = xt + vx * v, yt + vy * v
                            rows.append((f"{tid}V{vx}{vy}", f"{tid[1:]}村{vx}{vy}",
                                         "village", tid, box(xv, yv, xv + v, yv + v).wkb,
                                         2_500))
    cols = list(zip(*rows, strict=True))
    return pa.table({"area_id": pa.array(cols[0]), "name": pa.array(cols[1]),
                     "level": pa.array(cols[2]), "parent_id": pa.array(cols[3], pa.string()),
                     "geom_wkb": pa.array(cols[4], pa.binary()),
                     "population": pa.array(cols[5], pa.int64())})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--incidents", type=int, default=10_000_000)
    ap.add_argument("--side", type=int, default=10, help="counties per side")
    ap.add_argument("--days", type=int, default=1095)
    args = ap.parse_args(argv)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    side, n, days = args.side, args.incidents, args.days
    pq.write_table(areas(side), out / "areas.parquet")
    (out / "areas").mkdir()
    (out / "areas.parquet").rename(out / "areas" / "part-0.parquet")
    con = duckdb.connect(config={"memory_limit": "3GB", "threads": 2,
                                 "preserve_insertion_order": False})
    con.execute(f"SET temp_directory = '{out}.spill'")
    span = side * COUNTY_DEG
    cats = "[" + ", ".join(f"'{c}'" for c in CATS) + "]"
    # Points: half spread evenly, half around 40 hot spots; times over `days` days to
    # 2026-06-30, busier in the evening.
    con.execute(f"""
        CREATE VIEW gen AS
        WITH r AS (SELECT i, hash(i) AS h1, hash(i + 7919) AS h2, hash(i * 31 + 1) AS h3
                   FROM range({n}) t(i)),
        p AS (SELECT i, h1, h2, h3,
                CASE WHEN h1 % 2 = 0 THEN {X0} + (h2 % 1000003) / 1000003.0 * {span}
                     ELSE {X0} + ((h1 >> 8) % 40) * {span} / 40.0 + 0.15
                          + ((h2 % 10007) / 10007.0 - 0.5) * 0.12 END AS lon,
                CASE WHEN h1 % 2 = 0 THEN {Y0} + (h3 % 1000003) / 1000003.0 * {span}
                     ELSE {Y0} + ((h1 >> 16) % 40) * {span} / 40.0 + 0.2
                          + ((h3 % 10007) / 10007.0 - 0.5) * 0.12 END AS lat
              FROM r)
        SELECT printf('P%010d', i) AS incident_id,
               TIMESTAMP '2026-06-30 00:00:00' - to_days(CAST(h2 % {days} AS INTEGER))
                 + to_minutes(CAST(((h3 >> 20) % 1440 + 600 * ((h3 >> 40) % 2)) % 1440
                               AS INTEGER)) AS reported_at,
               {cats}[1 + CAST((h1 >> 24) % 7 AS INTEGER)] AS category,
               CAST(NULL AS VARCHAR) AS subcategory,
               lon, lat, printf('某街%d号', CAST(h1 % 50000 AS INTEGER)) AS address,
               printf('C%02d%02dT%d%dV%d%d',
                      CAST(floor((lon - {X0}) / {COUNTY_DEG}) AS INTEGER),
                      CAST(floor((lat - {Y0}) / {COUNTY_DEG}) AS INTEGER),
                      CAST(floor((lon - {X0}) / {COUNTY_DEG} * {TOWNS}) AS INTEGER) % {TOWNS},
                      CAST(floor((lat - {Y0}) / {COUNTY_DEG} * {TOWNS}) AS INTEGER) % {TOWNS},
                      CAST(floor((lon - {X0}) / {COUNTY_DEG} * {TOWNS * VILLAGES}) AS INTEGER)
                        % {VILLAGES},
                      CAST(floor((lat - {Y0}) / {COUNTY_DEG} * {TOWNS * VILLAGES}) AS INTEGER)
                        % {VILLAGES}) AS area_id,
               ['open', 'dispatched', 'closed'][1 + CAST(h3 % 3 AS INTEGER)] AS status,
               CAST(NULL AS TIMESTAMP) AS closed_at
        FROM p WHERE lon > {X0} AND lon < {X0 + span} AND lat > {Y0} AND lat < {Y0 + span}
    """)
    con.execute(f"""COPY (SELECT *, year(reported_at) AS year, month(reported_at) AS month
                          FROM gen)
                    TO '{out}/incidents' (FORMAT parquet, PARTITION_BY (year, month),
                                          FILENAME_PATTERN 'part-{{i}}')""")
    print(f"rows: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    rows = f"read_parquet('{out}/incidents/**/*.parquet', hive_partitioning = true)"
    con.execute(f"CREATE TABLE up AS SELECT * FROM (VALUES {_rollup(side)}) "
                "t(area_id, level, ancestor_id)")
    (out / "incidents_by_area").mkdir()
    con.execute(f"""COPY (
        WITH base AS (SELECT CAST(reported_at AS DATE) AS day,
                             CAST(hour(reported_at) AS INTEGER) AS hour, category, area_id,
                             count(*) AS n FROM {rows} GROUP BY ALL)
        SELECT day, hour, category, level, ancestor_id AS area_id,
               sum(n)::BIGINT AS incidents
        FROM base JOIN up USING (area_id) GROUP BY ALL
        UNION ALL
        SELECT day, hour, category, 'all', NULL, sum(n)::BIGINT FROM base GROUP BY ALL)
        TO '{out}/incidents_by_area/part-0.parquet' (FORMAT parquet)""")
    print(f"by area: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    (out / "incidents_by_cell").mkdir()
    half = 20037508.342789244
    parts = []
    for z in ZOOMS:
        size = 2 * half / 2 ** z
        parts.append(f"""SELECT CAST(reported_at AS DATE) AS day,
            CAST(hour(reported_at) AS INTEGER) AS hour, category, {z} AS zoom,
            CAST(floor((radians(lon) * 6378137.0 + {half}) / {size}) AS INTEGER) AS cell_x,
            CAST(floor(({half} - ln(tan(pi() / 4 + radians(lat) / 2)) * 6378137.0) / {size})
                 AS INTEGER) AS cell_y FROM {rows}""")
    con.execute(f"""COPY (SELECT day, hour, category, zoom, cell_x, cell_y,
                                 count(*)::BIGINT AS incidents
                          FROM ({' UNION ALL '.join(parts)}) GROUP BY ALL)
                    TO '{out}/incidents_by_cell/part-0.parquet' (FORMAT parquet)""")
    print(f"by cell: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    meta = {"schema_version": "2", "region_name": "示范省", "coord_system": "wgs84",
            "extracted_at": "2026-06-30T08:00:00",
            "aggregates": "incidents_by_area,incidents_by_cell",
            "grid_zooms": ",".join(str(z) for z in ZOOMS)}
    pq.write_table(pa.table({"key": list(meta), "value": list(meta.values())}),
                   out / "meta.parquet")
    shutil.rmtree(f"{out}.spill", ignore_errors=True)
    print(f"done: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def _rollup(side: int) -> str:
    vals = []
    for cx in range(side):
        for cy in range(side):
            c = f"C{cx:02d}{cy:02d}"
            for tx in range(TOWNS):
                for ty in range(TOWNS):
                    t = f"{c}T{tx}{ty}"
                    for vx in range(VILLAGES):
                        for vy in range(VILLAGES):
                            v = f"{t}V{vx}{vy}"
                            vals += [f"('{v}', 'village', '{v}')", f"('{v}', 'town', '{t}')",
                                     f"('{v}', 'county', '{c}')"]
    return ", ".join(vals)


if __name__ == "__main__":
    sys.exit(main())
