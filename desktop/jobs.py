"""Slow work off the GUI thread: each request carries its own callbacks, and newer
requests cancel older ones.

A request names a *slot* (``scene``, ``panels``...), a *token* (what it computes: the
filter, the view, the options) and a work function. Per slot the latest request wins:
- the same token as the job already running: nothing new is started (the new
  callbacks replace the old ones);
- another token while a job runs: the running job is cancelled (``JobContext.cancel``
  interrupts the DuckDB cursors it opened, so a stale 300 ms query stops at once) and
  the new request waits in the slot's single place (replacing an older waiting one);
- a result is delivered, on the GUI thread, only while its token is still the latest
  for its slot; a late or cancelled answer is dropped and counted.
Results reach the ``on_result``/``on_error`` callbacks given with the request: nothing
is routed by slot name. ``idle`` fires when the last job has ended and its callbacks
(which may submit follow-up work) have run.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from typing import Any

import duckdb
from PySide6.QtCore import QObject, QTimer, Signal

Work = Callable[["JobContext"], Any]
REINTERRUPT_MS = 50
OnResult = Callable[[Any], None]
OnError = Callable[[str], None]


class JobCancelled(Exception):
    """Raised inside a job that was superseded (``JobContext.check``)."""


class _GuardedCursor:
    """A DuckDB cursor that refuses new work once its job is cancelled.

    ``interrupt()`` stops the statement running now; the guard stops the ones after it
    (a panel job runs a dozen queries, and a cancel between two of them would
    otherwise let the rest run to the end).
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, context: JobContext) -> None:
        self._cursor = cursor
        self._context = context

    def __getattr__(self, name: str) -> Any:
        self._context.check()
        return getattr(self._cursor, name)


class JobContext:
    """What a running job may use: cursors that are interrupted when it is cancelled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self.cancelled = False

    def cursor(self, extract: Any) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor of ``extract`` for this job (closed when the job ends)."""
        self.check()
        cur = extract.cursor()
        with self._lock:
            self._cursors.append(cur)
        return _GuardedCursor(cur, self)  # type: ignore[return-value]

    def check(self) -> None:
        """Stop here if the job was superseded (for long Python loops between queries)."""
        if self.cancelled:
            raise JobCancelled

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
        self.interrupt()

    def interrupt(self) -> None:
        """Interrupt the statements running now (again: one that was about to start when
        the first interrupt came would otherwise run to its end)."""
        with self._lock:
            cursors = list(self._cursors)
        for cur in cursors:
            with contextlib.suppress(Exception):  # a closed cursor cannot be interrupted
                cur.interrupt()

    def close(self) -> None:
        with self._lock:
            cursors, self._cursors = self._cursors, []
        for cur in cursors:
            with contextlib.suppress(Exception):
                cur.close()


class _Relay(QObject):
    # Emitted from a worker thread; Qt queues it to the GUI thread that owns the relay.
    done = Signal(object, object, object)  # job, result, error text (or None)


@dataclass(eq=False)
class _Job:
    slot: str
    token: object
    work: Work
    on_result: OnResult | None
    on_error: OnError | None
    context: JobContext = field(default_factory=JobContext)


def _run(job: _Job, relay: _Relay) -> None:
    try:
        result, error = job.work(job.context), None
    except JobCancelled:
        result, error = None, JobCancelled
    except Exception as exc:  # a failing panel must not take the window down
        if job.context.cancelled:  # DuckDB's InterruptException and whatever followed it
            result, error = None, JobCancelled
        else:
            result = None
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
    finally:
        job.context.close()
    with contextlib.suppress(RuntimeError):  # the runner was deleted while the job ran
        relay.done.emit(job, result, error)


@dataclass
class JobStats:
    submitted: int = 0
    delivered: int = 0
    dropped: int = 0
    """Answers that arrived for a token no longer the latest."""
    cancelled: int = 0
    """Running jobs interrupted because a newer request came."""
    failed: int = 0
    coalesced: int = 0
    """Requests that never ran: equal to the running job, or replaced while waiting."""


