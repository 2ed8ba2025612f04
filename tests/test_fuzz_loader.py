"""Fuzz the loader with small extracts of random valid and broken rows.

Hypothesis draws which tables exist, which columns they have and of which type
(VARCHAR or DOUBLE coordinates, VARCHAR or TIMESTAMP times), and rows mixing good
values with NULLs, NaN, infinities, huge numbers, swapped points, unknown codes,
unicode, SQL and HTML fragments and random bytes as WKB. Whatever comes, the
loader must produce a load report that adds up, must not touch the extract, and
must agree with counts recomputed here from the generated rows.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import factory as f
import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from data.coords import to_wgs84
from data.extract import open_extract
from data.schema import INCIDENT_CATEGORIES, INCIDENT_STATUSES, RESOURCE_KINDS

BAD = object()  # a value the loader cannot read as its column's type
DIRTY = dict(max_examples=45, deadline=None,
             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                    HealthCheck.function_scoped_fixture])

# --------------------------------------------------------------------------- values

FRAGMENTS = ["", " ", "  ", "'; DROP TABLE incidents; --", "<script>alert(1)</script>",
             "🚓👮‍♀️", "O'Brien \"x\"", "NULL", "null", "\\", "%s", "赌博", "a\x00b", "\u202e",
             "Robert'); DELETE FROM areas; --", "\n\t"]
any_text = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12))
ids = st.one_of(st.none(), st.sampled_from(["", " ", "   "]),
                st.sampled_from([f"X{i}" for i in range(6)]),  # duplicates on purpose
                st.text(alphabet="abcXYZ019'\"; -<>/🚓中", min_size=1, max_size=6))


def codes(valid: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    variants = [c.upper() for c in valid[:2]] + [f" {valid[0]} ", f"{valid[-1]}\u00a0"]
    return st.one_of(st.sampled_from(valid), st.sampled_from(variants), st.none(),
                     st.text(alphabet="abcdefgh_ '", max_size=8))


def sql_trim(text: str) -> str:
    """DuckDB's trim(): strips Unicode space separators (not tabs or newlines)."""
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start]) == "Zs":
        start += 1
    while end > start and unicodedata.category(text[end - 1]) == "Zs":
        end -= 1
    return text[start:end]


def code_known(value: str | None, valid: tuple[str, ...]) -> bool:
    return value is not None and sql_trim(value).lower() in valid


def village() -> st.SearchStrategy[tuple[float, float]]:
    return st.tuples(st.floats(f.X0 + 0.001, f.X0 + 0.199), st.floats(f.Y0 + 0.001, f.Y0 + 0.199))


points = st.one_of(
    village(),
    village().map(lambda p: (p[1], p[0])),  # swapped
    st.sampled_from([(100.0, 40.0), (0.0, 0.0), (-74.0, 40.7), (200.0, 95.0), (1e308, 27.0),
                     (115.1, float("nan")), (float("inf"), 27.1), (-1e300, -1e300)]),
    st.tuples(st.floats(), st.floats()),  # anything, NaN and infinities included
)
EIGHT = datetime(2025, 5, 1, 8)
TIME_OK = {"2025-05-01 08:00:00": EIGHT, "2025-05-01T08:00:00": EIGHT,
           " 2025-05-01 08:00:00 ": EIGHT, "2025/05/01 08:00:00": EIGHT,
           "2025/05/01": datetime(2025, 5, 1), "2025年05月01日 08:00": EIGHT,
           "20250501080000": EIGHT}
TIME_BAD = ["junk", "", "2025-13-45", "'; DROP TABLE incidents; --", "<b>", "昨天", "25:61"]
NUM_BAD = ["abc", "", "27,05", "N27°", "'; --", "<b>", "一二"]


@dataclass
class Cell:
    raw: Any  # what is written to the extract
    value: Any  # what the loader should read (None for NULL, BAD when unreadable)


