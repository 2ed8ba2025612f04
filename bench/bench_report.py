"""The everyday size (issue 14, item 8): ``report --json`` and the PDF briefing at 10M.

Budgets: ``report --json`` ≤ 15 s and ``export --pdf`` ≤ 20 s at 10M incidents (the demo
county), peak memory ≤ 2 GB each; repeat places ≤ 1 s at 1M. Prints figures; asserts
nothing.

Each CLI run is a fresh process (``main.py``, as a user runs it) whose wall time and
peak RSS (``wait4``) are measured; the median of ``--runs`` runs is shown after one run
that warms the cockpit cache (the validated copy of the extract). The breakdown runs the
sections of the report one by one in one child process (time, CPU time, peak RSS so far),
so that the slow figures stand out. The demo extracts are generated once and kept in
``$COCKPIT_BENCH_DIR`` (default /tmp/cockpit-bench); their cache in ``cache/`` there.
The machine may be shared: the CPU time and the ratios are steadier than the wall time.

    python bench/bench_report.py                       # 10M: CLI runs + breakdown, 1M repeats
    python bench/bench_report.py --sizes 1000000 --runs 5
    python bench/bench_report.py --only breakdown
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA_DIR = Path(os.environ.get("COCKPIT_BENCH_DIR", Path(tempfile.gettempdir()) / "cockpit-bench"))
REPORT_S, PDF_S, PEAK_MB, REPEATS_1M_S = 15.0, 20.0, 2048.0, 1.0


def _env() -> dict[str, str]:
    return {**os.environ, "COCKPIT_CACHE_DIR": str(DATA_DIR / "cache"),
            "COCKPIT_DATA_DIR": str(DATA_DIR / "user-data"),  # the audit log of the exports
            "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}


def run_cli(args: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of ``main.py args`` in a fresh process."""
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args], env=_env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if p.returncode:
        raise SystemExit(f"main.py {' '.join(args)} failed ({p.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def cli_case(name: str, args: list[str], runs: int, budget_s: float) -> None:
    first = run_cli(args)
    print(f"{name:8s} first  {first[0]:6.1f} s (cpu {first[1]:6.1f} s), peak {first[2]:6.0f} MB")
    got = [run_cli(args) for _ in range(runs)]
    wall = statistics.median(g[0] for g in got)
    cpu = statistics.median(g[1] for g in got)
    peak = max(g[2] for g in got)
    ok = wall <= budget_s and peak <= PEAK_MB
    print(f"{name:8s} median {wall:6.1f} s (cpu {cpu:6.1f} s) of {runs} "
          f"[{', '.join(f'{g[0]:.1f}' for g in got)}], peak {peak:6.0f} MB; "
          f"budget {budget_s:g} s / {PEAK_MB:.0f} MB: {'ok' if ok else 'OVER'}")


# --------------------------------------------------------------------------- breakdown

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_breakdown(path: str) -> list[dict]:
    """Each section of ``report --json`` (and the PDF's own figures) timed in turn."""
    from data import report as rp
    from data.analysis.alerts import alerts
    from data.analysis.coverage import coverage_gaps
    from data.analysis.hotspots import area_hotspots, emerging_hotspots, grid_hotspots
    from data.analysis.mediation import mediation
    from data.analysis.rectification import rectification
    from data.analysis.repeats import near_repeat_rate, repeat_places
    from data.analysis.safety_index import safety_index
    from data.extract import open_extract
    from data.filters import FilterState
    from data.period import freshness
    from data.queries import Query

    out: list[dict] = []

    def step(name: str, fn: Callable[[], object]) -> object:
        t, c = time.perf_counter(), time.process_time()
        res = fn()
        out.append({"name": name, "s": time.perf_counter() - t,
                    "cpu": time.process_time() - c, "peak_mb": _peak_mb()})
        return res

    ex = step("open (cache)", lambda: open_extract(path))
    q, state = Query(ex), FilterState()
    step("incidents", lambda: rp.incidents_section(q, state))
    step("resources+hazards+disputes", lambda: (rp.resources_section(q, state),
                                                rp.hazards_section(q, state),
                                                rp.disputes_section(q, state)))
    step("load report+freshness", lambda: (ex.report.to_json(), freshness(ex)))
    step("change", lambda: rp.change_section(q, state))
    step("hotspots grid", lambda: grid_hotspots(q, state).to_json())
    step("hotspots areas", lambda: area_hotspots(q, state).to_json(limit=20))
    step("hotspots emerging", lambda: emerging_hotspots(q, state).to_json())
    step("repeat places", lambda: repeat_places(q, state, limit=20).to_json(20))
    step("near repeat", lambda: near_repeat_rate(q, state).to_json())
    step("alerts", lambda: alerts(q, state).to_json(limit=50))
    step("rectification", lambda: rectification(q, state).to_json())
    step("mediation", lambda: mediation(q, state).to_json())
    step("safety index", lambda: safety_index(q, state).to_json())
    step("coverage gaps", lambda: coverage_gaps(q, state).to_json())
    step("build_report (again, warm)", lambda: rp.build_report(ex, state))
    return out


def breakdown(path: Path) -> None:
    res = subprocess.run([sys.executable, __file__, "--phase", "breakdown", "--path", str(path)],
                         env=_env(), capture_output=True, text=True, cwd=ROOT)
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    steps = json.loads(res.stdout.strip().splitlines()[-1])
    total = sum(s["s"] for s in steps[:-1])
    print(f"{'breakdown':28s}{'wall s':>8s}{'cpu s':>8s}{'share':>7s}{'peak MB':>9s}")
    for s in steps:
        share = f"{100 * s['s'] / total:6.0f}%" if s is not steps[-1] else ""
        print(f"  {s['name']:26s}{s['s']:8.2f}{s['cpu']:8.2f}{share:>7s}{s['peak_mb']:9.0f}")
    print(f"  {'sum of the sections':26s}{total:8.2f}")


# --------------------------------------------------------------------------- repeats at 1M

def phase_repeats(path: str, runs: int) -> dict:
    from data.analysis.repeats import repeat_places
    from data.extract import open_extract
    from data.filters import FilterState
    from data.queries import Query

    q = Query(open_extract(path))
    t = time.perf_counter()
    first = repeat_places(q, FilterState(), limit=20)
    first_s = time.perf_counter() - t
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        repeat_places(q, FilterState(), limit=20)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"first_s": first_s, "median_s": statistics.median(times), "times": times,
            "cpu_s": statistics.median(cpu),
            "places": first.total_places, "in_places": first.incidents_in_places,
            "peak_mb": _peak_mb()}


