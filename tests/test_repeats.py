"""Repeat places and near-repeat rates against plain-Python brute force.

The extract is written with plain DuckDB from Python rows; the expectations are
computed from the same rows with a straightforward implementation of the
definitions (``math`` haversine, every pair, ``unicodedata`` for addresses), never
with the cockpit's modules. The demo county's planted repeat addresses must be
found among the places.
"""

from __future__ import annotations

import json
import math
import random
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta

import duckdb
import pytest
from factory import EXTRACTED_AT, STEP, X0, Y0, meta_rows, standard_areas, write_extract

import data.analysis.repeats as repeats
from data.analysis.repeats import near_repeat_rate, new_repeat_places, repeat_places
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query

CATS = ["criminal", "public_order", "dispute", "traffic", "fire", "assistance", "fraud",
        "other"]
R_EARTH = 6371008.8
AREAS = standard_areas()
AREA_NAME = {a[0]: a[1] for a in AREAS}
PARENT = {a[0]: a[3] for a in AREAS}
M_LAT = math.pi * R_EARTH / 180  # metres per degree of latitude


def hav(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R_EARTH * math.asin(math.sqrt(min(1.0, a)))


def offset(lon: float, lat: float, dx: float, dy: float) -> tuple[float, float]:
    return lon + dx / (M_LAT * math.cos(math.radians(lat))), lat + dy / M_LAT


def key_of(text: str | None) -> str:
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text)
    s = "".join(ch for ch in s if unicodedata.category(ch)[0] not in "PZ"
                and unicodedata.category(ch) not in ("Cc", "Cf"))
    return s.lower()


# --------------------------------------------------------------------------- the world

PLACE_A = (115.03, 27.03)  # 12 calls in March 2025 only
PLACE_B = (115.13, 27.13)
PLACE_C = offset(*PLACE_B, 75.0, 0.0)  # closer than 2 r to B
PATCH = (115.06, 27.16)  # a dense square of 400 m: many small places and ties
HAPPY = ["幸福路12号", "幸福路 12 号", "幸福路１２号", "（幸福路）12号。", "幸福路12号\t"]


def build_rows() -> list[tuple]:
    rnd = random.Random(17)
    rows: list[tuple] = []

    def add(lon, lat, when, address, cat=None, area_id=None, status="closed"):
        i = len(rows)
        cat = cat or rnd.choice([*CATS[:7], "zombie"])  # zombie → other
        rows.append((f"I{i:05d}", when, cat, None, lon, lat, address, area_id, status, None))

    def rand_time(a: datetime = datetime(2024, 7, 1), b: datetime = EXTRACTED_AT) -> datetime:
        return a + timedelta(seconds=rnd.randint(0, int((b - a).total_seconds())))

    for _ in range(12):
        lon, lat = offset(*PLACE_A, rnd.uniform(-10, 10), rnd.uniform(-10, 10))
        add(lon, lat, rand_time(datetime(2025, 3, 1), datetime(2025, 3, 31)),
            rnd.choice(["示范路1号金龙麻将馆"] * 3 + ["示范路1号"]))
    # Two loose clusters whose edges are within r of each other: the first leader
    # takes part of the other, whose own leader takes the rest.
    for centre, n in ((PLACE_B, 14), (PLACE_C, 10)):
        for _ in range(n):
            lon, lat = offset(*centre, rnd.uniform(-20, 20), rnd.uniform(-20, 20))
            add(lon, lat, rand_time(), rnd.choice(["滨江路66号", "滨江路66号夜色酒吧"]))
    pool = [*(f"新街{k}号" for k in range(6)), None, "・"]  # some without an address
    for _ in range(260):
        lon, lat = offset(*PATCH, rnd.uniform(0, 400), rnd.uniform(0, 400))
        add(lon, lat, rand_time(), rnd.choice(pool))
    for _ in range(250):  # sparse background
        add(X0 + rnd.uniform(0.001, 0.199), Y0 + rnd.uniform(0.001, 0.199), rand_time(),
            f"村道{rnd.randint(0, 10_000)}号")
    # Repeat calls at the same second and place (near-repeat ties).
    when = datetime(2025, 5, 5, 5, 5, 5)
    for _ in range(3):
        lon, lat = offset(*PLACE_B, rnd.uniform(-3, 3), rnd.uniform(-3, 3))
        add(lon, lat, when, "滨江路66号")
    # Unlocated incidents: one address spelled five ways, plus two located but isolated.
    for text in HAPPY:
        add(None, None, rand_time(), text, area_id=rnd.choice(["V10", "V10", "T1", None]))
    for dx in (0.0, 0.05):
        add(115.101 + dx, 27.001, rand_time(), "幸福路12号")
    for text in ["Ａｂｃ 路３号", "abc路3号", "ABC路3号"]:  # exactly min_count
        add(None, None, rand_time(), text)
    for text in ["只有两次", "只有 两次"]:  # below min_count
        add(None, None, rand_time(), text)
    for text in ["。。", " ", "、", None]:  # nothing left after normalisation: no group
        add(None, None, rand_time(), text)
    for _ in range(30):
        add(None, None, rand_time(), f"无坐标{rnd.randint(0, 5)}号")
    return rows


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rows = build_rows()
    path = tmp_path_factory.mktemp("rep") / "r.duckdb"
    write_extract(path, {"meta": meta_rows(), "areas": AREAS, "incidents": rows})
    return {"path": path, "rows": rows}