@st.composite
def timestamp(draw: st.DrawFn, as_text: bool) -> Cell:
    if draw(st.integers(0, 9)) == 0:
        return Cell(None, None)
    if as_text:
        text = draw(st.sampled_from(sorted(TIME_OK) + TIME_BAD))
        return Cell(text, TIME_OK.get(text, BAD))
    when = draw(st.datetimes(datetime(1990, 1, 1), datetime(2030, 12, 31)))
    return Cell(when, when)


def coordinate(x: float, as_text: bool, draw: st.DrawFn) -> Cell:
    roll = draw(st.integers(0, 11))
    if roll == 0:
        return Cell(None, None)
    if as_text and roll == 1:
        return Cell(draw(st.sampled_from(NUM_BAD)), BAD)
    if as_text:
        return Cell(repr(x), x)
    return Cell(x, x)


# --------------------------------------------------------------------------- extracts

@dataclass
class Plan:
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    ddl: dict[str, str] = field(default_factory=dict)
    cells: dict[str, list[dict[str, Cell]]] = field(default_factory=dict)
    dropped: dict[str, set[str]] = field(default_factory=dict)
    parquet: bool = False
    coord_system: str = "wgs84"


def _columns(table: str) -> list[tuple[str, str]]:
    return [(c.split()[0], c.split()[1]) for c in (x.strip() for x in f.DDL[table].split(","))]


REQUIRED = {
    "meta": {"key", "value"},
    "areas": {"area_id", "name", "level", "geom_wkb"},
    "incidents": {"incident_id", "reported_at", "category", "lon", "lat", "status"},
    "resources": {"resource_id", "kind", "name", "lon", "lat"},
    "hazards": {"hazard_id", "category", "name", "lon", "lat", "risk_level", "discovered_at"},
    "rectifications": {"event_id", "hazard_id", "event_at", "action"},
    "disputes": {"dispute_id", "received_at", "category", "level", "mediator_kind", "status"},
    "dispute_steps": {"dispute_id", "step_at", "level", "action"},
}


@st.composite
def table_shape(draw: st.DrawFn, table: str, text_types: set[str]
                ) -> tuple[list[str], dict[str, str], set[str]]:
    """(kept column names, column → type, dropped columns) for one table."""
    cols = _columns(table)
    dropped = {name for name, _t in cols
               if name not in REQUIRED[table] and draw(st.integers(0, 3)) == 0}
    if draw(st.integers(0, 11)) == 0:  # at most one required column goes missing
        dropped.add(draw(st.sampled_from(sorted(REQUIRED[table]))))
    types = {}
    for name, t in cols:
        if name in text_types and draw(st.booleans()):
            t = "VARCHAR"
        types[name] = t
    return [n for n, _t in cols if n not in dropped], types, dropped


def _add(plan: Plan, table: str, shape: tuple[list[str], dict[str, str], set[str]],
         rows: list[dict[str, Cell]]) -> None:
    keep, types, dropped = shape
    plan.ddl[table] = ", ".join(f'"{n}" {types[n]}' for n in keep)
    plan.tables[table] = [tuple(r[n].raw for n in keep) for r in rows]
    plan.cells[table] = rows
    plan.dropped[table] = dropped


@st.composite
def point_row(draw: st.DrawFn, types: dict[str, str]) -> dict[str, Cell]:
    lon, lat = draw(points)
    return {"lon": coordinate(lon, types["lon"] == "VARCHAR", draw),
            "lat": coordinate(lat, types["lat"] == "VARCHAR", draw)}


def plain(value: Any) -> Cell:
    return Cell(value, value)


