"""Foundation benchmark: open + validate, filtered counts, density grid, full report.

Prints figures; asserts nothing. Each phase runs in a fresh child process so
that peak memory (ru_maxrss) belongs to that phase alone.

    python bench/bench_foundation.py                 # 1M incidents
    python bench/bench_foundation.py --sizes 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA_DIR = Path(os.environ.get("COCKPIT_BENCH_DIR", Path(tempfile.gettempdir()) / "cockpit-bench"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_open(path: str) -> dict:
    from data.extract import open_extract

    t = time.perf_counter()
    ex = open_extract(path)
    took = time.perf_counter() - t
    rows = ex.report.tables["incidents"].rows
    ex.close()
    return {"seconds": took, "from_cache": ex.from_cache, "rows": rows, "peak_mb": _rss_mb()}


def phase_queries(path: str, repeats: int) -> dict:
    from data.coords import lonlat_to_mercator
    from data.extract import open_extract
    from data.filters import FilterState
    from data.queries import Query, Viewport
    from data.report import build_report

    t = time.perf_counter()
    ex = open_extract(path)
    reopen = time.perf_counter() - t
    q = Query(ex)
    as_of = ex.default_as_of
    state = FilterState().with_window(date(as_of.year - 1, as_of.month, 1), as_of).with_set(
        "incident_categories", ["public_order", "criminal", "assistance"])
    x0, y0, x1, y1 = ex.areas.extent() or (114.5, 26.8, 115.3, 27.4)
    (mx0, mx1), (my0, my1) = lonlat_to_mercator([x0, x1], [y0, y1])
    view = Viewport(mx0, my0, mx1, my1, 1920, 1080)

    def timed(fn, n: int = repeats) -> tuple[float, object]:
        times, out = [], None
        for _ in range(n):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times), out

    count_s, count = timed(lambda: q.incident_count(state))
    grid_s, grid = timed(lambda: q.density_grid(state, view))
    all_grid_s, _ = timed(lambda: q.density_grid(FilterState(), view))
    town = next((ex.areas.ids[i] for i in ex.areas.at_level("town")), None)
    area_state = state.with_areas([town]) if town else state
    area_s, _ = timed(lambda: q.density_grid(area_state, view))
    cat_s, _ = timed(lambda: q.incidents_by_category(state))
    day_s, _ = timed(lambda: q.incidents_by_day(state))
    report_s, _ = timed(lambda: build_report(ex, FilterState(), analysis=False),
                        max(1, repeats // 4))
    return {
        "reopen_s": reopen, "filtered_count_s": count_s, "filtered_count": count,
        "density_filtered_s": grid_s, "density_all_s": all_grid_s,
        "density_town_s": area_s, "grid_sum": int(grid.sum()),
        "by_category_s": cat_s, "by_day_s": day_s, "report_s": report_s, "peak_mb": _rss_mb(),
    }


def _child(args: list[str], cache: Path) -> dict:
    env = {**os.environ, "COCKPIT_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_demo(n: int) -> tuple[Path, float | None]:
    from demo import generate_demo

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"demo-{n}.duckdb"
    if path.exists():
        return path, None
    t = time.perf_counter()
    generate_demo(path, incidents=n)
    return path, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--phase", choices=["open", "queries"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase == "open":
        print(json.dumps(phase_open(a.path)))
        return
    if a.phase == "queries":
        print(json.dumps(phase_queries(a.path, a.repeats)))
        return
    print(f"machine: {os.cpu_count()} cores; data in {DATA_DIR}")
    for n in a.sizes:
        path, gen_s = ensure_demo(n)
        with tempfile.TemporaryDirectory() as cache:
            first = _child(["--phase", "open", "--path", str(path)], Path(cache))
            again = _child(["--phase", "open", "--path", str(path)], Path(cache))
            qs = _child(["--phase", "queries", "--path", str(path), "--repeats",
                         str(a.repeats)], Path(cache))
        size_mb = path.stat().st_size / 1e6
        print(f"\n== {n:,} incidents ({size_mb:.0f} MB extract"
              + (f", generated in {gen_s:.1f} s" if gen_s else "") + ")")
        print(f"open + validate, first time     {first['seconds']:8.2f} s   "
              f"peak {first['peak_mb']:7.0f} MB")
        print(f"open again (cache)              {again['seconds']:8.2f} s   "
              f"peak {again['peak_mb']:7.0f} MB")
        print(f"filtered count (median)         {qs['filtered_count_s'] * 1e3:8.1f} ms  "
              f"({qs['filtered_count']:,} rows)")
        print(f"density 1920x1080, filtered     {qs['density_filtered_s'] * 1e3:8.1f} ms")
        print(f"density 1920x1080, one town     {qs['density_town_s'] * 1e3:8.1f} ms")
        print(f"density 1920x1080, unfiltered   {qs['density_all_s'] * 1e3:8.1f} ms")
        print(f"counts by category              {qs['by_category_s'] * 1e3:8.1f} ms")
        print(f"counts by day                   {qs['by_day_s'] * 1e3:8.1f} ms")
        print(f"report, design.md keys only     {qs['report_s'] * 1e3:8.1f} ms")
        print(f"peak memory, queries process    {qs['peak_mb']:8.0f} MB")


if __name__ == "__main__":
    main()
