"""Build small, hand-made extracts for tests (real DuckDB files, written directly).

Deliberately independent of the cockpit's own code: tables are created with
plain DDL so tests can also write wrong types, missing columns and broken rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import shapely
from shapely.geometry import box

DDL = {
    "meta": "key VARCHAR, value VARCHAR",
    "areas": "area_id VARCHAR, name VARCHAR, level VARCHAR, parent_id VARCHAR, geom_wkb BLOB, "
             "population BIGINT",
    "incidents": "incident_id VARCHAR, reported_at TIMESTAMP, category VARCHAR, "
                 "subcategory VARCHAR, lon DOUBLE, lat DOUBLE, address VARCHAR, area_id VARCHAR, "
                 "status VARCHAR, closed_at TIMESTAMP",
    "resources": "resource_id VARCHAR, kind VARCHAR, name VARCHAR, lon DOUBLE, lat DOUBLE, "
                 "area_id VARCHAR, headcount INTEGER, phone VARCHAR, available BOOLEAN, "
                 "updated_at TIMESTAMP",
    "hazards": "hazard_id VARCHAR, category VARCHAR, name VARCHAR, lon DOUBLE, lat DOUBLE, "
               "area_id VARCHAR, risk_level VARCHAR, discovered_at TIMESTAMP, "
               "responsible_unit VARCHAR, deadline DATE",
    "rectifications": "event_id VARCHAR, hazard_id VARCHAR, event_at TIMESTAMP, action VARCHAR, "
                      "actor VARCHAR, note VARCHAR",
    "disputes": "dispute_id VARCHAR, received_at TIMESTAMP, category VARCHAR, lon DOUBLE, "
                "lat DOUBLE, area_id VARCHAR, level VARCHAR, mediator_kind VARCHAR, "
                "status VARCHAR, resolved_at TIMESTAMP, source_incident_id VARCHAR",
    "dispute_steps": "dispute_id VARCHAR, step_at TIMESTAMP, level VARCHAR, action VARCHAR",
}

# A 2 x 2 grid of villages in two towns, 0.1 degree squares near lon 115, lat 27.
X0, Y0, STEP = 115.0, 27.0, 0.1
EXTRACTED_AT = datetime(2025, 6, 15, 8, 0, 0)


def village_box(i: int, j: int) -> shapely.Polygon:
    return box(X0 + i * STEP, Y0 + j * STEP, X0 + (i + 1) * STEP, Y0 + (j + 1) * STEP)


def standard_areas() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        ("C", "测试县", "county", None, box(X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP).wkb, 4000),
        ("T1", "东镇", "town", "C", box(X0, Y0, X0 + STEP, Y0 + 2 * STEP).wkb, 2000),
        ("T2", "西镇", "town", "C", box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + 2 * STEP).wkb, 2000),
    ]
    for i in range(2):
        for j in range(2):
            rows.append((f"V{i}{j}", f"村{i}{j}", "village", f"T{i + 1}",
                         village_box(i, j).wkb, 1000))
    return rows


def meta_rows(**extra: str) -> list[tuple[str, str]]:
    base = {"schema_version": "1", "region_name": "测试县", "coord_system": "wgs84",
            "extracted_at": EXTRACTED_AT.isoformat(), "classification": "内部资料"}
    base.update(extra)
    return list(base.items())


def incident(i: int, lon: float | None, lat: float | None, when: datetime | None = None,
             category: str = "criminal", area_id: str | None = None,
             status: str = "closed", address: str | None = None) -> tuple[Any, ...]:
    when = when or EXTRACTED_AT - timedelta(days=1 + i % 300, hours=i % 24)
    return (f"I{i:06d}", when, category, None, lon, lat, address or f"地址{i}", area_id,
            status, None)


def _fill(con: duckdb.DuckDBPyConnection, name: str, rows: Iterable[Sequence[Any]],
          columns: str) -> None:
    con.execute(f"CREATE TABLE {name} ({columns})")
    rows = list(rows)
    if not rows:
        return
    if len(rows) > 200:
        # Bulk path: DuckDB casts a whole Arrow table at once (executemany takes ~2 ms a
        # row). Arrow keeps NaN as NaN (pandas would turn it into NULL).
        import pyarrow as pa

        names = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
        if len(names) == len(rows[0]):
            try:
                frame = pa.table({n: pa.array([r[i] for r in rows])
                                  for i, n in enumerate(names)})
                con.register("frame", frame)
                con.execute(f"INSERT INTO {name} SELECT * FROM frame")
                return
            except (duckdb.Error, pa.ArrowException):
                pass  # deliberately odd values: row by row below
            finally:
                con.unregister("frame")
    marks = ", ".join("?" for _ in rows[0])
    con.executemany(f"INSERT INTO {name} VALUES ({marks})", [list(r) for r in rows])


def write_extract(path: Path, tables: dict[str, Iterable[Sequence[Any]]],
                  ddl: dict[str, str] | None = None) -> Path:
    """Write ``tables`` (rows as tuples in DDL column order) to a new DuckDB file."""
    ddl = {**DDL, **(ddl or {})}
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        for name, rows in tables.items():
            _fill(con, name, rows, ddl[name])
    finally:
        con.close()
    return path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(path)).encode())
            h.update(f.read_bytes())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- more builders
# Rows for the other tables, in DDL column order, and a whole small extract.

def resource(i: int, lon: float | None, lat: float | None, kind: str = "patrol_unit",
             name: str | None = None, area_id: str | None = None,
             available: bool | None = True) -> tuple[Any, ...]:
    return (f"R{i:04d}", kind, name or f"巡逻组{i}", lon, lat, area_id, 2 + i % 3,
            f"1380000{i:04d}", available, EXTRACTED_AT - timedelta(hours=i))


def hazard(i: int, lon: float | None, lat: float | None, category: str = "road",
           risk_level: str = "high", name: str | None = None,
           discovered_at: datetime | None = None) -> tuple[Any, ...]:
    when = discovered_at or EXTRACTED_AT - timedelta(days=30 + i)
    return (f"H{i:04d}", category, name or f"隐患{i}", lon, lat, None, risk_level, when,
            "交警大队", (when + timedelta(days=20)).date())


def rectification(i: int, hazard_id: str, action: str = "assigned",
                  when: datetime | None = None) -> tuple[Any, ...]:
    return (f"E{i:04d}", hazard_id, when or EXTRACTED_AT - timedelta(days=10, hours=i), action,
            "张三", f"整改记录{i}")


def dispute(i: int, lon: float | None = None, lat: float | None = None,
            status: str = "resolved", level: str = "village",
            area_id: str | None = None) -> tuple[Any, ...]:
    when = EXTRACTED_AT - timedelta(days=5 + i % 100)
    return (f"D{i:04d}", when, "neighbor", lon, lat, area_id, level, "people_mediator", status,
            when + timedelta(days=2) if status in ("resolved", "failed", "referred") else None,
            None)


def dispute_step(dispute_id: str, level: str = "village", action: str = "accepted",
                 when: datetime | None = None) -> tuple[Any, ...]:
    return (dispute_id, when or EXTRACTED_AT - timedelta(days=3), level, action)


def village_point(i: int, j: int, fx: float = 0.5, fy: float = 0.5) -> tuple[float, float]:
    """A point inside village V{i}{j} (fx, fy: fractions of the square)."""
    return X0 + (i + fx) * STEP, Y0 + (j + fy) * STEP


def full_tables(n_incidents: int = 40) -> dict[str, list[tuple[Any, ...]]]:
    """Every table, valid rows only, spread over the four villages and two months."""
    cats = ("criminal", "public_order", "dispute", "traffic", "fire", "assistance", "fraud")
    incidents = []
    for k in range(n_incidents):
        i, j = k % 2, (k // 2) % 2
        lon, lat = village_point(i, j, 0.1 + 0.8 * ((k * 7) % 10) / 10, 0.1 + 0.08 * (k % 10))
        when = datetime(2025, 4 + k % 2, 1 + k % 28, k % 24, 0, 0)
        incidents.append(incident(k, lon, lat, when, cats[k % len(cats)],
                                  status=("open", "dispatched", "closed")[k % 3]))
    resources = [resource(k, *village_point(k % 2, (k // 2) % 2, 0.3, 0.6),
                          kind=("police_station", "patrol_unit", "mediator")[k % 3])
                 for k in range(8)]
    hazards = [hazard(k, *village_point(k % 2, (k // 2) % 2, 0.7, 0.2),
                      risk_level=("major", "high", "low")[k % 3]) for k in range(6)]
    rects = [rectification(0, "H0000", "assigned"), rectification(1, "H0000", "rectified"),
             rectification(2, "H0001", "assigned"), rectification(3, "H0002", "reinspected")]
    disputes = [dispute(k, *village_point(k % 2, 1, 0.5, 0.5),
                        status=("resolved", "failed", "mediating", "referred")[k % 4])
                for k in range(6)]
    steps = [dispute_step("D0000"), dispute_step("D0001", "town", "escalated")]
    return {"meta": meta_rows(), "areas": standard_areas(), "incidents": incidents,
            "resources": resources, "hazards": hazards, "rectifications": rects,
            "disputes": disputes, "dispute_steps": steps}


def write_parquet_dir(path: Path, tables: dict[str, Iterable[Sequence[Any]]],
                      ddl: dict[str, str] | None = None, partition: bool = True) -> Path:
    """The same tables as a Parquet directory extract, as a Spark/Hive job writes it.

    ``meta`` goes to ``meta.parquet``; ``incidents`` is Hive-partitioned by the year
    and month of ``reported_at`` (``incidents/year=2025/month=05/part-0.parquet``;
    rows without a time go to ``year=0/month=00``) when ``partition`` is set and
    ``reported_at`` is a TIMESTAMP; every other table goes to ``<table>/part-0.parquet``.
    """
    ddl = {**DDL, **(ddl or {})}
    partition = partition and "reported_at TIMESTAMP" in ddl["incidents"]
    path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        for name, rows in tables.items():
            _fill(con, name, rows, ddl[name])
            if name == "meta":
                _copy_parquet(con, "SELECT * FROM meta", path / "meta.parquet")
            elif name == "incidents" and rows and partition:
                parts = con.execute(
                    "SELECT DISTINCT coalesce(year(reported_at), 0), "
                    "coalesce(month(reported_at), 0) FROM incidents ORDER BY 1, 2").fetchall()
                for y, m in parts:
                    target = path / name / f"year={y}" / f"month={m:02d}" / "part-0.parquet"
                    _copy_parquet(con, "SELECT * FROM incidents WHERE "
                                  f"coalesce(year(reported_at), 0) = {int(y)} AND "
                                  f"coalesce(month(reported_at), 0) = {int(m)}", target)
            else:
                _copy_parquet(con, f"SELECT * FROM {name}", path / name / "part-0.parquet")
    finally:
        con.close()
    return path


def _copy_parquet(con: duckdb.DuckDBPyConnection, select: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    quoted = "'" + str(target).replace("'", "''") + "'"
    con.execute(f"COPY ({select}) TO {quoted} (FORMAT parquet)").fetchall()


# --------------------------------------------------------------------------- area shapes
# Extracts with the levels and fields a real producer may lack (issue 14 item 1).
TOWN_COLS, TOWN_ROWS = 4, 3


def county_box() -> shapely.Polygon:
    return box(X0, Y0, X0 + TOWN_COLS * STEP, Y0 + TOWN_ROWS * STEP)


def town_box(i: int, j: int) -> shapely.Polygon:
    return box(X0 + i * STEP, Y0 + j * STEP, X0 + (i + 1) * STEP, Y0 + (j + 1) * STEP)


def _shape_incidents(n: int, hot: tuple[int, int] = (0, 0)) -> list[tuple[Any, ...]]:
    """``n`` incidents over the 4 x 3 towns, two thirds of them in town ``hot`` and its
    eastern neighbour, the rest spread evenly (deterministic)."""
    rows = []
    for k in range(n):
        if k % 3 != 2:
            i, j = hot[0] + (k // 3) % 2, hot[1]
        else:
            i, j = k % TOWN_COLS, (k // TOWN_COLS) % TOWN_ROWS
        fx, fy = 0.1 + 0.8 * ((k * 7) % 10) / 10, 0.1 + 0.08 * (k % 10)
        when = datetime(2025, 4 + k % 2, 1 + k % 28, k % 24, 0, 0)
        rows.append(incident(k, X0 + (i + fx) * STEP, Y0 + (j + fy) * STEP, when,
                             ("criminal", "public_order", "dispute", "traffic")[k % 4]))
    return rows


def _shape_tables(areas: list[tuple[Any, ...]], incidents: list[tuple[Any, ...]]
                  ) -> dict[str, list[tuple[Any, ...]]]:
    t = full_tables(0)
    return t | {"areas": areas, "incidents": incidents}


def county_only_tables(n_incidents: int = 120) -> dict[str, list[tuple[Any, ...]]]:
    """The county polygon is the only area (a county that has not drawn its towns)."""
    areas = [("C", "测试县", "county", None, county_box().wkb, 12000)]
    return _shape_tables(areas, _shape_incidents(n_incidents))


def town_areas() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [("C", "测试县", "county", None, county_box().wkb, 12000)]
    for i in range(TOWN_COLS):
        for j in range(TOWN_ROWS):
            rows.append((f"T{i}{j}", f"镇{i}{j}", "town", "C", town_box(i, j).wkb, 1000))
    return rows


def towns_only_tables(n_incidents: int = 240) -> dict[str, list[tuple[Any, ...]]]:
    """A county and 4 x 3 towns, no villages: area Gi* must run at town level."""
    return _shape_tables(town_areas(), _shape_incidents(n_incidents))


def no_coordinates_tables(n_incidents: int = 240) -> dict[str, list[tuple[Any, ...]]]:
    """Towns, but no incident has coordinates: each carries its town's area id."""
    rows = []
    for r in _shape_incidents(n_incidents):
        i = min(int((r[4] - X0) / STEP), TOWN_COLS - 1)
        j = min(int((r[5] - Y0) / STEP), TOWN_ROWS - 1)
        rows.append((*r[:4], None, None, r[6], f"T{i}{j}", *r[8:]))
    return _shape_tables(town_areas(), rows)


def no_addresses_tables(n_incidents: int = 240) -> dict[str, list[tuple[Any, ...]]]:
    """Towns and located incidents, but no addresses at all."""
    rows = [(*r[:6], None, *r[7:]) for r in _shape_incidents(n_incidents)]
    return _shape_tables(town_areas(), rows)


SHAPES = {"county_only": county_only_tables, "towns_only": towns_only_tables,
          "no_coordinates": no_coordinates_tables, "no_addresses": no_addresses_tables}
