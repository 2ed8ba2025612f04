"""Scale figures of the province build (issue 15, step 7): the synthetic province
generator and ``pipeline.build`` (Apache Spark, ``local[2]``) at 10M incidents, and at
30M / 100M on request.

Run: ``python bench/bench_pipeline.py [--sizes 10,30,100] [--work DIR] [--skip-build]``.
For each size (millions of incidents):
1. ``demo.province.generate_province`` (one county per million incidents) in a fresh
   process: wall time, peak memory, size on disk;
2. from it, the files a province would hand over: the areas as GeoJSON and the incidents
   as one Parquet file per month (not timed: that is the export, not the build);
3. ``python -m pipeline.build --master local[2]`` on those files in a fresh process:
   wall time, peak memory of the whole process tree (the Python driver, the JVM and the
   Python workers, RSS summed over /proc every 0.5 s), output size;
and the cost per million rows of each (it should stay flat as the size grows).
Prints one table; nothing is asserted. Long: see the figures below.

Measured 2026-12-05 on this 2-core machine, shared with other runs (so wall times are
high and noisy; CPU time in brackets where known):
- generator: 1M 26 s, peak 324 MB; 10M 151 s (68 s CPU), peak 450 MB, 533 MB on disk;
  100M 3863 s wall at 21% CPU (833 s CPU), peak 874 MB, 5.5 GB (the peak is bounded
  by the chunk size and DuckDB's memory_limit for the monthly sums, not by the total).
- Spark build (local[2], areas GeoJSON + 25 monthly Parquet files), quiet machine,
  after the 2026-12-05 aggregate fix: 1M 46 s; 10M 222 s (22.2 s/M), peak 2.5 GB
  (driver + JVM + workers), 622 MB out; 30M 649 s (21.6 s/M), peak 6.0 GB (the driver
  then held every file under 64 MB whole while settling: fixed, not re-measured),
  1.9 GB out; 100M 2042 s (20.4 s/M), peak 2.6 GB, 6.8 GB out (68 MB/M). The largest
  steps at 100M: the area aggregate 754 s, the cell aggregate 506 s, repeated ids
  282 s, writing the rows 248 s, reading and cleaning 216 s.
  (Before the fix, on a loaded machine: 1M 496 s, 10M 2270 s.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script
PY = sys.executable


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def tree_rss_mb(root: int) -> float:
    """RSS summed over a process and all its descendants (shared pages counted in each)."""
    total, todo, seen = 0, [root], set()
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * page
        except OSError:
            continue
        todo += _children(pid)
    return total / 2**20


def measured(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd``; its wall time and the peak RSS of its process tree."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            stop.wait(0.5)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    stop.set()
    t.join()
    return Run(time.perf_counter() - t0, peak[0], proc.returncode, out, err)


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def generate(out: Path, millions: float, seed: int) -> Run:
    n = round(millions * 1_000_000)
    counties = max(1, round(millions))
    code = ("import sys; from demo.province import generate_province; "
            f"m = generate_province({str(out)!r}, {counties}, {n}, seed={seed}); "
            "print(m.counts['incidents'])")
    return measured([PY, "-c", code], {**os.environ, "PYTHONPATH": str(ROOT)})


def station_files(province: Path, into: Path) -> list[str]:
    """The areas as GeoJSON and one Parquet file of incidents per month, as TABLE=PATH."""
    import duckdb
    import pyarrow.parquet as pq
    import shapely

    into.mkdir(parents=True, exist_ok=True)
    areas = pq.read_table(province / "areas").to_pylist()
    features = [{"type": "Feature",
                 "properties": {k: a[k] for k in ("area_id", "name", "level", "parent_id",
                                                  "population")},
                 "geometry": json.loads(shapely.to_geojson(shapely.from_wkb(a["geom_wkb"])))}
                for a in areas]
    (into / "areas.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8")
    args = [f"areas={into / 'areas.geojson'}"]
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    for month in sorted((province / "incidents").glob("year=*/month=*")):
        name = f"incidents-{month.parent.name[5:]}{month.name[6:]}.parquet"
        target = into / name
        if not target.exists():
            con.execute(f"COPY (SELECT * FROM read_parquet('{month}/*.parquet', "
                        f"hive_partitioning=false)) TO '{target}' (FORMAT parquet, "
                        "COMPRESSION zstd)")
        args.append(f"incidents={target}")
    con.close()
    return args


def build(inputs: list[str], out: Path, master: str, shuffle: int | None) -> Run:
    cmd = [PY, "-m", "pipeline.build", "--out", str(out), "--master", master, "--json"]
    if shuffle:
        cmd += ["--shuffle-partitions", str(shuffle)]
    return measured(cmd + inputs, {**os.environ, "PYTHONPATH": str(ROOT)})


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="10", help="millions of incidents, comma-separated")
    p.add_argument("--work", default="/tmp/bench_pipeline", help="where files go")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--shuffle-partitions", type=int, default=None)
    p.add_argument("--seed", type=int, default=20261120)
    p.add_argument("--skip-build", action="store_true", help="time the generator only")
    p.add_argument("--keep", action="store_true", help="keep the files afterwards")
    p.add_argument("--province", help="build from this province folder instead of generating "
                   "one (a single size; the generator is then not timed)")
    args = p.parse_args()
    work = Path(args.work)
    rows = []
    for size in [float(s) for s in args.sizes.split(",")]:
        tag = f"{size:g}m"
        if args.province:
            import duckdb

            prov = Path(args.province)
            n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{prov}/incidents/**/*.parquet')"
                           ).fetchall()[0][0]
            row = {"size": tag, "rows": n, "gen_mb": du_mb(prov)}
        else:
            prov = work / f"province-{tag}"
            g = generate(prov, size, args.seed)
            if g.returncode:
                print(g.stderr, file=sys.stderr)
                return 1
            n = int(g.stdout.split()[-1])
            row = {"size": tag, "rows": n, "gen_s": g.seconds, "gen_peak_mb": g.peak_mb,
                   "gen_mb": du_mb(prov)}
            print(f"[{tag}] generated {n:,} incidents in {g.seconds:.1f} s, peak "
                  f"{g.peak_mb:.0f} MB, {row['gen_mb']:.0f} MB on disk", flush=True)
        m = n / 1e6
        if not args.skip_build:
            t0 = time.perf_counter()
            inputs = station_files(prov, work / f"files-{tag}")
            print(f"[{tag}] input files in {time.perf_counter() - t0:.1f} s "
                  f"({len(inputs) - 1} incident files)", flush=True)
            out = work / f"built-{tag}"
            b = build(inputs, out, args.master, args.shuffle_partitions)
            if b.returncode:
                print(b.stderr[-3000:], file=sys.stderr)
                return 1
            doc = json.loads(b.stdout)
            kept = doc["load_report"]["incidents"]["rows"]
            row |= {"build_s": b.seconds, "build_peak_mb": b.peak_mb, "out_mb": du_mb(out),
                    "read": kept, "aggregates": doc["aggregates"]}
            for line in b.stderr.splitlines():  # the build's own step times
                if line.endswith(" s") and " in " in line:
                    print(f"[{tag}]   {line}", flush=True)
            print(f"[{tag}] built in {b.seconds:.1f} s, peak {b.peak_mb:.0f} MB (tree), "
                  f"{row['out_mb']:.0f} MB out, aggregates {doc['aggregates']}", flush=True)
        rows.append((m, row))
        if not args.keep:
            import shutil

            for d in (work / f"files-{tag}", work / f"built-{tag}",
                      None if args.province else prov):
                if d is not None:
                    shutil.rmtree(d, ignore_errors=True)
    print()
    print("size   rows         gen s  gen s/M  gen peak MB  gen MB/M  build s  build s/M"
          "  build peak MB  out MB  out MB/M")
    for m, r in rows:
        b = (f"{r['build_s']:7.1f}  {r['build_s'] / m:9.1f}  {r['build_peak_mb']:13.0f}  "
             f"{r['out_mb']:6.0f}  {r['out_mb'] / m:8.1f}") if "build_s" in r else \
            "      -          -              -       -         -"
        g = (f"{r['gen_s']:5.0f}  {r['gen_s'] / m:7.1f}  {r['gen_peak_mb']:11.0f}"
             if "gen_s" in r else "    -        -            -")
        print(f"{r['size']:<6} {r['rows']:<12,} {g}  {r['gen_mb'] / m:8.1f}  {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
