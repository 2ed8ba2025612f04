"""Proposing a mapping: header and value synonyms, checked against our own catalogues
(layers/i18n.py, exporters/tables.py) and the words of the issue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pyproj import Transformer

from data.importer.propose import (
    _targets,
    header_score,
    level_from_names,
    propose,
    propose_values,
)
from data.importer.source import SourceTable, with_provenance
from data.importer.synonyms import CODE_GROUPS
from layers.i18n import CODES, TEXT


def best(table: str, header: str) -> str | None:
    scores = {t: header_score(sp, header) for t, sp in _targets(table).items()}
    t, s = max(scores.items(), key=lambda kv: kv[1])
    return t if s >= 0.3 else None


def source(columns: dict[str, list]) -> SourceTable:
    table = pa.table({k: pa.array([None if v is None else str(v) for v in vals], pa.string())
                      for k, vals in columns.items()})
    return SourceTable(Path("x.csv"), "x.csv", with_provenance(table, "x.csv"), "csv")


# i18n groups that are import code columns → the value group the importer uses
I18N_GROUPS = {g: g for _t, g in CODE_GROUPS.items()} | {"incident_category": "incident_category"}


@pytest.mark.parametrize("key", [k for k in CODES if k[0] in I18N_GROUPS])
def test_every_i18n_label_maps_to_its_code(key: tuple[str, str]) -> None:
    group, code = key
    for label in CODES[key]:
        assert propose_values(group, [label], "other") == {label: code}, (label, group)


ISSUE_VALUES = {
    "incident_category": {"刑事": "criminal", "刑事案件": "criminal", "治安": "public_order",
                          "纠纷": "dispute", "交通": "traffic", "交通事故": "traffic",
                          "火灾": "fire", "消防": "fire", "求助": "assistance", "诈骗": "fraud",
                          "电信诈骗": "fraud"},
    "risk_level": {"重大": "major", "较大": "high", "一般": "medium", "低": "low"},
    "rectification_action": {"交办": "assigned", "已整改": "rectified",
                             "回头看通过": "reinspected", "回头看未通过": "reopened"},
    "dispute_level": {"村级": "village", "乡镇级": "town", "县级": "county"},
    "dispute_status": {"调解成功": "resolved", "调解失败": "failed", "调解中": "mediating",
                       "待处置": None},
    "resource_kind": {"派出所": "police_station", "巡逻组": "patrol_unit", "民警": "officer",
                      "辅警": "auxiliary", "群防群治": "mass_prevention",
                      "社会组织": "social_org", "调解员": "mediator"},
    "area_level": {"街道": "town", "乡": "town", "镇": "town", "村": "village",
                   "社区": "village", "居委会": "village", "网格": "grid", "县": "county",
                   "区": "county"},
    "dispute_category": {"婚姻家庭": "family", "邻里纠纷": "neighbor", "山林土地": "land",
                         "劳资纠纷": "labor", "借贷": "debt"},
    "mediator_kind": {"人民调解员": "people_mediator", "乡贤": "village_sage",
                      "法律明白人": "legal_aide", "网格员": "grid_worker", "律师": "lawyer"},
    "incident_status": {"待处置": "open", "处置中": "dispatched", "已派警": "dispatched",
                        "已办结": "closed", "已结案": "closed"},
}


@pytest.mark.parametrize("group", ISSUE_VALUES)
def test_values_named_in_the_issue(group: str) -> None:
    want = {k: v for k, v in ISSUE_VALUES[group].items() if v is not None}
    got = propose_values(group, ISSUE_VALUES[group], "other")
    assert {k: got.get(k) for k in want} == want


def test_keywords_for_detailed_values() -> None:
    got = propose_values("incident_category", ["冒充客服诈骗", "入室盗窃", "醉酒滋事", "邻里纠纷",
                                               "交通事故（伤人）", "走失人员", "奇怪的事"], "other")
    assert got == {"冒充客服诈骗": "fraud", "入室盗窃": "criminal", "醉酒滋事": "public_order",
                   "邻里纠纷": "dispute", "交通事故（伤人）": "traffic", "走失人员": "assistance"}


ISSUE_HEADERS = [
    ("incidents", "警情编号", "incident_id"), ("incidents", "接警单编号", "incident_id"),
    ("incidents", "案件编号", "incident_id"), ("incidents", "报警时间", "reported_at"),
    ("incidents", "接警时间", "reported_at"), ("incidents", "发案时间", "reported_at"),
    ("incidents", "警情类别", "category"), ("incidents", "警情类型", "category"),
    ("incidents", "警情性质", "category"), ("incidents", "经度", "lon"),
    ("incidents", "纬度", "lat"), ("incidents", "X坐标", "lon"), ("incidents", "Y坐标", "lat"),
    ("incidents", "发案地址", "address"), ("incidents", "事发地址", "address"),
    ("incidents", "所属社区", "area_id"), ("incidents", "辖区", "area_id"),
    ("incidents", "所属派出所", "area_id"), ("incidents", "報警時間", "reported_at"),
    ("incidents", "Incident ID", "incident_id"), ("incidents", "reported_at", "reported_at"),
]


@pytest.mark.parametrize(("table", "header", "target"), ISSUE_HEADERS)
def test_headers_named_in_the_issue(table: str, header: str, target: str) -> None:
    assert best(table, header) == target


# Column labels of our own exports (x_ keys) and of the window → the schema column they name.
EXPORT_LABELS = {
    "hazard_id": ("hazards", "hazard_id"), "hazard_name": ("hazards", "name"),
    "deadline": ("hazards", "deadline"), "risk_level": ("hazards", "risk_level"),
    "hazard_category": ("hazards", "category"), "responsible_unit": ("hazards",
                                                                     "responsible_unit"),
    "area": ("incidents", "area_id"), "town": ("incidents", "area_id"),
    "area_id": ("areas", "area_id"), "area_name": ("areas", "name"),
    "lon": ("incidents", "lon"), "lat": ("incidents", "lat"),
    "address": ("incidents", "address"), "level": ("areas", "level"),
    "name": ("areas", "name"), "code": ("areas", "area_id"),
}
I18N_LABELS = {
    "f_time": ("incidents", "reported_at"), "f_category": ("incidents", "category"),
    "f_status": ("incidents", "status"), "f_address": ("incidents", "address"),
    "f_area": ("incidents", "area_id"), "f_name": ("resources", "name"),
    "f_risk": ("hazards", "risk_level"), "f_deadline": ("hazards", "deadline"),
    "f_unit": ("hazards", "responsible_unit"), "f_discovered": ("hazards", "discovered_at"),
    "f_kind": ("resources", "kind"), "f_phone": ("resources", "phone"),
    "f_available": ("resources", "available"), "f_headcount": ("resources", "headcount"),
    "col_address": ("incidents", "address"), "col_unit": ("hazards", "responsible_unit"),
    "col_risk": ("hazards", "risk_level"), "col_kind": ("resources", "kind"),
    "col_phone": ("resources", "phone"), "col_area": ("incidents", "area_id"),
    "col_town": ("incidents", "area_id"), "col_level": ("disputes", "level"),
}


@pytest.mark.parametrize("key", EXPORT_LABELS)
def test_export_column_labels(key: str) -> None:
    table, target = EXPORT_LABELS[key]
    for label in TEXT[f"x_{key}"]:  # the export labels live in layers/i18n.py as x_ keys
        assert best(table, label) == target, label


@pytest.mark.parametrize("key", I18N_LABELS)
def test_window_column_labels(key: str) -> None:
    table, target = I18N_LABELS[key]
    assert best(table, TEXT[key][0]) == target, TEXT[key][0]


def test_two_header_spellings_of_one_table() -> None:
    a = propose("incidents", source({"警情编号": ["A1", "A2"], "报警时间": ["2024-05-02 13:04"] * 2,
                                     "警情类别": ["刑事", "治安"]}))
    b = propose("incidents", source({"接警单编号": ["B1", "B2"], "接警时间": ["2024/5/2 13:04"] * 2,
                                     "警情性质": ["刑事案件", "其他"]}))
    assert {k: v.column for k, v in a.columns.items()} == {
        "incident_id": "警情编号", "reported_at": "报警时间", "category": "警情类别"}
    assert {k: v.column for k, v in b.columns.items()} == {
        "incident_id": "接警单编号", "reported_at": "接警时间", "category": "警情性质"}
    assert b.values["category"] == {"刑事案件": "criminal", "其他": "other"}


def test_row_numbers_are_not_ids_and_content_ids_are_proposed() -> None:
    e = propose("incidents", source({"编号": [1, 2, 3, 4], "时间": ["2024-05-02"] * 4}))
    assert "incident_id" not in e.columns and e.id == "content"


def test_date_and_time_columns_and_five_parts() -> None:
    e = propose("disputes", source({"纠纷编号": ["D1"], "受理日期": ["2024年5月2日"],
                                    "受理时间": ["13:04:05"]}))
    assert e.columns["received_at"].parts == {"date": "受理日期", "time": "受理时间"}
    e = propose("incidents", source({"YEAR": [2020], "MONTH": [6], "DAY": [19], "HOUR": [3],
                                     "MINUTE": [40], "TYPE": ["Mischief"]}))
    assert e.columns["reported_at"].parts == {"year": "YEAR", "month": "MONTH", "day": "DAY",
                                              "hour": "HOUR", "minute": "MINUTE"}


def test_a_time_header_without_times_is_not_taken() -> None:
    e = propose("incidents", source({"编号": ["A", "B"], "时间": ["城关镇", "西门村"],
                                     "报警时间": ["2024-05-02 13:00", "2024-05-03 14:00"]}))
    assert e.columns["reported_at"].column == "报警时间"


def test_gauss_kruger_zone_in_the_easting_and_swapped_columns() -> None:
    lon = np.array([114.90, 114.95, 115.00])
    lat = np.array([27.00, 27.05, 27.10])
    x, y = Transformer.from_crs(4326, 4526, always_xy=True).transform(lon, lat)  # zone 38
    e = propose("incidents", source({"编号": ["A", "B", "C"], "时间": ["2024-05-02"] * 3,
                                     "X坐标": list(y), "Y坐标": list(x)}))
    # surveyors' X is the northing: the easting (with its zone 38) is in Y坐标
    assert e.crs == "EPSG:4526"
    assert e.columns["lon"].column == "Y坐标" and e.columns["lat"].column == "X坐标"


def test_projected_without_a_zone_needs_a_crs() -> None:
    e = propose("incidents", source({"编号": ["A"], "时间": ["2024-05-02"],
                                     "X": [491059.48], "Y": [5459122.41]}))
    assert e.crs == "?"
    e = propose("incidents", source({"编号": ["A"], "时间": ["2024-05-02"],
                                     "X": [491059.48], "Y": [5459122.41]}), crs="EPSG:26910")
    assert e.crs == "EPSG:26910" and e.columns["lon"].column == "X"


def test_degrees_the_other_way_round() -> None:
    e = propose("incidents", source({"编号": ["A"], "时间": ["2024-05-02"], "经度": [27.1],
                                     "纬度": [114.9]}))
    assert e.columns["lon"].column == "纬度" and e.columns["lat"].column == "经度"


def test_area_levels_from_names() -> None:
    assert level_from_names(["城东社区", "西门村", "北关社区居委会"]) == "village"
    assert level_from_names(["城关镇", "清溪乡", "东街街道"]) == "town"
    assert level_from_names(["Downtown", "Kitsilano"]) is None
    e = propose("areas", source({"名称": ["城关镇", "清溪乡"], "_geometry": [None, None]}))
    assert e.columns["level"].value == "town" and e.columns["area_id"].column == "名称"


def test_columns_found_by_their_values_when_no_header_names_them() -> None:
    e = propose("incidents", source({
        "甲": ["A1", "A2", "A3"], "乙": ["2024-05-02 13:04", "2024/5/3 8:00", "2024年5月4日"],
        "丙": ["刑事", "治安", "诈骗"], "丁": ["114.91", "114.95", "114.99"],
        "戊": ["27.11", "27.05", "27.02"], "己": ["已办结", "处置中", "已办结"]}))
    cols = {k: v.column for k, v in e.columns.items()}
    assert cols == {"reported_at": "乙", "category": "丙", "lon": "丁", "lat": "戊",
                    "status": "己"}
