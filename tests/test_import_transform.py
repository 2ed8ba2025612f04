"""The transform step (what Spark will run per batch), the mapping file, places by name."""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pyproj import Transformer

from data.importer.errors import ImportFailure
from data.importer.mapping import (
    ColumnSource,
    FileMapping,
    ImportMapping,
    load_mapping,
    parse_mapping,
    to_toml,
)
from data.importer.place import build_lookup, find_in_addresses, resolve_column
from data.importer.source import with_provenance
from data.importer.transform import apply, apply_with_stats, build_plan, content_ids


def batch(columns: dict[str, list]) -> pa.RecordBatch:
    t = pa.table({k: pa.array([None if v is None else str(v) for v in vals], pa.string())
                  for k, vals in columns.items()})
    return with_provenance(t, "f.csv").to_batches()[0]


def plan_for(columns: dict[str, ColumnSource], headers: list[str], **kw):
    e = FileMapping(files="*", columns=columns, **{k: v for k, v in kw.items()
                                                    if k in FileMapping.__dataclass_fields__})
    m = ImportMapping(**{k: v for k, v in kw.items() if k in ImportMapping.__dataclass_fields__})
    return build_plan("incidents", "f.csv", e, m, headers, kw.get("area"))


def test_content_ids_are_stable_and_shared_by_identical_rows() -> None:
    b = batch({"a": ["x", "y", "x", None], "b": ["1", "2", "1", "3"]})
    ids = content_ids(b, ("a", "b")).to_pylist()
    assert ids[0] == ids[2] and len(set(ids)) == 3
    # stable across versions and machines: BLAKE2b of the cells joined by \x1f
    assert ids[1] == hashlib.blake2b(b"y\x1f2", digest_size=8).hexdigest()
    assert ids[3] == hashlib.blake2b(b"\x00\x1f3", digest_size=8).hexdigest()


def test_zero_points_become_unlocated_and_crs_is_reprojected() -> None:
    to_utm = Transformer.from_crs(4326, 26910, always_xy=True)
    x, y = to_utm.transform(-123.1, 49.28)
    b = batch({"T": ["2020-01-01"] * 3, "X": [x, "0", "0.0"], "Y": [y, "0", "0"]})
    plan = plan_for({"reported_at": ColumnSource("T"), "lon": ColumnSource("X"),
                     "lat": ColumnSource("Y")}, ["T", "X", "Y"], crs="EPSG:26910")
    out, stats = apply_with_stats(b, plan)
    lon, lat = out.column("lon").to_pylist(), out.column("lat").to_pylist()
    assert lon[0] == pytest.approx(-123.1, abs=1e-9) and lat[0] == pytest.approx(49.28, abs=1e-9)
    assert lon[1:] == [None, None] and lat[1:] == [None, None]
    assert stats.zero_points == 2 and stats.unlocated == 2


def test_gcj02_converted_to_wgs84() -> None:
    from data.coords import gcj02_to_wgs84

    b = batch({"T": ["2020-01-01"], "lon": ["114.9"], "lat": ["27.1"]})
    plan = plan_for({"reported_at": ColumnSource("T"), "lon": ColumnSource("lon"),
                     "lat": ColumnSource("lat")}, ["T", "lon", "lat"], coord_system="gcj02")
    out = apply(b, plan)
    want = gcj02_to_wgs84(114.9, 27.1)
    assert out.column("lon")[0].as_py() == pytest.approx(float(want[0]))
    assert out.column("lat")[0].as_py() == pytest.approx(float(want[1]))


def test_apply_is_batch_wise_and_the_plan_pickles() -> None:
    rng = np.random.default_rng(1)
    n = 300
    cats = ["刑事", "诈骗", "奇怪", "", "治安案件"]
    b = batch({"编号": [f"A{i}" for i in range(n)],
               "时间": [f"2024/5/{1 + i % 28} {i % 24}:05" for i in range(n)],
               "类别": [cats[i] for i in rng.integers(0, 5, n)],
               "地址": [f"东街{i}号" for i in range(n)],
               "社区": [["城东社区", "西门村", "无名村", None][i % 4] for i in range(n)]})
    lookup = build_lookup(["V1", "V2"], ["城东社区", "西门村"], ["village", "village"])
    plan = plan_for({"incident_id": ColumnSource("编号"), "reported_at": ColumnSource("时间"),
                     "category": ColumnSource("类别"), "address": ColumnSource("地址"),
                     "area_id": ColumnSource("社区")}, list(b.schema.names), area=lookup)
    plan = pickle.loads(pickle.dumps(plan))
    plan = type(plan)(**{**plan.__dict__, "rules": tuple(
        type(r)(**{**r.__dict__, "value_map": (("刑事", "criminal"), ("诈骗", "fraud"),
                                               ("治安案件", "public_order"))})
        if r.target == "category" else r for r in plan.rules)})
    whole = pa.Table.from_batches([apply(b, plan)])
    parts = pa.Table.from_batches([apply(b.slice(i, 47), plan) for i in range(0, n, 47)])
    assert whole.equals(parts)
    assert set(whole.column("category").to_pylist()) == {"criminal", "fraud", "public_order",
                                                          "other", None}
    areas = whole.column("area_id").to_pylist()
    assert areas[:4] == ["V1", "V2", "无名村", None]  # an unknown name still counts as itself
    assert whole.column("_source_row").to_pylist() == list(range(1, n + 1))
    assert whole.column("reported_at")[5].as_py() == dt.datetime(2024, 5, 6, 5, 5)


