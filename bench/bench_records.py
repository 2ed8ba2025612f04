"""Records behind a figure at real sizes: count, first page, deep pages, sorted pages, export.

Prints medians of a few runs; asserts nothing. The records panel asks for one count and
then a page (200 rows) at a time on a job: these are the waits a user sees.

    python bench/bench_records.py --extract /tmp/demo1m.duckdb
    python bench/bench_records.py --incidents 1000000      # builds a demo extract first
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = 200


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--extract")
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    path = args.extract
    if path is None:
        from demo import generate_demo

        path = str(Path(tempfile.gettempdir()) / f"bench-records-{args.incidents}.duckdb")
        if not Path(path).exists():
            generate_demo(path, incidents=args.incidents)
    from data import records
    from data.extract import open_extract
    from data.filters import FilterState
    from data.queries import Query
    from exporters.records_export import export_records
    from layers.records import FigureRef, page_cells, records_for

    ex = open_extract(path)
    q = Query(ex)
    st = FilterState()
    county = ex.areas.ids[ex.areas.at_level("county")[0]] if ex.areas.at_level("county") else None
    figures = [("category bar (criminal)", FigureRef("categories", "criminal")),
               ("hour bar (20h)", FigureRef("hours", "20")),
               ("KPI month to date", FigureRef("kpi", "kpi_month")),
               ("overdue hazards", FigureRef("kpi", "overdue")),
               ("mediation funnel: town", FigureRef("med_funnel", "1"))]
    if county:
        figures.insert(0, ("the whole county (area)", FigureRef("area", county)))
    print(f"{path}: {ex.report.tables['incidents'].rows:,} incidents; medians of {args.runs}")
    for label, ref in figures:
        src = records_for(q, st, ref)
        n = records.record_count(q.con, src.selection)
        count_s = _median(lambda src=src: records.record_count(q.con, src.selection), args.runs)
        first_s = _median(lambda src=src: page_cells(records.fetch_page(
            q.con, src.selection, 0, PAGE), src.table, ex), args.runs)
        mid = max(0, n // 2)
        deep_s = _median(lambda src=src, mid=mid: records.fetch_page(
            q.con, src.selection, mid, PAGE), args.runs)
        last_s = _median(lambda src=src, n=n: records.fetch_page(
            q.con, src.selection, max(0, n - PAGE), PAGE), args.runs)
        sort_key = "address" if src.table == "incidents" else "category" \
            if src.table != "hazards" else "responsible_unit"
        sort_key = {"disputes": "dispute_category", "hazards": "responsible_unit"}.get(
            src.table, sort_key)
        sorted_s = _median(lambda src=src, k=sort_key: records.fetch_page(
            q.con, src.selection, 0, PAGE, k, False), args.runs)
        print(f"  {label:<26} {n:>9,} rows  count {count_s * 1000:7.1f} ms  "
              f"page 1 {first_s * 1000:7.1f} ms  middle {deep_s * 1000:7.1f} ms  "
              f"last {last_s * 1000:7.1f} ms  sorted by {sort_key} {sorted_s * 1000:7.1f} ms")
    src = records_for(q, st, figures[1][1])
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "xlsx"):
            t = time.perf_counter()
            out = export_records(ex, src, Path(tmp) / f"r.{fmt}", fmt)
            took = time.perf_counter() - t
            print(f"  export {fmt}: {out['rows']:,} rows in {took:.1f} s "
                  f"({out['rows'] / took:,.0f} rows/s)")
    ex.close()


if __name__ == "__main__":
    main()
