"""The import, start to end: read → map (given or proposed) → transform → write.

``run_import`` is what ``cockpit import`` and the wizard call. It reads every file
and settles every file's mapping first, so bad input (an unreadable file, a missing
required column, an unknown CRS) stops it before anything is written; then it
transforms batch by batch into the writer, areas first (rows of other tables are
placed by area name). Any failure or a cancel from the progress callback removes
the temporary output: the target is either the complete new extract or untouched.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..schema import DATA_TABLES, SCHEMA_VERSION, TABLES, TIMESTAMP
from .errors import ImportFailure, Progress, no_progress
from .mapping import FileMapping, GeocodeSpec, ImportMapping, to_toml
from .place import AreaLookup, build_lookup
from .propose import distinct_counts, looked_for, missing_required, propose, score_headers
from .read import read_source
from .read_excel import split_sheet
from .report import FileReport, ImportReport, column_comment
from .source import SourceTable
from .synonyms import CODE_GROUPS, is_known_header
from .transform import BatchStats, ColumnStats, apply_with_stats, build_plan
from .write import ExtractWriter

BATCH_ROWS = 128 * 1024


@dataclass(frozen=True)
class Input:
    table: str
    path: str
    """A file, or ``book.xlsx#Sheet``."""


GEOCODE = "geocode"
"""``geocode=PATH``: the address lookup file (``[geocode]`` in the mapping)."""


def take_geocode(inputs: list[Input], m: ImportMapping) -> list[Input]:
    """The inputs without ``geocode=PATH``, whose file goes into ``m.geocode``."""
    files = [i.path for i in inputs if i.table == GEOCODE]
    if len(files) > 1:
        raise ImportFailure("give one address lookup (geocode=PATH), not several")
    if files:
        m.geocode = dataclasses.replace(m.geocode or GeocodeSpec(), file=files[0])
    return [i for i in inputs if i.table != GEOCODE]


def parse_inputs(args: list[str]) -> list[Input]:
    """``TABLE=PATH`` arguments (PATH may be a glob) → inputs in the order given."""
    out: list[Input] = []
    for arg in args:
        table, sep, pattern = arg.partition("=")
        table = table.strip()
        if not sep or not pattern:
            raise ImportFailure(f"expected TABLE=PATH, got {arg!r}")
        if table not in (*DATA_TABLES, GEOCODE):
            raise ImportFailure(f"unknown table {table!r} in {arg!r}; tables: "
                                + ", ".join(DATA_TABLES) + f" (and {GEOCODE}= an address "
                                "lookup)")
        path, sheet = split_sheet(pattern)
        if glob.has_magic(path):
            found = sorted(glob.glob(path))
            if not found:
                raise ImportFailure("no file matches this pattern", pattern)
            out += [Input(table, f + (f"#{sheet}" if sheet else "")) for f in found]
        else:
            if not Path(path).exists():
                raise ImportFailure("file not found", pattern)
            out.append(Input(table, pattern))
    if not any(i.table != GEOCODE for i in out):
        raise ImportFailure("no input files: give TABLE=PATH (e.g. incidents=警情.csv)")
    return out


# --------------------------------------------------------------------------- reading

def _known(table: str):
    return lambda cell: is_known_header(cell)


