"""``python -m pipeline.build``: a station's (or a province's) files into an extract,
built by Apache Spark (also ``cockpit build ...`` and ``spark-submit pipeline/build.py``).

    python -m pipeline.build --out DIR [--master local[*]|yarn|spark://...]
        [--mapping MAP.toml] [--region NAME] [--coord-system C] [--crs EPSG:N]
        TABLE=PATH [...]

The same mapping file, synonyms, value mapping and row transforms as ``cockpit
import`` (``data.importer``), and the cockpit's own row cleaning, run on Arrow batches
inside Spark (``pipeline.rows``); repeated ids and references between tables in Spark
SQL (``pipeline.rules``). Writes the schema's Parquet directory form, version 2
(docs/extract-schema-v2.md): ``incidents/year=YYYY/month=MM/``, the other tables,
``meta.parquet``, the set-aside rows with their reasons (``set_aside/<table>/``),
the load report (``load_report.json``) and the aggregates ``incidents_by_area/`` and
``incidents_by_cell/``. Everything goes to a folder beside DIR that replaces it only
when complete. Exit 0 when built, 2 with one line on bad input or without Java.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

if not __package__:  # spark-submit pipeline/build.py: the repository is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.importer.errors import ImportFailure
from data.importer.mapping import ImportMapping, load_mapping
from data.importer.run import Input, _mapping_note, _region, parse_inputs, take_geocode
from data.importer.write import schema_of
from data.load_report import OK, LoadReport
from data.schema import COORD_SYSTEMS, DATA_TABLES, INCIDENTS, TABLES, TIMESTAMP
from pipeline.spark import MissingRuntime, check_runtime

log = logging.getLogger("pipeline.build")
SCHEMA_VERSION_2 = "2"
SET_ASIDE = "set_aside"
AGGREGATES = ("incidents_by_area", "incidents_by_cell")
EXIT_OK, EXIT_FAIL = 0, 2


@dataclass
class BuildResult:
    out: Path
    meta: dict[str, str]
    report: LoadReport
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    aggregates: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"built {self.out} in {self.seconds:.1f} s (schema version 2, Parquet)"]
        out += self.report.summary_lines()
        out += [f"{k}: {v} rows" for k, v in self.aggregates.items()]
        return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pipeline.build", description="Build an extract with "
                                "Apache Spark (the same import, plus aggregates)")
    p.add_argument("--out", required=True, help="the extract folder to write")
    p.add_argument("--master", default="local[*]", help="local[*], yarn, spark://host:7077")
    p.add_argument("--mapping", help="a mapping file (as for cockpit import)")
    p.add_argument("--region", help="region name (default: the county area's name)")
    p.add_argument("--coord-system", choices=COORD_SYSTEMS,
                   help="datum of the files' lon/lat (default wgs84)")
    p.add_argument("--crs", help="CRS of projected x/y in the files, e.g. EPSG:4547")
    p.add_argument("--shuffle-partitions", type=int, default=None)
    p.add_argument("--json", action="store_true", help="the load report as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("inputs", nargs="+", metavar="TABLE=PATH")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if not args.quiet:  # a long job says what it is doing, and how long each step took
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        check_runtime()
    except MissingRuntime as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAIL
    try:
        inputs = parse_inputs(args.inputs)
        mapping = load_mapping(args.mapping) if args.mapping else None
        result = build(inputs, args.out, mapping, master=args.master, region=args.region,
                       coord_system=args.coord_system, crs=args.crs,
                       shuffle_partitions=args.shuffle_partitions)
    except ImportFailure as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print(json.dumps({"out": str(result.out), "meta": result.meta,
                          "load_report": result.report.to_json(), "seconds": result.seconds,
                          "aggregates": result.aggregates}, ensure_ascii=False, indent=2))
    else:
        for line in result.lines():
            print(line, file=sys.stderr)
    return EXIT_OK


def build(inputs: list[Input], out: str | Path, mapping: ImportMapping | None = None, *,
          master: str = "local[*]", region: str | None = None,
          coord_system: str | None = None, crs: str | None = None,
          shuffle_partitions: int | None = None, now: datetime | None = None,
          spark=None) -> BuildResult:
    """Build the extract at ``out``; ImportFailure (one line) on bad input."""
    from pipeline.jobs import settle
    from pipeline.spark import session

    t0 = time.perf_counter()
    m = mapping or ImportMapping()
    if region:
        m.region = region
    if coord_system:
        m.coord_system = coord_system
    if crs:
        m.crs = crs
    inputs = take_geocode(inputs, m)  # geocode=PATH: the address lookup, not a table
    now = now or datetime.now().replace(microsecond=0)
    with _step("read the headers and settled the mapping"):
        settled = settle(inputs, m, mapping, now)
    if spark is None:
        with _step(f"started Spark ({master})"):
            spark = session(master, shuffle_partitions)
    out = Path(out).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        result = _run(spark, settled, m, inputs, out, tmp, now)
        shutil.rmtree(tmp / "_stage", ignore_errors=True)
        for crc in tmp.rglob(".*.crc"):  # Hadoop's local checksums: not part of an extract
            crc.unlink()
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.seconds = time.perf_counter() - t0
    return result


def _run(spark, settled, m: ImportMapping, inputs: list[Input], out: Path, tmp: Path,
         now: datetime) -> BuildResult:
    from pyspark.sql import functions as F

    from pipeline.aggregates import incidents_by_area, incidents_by_cell
    from pipeline.rows import (
        ORDER,
        REASON,
        SWAPPED,
        UNKNOWN_AREA,
        spark_ddl,
        stage_job,
        stage_schema,
    )
    from pipeline.rules import REFERENCES, duplicate_sql, reference_sql

    sc = spark.sparkContext
    report = settled.report
    report.source, report.kind = str(out), "parquet"
    areas_bc = sc.broadcast((settled.areas, settled.areas_ok))
    result = BuildResult(out, {}, report, 0.0)
    if settled.area_batches:
        (tmp / "areas").mkdir()
        pq.write_table(pa.Table.from_batches(settled.area_batches, schema=schema_of("areas")),
                       tmp / "areas" / "part-00000.parquet", compression="zstd")
        result.rows["areas"] = sum(b.num_rows for b in settled.area_batches)
    newest = settled.newest
    limit = now + timedelta(days=1)
    kept_views: dict[str, str] = {}
    order = [t for t in DATA_TABLES if t != "areas"
             and any(j.table == t for j in settled.jobs)]
    for table in order:
        jobs = [j for j in settled.jobs if j.table == table]
        jobs_bc = sc.broadcast(jobs)
        schema = stage_schema(table)

        def run_jobs(batches, jobs_bc=jobs_bc):
            areas, ok = areas_bc.value
            for b in batches:
                for k in b.column(0).to_pylist():
                    yield from stage_job(jobs_bc.value[k], areas, ok)

        ids = spark.createDataFrame([(i,) for i in range(len(jobs))], "job INT")
        staged = ids.repartition(len(jobs), "job").mapInArrow(run_jobs, spark_ddl(schema))
        stage_path = str(tmp / "_stage" / table)
        with _step(f"{table}: {len(jobs)} file(s) read and cleaned"):
            staged.write.mode("overwrite").parquet(stage_path)
        s = spark.read.parquet(stage_path)
        with _step(f"{table}: rows counted"):
            newest, total = _newest(s, table, limit, newest)
        s.filter(F.col(REASON).isNull()).createOrReplaceTempView(f"_kept0_{table}")
        view = f"_kept0_{table}"
        # every row the table rules look at, once, with its rule (NULL: kept); kept and
        # set-aside rows are then read back from it (the window is not computed twice)
        ruled = []
        if table in REFERENCES:
            parent = REFERENCES[table][1]
            if parent in kept_views:
                parent_view = kept_views[parent]
            else:  # the referenced table is absent: every reference dangles
                spark.createDataFrame([], f"`{TABLES[parent].id_column}` STRING"
                                      ).createOrReplaceTempView(f"_kept_{parent}")
                parent_view = f"_kept_{parent}"
            r = spark.sql(reference_sql(view, table, parent_view))
            ruled.append(r.filter(F.col("_rule").isNotNull()))
            r.filter(F.col("_rule").isNull()).drop("_rule").createOrReplaceTempView(
                f"_kept1_{table}")
            view = f"_kept1_{table}"
        if TABLES[table].id_column:
            ruled.append(spark.sql(duplicate_sql(view, table)))
        else:
            ruled.append(spark.table(view).withColumn("_rule", F.lit(None).cast("string")))
        judged = ruled[0]
        for r in ruled[1:]:
            judged = judged.unionByName(r)
        judged_path = str(tmp / "_stage" / f"{table}_judged")
        with _step(f"{table}: references and repeated ids"):
            judged.write.mode("overwrite").parquet(judged_path)
        judged = spark.read.parquet(judged_path)
        kept = judged.filter(F.col("_rule").isNull()).drop("_rule")
        kept.createOrReplaceTempView(f"_kept_{table}")
        kept_views[table] = f"_kept_{table}"
        aside = s.filter(F.col(REASON).isNotNull()).unionByName(
            judged.filter(F.col("_rule").isNotNull())
            .withColumn(REASON, F.col("_rule")).drop("_rule"))
        final_cols = list(schema_of(table).names)
        with _step(f"{table}: set-aside rows written"):
            # repartition, not coalesce: the scans stay parallel, only the few set-aside
            # rows meet in one task (coalesce(1) read every row in one task)
            aside.select(*final_cols, ORDER, REASON).withColumnRenamed(REASON, "reason") \
                .repartition(1).write.mode("overwrite") \
                .parquet(str(tmp / SET_ASIDE / table))
        with _step(f"{table}: {total:,} rows written"):
            _write_table(kept, table, final_cols, tmp)
        rep = report.table(table)
        rep.rows, rep.status = total, OK
        counts = spark.read.parquet(str(tmp / SET_ASIDE / table)).groupBy("reason").count()
        rep.reasons = {r["reason"]: int(r["count"]) for r in counts.collect()}
        rep.quarantined = sum(rep.reasons.values())
        adj = kept.agg(F.sum(F.col(SWAPPED).cast("long")).alias("s"),
                       F.sum(F.col(UNKNOWN_AREA).cast("long")).alias("u")).collect()[0]
        if adj["s"]:
            rep.adjusted["swapped_coordinates"] = int(adj["s"])
        if adj["u"]:
            rep.adjusted["unknown_area"] = int(adj["u"])
        result.rows[table] = total
        if table == INCIDENTS.name:
            for name, agg in (("incidents_by_area", incidents_by_area(spark, kept,
                                                                       settled.areas)),
                              ("incidents_by_cell", incidents_by_cell(kept))):
                with _step(f"{name} aggregated"):
                    agg.coalesce(max(1, min(8, total // 2_000_000))).write \
                        .mode("overwrite").parquet(str(tmp / name))
                result.aggregates[name] = spark.read.parquet(str(tmp / name)).count()
    files = ", ".join(Path(i.path).name for i in inputs)
    meta = {
        "schema_version": SCHEMA_VERSION_2,
        "region_name": _region(m, settled.area_batches, str(out)),
        "coord_system": "wgs84",
        "extracted_at": (newest or now).replace(microsecond=0).isoformat(),
        "source": f"pipeline.build (Apache Spark) of {files}; {_mapping_note(m)}",
        "aggregates": ",".join(result.aggregates),
        "grid_zooms": ",".join(str(z) for z in _zooms()),
    }
    report.table("meta").rows, report.table("meta").status = len(meta), OK
    pq.write_table(pa.table({"key": pa.array(list(meta), pa.string()),
                             "value": pa.array(list(meta.values()), pa.string())}),
                   tmp / "meta.parquet")
    doc = {"schema_version": SCHEMA_VERSION_2, "source": report.source,
           "tables": report.to_json(), "notes": report.notes, "rows": result.rows,
           "aggregates": result.aggregates}
    (tmp / "load_report.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2),
                                          encoding="utf-8")
    result.meta = meta
    return result


@contextmanager
def _step(what: str) -> Iterator[None]:
    t = time.perf_counter()
    yield
    log.info("%s in %.1f s", what, time.perf_counter() - t)


def _zooms() -> tuple[int, ...]:
    from pipeline.aggregates import GRID_ZOOMS

    return GRID_ZOOMS


def _newest(s, table: str, limit: datetime, newest: datetime | None
            ) -> tuple[datetime | None, int]:
    """The newest timestamp no later than ``limit`` (as ``cockpit import`` finds
    ``extracted_at``) over every row read, and the number of rows (one pass)."""
    from pyspark.sql import functions as F

    lim = F.lit(limit).cast("timestamp_ntz")
    exprs = [F.max(F.when(F.col(c.name) <= lim, F.col(c.name))).alias(c.name)
             for c in TABLES[table].columns if c.kind == TIMESTAMP]
    row = s.agg(F.count(F.lit(1)).alias("_rows"), *exprs).collect()[0]
    for v in list(row)[1:]:
        if v is not None and (newest is None or v > newest):
            newest = v
    return newest, int(row["_rows"])


def _write_table(kept, table: str, columns: list[str], tmp: Path) -> None:
    from pyspark.sql import functions as F

    df = kept.select(*columns)
    if table == INCIDENTS.name:
        df = (df.withColumn("year", F.date_format("reported_at", "yyyy"))
              .withColumn("month", F.date_format("reported_at", "MM")))
        df.repartition("year", "month").write.mode("overwrite") \
            .partitionBy("year", "month").parquet(str(tmp / table))
    else:
        df.coalesce(1).write.mode("overwrite").parquet(str(tmp / table))


def _swap(tmp: Path, out: Path) -> None:
    """Put the finished folder in place of ``out`` (a file or folder there is replaced)."""
    if out.exists() and not out.is_dir():
        out.unlink()
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


if __name__ == "__main__":
    sys.exit(main())