@st.composite
def extracts(draw: st.DrawFn) -> Plan:
    plan = Plan(parquet=draw(st.integers(0, 4)) == 0)
    present = {t for t in ("meta", "areas", *REQUIRED) if draw(st.integers(0, 3)) > 0}
    if not present:
        present = {"incidents"}
    if "meta" in present:
        system = draw(st.sampled_from(["wgs84", "gcj02", "bd09", "WGS84", "mars", ""]))
        if system.lower() in ("gcj02", "bd09"):
            plan.coord_system = system.lower()
        plan.tables["meta"] = f.meta_rows(coord_system=system, region_name=draw(any_text))
        plan.ddl["meta"] = f.DDL["meta"]
        plan.dropped["meta"] = set()
    if "areas" in present:
        shape = draw(table_shape("areas", set()))
        rows = [{k: plain(v) for k, v in zip(
            ("area_id", "name", "level", "parent_id", "geom_wkb", "population"), r, strict=True)}
            for r in f.standard_areas()]
        for _ in range(draw(st.integers(0, 3))):
            rows.append({"area_id": plain(draw(ids)), "name": plain(draw(any_text)),
                         "level": plain(draw(codes(("village", "grid")))),
                         "parent_id": plain(draw(st.sampled_from([None, "T1", "C", "Z"]))),
                         "geom_wkb": plain(draw(st.one_of(st.none(), st.binary(max_size=40)))),
                         "population": plain(draw(st.one_of(st.none(), st.integers(-5, 9))))})
        _add(plan, "areas", shape, rows)
    if "incidents" in present:
        shape = draw(table_shape("incidents", {"reported_at", "lon", "lat", "closed_at"}))
        types = shape[1]
        rows = []
        for _ in range(draw(st.integers(0, 14))):
            r = {"incident_id": plain(draw(ids)),
                 "reported_at": draw(timestamp(types["reported_at"] == "VARCHAR")),
                 "category": plain(draw(codes(INCIDENT_CATEGORIES))),
                 "subcategory": plain(draw(st.one_of(st.none(), any_text))),
                 "address": plain(draw(st.one_of(st.none(), any_text))),
                 "area_id": plain(draw(st.sampled_from([None, "", "V00", "T2", "ZZ", "'"]))),
                 "status": plain(draw(codes(INCIDENT_STATUSES))),
                 "closed_at": draw(timestamp(types["closed_at"] == "VARCHAR"))}
            r.update(draw(point_row(types)))
            rows.append(r)
        _add(plan, "incidents", shape, rows)
    if "resources" in present:
        shape = draw(table_shape("resources", {"lon", "lat", "headcount", "available"}))
        types = shape[1]
        rows = []
        for _ in range(draw(st.integers(0, 8))):
            head = draw(st.sampled_from([None, 3, "x", "7"]))
            r = {"resource_id": plain(draw(ids)), "kind": plain(draw(codes(RESOURCE_KINDS))),
                 "name": plain(draw(any_text)), "area_id": plain(None),
                 "headcount": plain(head if types["headcount"] == "VARCHAR" or
                                    not isinstance(head, str) else None),
                 "phone": plain(draw(st.one_of(st.none(), any_text))),
                 "available": plain(draw(st.sampled_from(
                     [None, True, False] if types["available"] != "VARCHAR" else
                     [None, "true", "0", "maybe"]))),
                 "updated_at": plain(None)}
            r.update(draw(point_row(types)))
            rows.append(r)
        _add(plan, "resources", shape, rows)
    if "hazards" in present:
        shape = draw(table_shape("hazards", {"lon", "lat", "discovered_at"}))
        types = shape[1]
        rows = []
        for _ in range(draw(st.integers(0, 6))):
            r = {"hazard_id": plain(draw(st.one_of(ids, st.sampled_from(["H1", "H2"])))),
                 "category": plain(draw(codes(("road", "fire")))),
                 "name": plain(draw(any_text)), "area_id": plain(None),
                 "risk_level": plain(draw(codes(("major", "low")))),
                 "discovered_at": draw(timestamp(types["discovered_at"] == "VARCHAR")),
                 "responsible_unit": plain(None), "deadline": plain(None)}
            r.update(draw(point_row(types)))
            rows.append(r)
        _add(plan, "hazards", shape, rows)
    if "rectifications" in present:
        shape = draw(table_shape("rectifications", {"event_at"}))
        types = shape[1]
        rows = [{"event_id": plain(draw(ids)),
                 "hazard_id": plain(draw(st.sampled_from([None, "H1", "H2", "H3", "X0"]))),
                 "event_at": draw(timestamp(types["event_at"] == "VARCHAR")),
                 "action": plain(draw(codes(("assigned", "rectified")))),
                 "actor": plain(draw(any_text)), "note": plain(draw(any_text))}
                for _ in range(draw(st.integers(0, 6)))]
        _add(plan, "rectifications", shape, rows)
    if "disputes" in present:
        shape = draw(table_shape("disputes", {"lon", "lat"}))
        types = shape[1]
        rows = []
        for _ in range(draw(st.integers(0, 5))):
            r = {k: plain(v) for k, v in zip(
                ("dispute_id", "received_at", "category", "lon", "lat", "area_id", "level",
                 "mediator_kind", "status", "resolved_at", "source_incident_id"),
                f.dispute(draw(st.integers(0, 3)), status=draw(st.sampled_from(
                    ["resolved", "failed", "pending", "?"]))), strict=True)}
            r.update(draw(point_row(types)))
            rows.append(r)
        _add(plan, "disputes", shape, rows)
    if "dispute_steps" in present:
        shape = draw(table_shape("dispute_steps", set()))
        rows = [{k: plain(v) for k, v in zip(
            ("dispute_id", "step_at", "level", "action"),
            f.dispute_step(draw(st.sampled_from([None, "D0000", "D0001", "D0009"])),
                           action=draw(codes(("accepted", "escalated")))), strict=True)}
            for _ in range(draw(st.integers(0, 4)))]
        _add(plan, "dispute_steps", shape, rows)
    return plan


