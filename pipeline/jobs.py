"""On the driver: every input's mapping settled, and the areas cleaned.

The same steps as ``cockpit import`` (``data.importer.run``): each file is read with
the mapping entry that fits it, or its mapping is proposed from its headers and
values; a file the mapping cannot import stops the build before anything runs.
Files up to ``FULL_READ_BYTES`` are read whole for this (as the import does); larger
ones by their first ``PREVIEW_ROWS`` rows, as the wizard does. What the executors get
is a ``Job``: how to read the file again, and the ``Plan`` that transforms it.

The areas are few: they are transformed here and cleaned by the cockpit's own
validator (``data.validate.clean_areas`` on a DuckDB of their rows), so the polygons
every executor places points in are exactly the ones the cockpit would use.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from data.areas import AreaSet
from data.importer.errors import ImportFailure
from data.importer.mapping import FileMapping, ImportMapping
from data.importer.place import AreaLookup
from data.importer.read_excel import split_sheet
from data.importer.run import (
    Input,
    _areas_lookup,
    _newest,
    _order,
    _read,
    _rebatch,
    _released,
    read_input,
    settle_entry,
)
from data.importer.source import SourceTable
from data.importer.transform import BatchStats, Plan, apply_with_stats, build_plan
from data.importer.write import schema_of
from data.load_report import LoadReport
from data.sources import attach_source, quiet
from data.validate import BuildContext, clean_areas

FULL_READ_BYTES = 64 << 20
PREVIEW_ROWS = 200_000


@dataclass(frozen=True)
class Job:
    """One input file for the executors: how to read it and how to transform it."""

    index: int
    """Position among the table's files, in the order given (decides "the first row
    of a repeated id", as in the import)."""
    table: str
    path: str
    encoding: str | None
    delimiter: str | None
    header_row: int | None
    sheet: str | None
    crs: str | None
    plan: Plan

    def read(self) -> SourceTable:
        return _read(Input(self.table, self.path), self.encoding, self.delimiter,
                     self.header_row, self.sheet, self.crs, None)


@dataclass
class Settled:
    jobs: list[Job]
    areas: AreaSet
    """Clean areas (the cockpit's validator), indexed for point in polygon."""
    areas_ok: bool
    area_batches: list[pa.RecordBatch]
    """The areas in schema form, as the import writes them."""
    lookup: AreaLookup | None
    report: LoadReport
    """The areas' part of the load report (the rest is filled in by the build)."""
    newest: datetime | None
    """The newest timestamp among the areas (none) - the rows' is found by Spark."""
    stats: dict[str, BatchStats]


def _size(path: str) -> int:
    try:
        return Path(split_sheet(path)[0]).stat().st_size
    except OSError:
        return 0


def settle(inputs: list[Input], mapping: ImportMapping, given: ImportMapping | None,
           now: datetime) -> Settled:
    """Read and settle every input (ImportFailure on bad input, nothing started)."""
    jobs: list[Job] = []
    area_batches: list[pa.RecordBatch] = []
    stats: dict[str, BatchStats] = {}
    newest: datetime | None = None
    settled: list[tuple[Input, SourceTable, FileMapping]] = []
    for inp in _order(inputs):
        small = _size(inp.path) <= FULL_READ_BYTES
        src, entry, _how = read_input(inp, given, mapping.crs,
                                      max_rows=None if small else PREVIEW_ROWS)
        entry = settle_entry(inp.table, src, entry, mapping)
        # a data file's cells are read again by its executor: keep only its header here
        # (holding every small file whole put 30M rows on the driver at once)
        settled.append((inp, src if inp.table == "areas" else _released(src), entry))
    lookup: AreaLookup | None = None
    counts: dict[str, int] = {}
    for inp, src, entry in settled:
        if inp.table == "areas":
            plan = build_plan("areas", src.label, entry, mapping, src.headers, None)
            if not src.complete:
                src = _reread(inp, src, entry, mapping)
            for batch in _rebatch(src.table):
                out, st = apply_with_stats(batch, plan)
                stats.setdefault("areas", BatchStats()).merge(st)
                area_batches.append(out)
                n = _newest(out, "areas", now + timedelta(days=1))
                newest = n if newest is None or (n is not None and n > newest) else newest
            continue
        if lookup is None and area_batches:
            lookup = _areas_lookup(area_batches, mapping)
        plan = build_plan(inp.table, src.label, entry, mapping, src.headers, lookup)
        k = counts.get(inp.table, 0)
        counts[inp.table] = k + 1
        jobs.append(Job(k, inp.table, inp.path, src.encoding, src.delimiter, src.header_row,
                        src.sheet, entry.crs or mapping.crs, plan))
    areas, report, ok = clean_area_rows(area_batches)
    return Settled(jobs, areas, ok, area_batches, lookup, report, newest, stats)


def _reread(inp: Input, src: SourceTable, entry: FileMapping, mapping: ImportMapping
            ) -> SourceTable:
    return _read(inp, src.encoding, src.delimiter, src.header_row, src.sheet,
                 entry.crs or mapping.crs, None)


def clean_area_rows(batches: list[pa.RecordBatch]) -> tuple[AreaSet, LoadReport, bool]:
    """The areas as the cockpit will read them (its own ``clean_areas``), and their part
    of the load report."""
    report = LoadReport("", "parquet")
    areas = AreaSet()
    if not batches:
        return areas, report, False
    with tempfile.TemporaryDirectory(prefix="cockpit-areas-") as tmp:
        folder = Path(tmp) / "areas"
        folder.mkdir()
        table = pa.Table.from_batches(batches, schema=schema_of("areas"))
        pq.write_table(table, folder / "part-0.parquet")
        con = quiet(duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                                       "autoload_known_extensions": False}))
        try:
            source = attach_source(con, Path(tmp))
            ctx = BuildContext(con, source, report, "wgs84", areas, lambda *_a: None)
            clean_areas(ctx)
        finally:
            con.close()
    ok = report.table("areas").status == "ok"
    if ok:
        areas.build_index()
    return areas, report, ok


def check_files(inputs: list[Input]) -> None:
    for inp in inputs:
        if not Path(split_sheet(inp.path)[0]).is_file():
            raise ImportFailure("file not found", inp.path)
