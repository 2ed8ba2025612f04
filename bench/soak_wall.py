"""Soak the wall: run it offscreen while the extract is replaced every few seconds.

    python bench/soak_wall.py [--minutes 5] [--every 3] [--incidents 50000] [--json]

A writer thread cycles through the ways an extract arrives in a command centre:
a good file renamed into place, one rewritten in place, a broken file (garbage), a
half-written one (a truncated copy, completed a cycle later), and good ones again.
Meanwhile the wall polls, reloads, rotates its views every ``--rotate`` seconds and
is sampled once a second: resident memory, open file descriptors, threads, the
stale banner, and whether a frame is mostly white (a flash).

The wall runs with what a command centre configures in ``settings.json``: a base map
(an MBTiles file generated over the county at zooms 8-14, more tiles than the tile
cache holds, so it evicts) and a reference layer (a GeoJSON of grid cells and roads);
``--no-backdrop`` leaves them out. The rotation zooms from the county to each town,
so tiles of several zoom levels are read, decoded, drawn and dropped all the time.

Prints the figures, among them the memory slope (MB per hour, least-squares fit of
the resident memory after the first ``--warmup`` minutes, default 10) and the growth
of open file handles over the same stretch. ``--check`` exits 1 when the wall did not
reload, did not show and clear the stale banner, flashed white, grew in memory
(halves apart more than the slack; and, with at least 20 minutes after the warm-up,
a slope over ``--slope-limit``) or in handles.
``--census SECONDS`` prints what the wall holds and what grew since the last census
(objects by type, weak references by referent, children, scene items, tile cache, glibc
heap). ``--tracemalloc`` compares Python allocations at the end of the warm-up with those at
the end (the top growth sites go to stderr): the way to find a leak in a short run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
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


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per hour; None with too few points."""
    if len(points) < 10:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return None
    cov = sum((t - mt) * (v - mv) for t, v in points)
    return cov / var * 3600.0


def write_backdrop(folder: Path, extract: Path) -> dict:
    """A base map (MBTiles) and a reference layer (GeoJSON) over the extract's county, and a
    ``settings.json`` naming them; returns what was written."""
    import duckdb

    sys.path.insert(0, str(ROOT / "tests"))
    from mbtiles_maker import write_mbtiles

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(extract), read_only=True)
    try:
        lon0, lat0, lon1, lat1 = con.execute(
            "SELECT min(lon), min(lat), max(lon), max(lat) FROM incidents "
            "WHERE lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90").fetchone()
    finally:
        con.close()
    pad = 0.05
    box = (lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad)
    roads = [((box[0], lat0 + (lat1 - lat0) * k / 4), (box[2], lat1 - (lat1 - lat0) * k / 5))
             for k in range(1, 4)]
    shapes = [(line, None, (200, 120, 60), 3) for line in roads]
    tiles = write_mbtiles(folder / "base.mbtiles", box, range(8, 15), label=True,
                          attribution="soak 底图", shapes=shapes)
    # grid cells (网格) and winding roads, in WGS84: a realistic few thousand vertices
    features = []
    nx, ny = 16, 10
    dx, dy = (box[2] - box[0]) / nx, (box[3] - box[1]) / ny
    for i in range(nx):
        for j in range(ny):
            x, y = box[0] + i * dx, box[1] + j * dy
            ring = [[x, y], [x + dx, y], [x + dx, y + dy], [x, y + dy], [x, y]]
            features.append({"type": "Feature", "properties": {"name": f"网格{i}-{j}"},
                             "geometry": {"type": "Polygon", "coordinates": [ring]}})
    for k in range(6):
        yk = box[1] + (box[3] - box[1]) * (k + 0.5) / 6
        line = [[box[0] + (box[2] - box[0]) * t / 400,
                 yk + 0.01 * math.sin(t / 9.0 + k)] for t in range(401)]
        features.append({"type": "Feature", "properties": {"name": f"道路{k}"},
                         "geometry": {"type": "LineString", "coordinates": line}})
    (folder / "grid.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": features}), encoding="utf-8")
    (folder / "settings.json").write_text(json.dumps({
        "tiles": {"mbtiles": "base.mbtiles"},
        "reference_layers": [{"path": "grid.geojson", "name": "网格", "color": "#ffcc00",
                              "width": 1.5, "fill": "#3366ff22"}]}), encoding="utf-8")
    return {"tiles": tiles, "reference_features": len(features),
            "bounds": [round(v, 4) for v in box]}


