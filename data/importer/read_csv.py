"""CSV and TSV files: encoding, delimiter and header row sniffed, every cell a string.

pyarrow's CSV reader does the work (multi-threaded, in blocks); for a non-UTF-8
file it transcodes block by block as it reads, so a 1M-row GBK file is never held
as a second decoded copy in memory. Rows whose number of fields does not match the
header (a 合计 line at the end, a broken line) are skipped and counted.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from .encoding import SAMPLE_BYTES, detect_file
from .errors import ImportFailure
from .header import find_header, header_names
from .source import SourceTable, with_provenance

DELIMITERS = (",", "\t", ";", "|")
_MAX_SKIPPED_SHOWN = 3


def _sample_text(path: Path, encoding: str) -> str:
    with open(path, "rb") as fh:
        raw = fh.read(SAMPLE_BYTES)
    if len(raw) == SAMPLE_BYTES:
        cut = raw.rfind(b"\n")
        raw = raw[:cut + 1] if cut > 0 else raw
    text = raw.decode(encoding, errors="replace")
    return text.lstrip("\ufeff")


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the most lines into the same number (> 1) of fields."""
    lines = text.splitlines()[:200]
    best, best_score = ",", -1
    for d in DELIMITERS:
        widths = Counter(len(r) for r in csv.reader(lines, delimiter=d) if len(r) > 1)
        if not widths:
            continue
        width, count = max(widths.items(), key=lambda kv: (kv[1], kv[0]))
        score = count * 1000 + width
        if score > best_score:
            best, best_score = d, score
    return best


def _rows(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Logical rows of the sample and, for each, the physical line it ends on."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, ends = [], []
    try:
        for row in reader:
            rows.append(row)
            ends.append(reader.line_num)
            if len(rows) >= 400:
                break
    except csv.Error:
        pass  # a broken quote in the sample: use what was read
    return rows, ends


def read_csv(path: Path, label: str, encoding: str | None = None, delimiter: str | None = None,
             header_row: int | None = None, known: Callable[[str], bool] | None = None,
             max_rows: int | None = None) -> SourceTable:
    """Read one CSV/TSV file (``max_rows`` for a preview)."""
    try:
        encoding = encoding or detect_file(path)
    except ValueError as exc:
        raise ImportFailure(str(exc), label) from exc
    text = _sample_text(path, encoding)
    if not text.strip():
        raise ImportFailure("the file is empty", label)
    delimiter = delimiter or sniff_delimiter(text)
    rows, ends = _rows(text, delimiter)
    if header_row is None:
        header_row = find_header(rows, known)
        if header_row is None:
            raise ImportFailure("no header row found (a row of column names above the data)",
                                label)
    if header_row >= len(rows):
        raise ImportFailure(f"header row {header_row + 1} is beyond the rows read", label)
    body = [len(r) for r in rows[header_row + 1:] if r]
    width = Counter(body).most_common(1)[0][0] if body else len(rows[header_row])
    head = (rows[header_row] + [""] * width)[:width]
    names = header_names(head)
    skipped: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if len(skipped) < 1_000_000:
            skipped.append(row.text)
        return "skip"

    keys = [f"c{i}" for i in range(width)]
    read_opts = pacsv.ReadOptions(
        skip_rows=ends[header_row], column_names=keys, block_size=1 << 22,
        encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding)
    parse_opts = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                    invalid_row_handler=on_invalid)
    convert = pacsv.ConvertOptions(column_types={k: pa.string() for k in keys},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        if max_rows is None:
            table = pacsv.read_csv(path, read_opts, parse_opts, convert)
        else:
            table = _head(path, read_opts, parse_opts, convert, max_rows)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0]
        raise ImportFailure(f"cannot read as {encoding} CSV: {msg}", label) from exc
    table = table.rename_columns(names)
    src = SourceTable(path, label, with_provenance(table, label), "csv", encoding=encoding,
                      delimiter=delimiter, header_row=header_row, skipped_rows=len(skipped),
                      complete=max_rows is None)
    if skipped:
        shown = "; ".join(repr(t[:60]) for t in skipped[:_MAX_SKIPPED_SHOWN])
        src.notes.append(f"{len(skipped)} row(s) with a different number of fields than the "
                         f"header ({width}) skipped: {shown}")
    return src


def _head(path: Path, read_opts: pacsv.ReadOptions, parse_opts: pacsv.ParseOptions,
          convert: pacsv.ConvertOptions, max_rows: int) -> pa.Table:
    reader = pacsv.open_csv(path, read_opts, parse_opts, convert)
    batches, n = [], 0
    for batch in reader:
        batches.append(batch)
        n += batch.num_rows
        if n >= max_rows:
            break
    return pa.Table.from_batches(batches, reader.schema).slice(0, max_rows)
