"""Slow work off the GUI thread, latest request wins.

Each job has a name (``scene``, ``panels``, ``dispatch``...). While a job of a
name runs, a newer request of the same name waits in one slot (replacing any
older waiting one), so a burst of filter or view changes runs at most twice,
not once per change. A result is delivered only if its token is still the
latest for its name; a late answer for an older filter is dropped and counted.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal


class _Relay(QObject):
    # Emitted from a worker thread; Qt queues it to the GUI thread that owns the relay.
    done = Signal(str, object, object, object)  # name, token, result, error text


def _run(name: str, token: object, fn: Callable[[], Any], relay: _Relay) -> None:
    try:
        result, error = fn(), None
    except Exception as exc:  # a failing panel must not take the window down
        result = None
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
    with contextlib.suppress(RuntimeError):  # the window closed while the job ran
        relay.done.emit(name, token, result, error)


@dataclass
class JobStats:
    submitted: int = 0
    delivered: int = 0
    dropped: int = 0
    failed: int = 0
    coalesced: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


class JobRunner(QObject):
    finished = Signal(str, object, object)  # name, token, result
    failed = Signal(str, object, str)  # name, token, error text

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        # Plain Python threads, not QRunnables: a QRunnable's wrapper collected by the
        # GUI thread's garbage collector while the pool still ran it aborted the process.
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cockpit-job")
        self._futures: set[Future] = set()
        self._closed = False
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._latest: dict[str, object] = {}
        self._running: dict[str, object] = {}  # name → token of the running job
        self._waiting: dict[str, tuple[object, Callable[[], Any]]] = {}
        self.stats = JobStats()

    def submit(self, name: str, token: object, fn: Callable[[], Any]) -> None:
        if self._closed:
            return
        self.stats.submitted += 1
        self._latest[name] = token
        if name in self._running and self._running[name] == token:
            # the running job already computes exactly this: do not run it twice
            if self._waiting.pop(name, None) is not None:
                self.stats.coalesced += 1
            self.stats.coalesced += 1
            return
        if name in self._running:
            if name in self._waiting:
                self.stats.coalesced += 1
            self._waiting[name] = (token, fn)
            return
        self._start(name, token, fn)

    def _start(self, name: str, token: object, fn: Callable[[], Any]) -> None:
        self._running[name] = token
        fut = self.pool.submit(_run, name, token, fn, self._relay)
        self._futures.add(fut)
        fut.add_done_callback(self._futures.discard)

    def busy(self) -> bool:
        return bool(self._running or self._waiting)

    def latest(self, name: str) -> object:
        return self._latest.get(name)

    def _on_done(self, name: str, token: object, result: object, error: object) -> None:
        self._running.pop(name, None)
        waiting = self._waiting.pop(name, None)
        if waiting is not None:
            self._start(name, *waiting)
        if token != self._latest.get(name):
            self.stats.dropped += 1
            return
        if error is not None:
            self.stats.failed += 1
            self.failed.emit(name, token, str(error))
            return
        self.stats.delivered += 1
        self.finished.emit(name, token, result)

    def wait(self, msecs: int = 30_000) -> bool:
        """Until the running jobs end (their results are still delivered by the event loop)."""
        _, pending = futures_wait(list(self._futures), timeout=msecs / 1000)
        return not pending

    def shutdown(self) -> None:
        self._closed = True
        self._waiting.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)