def read_input(inp: Input, mapping: ImportMapping | None, crs: str | None = None,
               max_rows: int | None = None) -> tuple[SourceTable, FileMapping | None, str]:
    """Read one input with the read options of the mapping entry that fits it.

    Returns the source, the entry (None: to be proposed) and how it was chosen.
    """
    name = Path(split_sheet(inp.path)[0]).name
    entries = [e for e in (mapping.tables.get(inp.table, []) if mapping else [])
               if e.matches(name) or e.matches(Path(inp.path).name)]
    tried: dict[tuple, SourceTable] = {}
    first_error: ImportFailure | None = None
    for e in entries:
        key = (e.encoding, e.delimiter, e.header_row, e.sheet, e.crs)
        if key not in tried:
            try:
                tried[key] = _read(inp, e.encoding, e.delimiter, e.header_row, e.sheet,
                                   e.crs or crs, max_rows)
            except ImportFailure as exc:  # another entry's encoding or layout may fit
                first_error = first_error or exc
                continue
        src = tried[key]
        if not e.missing_columns(src.headers):
            idx = mapping.tables[inp.table].index(e) + 1 if mapping else 0
            return src, e, f"mapping file entry {idx}"
        if first_error is None:
            target, col = e.missing_columns(src.headers)[0]
            first_error = ImportFailure(
                f"the mapping's column {col!r} (for {target}) is not in the file; its "
                f"columns: {', '.join(src.headers[:12])}", src.label, col)
    if first_error is not None:
        raise first_error
    src = _read(inp, None, None, None, None, crs, max_rows)
    return src, None, "proposed"


def _read(inp: Input, encoding, delimiter, header_row, sheet, crs, max_rows) -> SourceTable:
    return read_source(inp.path, encoding=encoding, delimiter=delimiter, header_row=header_row,
                       sheet=sheet, crs=crs, known=_known(inp.table),
                       score=lambda headers: score_headers(inp.table, headers),
                       max_rows=max_rows)


def settle_entry(table: str, src: SourceTable, entry: FileMapping | None,
                 mapping: ImportMapping) -> FileMapping:
    """The entry to use (proposed when None) after checking it can be imported."""
    if entry is None:
        entry = propose(table, src, crs=mapping.crs, coord_system=mapping.coord_system
                        if mapping.coord_system != "wgs84" else None)
    missing = missing_required(table, entry)
    if missing:
        target = missing[0].split("/")[0]
        raise ImportFailure(
            f"no column for {target} of {table} (looked for {looked_for(table, target)}); "
            f"the file's columns: {', '.join(src.headers[:15])}", src.label, target)
    if entry.crs == "?" and not mapping.crs:
        lon = entry.columns["lon"].column
        raise ImportFailure("holds projected x/y in metres but no CRS is known; give "
                            "--crs EPSG:NNNN (or crs in the mapping file)", src.label, lon)
    return entry


# --------------------------------------------------------------------------- areas, meta

def _areas_lookup(batches: list[pa.RecordBatch], mapping: ImportMapping) -> AreaLookup | None:
    if not batches:
        return None
    t = pa.Table.from_batches(batches)
    return build_lookup(t.column("area_id").to_pylist(), t.column("name").to_pylist(),
                        t.column("level").to_pylist(), mapping.area_names)


def _newest(batch: pa.RecordBatch, table: str, limit: datetime) -> datetime | None:
    best = None
    lim = pa.scalar(limit, pa.timestamp("us"))
    for c in TABLES[table].columns:
        if c.kind != TIMESTAMP:
            continue
        col = batch.column(c.name)
        v = pc.max(pc.if_else(pc.less_equal(col, lim), col, None)).as_py()
        if v is not None and (best is None or v > best):
            best = v
    return best


def _region(mapping: ImportMapping, area_batches: list[pa.RecordBatch], out: str | None
            ) -> str:
    if mapping.region:
        return mapping.region
    for b in area_batches:
        levels = b.column("level").to_pylist()
        if "county" in levels:
            return str(b.column("name")[levels.index("county")].as_py())
    return Path(out).stem if out else "imported"


def _mapping_note(mapping: ImportMapping) -> str:
    if not mapping.path:
        return "mapping: proposed"
    digest = hashlib.sha256(Path(mapping.path).read_bytes()).hexdigest()[:12]
    return f"mapping: {Path(mapping.path).name} (sha256 {digest})"


# --------------------------------------------------------------------------- the run

@dataclass
class _Job:
    inp: Input
    src: SourceTable
    entry: FileMapping
    how: str
    index: int = 0
    """Position of the entry in the resolved mapping's list for the table."""


