"""Time the bulk period and feed freshness (data.period) on an extract.

    python bench/bench_period.py EXTRACT
Prints the cold (first) time of each figure; both are memoised per opened extract.
"""

from __future__ import annotations

import sys
import time

from data.extract import open_extract
from data.period import freshness, incident_period


def main(path: str) -> None:
    t0 = time.perf_counter()
    ex = open_extract(path)
    t1 = time.perf_counter()
    p = incident_period(ex)
    t2 = time.perf_counter()
    f = freshness(ex)
    t3 = time.perf_counter()
    rows = ex.report.tables["incidents"].rows
    print(f"incidents {rows:,}; open {t1 - t0:.2f} s")
    print(f"period {t2 - t1:.3f} s: {p.to_json() if p else None}")
    print(f"freshness {t3 - t2:.3f} s: " + ", ".join(
        f"{k} {v.to_json()}" for k, v in f.items()))


if __name__ == "__main__":
    main(sys.argv[1])
