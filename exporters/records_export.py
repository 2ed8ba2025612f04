"""The records behind a figure as XLSX or CSV, headless, audited, masked, formula-safe.

``export_records`` streams the rows of a ``layers.records.RecordSource`` (the list the
records panel shows) in batches, in the panel's order, to one spreadsheet sheet (with a
second sheet 概况 saying what the list is: region, figure, filter, as-of day, rows,
masking) or to one CSV file (UTF-8 with a BOM). It uses the writers of
``exporters.tables``: text stays text (a producer's ``=...`` never becomes a formula),
and the CSV escapes cells Excel would run. Personal data is masked unless
``masked=False``. An XLSX sheet holds at most ``XLSX_ROWS`` rows; the rest are left out
and the overview and the result say so (CSV has no limit). The export is recorded in
the audit log.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from data.extract import Extract
from data.queries import Query
from data.records import COLUMNS, Column, iter_pages
from layers.filter_text import describe_filter
from layers.i18n import LANGUAGES, tr
from layers.records import RecordSource, page_values

from .audit import audit
from .tables import (
    _HEAD_FILL,
    _HEAD_FONT,
    COORD,
    DATE,
    DATETIME,
    ID,
    INT,
    LABEL,
    PCT,
    PERSON,
    PHONE,
    TEXT,
    Table,
    _cell,
    _clean,
    _csv_text,
    _replace_atomically,
    _width,
    _write_sheet,
)

__all__ = ["XLSX_ROWS", "export_records", "record_columns"]

XLSX_ROWS = 1_048_575
"""Data rows one XLSX sheet holds (Excel's 1,048,576 rows less the header)."""
_KINDS = {"id": ID, "time": DATETIME, "date": DATE, "text": TEXT, "area": TEXT, "int": INT,
          "bool": LABEL, "person": PERSON, "phone": PHONE, "coord": COORD}


def record_columns(table: str) -> tuple[Column, ...]:
    """What an export writes: the columns the panel shows, then longitude and latitude."""
    shown = tuple(c for c in COLUMNS[table] if c.shown)
    return shown + tuple(c for c in COLUMNS[table] if c.key in ("lon", "lat"))


def _kind(c: Column) -> str:
    return LABEL if c.kind.startswith("code:") else _KINDS.get(c.kind, TEXT)


def export_records(extract: Extract, source: RecordSource, path: str | os.PathLike[str],
                   fmt: str = "xlsx", lang: str = "zh", masked: bool = True,
                   sort: str | None = None, descending: bool = False,
                   check: Callable[[], None] | None = None,
                   generated_at: datetime | None = None) -> dict[str, Any]:
    """Write the records of ``source`` to ``path`` (``fmt`` xlsx or csv); audited.

    ``check`` is called between batches (a job's cancel check: it raises to stop, and
    nothing is left half-written). Returns ``{"path", "rows", "total", "capped",
    "format", "masked", "audited"}``.
    """
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"unknown format: {fmt!r} (xlsx or csv)")
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language: {lang}")
    target = Path(path).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    table = source.table
    cols = record_columns(table)
    headers = tuple(tr(f"rec_{c.key}", lang) for c in cols)
    kinds = tuple(_kind(c) for c in cols)
    con = extract.cursor()
    q = Query(extract, con)
    total = 0
    written = 0
    limit = XLSX_ROWS if fmt == "xlsx" else None

    def rows() -> Any:
        nonlocal total, written
        for page in iter_pages(con, source.selection, sort, descending, limit=limit):
            if check is not None:
                check()
            values = page_values(page, table, extract, lang, masked, cols)
            written += len(values)
            yield from values

    try:
        if fmt == "csv":
            def write_csv(tmp: Path) -> None:
                with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                    out = csv.writer(fh)
                    out.writerow(headers)
                    for row in rows():
                        out.writerow([_csv_text(v, k) for v, k in zip(row, kinds, strict=True)])
            _replace_atomically(target, write_csv)
        else:
            wb = Workbook(write_only=True)
            wb.properties.creator = "cockpit"
            _stream_sheet(wb, tr("records_sheet", lang), headers, kinds, rows(),
                          extract.classification)
            _replace_atomically(target, lambda tmp: _save(wb, tmp, extract, source, q, lang,
                                                          masked, written, generated_at))
        total = q.count(source.selection)
    finally:
        con.close()
    as_of = q.as_of(source.state).isoformat()
    capped = written < total
    return {"path": str(target), "rows": written, "total": total, "capped": capped,
            "format": fmt, "masked": masked,
            "audited": audit(f"export_records_{fmt}", {
                "output": str(target), "extract": str(extract.path), "figure": source.title,
                "table": table, "rows": written, "total": total, "as_of": as_of, "lang": lang,
                "masked": masked}, source.state)}


def _fast(ws: Any, v: Any, kind: str) -> Any:
    """A value for a write-only sheet: plain values where openpyxl writes them faithfully
    (5x faster than a styled cell each), a text cell where a string would become a
    formula."""
    if isinstance(v, str):
        v = _clean(v)
        return _cell(ws, v, kind) if v[:1] == "=" else v
    if isinstance(v, float) or kind in (COORD, PCT):
        return _cell(ws, v, kind)
    return v


def _stream_sheet(wb: Workbook, title: str, headers: tuple[str, ...], kinds: tuple[str, ...],
                  rows: Iterator[tuple], classification: str | None) -> int:
    """One sheet laid out as ``tables._write_sheet`` lays out its sheets, rows streamed:
    widths from the first thousand rows (kept and written first), then the rest."""
    ws = wb.create_sheet(title[:31])
    head = list(islice(rows, 1000))
    widths = [_width(h, LABEL) for h in headers]
    for row in head:
        for c, (v, kind) in enumerate(zip(row, kinds, strict=True)):
            widths[c] = max(widths[c], _width(v, kind))
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    if classification:
        ws.oddHeader.center.text = ws.evenHeader.center.text = classification
    cells = []
    for h in headers:
        cell = _cell(ws, h, LABEL)
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
        cells.append(cell)
    ws.append(cells)
    n = 0
    for row in chain(head, rows):
        ws.append([_fast(ws, v, kind) for v, kind in zip(row, kinds, strict=True)])
        n += 1
    if n:  # written after the rows (a write-only sheet puts the filter after its data)
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{n + 1}"
    return n


def _save(wb: Workbook, tmp: Path, extract: Extract, source: RecordSource, q: Query, lang: str,
          masked: bool, written: int, generated_at: datetime | None) -> None:
    # the overview is written after the rows: it says how many there were
    as_of = q.as_of(source.state)
    overview = Table("overview", tr("x_overview", lang), (tr("x_item", lang), tr("x_value", lang)),
                     (LABEL, TEXT), ((tr("x_region", lang), extract.region_name),
                                     (tr("records_figure", lang), source.title),
                                     (tr("x_filter", lang),
                                      describe_filter(extract, source.state, lang)),
                                     (tr("x_as_of", lang), as_of.isoformat()),
                                     (tr("records_rows", lang), f"{written:,}"),
                                     (tr("x_privacy", lang),
                                      tr("x_masked" if masked else "x_unmasked", lang)),
                                     (tr("x_generated_at", lang),
                                      (generated_at or datetime.now()).strftime(
                                          "%Y-%m-%d %H:%M:%S"))))
    _write_sheet(wb, overview, extract.classification)
    wb.save(tmp)