def repeats_1m(runs: int) -> None:
    from bench_foundation import ensure_demo

    path, _ = ensure_demo(1_000_000)
    run_cli(["validate", str(path)])  # warm the cache
    res = subprocess.run([sys.executable, __file__, "--phase", "repeats", "--path", str(path),
                          "--runs", str(runs)], env=_env(), capture_output=True, text=True,
                         cwd=ROOT)
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    r = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"repeats1M first {r['first_s']:.2f} s (builds the address book), "
          f"{r['places']:,} places, {r['in_places']:,} incidents in them")
    print(f"repeats1M median {r['median_s']:.2f} s (cpu {r['cpu_s']:.2f} s) of {runs} "
          f"[{', '.join(f'{x:.2f}' for x in r['times'])}]; budget {REPEATS_1M_S:g} s: "
          f"{'ok' if r['median_s'] <= REPEATS_1M_S else 'OVER'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    ap.add_argument("--runs", type=int, default=3, help="measured runs per case (median)")
    ap.add_argument("--only", choices=["cli", "breakdown", "repeats"], action="append")
    ap.add_argument("--phase", choices=["breakdown", "repeats"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase == "breakdown":
        print(json.dumps(phase_breakdown(a.path)))
        return
    if a.phase == "repeats":
        print(json.dumps(phase_repeats(a.path, a.runs)))
        return
    from bench_foundation import ensure_demo

    only = set(a.only or ["cli", "breakdown", "repeats"])
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; data in {DATA_DIR}")
    for n in a.sizes:
        path, gen_s = ensure_demo(n)
        print(f"\n== {n:,} incidents: {path}"
              + (f" (generated in {gen_s:.0f} s)" if gen_s is not None else ""))
        if "cli" in only:
            pdf = Path(tempfile.mkdtemp(prefix="bench-report-")) / "briefing.pdf"
            cli_case("report", ["report", str(path), "--json"], a.runs, REPORT_S)
            cli_case("pdf", ["export", str(path), "--pdf", str(pdf)], a.runs, PDF_S)
        if "breakdown" in only:
            breakdown(path)
    if "repeats" in only:
        print()
        repeats_1m(max(a.runs, 5))
    print(f"\nload after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