def write(plan: Plan, where: Path) -> Path:
    if plan.parquet:
        return f.write_parquet_dir(where / "extract", plan.tables, ddl=plan.ddl, partition=False)
    return f.write_extract(where / "extract.duckdb", plan.tables, ddl=plan.ddl)


# --------------------------------------------------------------------------- the model

def far_box(plan: Plan) -> tuple[float, float, float, float] | None:
    """Where a point is plausible: the standard areas' extent (in WGS84) plus its size
    and 0.1°. Points are checked in the extract's datum before conversion."""
    if "areas" not in plan.tables or plan.dropped["areas"] & REQUIRED["areas"]:
        return None
    corners = shapely.get_coordinates([shapely.from_wkb(r[4]) for r in f.standard_areas()])
    xs, ys = to_wgs84(corners[:, 0], corners[:, 1], plan.coord_system)
    x0, y0, x1, y1 = float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
    m = max(x1 - x0, y1 - y0) + 0.1
    return x0 - m, y0 - m, x1 + m, y1 + m


def _plausible(lon: float, lat: float, where: tuple[float, float, float, float] | None) -> bool:
    if not (abs(lon) <= 180 and abs(lat) <= 90):
        return False
    return where is None or (where[0] <= lon <= where[2] and where[1] <= lat <= where[3])


def geo_reason(lon: Any, lat: Any, required: bool,
               where: tuple[float, float, float, float] | None) -> tuple[str | None, bool]:
    """(set-aside reason, swapped) for one point, by the schema's rules."""
    if lon is BAD or lat is BAD:
        return "bad_coordinates", False
    if lon is None or lat is None:
        return ("missing_coordinates" if required else None), False
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return "bad_coordinates", False
    if _plausible(lon, lat, where):
        return None, False
    if _plausible(lat, lon, where):
        return None, True
    if not (abs(lon) <= 180 and abs(lat) <= 90):
        return "coordinates_out_of_range", False
    return "coordinates_outside_extent", False


@dataclass
class Expected:
    reasons: Counter[str]
    kept: list[int]  # source row numbers
    swapped: int = 0