class Census:
    """What the wall holds, printed to stderr every so often (``--census SECONDS``): live
    Python objects by type and weak references by the type of their referent (the growth
    since the last census), the window's QObject children, the map's scene items, the
    tile cache, and glibc's own count of its heap in use and free. How the leaks of
    issue 16 were found: a type or a referent that grows at every census is the lead."""

    def __init__(self) -> None:
        self.types: Counter[str] | None = None
        self.refs: Counter[str] | None = None

    @staticmethod
    def _growth(now: Counter[str], before: Counter[str] | None) -> list[tuple[str, int, int]]:
        if before is None:
            return []
        d = {k: now[k] - before.get(k, 0) for k in set(now) | set(before)}
        return [(k, v, now[k]) for k, v in sorted(d.items(), key=lambda kv: -abs(kv[1]))[:10]
                if v]

    def take(self, t: float, win: object) -> dict:
        import gc
        import weakref

        from PySide6.QtCore import QObject

        gc.collect()
        objs = gc.get_objects()
        types = Counter(f"{getattr(type(o), '__module__', '?')}.{type(o).__name__}"
                        for o in objs)
        refs = Counter(type(o()).__name__ for o in objs if type(o) is weakref.ReferenceType)
        doc: dict = {"t": round(t), "rss": round(rss_mb(), 1), "objects": len(objs),
                     "children": len(win.findChildren(QObject)),
                     "scene_items": len(win.board.canvas.scene().items()),
                     "type_growth": self._growth(types, self.types),
                     "weakref_growth": self._growth(refs, self.refs)}
        self.types, self.refs = types, refs
        bd = win.board.backdrop
        if bd is not None and bd.basemap is not None:
            cache = bd.basemap.loader.cache
            doc["tile_cache"] = [len(cache), round(cache.bytes / 2**20, 1)]
        try:
            import ctypes

            class MallInfo2(ctypes.Structure):
                _fields_ = [(n, ctypes.c_size_t) for n in (
                    "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                    "uordblks", "fordblks", "keepcost")]
            libc = ctypes.CDLL("libc.so.6")
            libc.mallinfo2.restype = MallInfo2
            mi = libc.mallinfo2()
            doc["glibc_mb"] = {"in_use": round((mi.uordblks + mi.hblkhd) / 2**20, 1),
                               "free": round(mi.fordblks / 2**20, 1)}
        except (OSError, AttributeError):  # not glibc
            pass
        print("census " + json.dumps(doc, ensure_ascii=False), file=sys.stderr, flush=True)
        return doc


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
         size: tuple[int, int], backdrop: bool = True, warmup_min: float = 10.0,
         trace: bool = False, census_s: float = 0.0) -> dict:
    from dataclasses import replace

    from demo import generate_demo
    from desktop.allocator import tune_for_long_run
    from desktop.app import application
    from desktop.wall import WallWindow
    from desktop.wall_config import load_config

    # as ``cockpit wall`` does first thing: glibc fixes its number of heaps the first time
    # threads contend (the demo generation below), so later settings would come too late
    tune_for_long_run()
    work = Path(tempfile.mkdtemp(prefix="cockpit-soak-"))
    os.environ.setdefault("COCKPIT_CACHE_DIR", str(work / "cache"))
    good_a, good_b = work / "a.duckdb", work / "b.duckdb"
    # same seed, so the same county; B has more incidents, so the figures change
    generate_demo(good_a, incidents=incidents, seed=7)
    generate_demo(good_b, incidents=incidents + incidents // 10, seed=7)
    target = work / "wall.duckdb"
    shutil.copyfile(good_a, target)
    # the settings of this run only (never the user's): base map and reference layer or none
    os.environ["COCKPIT_DATA_DIR"] = str(work / "data")
    (work / "data").mkdir()
    written = write_backdrop(work / "data", good_a) if backdrop else None

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
    board = win.board
    if backdrop:
        while time.monotonic() < end and not (board.backdrop is not None
                                              and board.backdrop.settled()):
            app.processEvents()
            time.sleep(0.01)
        bd = board.backdrop
        if bd is None or bd.basemap is None or not bd.reference:
            notes = [n.text("en") for n in bd.warnings] if bd is not None else []
            raise SystemExit(f"the wall has no base map or reference layer: {notes}")

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
    warm_s = min(warmup_min * 60.0, minutes * 60.0 / 3)
    snap0 = None
    census = Census() if census_s > 0 else None
    next_census = t0 + min(30.0, census_s)
    if trace:
        import tracemalloc

        tracemalloc.start(12)
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
            if census is not None and now >= next_census:
                next_census = now + census_s
                census.take(now - t0, win)
            if trace and snap0 is None and now - t0 >= warm_s:
                snap0 = tracemalloc.take_snapshot()
    if trace and snap0 is not None:
        top = tracemalloc.take_snapshot().compare_to(snap0, "traceback")
        print("tracemalloc: growth since the end of the warm-up", file=sys.stderr)
        for stat in top[:15]:
            print(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+7d} blocks",
                  file=sys.stderr)
            for line in stat.traceback.format()[-8:]:
                print("    " + line, file=sys.stderr)
        tracemalloc.stop()
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
    tiles_doc = None
    bd = board.backdrop
    if bd is not None and bd.basemap is not None:
        st, cache = bd.basemap.loader.stats, bd.basemap.loader.cache
        tiles_doc = {"requested": st.requested, "loaded": st.loaded, "from_cache": st.cached,
                     "missing": st.missing, "broken": st.broken, "failed": st.failed,
                     "dropped": st.dropped, "cache_items": len(cache._data),
                     "cache_mb": round(cache.bytes / 2**20, 1), "evicted": cache.evicted,
                     "over_limit_views": board.canvas.tiles_over_limit}
    # how much of the resident memory is freed heap the allocator keeps (fragmentation)
    # rather than live objects: RSS before and after glibc's malloc_trim, wall still open
    trimmed = None
    try:
        import ctypes

        before = rss_mb()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        trimmed = {"before": round(before), "after": round(rss_mb())}
    except (OSError, AttributeError):  # not glibc
        pass
    win.close()
    app.processEvents()

    after = [s for s in samples if s[0] >= warm_s]
    rss_slope = slope_per_hour([(s[0], s[1]) for s in after])
    fd_slope = slope_per_hour([(s[0], float(s[2])) for s in after])
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
                   "end": round(samples[-1][1]),
                   "after_warmup": round(after[0][1]) if after else None,
                   "max_after_warmup": round(max(s[1] for s in after)) if after else None},
        "warmup_s": round(warm_s), "samples_after_warmup": len(after),
        "rss_slope_mb_per_h": None if rss_slope is None else round(rss_slope, 2),
        "fds": {"start": samples[0][2], "max": max(s[2] for s in samples),
                "end": samples[-1][2],
                "after_warmup": after[0][2] if after else None,
                "max_after_warmup": max(s[2] for s in after) if after else None,
                "slope_per_h": None if fd_slope is None else round(fd_slope, 2)},
        "threads": {"start": samples[0][3], "max": max(s[3] for s in samples),
                    "end": samples[-1][3]},
        "frames_checked": frames, "max_white_share": round(max_white, 4),
        "jobs": {"delivered": jobs.delivered, "dropped": jobs.dropped, "failed": jobs.failed},
        "backdrop": written, "tiles": tiles_doc, "rss_malloc_trim_mb": trimmed,
        "allocator_tuned": win.allocator_tuned,
        # resident memory at whole minutes of the run (the sample nearest each)
        "rss_at_min": {str(m): round(min(samples, key=lambda s, m=m: abs(s[0] - m * 60))[1])
                       for m in (1, 5, 10, 20, 30, 40, 50, 60) if samples[-1][0] >= m * 60 - 5},
    }
    shutil.rmtree(work, ignore_errors=True)
    return doc


