"""The import report: per file and column, what was mapped to what and what was not read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .source import SourceTable
from .transform import BatchStats, ColumnStats


@dataclass
class FileReport:
    table: str
    file: str
    rows: int
    kind: str
    mapping: str
    """``proposed`` or ``mapping file entry N``."""
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None
    sheet: str | None = None
    crs: str | None = None
    skipped_rows: int = 0
    unused_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stats: BatchStats = field(default_factory=BatchStats)

    @classmethod
    def of(cls, table: str, src: SourceTable, mapping: str) -> FileReport:
        return cls(table, src.label, src.num_rows, src.kind, mapping, src.encoding,
                   src.delimiter, src.header_row, src.sheet, src.crs, src.skipped_rows,
                   notes=list(src.notes))

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "table": self.table, "file": self.file, "rows": self.rows, "kind": self.kind,
            "mapping": self.mapping, "encoding": self.encoding, "delimiter": self.delimiter,
            "header_row": None if self.header_row is None else self.header_row + 1,
            "sheet": self.sheet, "crs": self.crs, "skipped_rows": self.skipped_rows,
            "columns": {k: _column_json(c) for k, c in s.columns.items()},
            "unused_columns": self.unused_columns,
            "points": {"zero_placeholder": s.zero_points,
                       "placeholder_address": s.placeholder_points, "unlocated": s.unlocated,
                       "placed_by_name": s.placed_by_name,
                       "placed_by_address": s.placed_by_address,
                       "geocoded": s.geocoded,
                       "unmatched_names": dict(sorted(s.unmatched_names.items(),
                                                      key=lambda kv: -kv[1]))},
            "ids_from_content": s.content_ids > 0,
            "notes": self.notes,
        }


def _column_json(c: ColumnStats) -> dict[str, Any]:
    return {"source": c.source, "rows": c.rows, "read": c.read, "blank": c.blank,
            "unreadable": dict(c.failed), "examples": dict(c.examples),
            "to_other": dict(sorted(c.to_fallback.items(), key=lambda kv: -kv[1]))}


@dataclass
class ImportReport:
    out: str | None
    format: str
    dry_run: bool
    files: list[FileReport] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    mapping_toml: str = ""
    written: bool = False
    mapping_saved: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"out": self.out, "format": self.format, "dry_run": self.dry_run,
                "written": self.written, "tables": self.tables, "meta": self.meta,
                "files": [f.to_json() for f in self.files], "mapping_saved": self.mapping_saved,
                "mapping": self.mapping_toml}

    def text_lines(self) -> list[str]:
        lines = []
        for f in self.files:
            where = [f.kind]
            if f.encoding:
                where.append(f.encoding)
            if f.sheet:
                where.append(f"sheet {f.sheet}")
            if f.header_row:
                where.append(f"header on row {f.header_row + 1}")
            if f.crs:
                where.append(f.crs)
            lines.append(f"{f.table} ← {f.file} ({', '.join(where)}): {f.rows} rows, "
                         f"{f.mapping}")
            for target, c in f.stats.columns.items():
                lines.append(f"  {target:<18} ← {_pad(c.source[:28], 28)} {_column_text(c)}")
            s = f.stats
            if s.zero_points:
                lines.append(f"  {s.zero_points} points at (0, 0) taken as no coordinates")
            if s.placeholder_points:
                lines.append(f"  {s.placeholder_points} points of placeholder addresses taken as "
                             "no coordinates")
            if s.geocoded:
                lines.append(f"  rows without coordinates located by the address lookup: "
                             f"{s.geocoded}")
            if s.placed_by_name or s.placed_by_address:
                lines.append(f"  rows without coordinates placed by area name: "
                             f"{s.placed_by_name}, by the address: {s.placed_by_address}")
            if s.unmatched_names:
                top = sorted(s.unmatched_names.items(), key=lambda kv: -kv[1])[:5]
                lines.append("  area names matching no area: "
                             + ", ".join(f"{k} ({v})" for k, v in top)
                             + (" …" if len(s.unmatched_names) > 5 else ""))
            if f.unused_columns:
                lines.append("  not used: " + ", ".join(f.unused_columns))
            lines += [f"  note: {n}" for n in f.notes]
        if self.written:
            counts = ", ".join(f"{t} {n}" for t, n in self.tables.items())
            lines.append(f"wrote {self.out} ({self.format}): {counts}")
        elif self.dry_run:
            lines.append("dry run: nothing written")
        if self.mapping_saved:
            lines.append(f"mapping saved to {self.mapping_saved} (edit it and pass it with "
                         "--mapping next time)")
        return lines


def _pad(text: str, width: int) -> str:
    """Pad to a display width (a Chinese character takes two columns in a terminal)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _column_text(c: ColumnStats) -> str:
    parts = [f"{c.read} read"]
    if c.blank:
        parts.append(f"{c.blank} blank")
    for reason, n in c.failed.items():
        ex = ", ".join(repr(e) for e in c.examples.get(reason, []))
        parts.append(f"{n} {reason}" + (f" ({ex})" if ex else ""))
    if c.to_fallback:
        top = sorted(c.to_fallback.items(), key=lambda kv: -kv[1])[:4]
        parts.append("unknown → other: " + ", ".join(f"{k} ({v})" for k, v in top))
    return "; ".join(parts)


def column_comment(c: ColumnStats) -> str:
    """A one-line comment for the mapping file: how well the column read."""
    text = f"{c.read} of {c.rows} read"
    if c.blank:
        text += f", {c.blank} blank"
    for reason, n in c.failed.items():
        ex = c.examples.get(reason, [])
        text += f", {n} {reason}" + (f" e.g. {ex[0]!r}" if ex else "")
    return text
