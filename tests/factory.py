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


def write_extract(path: Path, tables: dict[str, Iterable[Sequence[Any]]],
                  ddl: dict[str, str] | None = None) -> Path:
    """Write ``tables`` (rows as tuples in DDL column order) to a new DuckDB file."""
    ddl = {**DDL, **(ddl or {})}
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        for name, rows in tables.items():
            con.execute(f"CREATE TABLE {name} ({ddl[name]})")
            rows = list(rows)
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                con.executemany(f"INSERT INTO {name} VALUES ({marks})", [list(r) for r in rows])
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
