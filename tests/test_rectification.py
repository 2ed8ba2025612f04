"""Rectification tracking (data.analysis.rectification) against an independent oracle.

The oracle reads the raw extract file with plain DuckDB, places hazards with shapely,
and derives every state with a Python loop over the hazard's events sorted by
(event_at, source row order) up to the end of the as-of day. It uses none of the
cockpit's own modules (no data.queries); the figures are defined in the module
docstring of data/analysis/rectification.py and re-derived here from that text.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import shapely
from factory import (
    EXTRACTED_AT,
    X0,
    Y0,
    incident,
    meta_rows,
    standard_areas,
    village_point,
    write_extract,
)

from data.analysis.rectification import rectification
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from data.report import build_report

LEVELS = ["county", "town", "village", "grid"]
CATS = ["key_place", "crime_hotspot", "drowning", "road", "fire", "public_order", "other"]
RISKS = ["major", "high", "medium", "low"]
ACTIONS = ["assigned", "rectified", "reinspected", "reopened"]
TO_STATE = {"assigned": "rectifying", "reopened": "rectifying", "rectified": "rectified",
            "reinspected": "verified"}
STATES = ["open", "rectifying", "rectified", "verified"]


# --------------------------------------------------------------------------- the oracle

@dataclass
class Raw:
    """The raw extract, hazards placed, events grouped per hazard in source order."""

    extracted: date
    area_name: dict[str, str]
    town_of: dict[str, str | None]
    chain: dict[str, list[str]]  # area → itself and its ancestors
    hazards: list[dict[str, Any]]
    events: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
            .fetchall()}


def read_raw(path: Path) -> Raw:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = _tables(con)
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        areas = con.execute("SELECT area_id, name, level, parent_id, geom_wkb FROM areas"
                            ).fetchall()
        hz_cols = ["hazard_id", "category", "name", "lon", "lat", "area_id", "risk_level",
                   "discovered_at", "responsible_unit", "deadline"]
        hz = [dict(zip(hz_cols, r, strict=True)) for r in con.execute(
            f"SELECT {', '.join(hz_cols)} FROM hazards").fetchall()] if "hazards" in names else []
        ev = con.execute("SELECT hazard_id, event_at, action, rowid FROM rectifications"
                         ).fetchall() if "rectifications" in names else []
    finally:
        con.close()
    parent = {a[0]: a[3] for a in areas}
    level = {a[0]: a[2] for a in areas}
    chain: dict[str, list[str]] = {}
    for a in parent:
        c, cur = [], a
        while cur is not None and cur not in c:
            c.append(cur)
            cur = parent.get(cur)
        chain[a] = c
    town_of = {a: next((x for x in c if level[x] == "town"), None) for a, c in chain.items()}
    finest = max((a[2] for a in areas), key=LEVELS.index)
    polys = [(a[0], shapely.from_wkb(bytes(a[4]))) for a in areas if a[2] == finest]
    tree = shapely.STRtree([p for _, p in polys])
    for h in hz:
        h["place"] = h["area_id"] if h["area_id"] in parent else None
        if h["lon"] is not None:
            hits = sorted(tree.query(shapely.Point(h["lon"], h["lat"]), predicate="covered_by"))
            if hits:
                h["place"] = polys[hits[0]][0]
        h["category"] = h["category"] if h["category"] in CATS else "other"
        h["risk_level"] = h["risk_level"] if h["risk_level"] in RISKS else "other"
    events: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
    for hid, at, action, row in ev:
        if action in ACTIONS and at is not None:
            events[hid].append((at, row, action))
    return Raw(datetime.fromisoformat(meta["extracted_at"]).date(),
               {a[0]: a[1] for a in areas}, town_of, chain, hz,
               {k: [(at, a) for at, _, a in sorted(v)] for k, v in events.items()})


def _state(events: list[tuple[datetime, str]], stop: datetime) -> str:
    state = "open"
    for at, action in events:
        if at >= stop:
            break
        state = TO_STATE[action]
    return state


def _rate(a: int, b: int) -> float | None:
    return a / b if b else None


def expected(raw: Raw, as_of: date | None = None, areas: tuple[str, ...] = (),
             cats: tuple[str, ...] = (), risks: tuple[str, ...] = (),
             weeks: int = 12) -> dict[str, Any]:
    """Every figure of ``Rectification.to_json(limit=∞)``, from the definitions."""
    as_of = as_of or raw.extracted
    stop = datetime.combine(as_of + timedelta(days=1), time.min)
    sel = [h for h in raw.hazards if h["discovered_at"] < stop
           and (not cats or h["category"] in cats) and (not risks or h["risk_level"] in risks)
           and (not areas or (h["place"] is not None
                              and set(raw.chain[h["place"]]) & set(areas)))]
    rows = []
    for h in sel:
        evs = [e for e in raw.events.get(h["hazard_id"], []) if e[0] < stop]
        st = _state(evs, stop)
        rect = [at for at, a in evs if a == "rectified"]
        town = raw.town_of.get(h["place"]) if h["place"] else None
        rows.append(h | {
            "state": st, "done": st in ("rectified", "verified"),
            "overdue": st not in ("rectified", "verified") and h["deadline"] is not None
            and h["deadline"] < as_of,
            "first_rect": min(rect) if rect else None, "last_rect": max(rect) if rect else None,
            "reopens": sum(a == "reopened" for _, a in evs),
            "outcome": any(a in ("reinspected", "reopened") for _, a in evs),
            "town": town})
    by_state = {s: sum(r["state"] == s for r in rows) for s in STATES}
    major = [r for r in rows if r["risk_level"] == "major"]

    def place(r: dict) -> dict:
        return {"area_id": r["place"], "area_name": raw.area_name.get(r["place"]),
                "town_id": r["town"], "town_name": raw.area_name.get(r["town"])}

    rank = {k: i for i, k in enumerate(RISKS)}
    overdue = sorted((r for r in rows if r["overdue"]),
                     key=lambda r: (r["deadline"], rank.get(r["risk_level"], 4), r["hazard_id"]))
    due = sorted((r for r in rows if r["state"] == "rectified"),
                 key=lambda r: (r["last_rect"], r["hazard_id"]))
    days = pd.Series([(r["first_rect"] - r["discovered_at"]).total_seconds() / 86400
                      for r in rows if r["first_rect"] is not None], dtype=float)

    def group(members: list[dict]) -> dict[str, Any]:
        st = {s: sum(m["state"] == s for m in members) for s in STATES}
        n = len(members)
        return {"total": n, **st, "overdue": sum(m["overdue"] for m in members),
                "rectification_rate": _rate(st["rectified"] + st["verified"], n),
                "verified_rate": _rate(st["verified"], n)}

    def groups(key: str) -> dict[Any, dict[str, Any]]:
        out: dict[Any, list[dict]] = defaultdict(list)
        for r in rows:
            out[r[key]].append(r)
        return {k: group(v) for k, v in out.items()}

    towns = groups("town")
    units = groups("responsible_unit")
    by_unit = sorted(units.items(), key=lambda kv: (
        -kv[1]["overdue"], 1.0 if kv[1]["rectification_rate"] is None
        else kv[1]["rectification_rate"], kv[0] is None, kv[0] or ""))

    monday = as_of - timedelta(days=as_of.weekday())
    weekly = []
    for k in range(weeks - 1, -1, -1):
        m = monday - timedelta(weeks=k)
        w0 = datetime.combine(m, time.min)
        w1 = min(datetime.combine(m + timedelta(days=7), time.min), stop)
        last_day = min(m + timedelta(days=6), as_of)
        row = {"week": m.isoformat(),
               "discovered": sum(w0 <= r["discovered_at"] < w1 for r in rows)}
        for a in ACTIONS:
            row[a] = sum(w0 <= at < w1 and act == a for r in rows
                         for at, act in raw.events.get(r["hazard_id"], []))
        backlog = [r for r in rows if r["discovered_at"] < w1
                   and _state(raw.events.get(r["hazard_id"], []), w1)
                   not in ("rectified", "verified")]
        row["backlog"] = len(backlog)
        row["overdue"] = sum(r["deadline"] is not None and r["deadline"] < last_day
                             for r in backlog)
        weekly.append(row)

    return {
        "as_of": as_of.isoformat(),
        "by_state": by_state, "total": len(rows),
        "rectification_rate": _rate(by_state["rectified"] + by_state["verified"], len(rows)),
        "major_rectification_rate": _rate(sum(r["done"] for r in major), len(major)),
        "verified_rate": _rate(by_state["verified"], len(rows)),
        "major_verified_rate": _rate(sum(r["state"] == "verified" for r in major), len(major)),
        "reopen_rate": _rate(sum(r["reopens"] > 0 for r in rows),
                             sum(r["outcome"] for r in rows)),
        "reopened_events": sum(r["reopens"] for r in rows),
        "median_days_to_rectify": float(days.quantile(0.5)) if len(days) else None,
        "p90_days_to_rectify": float(days.quantile(0.9)) if len(days) else None,
        "overdue_count": len(overdue),
        "overdue": [{"hazard_id": r["hazard_id"], "name": r["name"],
                     "days_overdue": (as_of - r["deadline"]).days,
                     "responsible_unit": r["responsible_unit"], **place(r),
                     "category": r["category"], "risk_level": r["risk_level"],
                     "state": r["state"], "deadline": r["deadline"].isoformat()}
                    for r in overdue],
        "due_reinspection_count": len(due),
        "due_reinspection": [{"hazard_id": r["hazard_id"], "name": r["name"],
                              "rectified_at": r["last_rect"].isoformat(),
                              "days_waiting": (as_of - r["last_rect"].date()).days,
                              "responsible_unit": r["responsible_unit"], **place(r),
                              "category": r["category"], "risk_level": r["risk_level"],
                              "deadline": r["deadline"].isoformat() if r["deadline"] else None}
                             for r in due],
        "by_town": [{"area_id": k, "name": raw.area_name.get(k), **v} for k, v in
                    sorted(towns.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))],
        "by_category": [{"category": c, **v} for c, v in sorted(
            groups("category").items(), key=lambda kv: CATS.index(kv[0]))],
        "by_unit": [{"responsible_unit": k, **v} for k, v in by_unit],
        "weekly": weekly,
    }


APPROX = {"median_days_to_rectify", "p90_days_to_rectify"}


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key, value in want.items():
        if key in APPROX and value is not None:
            assert got[key] == pytest.approx(value, rel=1e-9), key
        else:
            assert got[key] == value, key


def check(path: Path, state: FilterState, raw: Raw, **oracle: Any) -> dict[str, Any]:
    """Compare everything with the oracle and with report --json; return the JSON."""
    ex = open_extract(path)
    got = rectification(Query(ex), state).to_json(limit=10**9)
    json.dumps(got)  # plain JSON
    assert_same(got, expected(raw, **oracle))
    report = build_report(ex, state)["hazards"]
    assert got["overdue_count"] == report["overdue"]
    assert got["total"] == report["total"] and got["by_state"] == report["by_state"]
    assert got["rectification_rate"] == report["rectification_rate"]
    assert got["major_rectification_rate"] == report["major_rectification_rate"]
    return got


# --------------------------------------------------------------------------- the demo county

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Raw]:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path, read_raw(path)


def test_demo_whole_county(demo: tuple[Path, Raw]) -> None:
    path, raw = demo
    got = check(path, FilterState(), raw)
    # The demo exercises every branch: overdue hazards, 回头看 queues and failures.
    assert got["overdue_count"] > 50 and got["due_reinspection_count"] > 50
    assert got["reopened_events"] > 50 and 0 < got["reopen_rate"] < 1
    assert got["verified_rate"] < got["rectification_rate"]
    assert sum(w["rectified"] for w in got["weekly"]) > 0
    assert len(got["by_town"]) > 5 and got["by_unit"][0]["overdue"] > 0


def test_demo_town_filter(demo: tuple[Path, Raw]) -> None:
    path, raw = demo
    whole = rectification(Query(open_extract(path)), FilterState()).to_json()
    got = check(path, FilterState().with_areas(["T03"]), raw, areas=("T03",))
    assert 0 < got["total"] < whole["total"]
    assert [t["area_id"] for t in got["by_town"]] == ["T03"]


def test_demo_risk_and_category_filter(demo: tuple[Path, Raw]) -> None:
    path, raw = demo
    state = (FilterState().with_set("risk_levels", ["major", "high"])
             .with_set("hazard_categories", ["drowning", "road", "fire"]))
    got = check(path, state, raw, risks=("major", "high"), cats=("drowning", "road", "fire"))
    assert {c["category"] for c in got["by_category"]} == {"drowning", "road", "fire"}
    assert got["overdue_count"] > 0


def test_demo_earlier_as_of(demo: tuple[Path, Raw]) -> None:
    path, raw = demo
    as_of = raw.extracted - timedelta(days=60)
    got = check(path, FilterState(as_of=as_of), raw, as_of=as_of)
    now = rectification(Query(open_extract(path)), FilterState()).to_json()
    assert got["total"] < now["total"] and got["overdue"] != now["overdue"]
    assert got["weekly"][-1]["week"] == (as_of - timedelta(days=as_of.weekday())).isoformat()
    # The current week's running figures are the as-of figures.
    last = got["weekly"][-1]
    assert last["backlog"] == got["by_state"]["open"] + got["by_state"]["rectifying"]
    assert last["overdue"] == got["overdue_count"]


def test_demo_town_and_as_of_together(demo: tuple[Path, Raw]) -> None:
    path, raw = demo
    as_of = raw.extracted - timedelta(days=200)
    check(path, FilterState(as_of=as_of).with_areas(["T07"]), raw, as_of=as_of,
          areas=("T07",))


# --------------------------------------------------------------------------- edge cases

T = EXTRACTED_AT  # 2025-06-15 08:00, as-of day 2025-06-15 (a Sunday)


def _hz(i: int, where: tuple[float | None, float | None], risk: str = "high",
        found_days_ago: float = 60, deadline_days: int | None = -10,
        area_id: str | None = None, unit: str | None = "交警大队",
        category: str = "road") -> tuple[Any, ...]:
    """A hazard row; ``deadline_days`` is relative to the as-of day (negative = past)."""
    deadline = None if deadline_days is None else T.date() + timedelta(days=deadline_days)
    return (f"H{i:04d}", category, f"隐患{i}", where[0], where[1], area_id, risk,
            T - timedelta(days=found_days_ago), unit, deadline)


def _ev(event_id: str, hazard: int, when: datetime, action: str) -> tuple[Any, ...]:
    return (event_id, f"H{hazard:04d}", when, action, "张三", None)


def _edge_tables() -> dict[str, list[tuple[Any, ...]]]:
    v00, v01 = village_point(0, 0), village_point(0, 1)
    v10, v11 = village_point(1, 0), village_point(1, 1)
    outside = (X0 - 0.05, Y0 + 0.05)  # inside the far extent, in no polygon
    d = timedelta(days=1)
    hazards = [
        _hz(0, v00, "major", 60, -40),  # alone in V00: reopened, then rectified again
        _hz(1, v01, "high", 30, -10, unit="住建局"),  # its rectification comes after as-of
        _hz(2, v01, "low", 400, None),  # no deadline: never overdue
        _hz(3, v10, "medium", 30, 30),  # tie: rectified then assigned → rectifying
        _hz(4, v10, "medium", 30, -30),  # tie: assigned then rectified → rectified
        _hz(5, v11, "high", 20, -5),  # rectified in the last minutes of the as-of day
        _hz(6, v11, "low", 90, -60, category="fire"),  # verified
        _hz(7, v11, "major", -2, 10),  # discovered after the as-of day
        _hz(8, outside, "major", 50, -3, unit=None),  # unlocated, overdue 3 days
        _hz(9, outside, "major", 50, -3, area_id="T1"),  # placed on town T1 by its id
        _hz(10, v10, "low", 50, -3, category="drowning"),  # same days, lower risk
        _hz(11, v01, "high", 40, -20),  # a code the schema does not know is ignored
        _hz(12, v10, "high", 100, -70, category="fire"),  # passed, then reopened later
    ]
    events = [
        _ev("E001", 0, T - 59 * d, "assigned"), _ev("E002", 0, T - 50 * d, "rectified"),
        _ev("E003", 0, T - 45 * d, "reopened"), _ev("E004", 0, T - 20 * d, "rectified"),
        _ev("E005", 0, T + 1 * d, "reinspected"),
        _ev("E010", 1, T - 29 * d, "assigned"), _ev("E011", 1, T + 1 * d, "rectified"),
        _ev("E031", 3, T - 10 * d, "rectified"), _ev("E030", 3, T - 10 * d, "assigned"),
        _ev("E041", 4, T - 10 * d, "assigned"), _ev("E040", 4, T - 10 * d, "rectified"),
        _ev("E050", 5, T - 18 * d, "assigned"),
        _ev("E051", 5, datetime.combine(T.date(), time(23, 59, 59)), "rectified"),
        _ev("E060", 6, T - 80 * d, "assigned"), _ev("E061", 6, T - 70 * d, "rectified"),
        _ev("E062", 6, T - 60 * d, "reinspected"),
        _ev("E110", 11, T - 39 * d, "assigned"), _ev("E111", 11, T - 30 * d, "rectified"),
        _ev("E112", 11, T - 5 * d, "zombie"),
        _ev("E120", 12, T - 99 * d, "assigned"), _ev("E121", 12, T - 90 * d, "rectified"),
        _ev("E122", 12, T - 80 * d, "reinspected"), _ev("E123", 12, T - 8 * d, "reopened"),
    ]
    incidents = [incident(k, *village_point(k % 2, 0)) for k in range(5)]
    return {"meta": meta_rows(), "areas": standard_areas(), "incidents": incidents,
            "hazards": hazards, "rectifications": events}


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Raw]:
    path = write_extract(tmp_path_factory.mktemp("edge") / "edge.duckdb", _edge_tables())
    return path, read_raw(path)


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["hazard_id"] for r in rows]


def test_edge_cases_match_the_oracle(edge: tuple[Path, Raw]) -> None:
    path, raw = edge
    for as_of in (None, T.date() + timedelta(days=2), T.date() - timedelta(days=47)):
        check(path, FilterState(as_of=as_of), raw, as_of=as_of)
    check(path, FilterState().with_areas(["T2"]), raw, areas=("T2",))


def test_edge_cases_by_hand(edge: tuple[Path, Raw]) -> None:
    path, _ = edge
    got = rectification(Query(open_extract(path)), FilterState()).to_json(limit=100)
    # H7 is not discovered yet; H1's rectification and H0's 回头看 have not happened.
    assert got["total"] == 12
    assert got["by_state"] == {"open": 4, "rectifying": 3, "rectified": 4, "verified": 1}
    overdue = {r["hazard_id"]: r for r in got["overdue"]}
    assert set(overdue) == {"H0001", "H0008", "H0009", "H0010", "H0012"}
    assert overdue["H0001"]["days_overdue"] == 10 and overdue["H0001"]["state"] == "rectifying"
    # Most overdue first; equal days → major first → hazard_id.
    assert _ids(got["overdue"]) == ["H0012", "H0001", "H0008", "H0009", "H0010"]
    assert overdue["H0008"]["area_id"] is None and overdue["H0008"]["town_id"] is None
    assert overdue["H0009"]["area_id"] == "T1" and overdue["H0009"]["town_name"] == "东镇"
    assert overdue["H0010"]["area_id"] == "V10" and overdue["H0010"]["town_id"] == "T2"
    # Ties of event_at go by source order, not by event id.
    due = {r["hazard_id"]: r for r in got["due_reinspection"]}
    assert set(due) == {"H0000", "H0004", "H0005", "H0011"}
    assert due["H0000"]["days_waiting"] == 20 and due["H0005"]["days_waiting"] == 0
    assert _ids(got["due_reinspection"]) == ["H0011", "H0000", "H0004", "H0005"]
    # Re-inspection outcomes: H0 (reopened), H6 (passed), H12 (passed, then reopened).
    assert got["reopen_rate"] == pytest.approx(2 / 3) and got["reopened_events"] == 2
    towns = {t["area_id"]: t for t in got["by_town"]}
    assert set(towns) == {"T1", "T2", None} and towns[None]["total"] == 1
    assert got["weekly"][-1]["week"] == "2025-06-09" and len(got["weekly"]) == 12


def test_reopened_then_rectified_is_not_verified_until_reinspected(
        edge: tuple[Path, Raw]) -> None:
    path, _ = edge
    q = Query(open_extract(path))
    v00 = FilterState().with_areas(["V00"])  # H0 alone
    before = rectification(q, v00).to_json()
    assert before["by_state"]["rectified"] == 1 and before["rectification_rate"] == 1.0
    assert before["verified_rate"] == 0.0 and before["major_verified_rate"] == 0.0
    assert before["reopen_rate"] == 1.0 and _ids(before["due_reinspection"]) == ["H0000"]
    # Days to rectify count to the first rectification (60 − 50 days).
    assert before["median_days_to_rectify"] == pytest.approx(10.0)
    after = rectification(q, v00.with_as_of(T.date() + timedelta(days=1))).to_json()
    assert after["verified_rate"] == 1.0 and after["due_reinspection"] == []
    # The 回头看 reopened it once and passed it once.
    assert after["reopen_rate"] == 1.0


def test_weeks_parameter(edge: tuple[Path, Raw]) -> None:
    path, raw = edge
    got = rectification(Query(open_extract(path)), FilterState(), weeks=3).to_json()
    want = expected(raw, weeks=3)["weekly"]
    assert got["weekly"] == want and [w["week"] for w in want] == \
        ["2025-05-26", "2025-06-02", "2025-06-09"]


def test_empty_hazards_and_no_rectifications(tmp_path: Path) -> None:
    path = write_extract(tmp_path / "empty.duckdb", {
        "meta": meta_rows(), "areas": standard_areas(), "hazards": [],
        "incidents": [incident(0, *village_point(0, 0))]})
    ex = open_extract(path)
    res = rectification(Query(ex), FilterState())
    got = res.to_json()
    assert not res.has_events and json.loads(json.dumps(got)) == got
    assert got["total"] == 0 and got["by_state"] == dict.fromkeys(STATES, 0)
    for key in ("rectification_rate", "major_rectification_rate", "verified_rate",
                "major_verified_rate", "reopen_rate", "median_days_to_rectify",
                "p90_days_to_rectify"):
        assert got[key] is None, key
    assert got["overdue"] == [] and got["due_reinspection"] == [] and got["by_unit"] == []
    assert len(got["weekly"]) == 12 and all(
        w[k] == 0 for w in got["weekly"] for k in w if k != "week")
    assert build_report(ex, FilterState())["hazards"]["overdue"] == 0


def test_hazards_without_rectifications_table(tmp_path: Path) -> None:
    tables = _edge_tables()
    del tables["rectifications"]
    path = write_extract(tmp_path / "noevents.duckdb", tables)
    got = check(path, FilterState(), read_raw(path))
    assert got["by_state"]["open"] == got["total"] == 12
    assert got["rectification_rate"] == 0.0 and got["verified_rate"] == 0.0
    assert got["reopen_rate"] is None and got["median_days_to_rectify"] is None
    # Every hazard with a past deadline is overdue; H2 has none.
    assert got["overdue_count"] == 10 and "H0002" not in _ids(got["overdue"])
