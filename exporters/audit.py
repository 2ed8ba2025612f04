"""The audit log: one JSON line per export or unmasking, appended, never rewritten.

Design principle 6: unmasking personal data is explicit and leaves a trace. Each
event is one line of JSON in ``audit.jsonl`` in the user data directory
(``$COCKPIT_DATA_DIR``, else ``$XDG_DATA_HOME/cockpit``, else
``~/.local/share/cockpit``) with who (OS user), when (ISO time with the UTC offset),
host, action, output path, extract path, the filter and any further details.

The file is opened with ``O_APPEND`` and each line goes out in one ``write`` call, so
concurrent writers (two cockpit windows, a scripted export) interleave whole lines
and earlier lines are never touched. Writing the log must not break the export it
records: a failure is logged as a warning and reported by returning False.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from data.filters import FilterState
from data.user_files import data_dir, os_user

__all__ = ["LOG_NAME", "audit", "audit_log_path", "data_dir", "filter_json", "read_audit",
           "read_audit_lines"]

LOG_NAME = "audit.jsonl"
_log = logging.getLogger(__name__)


def audit_log_path() -> Path:
    return data_dir() / LOG_NAME


def filter_json(state: FilterState | None) -> dict[str, Any] | None:
    """Every field of the state (defaults too, so a line reads on its own) as plain JSON."""
    if state is None:
        return None
    out: dict[str, Any] = {}
    for f in dataclasses.fields(state):
        v = getattr(state, f.name)
        if isinstance(v, frozenset):
            v = sorted(v)
        elif isinstance(v, date):
            v = v.isoformat()
        out[f.name] = v
    return out


def _plain(v: Any) -> Any:
    # Paths, dates and anything else odd become text rather than failing the line.
    return v.isoformat() if isinstance(v, date) else str(v)


def audit(action: str, what: Mapping[str, Any], filter_state: FilterState | None,
          path: str | os.PathLike[str] | None = None) -> bool:
    """Append one event; True when it was written, False (and a warning) when not.

    ``what`` describes the event: its ``output`` (the written file) and ``extract``
    (the extract's path) keys become top-level fields, the rest goes under
    ``details`` (e.g. ``masked``, ``lang``, ``as_of``). ``path`` overrides the log file.
    """
    details = dict(what)
    record = {
        "when": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "who": os_user(),
        "host": socket.gethostname(),
        "action": action,
        "output": details.pop("output", None),
        "extract": details.pop("extract", None),
        "filter": filter_json(filter_state),
        "details": details,
    }
    target = Path(path) if path is not None else audit_log_path()
    try:
        # json escapes newlines inside strings, so a record is always exactly one line
        line = (json.dumps(record, ensure_ascii=False, default=_plain) + "\n").encode()
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                     0o600)
        try:
            written = os.write(fd, line)
            if written != len(line):  # a full disk; the partial line is reported, not hidden
                raise OSError(f"short write ({written} of {len(line)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)
    except (OSError, TypeError, ValueError) as exc:
        _log.warning("audit log %s not written (%s: %s): %s", target, action,
                     record.get("output"), exc)
        return False
    return True


def read_audit(path: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every event of the log, oldest first (an empty list when there is none yet)."""
    target = Path(path) if path is not None else audit_log_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_audit_lines(path: str | os.PathLike[str] | None = None
                     ) -> tuple[list[dict[str, Any]], int]:
    """Every readable event, oldest first, and how many lines could not be read (a line
    cut by a full disk, or edited by hand): a viewer shows the rest and says so."""
    target = Path(path) if path is not None else audit_log_path()
    try:
        text = target.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return [], 0
    events, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(event, dict):
            events.append(event)
        else:
            bad += 1
    return events, bad