def expect(rows: list[dict[str, Cell]], id_col: str, time_col: str | None,
           point: bool | None, where: tuple[float, float, float, float] | None,
           refs: Callable[[Any], bool] | None = None) -> Expected:
    """Set-aside reasons in the schema's order; ``point`` None = no coordinates,
    False = optional coordinates, True = required."""
    out = Expected(Counter(), [])
    # repeated ids: the latest usable row (in source order) wins; updated_at is NULL here
    latest: dict[str, int] = {}
    for n, r in enumerate(rows):
        ident = r[id_col].value
        if ident is None or sql_trim(ident) == "":
            continue
        if time_col is not None and r[time_col].value in (None, BAD):
            continue
        if point is not None and geo_reason(r["lon"].value, r["lat"].value, point,
                                            where)[0] is not None:
            continue
        if refs is not None and not refs(r):
            continue
        latest[ident] = n
    for n, r in enumerate(rows):
        ident = r[id_col].value
        why, swapped = None, False
        if ident is None or sql_trim(ident) == "":
            why = "missing_id"
        elif time_col is not None and r[time_col].value in (None, BAD):
            why = "bad_timestamp"
        elif point is not None:
            why, swapped = geo_reason(r["lon"].value, r["lat"].value, point, where)
        if why is None and refs is not None and not refs(r):
            why = "unknown_reference"
        if why is None and latest.get(ident) != n:
            why = "duplicate_id"
        if why is None:
            out.kept.append(n)
            out.swapped += swapped
        else:
            out.reasons[why] += 1
    return out


def usable_table(plan: Plan, table: str) -> bool:
    return table in plan.tables and not plan.dropped[table] & REQUIRED[table]


# --------------------------------------------------------------------------- the test

@settings(**DIRTY)
@given(plan=extracts())
def test_loader_survives_random_extracts(plan: Plan) -> None:
    where = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        _check(plan, write(plan, where))
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _check(plan: Plan, path: Path) -> None:
    before = f.sha256(path)
    ex = open_extract(path)  # only ExtractError would be acceptable, and not here:
    try:                     # every generated extract holds at least one schema table
        report = ex.report.to_json()
        for name, t in report.items():  # shown by --hypothesis-show-statistics
            for why in (*t["reasons"], *t["adjusted"]):
                event(f"{name}: {why}")
        event(f"kind: {ex.kind}")
        _check_report(plan, ex, report)
        _check_rows(plan, ex, report)
    finally:
        ex.close()
    assert f.sha256(path) == before, "opening changed the extract"
    again = open_extract(path)
    try:
        assert again.report.to_json() == report
    finally:
        again.close()
    assert f.sha256(path) == before


def _kept(ex: Any, table: str) -> int:
    where = " WHERE level IS NOT NULL" if table == "areas" else ""
    return ex.con.execute(f"SELECT count(*) FROM {table}{where}").fetchall()[0][0]


def _check_report(plan: Plan, ex: Any, report: dict[str, Any]) -> None:
    for name, t in report.items():
        assert sum(t["reasons"].values()) == t["quarantined"], (name, t)
        if name not in plan.tables:
            assert t["status"] == "missing" and t["rows"] == 0, (name, t)
            continue
        n = len(plan.tables[name])
        if not usable_table(plan, name):
            assert t["status"] == "set_aside", (name, t)
            assert t["message"] and "missing required column" in t["message"]
            assert t["quarantined"] == t["rows"] == n
            assert t["reasons"] == ({"missing_columns": n} if n else {})
        else:
            assert t["status"] == "ok", (name, t)
            assert t["rows"] == n
        if name != "meta":
            assert t["rows"] == t["quarantined"] + _kept(ex, name), (name, t)
    for table in ("incidents", "resources", "hazards", "disputes"):
        for lon, lat, mx, my in ex.con.execute(f"SELECT lon, lat, mx, my FROM {table}"
                                               ).fetchall():
            assert (lon is None) == (lat is None) == (mx is None) == (my is None)
            if lon is not None:
                assert math.isfinite(lon) and math.isfinite(lat)
                assert abs(lon) <= 180 and abs(lat) <= 90
                assert math.isfinite(mx) and math.isfinite(my)


