"""What a wall redraws all day must not pile up: each test drives a real widget through
many redraws and counts what stays behind (connections, items), independently of the
widget's own bookkeeping (``weakref.getweakrefs``, the view box's items).

The soak (``bench/soak_wall.py``) measures the memory slope over an hour; these tests
pin the causes it found, in seconds.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import textwrap
import weakref
from dataclasses import replace
from pathlib import Path

import pytest

from desktop import allocator
from desktop.wall_config import load_config
from layers.panels import LineSpec
from widgets.charts import LineChart

ROOT = Path(__file__).resolve().parents[1]


def _line_spec(k: int, series: int = 1) -> LineSpec:
    n = 20 + k % 5
    xs = tuple(float(i) for i in range(n))
    return LineSpec("t", f"T{k}", xs, tuple(str(i) for i in range(n)),
                    tuple(tuple(float((i * (k + s)) % 7) for i in range(n))
                          for s in range(series)),
                    tuple(f"s{s}" for s in range(series)),
                    tuple((200, 40 * s, 0, 255) for s in range(series)))


def test_line_chart_redraws_leave_no_connections_behind(qtbot) -> None:
    """The timeline's selection region stays in the plot: re-added at every redraw, PySide
    kept a weak reference per connection of it and its two edges to the view (4 per
    redraw each, never freed) and the wall grew by thousands of them an hour."""
    chart = LineChart(None, selectable=True)
    qtbot.addWidget(chart)
    chart.resize(500, 260)
    chart.show()
    chart.set_spec(_line_spec(0))
    chart.set_region(3.0, 8.0)
    region, edge = chart._region, chart._region.lines[0]
    before = len(weakref.getweakrefs(region)), len(weakref.getweakrefs(edge))
    vb = chart.view_box()
    for k in range(1, 60):
        chart.set_spec(_line_spec(k, series=1 + k % 3))
        if k % 10 == 0:
            chart.set_spec(None)  # no data: the panel says so, and then draws again
    chart.set_spec(_line_spec(61, series=2))
    assert (len(weakref.getweakrefs(region)), len(weakref.getweakrefs(edge))) == before
    # what the plot holds: the region and one curve per series, nothing left over
    data_items = [i for i in vb.addedItems if i is not region]
    assert len(data_items) == 2
    # the selection survived the redraws, on the data drawn last
    assert chart.region() == (3.0, 8.0)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = (ctypes.c_size_t,)
        libc.free.argtypes = (ctypes.c_void_p,)
    except (OSError, AttributeError):
        return None
    return libc


@pytest.mark.skipif(not sys.platform.startswith("linux") or _glibc() is None,
                    reason="glibc only (elsewhere the tuning does nothing)")
def test_large_blocks_stay_mapped_after_tuning() -> None:
    """glibc raises its mmap threshold to the largest block freed (up to 32 MB): after
    that, blocks of a megabyte come from the heaps and leave holes there when freed,
    which is how reloads every few seconds ratcheted the wall's memory up. Tuned, a
    megabyte block is mapped on its own (counted by glibc's own ``mallinfo2``) and goes
    back to the system when freed, however large a block was freed before."""
    # In a fresh process: a worker that ran other tests has free chunks of a megabyte in
    # its heaps, which glibc hands out before it ever looks at the mmap threshold.
    script = textwrap.dedent("""
        import ctypes, json, sys
        sys.path[:0] = [sys.argv[1]]
        from desktop import allocator
        class MallInfo2(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                        "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = (ctypes.c_size_t,)
        libc.free.argtypes = (ctypes.c_void_p,)
        tuned = allocator.tune_for_long_run()
        big = libc.malloc(24 * 2**20)
        libc.free(big)
        before = libc.mallinfo2()
        blocks = [libc.malloc(2**20) for _ in range(4)]
        during = libc.mallinfo2()
        for b in blocks:
            libc.free(b)
        after = libc.mallinfo2()
        print(json.dumps([tuned, before.hblks, before.hblkhd, during.hblks, during.hblkhd,
                          after.hblks]))
    """)
    done = subprocess.run([sys.executable, "-c", script, str(ROOT)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    tuned, b_n, b_bytes, d_n, d_bytes, a_n = json.loads(done.stdout)
    assert tuned
    assert d_n - b_n == 4
    assert d_bytes - b_bytes >= 4 * 2**20
    assert a_n == b_n
    assert isinstance(allocator.trim(), bool)


def test_the_wall_tunes_the_allocator_and_trims_while_it_runs(qtbot, tmp_path: Path) -> None:
    from desktop.wall import TRIM_MS, WallWindow

    cfg = replace(load_config(tmp_path / "none.toml"), check_seconds=0.2)
    win = WallWindow(str(tmp_path / "not-yet.duckdb"), cfg)
    qtbot.addWidget(win)
    win.start()
    try:
        on_glibc = sys.platform.startswith("linux") and _glibc() is not None
        assert win.allocator_tuned is on_glibc
        assert win._trim.isActive() and win._trim.interval() == TRIM_MS
    finally:
        win.close()
    assert not win._trim.isActive()
