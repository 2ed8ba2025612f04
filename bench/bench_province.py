"""The cockpit on a province read in place (schema version 2 with aggregates): first open,
first frame, time-window change → map redrawn, peak memory, and a screenshot.

    python bench/bench_province.py EXTRACT_DIR [--png window.png] [--runs 3]

EXTRACT_DIR is a version 2 Parquet directory with ``incidents_by_area``/``_cell`` (a
``pipeline.build`` output, the demo generator's ``--counties`` province, or
``bench/make_province.py``). Prints figures; nothing is asserted. Targets of issue 15 at
100M incidents: first frame ≤ 2 s, window change → redrawn map ≤ 150 ms, peak ≤ 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def first_open(path: Path) -> None:
    """Open once in a child process (the cache is built: no incident row is copied)."""
    code = ("import sys, time, resource; sys.path.insert(0, sys.argv[2]); "
            "from data.extract import open_extract; t = time.perf_counter(); "
            "ex = open_extract(sys.argv[1]); "
            "print(f'{time.perf_counter() - t:.1f} {ex.aggregated} "
            "{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}')")
    out = subprocess.run([sys.executable, "-c", code, str(path), str(ROOT)], check=True,
                         capture_output=True, text=True).stdout.split()
    print(f"open (cache built or reused): {out[0]} s, read in place: {out[1]}, "
          f"peak RSS {out[2]} MB")


def process_start(path: Path, runs: int) -> None:
    env = dict(os.environ, COCKPIT_QUIT_AFTER_FRAME="1", QT_QPA_PLATFORM="offscreen")
    frames, peaks = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.time()
        done = subprocess.run([sys.executable, str(ROOT / "main.py"), str(path)], env=env,
                              check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
        painted = [float(line.rsplit(" ", 1)[1]) for line in done.stderr.splitlines()
                   if line.startswith("cockpit: first frame painted at ")]
        frames.append(painted[0] - start if painted else float("nan"))
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    print(f"process start → first complete frame: median {statistics.median(frames):.2f} s "
          f"(runs: {', '.join(f'{x:.2f}' for x in frames)}); "
          f"peak RSS {max(peaks) / 1024:.0f} MB")


def in_process(path: Path, png: Path | None) -> None:
    from desktop.app import application
    from desktop.main_window import CockpitWindow
    from widgets.theme import DARK

    app = application()
    win = CockpitWindow(DARK, "zh", interactive=False)
    win.resize(1920, 1080)
    win.show()
    done: list[float] = []
    win.frame_ready.connect(lambda: done.append(time.perf_counter()))

    def wait(limit: float = 300.0) -> float:
        t = time.perf_counter()
        while not done and time.perf_counter() - t < limit:
            app.processEvents()
            time.sleep(0.001)
        return done.pop() if done else float("nan")

    t0 = time.perf_counter()
    win.open_path(str(path))
    first = wait() - t0
    timings = {**win.session.timings, **win.board.map.timings, **win.board.panels.timings}
    print(f"in-process open → first frame: {first:.2f} s (open {timings['open']:.2f} s, "
          f"scene {timings['scene'] * 1000:.0f} ms, panels {timings['panels'] * 1000:.0f} ms)")
    if png is not None:
        for _ in range(50):
            app.processEvents()
            time.sleep(0.01)
        win.grab().save(str(png))
        print(f"screenshot: {png}")
    as_of = win.extract.default_as_of
    scene_ms, frame_ms = [], []
    for k in range(12):
        end = as_of - timedelta(days=7 * k)
        start = end - timedelta(days=30 + k)
        t = time.perf_counter()
        win.session.filters.set(win.session.filters.state.with_window(start, end))
        total = wait() - t
        scene_ms.append(win.board.map.timings["scene"] * 1000)
        frame_ms.append(total * 1000)
    print(f"time-window change → map redrawn: median {statistics.median(scene_ms):.0f} ms "
          f"(max {max(scene_ms):.0f}); → every panel redrawn: median "
          f"{statistics.median(frame_ms):.0f} ms (max {max(frame_ms):.0f})")
    if png is not None:
        win.grab().save(str(png.with_name(png.stem + "-window.png")))
    print(f"peak RSS of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    win.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("extract")
    ap.add_argument("--png")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    path = Path(args.extract)
    print(f"extract: {path}")
    first_open(path)
    process_start(path, args.runs)
    in_process(path, Path(args.png) if args.png else None)


if __name__ == "__main__":
    main()
