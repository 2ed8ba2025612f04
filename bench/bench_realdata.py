"""Everyday-size benchmark: `report --json` and the PDF briefing at 10M incidents, repeat
places at 1M.

Budgets (issue 14): `report --json` ≤ 15 s and the PDF briefing ≤ 20 s on the 10M demo
county, peak memory ≤ 2 GB each; repeat places ≤ 1 s at 1M. The commands run as the user
runs them (`python main.py report ... --json`, `python main.py export ... --pdf`), each in
its own process under ``/usr/bin/time -v`` for the peak RSS; a first run warms the cockpit
cache (validation of a new extract) and is shown apart; the figures are the median of
``--runs`` runs after it. Repeat places are timed in-process (median of the runs) on the
1M extract. Demo extracts are generated when missing (10M takes about half a minute).
Prints figures; asserts nothing.

    python bench/bench_realdata.py --demo10m /tmp/rd10m/demo.duckdb \
        --demo1m /tmp/rd10m/demo1m.duckdb --runs 3
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def ensure(path: Path, n: int) -> None:
    if path.exists():
        return
    from demo import generate_demo

    t = time.perf_counter()
    generate_demo(path, incidents=n)
    print(f"demo       generated {n:,} incidents in {time.perf_counter() - t:.1f} s → {path}")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run of ``cmd``."""
    t = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
    return wall, (int(m.group(1)) / 1024 if m else float("nan"))


def bench_command(name: str, cmd: list[str], runs: int, budget_s: float,
                  env: dict[str, str]) -> None:
    w0, r0 = timed(cmd, env)
    print(f"{name:10s} first run {w0:6.1f} s, peak {r0:6.0f} MB (warms the cache)")
    walls, rss = [], []
    for _ in range(runs):
        w, r = timed(cmd, env)
        walls.append(w)
        rss.append(r)
    med = statistics.median(walls)
    print(f"{name:10s} median {med:6.1f} s of {runs} ({', '.join(f'{w:.1f}' for w in walls)}), "
          f"peak {max(rss):6.0f} MB; budget {budget_s:.0f} s / 2048 MB: "
          f"{'ok' if med <= budget_s and max(rss) <= 2048 else 'OVER'}")


def bench_repeats(path: Path, runs: int) -> None:
    from data.analysis.repeats import repeat_places
    from data.extract import open_extract
    from data.filters import FilterState
    from data.queries import Query

    q = Query(open_extract(path))
    t = time.perf_counter()
    first = repeat_places(q, FilterState(), limit=20)
    print(f"repeats1m  first call {time.perf_counter() - t:.2f} s (builds the address book), "
          f"{first.total_places:,} places, {first.incidents_in_places:,} incidents in them")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        repeat_places(q, FilterState(), limit=20)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"repeats1m  median {med:.2f} s of {runs}; budget 1 s: {'ok' if med <= 1 else 'OVER'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo10m", type=Path, default=Path("/tmp/rd10m/demo.duckdb"))
    parser.add_argument("--demo1m", type=Path, default=Path("/tmp/rd10m/demo1m.duckdb"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["report", "pdf", "repeats"])
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("COCKPIT_DATA_DIR", tempfile.mkdtemp(prefix="bench-realdata-"))
    py = sys.executable
    if "repeats" not in args.skip:
        ensure(args.demo1m, 1_000_000)
        bench_repeats(args.demo1m, args.runs)
    if {"report", "pdf"} - set(args.skip):
        ensure(args.demo10m, 10_000_000)
    if "report" not in args.skip:
        bench_command("report", [py, "main.py", "report", str(args.demo10m), "--json"],
                      args.runs, 15.0, env)
    if "pdf" not in args.skip:
        out = Path(tempfile.mkdtemp(prefix="bench-realdata-pdf-")) / "b.pdf"
        bench_command("pdf", [py, "main.py", "export", str(args.demo10m), "--pdf", str(out)],
                      args.runs, 20.0, env)


if __name__ == "__main__":
    main()
