"""Mediation statistics against an independent computation.

The oracle reads the raw extract file with plain DuckDB, places disputes with a
geopandas spatial join and walks every dispute's steps in a Python loop,
following the definitions in ``data/analysis/mediation.py``'s docstring. It uses
none of the cockpit's modules. Hand-made extracts pin down the edge cases with
answers worked out by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from factory import (
    DDL,
    EXTRACTED_AT,
    incident,
    meta_rows,
    standard_areas,
    village_point,
    write_extract,
)

from data.analysis.mediation import dispute_paths, mediation
from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from data.report import build_report

LEVELS = ["village", "town", "county"]
AREA_LEVELS = ["county", "town", "village", "grid"]
STATUSES = ["pending", "mediating", "resolved", "failed", "referred"]
CATEGORIES = ["family", "neighbor", "land", "labor", "debt", "property", "contract", "other"]
KINDS = ["people_mediator", "village_sage", "legal_aide", "police", "grid_worker", "lawyer"]
ACTIONS = ["accepted", "escalated", "resolved", "failed", "referred"]
FINISHED = ("resolved", "failed", "referred")


# --------------------------------------------------------------------------- the oracle

def _code(value: Any, codes: list[str]) -> str:
    v = value.strip().lower() if isinstance(value, str) else None
    return v if v in codes else "other"


@dataclass
class Raw:
    disputes: list[SimpleNamespace]  # one per dispute, with its area; plain Python values
    steps: dict[str, list[tuple]]  # dispute_id → [(step_at, rowid, level, action)] sorted
    parent: dict[str, str | None]
    level: dict[str, str]
    name: dict[str, str]
    extracted: date


def load_raw(path: Path) -> Raw:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        areas = con.execute("SELECT * FROM areas").df()
        ds = (con.execute("SELECT * FROM disputes").df() if "disputes" in tables
              else pd.DataFrame(columns=[c.split()[0] for c in DDL["disputes"].split(", ")]))
        steps: dict[str, list[tuple]] = {}
        if "dispute_steps" in tables:
            for d, at, rowid, lv, act in con.execute(
                    "SELECT dispute_id, step_at, rowid, level, action FROM dispute_steps"
            ).fetchall():
                steps.setdefault(d, []).append((at, rowid, _code(lv, LEVELS),
                                                _code(act, ACTIONS)))
    finally:
        con.close()
    for s in steps.values():
        s.sort(key=lambda x: (x[0], x[1]))
    finest = max(areas["level"], key=AREA_LEVELS.index)
    polys = areas[areas["level"] == finest]
    polys = gpd.GeoDataFrame(polys[["area_id"]], crs="EPSG:4326",
                             geometry=shapely.from_wkb(polys["geom_wkb"].map(bytes)))
    ds = ds.reset_index(drop=True)
    area = pd.Series(ds["area_id"].to_numpy(dtype=object), index=ds.index)
    has_point = ds["lon"].notna() & ds["lat"].notna()
    if has_point.any():
        pts = gpd.GeoDataFrame(index=ds.index[has_point], crs="EPSG:4326",
                               geometry=gpd.points_from_xy(ds.loc[has_point, "lon"],
                                                           ds.loc[has_point, "lat"]))
        hit = gpd.sjoin(pts, polys, predicate="covered_by", how="inner")
        hit = hit[~hit.index.duplicated(keep="first")]["area_id"]
        area.loc[hit.index] = hit.to_numpy()
    ds = ds.assign(area=[a if isinstance(a, str) else None for a in area],
                   status=[_code(s, STATUSES) for s in ds["status"]],
                   level=[_code(s, LEVELS) for s in ds["level"]],
                   category=[_code(s, CATEGORIES) for s in ds["category"]],
                   mediator_kind=[_code(s, KINDS) for s in ds["mediator_kind"]])
    records = [SimpleNamespace(**{k: _plain(v) for k, v in rec.items()})
               for rec in ds.to_dict("records")]
    return Raw(records, steps, dict(zip(areas["area_id"], areas["parent_id"], strict=True)),
               dict(zip(areas["area_id"], areas["level"], strict=True)),
               dict(zip(areas["area_id"], areas["name"], strict=True)),
               datetime.fromisoformat(meta["extracted_at"]).date())


def _plain(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _chain(raw: Raw, area: str | None) -> list[str]:
    out = []
    while isinstance(area, str) and len(out) < 10:
        out.append(area)
        area = raw.parent.get(area)
    return out


def path_of(raw: Raw, r: Any, stop: datetime, reading: str = "to") -> dict[str, Any]:
    """One dispute's funnel path, by the module's documented rules, in plain Python.

    ``reading``: ``to`` (the schema: an escalation's level is the level it went to) or
    ``from`` (the level it left), as the test knows its producer wrote them."""
    steps = raw.steps.get(r.dispute_id, [])
    usable = [s for s in steps if s[0] < stop and s[2] != "other"]
    later = any(s[0] >= stop for s in steps)
    resolved_at = r.resolved_at
    moved_on = later or (r.status in FINISHED and resolved_at is not None
                         and resolved_at >= stop)
    if usable:
        ranks = [LEVELS.index(s[2]) for s in usable]
        esc = [s[3] == "escalated" for s in usable]
        if reading == "from":
            entry = min(ranks)
            end = max(min(k + 1, 2) if e else k for k, e in zip(ranks, esc, strict=True))
        else:
            entry = min(max(k - 1, 0) if e else k for k, e in zip(ranks, esc, strict=True))
            end = max(ranks)
        known = [s[3] for s in usable if s[3] != "other"]
        last = known[-1] if known else None
    else:
        entry, end, last = 0, LEVELS.index(r.level) if r.level in LEVELS else 0, None
    step_outcome = last if last in FINISHED else "open"
    if not moved_on and r.status in FINISHED:
        outcome = r.status
    elif not moved_on and r.status in ("pending", "mediating"):
        outcome = "open"
    else:
        outcome = step_outcome
    status_outcome = r.status if r.status in FINISHED else "open"
    return {
        "entry": entry, "end": end, "outcome": outcome, "from_steps": bool(usable),
        "status_disagrees": bool(usable) and not moved_on and r.status != "other"
        and status_outcome != step_outcome,
        "level_disagrees": bool(usable) and not moved_on and r.level in LEVELS
        and LEVELS.index(r.level) != end,
    }


def _rate(a: int, b: int) -> float | None:
    return a / b if b else None


def _counts(values: list[str], codes: list[str]) -> dict[str, int]:
    out = dict.fromkeys(codes, 0)
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _month(d: date | datetime) -> int:
    return d.year * 12 + d.month - 1


def expected(raw: Raw, start: date | None = None, end: date | None = None,
             areas: tuple[str, ...] = (), categories: tuple[str, ...] = (),
             as_of: date | None = None, reading: str = "to") -> dict[str, Any]:
    as_of = as_of or raw.extracted
    stop = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    rows = []
    for r in raw.disputes:
        t = r.received_at
        if t is None or t >= stop:
            continue
        if start and t < datetime.combine(start, datetime.min.time()):
            continue
        if end and t >= datetime.combine(end + timedelta(days=1), datetime.min.time()):
            continue
        if areas and not set(_chain(raw, r.area)) & set(areas):
            continue
        if categories and r.category not in categories:
            continue
        rows.append(r)

    paths = {r.dispute_id: path_of(raw, r, stop, reading) for r in rows}
    zero = dict.fromkeys(LEVELS, 0)
    funnel: dict[str, Any] = {"received": len(rows), "entered": dict(zero),
                              "reached_village": 0, "reached_town": 0, "reached_county": 0,
                              **{o: dict(zero) for o in (*FINISHED, "open")},
                              "from_steps": 0, "from_fields": 0, "status_disagreements": 0,
                              "level_disagreements": 0, "reading": reading, "refused": None}
    for p in paths.values():
        funnel["entered"][LEVELS[p["entry"]]] += 1
        for k in range(p["entry"], p["end"] + 1):
            funnel[f"reached_{LEVELS[k]}"] += 1
        funnel[p["outcome"]][LEVELS[p["end"]]] += 1
        funnel["from_steps" if p["from_steps"] else "from_fields"] += 1
        funnel["status_disagreements"] += p["status_disagrees"]
        funnel["level_disagreements"] += p["level_disagrees"]

    by_status = _counts([r.status for r in rows], STATUSES)
    res, fin = [], []
    for r in rows:
        a, b = r.received_at, r.resolved_at
        if r.status in FINISHED and b is not None and a <= b < stop:
            days = (b - a).total_seconds() / 86400
            fin.append(days)
            if r.status == "resolved":
                res.append(days)

    def pct(v: list[float], q: float) -> float | None:
        return float(np.percentile(v, q)) if v else None

    last = _month(min(end, as_of) if end else as_of)
    first = _month(start) if start else min((_month(r.received_at) for r in rows),
                                            default=None)
    monthly = []
    if first is not None:
        for m in range(first, last + 1):
            recv = sum(_month(r.received_at) == m for r in rows)
            out = {s: sum(r.status == s and r.resolved_at is not None
                          and r.resolved_at < stop and _month(r.resolved_at) == m
                          for r in rows) for s in FINISHED}
            monthly.append({"month": f"{m // 12:04d}-{m % 12 + 1:02d}", "received": recv,
                            **out, "success_rate": _rate(out["resolved"], sum(out.values()))})

    def by_area(key) -> list[dict[str, Any]]:
        groups: dict[str, list] = {}
        for r in rows:
            a = key(r.area)
            if a is not None:
                groups.setdefault(a, []).append(r.status)
        out = []
        for a in sorted(groups):
            st = groups[a]
            n = {s: st.count(s) for s in FINISHED}
            out.append({"area_id": a, "name": raw.name.get(a, a), "level": raw.level.get(a),
                        "total": len(st), **n, "open": len(st) - sum(n.values()),
                        "success_rate": _rate(n["resolved"], sum(n.values()))})
        return out

    def up(level: str):
        return lambda a: next((x for x in _chain(raw, a) if raw.level.get(x) == level), None)

    resolved = funnel["resolved"]
    n_res = sum(resolved.values())
    return {
        "as_of": as_of.isoformat(),
        "total": len(rows),
        "by_status": by_status,
        "by_level": _counts([r.level for r in rows], LEVELS),
        "by_category": _counts([r.category for r in rows], CATEGORIES),
        "by_mediator_kind": _counts([r.mediator_kind for r in rows], KINDS),
        "success_rate": _rate(by_status["resolved"],
                              sum(by_status[s] for s in FINISHED)),
        "funnel": funnel,
        "median_days_to_resolve": pct(res, 50), "p90_days_to_resolve": pct(res, 90),
        "median_days_to_finish": pct(fin, 50), "p90_days_to_finish": pct(fin, 90),
        "resolved_at_lowest_level_share": _rate(resolved["village"], n_res),
        "resolved_below_county_share": _rate(resolved["village"] + resolved["town"], n_res),
        "monthly": monthly,
        "by_village": by_area(lambda a: a),
        "by_town": by_area(up("town")),
        "by_county": by_area(up("county")),
        "unlocated": sum(r.area is None for r in rows),
        "_paths": paths,
    }


def assert_same(got: Any, want: Any, where: str = "") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), (where, got, want)
        for k in want:
            assert_same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (where, got, want)
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert isinstance(got, float) and got == pytest.approx(want, rel=1e-9, abs=1e-9), \
            (where, got, want)
    else:
        assert got == want and type(got) is type(want), (where, got, want)


def check(q: Query, raw: Raw, state: FilterState, **oracle_args: Any) -> dict[str, Any]:
    """Every figure equals the oracle's; totals equal the report's; the funnel adds up."""
    got = mediation(q, state).to_json()
    want = expected(raw, **oracle_args)
    paths = want.pop("_paths")
    assert_same(got, want)
    f = got["funnel"]
    buckets = sum(f[o][lv] for o in (*FINISHED, "open") for lv in LEVELS)
    assert f["received"] == buckets == got["total"] == sum(f["entered"].values())
    assert f["from_steps"] + f["from_fields"] == got["total"]
    rep = build_report(q.extract, state)["disputes"]
    assert (got["total"], got["by_status"], got["by_level"]) == \
        (rep["total"], rep["by_status"], rep["by_level"])
    assert got["success_rate"] == rep["success_rate"]
    # the per-dispute view agrees with the oracle dispute by dispute
    dp = dispute_paths(q, state)
    assert len(dp) == len(paths)
    for i, d in enumerate(dp.dispute_id):
        p = paths[d]
        assert (int(dp.entry[i]), int(dp.end_level[i]), dp.outcome[i], bool(dp.from_steps[i]),
                bool(dp.status_disagrees[i]), bool(dp.level_disagrees[i])) == \
            (p["entry"], p["end"], p["outcome"], p["from_steps"], p["status_disagrees"],
             p["level_disagrees"]), d
    return got


# --------------------------------------------------------------------------- the demo county

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return {"path": path, "raw": load_raw(path), "cache": tmp_path_factory.mktemp("cache")}


@pytest.fixture()
def demo_q(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Query:
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(demo["cache"]))  # built once per module
    return Query(open_extract(demo["path"]))


def _town(raw: Raw) -> str:
    towns = sorted(a for a, lv in raw.level.items() if lv == "town")
    return towns[2]


def test_demo_no_filter(demo: dict[str, Any], demo_q: Query) -> None:
    got = check(demo_q, demo["raw"], FilterState())
    f = got["funnel"]
    assert got["total"] > 15_000 and f["from_steps"] == got["total"]
    # the demo's steps and fields always agree, and every level is used
    assert f["status_disagreements"] == 0 and f["level_disagreements"] == 0
    assert f["reached_town"] > f["reached_county"] > 0
    assert all(f["resolved"][lv] > 0 for lv in LEVELS)
    assert 0 < got["resolved_at_lowest_level_share"] < got["resolved_below_county_share"] < 1
    assert got["median_days_to_resolve"] < got["p90_days_to_resolve"]
    assert len(got["monthly"]) >= 24 and len(got["by_town"]) > 5


def test_demo_window(demo: dict[str, Any], demo_q: Query) -> None:
    start, end = date(2025, 3, 1), date(2025, 8, 31)
    got = check(demo_q, demo["raw"], FilterState().with_window(start, end),
                start=start, end=end)
    assert [m["month"] for m in got["monthly"]] == [f"2025-{m:02d}" for m in range(3, 9)]
    assert 0 < got["total"] < mediation(demo_q, FilterState()).total


def test_demo_town_filter(demo: dict[str, Any], demo_q: Query) -> None:
    town = _town(demo["raw"])
    got = check(demo_q, demo["raw"], FilterState().with_areas([town]), areas=(town,))
    assert [t["area_id"] for t in got["by_town"]] == [town]
    assert 0 < got["total"] < mediation(demo_q, FilterState()).total


def test_demo_category_filter(demo: dict[str, Any], demo_q: Query) -> None:
    cats = ("labor", "debt")
    got = check(demo_q, demo["raw"], FilterState().with_set("dispute_categories", cats),
                categories=cats)
    assert {k for k, v in got["by_category"].items() if v} == set(cats)


def test_demo_earlier_as_of(demo: dict[str, Any], demo_q: Query) -> None:
    """An as-of day in the past: later steps and resolutions are not known yet."""
    as_of = date(2026, 6, 30)
    got = check(demo_q, demo["raw"], FilterState(as_of=as_of), as_of=as_of)
    assert got["monthly"][-1]["month"] == "2026-06"
    # disputes open on 30 June that the status column already shows as finished
    assert sum(got["funnel"]["open"].values()) > got["by_status"]["pending"] + \
        got["by_status"]["mediating"]


# --------------------------------------------------------------------------- hand-made cases

def _at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2025, month, day, hour)


def _d(did: str, received: datetime, category: str, where: tuple[float, float] | None,
       area_id: str | None, level: str, kind: str, status: str,
       resolved_at: datetime | None = None) -> tuple[Any, ...]:
    lon, lat = where if where else (None, None)
    return (did, received, category, lon, lat, area_id, level, kind, status, resolved_at, None)


V00, V01, V10, V11 = (village_point(0, 0), village_point(0, 1), village_point(1, 0),
                      village_point(1, 1))
# EXTRACTED_AT is 2025-06-15 08:00, so the default as-of day is 15 June.
DISPUTES = [
    # no steps, now at town, still mediating → open at town, from the fields
    _d("D01", _at(5, 1), "family", V00, None, "town", "people_mediator", "mediating"),
    # village → town → county → resolved, on record step by step
    _d("D02", _at(5, 2), "neighbor", V01, None, "county", "lawyer", "resolved",
       _at(5, 20, 10)),
    # escalated after the as-of day: those steps are not known on 15 June
    _d("D03", _at(6, 10), "land", V10, None, "town", "police", "mediating"),
    # steps say resolved, the status column says mediating: the status wins
    _d("D04", _at(5, 3), "debt", V11, None, "village", "people_mediator", "mediating"),
    # entered at town (first step there); placed by area_id only
    _d("D05", _at(4, 1), "labor", None, "T2", "town", "legal_aide", "resolved",
       _at(4, 11, 12)),
    # no steps, referred by the county; no place at all
    _d("D06", _at(3, 15), "contract", None, None, "county", "lawyer", "referred",
       _at(4, 15)),
    # unknown status: the steps decide (still accepted → open)
    _d("D07", _at(5, 20), "other", V00, None, "village", "grid_worker", "zombie"),
    # failed at village by its steps although the level column says town
    _d("D08", _at(6, 1), "family", V00, None, "town", "village_sage", "failed", _at(6, 5)),
    # no steps, resolved at village
    _d("D10", _at(5, 4), "neighbor", V01, None, "village", "people_mediator", "resolved",
       _at(5, 25)),
    # received after the as-of day: not counted
    _d("D09", _at(6, 20), "family", V00, None, "village", "people_mediator", "pending"),
]
# Written the other way round (an escalation at the level it left, then an acceptance at
# the next level): the cockpit has to recognise it from the steps themselves.
STEPS = [
    ("D02", _at(5, 2), "village", "accepted"), ("D02", _at(5, 5), "village", "escalated"),
    ("D02", _at(5, 6), "town", "accepted"), ("D02", _at(5, 10, 15), "town", "escalated"),
    ("D02", _at(5, 11), "county", "accepted"), ("D02", _at(5, 20, 10), "county", "resolved"),
    ("D03", _at(6, 10), "village", "accepted"), ("D03", _at(6, 16), "village", "escalated"),
    ("D03", _at(6, 17), "town", "accepted"),
    ("D04", _at(5, 3), "village", "accepted"), ("D04", _at(5, 8), "village", "resolved"),
    ("D05", _at(4, 1), "town", "accepted"), ("D05", _at(4, 11, 12), "town", "resolved"),
    ("D07", _at(5, 20), "village", "accepted"),
    ("D08", _at(6, 1), "village", "accepted"), ("D08", _at(6, 5), "village", "failed"),
    ("D09", _at(6, 20), "village", "accepted"),
]


def _extract(tmp_path: Path, name: str, **tables: list) -> tuple[Query, Raw]:
    path = write_extract(tmp_path / f"{name}.duckdb", {
        "meta": meta_rows(), "areas": standard_areas(),
        "incidents": [incident(0, *village_point(0, 0))], **tables})
    return Query(open_extract(path)), load_raw(path)


def _days(*pairs: tuple[datetime, datetime]) -> list[float]:
    return [(b - a).total_seconds() / 86400 for a, b in pairs]


def test_hand_made_paths(tmp_path: Path) -> None:
    q, raw = _extract(tmp_path, "paths", disputes=DISPUTES, dispute_steps=STEPS)
    got = check(q, raw, FilterState(), reading="from")
    f = got["funnel"]
    assert f["reading"] == "from"
    assert got["as_of"] == EXTRACTED_AT.date().isoformat()
    assert got["total"] == 9  # D09 comes after the as-of day
    assert got["by_status"] == {"pending": 0, "mediating": 3, "resolved": 3, "failed": 1,
                                "referred": 1, "other": 1}
    assert got["success_rate"] == 3 / 5
    assert f["entered"] == {"village": 8, "town": 1, "county": 0}
    assert (f["reached_village"], f["reached_town"], f["reached_county"]) == (8, 4, 2)
    assert f["resolved"] == {"village": 1, "town": 1, "county": 1}  # D10, D05, D02
    assert f["failed"] == {"village": 1, "town": 0, "county": 0}  # D08
    assert f["referred"] == {"village": 0, "town": 0, "county": 1}  # D06
    assert f["open"] == {"village": 3, "town": 1, "county": 0}  # D03 D04 D07, D01
    assert (f["from_steps"], f["from_fields"]) == (6, 3)
    assert (f["status_disagreements"], f["level_disagreements"]) == (1, 1)  # D04, D08
    assert got["resolved_at_lowest_level_share"] == pytest.approx(1 / 3)
    assert got["resolved_below_county_share"] == pytest.approx(2 / 3)
    res = _days((_at(5, 2), _at(5, 20, 10)), (_at(4, 1), _at(4, 11, 12)),
                (_at(5, 4), _at(5, 25)))
    fin = [*res, *_days((_at(3, 15), _at(4, 15)), (_at(6, 1), _at(6, 5)))]
    assert got["median_days_to_resolve"] == pytest.approx(18 + 1 / 24)
    assert got["p90_days_to_resolve"] == pytest.approx(np.percentile(res, 90))
    assert got["median_days_to_finish"] == pytest.approx(18 + 1 / 24)
    assert got["p90_days_to_finish"] == pytest.approx(np.percentile(fin, 90))
    assert [(m["month"], m["received"], m["resolved"], m["failed"], m["referred"])
            for m in got["monthly"]] == [("2025-03", 1, 0, 0, 0), ("2025-04", 1, 1, 0, 1),
                                          ("2025-05", 5, 2, 0, 0), ("2025-06", 2, 0, 1, 0)]
    assert got["monthly"][0]["success_rate"] is None
    towns = {t["area_id"]: (t["total"], t["resolved"], t["failed"], t["open"])
             for t in got["by_town"]}
    assert towns == {"T1": (5, 2, 1, 2), "T2": (3, 1, 0, 2)}
    assert [v["area_id"] for v in got["by_village"]] == ["T2", "V00", "V01", "V10", "V11"]
    assert got["by_county"][0]["total"] == 8 and got["unlocated"] == 1


def test_hand_made_earlier_as_of(tmp_path: Path) -> None:
    """As of 10 May: D02's county steps and D10's resolution lie in the future."""
    q, raw = _extract(tmp_path, "asof", disputes=DISPUTES, dispute_steps=STEPS)
    as_of = date(2025, 5, 10)
    got = check(q, raw, FilterState(as_of=as_of), as_of=as_of, reading="from")
    f = got["funnel"]
    assert got["total"] == 6  # D01 D02 D04 D05 D06 D10
    # D02 was escalated from town on 10 May: it has reached the county, open there
    assert f["open"] == {"village": 2, "town": 1, "county": 1}  # D04 D10, D01, D02
    assert f["resolved"] == {"village": 0, "town": 1, "county": 0}  # D05
    assert f["referred"]["county"] == 1 and f["reached_county"] == 2
    assert f["status_disagreements"] == 1  # D04 still counts; D02 has moved on since
    assert got["median_days_to_resolve"] == pytest.approx(10.125)  # D05 only
    assert [m["month"] for m in got["monthly"]] == ["2025-03", "2025-04", "2025-05"]
    assert got["monthly"][-1]["resolved"] == 0


def test_hand_made_filters_change_the_answer(tmp_path: Path) -> None:
    q, raw = _extract(tmp_path, "filters", disputes=DISPUTES, dispute_steps=STEPS)
    got = check(q, raw, FilterState().with_areas(["T2"]), areas=("T2",), reading="from")
    assert got["total"] == 3 and got["funnel"]["entered"]["town"] == 1
    got = check(q, raw, FilterState().with_set("dispute_categories", ["family"]),
                categories=("family",), reading="from")
    assert got["total"] == 2 and got["funnel"]["failed"]["village"] == 1
    start, end = date(2025, 5, 1), date(2025, 5, 31)
    got = check(q, raw, FilterState().with_window(start, end), start=start, end=end,
                reading="from")
    assert got["total"] == 5 and [m["month"] for m in got["monthly"]] == ["2025-05"]
    assert got["monthly"][0]["received"] == 5


def test_missing_steps_table_uses_fields(tmp_path: Path) -> None:
    q, raw = _extract(tmp_path, "nosteps", disputes=DISPUTES)
    assert not q.extract.has("dispute_steps")
    got = check(q, raw, FilterState())
    f = got["funnel"]
    assert (f["from_steps"], f["from_fields"]) == (0, 9)
    assert f["entered"] == {"village": 9, "town": 0, "county": 0}
    assert f["failed"] == {"village": 0, "town": 1, "county": 0}  # D08 by its level column
    assert f["open"] == {"village": 2, "town": 2, "county": 0}  # D04 D07, D01 D03
    assert f["status_disagreements"] == 0


@pytest.mark.parametrize("with_table", [True, False])
def test_no_disputes(tmp_path: Path, with_table: bool) -> None:
    tables = {"disputes": [], "dispute_steps": []} if with_table else {}
    q, raw = _extract(tmp_path, "empty", **tables)
    got = check(q, raw, FilterState())
    assert got["total"] == 0 and got["monthly"] == [] and got["by_town"] == []
    for key in ("success_rate", "median_days_to_resolve", "p90_days_to_finish",
                "resolved_at_lowest_level_share", "resolved_below_county_share"):
        assert got[key] is None, key
    window = FilterState().with_window(date(2025, 4, 1), date(2025, 5, 31))
    got = check(q, raw, window, start=date(2025, 4, 1), end=date(2025, 5, 31))
    assert [m["received"] for m in got["monthly"]] == [0, 0]
    assert all(m["success_rate"] is None for m in got["monthly"])


def test_json_is_plain(tmp_path: Path) -> None:
    import json

    q, _ = _extract(tmp_path, "json", disputes=DISPUTES, dispute_steps=STEPS)
    doc = mediation(q, FilterState()).to_json()
    assert json.loads(json.dumps(doc)) == doc
    assert not any(isinstance(v, float) and math.isnan(v) for v in doc.values())


def test_ties_unknown_codes_and_bad_times(tmp_path: Path) -> None:
    """Same-time steps keep the extract's row order; unknown step codes; odd resolved_at."""
    disputes = [
        _d("E1", _at(5, 1), "family", V00, None, "village", "police", "resolved", _at(5, 3)),
        _d("E2", _at(5, 1), "family", V00, None, "village", "police", "resolved", _at(5, 4)),
        # resolved before it was received: a data error, left out of the durations
        _d("E3", _at(5, 10), "land", V01, None, "village", "police", "resolved", _at(5, 9)),
        # resolved after the as-of day, no steps: open on the as-of day
        _d("E4", _at(6, 1), "debt", V10, None, "village", "police", "resolved", _at(6, 20)),
        _d("E5", _at(5, 5), "labor", V11, None, "town", "police", "mediating"),
        _d("E6", _at(5, 2), "labor", V11, None, "village", "police", "failed", _at(5, 4)),
        # unknown status and level: the steps decide, and nothing can disagree
        _d("E7", _at(5, 2), "labor", V11, None, "floor", "police", "lost"),
    ]
    steps = [
        ("E1", _at(5, 1), "village", "accepted"), ("E1", _at(5, 3), "village", "failed"),
        ("E1", _at(5, 3), "village", "resolved"),
        ("E2", _at(5, 1), "village", "accepted"), ("E2", _at(5, 4), "village", "resolved"),
        ("E2", _at(5, 4), "village", "failed"),
        # unknown action: shows the level only; unknown level: ignored
        ("E5", _at(5, 5), "village", "accepted"), ("E5", _at(5, 6), "town", "teleported"),
        ("E5", _at(5, 7), "province", "escalated"), ("E5", _at(5, 8), "province", "resolved"),
        ("E6", _at(5, 2), "village", "accepted"), ("E6", _at(5, 4), "village", "failed"),
        ("E6", _at(5, 5), "village", "noted"),
        ("E7", _at(5, 2), "village", "accepted"), ("E7", _at(5, 3), "village", "resolved"),
    ]
    q, raw = _extract(tmp_path, "ties", disputes=disputes, dispute_steps=steps)
    got = check(q, raw, FilterState())
    f = got["funnel"]
    assert got["by_status"]["other"] == got["by_level"]["other"] == 1
    assert f["resolved"] == {"village": 4, "town": 0, "county": 0}  # E1 E2 E3 E7
    assert f["open"] == {"village": 1, "town": 1, "county": 0}  # E4, E5
    assert f["failed"] == {"village": 1, "town": 0, "county": 0}  # E6
    assert f["reached_county"] == 0 and f["from_steps"] == 5
    assert (f["status_disagreements"], f["level_disagreements"]) == (1, 0)  # E2
    assert got["median_days_to_resolve"] == pytest.approx(2.5)  # E1 2 days, E2 3 days
    assert got["p90_days_to_resolve"] == pytest.approx(2.9)
    assert got["median_days_to_finish"] == pytest.approx(2.0)  # and E6 2 days