@pytest.fixture()
def query(world: dict) -> Query:
    return Query(open_extract(world["path"]))


# --------------------------------------------------------------------------- brute force

def area_of(r: tuple) -> str | None:
    lon, lat, area_id = r[4], r[5], r[7]
    if lon is not None:
        return f"V{int((lon - X0) // STEP)}{int((lat - Y0) // STEP)}"
    return area_id if area_id in AREA_NAME else None


def under(area: str | None, target: str) -> bool:
    while area is not None:
        if area == target:
            return True
        area = PARENT.get(area)
    return False


def selected(rows: list[tuple], start: date | None = None, end: date | None = None,
             cats: set[str] | None = None, area: str | None = None) -> list[tuple]:
    stop = datetime.combine(EXTRACTED_AT.date() + timedelta(days=1), datetime.min.time())
    if end is not None:
        stop = min(stop, datetime.combine(end + timedelta(days=1), datetime.min.time()))
    lo = datetime.combine(start, datetime.min.time()) if start else datetime.min
    out = []
    for r in rows:
        cat = r[2] if r[2] in CATS else "other"
        if not (lo <= r[1] < stop) or (cats and cat not in cats):
            continue
        if area and not under(area_of(r), area):
            continue
        out.append(r)
    return out


def brute_places(rows: list[tuple], m: int = 3, radius: float = 50.0) -> dict[str, dict]:
    loc = [r for r in rows if r[4] is not None]
    nbrs = {r[0]: [s[0] for s in loc if hav(r[4], r[5], s[4], s[5]) <= radius] for r in loc}
    taken: dict[str, str] = {}
    for r in sorted(loc, key=lambda r: (-len(nbrs[r[0]]), r[0])):
        if r[0] in taken:
            continue
        free = [s for s in nbrs[r[0]] if s not in taken]
        if len(free) >= m:
            for s in free:
                taken[s] = f"L:{r[0]}"
    groups: dict[str, list[str]] = {}
    for r in rows:
        k = key_of(r[6])
        if r[0] not in taken and k:
            groups.setdefault(k, []).append(r[0])
    for k, members in groups.items():
        if len(members) >= m:
            for s in members:
                taken[s] = f"A:{k}"
    by_id = {r[0]: r for r in rows}
    places: dict[str, dict] = {}
    for iid, pid in taken.items():
        places.setdefault(pid, {"members": []})["members"].append(iid)
    for pid, p in places.items():
        mem = sorted((by_id[i] for i in p["members"]), key=lambda r: (r[1], r[0]))
        addr = Counter(r[6] for r in mem if key_of(r[6]))
        areas = Counter(a for r in mem if (a := area_of(r)) is not None)
        located = [r for r in mem if r[4] is not None]
        area = area_of(by_id[pid[2:]]) if pid.startswith("L:") else \
            (min(areas, key=lambda a: (-areas[a], a)) if areas else None)
        p.update(
            members=frozenset(p["members"]), count=len(mem), first=mem[0][1], last=mem[-1][1],
            reached=mem[m - 1][1], ids=[r[0] for r in mem[:20]],
            matched_by="location" if pid.startswith("L:") else "address",
            address=min(addr, key=lambda a: (-addr[a], a)) if addr else None,
            categories=dict(Counter(r[2] if r[2] in CATS else "other" for r in mem)),
            lon=sum(r[4] for r in located) / len(located) if located else None,
            lat=sum(r[5] for r in located) / len(located) if located else None,
            area_id=area, name=AREA_NAME.get(area) if area else None)
    return places


