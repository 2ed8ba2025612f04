"""Analysis benchmark (issue 3): hotspots, repeats, nearest, coverage, rectification,
mediation, alerts, the safety index and the full ``report --json``.

Prints figures (median of several runs after one warm-up); asserts nothing.

    python bench/bench_analysis.py                      # 1M incidents
    python bench/bench_analysis.py --sizes 1000000 10000000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(first call, median of ``runs`` further calls) in milliseconds."""
    t = time.perf_counter()
    fn()
    first = (time.perf_counter() - t) * 1e3
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return first, statistics.median(times)


def resources_extract(n: int) -> Path:
    """An extract with ``n`` available resources scattered over the test county."""
    import numpy as np
    from factory import meta_rows, resource, standard_areas, write_extract

    path = Path(tempfile.gettempdir()) / "cockpit-bench" / f"resources-{n}.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(1)
        lon, lat = rng.uniform(115.0, 115.2, n), rng.uniform(27.0, 27.2, n)
        write_extract(path, {"meta": meta_rows(), "areas": standard_areas(),
                             "resources": [resource(i, float(lon[i]), float(lat[i]))
                                           for i in range(n)]})
    return path


def bench_size(n: int, runs: int) -> None:
    from bench_foundation import ensure_demo

    from data.analysis.alerts import alerts
    from data.analysis.coverage import coverage_gaps
    from data.analysis.hotspots import area_hotspots, emerging_hotspots, grid_hotspots
    from data.analysis.mediation import mediation
    from data.analysis.rectification import rectification
    from data.analysis.repeats import near_repeat_rate, repeat_places
    from data.analysis.safety_index import safety_index
    from data.extract import open_extract
    from data.filters import FilterState
    from data.nearest import nearest_resources
    from data.queries import Query
    from data.report import build_report

    path, _ = ensure_demo(n)
    ex = open_extract(path)
    q = Query(ex)
    as_of = q.as_of(FilterState())
    year = FilterState().with_window(as_of - timedelta(days=364), as_of)
    town = FilterState().with_areas([ex.areas.ids[ex.areas.at_level("town")[0]]])
    print(f"\n== {n:,} incidents ({ex.report.tables['incidents'].rows:,} loaded); "
          f"one year = {q.incident_count(year):,} incidents")
    print(f"{'':34s}{'first':>10s}{'median':>10s}")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("Gi* grid, one year", lambda: grid_hotspots(q, year)),
        ("Gi* grid, all", lambda: grid_hotspots(q, FilterState())),
        ("Gi* villages, one year", lambda: area_hotspots(q, year)),
        ("emerging hotspots, 8 weeks", lambda: emerging_hotspots(q, FilterState())),
        ("emerging hotspots, 8 x 1/8 year", lambda: emerging_hotspots(q, year)),
        ("repeat places, one year", lambda: repeat_places(q, year)),
        ("repeat places, one town, year", lambda: repeat_places(q, year.with_areas(
            town.areas))),
        ("repeat places, all", lambda: repeat_places(q, FilterState())),
        ("near-repeat rate, one year", lambda: near_repeat_rate(q, year)),
        ("coverage gaps (3 km)", lambda: coverage_gaps(q, FilterState())),
        ("nearest k=5", lambda: nearest_resources(ex, 115.0, 27.1, 5)),
        ("rectification", lambda: rectification(q, FilterState())),
        ("mediation", lambda: mediation(q, FilterState())),
        ("alerts", lambda: alerts(q, FilterState())),
        ("safety index", lambda: safety_index(q, FilterState())),
        ("report --json, one year", lambda: build_report(ex, year)),
        ("report --json, all", lambda: build_report(ex, FilterState())),
    ]
    for name, fn in cases:
        first, median = timed(fn, runs if "report" not in name else max(1, runs // 2))
        print(f"{name:34s}{first:9.1f}ms{median:9.1f}ms")


def main() -> None:
    from data.extract import open_extract
    from data.nearest import nearest_resources, resource_index

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    runs = a.runs
    for n in a.sizes:
        bench_size(n, runs)
    big = open_extract(resources_extract(100_000))
    t = time.perf_counter()
    resource_index(big, ())
    build = (time.perf_counter() - t) * 1e3
    _first, median = timed(lambda: nearest_resources(big, 115.1, 27.1, 5), 200)
    print(f"\n100,000 resources: index built in {build:.0f} ms; nearest k=5 "
          f"{median:.2f} ms (median of 200)")


if __name__ == "__main__":
    main()
