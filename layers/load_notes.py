"""Sentences (zh/en) for what the load report concluded (``TableReport.findings``)."""

from __future__ import annotations

from typing import Any

from .i18n import tr

__all__ = ["finding_lines"]


def finding_lines(report: Any, lang: str | None = None) -> list[str]:
    """One sentence per finding of ``report`` (a ``data.load_report.LoadReport``)."""
    out: list[str] = []
    steps = report.tables.get("dispute_steps")
    doc = steps.findings.get("level_reading") if steps is not None else None
    if doc and doc.get("reading") == "from":
        out.append(tr("load_steps_from", lang, last=f"{doc['last_from']:,}",
                      esc=f"{doc['escalation_from']:,}"))
    elif doc and doc.get("reading") == "unclear" and doc.get("why") == "mixed":
        out.append(tr("load_steps_mixed", lang,
                      to=f"{doc['last_to'] + doc['escalation_to']:,}",
                      frm=f"{doc['last_from'] + doc['escalation_from']:,}"))
    elif doc and doc.get("reading") == "unclear":
        out.append(tr("load_steps_neither", lang, n=f"{doc['last_neither']:,}",
                      compared=f"{doc['compared']:,}"))
    for name, t in report.tables.items():
        dup = t.findings.get("duplicates")
        if dup:
            changed = dup.get("changed_category")
            out.append(tr("load_duplicates", lang, table=name, ids=f"{dup['ids']:,}",
                          rule=tr(f"dup_rule_{dup['rule']}", lang),
                          superseded=f"{dup['superseded']:,}",
                          changed="-" if changed is None else f"{changed:,}"))
    return out
