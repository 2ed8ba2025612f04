"""The near-repeat search (fine cells, then 3 × 3 cells in time slabs) against every pair.

``_preceded`` works on projected points; here it is compared with a plain double loop
over the same planar points (the definition: 0 ≤ t_i − t_j ≤ window, squared distance
≤ r², at the same instant only the greater id is preceded), on random worlds built to
hit the edges: points exactly r apart (along an axis and on a 3-4-5 diagonal), points on
the borders of the search's cells (multiples of r and of r/√2), many calls at one
instant and one place (date-only data), repeated ids, sub-second times, a window of 0,
a radius of 0, points outside the query. The rate on an extract (NULL coordinates,
filters, ties) is compared with a haversine brute force over the rows.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from factory import X0, Y0, meta_rows, standard_areas, write_extract

from data.analysis.repeats import _preceded, near_repeat_rate
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query

DAY_US = 86_400 * 1_000_000


def brute(x: list[float], y: list[float], t: list[int], ids: list[str], query: list[bool],
          r: float, window: int) -> list[bool]:
    out = []
    for i in range(len(x)):
        hit = False
        if query[i]:
            for j in range(len(x)):
                if j == i:
                    continue
                dt = t[i] - t[j]
                if not 0 <= dt <= window:
                    continue
                if dt == 0 and not ids[j] < ids[i]:
                    continue
                dx, dy = x[i] - x[j], y[i] - y[j]
                if dx * dx + dy * dy <= r * r:  # products: Python's ** 2 may round apart
                    hit = True
                    break
        out.append(hit)
    return out


def world(seed: int) -> tuple:
    rnd = np.random.default_rng(seed)
    r = float(rnd.choice([50.0, 50.0, 80.0, 10.0, 0.0]))
    n = int(rnd.integers(2, 260))
    extent = float(rnd.choice([120.0, 600.0, 5000.0]))
    x = rnd.uniform(-extent, extent, n)
    y = rnd.uniform(-extent, extent, n)
    step = r if r else 1.0
    snap = rnd.random(n) < 0.3  # on the borders of the cells of the search
    grid = np.where(rnd.random(n) < 0.5, step, step / math.sqrt(2.0))
    x[snap] = np.round(x[snap] / grid[snap]) * grid[snap]
    y[snap] = np.round(y[snap] / grid[snap]) * grid[snap]
    for k in range(0, n - 2, 7):  # exactly r apart: along an axis, on a 3-4-5 diagonal
        x[k + 1], y[k + 1] = x[k] + r, y[k]
        x[k + 2], y[k + 2] = x[k] + 0.6 * r, y[k] - 0.8 * r
    if n > 30 and r > 0:  # a lattice whose diagonal is just over r (then just r)
        d = r / math.sqrt(2.0) * float(rnd.choice([1.0 + 1e-9, 1.0, 1.0 + 1e-3]))
        k = np.arange(25)
        x[5:30] = x[0] + 3.3 + d * (k % 5)
        y[5:30] = y[0] - 7.1 + d * (k // 5)
    same = rnd.random(n) < 0.1  # stacked on one point
    x[same], y[same] = x[0], y[0]
    unit = int(rnd.choice([1, 1000, 1_000_000, DAY_US]))  # µs … date-only
    t = rnd.integers(0, int(rnd.choice([3, 30, 400])), n) * unit \
        + (rnd.integers(0, 1000, n) if rnd.random() < 0.2 else 0)
    window = int(rnd.choice([0, 1, unit, 7 * DAY_US]))
    pool = int(rnd.choice([4, 2 * n]))  # few ids: many repeated
    ids = [f"I{v:04d}" for v in rnd.integers(0, pool, n)]
    query = rnd.random(n) < 0.8
    return x, y, t.astype(np.int64), ids, query, r, window


@pytest.mark.parametrize("seed", range(120))
def test_preceded_equals_every_pair(seed: int) -> None:
    x, y, t, ids, query, r, window = world(seed)
    got = _preceded(x, y, t, lambda points: [ids[k] for k in points.tolist()], query, r,
                    window)
    want = brute(x.tolist(), y.tolist(), t.tolist(), ids, query.tolist(), r, window)
    assert got.tolist() == want


def test_preceded_ties_and_edges_by_hand() -> None:
    r = 50.0
    x = np.array([0.0, 50.0, 0.0, 10.0, 10.0, 200.0, 250.0 + 1e-9, 35.0, 35.0])
    y = np.array([0.0, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0, 35.0, 35.0])
    t = np.array([0, 5, 5, 5, 5, 0, 0, 9, 9], np.int64)
    ids = ["B", "A", "C", "Z", "Z", "P", "Q", "M", "N"]
    got = _preceded(x, y, t, lambda p: [ids[k] for k in p.tolist()], np.ones(9, bool), r, 10)
    # 1: 50 m from 0, later → preceded; 2: likewise; 3, 4: the same id at the same
    # instant never precede each other, but 0 (10 m, earlier) does; 5 first; 6 just over
    # 50 m from 5; 7/8 at one instant: only the greater id (N) is preceded, and 7 has
    # 0 (49.5 m, earlier) anyway.
    assert got.tolist() == [False, True, True, True, True, False, False, True, True]
    assert not _preceded(x, y, t, lambda p: [ids[k] for k in p.tolist()],
                         np.ones(9, bool), r, -1).any()


@pytest.mark.parametrize("factor", [1.0 + 1e-9, 1.0, 1.0 - 1e-9, 1.001, 1.2])
def test_preceded_across_a_cell_diagonal(factor: float) -> None:
    # The corner of the grid is the smallest coordinate: a square of side d from there
    # has its far corner d·√2 away, just over (or at, or under) the radius.
    r = 50.0
    d = r / math.sqrt(2.0) * factor
    x = np.array([0.0, d, 3 * d + 0.5, 0.0])
    y = np.array([0.0, d, 0.0, 3 * d])
    t = np.array([0, 1, 2, 3], np.int64)
    ids = ["A", "B", "C", "D"]
    got = _preceded(x, y, t, lambda p: [ids[k] for k in p.tolist()], np.ones(4, bool), r, 10)
    assert got.tolist() == brute(x.tolist(), y.tolist(), t.tolist(), ids, [True] * 4, r, 10)


# --------------------------------------------------------------------------- on an extract

R_EARTH = 6371008.8
M_LAT = math.pi * R_EARTH / 180
CATS = ["criminal", "public_order", "dispute", "traffic", "fire", "assistance", "fraud",
        "other"]


def hav(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R_EARTH * math.asin(math.sqrt(min(1.0, a)))


def rows_of_city() -> list[tuple]:
    """Hot spots, a grid of cells' corners, date-only and sub-second calls, NULL points."""
    rnd = random.Random(5)
    rows: list[tuple] = []
    lon0, lat0 = X0 + 0.1, Y0 + 0.1
    m_lon = M_LAT * math.cos(math.radians(lat0))

    def add(dx: float | None, dy: float | None, when: datetime, cat: str) -> None:
        lon = None if dx is None else lon0 + dx / m_lon
        lat = None if dy is None else lat0 + dy / M_LAT
        rows.append((f"C{rnd.randint(0, 10 ** 6):07d}-{len(rows)}", when, cat, None, lon, lat,
                     None, None, "closed", None))

    start = datetime(2025, 1, 1)
    for _ in range(600):
        hot = rnd.random() < 0.5
        dx = rnd.gauss(0, 15) if hot else rnd.uniform(-3000, 3000)
        dy = rnd.gauss(0, 15) if hot else rnd.uniform(-3000, 3000)
        when = start + timedelta(seconds=rnd.randint(0, 120 * 86400),
                                 microseconds=rnd.choice([0, rnd.randint(0, 999_999)]))
        add(dx, dy, when, rnd.choice(CATS))
    for k in range(40):  # date-only calls stacked on a few points
        add(500.0 * (k % 3), 0.0, start + timedelta(days=k // 8), rnd.choice(CATS))
    for k in range(20):  # no point
        add(None, None, start + timedelta(days=k), rnd.choice(CATS))
    for k in range(6):  # NaN coordinates: not located either
        add(0.0, 0.0, start + timedelta(days=k, hours=1), rnd.choice(CATS))
        rows[-1] = (*rows[-1][:4], math.nan if k % 2 else rows[-1][4], math.nan, *rows[-1][6:])
    return rows


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rows = rows_of_city()
    path = tmp_path_factory.mktemp("near_search") / "c.duckdb"
    write_extract(path, {"meta": meta_rows(), "areas": standard_areas(), "incidents": rows})
    return {"path": path, "rows": rows}


def brute_rate(rows: list[tuple], days: int, radius: float, start: date | None,
               end: date | None, cats: set[str] | None) -> dict[str, tuple[int, int]]:
    lo = datetime.combine(start, datetime.min.time()) if start else datetime.min
    look = lo - timedelta(days=days) if start else datetime.min
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time()) if end else datetime.max
    sel = [r for r in rows if r[4] is not None and math.isfinite(r[4]) and r[5] is not None
           and math.isfinite(r[5]) and look <= r[1] < hi
           and (cats is None or r[2] in cats)]
    num: Counter = Counter()
    den: Counter = Counter()
    for r in sel:
        if r[1] < lo:
            continue
        den[r[2]] += 1
        if any(s[0] != r[0] and timedelta(0) <= r[1] - s[1] <= timedelta(days=days)
               and (s[1] < r[1] or s[0] < r[0]) and hav(r[4], r[5], s[4], s[5]) <= radius
               for s in sel):
            num[r[2]] += 1
    return {c: (num[c], den[c]) for c in den}


@pytest.mark.parametrize("start,end,days,cats", [
    (None, None, 7, None), (date(2025, 2, 1), date(2025, 3, 15), 7, None),
    (date(2025, 1, 3), None, 1, {"criminal", "fraud", "traffic"}),
    (None, date(2025, 1, 5), 0, None)])
def test_rate_on_an_extract(city: dict, start, end, days, cats) -> None:
    state = FilterState().with_window(start, end)
    if cats:
        state = state.with_set("incident_categories", sorted(cats))
    got = near_repeat_rate(Query(open_extract(city["path"])), state, days=days)
    want = brute_rate(city["rows"], days, 50.0, start, end, cats)
    assert got.by_category == want
    assert got.denominator == sum(b for _, b in want.values())
    assert 0 < got.numerator < got.denominator
