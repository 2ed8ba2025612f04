"""Where cleaned extracts are cached, and how a cache entry is named.

Validation, coordinate conversion and point-in-polygon assignment are done
once per extract version and kept in a DuckDB file under the user's cache
directory, never next to (or inside) the extract. The entry's name depends on
the extract's path and on the size and modification time of its files, so a
replaced extract gets a new entry and the old one is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

CACHE_FORMAT = "6"  # bump when the cached tables change shape


def cache_dir() -> Path:
    root = os.environ.get("COCKPIT_CACHE_DIR")
    if root:
        base = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "cockpit"
    base.mkdir(parents=True, exist_ok=True)
    return base


def fingerprint(path: Path) -> str:
    """Changes whenever the extract's bytes may have changed."""
    h = hashlib.sha256(CACHE_FORMAT.encode())
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            st = f.stat()
            # inode and ctime too: `cp -p` or `tar x` keep size and mtime of a new file.
            h.update(f"{f.relative_to(path)}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}|"
                     f"{st.st_ctime_ns}\n".encode())
    else:
        st = path.stat()
        h.update(f"{st.st_size}|{st.st_mtime_ns}|{st.st_ino}|{st.st_ctime_ns}".encode())
        wal = path.with_name(path.name + ".wal")  # DuckDB replays it on open
        if wal.exists():
            ws = wal.stat()
            h.update(f"|wal {ws.st_size}|{ws.st_mtime_ns}|{ws.st_ino}".encode())
    return h.hexdigest()[:20]


def _path_key(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]


def cache_file(path: Path, fp: str) -> Path:
    return cache_dir() / f"{_path_key(path)}-{fp}.duckdb"


def remove_stale(path: Path, keep: Path) -> None:
    """Delete older cache entries of the same extract path."""
    prefix = _path_key(path) + "-"
    for f in cache_dir().glob(prefix + "*"):
        if f != keep and not f.name.startswith(keep.name):
            # Another process may still have it open; it goes next time then.
            with contextlib.suppress(OSError):
                f.unlink()
