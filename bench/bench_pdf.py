"""PDF briefing benchmark: export time, pages and file size at a given number of incidents.

Prints figures against the budget (≤ 5 s for the briefing at 1M incidents; the atlas adds
a page per town and is reported apart); asserts nothing. The demo extract is generated
once and reused from ``--demo`` (or the bench cache directory); opening it (validation
into the cockpit cache) is timed apart, as is the start of Qt.

    python bench/bench_pdf.py --demo /tmp/cockpit-bench/demo-1000000.duckdb
    python bench/bench_pdf.py --incidents 200000 --repeat 3
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
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DATA_DIR = Path(os.environ.get("COCKPIT_BENCH_DIR", Path(tempfile.gettempdir()) / "cockpit-bench"))
BUDGET_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--demo", type=Path, default=None,
                        help="demo extract to reuse (generated there when missing)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the PDF files")
    parser.add_argument("--lang", default="zh")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (best is shown)")
    args = parser.parse_args()
    os.environ.setdefault("COCKPIT_DATA_DIR", tempfile.mkdtemp(prefix="bench-pdf-audit-"))

    from data.extract import open_extract
    from data.filters import FilterState
    from demo import generate_demo
    from exporters.pdf_briefing import export_pdf
    from exporters.pdf_style import ensure_gui

    demo = args.demo or DATA_DIR / f"demo-{args.incidents}.duckdb"
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
    t = time.perf_counter()
    ensure_gui()
    print(f"qt         {time.perf_counter() - t:.2f} s (offscreen application and fonts)")

    out = args.out or Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    as_of = ex.default_as_of
    month = FilterState().with_window(as_of - timedelta(days=29), as_of)
    cases = [("A4 all dates", FilterState(), {"paper": "a4"}),
             ("A3 all dates", FilterState(), {"paper": "a3"}),
             ("A4 30 days", month, {"paper": "a4"}),
             ("A4 + atlas", FilterState(), {"paper": "a4", "atlas": "town"}),
             ("A3 + atlas", FilterState(), {"paper": "a3", "atlas": "town"})]
    for i, (name, state, kw) in enumerate(cases):
        target = out / f"briefing-{i}.pdf"
        best = None
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            s = export_pdf(ex, state, target, lang=args.lang, **kw)
            took = time.perf_counter() - t
            best = took if best is None else min(best, took)
        verdict = "" if kw.get("atlas") else ("  [ok]" if best <= BUDGET_S else "  [OVER BUDGET]")
        print(f"export     {name:13s} {best:5.2f} s  {s['pages']:3d} pages  "
              f"{s['bytes'] / 1e6:6.2f} MB  towns {s['towns']}{verdict}")
    print(f"peak RSS   {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"files in {out}")
    ex.close()


if __name__ == "__main__":
    main()