class JobRunner(QObject):
    idle = Signal()

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
        self._running: dict[str, _Job] = {}
        self._waiting: dict[str, _Job] = {}
        self.stats = JobStats()
        # cancelled jobs still running are interrupted again until they end (see interrupt)
        self._reinterrupt = QTimer(self, interval=REINTERRUPT_MS)
        self._reinterrupt.timeout.connect(self._interrupt_cancelled)

    def submit(self, slot: str, token: object, work: Work, on_result: OnResult | None = None,
               on_error: OnError | None = None) -> None:
        """Run ``work(context)`` for ``slot``; ``on_result(value)`` or ``on_error(text)`` on
        the GUI thread if ``token`` is still the slot's latest when it ends."""
        if self._closed:
            return
        self.stats.submitted += 1
        self._latest[slot] = token
        job = _Job(slot, token, work, on_result, on_error)
        running = self._running.get(slot)
        if running is not None and running.token == token and not running.context.cancelled:
            # the running job already computes exactly this: do not run it twice
            running.on_result, running.on_error = on_result, on_error
            if self._waiting.pop(slot, None) is not None:
                self.stats.coalesced += 1
            self.stats.coalesced += 1
            return
        if running is not None:
            if not running.context.cancelled:
                running.context.cancel()
                self.stats.cancelled += 1
                self._reinterrupt.start()
            if slot in self._waiting:
                self.stats.coalesced += 1
            self._waiting[slot] = job
            return
        self._start(job)

    def cancel(self, slot: str) -> None:
        """Forget the slot's requests: the running job is interrupted, nothing is delivered."""
        self._latest.pop(slot, None)
        if self._waiting.pop(slot, None) is not None:
            self.stats.coalesced += 1
        running = self._running.get(slot)
        if running is not None and not running.context.cancelled:
            running.context.cancel()
            self.stats.cancelled += 1
            self._reinterrupt.start()

    def _interrupt_cancelled(self) -> None:
        cancelled = [j for j in self._running.values() if j.context.cancelled]
        for job in cancelled:
            job.context.interrupt()
        if not cancelled:
            self._reinterrupt.stop()

    def cancel_all(self) -> None:
        for slot in list(self._running) + list(self._waiting):
            self.cancel(slot)

    def _start(self, job: _Job) -> None:
        self._running[job.slot] = job
        fut = self.pool.submit(_run, job, self._relay)
        self._futures.add(fut)
        fut.add_done_callback(self._futures.discard)

    def busy(self) -> bool:
        return bool(self._running or self._waiting)

    def running(self) -> list[str]:
        """Slots with a job running now (tests and benchmarks read it)."""
        return list(self._running)

    def latest(self, slot: str) -> object:
        return self._latest.get(slot)

    def _on_done(self, job: _Job, result: object, error: object) -> None:
        if self._running.get(job.slot) is job:
            del self._running[job.slot]
        waiting = self._waiting.pop(job.slot, None)
        if waiting is not None and not self._closed:
            self._start(waiting)
        try:
            self._deliver(job, result, error)
        finally:
            if not self.busy() and not self._closed:
                self.idle.emit()

    def _deliver(self, job: _Job, result: object, error: object) -> None:
        if error is JobCancelled or job.token != self._latest.get(job.slot) or self._closed:
            self.stats.dropped += 1
            return
        if error is not None:
            self.stats.failed += 1
            if job.on_error is not None:
                job.on_error(str(error))
            return
        self.stats.delivered += 1
        if job.on_result is not None:
            job.on_result(result)

    def wait(self, msecs: int = 30_000) -> bool:
        """Until the running jobs end (their results are still delivered by the event loop)."""
        _, pending = futures_wait(list(self._futures), timeout=msecs / 1000)
        return not pending

    def shutdown(self) -> None:
        """Stop: running jobs are interrupted, waiting ones never start, nothing is delivered."""
        self._closed = True
        self._reinterrupt.stop()
        self._waiting.clear()
        jobs = list(self._running.values())
        for job in jobs:
            job.context.cancel()
        # the pool is joined with the GUI thread blocked: keep interrupting meanwhile
        pending = set(self._futures)
        while pending:
            _, pending = futures_wait(pending, timeout=REINTERRUPT_MS / 1000)
            for job in jobs:
                job.context.interrupt()
        self.pool.shutdown(wait=True, cancel_futures=True)
