"""Query API against an independent computation (pandas, shapely, pyproj).

A random extract is written with plain DuckDB; the expected figures are worked
out from the same Python rows with other libraries, never with the cockpit's
own modules.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import shapely
from factory import EXTRACTED_AT, meta_rows, standard_areas, write_extract
from pyproj import Transformer

from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query, Viewport

CATS = ["criminal", "public_order", "dispute", "traffic", "fire", "assistance", "fraud"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rng = np.random.default_rng(7)
    n = 4000
    areas = standard_areas()
    rows = []
    for i in range(n):
        # 10% unlocated, a third of those with a town or village id
        if rng.random() < 0.1:
            lon = lat = None
            area_id = rng.choice(["T1", "V11", None, None])
        else:
            lon = float(115.0 + rng.random() * 0.2)
            lat = float(27.0 + rng.random() * 0.2)
            area_id = None
        when = EXTRACTED_AT - timedelta(minutes=int(rng.integers(0, 2 * 365 * 24 * 60)))
        cat = rng.choice([*CATS, "zombie"], p=[0.14] * 7 + [0.02])
        rows.append((f"I{i:05d}", when, str(cat), None, lon, lat, None, area_id,
                     "closed", None))
    cache = tmp_path_factory.mktemp("cache")
    path = tmp_path_factory.mktemp("x") / "q.duckdb"
    write_extract(path, {"meta": meta_rows(), "areas": areas, "incidents": rows})
    df = pd.DataFrame(rows, columns=["id", "ts", "cat", "sub", "lon", "lat", "addr", "area_id",
                                     "status", "closed"])
    df["cat"] = df["cat"].where(df["cat"].isin(CATS), "other")
    villages = {a[0]: shapely.from_wkb(a[4]) for a in areas if a[2] == "village"}
    parent = {a[0]: a[3] for a in areas}

    def locate(r: pd.Series) -> str | None:
        if pd.notna(r.lon):
            for vid, poly in sorted(villages.items()):
                if poly.covers(shapely.Point(r.lon, r.lat)):
                    return vid
        return r.area_id

    df["area"] = df.apply(locate, axis=1)
    df["town"] = df["area"].map(lambda a: a if a in ("T1", "T2") else parent.get(a))
    return {"path": path, "df": df, "cache": cache}


@pytest.fixture()
def query(world: dict, monkeypatch: pytest.MonkeyPatch) -> Query:
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(world["cache"]))
    return Query(open_extract(world["path"]))


def _window(df: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    m = df["ts"] < datetime.combine(EXTRACTED_AT.date() + timedelta(days=1), datetime.min.time())
    if start:
        m &= df["ts"] >= datetime.combine(start, datetime.min.time())
    if end:
        m &= df["ts"] < datetime.combine(end + timedelta(days=1), datetime.min.time())
    return df[m]


def test_total_and_unlocated(query: Query, world: dict) -> None:
    df = world["df"]
    assert query.incident_count(FilterState()) == len(df)
    assert query.unlocated_count(FilterState()) == int(df["area"].isna().sum())


@pytest.mark.parametrize("start,end", [(None, None), (date(2024, 7, 1), date(2024, 12, 31)),
                                       (date(2025, 6, 15), date(2025, 6, 15))])
def test_by_category_in_window(query: Query, world: dict, start, end) -> None:
    got = query.incidents_by_category(FilterState().with_window(start, end))
    want = _window(world["df"], start, end)["cat"].value_counts().to_dict()
    assert {k: v for k, v in got.items() if v} == want


def test_area_filter_includes_children_and_area_ids(query: Query, world: dict) -> None:
    df = world["df"]
    for area in ("T1", "T2", "V00", "V11", "C"):
        state = FilterState().with_areas([area])
        if area == "C":
            want = int(df["area"].notna().sum())
        elif area.startswith("T"):
            want = int((df["town"] == area).sum())
        else:
            want = int((df["area"] == area).sum())
        assert query.incident_count(state) == want, area


def test_category_and_area_combined(query: Query, world: dict) -> None:
    df = world["df"]
    state = FilterState().with_areas(["T2"]).with_set("incident_categories", ["fraud", "fire"])
    want = int(((df["town"] == "T2") & df["cat"].isin(["fraud", "fire"])).sum())
    assert query.incident_count(state) == want


def test_by_area_rolls_up_to_towns(query: Query, world: dict) -> None:
    idx, n = query.incidents_by_area(FilterState(), level="town")
    ids = [query.extract.areas.ids[i] for i in idx]
    want = world["df"]["town"].value_counts().to_dict()
    assert dict(zip(ids, n.tolist(), strict=True)) == want


def test_by_day_and_week(query: Query, world: dict) -> None:
    start, end = date(2025, 3, 1), date(2025, 4, 30)
    days, counts = query.incidents_by_day(FilterState().with_window(start, end))
    sub = _window(world["df"], start, end)
    want = sub.groupby(sub["ts"].dt.date).size()
    assert len(days) == (end - start).days + 1
    got = {d.astype(object): int(c) for d, c in zip(days, counts, strict=True) if c}
    assert got == {k: int(v) for k, v in want.items()}
    weeks, wc = query.incidents_by_week(FilterState().with_window(start, end))
    assert wc.sum() == len(sub)
    assert all(pd.Timestamp(w).day_of_week == 0 for w in weeks)
    wk = sub["ts"].dt.to_period("W-SUN").dt.start_time.dt.date.value_counts()
    assert {pd.Timestamp(w).date(): int(c) for w, c in zip(weeks, wc, strict=True)} == \
        {k: int(v) for k, v in wk.items()}


def test_by_hour(query: Query, world: dict) -> None:
    got = query.incidents_by_hour(FilterState())
    want = world["df"]["ts"].dt.hour.value_counts()
    assert got.tolist() == [int(want.get(h, 0)) for h in range(24)]


def test_year_over_year(query: Query, world: dict) -> None:
    df = world["df"]
    yoy = query.year_over_year(FilterState().with_window(date(2025, 1, 1), date(2025, 1, 2)))
    assert yoy.month == "2025-05"  # as of 2025-06-15: the last full month is May
    cur = int(((df["ts"] >= "2025-05-01") & (df["ts"] < "2025-06-01")).sum())
    prev = int(((df["ts"] >= "2024-05-01") & (df["ts"] < "2024-06-01")).sum())
    assert (yoy.current, yoy.previous) == (cur, prev)
    assert yoy.change_pct == pytest.approx((cur - prev) / prev * 100)


def test_density_grid_matches_histogram(query: Query, world: dict) -> None:
    df = world["df"].dropna(subset=["lon"])
    tr = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x, y = tr.transform(df["lon"].to_numpy(), df["lat"].to_numpy())
    x0, y0 = tr.transform(115.02, 27.03)
    x1, y1 = tr.transform(115.17, 27.15)
    w, h = 64, 48
    grid = query.density_grid(FilterState(), Viewport(x0, y0, x1, y1, w, h))
    want, _, _ = np.histogram2d(y, x, bins=[h, w], range=[[y0, y1], [x0, x1]])
    # float32 storage may move a point across a pixel edge only within a metre or so
    px, py = (x1 - x0) / w, (y1 - y0) / h
    near = (np.abs(((x - x0) / px) - np.round((x - x0) / px)) * px < 3) | \
           (np.abs(((y - y0) / py) - np.round((y - y0) / py)) * py < 3)
    assert grid.shape == (h, w)
    assert abs(int(grid.sum()) - int(want.sum())) <= int(near.sum())
    assert np.abs(grid - want).sum() <= 2 * int(near.sum())
    assert grid.sum() > 1000


def test_as_of_cuts_later_incidents(query: Query, world: dict) -> None:
    df = world["df"]
    as_of = date(2025, 1, 31)
    got = query.incident_count(FilterState(as_of=as_of))
    assert got == int((df["ts"] < "2025-02-01").sum())


def test_no_filter_value_is_pasted_into_sql(query: Query) -> None:
    evil = "x'); DROP TABLE incidents; --"
    state = FilterState().with_set("incident_categories", [evil]).with_areas(["T1"])
    p = query.where(state, "incidents")
    assert evil not in p.sql and "T1" not in p.sql
    assert query.incident_count(state) == 0
    assert query.incident_count(FilterState()) > 0


def test_extract_memo_computes_each_key_once_across_threads(tmp_path) -> None:
    """Workers asking for the same derived value at once share one computation."""
    import threading
    import time

    from data.extract import open_extract
    from tests.factory import full_tables, write_extract

    path = tmp_path / "m.duckdb"
    write_extract(path, full_tables(20))
    ex = open_extract(path)
    calls: list[str] = []

    def slow(key: str):
        def compute() -> str:
            calls.append(key)
            time.sleep(0.05)
            return key.upper()
        return compute

    got: list[str] = []
    threads = [threading.Thread(target=lambda k=k: got.append(ex.memo(k, slow(k))))
               for k in ("a", "a", "a", "b", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ex.close()
    assert sorted(calls) == ["a", "b"]
    assert sorted(got) == ["A", "A", "A", "B", "B"]