@dataclass
class _Resolved:
    mapping: ImportMapping
    stats: dict[tuple[str, int], dict[str, ColumnStats]] = field(default_factory=dict)
    counts: dict[tuple[str, int, str], dict[str, int]] = field(default_factory=dict)

    def add(self, table: str, entry: FileMapping) -> int:
        entries = self.mapping.tables.setdefault(table, [])
        for i, e in enumerate(entries):
            if e is entry:
                return i
            if (e.files, e.columns, e.formats, e.encoding, e.header_row, e.crs, e.id) == (
                    entry.files, entry.columns, entry.formats, entry.encoding,
                    entry.header_row, entry.crs, entry.id):
                for k, vals in entry.values.items():
                    e.values[k] = {**e.values.get(k, {}), **vals}
                return i
        entries.append(entry)
        return len(entries) - 1

    def record(self, table: str, index: int, stats: BatchStats, src: SourceTable,
               entry: FileMapping) -> None:
        mine = self.stats.setdefault((table, index), {})
        for k, c in stats.columns.items():
            copy = ColumnStats(c.source)
            copy.merge(c)
            if k in mine:
                mine[k].merge(copy)
            else:
                mine[k] = copy
        for col, src_col in entry.columns.items():
            if (table, col) in CODE_GROUPS and src_col.column:
                key = (table, index, col)
                counts = distinct_counts(src.table.column(src_col.column))
                prev = self.counts.setdefault(key, {})
                for v, n in counts.items():
                    prev[v] = prev.get(v, 0) + n

    def toml(self) -> str:
        comments = {k: {c: column_comment(s) for c, s in v.items()}
                    for k, v in self.stats.items()}
        return to_toml(self.mapping, comments, self.counts)


def _order(inputs: list[Input]) -> list[Input]:
    """Areas first (other tables are placed by area name); otherwise as given."""
    return sorted(inputs, key=lambda i: i.table != "areas")


