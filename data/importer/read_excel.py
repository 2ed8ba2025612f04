"""XLSX/XLS workbooks through python-calamine (Rust; the fastest correct reader we
measured, see bench/bench_import.py), one sheet per source.

The sheet is the one named after ``#`` (``ledger.xlsx#2024``) or else the one whose
header best matches the table's column names, then the one with the most rows.
Cells become strings, except columns whose every filled cell is a real Excel date:
those stay timestamps. Whole numbers lose their ``.0`` (ids stored as numbers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa

from .errors import ImportFailure
from .header import SCAN_ROWS, find_header, header_names
from .source import SourceTable, with_provenance


def _text(cell: object) -> str:
    if cell is None:
        return ""
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


def _column(cells: Sequence[object]) -> pa.Array:
    dates = True
    filled = False
    for c in cells:
        if c is None or c == "":
            continue
        filled = True
        if not isinstance(c, (dt.datetime, dt.date)) or isinstance(c, dt.time):
            dates = False
            break
    if dates and filled:
        return pa.array([c if isinstance(c, dt.datetime) else
                         dt.datetime(c.year, c.month, c.day) if isinstance(c, dt.date) else None
                         for c in cells], pa.timestamp("us"))
    return pa.array([_text(c) for c in cells], pa.string())


def split_sheet(spec: str) -> tuple[str, str | None]:
    """``book.xlsx#Sheet`` → (``book.xlsx``, ``Sheet``)."""
    if "#" in spec:
        path, _, sheet = spec.rpartition("#")
        if path.lower().endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")):
            return path, sheet
    return spec, None


def _open(path: Path, label: str):
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for foreign files
        raise ImportFailure(f"not a readable workbook ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''})", label) from exc


def _rows(sheet, nrows: int | None = None) -> list[list[object]]:
    rows = sheet.to_python(skip_empty_area=True, nrows=nrows) if nrows else sheet.to_python(
        skip_empty_area=True)
    while rows and all(c is None or c == "" for c in rows[-1]):
        rows.pop()
    return rows


def choose_sheet(path: Path, label: str, score: Callable[[list[str]], float] | None,
                 known: Callable[[str], bool] | None) -> str:
    """The sheet whose header matches ``score`` best, then the one with the most rows."""
    wb = _open(path, label)
    visible = [m.name for m in wb.sheets_metadata
               if str(getattr(m, "visible", "Visible")).endswith("Visible")] or wb.sheet_names
    if len(visible) == 1:
        return visible[0]
    best, best_key = visible[0], (-1.0, -1)
    for name in visible:
        sheet = wb.get_sheet_by_name(name)
        head = [[_text(c) for c in r] for r in _rows(sheet, SCAN_ROWS)]
        h = find_header(head, known)
        s = score(header_names(head[h])) if h is not None and score else 0.0
        key = (s if h is not None else -0.5, sheet.height)
        if key > best_key:
            best, best_key = name, key
    return best


def read_excel(path: Path, label: str, sheet: str | None = None, header_row: int | None = None,
               known: Callable[[str], bool] | None = None,
               score: Callable[[list[str]], float] | None = None,
               max_rows: int | None = None) -> SourceTable:
    wb = _open(path, label)
    if sheet is None:
        sheet = choose_sheet(path, label, score, known)
    elif sheet not in wb.sheet_names:
        raise ImportFailure(f"no sheet {sheet!r} (sheets: {', '.join(wb.sheet_names)})", label)
    label = f"{label}#{sheet}" if "#" not in label else label
    ws = wb.get_sheet_by_name(sheet)
    rows = _rows(ws, None if max_rows is None else max_rows + SCAN_ROWS)
    if not rows:
        raise ImportFailure("the sheet is empty", label)
    if header_row is None:
        header_row = find_header([[_text(c) for c in r] for r in rows[:SCAN_ROWS]], known)
        if header_row is None:
            raise ImportFailure("no header row found (a row of column names above the data)",
                                label)
    names = header_names([_text(c) for c in rows[header_row]])
    body = rows[header_row + 1:]
    if max_rows is not None:
        body = body[:max_rows]
    width = len(names)
    cols = list(zip(*[(r + [None] * width)[:width] for r in body], strict=True)) if body \
        else [() for _ in names]
    table = pa.table({n: _column(c) for n, c in zip(names, cols, strict=True)})
    return SourceTable(path, label, with_provenance(table, label), "excel", sheet=sheet,
                       header_row=header_row + ws.start[0], complete=max_rows is None)
