"""Small schema version 2 extracts with the aggregate tables, for tests.

The aggregates are computed here with pandas, following docs/extract-schema-v2.md, and
independently of the cockpit and of pipeline/: an incident counts in its area and every
enclosing one, level ``all`` counts every incident, ``unlisted`` an area id the areas
table lacks; tiles are XYZ Web-Mercator tiles of the located incidents.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import factory
import numpy as np
import pandas as pd

ZOOMS = (10, 13, 16)
COLUMNS = ("incident_id", "reported_at", "category", "subcategory", "lon", "lat", "address",
           "area_id", "status", "closed_at")
CATS = ("criminal", "public_order", "dispute", "traffic", "fire", "assistance", "fraud")


def province_incidents(n: int = 3000, seed: int = 7) -> list[tuple[Any, ...]]:
    """Incidents over 14 months in the standard areas: most in a village (area_id the
    village, as a build job assigns it), some without a point counted against a town,
    some against an area id the areas table lacks, some with neither."""
    rng = np.random.default_rng(seed)
    start = datetime(2024, 4, 1)
    out = []
    for k in range(n):
        when = start + timedelta(minutes=int(rng.integers(0, 440 * 24 * 60)))
        cat = CATS[int(rng.integers(0, len(CATS)))]
        status = ("open", "dispatched", "closed")[int(rng.integers(0, 3))]
        kind = k % 20
        lon = lat = None
        if kind < 16:
            i, j = int(rng.integers(0, 2)), int(rng.integers(0, 2))
            if k % 3 == 0:  # a hot corner
                i, j = 0, 0
            fx, fy = rng.uniform(0.05, 0.95, 2)
            lon, lat = factory.village_point(i, j, float(fx), float(fy))
            area = f"V{i}{j}"
        elif kind < 18:
            area = "T1" if kind == 16 else "T2"
        elif kind == 18:
            area = "X9"
        else:
            area = None
        out.append((f"I{k:07d}", when, cat, None, lon, lat, f"地址{k % 50}", area, status,
                    None))
    return out


def _ancestors() -> dict[str, list[tuple[str, str]]]:
    rows = factory.standard_areas()
    parent = {r[0]: r[3] for r in rows}
    level = {r[0]: r[2] for r in rows}
    out = {}
    for a in parent:
        chain, cur = [], a
        while cur is not None:
            chain.append((level[cur], cur))
            cur = parent[cur]
        out[a] = chain
    return out


def tile(lon: np.ndarray, lat: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    r = 6378137.0
    x = np.radians(lon) * r
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * r
    half = math.pi * r
    size = 2 * half / 2 ** zoom
    return (np.floor((x + half) / size).astype(np.int64),
            np.floor((half - y) / size).astype(np.int64))


def frame(incidents: list[tuple[Any, ...]]) -> pd.DataFrame:
    df = pd.DataFrame(incidents, columns=list(COLUMNS))
    df["reported_at"] = pd.to_datetime(df["reported_at"])
    df["lon"] = df["lon"].astype(float)
    df["lat"] = df["lat"].astype(float)
    return df


def by_area(df: pd.DataFrame) -> pd.DataFrame:
    anc = _ancestors()
    base = df.assign(day=df["reported_at"].dt.date, hour=df["reported_at"].dt.hour)
    rows = []
    for r in base.itertuples():
        rows.append((r.day, r.hour, r.category, "all", None))
        if r.area_id in anc:
            rows += [(r.day, r.hour, r.category, lv, a) for lv, a in anc[r.area_id]]
        elif r.area_id is not None:
            rows.append((r.day, r.hour, r.category, "unlisted", r.area_id))
    out = pd.DataFrame(rows, columns=["day", "hour", "category", "level", "area_id"])
    out = (out.groupby(["day", "hour", "category", "level", "area_id"], dropna=False)
           .size().reset_index(name="incidents"))
    out["hour"] = out["hour"].astype("int32")
    out["incidents"] = out["incidents"].astype("int64")
    return out


def by_cell(df: pd.DataFrame) -> pd.DataFrame:
    pts = df[df["lon"].notna()]
    parts = []
    for z in ZOOMS:
        x, y = tile(pts["lon"].to_numpy(), pts["lat"].to_numpy(), z)
        parts.append(pd.DataFrame({"day": pts["reported_at"].dt.date,
                                   "hour": pts["reported_at"].dt.hour.astype("int32"),
                                   "category": pts["category"], "zoom": np.int32(z),
                                   "cell_x": x.astype("int32"), "cell_y": y.astype("int32")}))
    out = pd.concat(parts)
    return (out.groupby(["day", "hour", "category", "zoom", "cell_x", "cell_y"])
            .size().reset_index(name="incidents").astype({"incidents": "int64"}))


def tables(incidents: list[tuple[Any, ...]], **meta: str
           ) -> dict[str, list[tuple[Any, ...]]]:
    t = factory.full_tables(0)
    t["incidents"] = incidents
    t["meta"] = factory.meta_rows(**meta)
    return t


def write_v2(path: Path, incidents: list[tuple[Any, ...]], **meta: str) -> Path:
    """A version 2 Parquet directory extract of ``incidents`` with both aggregates."""
    t = tables(incidents, schema_version="2",
               aggregates="incidents_by_area,incidents_by_cell",
               grid_zooms=",".join(str(z) for z in ZOOMS), **meta)
    factory.write_parquet_dir(path, t)
    df = frame(incidents)
    for name, agg in (("incidents_by_area", by_area(df)), ("incidents_by_cell", by_cell(df))):
        (path / name).mkdir(parents=True, exist_ok=True)
        agg.to_parquet(path / name / "part-00000.parquet", index=False)
    return path


def write_v1(path: Path, incidents: list[tuple[Any, ...]], **meta: str) -> Path:
    """The same tables as a version 1 DuckDB extract (the row path)."""
    return factory.write_extract(path, tables(incidents, **meta))
