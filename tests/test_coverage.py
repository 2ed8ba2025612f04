"""Coverage gaps and nearest-to-incident against brute force (plain Python haversine).

A random extract is written with plain DuckDB; the expected answers come from the
same Python rows: every hazard × resource pair measured with ``math`` haversine,
areas from the village squares' arithmetic, hazard states from a loop over the
events. None of the cockpit's modules are used for the expectations.
"""

from __future__ import annotations

import json
import math
import random
from datetime import date, datetime, timedelta

import pytest
from factory import (
    EXTRACTED_AT,
    STEP,
    X0,
    Y0,
    meta_rows,
    rectification,
    resource,
    standard_areas,
    write_extract,
)

from data.analysis.coverage import coverage_gaps, nearest_to_incident
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query

KINDS = ["police_station", "patrol_unit", "officer", "auxiliary", "mass_prevention",
         "social_org", "mediator", "equipment"]
RISKS = ["major", "high", "medium", "low", "severe"]  # "severe" is unknown → other
RISK_ORDER = ["major", "high", "medium", "low", "other"]
R_EARTH = 6371008.8
AREA_NAMES = {a[0]: a[1] for a in standard_areas()}
TOWN_OF = {a[0]: a[3] for a in standard_areas()}


def hav(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R_EARTH * math.asin(math.sqrt(min(1.0, a)))


def village(lon: float, lat: float) -> str:
    return f"V{int((lon - X0) // STEP)}{int((lat - Y0) // STEP)}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rnd = random.Random(5)
    resources = []
    for i in range(60):
        lon, lat = X0 + rnd.uniform(0.01, 0.19), Y0 + rnd.uniform(0.01, 0.19)
        resources.append(resource(i, lon, lat, kind=KINDS[i % len(KINDS)],
                                  available=rnd.random() > 0.25))
    # Two resources at exactly the same place: the tie goes to the smaller id.
    resources.append(resource(60, 115.111, 27.111, kind="patrol_unit", available=True))
    resources.append(resource(61, 115.111, 27.111, kind="patrol_unit", available=True))
    hazards = []
    for i in range(150):
        lon, lat = X0 + rnd.uniform(0.002, 0.198), Y0 + rnd.uniform(0.002, 0.198)
        when = EXTRACTED_AT - timedelta(days=rnd.randint(-20, 400))  # some after as-of
        cat = rnd.choice(["key_place", "road", "drowning", "fire", "weird"])
        hazards.append((f"H{i:04d}", cat, f"隐患{i}", lon, lat, None, RISKS[i % len(RISKS)],
                        when, "交警大队", (when + timedelta(days=20)).date()))
    hazards.append(("H9999", "road", "隐患tie", 115.1112, 27.1113, None, "major",
                    EXTRACTED_AT - timedelta(days=3), None, None))
    events, k = [], 0
    for h in hazards[:120]:
        for _ in range(rnd.randint(0, 3)):
            action = rnd.choice(["assigned", "rectified", "reinspected", "reopened", "zzz"])
            when = EXTRACTED_AT - timedelta(days=rnd.randint(-5, 60), hours=rnd.randint(0, 23))
            events.append(rectification(k, h[0], action, when))
            k += 1
    incidents = [
        ("I1", EXTRACTED_AT - timedelta(days=1), "criminal", None, 115.05, 27.05, "a", None,
         "open", None),
        ("I2", EXTRACTED_AT - timedelta(days=1), "criminal", None, 115.17, 27.02, "b", None,
         "open", None),
        ("I3", EXTRACTED_AT - timedelta(days=1), "criminal", None, None, None, "c", "V00",
         "open", None),
    ]
    path = tmp_path_factory.mktemp("cov") / "c.duckdb"
    write_extract(path, {"meta": meta_rows(), "areas": standard_areas(), "resources": resources,
                         "hazards": hazards, "rectifications": events,
                         "incidents": incidents})
    return {"path": path, "resources": resources, "hazards": hazards, "events": events,
            "incidents": incidents}


@pytest.fixture()
def query(world: dict) -> Query:
    return Query(open_extract(world["path"]))


def hazard_states(world: dict, as_of: date) -> dict[str, str]:
    stop = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    last: dict[str, tuple[datetime, int, str]] = {}
    for n, (_e, hid, when, action, _a, _note) in enumerate(world["events"]):
        if when >= stop or action == "zzz":
            continue
        if hid not in last or (when, n) > last[hid][:2]:
            last[hid] = (when, n, action)
    names = {"assigned": "rectifying", "reopened": "rectifying", "rectified": "rectified",
             "reinspected": "verified"}
    return {h[0]: names.get(last[h[0]][2], "open") if h[0] in last else "open"
            for h in world["hazards"]}


def brute_gaps(world: dict, kinds: set[str], radius_km: float, risk: set[str] | None = None,
               town: str | None = None) -> list[dict]:
    as_of = EXTRACTED_AT.date()
    stop = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    res = [r for r in world["resources"] if r[8] and (not kinds or r[1] in kinds)]
    states = hazard_states(world, as_of)
    out = []
    for h in world["hazards"]:
        hid, _cat, name, lon, lat, _a, level, when = h[:8]
        level = level if level in RISK_ORDER else "other"
        if when >= stop or (risk and level not in risk):
            continue
        v = village(lon, lat)
        if town and TOWN_OF[v] != town:
            continue
        best = min(((hav(lon, lat, r[3], r[4]), r[0], r[1]) for r in res), default=None)
        if best is None or best[0] > radius_km * 1000:
            out.append({"hazard_id": hid, "name": name, "risk_level": level,
                        "state": states[hid], "area_id": v, "area_name": AREA_NAMES[v],
                        "nearest_resource_id": best[1] if best else None,
                        "nearest_kind": best[2] if best else None,
                        "nearest_distance_m": best[0] if best else None})
    out.sort(key=lambda g: (RISK_ORDER.index(g["risk_level"]),
                            -(g["nearest_distance_m"] if g["nearest_distance_m"] is not None
                              else math.inf), g["hazard_id"]))
    return out


def checked(world: dict, risk: set[str] | None = None, town: str | None = None) -> int:
    stop = datetime.combine(EXTRACTED_AT.date() + timedelta(days=1), datetime.min.time())
    n = 0
    for h in world["hazards"]:
        level = h[6] if h[6] in RISK_ORDER else "other"
        if h[7] < stop and (not risk or level in risk) and \
                (not town or TOWN_OF[village(h[3], h[4])] == town):
            n += 1
    return n


def same(got, want: list[dict]) -> None:
    assert [g.hazard_id for g in got.gaps] == [w["hazard_id"] for w in want]
    for g, w in zip(got.gaps, want, strict=True):
        assert (g.name, g.risk_level, g.state, g.area_id, g.area_name, g.nearest_resource_id,
                g.nearest_kind) == (w["name"], w["risk_level"], w["state"], w["area_id"],
                                    w["area_name"], w["nearest_resource_id"], w["nearest_kind"])
        if w["nearest_distance_m"] is None:
            assert g.nearest_distance_m is None
        else:
            assert g.nearest_distance_m == pytest.approx(w["nearest_distance_m"], rel=1e-9)


@pytest.mark.parametrize("kinds,radius_km", [((), 3.0), ((), 1.5), (("police_station",), 3.0),
                                             (("mediator", "officer"), 2.0)])
def test_gaps_equal_brute_force(query: Query, world: dict, kinds, radius_km) -> None:
    got = coverage_gaps(query, FilterState(), kinds=kinds, radius_km=radius_km)
    want = brute_gaps(world, set(kinds), radius_km)
    assert want, "the case should have gaps"
    same(got, want)
    assert got.total_gaps == len(want)
    assert got.hazards_checked == checked(world)
    assert got.kinds == tuple(sorted(kinds))
    assert got.by_risk_level == {r: sum(w["risk_level"] == r for w in want) for r in RISK_ORDER}


def test_unavailable_resources_do_not_count(query: Query, world: dict) -> None:
    # With every resource (available or not) the brute force would find fewer gaps.
    got = coverage_gaps(query, FilterState(), radius_km=1.0)
    assert {g.hazard_id for g in got.gaps} == \
        {w["hazard_id"] for w in brute_gaps(world, set(), 1.0)}
    everyone = dict(world, resources=[(*r[:8], True, *r[9:]) for r in world["resources"]])
    assert len(brute_gaps(everyone, set(), 1.0)) < got.total_gaps
    assert all(g.nearest_resource_id is None or
               next(r for r in world["resources"] if r[0] == g.nearest_resource_id)[8]
               for g in got.gaps)


def test_state_kinds_are_the_default_and_filters_apply(query: Query, world: dict) -> None:
    state = FilterState().with_set("resource_kinds", ["patrol_unit"])
    same(coverage_gaps(query, state, radius_km=2.0), brute_gaps(world, {"patrol_unit"}, 2.0))
    # Explicit kinds win over the state's.
    same(coverage_gaps(query, state, kinds=["equipment"], radius_km=2.0),
         brute_gaps(world, {"equipment"}, 2.0))
    # Risk-level and area filters cut the hazards (not the resources).
    st = FilterState().with_set("risk_levels", ["major", "other"]).with_areas(["T2"])
    got = coverage_gaps(query, st, radius_km=1.0)
    want = brute_gaps(world, set(), 1.0, risk={"major", "other"}, town="T2")
    same(got, want)
    assert got.hazards_checked == checked(world, {"major", "other"}, "T2")
    assert got.total_gaps < coverage_gaps(query, FilterState(), radius_km=1.0).total_gaps


def test_ties_go_to_the_smaller_resource_id(query: Query) -> None:
    got = coverage_gaps(query, FilterState(), kinds=["patrol_unit"], radius_km=0.01)
    tie = next(g for g in got.gaps if g.hazard_id == "H9999")
    assert tie.nearest_resource_id == "R0060"


def test_limit_and_json(query: Query, world: dict) -> None:
    full = coverage_gaps(query, FilterState(), radius_km=1.0)
    top = coverage_gaps(query, FilterState(), radius_km=1.0, limit=3)
    assert [g.hazard_id for g in top.gaps] == [g.hazard_id for g in full.gaps[:3]]
    assert top.total_gaps == full.total_gaps
    doc = json.loads(json.dumps(full.to_json(limit=5), ensure_ascii=False))
    assert doc["gaps"] == full.total_gaps and len(doc["top"]) == 5
    assert set(doc) == {"radius_km", "kinds", "hazards_checked", "gaps", "by_risk_level", "top"}
    assert set(doc["top"][0]) >= {"hazard_id", "name", "category", "risk_level", "state",
                                  "area_id", "area_name", "lon", "lat", "nearest_resource_id",
                                  "nearest_kind", "nearest_distance_m"}


def brute_nearest(world: dict, lon: float, lat: float, k: int, kinds: set[str]) -> list:
    res = [r for r in world["resources"] if r[8] and (not kinds or r[1] in kinds)]
    return sorted((hav(lon, lat, r[3], r[4]), r[0]) for r in res)[:k]


@pytest.mark.parametrize("kinds", [(), ("patrol_unit", "officer")])
def test_nearest_to_incident(query: Query, world: dict, kinds) -> None:
    for inc in world["incidents"][:2]:
        got = nearest_to_incident(query.extract, inc[0], k=5, kinds=kinds)
        want = brute_nearest(world, inc[4], inc[5], 5, set(kinds))
        assert [g["resource_id"] for g in got] == [w[1] for w in want]
        assert [g["distance_m"] for g in got] == pytest.approx([w[0] for w in want], abs=0.06)
    assert nearest_to_incident(query.extract, "I3") == []  # unlocated
    assert nearest_to_incident(query.extract, "nope") == []
