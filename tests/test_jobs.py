"""The job runner: per-request callbacks, the latest request wins, superseded work stops.

Real DuckDB queries are interrupted (``JobContext.cursor``); pure Python work stops at
``JobContext.check``. Nothing is routed by slot name: each request's own callbacks
receive its answer.
"""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from desktop.jobs import JobContext, JobRunner

SLOW_SQL = "SELECT count(*) FROM range(4000000000) a WHERE hash(a.range) % 7 = 3"


class _Extract:
    """What ``JobContext.cursor`` needs of an extract: a ``cursor()``."""

    def __init__(self) -> None:
        self.con = duckdb.connect()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.shutdown()


def test_each_request_gets_its_own_callbacks(qtbot, runner: JobRunner) -> None:
    got: dict[str, object] = {}
    runner.submit("a", 1, lambda _c: 10, lambda v: got.__setitem__("a", v))
    runner.submit("b", 1, lambda _c: 20, lambda v: got.__setitem__("b", v))
    runner.submit("c", 1, lambda _c: 1 / 0, lambda v: got.__setitem__("c", v),
                  lambda e: got.__setitem__("c_error", e))
    qtbot.waitUntil(lambda: not runner.busy(), timeout=5_000)
    assert got["a"] == 10 and got["b"] == 20
    assert "c" not in got and "ZeroDivisionError" in str(got["c_error"])
    assert runner.stats.failed == 1 and runner.stats.delivered == 2


def test_a_newer_request_interrupts_a_running_duckdb_query(qtbot, runner: JobRunner) -> None:
    ex = _Extract()
    started = threading.Event()
    got: list[object] = []
    errors: list[str] = []

    def slow(ctx: JobContext) -> object:
        cur = ctx.cursor(ex)
        started.set()
        return cur.execute(SLOW_SQL).fetchall()  # minutes unless interrupted

    t0 = time.perf_counter()
    runner.submit("scene", "old", slow, got.append, errors.append)
    assert started.wait(5)
    runner.submit("scene", "new", lambda _c: "fresh", got.append, errors.append)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
    assert time.perf_counter() - t0 < 8  # the old query stopped, it did not run out
    assert got == ["fresh"] and errors == []  # an interrupted job is not a failure
    assert runner.stats.cancelled == 1 and runner.stats.dropped == 1


def test_python_work_stops_at_check(qtbot, runner: JobRunner) -> None:
    loops: list[int] = []

    def long(ctx: JobContext) -> str:
        for i in range(500):
            ctx.check()
            loops.append(i)
            time.sleep(0.01)
        return "finished"

    got: list[object] = []
    runner.submit("panels", 1, long, got.append)
    qtbot.waitUntil(lambda: len(loops) > 3, timeout=5_000)
    runner.submit("panels", 2, lambda _c: "second", got.append)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=5_000)
    assert got == ["second"] and len(loops) < 100


def test_burst_runs_at_most_two_and_delivers_only_the_last(qtbot, runner: JobRunner) -> None:
    ran: list[int] = []
    got: list[int] = []

    def job(value: int):
        def work(ctx: JobContext) -> int:
            ran.append(value)
            for _ in range(30):
                ctx.check()
                time.sleep(0.005)
            return value
        return work

    for k in range(20):
        runner.submit("scene", k, job(k), got.append)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=5_000)
    assert got == [19]
    assert ran[0] == 0 and ran[-1] == 19 and len(ran) <= 2
    assert runner.stats.coalesced == 18


def test_a_request_equal_to_the_running_job_is_not_run_again(qtbot, runner: JobRunner) -> None:
    calls: list[int] = []
    got: list[str] = []

    def job(value: int):
        return lambda _c: (calls.append(value), time.sleep(0.2), value)[2]

    runner.submit("scene", "a", job(1), lambda v: got.append(f"first {v}"))
    runner.submit("scene", "a", job(2), lambda v: got.append(f"second {v}"))
    qtbot.waitUntil(lambda: not runner.busy(), timeout=5_000)
    assert calls == [1]
    assert got == ["second 1"]  # the newest callbacks receive the running job's answer


def test_idle_fires_after_follow_up_work(qtbot, runner: JobRunner) -> None:
    order: list[str] = []
    runner.idle.connect(lambda: order.append("idle"))

    def first(_v: object) -> None:
        order.append("scene")
        runner.submit("panels", 1, lambda _c: None, lambda _v: order.append("panels"))

    runner.submit("scene", 1, lambda _c: None, first)
    qtbot.waitUntil(lambda: "idle" in order, timeout=5_000)
    qtbot.wait(50)
    assert order == ["scene", "panels", "idle"]


def test_shutdown_interrupts_and_delivers_nothing(qtbot) -> None:
    runner = JobRunner()
    ex = _Extract()
    started = threading.Event()
    got: list[object] = []

    def slow(ctx: JobContext) -> object:
        cur = ctx.cursor(ex)
        started.set()
        return cur.execute(SLOW_SQL).fetchall()

    runner.submit("scene", 1, slow, got.append, got.append)
    assert started.wait(5)
    t0 = time.perf_counter()
    runner.shutdown()
    assert time.perf_counter() - t0 < 5
    qtbot.wait(50)
    assert got == []
