"""An independent computation of ``report --json`` for clean extracts.

Reads the raw extract with plain DuckDB into pandas, assigns areas with a
geopandas spatial join and derives hazard states with a Python loop: none of
the cockpit's own modules are used. Only valid for extracts without broken
rows (the load-report rules are tested elsewhere).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import pandas as pd
import shapely

INCIDENT_CATS = ["criminal", "public_order", "dispute", "traffic", "fire", "assistance",
                 "fraud", "other"]
LEVELS = ["county", "town", "village", "grid"]


def _table(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame | None:
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
             .fetchall()}
    return con.execute(f"SELECT * FROM {name}").df() if name in names else None


def expected_report(path: Path, start: date | None = None, end: date | None = None,
                    area: str | None = None) -> dict[str, Any]:
    raw = load_raw(path)
    as_of = raw["as_of"]
    stop = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    names = raw["names"]

    def under(area_id: Any) -> bool:
        return is_under(raw["parent"], area_id, area)

    def in_window(ts: pd.Series) -> pd.Series:
        m = ts < stop
        if start:
            m &= ts >= datetime.combine(start, datetime.min.time())
        if end:
            m &= ts < datetime.combine(end + timedelta(days=1), datetime.min.time())
        return m

    inc = raw["incidents"]
    inc = inc.assign(cat=inc["category"].where(
        inc["category"].isin(INCIDENT_CATS), "other"))
    sel = inc[in_window(inc["reported_at"])]
    if area:
        sel = sel[sel["area"].map(under)]
    counts = sel["area"].value_counts()
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    first = as_of.replace(day=1) - timedelta(days=1)
    yoy_inc = inc[inc["reported_at"] < stop]
    if area:
        yoy_inc = yoy_inc[yoy_inc["area"].map(under)]

    def month_count(y: int, m: int) -> int:
        a = datetime(y, m, 1)
        b = datetime(y + (m == 12), m % 12 + 1, 1)
        return int(((yoy_inc["reported_at"] >= a) & (yoy_inc["reported_at"] < b)).sum())

    cur, prev = month_count(first.year, first.month), month_count(first.year - 1, first.month)

    res = raw["resources"]
    if area:
        res = res[res["area"].map(under)]

    hz = raw["hazards"]
    hz = hz[hz["discovered_at"] < stop]
    if area:
        hz = hz[hz["area"].map(under)]
    ev = raw["rectifications"].reset_index()
    ev = ev[ev["event_at"] < stop].sort_values(["event_at", "index"])
    last = ev.groupby("hazard_id")["action"].last().to_dict()
    to_state = {"assigned": "rectifying", "reopened": "rectifying", "rectified": "rectified",
                "reinspected": "verified"}
    hz = hz.assign(state=hz["hazard_id"].map(lambda h: to_state.get(last.get(h), "open")))
    by_state = {s: int((hz["state"] == s).sum()) for s in
                ("open", "rectifying", "rectified", "verified")}
    done = hz["state"].isin(["rectified", "verified"])
    overdue = int((~done & (pd.to_datetime(hz["deadline"]) < pd.Timestamp(as_of))).sum())
    major = hz["risk_level"] == "major"

    ds = raw["disputes"]
    ds = ds[in_window(ds["received_at"])]
    if area:
        ds = ds[ds["area"].map(under)]
    st = ds["status"].value_counts()
    fin = int(st.get("resolved", 0) + st.get("failed", 0) + st.get("referred", 0))

    def rate(a: int, b: int) -> float | None:
        return a / b if b else None

    return {
        "as_of": as_of.isoformat(),
        "incidents": {
            "total": len(sel), "unlocated": int(sel["area"].isna().sum()),
            "by_category": {c: int((sel["cat"] == c).sum()) for c in INCIDENT_CATS},
            "by_area_top": [{"area_id": a, "name": names.get(a, a), "count": int(n)}
                            for a, n in top],
            "yoy": {"month": f"{first.year:04d}-{first.month:02d}", "current": cur,
                    "previous": prev,
                    "change_pct": (cur - prev) / prev * 100 if prev else None},
        },
        "resources": {"total": len(res), "by_kind": res["kind"].value_counts().to_dict()},
        "hazards": {
            "total": len(hz), "by_state": by_state, "overdue": overdue,
            "rectification_rate": rate(int(done.sum()), len(hz)),
            "major_rectification_rate": rate(int((done & major).sum()), int(major.sum())),
        },
        "disputes": {
            "total": len(ds), "by_status": {k: int(v) for k, v in st.items()},
            "by_level": {k: int(v) for k, v in ds["level"].value_counts().items()},
            "success_rate": rate(int(st.get("resolved", 0)), fin),
        },
    }


# --------------------------------------------------------------------------- raw tables
def load_raw(path: Path) -> dict[str, Any]:
    """The raw extract as pandas frames, points placed in the finest areas by sjoin.

    Returns ``{"meta", "as_of", "extracted_at", "areas", "parent", "names", "town_of",
    <table>: DataFrame}``; point tables get an ``area`` column (finest area id or the
    producer's ``area_id``) and a ``town`` column (its town ancestor or None).
    """
    con = duckdb.connect(str(path), read_only=True)
    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        tables = {t: _table(con, t) for t in ("areas", "incidents", "resources", "hazards",
                                              "rectifications", "disputes", "dispute_steps")}
    finally:
        con.close()
    areas = tables["areas"]
    areas = areas.assign(geometry=shapely.from_wkb(areas["geom_wkb"].map(bytes)))
    parent = dict(zip(areas["area_id"], areas["parent_id"], strict=True))
    level = dict(zip(areas["area_id"], areas["level"], strict=True))
    finest = max(areas["level"], key=LEVELS.index)
    polys = gpd.GeoDataFrame(areas[areas["level"] == finest][["area_id", "geometry"]],
                             geometry="geometry", crs="EPSG:4326")

    def town_of(a: Any) -> Any:
        for _ in range(10):
            if not isinstance(a, str):
                return None
            if level.get(a) == "town":
                return a
            a = parent.get(a)
        return None

    def place(df: pd.DataFrame) -> pd.Series:
        pts = gpd.GeoDataFrame(df[["lon", "lat"]].copy(), crs="EPSG:4326",
                               geometry=gpd.points_from_xy(df["lon"], df["lat"]))
        hit = gpd.sjoin(pts[df["lon"].notna()], polys, predicate="covered_by", how="left")
        hit = hit[~hit.index.duplicated(keep="first")]["area_id"]
        return hit.reindex(df.index).fillna(df["area_id"]).where(lambda s: s.notna(), None)

    extracted_at = datetime.fromisoformat(meta["extracted_at"])
    out: dict[str, Any] = {"meta": meta, "extracted_at": extracted_at,
                           "as_of": extracted_at.date(), "areas": areas, "parent": parent,
                           "names": dict(zip(areas["area_id"], areas["name"], strict=True)),
                           "town_of": town_of}
    for name, df in tables.items():
        if df is not None and "lon" in df.columns and name != "areas":
            df = df.assign(area=place(df))
            df = df.assign(town=df["area"].map(town_of))
        out[name] = df
    return out


def is_under(parent: dict[str, Any], area_id: Any, root: str) -> bool:
    for _ in range(10):
        if not isinstance(area_id, str):
            return False
        if area_id == root:
            return True
        area_id = parent.get(area_id)
    return False
