"""What a reader hands on: one file's (or sheet's) cells as an Arrow table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

SOURCE_FILE, SOURCE_ROW, GEOMETRY = "_source_file", "_source_row", "_geometry"
"""Columns every reader adds: the file label, the row's position (1 = the first row
below the header) and, for GIS files, the geometry as WGS84 WKB."""


@dataclass
class SourceTable:
    path: Path
    label: str
    """How the file is named to the user: its name, with ``#sheet`` for a workbook."""
    table: pa.Table
    """The cells (strings, native dates, or native types from Parquet/GIS) under their
    header names, then ``_source_file``, ``_source_row`` (and ``_geometry``)."""
    kind: str  # csv, excel, parquet, geo
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None
    """0-based row of the header in the file or sheet (rows above it were titles)."""
    sheet: str | None = None
    crs: str | None = None
    """GIS files: the CRS the geometries were read in (reprojected to WGS84)."""
    geometry_type: str | None = None
    skipped_rows: int = 0
    """Rows that could not be read (wrong number of fields); see ``notes``."""
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    """False when only the first rows were read (a preview)."""

    @property
    def headers(self) -> list[str]:
        return [c for c in self.table.column_names if not c.startswith("_")]

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


def with_provenance(table: pa.Table, label: str, first_row: int = 1) -> pa.Table:
    """Append ``_source_file`` (dictionary-encoded: one label per file) and ``_source_row``."""
    n = table.num_rows
    files = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)),
                                           pa.array([label], pa.string()))
    rows = pa.array(np.arange(first_row, first_row + n, dtype=np.int64))
    return table.append_column(SOURCE_FILE, files).append_column(SOURCE_ROW, rows)
