"""The demo county generator (demo), checked from the outside with DuckDB and shapely."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import duckdb
import numpy as np
import pytest
import shapely

from data.coords import gcj02_to_wgs84, haversine_m, wgs84_to_gcj02
from data.schema import (
    AREA_LEVELS,
    DISPUTE_STATUSES,
    HAZARD_CATEGORIES,
    INCIDENT_CATEGORIES,
    RESOURCE_KINDS,
    RISK_LEVELS,
    TABLES,
    Reason,
)
from demo import DemoManifest, generate_demo

N = 20_000
SEED = 20261120
EXTRACTED = np.datetime64("2026-11-20T06:00:00")
YEAR_AGO = "TIMESTAMP '2025-11-20 06:00:00'"
TYPES = {"text": "VARCHAR", "timestamp": "TIMESTAMP", "date": "DATE", "double": "DOUBLE",
         "integer": "INTEGER", "boolean": "BOOLEAN", "blob": "BLOB"}


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, DemoManifest]]:
    d = tmp_path_factory.mktemp("demo")
    out: dict[str, tuple[Path, DemoManifest]] = {}
    for key, kw in {
        "a": {}, "b": {}, "other_seed": {"seed": SEED + 1},
        "dirty_gcj": {"dirty": True, "coord_system": "gcj02"},
    }.items():
        path = d / f"{key}.duckdb"
        out[key] = path, generate_demo(path, incidents=N, **kw)
    return out


def q(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def one(path: Path, sql: str):
    return q(path, sql)[0][0]


def test_same_arguments_same_contents_other_seed_differs(demos):
    a, b, c = demos["a"][0], demos["b"][0], demos["other_seed"][0]
    for table in TABLES:
        assert q(a, f"SELECT * FROM {table}") == q(b, f"SELECT * FROM {table}"), table
    assert demos["a"][1] == demos["b"][1]
    for table, col in (("areas", "geom_wkb"), ("incidents", "lon"), ("hazards", "lat")):
        sql = f"SELECT md5(string_agg({col}::VARCHAR, ',')) FROM {table}"
        assert one(a, sql) != one(c, sql), table


def test_every_table_and_column_with_contract_types(demos):
    path, manifest = demos["a"]
    for name, table in TABLES.items():
        cols = {r[0]: r[1] for r in q(path, f"DESCRIBE {name}")}
        for c in table.columns:
            want = "BIGINT" if (name, c.name) == ("areas", "population") else TYPES[c.kind]
            assert cols.get(c.name) == want, (name, c.name, cols.get(c.name))
        assert manifest.counts[name] == one(path, f"SELECT count(*) FROM {name}")
    meta = dict(q(path, "SELECT key, value FROM meta"))
    assert meta == {"schema_version": "1", "region_name": "示范县", "coord_system": "wgs84",
                    "extracted_at": "2026-11-20T06:00:00", "source": "示范数据生成器",
                    "classification": "内部资料 注意保密"}
    assert manifest.extracted_at == "2026-11-20T06:00:00"
    assert manifest.dirty == {}


def _areas(path: Path) -> dict[str, list]:
    rows = q(path, "SELECT area_id, name, level, parent_id, geom_wkb, population FROM areas")
    return {k: [r[i] for r in rows] for i, k in enumerate(
        ("id", "name", "level", "parent", "wkb", "pop"))}


def test_areas_tile_the_county(demos):
    a = _areas(demos["a"][0])
    levels = a["level"]
    assert levels.count("county") == 1 and levels.count("town") == 15
    assert 280 <= levels.count("village") <= 320 and "grid" not in levels
    assert len(set(a["id"])) == len(a["id"]) and len(set(a["name"])) == len(a["name"])
    geom = dict(zip(a["id"], shapely.from_wkb(a["wkb"]), strict=True))
    parent = dict(zip(a["id"], a["parent"], strict=True))
    pop = dict(zip(a["id"], a["pop"], strict=True))
    county = geom["C01"]
    assert parent["C01"] is None
    minx, miny, maxx, maxy = county.bounds
    assert 114.4 < minx < maxx < 115.4 and 26.7 < miny < maxy < 27.5
    assert 50 < (maxx - minx) * 99.1 < 70 and 40 < (maxy - miny) * 110.9 < 60  # km
    villages = [i for i, lv in zip(a["id"], levels, strict=True) if lv == "village"]
    towns = [i for i, lv in zip(a["id"], levels, strict=True) if lv == "town"]
    vg = np.array([geom[v] for v in villages])
    assert shapely.is_valid(vg).all()
    assert set(shapely.get_type_id(vg)) <= {3, 6}  # Polygon, MultiPolygon
    union = shapely.union_all(vg).area
    assert abs(union - county.area) / county.area < 0.01
    assert (shapely.area(vg).sum() - union) / union < 0.001  # no overlaps beyond slivers
    for v in villages:
        t = parent[v]
        assert t in towns and re.fullmatch(r"T\d\dV\d{3}", v) and v.startswith(t)
        assert shapely.difference(geom[v], geom[t]).area < 1e-6 * geom[v].area + 1e-12
        assert 800 <= pop[v] <= 9_000
    assert all(parent[t] == "C01" for t in towns)
    for t in towns:
        assert pop[t] == sum(pop[v] for v in villages if parent[v] == t)
    assert pop["C01"] == sum(pop[t] for t in towns)


def test_incidents_window_order_and_status(demos):
    path, manifest = demos["a"]
    with duckdb.connect(str(path), read_only=True) as con:
        t = con.execute("SELECT reported_at FROM incidents").fetchnumpy()["reported_at"]
        stats = con.execute("""
            SELECT count(*), count(DISTINCT incident_id), avg((lon IS NULL)::INT),
                   avg((area_id IS NULL)::INT),
                   avg((area_id IS NOT NULL)::INT) FILTER (WHERE lon IS NULL),
                   count(*) FILTER (WHERE (status = 'closed') != (closed_at IS NOT NULL)),
                   count(*) FILTER (WHERE closed_at < reported_at
                                       OR closed_at > TIMESTAMP '2026-11-20 06:00:00'),
                   count(*) FILTER (WHERE category NOT IN ?), count(*) FILTER (WHERE address
                                       NOT LIKE '示范县%')
            FROM incidents""", [list(INCIDENT_CATEGORIES)]).fetchone()
    assert len(t) == N == manifest.counts["incidents"]
    t = t.astype("datetime64[s]")
    assert (np.diff(t.astype(np.int64)) >= 0).all()  # written in reported_at order
    assert t.min() >= EXTRACTED - np.timedelta64(730, "D") and t.max() < EXTRACTED
    n, ids, null_xy, null_area, area_when_null_xy, bad_status, bad_close, bad_cat, no_addr = stats
    assert n == ids
    assert 0.01 < null_xy < 0.03 and 0.15 < null_area < 0.25 and 0.3 < area_when_null_xy < 0.7
    assert bad_status == bad_close == bad_cat == no_addr == 0
    shares = dict(q(path, "SELECT category, count(*) / sum(count(*)) OVER () FROM incidents "
                          "GROUP BY ALL"))
    assert shares["assistance"] > shares["criminal"] > shares["fire"]
    assert shares["public_order"] > shares["fraud"]
    recent = dict(q(path, "SELECT reported_at > TIMESTAMP '2026-11-19 06:00:00', "
                          "avg((status != 'closed')::INT) FROM incidents GROUP BY ALL"))
    assert recent[True] > 5 * recent[False]  # the last day is still being handled


def test_incident_area_ids_match_their_points(demos):
    path, _ = demos["a"]
    a = _areas(path)
    tree_ids = [i for i, lv in zip(a["id"], a["level"], strict=True) if lv == "village"]
    geoms = shapely.from_wkb([w for w, lv in zip(a["wkb"], a["level"], strict=True)
                              if lv == "village"])
    rows = q(path, "SELECT lon, lat, area_id FROM incidents "
                   "WHERE lon IS NOT NULL AND area_id IS NOT NULL LIMIT 3000")
    pts = shapely.points([r[0] for r in rows], [r[1] for r in rows])
    src, hit = shapely.STRtree(geoms).query(pts, predicate="within")
    found = dict(zip(src, hit, strict=True))
    assert all(tree_ids[found[i]] == r[2] for i, r in enumerate(rows))


def test_incidents_look_like_real_life(demos):
    path, manifest = demos["a"]
    drown = dict(q(path, """
        SELECT month(reported_at) IN (6, 7, 8), avg((subcategory LIKE '%溺水%')::INT)
        FROM incidents WHERE month(reported_at) IN (12, 1, 2, 6, 7, 8) GROUP BY ALL"""))
    assert drown[True] > 5 * drown[False]
    trend = q(path, f"""
        SELECT category, count(*) FILTER (WHERE reported_at >= {YEAR_AGO}) AS last12,
               count(*) FILTER (WHERE reported_at < {YEAR_AGO}) AS prev12
        FROM incidents GROUP BY ALL""")
    assert any(last < 0.85 * prev for _, last, prev in trend)  # a campaign that works
    assert any(last > 1.05 * prev for _, last, prev in trend)  # and a rising one
    weekend = dict(q(path, "SELECT isodow(reported_at) >= 6, "
                           "avg((category = 'public_order')::INT) FROM incidents GROUP BY ALL"))
    assert weekend[True] > 1.1 * weekend[False]
    hours = dict(q(path, "SELECT hour(reported_at), count(*) FROM incidents "
                         "WHERE category = 'public_order' GROUP BY ALL"))
    assert hours[22] > 2 * hours[5]  # night peak
    traffic = dict(q(path, "SELECT hour(reported_at), count(*) FROM incidents "
                           "WHERE category = 'traffic' GROUP BY ALL"))
    assert traffic[8] > 3 * traffic[3]  # rush hour
    assert len(manifest.repeat_addresses) >= 8
    for addr in manifest.repeat_addresses:
        with duckdb.connect(str(path), read_only=True) as con:
            n = con.execute("SELECT count(*) FROM incidents WHERE address = ?", [addr]).fetchone()
            rows = con.execute("SELECT lon, lat FROM incidents WHERE address = ? "
                               "AND lon IS NOT NULL", [addr]).fetchnumpy()
        assert n[0] >= 50, addr
        d = haversine_m(rows["lon"], rows["lat"], rows["lon"].mean(), rows["lat"].mean())
        assert d.max() <= 40.0, addr  # every point within 20 m of one doorway


def test_resources_like_a_county_register(demos):
    path, _ = demos["a"]
    kinds = dict(q(path, "SELECT kind, count(*) FROM resources GROUP BY ALL"))
    assert set(kinds) == set(RESOURCE_KINDS)
    police = sum(kinds[k] for k in ("police_station", "patrol_unit", "officer", "auxiliary",
                                    "equipment"))
    assert 1_250 < police < 1_450 and 15 <= kinds["police_station"] <= 25
    assert 1_000 < kinds["mass_prevention"] < 1_300 and 250 < kinds["social_org"] < 400
    assert 500 < kinds["mediator"] < 700
    stations = [r[0] for r in q(path, "SELECT name FROM resources WHERE kind='police_station'")]
    assert all(s.endswith("派出所") for s in stations)
    phones = [r[0] for r in q(path, "SELECT phone FROM resources WHERE kind = 'officer'")]
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)
    avail, ids, n = q(path, "SELECT avg(available::INT), count(DISTINCT resource_id), count(*) "
                            "FROM resources")[0]
    assert 0.8 < avail < 0.9 and ids == n


def test_hazards_and_rectification_histories(demos):
    path, _ = demos["a"]
    n, major, short, long_ = q(path, """
        SELECT count(*), avg((risk_level = 'major')::INT),
               count(*) FILTER (WHERE deadline < discovered_at::DATE + 15),
               count(*) FILTER (WHERE deadline > discovered_at::DATE + 90) FROM hazards""")[0]
    assert 8_000 < n < 10_000 and 0.03 < major < 0.07 and short == long_ == 0
    cats = {r[0] for r in q(path, "SELECT DISTINCT category FROM hazards")}
    assert cats == set(HAZARD_CATEGORIES)
    summer = one(path, "SELECT avg((month(discovered_at) BETWEEN 5 AND 8)::INT) FROM hazards "
                       "WHERE category = 'drowning'")
    assert summer > 0.6
    rows = q(path, """
        SELECT e.hazard_id, e.event_at, e.action, h.discovered_at FROM rectifications e
        JOIN hazards h USING (hazard_id) ORDER BY e.hazard_id, e.event_at, e.event_id""")
    allowed = {None: {"assigned"}, "assigned": {"rectified"},
               "rectified": {"reinspected", "reopened"}, "reopened": {"rectified"},
               "reinspected": set()}
    last: dict[str, tuple] = {}
    for hz, at, action, found in rows:
        prev = last.get(hz)
        assert at > (prev[0] if prev else found), hz  # strictly increasing, after discovery
        assert action in allowed[prev[1] if prev else None], (hz, action)
        last[hz] = (at, action)
    assert one(path, "SELECT count(*) FROM rectifications WHERE hazard_id NOT IN "
                     "(SELECT hazard_id FROM hazards)") == 0
    finals = [a for _, a in last.values()]
    assert finals.count("reopened") > 0 and n - len(last) > 0  # some reopened, some untouched
    overdue = one(path, """
        SELECT count(*) FROM hazards h LEFT JOIN (
            SELECT hazard_id, arg_max(action, event_at) AS state FROM rectifications GROUP BY 1
        ) s USING (hazard_id)
        WHERE coalesce(state, 'open') NOT IN ('rectified', 'reinspected')
          AND deadline < DATE '2026-11-20'""")
    assert overdue > 50


def test_dispute_steps_agree_with_disputes(demos):
    path, _ = demos["a"]
    disputes = {r[0]: r[1:] for r in q(path, "SELECT dispute_id, received_at, level, status, "
                                             "resolved_at FROM disputes")}
    assert 18_000 < len(disputes) < 22_000
    steps: dict[str, list] = {}
    for d, at, level, action in q(path, "SELECT dispute_id, step_at, level, action "
                                        "FROM dispute_steps"):
        steps.setdefault(d, []).append((at, level, action))
    assert set(steps) == set(disputes)
    order = {"village": 0, "town": 1, "county": 2}
    terminal = {"resolved", "failed", "referred"}
    for d, (received, level, status, resolved_at) in disputes.items():
        s = sorted(steps[d], key=lambda x: (x[0], x[2] != "accepted"))
        assert s[0] == (received, "village", "accepted"), d
        assert all(x[0] <= y[0] for x, y in pairwise(s))
        # the schema's convention: an escalation carries the level it went to
        for (_, lv1, a1), (_, lv2, a2) in pairwise(s):
            if a2 == "escalated":
                assert (a1, order[lv2]) == ("accepted", order[lv1] + 1), d
            elif a1 == "escalated":
                assert (a2, lv2) == ("accepted", lv1), d
            else:
                assert a1 == "accepted" and lv1 == lv2, d
        assert s[-1][1] == level, d
        if s[-1][2] in terminal:
            assert status == s[-1][2] and resolved_at == s[-1][0], d
        elif s[-1][2] == "escalated":  # handed up, not accepted there yet
            assert status == "pending" and resolved_at is None, d
        else:
            assert s[-1][2] == "accepted" and status in ("pending", "mediating"), d
            assert resolved_at is None
    levels = {lv for _, lv, _, _ in disputes.values()}
    assert levels == {"village", "town", "county"}
    linked, good = q(path, """
        SELECT count(d.source_incident_id),
               count(*) FILTER (WHERE i.category = 'dispute' AND i.reported_at <= d.received_at)
        FROM disputes d LEFT JOIN incidents i ON i.incident_id = d.source_incident_id""")[0]
    assert 0.07 * len(disputes) < linked < 0.13 * len(disputes) and good == linked


def _dirty_counts(path: Path) -> dict[str, dict[str, int]]:
    """Recount every injected problem from the data alone, flagging one problem per row."""
    cats, kinds = list(INCIDENT_CATEGORIES), list(RESOURCE_KINDS)
    with duckdb.connect(str(path), read_only=True) as con:
        flags = con.execute("""
            WITH f AS (
              SELECT incident_id IS NULL AS missing_id, reported_at IS NULL AS bad_timestamp,
                coalesce(isnan(lon) OR isnan(lat) OR isinf(lon) OR isinf(lat), false) AS bad,
                coalesce(lat BETWEEN 100 AND 130 AND lon BETWEEN 20 AND 35, false) AS swapped,
                coalesce(lat = 200, false) AS out_of_range,
                coalesce(lon = 10 AND lat = 10, false) AS outside,
                category NOT IN ? AS unknown_cat,
                incident_id IS NOT NULL AND row_number() OVER (
                  PARTITION BY incident_id ORDER BY rowid) > 1 AS dup
              FROM incidents)
            SELECT sum(missing_id::INT), sum(bad_timestamp::INT), sum(bad::INT),
                   sum(swapped::INT), sum(out_of_range::INT), sum(outside::INT),
                   sum(unknown_cat::INT), sum(dup::INT),
                   max(missing_id::INT + bad_timestamp::INT + bad::INT + swapped::INT
                       + out_of_range::INT + outside::INT + unknown_cat::INT + dup::INT)
            FROM f""", [cats]).fetchone()
        res = con.execute("""
            SELECT count(*) FILTER (WHERE lon IS NULL), count(*) - count(DISTINCT resource_id),
                   count(*) FILTER (WHERE kind NOT IN ?) FROM resources""", [kinds]).fetchone()
        hz = con.execute("""
            SELECT count(*) FILTER (WHERE isnan(lat)), count(*) FILTER (WHERE risk_level NOT IN ?)
            FROM hazards""", [list(RISK_LEVELS)]).fetchone()
        orphans = con.execute("SELECT count(*) FROM rectifications WHERE hazard_id NOT IN "
                              "(SELECT hazard_id FROM hazards)").fetchone()[0]
        lost = con.execute("SELECT count(*) FROM disputes WHERE status NOT IN ?",
                           [list(DISPUTE_STATUSES)]).fetchone()[0]
        stray = con.execute("SELECT count(*) FROM dispute_steps WHERE dispute_id NOT IN "
                            "(SELECT dispute_id FROM disputes)").fetchone()[0]
        areas = con.execute("SELECT level, geom_wkb FROM areas").fetchall()
    assert flags[-1] <= 1  # no dirty row carries two problems
    invalid = repaired = unknown_level = 0
    for level, wkb in areas:
        if level not in AREA_LEVELS:
            unknown_level += 1
            continue
        try:
            g = shapely.from_wkb(wkb)
        except shapely.errors.GEOSException:
            invalid += 1
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon") or g.is_empty:
            invalid += 1
        elif not g.is_valid:
            repaired += 1
    counts = {
        "incidents": dict(zip((Reason.MISSING_ID, Reason.BAD_TIMESTAMP, Reason.BAD_COORDINATES,
                               Reason.SWAPPED_COORDINATES, Reason.COORDINATES_OUT_OF_RANGE,
                               Reason.COORDINATES_OUTSIDE_EXTENT, "unknown_code:category",
                               Reason.DUPLICATE_ID), flags[:-1], strict=True)),
        "resources": dict(zip((Reason.MISSING_COORDINATES, Reason.DUPLICATE_ID,
                               "unknown_code:kind"), res, strict=True)),
        "hazards": dict(zip((Reason.BAD_COORDINATES, "unknown_code:risk_level"), hz, strict=True)),
        "rectifications": {Reason.UNKNOWN_HAZARD: orphans},
        "disputes": {"unknown_code:status": lost},
        "dispute_steps": {Reason.UNKNOWN_DISPUTE: stray},
        "areas": {Reason.INVALID_GEOMETRY: invalid, Reason.REPAIRED_GEOMETRY: repaired,
                  Reason.UNKNOWN_LEVEL: unknown_level},
    }
    counts = {t: {r: int(k) for r, k in c.items() if k} for t, c in counts.items()}
    return {t: c for t, c in counts.items() if c}


def test_dirty_rows_are_present_and_counted_exactly(demos):
    path, manifest = demos["dirty_gcj"]
    assert manifest.dirty and all(manifest.dirty.values())
    known = {v for k, v in vars(Reason).items() if k.isupper() and isinstance(v, str)}
    for reasons in manifest.dirty.values():
        for r in reasons:
            assert r in known or re.fullmatch(r"unknown_code:[a-z_]+", r), r
    assert manifest.dirty == _dirty_counts(path)
    assert _dirty_counts(demos["a"][0]) == {}
    assert one(path, "SELECT count(*) FROM hazards WHERE name = '<script>alert(1)</script>'") == 1
    assert one(path, "SELECT count(*) FROM hazards WHERE name LIKE '%DROP TABLE hazards%🚧%'") == 1
    assert one(path, "SELECT count(*) FROM incidents WHERE address LIKE "
                     "'%''; DROP TABLE incidents; --%'") >= 1
    assert one(path, "SELECT count(*) FROM incidents WHERE subcategory = '<b>html</b>'") >= 1
    dup = one(path, "SELECT max(c) FROM (SELECT count(*) c FROM incidents "
                    "WHERE incident_id IS NOT NULL GROUP BY incident_id)")
    assert dup == 2  # the duplicate id appears twice
    assert one(path, "SELECT count(*) FROM rectifications "
                     "WHERE hazard_id = 'HZ-DOES-NOT-EXIST'") >= 1
    assert one(path, "SELECT count(*) FROM dispute_steps "
                     "WHERE dispute_id = 'DS-DOES-NOT-EXIST'") >= 1
    t = q(path, "SELECT reported_at FROM incidents WHERE reported_at IS NOT NULL")
    assert all(x[0] <= y[0] for x, y in pairwise(t))
    assert one(path, "SELECT value FROM meta WHERE key = 'coord_system'") == "gcj02"


def test_gcj02_output_is_the_offset_wgs84(demos):
    wgs, gcj = demos["a"][0], demos["dirty_gcj"][0]
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{wgs}' AS w (READ_ONLY)")
        con.execute(f"ATTACH '{gcj}' AS g (READ_ONLY)")
        r = con.execute("""
            SELECT w.lon, w.lat, g.lon, g.lat FROM w.incidents w JOIN g.incidents g
            USING (incident_id) WHERE w.lon IS NOT NULL
              AND incident_id IN (SELECT incident_id FROM g.incidents GROUP BY 1
                                  HAVING count(*) = 1)""").fetchnumpy()
        va, vb = con.execute("""
            SELECT w.geom_wkb, g.geom_wkb FROM w.areas w JOIN g.areas g USING (area_id)
            WHERE area_id = 'T01V001'""").fetchone()
    wl, wt, gl, gt = (np.asarray(r[k]) for k in r)
    assert len(wl) > 0.9 * N
    el, et = wgs84_to_gcj02(wl, wt)
    offset = haversine_m(wl, wt, gl, gt)
    assert offset.min() > 100 and offset.max() < 1_000  # the GCJ shift is hundreds of metres
    assert np.abs(el - gl).max() < 2e-6 and np.abs(et - gt).max() < 2e-6
    bl, bt = gcj02_to_wgs84(gl, gt)
    assert haversine_m(bl, bt, wl, wt).max() < 1.0
    cw = shapely.get_coordinates(shapely.from_wkb(va))
    cg = shapely.get_coordinates(shapely.from_wkb(vb))
    ex, ey = wgs84_to_gcj02(cw[:, 0], cw[:, 1])
    assert np.abs(ex - cg[:, 0]).max() < 1e-9 and np.abs(ey - cg[:, 1]).max() < 1e-9


def test_atomic_overwrite_and_progress(tmp_path):
    out = tmp_path / "x.duckdb"
    out.write_bytes(b"not a database")
    calls: list[tuple[str, float]] = []
    manifest = generate_demo(out, incidents=500, progress=lambda s, f: calls.append((s, f)))
    assert one(out, "SELECT count(*) FROM incidents") == manifest.counts["incidents"] == 500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.duckdb"]
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(isinstance(s, str) and s for s, _ in calls)
    with pytest.raises(ValueError):
        generate_demo(tmp_path / "y.duckdb", incidents=10, coord_system="utm")
