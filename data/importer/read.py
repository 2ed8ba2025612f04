"""Read step: a file (or ``book.xlsx#Sheet``) → ``SourceTable`` of its cells.

The reader is chosen by what the file is, not only by its name: a ``.xlsx`` that is
really a CSV, or a ``.csv`` that is a workbook, is caught here (one clear line), not
deep inside a parser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from .errors import ImportFailure
from .read_csv import read_csv
from .read_excel import read_excel, split_sheet
from .read_geo import GEO_SUFFIXES, read_geo
from .source import SourceTable, with_provenance

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".tab")
SUFFIXES = (*TEXT_SUFFIXES, *EXCEL_SUFFIXES, ".parquet", ".pq", *GEO_SUFFIXES)

_ZIP, _OLE, _PARQUET, _SQLITE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"PAR1", b"SQLite format 3"


def sniff_kind(path: Path) -> str:
    """csv, excel, parquet or geo, from the name and the first bytes."""
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(16)
    if suffix in EXCEL_SUFFIXES:
        if head.startswith(_ZIP) or (suffix in (".xls", ".xlsb") and head.startswith(_OLE)):
            return "excel"
        if _texty(head) and head.lstrip().lower().startswith((b"<", b"\xef\xbb\xbf<")):
            raise ImportFailure(f"named {suffix} but it is a web page (an HTML table); open "
                                "it in Excel and save it as .xlsx", path.name)
        if _texty(head) and suffix == ".xls":
            return "text_as_excel"  # some systems write tab-separated text named .xls
        raise ImportFailure(f"named {suffix} but it is not a workbook", path.name)
    if suffix in (".parquet", ".pq"):
        if head.startswith(_PARQUET):
            return "parquet"
        raise ImportFailure("named .parquet but it is not a Parquet file", path.name)
    if suffix in TEXT_SUFFIXES:
        if head.startswith((_ZIP, _OLE)):
            raise ImportFailure(f"named {suffix} but it is a workbook (rename it .xlsx/.xls)",
                                path.name)
        if head.startswith((_PARQUET, _SQLITE)) or (b"\0" in head and not head.startswith(
                (b"\xff\xfe", b"\xfe\xff"))):
            raise ImportFailure(f"named {suffix} but it is not a text file", path.name)
        return "csv"
    if suffix in GEO_SUFFIXES:
        return "geo"
    raise ImportFailure(f"unknown kind of file {suffix or '(no suffix)'}; expected one of "
                        + " ".join(SUFFIXES), path.name)


def _texty(head: bytes) -> bool:
    return bool(head) and b"\0" not in head


def read_source(spec: str | Path, *, encoding: str | None = None,
                delimiter: str | None = None, header_row: int | None = None,
                sheet: str | None = None, crs: str | None = None,
                known: Callable[[str], bool] | None = None,
                score: Callable[[list[str]], float] | None = None,
                max_rows: int | None = None) -> SourceTable:
    """Read one source. ``known`` says whether a header cell is a known column name
    (to find the header row); ``score`` rates a sheet's header for choosing a sheet."""
    text, named_sheet = split_sheet(str(spec))
    path = Path(text)
    label = path.name + (f"#{named_sheet}" if named_sheet else "")
    if not path.is_file():
        raise ImportFailure("file not found", str(spec))
    try:
        kind = sniff_kind(path)
    except OSError as exc:
        raise ImportFailure(f"cannot read: {exc.strerror or exc}", label) from exc
    if kind in ("csv", "text_as_excel"):
        src = read_csv(path, label, encoding, delimiter, header_row, known, max_rows)
        if kind == "text_as_excel":
            src.notes.append(f"named {path.suffix} but it is text: read as delimited text")
        return src
    if kind == "excel":
        return read_excel(path, label, named_sheet or sheet, header_row, known, score, max_rows)
    if kind == "parquet":
        return _read_parquet(path, label, max_rows)
    return read_geo(path, label, crs, max_rows=max_rows, encoding=encoding)


def _read_parquet(path: Path, label: str, max_rows: int | None) -> SourceTable:
    import pyarrow.parquet as pq

    try:
        if max_rows is None:
            table = pq.read_table(path)
        else:
            pf = pq.ParquetFile(path)
            batch = next(pf.iter_batches(batch_size=max_rows), None)
            table = (pa.Table.from_batches([batch]) if batch is not None
                     else pf.schema_arrow.empty_table())
    except Exception as exc:  # ArrowInvalid, OSError: a damaged file
        raise ImportFailure(f"not a readable Parquet file ({str(exc).splitlines()[0]})",
                            label) from exc
    table = table.select([n for n in table.column_names if not n.startswith("_")])
    return SourceTable(path, label, with_provenance(table, label), "parquet",
                       complete=max_rows is None)

