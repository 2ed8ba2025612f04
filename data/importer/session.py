"""An import being set up interactively (the wizard's model, Qt-free).

Files are added with a table (or the table is guessed from the header); each gets a
preview of its first rows and a proposed mapping entry that the user can change
column by column and value by value; ``stats`` re-counts what the preview rows parse
to after each change, with the same ``apply`` the import runs; ``mapping`` is what
gets saved, and ``run`` imports every file in full with exactly that mapping.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ..schema import DATA_TABLES, TABLES
from .errors import ImportFailure, Progress
from .mapping import ColumnSource, FileMapping, ImportMapping, load_mapping, to_toml
from .place import AreaLookup, build_lookup
from .propose import distinct_counts, propose, propose_values, score_headers
from .read_excel import split_sheet
from .report import ImportReport
from .run import Input, read_input, run_import, settle_entry
from .source import GEOMETRY, SourceTable
from .synonyms import CODE_GROUPS
from .transform import BatchStats, apply_with_stats, build_plan

PREVIEW_ROWS = 500


@dataclass
class SessionFile:
    path: str
    table: str
    source: SourceTable
    entry: FileMapping
    how: str
    error: str | None = None
    """Why the entry cannot be imported yet (a required column without a source)."""


@dataclass
class ImportSession:
    files: list[SessionFile] = field(default_factory=list)
    mapping: ImportMapping = field(default_factory=ImportMapping)
    """Global settings (region, datum, CRS, area names) and, once loaded, a mapping file."""
    loaded: ImportMapping | None = None

    # ------------------------------------------------------------------ files
    def add(self, path: str, table: str | None = None) -> SessionFile:
        """Add a file (its table guessed from its header when not given)."""
        if table is None:
            table = guess_table(path)
        f = self._load(path, table)
        self.files.append(f)
        return f

    def remove(self, i: int) -> None:
        del self.files[i]

    def set_table(self, i: int, table: str) -> SessionFile:
        self.files[i] = self._load(self.files[i].path, table)
        return self.files[i]

    def _load(self, path: str, table: str) -> SessionFile:
        if table not in DATA_TABLES:
            raise ValueError(table)
        src, entry, how = read_input(Input(table, path), self.loaded, self.mapping.crs)
        f = SessionFile(path, table, src, entry, how)
        self._settle(f)
        return f

    def _settle(self, f: SessionFile) -> None:
        """Propose an entry if there is none; note what still keeps it from importing."""
        try:
            f.entry = settle_entry(f.table, f.source, f.entry, self.mapping)
            f.error = None
        except ImportFailure as exc:
            if f.entry is None:
                f.entry = propose(f.table, f.source, crs=self.mapping.crs)
            f.error = str(exc)

    # ------------------------------------------------------------------ editing
    def set_column(self, i: int, target: str, source: str | ColumnSource | None) -> None:
        """Map ``target`` to a source column (or a ColumnSource; None leaves it empty)."""
        f = self.files[i]
        if target == "geom_wkb":
            target = "geometry"
        if TABLES[f.table].point and target == "geometry":
            f.entry.columns.pop("lon", None)
            f.entry.columns.pop("lat", None)
        elif target in ("lon", "lat"):
            f.entry.columns.pop("geometry", None)
        if source is None:
            f.entry.columns.pop(target, None)
        else:
            f.entry.columns[target] = source if isinstance(source, ColumnSource) else \
                ColumnSource(column=source)
            if (f.table, target) in CODE_GROUPS and isinstance(source, str):
                col = TABLES[f.table].column(target)
                f.entry.values[target] = propose_values(
                    CODE_GROUPS[(f.table, target)],
                    distinct_counts(f.source.table.column(source)), col.fallback)
        if target == TABLES[f.table].id_column:
            f.entry.id = None if source is not None else "content"
        f.how = "edited"
        self._settle(f)

    def set_value(self, i: int, target: str, value: str, code: str | None) -> None:
        """Map one source value of a code column to a code (None: back to unknown)."""
        f = self.files[i]
        pairs = f.entry.values.setdefault(target, {})
        if code is None:
            pairs.pop(value, None)
        else:
            pairs[value] = code
        f.how = "edited"

    # ------------------------------------------------------------------ figures
    def area_lookup(self) -> AreaLookup | None:
        ids, names, levels = [], [], []
        for f in self.files:
            if f.table != "areas" or f.error:
                continue
            if not f.source.num_rows:
                continue
            out = pa.Table.from_batches([apply_with_stats(b, self._plan(f, None))[0]
                                         for b in f.source.table.to_batches()])
            ids += out.column("area_id").to_pylist()
            names += out.column("name").to_pylist()
            levels += out.column("level").to_pylist()
        return build_lookup(ids, names, levels, self.mapping.area_names) if ids else None

    def _plan(self, f: SessionFile, lookup: AreaLookup | None):
        return build_plan(f.table, f.source.label, f.entry, self.mapping, f.source.headers,
                          lookup)

    def stats(self, i: int, lookup: AreaLookup | None = None) -> BatchStats:
        """What the preview rows of file ``i`` parse to under its current entry."""
        f = self.files[i]
        stats = BatchStats()
        if f.error or f.source.num_rows == 0:
            return stats
        plan = self._plan(f, lookup if f.table != "areas" else None)
        for batch in self.preview(i).to_batches():
            stats.merge(apply_with_stats(batch, plan)[1])
        return stats

    def preview(self, i: int) -> pa.Table:
        """The first rows of file ``i`` (what the wizard shows and counts)."""
        return self.files[i].source.table.slice(0, PREVIEW_ROWS)

    # ------------------------------------------------------------------ mapping
    def resolved(self, exact: bool = False) -> ImportMapping:
        """The mapping of every file as it stands: what is saved (file name patterns) and,
        with ``exact``, what is run (each entry names its own file only)."""
        m = copy.deepcopy(self.mapping)
        m.tables = {}
        m.path = None
        for f in self.files:
            entries = m.tables.setdefault(f.table, [])
            e = copy.deepcopy(f.entry)
            if exact:
                e.files = glob_escape(label_of(f.path))
            if e not in entries:
                entries.append(e)
        return m

    def mapping_toml(self) -> str:
        return to_toml(self.resolved())

    def save_mapping(self, path: str | Path) -> None:
        import os

        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(self.mapping_toml(), encoding="utf-8")
        os.replace(tmp, path)

    def open_mapping(self, path: str | Path) -> None:
        """Use a mapping file: its settings, and its entries for every file they fit."""
        self.loaded = load_mapping(path)
        for key in ("region", "coord_system", "crs", "timezone", "area_names"):
            setattr(self.mapping, key, copy.deepcopy(getattr(self.loaded, key)))
        for i, f in enumerate(self.files):
            self.files[i] = self._load(f.path, f.table)

    def problems(self) -> list[str]:
        return [f.error for f in self.files if f.error]

    def run(self, out: str | Path, fmt: str = "duckdb", progress: Progress | None = None,
            save_mapping: str | Path | None = None) -> ImportReport:
        """Import every file in full with the session's mapping."""
        if not self.files:
            raise ImportFailure("no files to import")
        problems = self.problems()
        if problems:
            raise ImportFailure(problems[0])
        inputs = [Input(f.table, f.path) for f in self.files]
        report = run_import(inputs, out, self.resolved(exact=True), fmt=fmt,
                            progress=progress,
                            sources={Input(f.table, f.path): f.source for f in self.files})
        if save_mapping is not None:
            self.save_mapping(save_mapping)
            report.mapping_saved = str(save_mapping)
        return report


def guess_table(path: str) -> str:
    """The table a file most likely holds: areas for polygons, else by its header."""
    from .read import read_source

    src = read_source(path, max_rows=50)
    if GEOMETRY in src.table.column_names and (src.geometry_type or "").endswith("Polygon"):
        return "areas"
    scores = {t: score_headers(t, src.headers) / len(TABLES[t].columns)
              for t in DATA_TABLES if t != "areas"}
    return max(scores, key=lambda t: scores[t])


def label_of(path: str) -> str:
    return Path(split_sheet(path)[0]).name


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