def test_place_by_name_variants_and_the_name_map() -> None:
    lookup = build_lookup(
        ["T1", "V1", "V2", "V3", "D1"],
        ["城关镇", "城东社区", "Arbutus-Ridge", "台北市大安區", "Downtown"],
        ["town", "village", "village", "village", "village"],
        renames={"Central Business District": "Downtown"})
    ids, _ = resolve_column(pa.array([
        "城关镇", "城东", "城东社区居委会", " 城东社区 ", "Arbutus Ridge", "臺北市大安區",
        "Central Business District", "T1", "别处", None]), lookup)
    assert ids.to_pylist() == ["T1", "V1", "V1", "V1", "V2", "V3", "D1", "T1", None, None]


def test_a_name_two_areas_share_places_nothing() -> None:
    lookup = build_lookup(["A", "B"], ["新村", "新村"], ["village", "village"])
    ids, matched = resolve_column(pa.array(["新村", "A"]), lookup)
    assert ids.to_pylist() == [None, "A"] and matched.tolist() == [False, True]


def test_areas_found_in_addresses_finest_first() -> None:
    lookup = build_lookup(["T", "V"], ["台北市大安區", "住安里"], ["town", "village"])
    got = find_in_addresses(pa.array(["臺北市大安區住安里四維路124巷", "臺北市大安區敦化南路",
                                      "新北市永和區文化路", None]), lookup)
    assert got.to_pylist() == ["V", "T", None, None]


def test_mapping_toml_round_trip(tmp_path: Path) -> None:
    m = ImportMapping(region="示范县", coord_system="gcj02", crs="EPSG:4547",
                      timezone="Asia/Shanghai", area_names={"城东": "城东社区", 'a"b': "x"})
    m.tables["incidents"] = [FileMapping(
        files="警情*.csv", encoding="gb18030", header_row=2, id="content",
        columns={"reported_at": ColumnSource(parts={"date": "日期", "time": "时段"}),
                 "category": ColumnSource("类别"), "status": ColumnSource(value="closed"),
                 "address": ColumnSource(join=["门牌", "街路巷"])},
        values={"category": {"刑事": "criminal", "奇 怪": "other"}},
        formats={"reported_at": "roc"}, placeholders=["X NK_LOC ST"], area_from_address=True)]
    m.tables["areas"] = [FileMapping(files="村界.shp", columns={
        "geometry": ColumnSource("_geometry"), "area_id": ColumnSource("编码"),
        "name": ColumnSource("名称"), "level": ColumnSource(value="village")})]
    path = tmp_path / "m.toml"
    path.write_text(to_toml(m), encoding="utf-8")
    back = load_mapping(path)
    for key in ("region", "coord_system", "crs", "timezone", "area_names"):
        assert getattr(back, key) == getattr(m, key)
    for table, entries in m.tables.items():
        got = back.tables[table][0]
        want = entries[0]
        for key in ("files", "columns", "values", "formats", "encoding", "header_row", "id",
                    "placeholders", "area_from_address"):
            assert getattr(got, key) == getattr(want, key), (table, key)


@pytest.mark.parametrize(("text", "match"), [
    ("region = 3", "region"),
    ("[[incidents]]\ncolumns = {}", "'files'"),
    ("[[incidents]]\nfiles = '*'\nencoding = 'klingon'", "unknown encoding"),
    ("[[incidents]]\nfiles = '*'\nheader_row = 0", "header_row"),
    ("[[incidents]]\nfiles = '*'\n[incidents.values]\ncategory = { '刑事' = 'crime' }", "codes"),
    ("[[incidents]]\nfiles = '*'\n[incidents.columns]\nreported_at = { day = 1 }", "day"),
    ("[[incidents]]\nfiles = '*'\n[incidents.columns]\nlon = ['a', 'b']", "text"),
    ("coord_system = 'utm'", "coord_system"),
    ("[[cases]]\nfiles = '*'", "unknown key"),
])
def test_broken_mapping_is_one_clear_line(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailure, match=match) as info:
        load_mapping(path)
    assert "m.toml" in str(info.value) and "\n" not in str(info.value)


def test_entry_chosen_by_name_then_by_columns() -> None:
    m = parse_mapping({"incidents": [
        {"files": "警情*.csv", "columns": {"reported_at": "报警时间"}},
        {"files": "警情*.csv", "columns": {"reported_at": "接警时间"}}]})
    assert m.entry_for("incidents", "警情06.csv", ["接警时间"]).columns[
        "reported_at"].column == "接警时间"
    assert m.entry_for("incidents", "其他.csv", ["报警时间"]) is None
    with pytest.raises(ImportFailure, match="报警时间"):
        m.entry_for("incidents", "警情07.csv", ["时间"])
