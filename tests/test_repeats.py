"""Repeat places and near-repeat rates against plain-Python brute force.

The extract is written with plain DuckDB from Python rows; the expectations are
computed from the same rows with a straightforward implementation of the
definitions (``math`` haversine, every pair, ``unicodedata`` for addresses,
sorted lists for the span), never with the cockpit's
modules (the word lists and the grid centre are taken from the module: they are
settings, not figures). The demo county's planted repeat addresses must be found
among the places, and the real city's data (../shared/realdata, when present) must
give places an analyst recognises.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta

import duckdb
import pytest
from factory import EXTRACTED_AT, STEP, X0, Y0, meta_rows, standard_areas, write_extract

import data.analysis.repeats as repeats
from data.analysis.repeats import (
    FILLER_WORDS,
    PLACEHOLDER_WORDS,
    near_repeat_rate,
    new_repeat_places,
    repeat_places,
)
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



def aid(key: str) -> str:
    """The place id of a normalised address, as documented in data/analysis/repeats.py."""
    return "A:" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]

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


# --------------------------------------------------------------------------- worlds

PLACE_A = (115.03, 27.03)
PLACE_B = (115.13, 27.13)
PLACE_C = offset(*PLACE_B, 75.0, 0.0)
PATCH = (115.06, 27.16)  # a dense square of 400 m
HAPPY = ["幸福路12号", "幸福路 12 号", "幸福路１２号", "（幸福路）12号。", "幸福路12号\t"]
SPOT_P = (115.041234, 27.051234)  # calls without an address at one point
SPOT_Q = (115.141234, 27.151234)  # an address point with some calls lacking the address
SPOT_T = (115.171234, 27.071234)  # a spot where two addresses tie
START = datetime(2025, 4, 17)  # the bulk of the place world: about 59 days


def build_rows() -> list[tuple]:
    """The world of the places: ~59 days, so a place needs max(3, ⌈3·59/30⌉) = 6."""
    rnd = random.Random(23)
    rows: list[tuple] = []

    def add(lon, lat, address, when=None, cat=None, area_id=None, status="closed"):
        i = len(rows)
        when = when or START + timedelta(seconds=rnd.randint(
            0, int((EXTRACTED_AT - START).total_seconds())))
        cat = cat or rnd.choice([*CATS[:7], "zombie"])  # zombie → other
        rows.append((f"I{i:05d}", when, cat, None, lon, lat, address, area_id, status, None))

    for _ in range(12):  # one address, spelt two ways, geocoded with some noise
        add(*offset(*PLACE_A, rnd.uniform(-8, 8), rnd.uniform(-8, 8)),
            rnd.choice(["示范路1号金龙麻将馆", "示范路1号 金龙麻将馆"]))
    for _ in range(8):  # a spot without addresses: a place of its own
        add(*SPOT_P, None)
    for _ in range(5):
        add(*SPOT_Q, "滨江路66号")
    for _ in range(4):  # no address at the address point: they join 滨江路66号
        add(*SPOT_Q, None)
    for text in ["甲路1号", "甲路1号", "乙路2号", "乙路2号", None, None, None]:
        add(*SPOT_T, text)  # a tie: 乙路2号 sorts first
    for _ in range(5):
        add(*offset(*SPOT_T, rnd.uniform(-50, 50), rnd.uniform(-50, 50)), "甲路1号")
    for _ in range(11):  # one real address with one far-off geocode: still a place
        add(*offset(*PLACE_B, rnd.uniform(-2, 2), rnd.uniform(-2, 2)), "人民路8号")
    add(*offset(*PLACE_B, 9000.0, 9000.0), "人民路8号")
    for _ in range(7):  # 无 inside a real name
        add(None, None, "无锡路3号", area_id="T2")
    for _ in range(10):  # scattered across the county: a placeholder (rule 5)
        add(X0 + rnd.uniform(0.01, 0.19), Y0 + rnd.uniform(0.01, 0.19), "新华路5号")
    for _ in range(10):  # placeholder texts, located or not
        add(X0 + rnd.uniform(0.01, 0.19), Y0 + rnd.uniform(0.01, 0.19), "0 UNKNOWN")
    for text, n in [("不详", 8), ("-", 7), ("UNKNOWN", 7), ("<unknown>", 6), ("400", 6),
                    ("解放路0号", 6), ("000 6TH ST SE", 6), ("100 BLOCK UNKNOWN", 6),
                    ("测试县东镇", 7), ("东镇不详", 6), ("西镇", 6), ("。。", 6)]:
        for _ in range(n):
            add(None, None, text, area_id=rnd.choice(["V10", "T1", None]))
    for text in HAPPY + HAPPY[:2]:  # unlocated, one address spelt five ways
        add(None, None, text, area_id=rnd.choice(["V10", "V10", "T1", None]))
    for _ in range(5):  # below the threshold
        add(None, None, "只有五次")
    for _ in range(200):  # a dense patch of a few addresses and none
        add(*offset(*PATCH, rnd.uniform(0, 400), rnd.uniform(0, 400)),
            rnd.choice([*(f"新街{k}号" for k in range(8)), None]))
    for _ in range(200):  # sparse background
        add(X0 + rnd.uniform(0.001, 0.199), Y0 + rnd.uniform(0.001, 0.199),
            f"村道{rnd.randint(0, 10_000)}号")
    for _ in range(30):
        add(None, None, f"无坐标{rnd.randint(0, 5)}号")
    for _ in range(2):  # sentinel dates: outside the span's percentiles
        add(None, None, "幸福路12号", when=datetime(1900, 1, 1))
    return rows


def build_near_rows() -> list[tuple]:
    """The world of the near-repeat rate (about a year of calls, dense clusters)."""
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
        add(lon, lat, rand_time(datetime(2025, 3, 1), datetime(2025, 3, 31)), "示范路1号")
    for centre, n in ((PLACE_B, 14), (PLACE_C, 10)):
        for _ in range(n):
            lon, lat = offset(*centre, rnd.uniform(-20, 20), rnd.uniform(-20, 20))
            add(lon, lat, rand_time(), "滨江路66号")
    for _ in range(260):
        lon, lat = offset(*PATCH, rnd.uniform(0, 400), rnd.uniform(0, 400))
        add(lon, lat, rand_time(), None)
    for _ in range(250):  # sparse background
        add(X0 + rnd.uniform(0.001, 0.199), Y0 + rnd.uniform(0.001, 0.199), rand_time(),
            f"村道{rnd.randint(0, 10_000)}号")
    when = datetime(2025, 5, 5, 5, 5, 5)  # repeat calls at the same second (ties)
    for _ in range(3):
        lon, lat = offset(*PLACE_B, rnd.uniform(-3, 3), rnd.uniform(-3, 3))
        add(lon, lat, when, "滨江路66号")
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


@pytest.fixture(scope="module")
def near_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rows = build_near_rows()
    path = tmp_path_factory.mktemp("near") / "n.duckdb"
    write_extract(path, {"meta": meta_rows(), "areas": AREAS, "incidents": rows})
    return {"path": path, "rows": rows}


@pytest.fixture()
def near_query(near_world: dict) -> Query:
    return Query(open_extract(near_world["path"]))


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


def _remove(text: str, words) -> str:
    for w in sorted(words, key=len, reverse=True):
        text = text.replace(w, "")
    return text


def _unknown(key: str) -> bool:
    if key == "" or key.isdigit():
        return True
    rest = _remove(key, PLACEHOLDER_WORDS)
    return rest != key and _remove(re.sub("[0-9]", "", rest), FILLER_WORDS) == ""


def text_rule(text: str) -> int:
    key = key_of(text)
    nfkc = unicodedata.normalize("NFKC", text)
    if _unknown(key) or re.match(r"\s*0+(?![0-9])", nfkc) or re.search(r"(?<![0-9])0+\s*号", nfkc):
        return 1
    names = [key_of(a[1]) for a in AREAS] + [key_of("测试县")]
    return 4 if _unknown(_remove(key, names)) else 0


def scattered(all_rows: list[tuple], centre: tuple[float, float] = (115.1, 27.1)) -> set[str]:
    cells: dict[str, Counter] = {}
    for r in all_rows:
        if r[6] is not None and text_rule(r[6]) == 0 and r[4] is not None:
            c = (math.floor((r[4] - centre[0]) * math.cos(math.radians(centre[1])) * M_LAT
                            / 3000.0), math.floor((r[5] - centre[1]) * M_LAT / 3000.0))
            cells.setdefault(key_of(r[6]), Counter())[c] += 1
    out = set()
    for k, cnt in cells.items():
        total = sum(cnt.values())
        bx, by = min(cnt, key=lambda c: (-cnt[c], c))
        near = sum(v for (x, y), v in cnt.items() if abs(x - bx) <= 1 and abs(y - by) <= 1)
        if total >= 2 and near < 0.8 * total:
            out.add(k)
    return out


def threshold(rows: list[tuple], m: int = 3) -> int:
    t = sorted(r[1] for r in rows)
    if not t:
        return m
    n = len(t)
    lo, hi = t[math.ceil(0.005 * n) - 1], t[math.ceil(0.995 * n) - 1]
    us = (hi - lo) // timedelta(microseconds=1)
    return max(m, -(-m * us // (30 * 86_400_000_000)))


def brute_places(rows: list[tuple], m: int = 3, every: list[tuple] | None = None,
                 centre: tuple[float, float] = (115.1, 27.1)) -> dict[str, dict]:
    """Places of ``rows`` (the selection); ``every`` is the whole extract (rule 5)."""
    spread = scattered(rows if every is None else every)
    m_eff = threshold(rows, m)

    def usable(r: tuple) -> str | None:
        if r[6] is None or text_rule(r[6]) != 0 or key_of(r[6]) in spread:
            return None
        return key_of(r[6])

    def spot(r: tuple) -> tuple[int, int]:
        sx = math.cos(math.radians(centre[1])) * M_LAT / 5.0
        return (math.floor((r[4] - centre[0]) * sx), math.floor((r[5] - centre[1]) * M_LAT / 5.0))

    at_spot: dict[tuple, Counter] = {}
    for r in rows:
        if r[4] is not None and usable(r) is not None:
            at_spot.setdefault(spot(r), Counter())[usable(r)] += 1
    groups: dict[str, list[tuple]] = {}
    for r in rows:
        k = usable(r)
        if k is not None:
            pid = aid(k)
        elif r[6] is None and r[4] is not None:
            c = at_spot.get(spot(r))
            pid = aid(min(c, key=lambda a: (-c[a], a))) if c else \
                "S:{}:{}".format(*spot(r))
        else:
            continue
        groups.setdefault(pid, []).append(r)
    places: dict[str, dict] = {}
    for pid, mem in groups.items():
        if len(mem) < m_eff:
            continue
        mem = sorted(mem, key=lambda r: (r[1], r[0]))
        addr = Counter(r[6] for r in mem if r[6] is not None)
        areas = Counter(a for r in mem if (a := area_of(r)) is not None)
        located = [r for r in mem if r[4] is not None]
        area = min(areas, key=lambda a: (-areas[a], a)) if areas else None
        places[pid] = dict(
            members=frozenset(r[0] for r in mem), count=len(mem), first=mem[0][1],
            last=mem[-1][1], reached=mem[m_eff - 1][1], ids=[r[0] for r in mem[:20]],
            matched_by="address" if pid.startswith("A:") else "location",
            address=min(addr, key=lambda a: (-addr[a], a)) if addr else None,
            categories=dict(Counter(r[2] if r[2] in CATS else "other" for r in mem)),
            lon=sum(r[4] for r in located) / len(located) if located else None,
            lat=sum(r[5] for r in located) / len(located) if located else None,
            area_id=area, name=AREA_NAME.get(area) if area else None, threshold=m_eff)
    return places


def brute_placeholders(rows: list[tuple], every: list[tuple]) -> dict[str, int]:
    spread = scattered(every)
    out = Counter()
    for r in rows:
        if r[6] is None:
            continue
        rule = text_rule(r[6])
        if rule == 0 and key_of(r[6]) in spread:
            rule = 5
        out[{1: "text", 4: "area_name", 5: "scattered"}.get(rule, "")] += 1
    return {k: out[k] for k in ("text", "area_name", "scattered")}


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
        assert got.min_count == w["threshold"]
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
    rows = world["rows"]
    got = repeat_places(query, FilterState())
    want = brute_places(selected(rows), every=rows)
    check(got, want)
    # The set-up exercises what it is meant to.
    assert got.min_count == 6
    assert aid(key_of(HAPPY[0])) in want and want[aid(key_of(HAPPY[0]))]["count"] == 9
    assert want[aid(key_of('滨江路66号'))]["count"] == 9  # 5 + 4 joined by the spot
    assert aid(key_of('乙路2号')) not in want or \
        key_of('乙路2号') < key_of('甲路1号')  # the tie went to the first text
    assert any(p.startswith("S:") for p in want)
    assert want[aid(key_of('人民路8号'))]["count"] == 12
    assert aid(key_of('无锡路3号')) in want
    for bad in ["0 UNKNOWN", "不详", "UNKNOWN", "测试县东镇", "西镇", "新华路5号", "只有五次",
                "解放路0号", "000 6TH ST SE"]:
        assert aid(key_of(bad)) not in want, bad
    # Placeholders are counted, and the share is of all incidents considered.
    ph = brute_placeholders(selected(rows), rows)
    assert got.placeholder_by_rule == ph and got.placeholder == sum(ph.values())
    assert ph["area_name"] == 7 + 6 + 6  # 测试县东镇, 东镇不详, 西镇
    assert ph["scattered"] >= 10 and key_of("新华路5号") in scattered(rows)
    assert got.incidents == len(selected(rows))
    assert got.share == pytest.approx(got.incidents_in_places / len(selected(rows)))


@pytest.mark.parametrize("m", [2, 4])
def test_other_thresholds(query: Query, world: dict, m: int) -> None:
    rows = world["rows"]
    check(repeat_places(query, FilterState(), min_count=m),
          brute_places(selected(rows), m, every=rows))


def test_filters_change_the_places(query: Query, world: dict) -> None:
    rows = world["rows"]
    late = FilterState().with_window(date(2025, 6, 1), date(2025, 6, 15))
    got = repeat_places(query, late)
    want = brute_places(selected(rows, date(2025, 6, 1), date(2025, 6, 15)), every=rows)
    assert got.min_count == 3  # a fortnight: the base alone
    check(got, want)
    st = FilterState().with_set("incident_categories", ["criminal", "other"]).with_areas(["T2"])
    check(repeat_places(query, st),
          brute_places(selected(rows, cats={"criminal", "other"}, area="T2"), every=rows))


def test_hash_collisions_fall_back_to_the_text(world: dict, monkeypatch) -> None:
    monkeypatch.setattr(repeats, "_hash_sql", lambda col: f"hash(length({col}))")
    q = Query(open_extract(world["path"]))  # a new Extract: a new address table
    got = repeat_places(q, FilterState())
    assert not repeats._address_book(q.extract).unique
    check(got, brute_places(selected(world["rows"]), every=world["rows"]))


def test_limit_and_json(query: Query) -> None:
    full = repeat_places(query, FilterState())
    top = repeat_places(query, FilterState(), limit=4)
    assert [p.place_id for p in top] == [p.place_id for p in full][:4]
    assert (top.total_places, top.incidents_in_places, top.share, top.placeholder) == \
        (full.total_places, full.incidents_in_places, full.share, full.placeholder)
    doc = json.loads(json.dumps(full.to_json(limit=3), ensure_ascii=False))
    assert set(doc) >= {"radius_m", "min_count", "places", "incidents_in_places", "top",
                        "share", "incidents", "placeholder", "placeholder_by_rule"}
    assert doc["places"] == full.total_places and len(doc["top"]) == 3
    assert set(doc["top"][0]) >= {"place_id", "matched_by", "address", "lon", "lat", "count",
                                  "first", "last", "categories", "area_id", "name",
                                  "incident_ids"}


@pytest.mark.parametrize("since", [date(2025, 4, 25), date(2025, 5, 20), date(2025, 6, 14)])
def test_new_repeat_places(query: Query, world: dict, since: date) -> None:
    want = brute_places(selected(world["rows"]), every=world["rows"])
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
def test_near_repeat_rate(near_query: Query, near_world: dict, start, end, days, radius) -> None:
    state = FilterState().with_window(start, end)
    got = near_repeat_rate(near_query, state, days=days, radius_m=radius)
    history = selected(near_world["rows"], start - timedelta(days=days) if start else None, end)
    want = brute_near(near_world["rows"], days, radius, start, history)
    assert got.by_category == want
    assert got.numerator == sum(a for a, _ in want.values())
    assert got.denominator == sum(b for _, b in want.values())
    assert got.rate == pytest.approx(got.numerator / got.denominator)
    assert 0 < got.numerator < got.denominator
    json.dumps(got.to_json())


def test_near_repeat_looks_back_before_the_window(near_query: Query, near_world: dict) -> None:
    # The first call of a window may be a repeat of a call just before it.
    state = FilterState().with_window(date(2025, 3, 15), date(2025, 3, 31))
    got = near_repeat_rate(near_query, state)
    inside_only = brute_near(near_world["rows"], 7, 50.0, date(2025, 3, 15),
                             selected(near_world["rows"], date(2025, 3, 15), date(2025, 3, 31)))
    assert got.numerator > sum(a for a, _ in inside_only.values())
    empty = near_repeat_rate(near_query, FilterState().with_window(date(2020, 1, 1),
                                                              date(2020, 1, 2)))
    assert (empty.numerator, empty.denominator, empty.rate) == (0, 0, None)


# --------------------------------------------------------------------------- demo county

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    manifest = generate_demo(path, incidents=100_000, seed=11)
    return path, manifest


def test_demo_repeat_addresses_are_found(demo) -> None:
    path, manifest = demo
    assert len(manifest.repeat_addresses) == 10
    # Five years: 1 per 30 days (61) lets the planted addresses through at 100 000 calls.
    got = repeat_places(Query(open_extract(path)), FilterState(), min_count=1)
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
        # The located calls of the address are in the place named after it.
        pid = by_address[address].place_id
        inside = sum(assignment.get(iid) == pid for iid in calls)
        assert inside == len(calls), address
