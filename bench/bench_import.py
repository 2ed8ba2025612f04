"""Benchmark ``cockpit import`` on station-shaped files made from the demo county.

Run: ``python bench/bench_import.py [--rows 1000000] [--xlsx-rows 200000] [--runs 3]``.
Writes (once, cached in ``--work``) a demo extract of ``--rows`` incidents and from it
a GB18030 CSV with a title row, Chinese headers and five timestamp spellings, an XLSX
of the first ``--xlsx-rows`` incidents with real date cells, and the areas as a
projected GBK Shapefile. Then, each run in a fresh process (for its peak RSS):
- the whole import of the CSV (with the areas) and of the XLSX, no mapping file;
- the Excel readers on the XLSX: openpyxl (the reference, pure Python), then fastexcel
  and python-calamine through our reader (data/importer/read_excel.py), each checked
  against openpyxl's cells.
Prints medians. Targets: 1M-row CSV <= 20 s, 200k-row XLSX <= 15 s, peak <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script

HEADER = ["警情编号", "报警时间", "警情类别", "警情细类", "经度", "纬度", "发案地址", "所属社区",
          "处置状态", "办结时间"]


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss it is not inherited from the parent
    that forked us, which built the files)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------- files

def _spelled(ts, k: int):
    """One of five timestamp spellings for a whole column (vectorised)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ts = ts.cast(pa.timestamp("s"))

    def part(fn, width: int = 0):
        s = pc.cast(fn(ts), pa.string())
        return pc.utf8_lpad(s, width, "0") if width else s

    y, mo, d = part(pc.year), part(pc.month), part(pc.day)
    h, mi, sec = part(pc.hour, 2), part(pc.minute, 2), part(pc.second, 2)
    j = pc.binary_join_element_wise
    if k == 0:
        return pc.strftime(ts, "%Y-%m-%d %H:%M:%S")
    if k == 1:
        return j(j(y, mo, d, "/"), j(h, mi, sec, ":"), " ")
    if k == 2:
        return j(y, "年", mo, "月", d, "日 ", h, "时", mi, "分", sec, "秒", "")
    if k == 3:
        return pc.strftime(ts, "%Y%m%d%H%M%S")
    return pc.strftime(ts, "%Y-%m-%dT%H:%M:%S")


def write_files(work: Path, rows: int, xlsx_rows: int) -> dict[str, Path]:
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from demo import generate_demo
    from demo.station_files import LABELS, write_areas_shapefile, write_xlsx

    work.mkdir(parents=True, exist_ok=True)
    demo = work / f"demo-{rows}.duckdb"
    out = {"csv": work / f"警情-{rows}.csv", "xlsx": work / f"警情-{xlsx_rows}.xlsx",
           "shp": work / "村界.shp"}
    if all(p.exists() for p in out.values()):
        return out
    if not demo.exists():
        print(f"generating a demo county with {rows} incidents ...", file=sys.stderr)
        generate_demo(demo, incidents=rows)
    con = duckdb.connect(str(demo), read_only=True)
    inc = con.sql("SELECT i.*, a.name AS area_name FROM incidents i LEFT JOIN areas a "
                  "USING (area_id) ORDER BY i.rowid").to_arrow_table()
    areas = con.execute("SELECT * FROM areas").fetchall()
    cols = [d[0] for d in con.description]
    con.close()
    write_areas_shapefile(out["shp"], [dict(zip(cols, r, strict=True)) for r in areas])
    n = inc.num_rows
    which = pa.array(np.arange(n) % 5, pa.int8())
    reported = pc.choose(which, *[_spelled(inc.column("reported_at"), k) for k in range(5)])

    def labels(col: str, group: str):
        keys = list(LABELS[group])
        idx = pc.index_in(inc.column(col), value_set=pa.array(keys))
        return pa.array([LABELS[group][k] for k in keys]).take(idx)

    table = pa.table({
        HEADER[0]: inc.column("incident_id"), HEADER[1]: reported,
        HEADER[2]: labels("category", "category"), HEADER[3]: inc.column("subcategory"),
        HEADER[4]: inc.column("lon"), HEADER[5]: inc.column("lat"),
        HEADER[6]: inc.column("address"), HEADER[7]: inc.column("area_name"),
        HEADER[8]: labels("status", "status"),
        HEADER[9]: pc.strftime(inc.column("closed_at"), "%Y/%m/%d %H:%M"),
    })
    tmp = out["csv"].with_suffix(".utf8.tmp")
    pacsv.write_csv(table, tmp)
    with open(tmp, encoding="utf-8") as src, open(out["csv"], "w", encoding="gb18030",
                                                 newline="") as dst:
        dst.write("示范县公安局110接处警警情明细表\r\n")
        for line in src:
            dst.write(line.replace('"', ""))
    tmp.unlink()
    head = table.slice(0, xlsx_rows)
    when = inc.column("reported_at").slice(0, xlsx_rows).to_pylist()
    data = zip(*[head.column(h).to_pylist() if h != HEADER[1] else when for h in HEADER],
               strict=True)
    write_xlsx(out["xlsx"], HEADER, list(data), title="示范县警情明细表", sheet="警情")
    return out


# --------------------------------------------------------------------------- children

