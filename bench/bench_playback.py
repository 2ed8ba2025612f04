"""Playback benchmark: what one frame of a replay costs, in the window and in the encoder.

    python bench/bench_playback.py [--incidents 1000000] [--extract PATH] [--frames 24]
                                   [--skip-window] [--skip-cli]

Prints figures (medians and 95th percentiles; the machine is shared and noisy); nothing
is asserted. Three parts:
1. frame build, Qt-free: ``build_scene`` (the map) and ``build_panels`` (every panel) for
   hour frames of the last day and day frames of the last 30 days, the panels both from
   scratch and reusing the previous frame's window-free panels (what the window does);
2. the window's playback: the desk window (1920x1080, offscreen) plays hour frames as
   fast as it draws them; the time from one frame's filter change to the next, and its
   parts (map job, panels job, drawing the panels on the GUI thread);
3. the CLI encoder: ``render_playback`` to GIF and MP4 at 1920x1080: frames per second,
   and per frame the cockpit's drawing, the grab with its caption, and the encoder.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def ms(values: list[float]) -> str:
    v = sorted(values)
    p95 = v[min(len(v) - 1, int(len(v) * 0.95))]
    return f"median {statistics.median(v) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms"


def frame_build(path: Path, n: int) -> None:
    from data.extract import open_extract
    from data.filters import FilterState
    from data.playback import data_end, default_range, frames
    from data.queries import Query
    from layers.dashboard import build_panels
    from layers.scene import SceneOptions, build_scene, full_view

    ex = open_extract(path)
    q = Query(ex)
    view = full_view(ex, 1100, 760)  # about the map of the 1920x1080 window
    options = SceneOptions(resources=False, hazards=False, lang="zh")  # the desk's default
    base = FilterState()
    for step in ("hour", "day"):
        fs = frames(*default_range(step, data_end(ex, base)), step, "sliding")[:n]
        scene, fresh, reused, whole = [], [], [], []
        previous = build_panels(q, fs[0].state(base), "zh")
        for f in fs:
            st = f.state(base)
            t0 = time.perf_counter()
            build_scene(q, st, view, options)
            t1 = time.perf_counter()
            panels = build_panels(q, st, "zh", previous)
            t2 = time.perf_counter()
            build_panels(q, st, "zh")
            t3 = time.perf_counter()
            previous = panels
            scene.append(t1 - t0)
            reused.append(t2 - t1)
            fresh.append(t3 - t2)
            whole.append(t2 - t0)
        print(f"{step} frames ({len(fs)}), Qt-free build:")
        print(f"  map (build_scene)                 {ms(scene)}")
        print(f"  panels, from scratch              {ms(fresh)}")
        print(f"  panels, reusing window-free ones  {ms(reused)}")
        print(f"  whole frame (map + panels)        {ms(whole)}")
    q.con.close()
    ex.close()


def window_playback(path: Path, n: int) -> None:
    from data.playback import PlaybackSettings
    from desktop.app import application
    from desktop.main_window import CockpitWindow
    from widgets.theme import DARK

    app = application()
    win = CockpitWindow(DARK, "zh", interactive=False)
    win.resize(1920, 1080)
    win.show()
    win.open_path(str(path))

    def spin(cond, limit: float = 300.0) -> None:
        end = time.monotonic() + limit
        while not cond() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.0005)

    board, jobs = win.board, win.session.jobs
    spin(lambda: win.extract is not None and not jobs.busy()
         and board.panels.panels is not None)
    player = win.playback.player
    player.set_settings(PlaybackSettings("hour", "sliding", 60.0))  # as fast as it draws
    shown: list[float] = []
    scene: list[float] = []
    panels: list[float] = []
    draw: list[float] = []
    player.frame_shown.connect(lambda _f: shown.append(time.perf_counter()))
    board.map.settled.connect(lambda: scene.append(board.map.timings["scene"]))
    original = board.panels._draw

    def timed_draw(p: object) -> None:
        t = time.perf_counter()
        original(p)
        draw.append(time.perf_counter() - t)
        panels.append(board.panels.timings["panels"])

    board.panels._draw = timed_draw
    finished: list[bool] = []
    player.finished.connect(lambda: finished.append(True))
    cancelled = jobs.stats.cancelled
    t0 = time.perf_counter()
    player.play()
    spin(lambda: bool(finished) or len(shown) > n)
    spin(lambda: not jobs.busy())
    total = time.perf_counter() - t0
    player.pause()
    gaps = [b - a for a, b in itertools.pairwise(shown)]
    print(f"window playback (1920x1080, hour frames, {len(shown)} frames in {total:.1f} s):")
    print(f"  frame to frame                    {ms(gaps)} "
          f"→ {1 / statistics.median(gaps):.1f} frames/s")
    print(f"  map job (request → drawn)         {ms(scene)}")
    print(f"  panels job (request → delivered)  {ms(panels)}")
    print(f"  panels drawn on the GUI thread    {ms(draw)}")
    print(f"  jobs cancelled while playing: {jobs.stats.cancelled - cancelled}")
    win.close()


def cli_encoder(path: Path, n: int) -> None:
    from data.extract import open_extract
    from data.filters import FilterState
    from data.playback import PlaybackSettings, data_end, default_range, frames
    from desktop.playback_export import PlaybackExport, render_playback

    ex = open_extract(path)
    fs = tuple(frames(*default_range("hour", data_end(ex, FilterState())), "hour",
                      "sliding"))[:n]
    ex.close()
    out = Path(tempfile.mkdtemp(prefix="cockpit-playback-bench-"))
    for suffix in ("mp4", "gif"):
        job = PlaybackExport(str(path), str(out / f"replay.{suffix}"), fs, FilterState(),
                             PlaybackSettings("hour", "sliding", 4.0), (1920, 1080))
        t = time.perf_counter()
        s = render_playback(job)
        total = time.perf_counter() - t
        size = (out / f"replay.{suffix}").stat().st_size / 1e6
        print(f"cockpit playback → {suffix.upper()} 1920x1080, {s['frames']} frames in "
              f"{total:.1f} s ({s['frames'] / total:.2f} frames/s, {size:.1f} MB); per frame: "
              f"cockpit {s['build_ms_median']:.0f} ms, grab+caption {s['grab_ms_median']:.0f} "
              f"ms, encoder {s['encode_ms_median']:.0f} ms; finishing the file "
              f"{s['finish_ms']:.0f} ms")


def main() -> None:
    from bench_window import demo

    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--extract")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--skip-window", action="store_true")
    ap.add_argument("--skip-cli", action="store_true")
    args = ap.parse_args()
    path = Path(args.extract) if args.extract else demo(args.incidents)
    from data.extract import open_extract

    open_extract(path).close()  # warm the validation cache
    print(f"extract: {path}")
    frame_build(path, args.frames)
    if not args.skip_window:
        window_playback(path, args.frames)
    if not args.skip_cli:
        cli_encoder(path, args.frames)


if __name__ == "__main__":
    main()