def brute_order(places: dict[str, dict]) -> list[str]:
    # count desc, last desc, place_id asc: sort twice (stable) to negate the datetime
    ids = sorted(places)
    ids.sort(key=lambda p: places[p]["last"], reverse=True)
    ids.sort(key=lambda p: places[p]["count"], reverse=True)
    return ids


def check(got, want: dict[str, dict]) -> None:
    assert got.total_places == len(want)
    assert got.incidents_in_places == sum(p["count"] for p in want.values())
    assert [p.place_id for p in got] == brute_order(want)
    for i, p in enumerate(got):
        w = want[p.place_id]
        assert frozenset(got.members(i)) == w["members"], p.place_id
        assert (p.count, p.first, p.last, p.reached_at, p.matched_by, p.address, p.categories,
                p.area_id, p.name, list(p.incident_ids)) == \
            (w["count"], w["first"], w["last"], w["reached"], w["matched_by"], w["address"],
             w["categories"], w["area_id"], w["name"], w["ids"]), p.place_id
        if w["lon"] is None:
            assert p.lon is None and p.lat is None
        else:
            assert (p.lon, p.lat) == pytest.approx((w["lon"], w["lat"]), abs=1e-9)


# --------------------------------------------------------------------------- tests

def test_places_equal_brute_force(query: Query, world: dict) -> None:
    got = repeat_places(query, FilterState())
    want = brute_places(selected(world["rows"]))
    check(got, want)
    # The set-up exercises what it is meant to.
    kinds = Counter(p["matched_by"] for p in want.values())
    assert kinds["location"] >= 10 and kinds["address"] >= 3
    assert want[f"A:{key_of(HAPPY[0])}"]["count"] == len(HAPPY) + 2
    assert f"A:{key_of('abc路3号')}" in want and f"A:{key_of('只有两次')}" not in want
    # B (rows 12-25) and C (rows 26-35) make two places, each with part of the other.
    place = {i: pid for pid, v in want.items() for i in v["members"]}
    b = Counter(place.get(f"I{i:05d}") for i in range(12, 26))
    c = Counter(place.get(f"I{i:05d}") for i in range(26, 36))
    (pb, _nb), (pc, _nc) = b.most_common(1)[0], c.most_common(1)[0]
    assert pb != pc and pb.startswith("L:") and pc.startswith("L:")
    assert b[pc] + c[pb] > 0


@pytest.mark.parametrize("m,radius", [(2, 30.0), (4, 80.0)])
def test_other_thresholds(query: Query, world: dict, m: int, radius: float) -> None:
    check(repeat_places(query, FilterState(), min_count=m, radius_m=radius),
          brute_places(selected(world["rows"]), m, radius))


def test_filters_change_the_places(query: Query, world: dict) -> None:
    a_ids = {r[0] for r in world["rows"][:12]}
    every = repeat_places(query, FilterState()).assignment()
    assert len(a_ids & set(every)) == 12
    assert len({every[i] for i in a_ids}) == 1  # one place holds all of A
    later = FilterState().with_window(date(2025, 4, 1), date(2025, 6, 15))
    got = repeat_places(query, later)
    assert not a_ids & set(got.assignment())
    check(got, brute_places(selected(world["rows"], date(2025, 4, 1), date(2025, 6, 15))))
    st = FilterState().with_set("incident_categories", ["criminal", "other"]).with_areas(["T2"])
    check(repeat_places(query, st),
          brute_places(selected(world["rows"], cats={"criminal", "other"}, area="T2")))


def test_hash_collisions_fall_back_to_the_text(world: dict, monkeypatch) -> None:
    monkeypatch.setattr(repeats, "_hash_sql", lambda col: f"hash(length({col}))")
    q = Query(open_extract(world["path"]))  # a new Extract: a new address table
    got = repeat_places(q, FilterState())
    assert not q.extract.__dict__["_address_book"].unique
    check(got, brute_places(selected(world["rows"])))


