"""The audit log as rows a person reads (文件 → 审计日志): newest first, in words.

Columns: when (local time), who (the operator's name for a reveal, with the login), the
action in words, what (the record and field revealed, or the file written), why (the
reason given), whether personal data was masked, and the host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .i18n import tr

COLUMNS = ("when", "who", "action", "what", "why", "masked", "host")


def action_label(action: str, lang: str | None = None) -> str:
    key = f"audit_action_{action}"
    label = tr(key, lang)
    return action if label == key else label


def _when(text: Any) -> str:
    return str(text or "").replace("T", " ")[:19]


def audit_row(event: dict[str, Any], lang: str | None = None) -> tuple[str, ...]:
    d = event.get("details") if isinstance(event.get("details"), dict) else {}
    login = str(event.get("who") or "")
    operator = str(d.get("operator") or "")
    who = f"{operator} ({login})" if operator and login and operator != login else (
        operator or login)
    action = str(event.get("action") or "")
    if action == "reveal":
        what = f"{d.get('table', '')} {d.get('record', '')} · {d.get('field', '')}"
    else:
        out = event.get("output")
        what = ", ".join(map(str, out.values())) if isinstance(out, dict) else str(out or "")
    masked = d.get("masked")
    return (_when(event.get("when")), who, action_label(action, lang), what,
            str(d.get("reason") or ""),
            "" if masked is None else tr("yes" if masked else "no", lang),
            str(event.get("host") or ""))


def audit_rows(events: Sequence[dict[str, Any]], lang: str | None = None
               ) -> list[tuple[str, ...]]:
    """Newest first (the log is appended to: the last line is the newest)."""
    return [audit_row(e, lang) for e in reversed(events)]


def headers(lang: str | None = None) -> tuple[str, ...]:
    return tuple(tr(f"audit_col_{c}", lang) for c in COLUMNS)
