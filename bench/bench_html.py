"""HTML map benchmark: export time and file size at a given number of incidents.

Prints figures against the budget (≤ 15 MB, ≤ 5 s at 1M incidents); asserts nothing.
The demo extract is generated once and reused from ``--demo`` (or the bench cache
directory); opening it (validation into the cockpit cache) is timed apart.

    python bench/bench_html.py                          # 1M incidents
    python bench/bench_html.py --incidents 200000 --demo /tmp/demo.duckdb
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA_DIR = Path(os.environ.get("COCKPIT_BENCH_DIR", Path(tempfile.gettempdir()) / "cockpit-bench"))
BUDGET_MB = 15.0
BUDGET_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--demo", type=Path, default=None,
                        help="demo extract to reuse (generated there when missing)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the HTML files")
    parser.add_argument("--lang", default="zh")
    args = parser.parse_args()

    from data.extract import open_extract
    from data.filters import FilterState
    from demo import generate_demo
    from exporters.html_map import export_html

    demo = args.demo or DATA_DIR / f"html-demo-{args.incidents}.duckdb"
    if demo.exists():
        print(f"demo       reused {demo}")
    else:
        t = time.perf_counter()
        generate_demo(demo, incidents=args.incidents)
        print(f"demo       generated {args.incidents:,} incidents in "
              f"{time.perf_counter() - t:.1f} s → {demo}")
    t = time.perf_counter()
    ex = open_extract(demo)
    print(f"open       {time.perf_counter() - t:.2f} s (validation, or the cockpit cache), "
          f"{ex.report.tables['incidents'].rows:,} incident rows")

    out = args.out or Path(tempfile.mkdtemp(prefix="bench-html-"))
    as_of = ex.default_as_of
    cases = [("all dates", FilterState()),
             ("last 30 days", FilterState().with_window(as_of - timedelta(days=29), as_of)),
             ("last 2 days", FilterState().with_window(as_of - timedelta(days=1), as_of))]
    for i, (name, state) in enumerate(cases):
        target = out / f"map-{i}.html"
        t = time.perf_counter()
        s = export_html(ex, state, target, lang=args.lang)
        took = time.perf_counter() - t
        mb = s["bytes"] / 1e6
        verdict = "ok" if mb <= BUDGET_MB and took <= BUDGET_S else "OVER BUDGET"
        print(f"export     {name:13s} {took:5.2f} s  {mb:6.2f} MB  {s['incident_mode']:7s} "
              f"incidents {s['incidents']:,} (cells {s['heat_cells']:,}, markers "
              f"{s['incident_markers']:,})  resources {s['resources']:,}  hazards "
              f"{s['hazards']:,}  areas {s['towns']}+{s['villages']}  [{verdict}]")
    print(f"peak RSS   {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"files in {out}")
    ex.close()


if __name__ == "__main__":
    main()