def run_import(inputs: list[Input], out: str | Path | None, mapping: ImportMapping | None = None,
               *, region: str | None = None, coord_system: str | None = None,
               crs: str | None = None, fmt: str = "duckdb", dry_run: bool = False,
               save_mapping: str | Path | None = None, progress: Progress | None = None,
               now: datetime | None = None,
               sources: dict[Input, SourceTable] | None = None,
               duplicates: str | None = None) -> ImportReport:
    """Import ``inputs`` into ``out`` (nothing is written with ``dry_run``).

    ``duplicates`` (``latest`` or ``first``) is written to ``meta.duplicates``: which row
    of a repeated id the extract's loader keeps (default latest: later files and rows
    are corrections; ``data/validate.py:_set_aside_duplicates``).

    ``sources`` holds inputs already read in full (the wizard has them): not read again.
    """
    progress = progress or no_progress
    m = mapping or ImportMapping()
    if region:
        m.region = region
    if coord_system:
        m.coord_system = coord_system
    if crs:
        m.crs = crs
    inputs = take_geocode(inputs, m)
    now = now or datetime.now().replace(microsecond=0)
    report = ImportReport(str(out) if out else None, fmt, dry_run)
    resolved = _Resolved(ImportMapping(region=m.region, coord_system=m.coord_system,
                                       crs=m.crs, timezone=m.timezone,
                                       area_names=dict(m.area_names), geocode=m.geocode))
    jobs: list[_Job] = []
    ordered = _order(inputs)
    for k, inp in enumerate(ordered):
        progress(f"reading {Path(split_sheet(inp.path)[0]).name}", 0.3 * k / len(ordered))
        given = (sources or {}).get(inp)
        if given is not None and given.complete and mapping is not None:
            entry = mapping.entry_for(inp.table, given.label, given.headers)
            src, how = given, "mapping"
        else:
            src, entry, how = read_input(inp, mapping, m.crs)
        entry = settle_entry(inp.table, src, entry, m)
        jobs.append(_Job(inp, src, entry, how))
    writer = None if dry_run or out is None else ExtractWriter(out, fmt)
    try:
        area_batches: list[pa.RecordBatch] = []
        state = {"lookup": None, "newest": None, "done": 0}
        total = sum(j.src.num_rows for j in jobs) or 1

        def batches(table: str) -> Iterator[pa.RecordBatch]:
            """The table's rows in schema form: its files in the order given."""
            for job in (j for j in jobs if j.inp.table == table):
                if table != "areas" and state["lookup"] is None and area_batches:
                    state["lookup"] = _areas_lookup(area_batches, m)
                plan = build_plan(table, job.src.label, job.entry, m, job.src.headers,
                                  state["lookup"] if table != "areas" else None)
                fr = FileReport.of(table, job.src, job.how)
                fr.notes += job.entry.notes
                if plan.geocode is not None:
                    fr.notes.append(f"address lookup {plan.geocode.label}: "
                                    f"{len(plan.geocode):,} addresses")
                elif m.geocode is not None and TABLES[table].point:
                    fr.notes.append("the mapping's [geocode] names no file: rows without "
                                    "coordinates stay so (give geocode=PATH)")
                for batch in _rebatch(job.src.table):
                    progress(f"{table}: {job.src.label}", 0.3 + 0.65 * state["done"] / total)
                    out_b, st = apply_with_stats(batch, plan)
                    fr.stats.merge(st)
                    state["done"] += batch.num_rows
                    if table == "areas":
                        area_batches.append(out_b)
                    n = _newest(out_b, table, now + timedelta(days=1))
                    if n is not None and (state["newest"] is None or n > state["newest"]):
                        state["newest"] = n
                    yield out_b
                used = {c for s in job.entry.columns.values() for c in s.source_columns()}
                fr.unused_columns = [h for h in job.src.headers if h not in used]
                job.index = resolved.add(table, job.entry)
                resolved.record(table, job.index, fr.stats, job.src, job.entry)
                report.files.append(fr)
                report.tables[table] = report.tables.get(table, 0) + fr.rows
                job.src = _released(job.src)

        for table in dict.fromkeys(j.inp.table for j in jobs):
            if writer is not None:
                writer.write_table(table, batches(table))
            else:
                for _ in batches(table):
                    pass
        newest = state["newest"]
        files = ", ".join(Path(split_sheet(j.inp.path)[0]).name for j in jobs)
        report.meta = {
            "schema_version": SCHEMA_VERSION,
            "region_name": _region(m, area_batches, str(out) if out else None),
            "coord_system": "wgs84",
            "extracted_at": (newest or now).replace(microsecond=0).isoformat(),
            "source": f"cockpit import of {files}; {_mapping_note(m)}",
        }
        if duplicates:
            report.meta["duplicates"] = duplicates
        report.mapping_toml = resolved.toml()
        progress("writing", 0.96)
        if writer is not None:
            writer.commit(report.meta)
            report.written = True
        if save_mapping is not None:
            _save(Path(save_mapping), report.mapping_toml)
            report.mapping_saved = str(save_mapping)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    progress("done", 1.0)
    return report


def _rebatch(table: pa.Table) -> Iterator[pa.RecordBatch]:
    """Batches of ``BATCH_ROWS`` (a CSV reads in many small chunks; each apply has a fixed
    cost), each made contiguous."""
    for start in range(0, table.num_rows, BATCH_ROWS):
        yield from table.slice(start, BATCH_ROWS).combine_chunks().to_batches()


def _released(src: SourceTable) -> SourceTable:
    """Let go of a source's cells once written (a caller's copy is left as it was)."""
    from dataclasses import replace

    return replace(src, table=src.table.slice(0, 0))


def _save(path: Path, text: str) -> None:
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
