"""When to reload an extract that is being replaced under a running wall (no Qt here).

Polled, not event-driven: a file replaced by rename loses an inotify watch, and a
network share may deliver no events at all. A new version is loaded only after its
signature (size, times, inode, DuckDB WAL) has held still for one whole poll, so a
file still being written is not read half-way; a version that fails to open is tried
again every ``retry_s`` seconds (it may have been locked or incomplete), and any
further change to it is tried as soon as it holds still.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data.cache import fingerprint


def signature(path: Path) -> str | None:
    """The extract's version, or None while it is missing (between unlink and rename)."""
    try:
        return fingerprint(path)
    except OSError:
        return None


@dataclass
class ReloadTracker:
    """Decides, poll by poll, whether to open the extract again.

    ``poll`` returns the signature to load, or None. The caller reports the outcome
    with ``succeeded`` or ``failed``; ``stale_since`` is when the data on screen
    stopped matching the file (None while it matches).
    """

    path: Path
    retry_s: float = 10.0
    loaded: str | None = None
    loading: str | None = None
    stale_since: float | None = None
    failure: str = ""
    _seen: str | None = None
    _seen_at: float = 0.0
    _failed: str | None = None
    _failed_at: float = 0.0
    _missing_at: float | None = None

    def poll(self, now: float) -> str | None:
        if self.loading is not None:
            return None
        sig = signature(self.path)
        if sig is None:
            # gone for a moment during a replace is normal; gone for longer is stale
            if self._missing_at is None:
                self._missing_at = now
            elif now - self._missing_at >= self.retry_s and self.stale_since is None:
                self.stale_since, self.failure = self._missing_at, "missing"
            return None
        self._missing_at = None
        if sig == self.loaded:
            if self.stale_since is not None:  # the good version is back
                self.stale_since, self.failure = None, ""
            self._seen = sig
            return None
        if sig != self._seen:  # changed since the last poll: let it settle
            self._seen, self._seen_at = sig, now
            return None
        if sig == self._failed and now - self._failed_at < self.retry_s:
            return None
        self.loading = sig
        return sig

    def succeeded(self, sig: str) -> None:
        self.loaded, self.loading = sig, None
        self._failed = None
        self.stale_since, self.failure = None, ""

    def failed(self, sig: str, reason: str, now: float) -> None:
        self.loading = None
        self._failed, self._failed_at = sig, now
        self.failure = reason
        if self.stale_since is None:  # since the unreadable version appeared
            self.stale_since = self._seen_at if self._seen == sig else now