def child_import(kind: str, files: dict[str, str], work: Path) -> dict:
    from data.importer.run import parse_inputs, run_import

    out = work / f"imported-{kind}.duckdb"
    stages: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(stage: str, fraction: float) -> None:
        key = stage.split(":")[0].split(" ")[0]
        stages.setdefault(key, time.perf_counter() - t0)

    args = [f"incidents={files[kind]}"]
    if kind == "csv":
        args.insert(0, f"areas={files['shp']}")
    report = run_import(parse_inputs(args), out, progress=progress)
    total = time.perf_counter() - t0
    inc = [f for f in report.files if f.table == "incidents"]
    read = sum(c.read for f in inc for c in [f.stats.columns["reported_at"]])
    return {"seconds": total, "read_done": stages.get("incidents", 0.0),
            "rows": report.tables["incidents"], "times_read": read, "peak_mb": peak_rss_mb()}


def _ours(path: str, backend: str):
    from data.importer import read_excel as R
    from data.importer.read import read_source

    if backend == "python-calamine":
        R._backend = lambda: (R._calamine_names, R._calamine_sheet)
    return read_source(path).table


def _calamine(path: str):
    return _ours(path, "python-calamine")


def _fastexcel(path: str):
    return _ours(path, "fastexcel")


def _openpyxl(path: str):
    import pyarrow as pa
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    rows = wb["警情"].iter_rows(values_only=True)
    next(rows)
    header = [str(c) for c in next(rows)]
    cols: list[list] = [[] for _ in header]
    for r in rows:
        r = (*r, *[None] * (len(header) - len(r)))  # short rows: empty cells at the end
        for j, v in enumerate(r[:len(header)]):
            cols[j].append(v)
    wb.close()
    return pa.table({h: pa.array([None if v is None else str(v) for v in c], pa.string())
                     for h, c in zip(header, cols, strict=True)})


READERS = {"fastexcel": _fastexcel, "python-calamine": _calamine, "openpyxl": _openpyxl}


def _norm(v) -> str:
    """A cell as comparable text (readers spell dates and floats differently)."""
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    s = str(v)
    if s.endswith(".0"):
        s = s[:-2]
    return s.replace("T", " ")[:19] if s[:4].isdigit() and len(s) >= 19 else s


def child_reader(name: str, files: dict[str, str], work: Path) -> dict:
    """Read the XLSX with one reader; compare every cell with openpyxl's reading."""
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    table = READERS[name](files["xlsx"])
    seconds = time.perf_counter() - t0
    peak = peak_rss_mb()
    reference = work / f"{Path(files['xlsx']).stem}.openpyxl.parquet"
    if name == "openpyxl":
        pq.write_table(table, reference)
        return {"seconds": seconds, "rows": table.num_rows, "mismatched_cells": 0,
                "peak_mb": peak}
    want = pq.read_table(reference)
    mismatches = 0
    for h in HEADER:
        a = [_norm(v) for v in want.column(h).to_pylist()]
        b = [_norm(v) for v in table.column(h).to_pylist()]
        mismatches += sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))
    return {"seconds": seconds, "rows": table.num_rows, "mismatched_cells": mismatches,
            "peak_mb": peak}


def run_child(args: list[str]) -> dict:
    env = {**os.environ, "COCKPIT_CACHE_DIR": os.environ.get("COCKPIT_CACHE_DIR", "/tmp")}
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env=env, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default="/tmp/cockpit-bench-import")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILES_JSON"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.work)
    if args.child:
        kind, files = args.child[0], json.loads(args.child[1])
        doc = child_reader(kind[7:], files, work) if kind.startswith("reader:") else \
            child_import(kind, files, work)
        print(json.dumps(doc))
        return
    files = {k: str(v) for k, v in write_files(work, args.rows, args.xlsx_rows).items()}
    print(f"files in {work}: CSV {Path(files['csv']).stat().st_size / 1e6:.0f} MB, "
          f"XLSX {Path(files['xlsx']).stat().st_size / 1e6:.0f} MB")
    plan = [("csv", f"import {args.rows:,}-row GB18030 CSV + areas Shapefile", 20.0),
            ("xlsx", f"import {args.xlsx_rows:,}-row XLSX", 15.0),
            *[(f"reader:{n}", f"read the XLSX with {n}", None)
              for n in ("openpyxl", "fastexcel", "python-calamine")]]
    for kind, label, target in plan:
        runs = [run_child(["--work", str(work), "--child", kind, json.dumps(files)])
                for _ in range(args.runs)]
        sec = statistics.median(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        extra = ""
        if "mismatched_cells" in runs[0]:
            extra = f", {runs[0]['rows']:,} rows, {runs[0]['mismatched_cells']} cells differ " \
                    "from openpyxl's"
        else:
            extra = f", {runs[0]['rows']:,} rows ({runs[0]['times_read']:,} times read; " \
                    f"read+propose {statistics.median(r['read_done'] for r in runs):.1f} s)"
        verdict = "" if target is None else (" OK" if sec <= target and peak <= 1536
                                             else " OVER TARGET")
        print(f"{label:<52} {sec:6.1f} s (median of {len(runs)}), peak {peak:5.0f} MB"
              f"{extra}{verdict}")


if __name__ == "__main__":
    main()