def problems(doc: dict, rss_slack_mb: float, fd_slack: int,
             slope_limit: float = 5.0) -> list[str]:
    out = []
    slope = doc["rss_slope_mb_per_h"]
    # a slope means something over a long stretch only (a short run is all warm-up)
    long_run = doc["samples_after_warmup"] >= 20 * 60
    if long_run and slope is not None and slope > slope_limit:
        out.append(f"memory grows {slope} MB/h after the warm-up (limit {slope_limit})")
    fds = doc["fds"]
    if long_run and fds["end"] - fds["after_warmup"] > 0:
        out.append(f"file handles grew after the warm-up: {fds['after_warmup']} -> "
                   f"{fds['end']}")
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
    ap.add_argument("--slope-limit", type=float, default=5.0, help="MB per hour")
    ap.add_argument("--warmup", type=float, default=10.0,
                    help="minutes left out of the memory slope (at most a third of the run)")
    ap.add_argument("--no-backdrop", action="store_true",
                    help="without base map and reference layer")
    ap.add_argument("--census", type=float, default=0.0, metavar="SECONDS",
                    help="every SECONDS, what the wall holds and what grew (stderr)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="print the top Python allocation growth after the warm-up")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    doc = soak(args.minutes, args.every, args.incidents, args.rotate, (w, h),
               backdrop=not args.no_backdrop, warmup_min=args.warmup, trace=args.tracemalloc,
               census_s=args.census)
    found = problems(doc, args.rss_slack, args.fd_slack, args.slope_limit)
    doc["problems"] = found
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        for k, v in doc.items():
            print(f"{k:>18}: {v}")
    return 1 if (args.check and found) else 0


if __name__ == "__main__":
    raise SystemExit(main())