def test_limit_and_json(query: Query) -> None:
    full = repeat_places(query, FilterState())
    top = repeat_places(query, FilterState(), limit=4)
    assert [p.place_id for p in top] == [p.place_id for p in full][:4]
    assert (top.total_places, top.incidents_in_places) == \
        (full.total_places, full.incidents_in_places)
    doc = json.loads(json.dumps(full.to_json(limit=3), ensure_ascii=False))
    assert set(doc) == {"radius_m", "min_count", "places", "incidents_in_places", "top"}
    assert doc["places"] == full.total_places and len(doc["top"]) == 3
    assert set(doc["top"][0]) >= {"place_id", "matched_by", "address", "lon", "lat", "count",
                                  "first", "last", "categories", "area_id", "name",
                                  "incident_ids"}


@pytest.mark.parametrize("since", [date(2025, 3, 10), date(2025, 5, 1), date(2025, 6, 14)])
def test_new_repeat_places(query: Query, world: dict, since: date) -> None:
    want = brute_places(selected(world["rows"]))
    cut = datetime.combine(since, datetime.min.time())
    new = {p: v for p, v in want.items() if v["reached"] >= cut}
    got = new_repeat_places(query, FilterState(), since)
    check(got, new)
    assert 0 < len(new) < len(want) or since == date(2025, 6, 14)


def brute_near(rows: list[tuple], days: int, radius: float, start: date | None,
               sel: list[tuple]) -> dict[str, tuple[int, int]]:
    lo = datetime.combine(start, datetime.min.time()) if start else datetime.min
    loc = [r for r in sel if r[4] is not None]
    num: Counter = Counter()
    den: Counter = Counter()
    span = timedelta(days=days)
    for r in loc:
        if r[1] < lo:
            continue
        cat = r[2] if r[2] in CATS else "other"
        den[cat] += 1
        if any(s[0] != r[0] and timedelta(0) <= r[1] - s[1] <= span
               and (s[1] < r[1] or s[0] < r[0]) and hav(r[4], r[5], s[4], s[5]) <= radius
               for s in loc):
            num[cat] += 1
    return {c: (num[c], den[c]) for c in den}


@pytest.mark.parametrize("start,end,days,radius", [
    (None, None, 7, 50.0), (date(2025, 3, 5), date(2025, 5, 31), 7, 50.0),
    (date(2025, 1, 1), None, 30, 80.0), (date(2025, 5, 5), date(2025, 5, 5), 1, 50.0)])
def test_near_repeat_rate(query: Query, world: dict, start, end, days, radius) -> None:
    state = FilterState().with_window(start, end)
    got = near_repeat_rate(query, state, days=days, radius_m=radius)
    history = selected(world["rows"], start - timedelta(days=days) if start else None, end)
    want = brute_near(world["rows"], days, radius, start, history)
    assert got.by_category == want
    assert got.numerator == sum(a for a, _ in want.values())
    assert got.denominator == sum(b for _, b in want.values())
    assert got.rate == pytest.approx(got.numerator / got.denominator)
    assert 0 < got.numerator < got.denominator
    json.dumps(got.to_json())


def test_near_repeat_looks_back_before_the_window(query: Query, world: dict) -> None:
    # The first call of a window may be a repeat of a call just before it.
    state = FilterState().with_window(date(2025, 3, 15), date(2025, 3, 31))
    got = near_repeat_rate(query, state)
    inside_only = brute_near(world["rows"], 7, 50.0, date(2025, 3, 15),
                             selected(world["rows"], date(2025, 3, 15), date(2025, 3, 31)))
    assert got.numerator > sum(a for a, _ in inside_only.values())
    empty = near_repeat_rate(query, FilterState().with_window(date(2020, 1, 1),
                                                              date(2020, 1, 2)))
    assert (empty.numerator, empty.denominator, empty.rate) == (0, 0, None)


# --------------------------------------------------------------------------- demo county

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    manifest = generate_demo(path, incidents=20_000, seed=11)
    return path, manifest


def test_demo_repeat_addresses_are_found(demo) -> None:
    path, manifest = demo
    assert len(manifest.repeat_addresses) == 10
    got = repeat_places(Query(open_extract(path)), FilterState())
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT incident_id, address, lon FROM incidents").fetchall()
    finally:
        con.close()
    assignment = got.assignment()
    by_address: dict = {}
    for p in got:  # the biggest place of each address
        by_address.setdefault(p.address, p)
    for address in manifest.repeat_addresses:
        assert address in by_address, address
        calls = [iid for iid, a, lon in rows if a == address and lon is not None]
        # Most of the located calls of the address are in the place named after it.
        pid = by_address[address].place_id
        inside = sum(assignment.get(iid) == pid for iid in calls)
        assert inside >= 0.9 * len(calls), address
