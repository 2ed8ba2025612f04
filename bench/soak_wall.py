"""Soak the wall: run it offscreen while the extract is replaced every few seconds.

    python bench/soak_wall.py [--minutes 5] [--every 3] [--incidents 50000] [--json]

A writer thread cycles through the ways an extract arrives in a command centre:
a good file renamed into place, one rewritten in place, a broken file (garbage), a
half-written one (a truncated copy, completed a cycle later), and good ones again.
Meanwhile the wall polls, reloads, rotates its views every ``--rotate`` seconds and
is sampled once a second: resident memory, open file descriptors, threads, the
stale banner, and whether a frame is mostly white (a flash). Prints the figures;
``--check`` exits 1 when the wall did not reload, did not show and clear the stale
banner, flashed white, or grew in memory or handles beyond the given slack.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Writer(threading.Thread):
    """Replaces ``target`` every ``every`` seconds, cycling through good and bad versions."""

    STEPS = ("rename_a", "broken", "rename_b", "half", "complete_b", "inplace_a")

    def __init__(self, target: Path, good_a: Path, good_b: Path, every: float) -> None:
        super().__init__(name="soak-writer", daemon=True)
        self.target, self.good_a, self.good_b, self.every = target, good_a, good_b, every
        self.stop = threading.Event()
        self.counts: dict[str, int] = {s: 0 for s in self.STEPS}

    def _rename(self, src: Path | bytes) -> None:
        tmp = self.target.with_name(self.target.name + ".part")
        if isinstance(src, Path):
            shutil.copyfile(src, tmp)
        else:
            tmp.write_bytes(src)
        os.replace(tmp, self.target)

    def run(self) -> None:
        i = 0
        while not self.stop.wait(self.every):
            step = self.STEPS[i % len(self.STEPS)]
            i += 1
            self.counts[step] += 1
            if step == "rename_a":
                self._rename(self.good_a)
            elif step == "rename_b" or step == "complete_b":
                self._rename(self.good_b)
            elif step == "broken":
                self._rename(os.urandom(256 * 1024))
            elif step == "half":  # a copy cut off part-way, as an interrupted transfer leaves it
                data = self.good_b.read_bytes()
                self._rename(data[: len(data) * 2 // 5])
            elif step == "inplace_a":  # rewritten in place, in chunks, while the wall polls
                data = self.good_a.read_bytes()
                with open(self.target, "wb") as f:
                    for k in range(0, len(data), 1 << 20):
                        f.write(data[k:k + (1 << 20)])
                        f.flush()
                        time.sleep(0.02)


def whiteness(image: object) -> float:
    """Share of near-white pixels in a QImage (sampled on a grid)."""
    w, h = image.width(), image.height()
    step = max(1, min(w, h) // 60)
    n = white = 0
    for y in range(0, h, step):
        for x in range(0, w, step):
            c = image.pixelColor(x, y)
            n += 1
            white += c.red() > 235 and c.green() > 235 and c.blue() > 235
    return white / max(1, n)


def soak(minutes: float, every: float, incidents: int, rotate: float,
         size: tuple[int, int]) -> dict:
    from dataclasses import replace

    from demo import generate_demo
    from desktop.app import application
    from desktop.wall import WallWindow
    from desktop.wall_config import load_config

    work = Path(tempfile.mkdtemp(prefix="cockpit-soak-"))
    os.environ.setdefault("COCKPIT_CACHE_DIR", str(work / "cache"))
    good_a, good_b = work / "a.duckdb", work / "b.duckdb"
    # same seed, so the same county; B has more incidents, so the figures change
    generate_demo(good_a, incidents=incidents, seed=7)
    generate_demo(good_b, incidents=incidents + incidents // 10, seed=7)
    target = work / "wall.duckdb"
    shutil.copyfile(good_a, target)

    app = application()
    cfg = replace(load_config(work / "none.toml"), check_seconds=0.5, retry_seconds=2.0,
                  rotate_seconds=rotate, detail_timeout_seconds=2.0)
    win = WallWindow(str(target), cfg)
    win.resize(*size)
    win.show()
    win.start()
    end = time.monotonic() + 60
    while win.extract is None and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    if win.extract is None:
        raise SystemExit("the wall did not open its first extract")

    reasons: dict[str, int] = {}
    win.session.open_failed.connect(
        lambda r, _p: reasons.__setitem__(r[:70], reasons.get(r[:70], 0) + 1))
    writer = Writer(target, good_a, good_b, every)
    writer.start()
    t0 = time.monotonic()
    samples: list[tuple[float, float, int, int, int]] = []  # t, rss, fds, threads, reloads
    stale_shown = stale_cleared = 0
    was_stale = False
    max_white, frames = 0.0, 0
    next_sample = t0
    while time.monotonic() - t0 < minutes * 60:
        app.processEvents()
        time.sleep(0.005)
        stale = win.banner.is_stale()
        if stale and not was_stale:
            stale_shown += 1
        if was_stale and not stale:
            stale_cleared += 1
        was_stale = stale
        now = time.monotonic()
        if now >= next_sample:
            next_sample = now + 1.0
            samples.append((now - t0, rss_mb(), open_fds(), threading.active_count(),
                            win.reloads))
            if len(samples) % 5 == 0:  # a frame now and then: never a white flash
                max_white = max(max_white, whiteness(win.grab().toImage()))
                frames += 1
    writer.stop.set()
    writer.join()
    # end on a good version: the wall must load it and clear any stale banner
    time.sleep(0.05)
    writer._rename(good_b)
    end = time.monotonic() + 60
    settle_from = win.reloads
    while time.monotonic() < end and (win.banner.is_stale() or win.tracker.loading
                                      or win.reloads == settle_from):
        win.check_extract()
        app.processEvents()
        time.sleep(0.05)
    if was_stale and not win.banner.is_stale():
        stale_cleared += 1
    was_stale = win.banner.is_stale()
    reloads, failures, rotations = win.reloads, win.failures_seen, win.rotations
    jobs = win.session.jobs.stats
    win.close()
    app.processEvents()

    warm = [s for s in samples if s[0] >= min(30.0, minutes * 60 / 3)]
    half = warm[len(warm) // 2:] or samples
    first_half = warm[: len(warm) // 2] or samples
    doc = {
        "minutes": minutes, "every_s": every, "incidents": incidents,
        "replacements": writer.counts, "reloads": reloads, "failed_opens": failures,
        "rotations": rotations, "failure_reasons": reasons,
        "stale_shown": stale_shown, "stale_cleared": stale_cleared,
        "stale_at_end": was_stale,
        "rss_mb": {"start": round(samples[0][1]), "peak": round(max(s[1] for s in samples)),
                   "median_first_half": round(statistics.median(s[1] for s in first_half)),
                   "median_second_half": round(statistics.median(s[1] for s in half)),
                   "end": round(samples[-1][1])},
        "fds": {"start": samples[0][2], "max": max(s[2] for s in samples),
                "end": samples[-1][2]},
        "threads": {"start": samples[0][3], "max": max(s[3] for s in samples),
                    "end": samples[-1][3]},
        "frames_checked": frames, "max_white_share": round(max_white, 4),
        "jobs": {"delivered": jobs.delivered, "dropped": jobs.dropped, "failed": jobs.failed},
    }
    shutil.rmtree(work, ignore_errors=True)
    return doc


def problems(doc: dict, rss_slack_mb: float, fd_slack: int) -> list[str]:
    out = []
    if doc["reloads"] < 2:
        out.append(f"only {doc['reloads']} reloads")
    if doc["stale_shown"] < 1 or doc["stale_cleared"] < 1:
        out.append(f"stale banner shown {doc['stale_shown']}, cleared {doc['stale_cleared']}")
    if doc["stale_at_end"]:
        out.append("still stale after the last good file")
    if doc["max_white_share"] > 0.02:
        out.append(f"a frame was {doc['max_white_share']:.0%} white")
    grow = doc["rss_mb"]["median_second_half"] - doc["rss_mb"]["median_first_half"]
    if grow > rss_slack_mb:
        out.append(f"memory grew {grow} MB between the halves (slack {rss_slack_mb})")
    if doc["fds"]["end"] - doc["fds"]["start"] > fd_slack:
        out.append(f"file descriptors grew from {doc['fds']['start']} to {doc['fds']['end']}")
    if doc["threads"]["end"] > doc["threads"]["start"] + 2:
        out.append(f"threads grew from {doc['threads']['start']} to {doc['threads']['end']}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--every", type=float, default=3.0, help="seconds between replacements")
    ap.add_argument("--incidents", type=int, default=50_000)
    ap.add_argument("--rotate", type=float, default=2.0, help="seconds per rotation view")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true", help="exit 1 on a problem")
    ap.add_argument("--rss-slack", type=float, default=40.0)
    ap.add_argument("--fd-slack", type=int, default=8)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    doc = soak(args.minutes, args.every, args.incidents, args.rotate, (w, h))
    found = problems(doc, args.rss_slack, args.fd_slack)
    doc["problems"] = found
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        for k, v in doc.items():
            print(f"{k:>18}: {v}")
    return 1 if (args.check and found) else 0


if __name__ == "__main__":
    raise SystemExit(main())
