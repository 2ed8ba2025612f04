"""XLSX/XLS/XLSB/ODS workbooks, one sheet per source, every cell a string.

fastexcel (Rust: calamine straight into Arrow) is the reader: on a 200k-row sheet it
was the fastest of the three we measured and gave the same cells as the others
(``bench/bench_import.py``: fastexcel, python-calamine, openpyxl). python-calamine
is the fallback when fastexcel is not installed. Either way each sheet is parsed
once, as strings (date cells in ISO form ``2024-05-02 13:04:05``, whole numbers
without ``.0``), and the header is found in its first rows.

The sheet is the one named after ``#`` (``ledger.xlsx#2024``) or else the one whose
header best matches the table's column names, then the one with the most rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .errors import ImportFailure
from .header import SCAN_ROWS, find_header, header_names
from .source import SourceTable, with_provenance

Sheets = dict[str, pa.Table]
"""Sheet name → its cells as strings, column ``c0``, ``c1``... (rows as in the sheet)."""


def split_sheet(spec: str) -> tuple[str, str | None]:
    """``book.xlsx#Sheet`` → (``book.xlsx``, ``Sheet``)."""
    if "#" in spec:
        path, _, sheet = spec.rpartition("#")
        if path.lower().endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")):
            return path, sheet
    return spec, None


def _fail(label: str, exc: Exception) -> ImportFailure:
    text = str(exc).strip().splitlines()
    return ImportFailure(f"not a readable workbook ({type(exc).__name__}"
                         + (f": {text[0][:120]}" if text else "") + ")", label)


# --------------------------------------------------------------------------- fastexcel

def _fastexcel_names(path: Path, label: str) -> list[str]:
    import fastexcel

    try:
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as exc:  # fastexcel raises its own error types for foreign files
        raise _fail(label, exc) from exc


def _fastexcel_sheet(path: Path, label: str, name: str, n_rows: int | None
                     ) -> tuple[pa.Table, bool]:
    import fastexcel

    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(
            name, header_row=None, dtypes="string", n_rows=n_rows,
            skip_whitespace_tail_rows=True)
        table = sheet.to_arrow()
    except Exception as exc:  # see above
        raise _fail(label, exc) from exc
    table = pa.Table.from_batches([table]) if isinstance(table, pa.RecordBatch) else table
    visible = str(getattr(sheet, "visible", "visible")).lower() == "visible"
    return table.rename_columns([f"c{i}" for i in range(table.num_columns)]), visible


# --------------------------------------------------------------------------- calamine

def _text(cell: object) -> str | None:
    if cell is None or cell == "":
        return None
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() and abs(cell) < 1e15 else repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    if isinstance(cell, dt.timedelta):  # a duration cell holding a time of day
        secs = int(cell.total_seconds())
        return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    return str(cell)


def _calamine_book(path: Path, label: str):
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for foreign files
        raise _fail(label, exc) from exc


def _calamine_names(path: Path, label: str) -> list[str]:
    return list(_calamine_book(path, label).sheet_names)


def _calamine_sheet(path: Path, label: str, name: str, n_rows: int | None
                    ) -> tuple[pa.Table, bool]:
    wb = _calamine_book(path, label)
    meta = next((m for m in wb.sheets_metadata if m.name == name), None)
    visible = meta is None or str(getattr(meta, "visible", "Visible")).endswith(".Visible")
    ws = wb.get_sheet_by_name(name)
    rows = ws.to_python(skip_empty_area=True, nrows=n_rows) if n_rows else ws.to_python(
        skip_empty_area=True)
    while rows and all(c is None or c == "" for c in rows[-1]):
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    cols = list(zip(*[(list(r) + [None] * width)[:width] for r in rows], strict=True)) \
        if rows else []
    table = pa.table({f"c{j}": pa.array([_text(c) for c in col], pa.string())
                      for j, col in enumerate(cols)})
    return table, visible


# --------------------------------------------------------------------------- the sheet

def _backend():
    try:
        import fastexcel  # noqa: F401
    except ImportError:
        return _calamine_names, _calamine_sheet
    return _fastexcel_names, _fastexcel_sheet


def _head(table: pa.Table) -> list[list[str]]:
    rows = table.slice(0, SCAN_ROWS).to_pylist()
    return [["" if v is None else str(v) for v in r.values()] for r in rows]


def read_excel(path: Path, label: str, sheet: str | None = None, header_row: int | None = None,
               known: Callable[[str], bool] | None = None,
               score: Callable[[list[str]], float] | None = None,
               max_rows: int | None = None) -> SourceTable:
    names_of, load = _backend()
    names = names_of(path, label)
    n_rows = None if max_rows is None else max_rows + SCAN_ROWS
    if sheet is not None:
        if sheet not in names:
            raise ImportFailure(f"no sheet {sheet!r} (sheets: {', '.join(names)})", label)
        chosen, table = sheet, load(path, label, sheet, n_rows)[0]
    else:
        chosen, table = _choose(path, label, names, load, n_rows, known, score)
    label = f"{label}#{chosen}" if "#" not in label else label
    if table.num_rows == 0:
        raise ImportFailure("the sheet is empty", label)
    head = _head(table)
    if header_row is None:
        header_row = find_header(head, known)
        if header_row is None:
            raise ImportFailure("no header row found (a row of column names above the data)",
                                label)
    names_row = head[header_row] if header_row < len(head) else []
    body = table.slice(header_row + 1)
    if max_rows is not None:
        body = body.slice(0, max_rows)
    body = body.rename_columns(header_names(names_row + [""] * (body.num_columns
                                                               - len(names_row))))
    body = pa.table({n: pc.fill_null(body.column(n), "") for n in body.column_names})
    return SourceTable(path, label, with_provenance(body, label), "excel", sheet=chosen,
                       header_row=header_row, complete=max_rows is None)


def _choose(path: Path, label: str, names: list[str], load, n_rows: int | None,
            known: Callable[[str], bool] | None,
            score: Callable[[list[str]], float] | None) -> tuple[str, pa.Table]:
    """The sheet whose header matches ``score`` best, then the one with the most rows."""
    best: tuple[str, pa.Table] | None = None
    best_key = (False, -1.0, -1)
    for name in names:
        table, visible = load(path, label, name, n_rows)
        if len(names) == 1:
            return name, table
        head = _head(table)
        h = find_header(head, known)
        s = score(header_names(head[h])) if h is not None and score else 0.0
        key = (visible, s if h is not None else -0.5, table.num_rows)
        if key > best_key:
            best, best_key = (name, table), key
    if best is None:
        raise ImportFailure("the workbook has no sheets", label)
    return best
