"""The user's own files beside the extracts: saved views, annotations (JSON), the audit log.

They live in the user data directory (``$COCKPIT_DATA_DIR``, else
``$XDG_DATA_HOME/cockpit``, else ``~/.local/share/cockpit``). A JSON document here is
written whole to a temporary name and renamed into place (a reader never sees half a
file), under an advisory lock so that two cockpit windows saving at once do not lose
each other's change (each save re-reads the file first). A file that cannot be read as
what it should be is never a crash and never silently lost: it is moved aside as
``<name>.broken-<time>`` and the caller gets a warning saying so.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

try:  # advisory locks: POSIX only; elsewhere two windows saving at once may race
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["JsonLoad", "data_dir", "load_json", "locked", "os_user", "save_json"]


def data_dir() -> Path:
    """The user data directory of the cockpit (not created here)."""
    explicit = os.environ.get("COCKPIT_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "cockpit"


def os_user() -> str:
    """The login name (the audit log's "who" when no operator name was given)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name and no passwd entry
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


@dataclass(frozen=True)
class JsonLoad:
    """What reading a store gave: its items and what was wrong with the file, if anything."""

    items: list[Any]
    warnings: tuple[str, ...] = ()
    kept_aside: Path | None = None
    """Where a damaged file was moved (or copied, when only some entries were bad)."""


def _aside(path: Path, move: bool) -> Path | None:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    try:
        if move:
            os.replace(path, target)
        else:
            target.write_bytes(path.read_bytes())
    except OSError:
        return None
    return target


def load_json(path: Path, key: str, parse: Callable[[Any], Any]) -> JsonLoad:
    """The list under ``key`` of the JSON document at ``path``, each entry through ``parse``.

    A missing file is an empty store. A file that is not JSON, or not an object with a
    list under ``key``, is moved aside and the store starts empty. Entries that
    ``parse`` rejects (ValueError, TypeError, KeyError) are left out with a warning, and
    a copy of the file is kept aside so the next save cannot lose them.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return JsonLoad([])
    except OSError as exc:
        return JsonLoad([], (f"{path}: {exc}",))
    try:
        doc = json.loads(raw.decode("utf-8"))
        entries = doc[key] if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f"no list under {key!r}")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        aside = _aside(path, move=True)
        where = f"; kept as {aside.name}" if aside else ""
        return JsonLoad([], (f"{path.name} is damaged ({type(exc).__name__}: {exc}){where}",),
                        aside)
    items, warnings = [], []
    for n, entry in enumerate(entries):
        try:
            items.append(parse(entry))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            warnings.append(f"{path.name}: entry {n + 1} ignored ({exc})")
    aside = None
    if warnings:
        aside = _aside(path, move=False)
        if aside is not None:
            warnings.append(f"{path.name}: a copy is kept as {aside.name}")
    return JsonLoad(items, tuple(warnings), aside)


def save_json(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``path`` atomically (temporary file, fsync, rename). Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``<path>.lock`` (read-modify-write of a store)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if fcntl is None:
        yield
        return
    with open(path.with_name(f"{path.name}.lock"), "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
