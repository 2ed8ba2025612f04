"""Python's cyclic garbage collector, run only on the GUI thread and only when no worker runs.

Left automatic, the collector runs whenever allocations pass a threshold: on any
thread, at any moment. Twice (window tests, then a wall rotation) the process died with
a segmentation fault while the GUI thread was "Garbage-collecting" and a worker was
inside native code (DuckDB, GEOS). pyqtgraph's ``GarbageCollector`` exists for the
same reason (Qt objects must die on the GUI thread). So while a window is open the
automatic collector is off, and a timer collects at safe points: on the GUI thread,
with no job and no extract opening under way. A long busy spell only defers it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import QObject, QTimer


class IdleCollector(QObject):
    """Collect young generations every ``interval_ms`` and everything every ``full_s``."""

    _active: ClassVar[set[IdleCollector]] = set()

    def __init__(self, is_idle: Callable[[], bool], parent: QObject | None = None,
                 interval_ms: int = 1000, full_s: float = 30.0) -> None:
        super().__init__(parent)
        self.is_idle = is_idle
        self.full_s = full_s
        self.collections = 0
        self.deferred = 0
        self._last_full = time.monotonic()
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.tick)

    def start(self) -> None:
        if not IdleCollector._active:
            gc.disable()
        IdleCollector._active.add(self)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        IdleCollector._active.discard(self)
        if not IdleCollector._active:
            gc.enable()

    def tick(self) -> None:
        if not self.is_idle():
            self.deferred += 1
            return
        now = time.monotonic()
        if now - self._last_full >= self.full_s:
            gc.collect()
            self._last_full = now
        else:
            g0, g1, _ = gc.get_count()
            t0, t1, _ = gc.get_threshold()
            if g1 >= t1:
                gc.collect(1)
            elif g0 >= t0:
                gc.collect(0)
            else:
                return
        self.collections += 1
