"""Window benchmark: process start to first frame, time-window change, pan/zoom, memory.

    python bench/bench_window.py [--incidents 1000000] [--extract PATH]

Prints figures; nothing is asserted. The demo extract of the given size is
generated once under $TMPDIR/cockpit-bench and its cache warmed before timing
(a first open validates the file; that cost is measured by bench_foundation).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def demo(n: int) -> Path:
    from demo import generate_demo

    path = Path(tempfile.gettempdir()) / "cockpit-bench" / f"demo-{n}.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        generate_demo(path, incidents=n)
        print(f"generated {path} in {time.perf_counter() - t:.0f} s")
    return path


def process_start(path: Path, runs: int = 3, render_cache: bool = True) -> None:
    """``python main.py EXTRACT`` until its first complete frame is painted, and until exit.

    ``render_cache=False`` removes the stored opening view before each run (the first
    start after a new extract arrives).
    """
    from data.cache import cache_dir

    env = dict(os.environ, COCKPIT_QUIT_AFTER_FRAME="1", QT_QPA_PLATFORM="offscreen")
    frames, exits, peaks = [], [], []
    for _ in range(runs):
        if not render_cache:
            for f in cache_dir().glob("*.pickle"):
                f.unlink()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.time()
        t = time.perf_counter()
        done = subprocess.run([sys.executable, str(ROOT / "main.py"), str(path)], env=env,
                              check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
        exits.append(time.perf_counter() - t)
        painted = [float(line.rsplit(" ", 1)[1]) for line in done.stderr.splitlines()
                   if line.startswith("cockpit: first frame painted at ")]
        frames.append(painted[0] - start if painted else float("nan"))
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    what = "with the render cache" if render_cache else "without the render cache"
    print(f"process start → first complete frame painted ({what}): median "
          f"{statistics.median(frames):.2f} s (runs: {', '.join(f'{x:.2f}' for x in frames)})")
    print(f"process start → exit after that frame: median {statistics.median(exits):.2f} s; "
          f"peak RSS {max(peaks) / 1024:.0f} MB")


def in_process(path: Path) -> None:
    from desktop.app import application
    from desktop.main_window import CockpitWindow
    from widgets.theme import DARK

    app = application()
    win = CockpitWindow(DARK, "zh", interactive=False)
    win.resize(1920, 1080)
    win.show()
    done: list[float] = []
    win.frame_ready.connect(lambda: done.append(time.perf_counter()))

    def wait(limit: float = 120.0) -> float:
        t = time.perf_counter()
        while not done and time.perf_counter() - t < limit:
            app.processEvents()
            time.sleep(0.001)
        return done.pop() if done else float("nan")

    t0 = time.perf_counter()
    win.open_path(str(path))
    first = wait() - t0
    timings = {**win.session.timings, **win.board.map.timings, **win.board.panels.timings}
    print(f"in-process open → first frame: {first:.2f} s "
          f"(open {timings['open']:.2f}, scene {timings['scene'] * 1000:.0f} ms, "
          f"panels {timings['panels'] * 1000:.0f} ms)")

    # time-window changes (a dragged timeline): to the redrawn map, and to all panels
    as_of = win.extract.default_as_of
    scene_ms, frame_ms, gui_ms = [], [], []
    for k in range(12):
        end = as_of - timedelta(days=7 * k)
        start = end - timedelta(days=30 + k)
        t = time.perf_counter()
        win.session.filters.set(win.session.filters.state.with_window(start, end))
        gui_ms.append((time.perf_counter() - t) * 1000)  # the GUI thread's own share
        total = wait() - t
        scene_ms.append(win.board.map.timings["scene"] * 1000)
        frame_ms.append(total * 1000)
    print(f"time-window change → map redrawn: median {statistics.median(scene_ms):.0f} ms "
          f"(max {max(scene_ms):.0f}); → every panel redrawn: median "
          f"{statistics.median(frame_ms):.0f} ms; GUI thread per change "
          f"{statistics.median(gui_ms):.1f} ms")

    # a burst of 20 filter changes, as fast as a dragged timeline sends them: the last one
    # must end up drawn, and no stale job may still be running
    bursts = []
    for rep in range(3):
        states = [win.session.filters.state.with_window(as_of - timedelta(days=60 + 3 * k + rep),
                                                        as_of - timedelta(days=k))
                  for k in range(20)]
        t = time.perf_counter()
        for st in states:
            win.session.filters.set(st)
            app.processEvents()
        wait()
        bursts.append((time.perf_counter() - t) * 1000)
        panels = win.board.panels.panels
        ok = (panels is not None and panels.state == states[-1]
              and win.board.map.scene is not None and not win.session.jobs.running())
        print(f"burst {rep + 1}: 20 changes → last drawn in {bursts[-1]:.0f} ms, "
              f"last state drawn: {ok}, jobs still running: {win.session.jobs.running()}")
    stats = win.session.jobs.stats
    print(f"burst of 20 changes → last one drawn: median {statistics.median(bursts):.0f} ms; "
          f"jobs cancelled so far {stats.cancelled}, coalesced {stats.coalesced}")

    # pan and zoom: repaint of the drawn scene per view step (the scene rebuild follows,
    # debounced, off the GUI thread)
    canvas = win.board.canvas
    vb = canvas.getViewBox()
    frames = []
    (x0, x1), _ = vb.viewRange()
    for i in range(120):
        dx = (x1 - x0) * 0.01 * (1 if i < 60 else -1)
        t = time.perf_counter()
        vb.translateBy(x=dx)
        if i % 20 == 10:
            vb.scaleBy((0.9, 0.9))
        canvas.repaint()
        app.processEvents()
        frames.append(time.perf_counter() - t)
    fps = 1 / statistics.median(frames)
    print(f"pan/zoom frame: median {statistics.median(frames) * 1000:.1f} ms ({fps:.0f} frames/s), "
          f"p95 {sorted(frames)[int(len(frames) * 0.95)] * 1000:.1f} ms")
    stats = win.session.jobs.stats
    print(f"jobs: submitted {stats.submitted}, delivered {stats.delivered}, "
          f"dropped (stale) {stats.dropped}, cancelled {stats.cancelled}, "
          f"coalesced {stats.coalesced}")
    win.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--extract")
    args = ap.parse_args()
    path = Path(args.extract) if args.extract else demo(args.incidents)
    from data.extract import open_extract

    open_extract(path).close()  # warm the validation cache
    print(f"extract: {path}")
    process_start(path, runs=5, render_cache=False)
    process_start(path, runs=5)
    in_process(path)


if __name__ == "__main__":
    main()
