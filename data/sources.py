"""Where an extract's tables come from: one DuckDB file or a Parquet directory.

A source is attached to a working DuckDB connection read-only and each of its
tables is exposed as a relation name (``src_<table>``) that the validator reads
from. Nothing here writes to the extract.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .schema import TABLES, V2_FOLDERS


class ExtractError(Exception):
    """The extract cannot be read at all; the message is one line for the user."""


def sql_literal(text: str) -> str:
    """Quote a string as an SQL literal (for DDL that takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def run(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> None:
    """Execute a statement and consume its result (DuckDB 2 refuses new work on a
    connection while a result is pending)."""
    con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No DuckDB progress bar: it would write over our terminal and JSON output."""
    con.execute("SET enable_progress_bar = false").fetchall()
    return con


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class SourceTable:
    name: str
    relation: str
    """Name of the view/table in the working connection that reads it."""
    columns: dict[str, str]
    """Lower-case column name → DuckDB type name."""
    column_names: dict[str, str] = field(default_factory=dict)
    """Lower-case column name → name as written by the producer."""
    broken_files: list[str] = field(default_factory=list)
    row_expr: str = "rowid"
    """SQL for a row's position in the extract (its order as the producer wrote it)."""


@dataclass
class Source:
    path: Path
    kind: str  # "duckdb" or "parquet"
    tables: dict[str, SourceTable]
    foreign_tables: list[str]
    """Tables present that the schema does not know (kept and ignored)."""


def _describe(con: duckdb.DuckDBPyConnection,
              relation: str) -> tuple[dict[str, str], dict[str, str]]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    types = {str(r[0]).lower(): str(r[1]) for r in rows}
    names = {str(r[0]).lower(): str(r[0]) for r in rows}
    return types, names


def attach_source(con: duckdb.DuckDBPyConnection, path: Path,
                  footers_only: frozenset[str] = frozenset()) -> Source:
    """Attach ``path`` read-only to ``con``; raise ExtractError when it cannot be read.

    ``footers_only``: tables of a Parquet directory whose files are checked by their
    footers alone, not page by page (the incidents of a province read in place: reading
    every page would cost as much as the copy it avoids)."""
    if not path.exists():
        raise ExtractError(f"extract not found: {path}")
    if path.is_dir():
        return _attach_parquet_dir(con, path, footers_only)
    return _attach_duckdb_file(con, path)


def _attach_duckdb_file(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractError(f"cannot read extract {path}: {exc.strerror}") from exc
    if size == 0:
        raise ExtractError(f"extract is an empty file: {path}")
    if not os.access(path, os.R_OK):
        raise ExtractError(f"no permission to read extract: {path}")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head[:4] == b"PAR1":
        raise ExtractError(f"{path.name} is a single Parquet file; give the extract directory")
    try:
        run(con, f"ATTACH {sql_literal(str(path))} AS src (READ_ONLY)")
    except duckdb.Error as exc:
        raise ExtractError(_attach_message(path, exc)) from exc
    _check_complete(con, path, size)
    try:
        listed = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src'"
        ).fetchall()
    except duckdb.Error as exc:
        raise ExtractError(f"extract {path.name} is corrupt: {_first_line(exc)}") from exc
    by_lower = {}
    for (name,) in listed:
        by_lower.setdefault(str(name).lower(), str(name))
    tables: dict[str, SourceTable] = {}
    for name in TABLES:
        if name not in by_lower:
            continue
        relation = f"src.{quote_ident(by_lower[name])}"
        try:
            types, names = _describe(con, relation)
        except duckdb.Error as exc:
            raise ExtractError(f"extract {path.name} is corrupt: {_first_line(exc)}") from exc
        try:
            con.execute(f"SELECT rowid FROM {relation} LIMIT 0").fetchall()
            row_expr = "rowid"
        except duckdb.Error:  # a view has no rowid
            row_expr = "row_number() OVER () - 1"
        tables[name] = SourceTable(name, relation, types, names, row_expr=row_expr)
    foreign = sorted(n for lower, n in by_lower.items() if lower not in TABLES)
    return Source(path, "duckdb", tables, foreign)


_DUCKDB_HEADER = 3 * 4096  # the file header and the two database headers


def _check_complete(con: duckdb.DuckDBPyConnection, path: Path, size: int) -> None:
    """A file shorter than the blocks its header lists is an incomplete copy: refuse it
    whole rather than show whichever tables happen to sit in the first part."""
    try:
        rows = con.execute("SELECT block_size, total_blocks FROM pragma_database_size() "
                           "WHERE database_name = 'src'").fetchall()
    except duckdb.Error:
        return
    if rows and rows[0][0] and size < _DUCKDB_HEADER + int(rows[0][0]) * int(rows[0][1]):
        raise ExtractError(f"extract {path.name} is truncated: the file is shorter than "
                           "its own block list (an incomplete copy?)")


def _attach_message(path: Path, exc: duckdb.Error) -> str:
    text = _first_line(exc)
    # Not a bare "lock": corruption errors say "... in block at location N".
    if "could not set lock" in text.lower() or "conflicting lock" in text.lower():
        return f"extract {path.name} is locked by another process (still being written?)"
    if "not a valid DuckDB database" in text or "Invalid Input" in text:
        return f"{path.name} is not a DuckDB extract (not a valid DuckDB database file)"
    if "version" in text.lower():
        return f"{path.name} was written by an incompatible DuckDB version: {text}"
    return f"cannot open extract {path.name}: {text}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _parquet_files(path: Path, name: str) -> list[Path]:
    folder = path / name
    files: list[Path] = []
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*.parquet") if p.is_file())
    single = path / f"{name}.parquet"
    if single.is_file():
        files.append(single)
    return files


def _scans(con: duckdb.DuckDBPyConnection, files: list[str]) -> bool:
    """Whether every page of the files can be read (the row hash touches every column)."""
    try:
        con.execute("SELECT count(*) FROM read_parquet(?, union_by_name = true) t "
                    "WHERE hash(t) IS NOT NULL", [files]).fetchall()
        return True
    except duckdb.Error:
        return False


def _parquet_row_expr(files: list[str], sizes: dict[str, int]) -> str:
    """Position of a row across the files in their sorted order."""
    offsets, total = [], 0
    for f in files:
        offsets.append(f"WHEN {sql_literal(f)} THEN {total}")
        total += sizes.get(f, 0)
    return f"(CASE filename {' '.join(offsets)} ELSE 0 END + file_row_number)"


def _attach_parquet_dir(con: duckdb.DuckDBPyConnection, path: Path,
                        footers_only: frozenset[str] = frozenset()) -> Source:
    tables: dict[str, SourceTable] = {}
    for name in TABLES:
        files = _parquet_files(path, name)
        if not files:
            continue
        good: list[str] = []
        broken: list[str] = []
        sizes: dict[str, int] = {}
        for f in files:
            try:
                # The footer holds the schema and row counts: cheap, and catches
                # truncated or foreign files before a full scan trips on them.
                meta = con.execute("SELECT num_rows FROM parquet_file_metadata(?)",
                                   [str(f)]).fetchall()
                sizes[str(f)] = int(sum(r[0] for r in meta))
                good.append(str(f))
            except duckdb.Error:
                broken.append(str(f.relative_to(path)))
        if good and name not in footers_only and not _scans(con, good):
            # A damaged data page passes the footer check: find the file(s) by reading each.
            readable = [g for g in good if _scans(con, [g])]
            broken += [str(Path(g).relative_to(path)) for g in good if g not in readable]
            good = readable
        relation = f"src_{name}"
        row_expr = "0"
        if good:
            rel = con.read_parquet(good, hive_partitioning=True, union_by_name=True,
                                   filename=True, file_row_number=True)
            rel.create_view(relation, replace=True)
            types, names = _describe(con, relation)
            row_expr = _parquet_row_expr(good, sizes)
        else:
            types, names = {}, {}
        tables[name] = SourceTable(name, relation, types, names, broken, row_expr)
    foreign = sorted(
        p.name for p in path.iterdir()
        if p.is_dir() and p.name not in TABLES and p.name not in V2_FOLDERS
        and any(p.rglob("*.parquet"))
    )
    if not tables:
        raise ExtractError(f"{path} holds no extract tables (no incidents/, areas/, ... folders)")
    return Source(path, "parquet", tables, foreign)
