"""The collector runs on the GUI thread at safe points only (see desktop/gc_guard.py)."""

from __future__ import annotations

import gc
import weakref

from desktop.gc_guard import IdleCollector


class _Cycle:
    pass


def test_cycles_are_collected_only_when_no_worker_runs(qtbot) -> None:
    busy = [True]
    c = IdleCollector(lambda: not busy[0], interval_ms=10, full_s=0)
    c.start()
    try:
        assert not gc.isenabled()
        a = _Cycle()
        a.me = a
        ref = weakref.ref(a)
        del a
        for _ in range(50):  # allocations that would trigger the automatic collector
            b = _Cycle()
            b.me = b
        del b
        qtbot.wait(150)
        assert ref() is not None and c.deferred > 0 and c.collections == 0
        busy[0] = False
        qtbot.waitUntil(lambda: ref() is None, timeout=2_000)
        assert c.collections >= 1
    finally:
        c.stop()
    assert gc.isenabled()


def test_nested_collectors_reenable_only_when_the_last_stops(qtbot) -> None:
    a, b = IdleCollector(lambda: True), IdleCollector(lambda: True)
    a.start()
    b.start()
    a.stop()
    assert not gc.isenabled()
    b.stop()
    assert gc.isenabled()