def _check_rows(plan: Plan, ex: Any, report: dict[str, Any]) -> None:
    where = far_box(plan)
    if usable_table(plan, "incidents"):
        rows = plan.cells["incidents"]
        exp = expect(rows, "incident_id", "reported_at", False, where)
        t = report["incidents"]
        assert t["reasons"] == dict(exp.reasons), (t, exp)
        assert t["adjusted"].get("swapped_coordinates", 0) == exp.swapped
        kept = ex.con.execute("SELECT _row, incident_id, category, status FROM incidents "
                              "ORDER BY _row").fetchall()
        assert [k[0] for k in kept] == exp.kept
        unknown = sum(not code_known(rows[n]["category"].value, INCIDENT_CATEGORIES)
                      for n in exp.kept)
        assert t["adjusted"].get("unknown_code:category", 0) == unknown
        for n, ident, category, status in kept:
            assert ident == rows[n]["incident_id"].value
            assert category in INCIDENT_CATEGORIES and status in (*INCIDENT_STATUSES, "other")
        if "address" not in plan.dropped["incidents"]:
            texts = ex.con.execute("SELECT _row, address FROM incidents").fetchall()
            for n, address in texts:
                assert address == rows[n]["address"].value
    if usable_table(plan, "resources"):
        exp = expect(plan.cells["resources"], "resource_id", None, True, where)
        t = report["resources"]
        assert t["reasons"] == dict(exp.reasons), (t, exp)
        assert t["adjusted"].get("swapped_coordinates", 0) == exp.swapped
        names = ex.con.execute("SELECT _row, name FROM resources ORDER BY _row").fetchall()
        assert names == [(n, plan.cells["resources"][n]["name"].value) for n in exp.kept]
    hazard_ids: set[str] = set()
    if usable_table(plan, "hazards"):
        rows = plan.cells["hazards"]
        exp = expect(rows, "hazard_id", "discovered_at", True, where)
        assert report["hazards"]["reasons"] == dict(exp.reasons)
        hazard_ids = {rows[n]["hazard_id"].value for n in exp.kept}
    if usable_table(plan, "rectifications"):
        exp = expect(plan.cells["rectifications"], "event_id", "event_at", None, None,
                     refs=lambda r: r["hazard_id"].value in hazard_ids)
        reasons = dict(exp.reasons)
        if "unknown_reference" in reasons:
            reasons["unknown_hazard"] = reasons.pop("unknown_reference")
        assert report["rectifications"]["reasons"] == reasons


@pytest.mark.parametrize("seed", range(3))
def test_random_bytes_as_area_geometry(tmp_path: Path, seed: int) -> None:
    """Random WKB among good areas: only those rows are set aside, the rest assigns."""
    import random

    rnd = random.Random(seed)
    areas = f.standard_areas()
    for k in range(30):
        size = rnd.choice([0, 1, 5, 9, 21, 60, 200])
        blob = bytes(rnd.getrandbits(8) for _ in range(size))
        if k % 3 == 0 and size > 9:  # a plausible header, then garbage
            blob = bytes([1, 3, 0, 0, 0]) + blob[5:]
        areas.append((f"G{k}", f"垃圾{k}", "village", "T1", blob, None))
    path = f.write_extract(tmp_path / "x.duckdb", {
        "areas": areas, "incidents": [f.incident(1, 115.05, 27.05)]})
    before = f.sha256(path)
    ex = open_extract(path)
    try:
        rep = ex.report.to_json()["areas"]
        assert rep["rows"] == len(areas)
        assert rep["quarantined"] == 30 and set(rep["reasons"]) <= {
            "invalid_geometry", "coordinates_out_of_range"}
        got = ex.con.execute("SELECT a.area_id FROM incidents i "
                             "JOIN areas a ON a.area_idx = i.area_idx").fetchall()
        assert got == [("V00",)]
    finally:
        ex.close()
    assert f.sha256(path) == before
