"""The load report: what was read, what was set aside and why, what was repaired."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .schema import DATA_TABLES

OK, MISSING, SET_ASIDE = "ok", "missing", "set_aside"


@dataclass
class TableReport:
    rows: int = 0
    """Rows read from the extract."""
    quarantined: int = 0
    """Rows set aside (excluded from every figure)."""
    reasons: dict[str, int] = field(default_factory=dict)
    """Set-aside rows per reason; the values add up to ``quarantined``."""
    adjusted: dict[str, int] = field(default_factory=dict)
    """Rows kept with a repair, per repair (a row may have several)."""
    status: str = MISSING
    message: str | None = None
    findings: dict[str, Any] = field(default_factory=dict)
    """Machine-readable conclusions drawn while loading, by key (e.g. ``level_reading`` of
    dispute_steps, ``duplicates`` of a table with ids); ``layers/load_notes.py`` words them."""

    @property
    def kept(self) -> int:
        return self.rows - self.quarantined

    def set_aside_whole(self, message: str, reason: str) -> None:
        self.status = SET_ASIDE
        self.message = message
        self.quarantined = self.rows
        self.reasons = {reason: self.rows} if self.rows else {}


@dataclass
class LoadReport:
    source: str
    kind: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Extract-wide remarks: foreign tables, meta defaults, broken files."""

    def table(self, name: str) -> TableReport:
        return self.tables.setdefault(name, TableReport())

    def to_json(self) -> dict[str, Any]:
        """Every schema table, present or not, in the ``report --json`` shape."""
        out: dict[str, Any] = {}
        for name in ("meta", *DATA_TABLES):
            t = self.tables.get(name, TableReport())
            d = asdict(t)
            d["reasons"] = dict(sorted(t.reasons.items()))
            d["adjusted"] = dict(sorted(t.adjusted.items()))
            out[name] = d
        return out

    @classmethod
    def from_json(cls, source: str, kind: str, tables: dict[str, Any],
                  notes: list[str]) -> LoadReport:
        return cls(source, kind, {k: TableReport(**v) for k, v in tables.items()}, list(notes))

    def summary_lines(self, zh: bool = False) -> list[str]:
        """Human-readable lines for a terminal or a message box."""
        lines = []
        for name, t in self.to_json().items():
            if t["status"] == MISSING:
                lines.append(f"{name}: {'缺失' if zh else 'missing'}")
                continue
            text = f"{name}: {t['rows']} {'行' if zh else 'rows'}"
            if t["quarantined"]:
                why = ", ".join(f"{k} {v}" for k, v in t["reasons"].items())
                text += f", {t['quarantined']} {'行已隔离' if zh else 'set aside'} ({why})"
            if t["adjusted"]:
                fixes = ", ".join(f"{k} {v}" for k, v in t["adjusted"].items())
                text += f"; {'已修正' if zh else 'repaired'}: {fixes}"
            if t["message"]:
                text += f" [{t['message']}]"
            lines.append(text)
        lines.extend(self.notes)
        return lines
