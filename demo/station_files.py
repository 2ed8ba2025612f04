"""An extract written out the way a county station hands its data over.

``write_station_files(extract, folder)`` turns each table of a schema-form extract
into the files a station actually has: 110 exports in CSV (GB18030 with a title row
above a Chinese header, or UTF-8 with a BOM), two monthly files of one table with
different header spellings, registers in Excel with real date cells, codes written as
Chinese labels, timestamps in several spellings (a different one row by row),
dispute dates and times in two columns, and the areas as a projected CGCS2000
Gauss-Krüger Shapefile (EPSG:4547) whose ``.dbf`` is GBK with no ``.cpg``.

The words here are written independently of the importer's synonym lists (they are
what stations write, not what the importer knows), so the round trip tests them.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

LABELS: dict[str, dict[str, str]] = {
    "category": {"criminal": "刑事案件", "public_order": "治安案件", "dispute": "纠纷",
                 "traffic": "交通事故", "fire": "火灾", "assistance": "群众求助",
                 "fraud": "电信诈骗", "other": "其他"},
    "category_b": {"criminal": "刑事", "public_order": "治安", "dispute": "矛盾纠纷",
                   "traffic": "交通", "fire": "消防", "assistance": "求助", "fraud": "诈骗",
                   "other": "其它"},
    "status": {"open": "待处置", "dispatched": "处置中", "closed": "已办结"},
    "kind": {"police_station": "派出所", "patrol_unit": "巡逻组", "officer": "民警",
             "auxiliary": "辅警", "mass_prevention": "群防群治", "social_org": "社会组织",
             "mediator": "调解员", "equipment": "装备"},
    "hazard_category": {"key_place": "重点场所", "crime_hotspot": "治安乱点",
                        "drowning": "防溺水", "road": "道路隐患", "fire": "消防隐患",
                        "public_order": "治安隐患", "other": "其他"},
    "risk_level": {"major": "重大", "high": "较大", "medium": "一般", "low": "低"},
    "action": {"assigned": "交办", "rectified": "已整改", "reinspected": "回头看通过",
               "reopened": "回头看未通过"},
    "dispute_category": {"family": "婚姻家庭", "neighbor": "邻里纠纷", "land": "山林土地",
                         "labor": "劳资纠纷", "debt": "借贷", "property": "物业纠纷",
                         "contract": "合同纠纷", "other": "其他"},
    "level": {"village": "村级", "town": "乡镇级", "county": "县级"},
    "mediator_kind": {"people_mediator": "人民调解员", "village_sage": "乡贤",
                      "legal_aide": "法律明白人", "police": "民警", "grid_worker": "网格员",
                      "lawyer": "律师"},
    "dispute_status": {"pending": "待受理", "mediating": "调解中", "resolved": "调解成功",
                       "failed": "调解失败", "referred": "移交"},
    "step_action": {"accepted": "受理", "escalated": "上报", "resolved": "化解",
                    "failed": "调解不成", "referred": "移交"},
    "area_level": {"county": "县", "town": "乡镇", "village": "村(社区)", "grid": "网格"},
}

TIME_SPELLINGS = (
    lambda t: t.strftime("%Y-%m-%d %H:%M:%S"),
    lambda t: f"{t.year}/{t.month}/{t.day} {t:%H:%M:%S}",
    lambda t: f"{t.year}年{t.month}月{t.day}日 {t:%H}时{t:%M}分{t:%S}秒",
    lambda t: t.strftime("%Y%m%d%H%M%S"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S"),
)


def spell(t: dt.datetime | None, i: int) -> str:
    """One timestamp in one of the spellings, chosen by the row number."""
    if t is None:
        return ""
    return TIME_SPELLINGS[i % len(TIME_SPELLINGS)](t)


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    cur = con.execute(f"SELECT * FROM {table}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _num(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else repr(v)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]],
              encoding: str = "utf-8", title: Sequence[str] = ()) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        for line in title:
            w.writerow([line])
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]],
               title: str | None = None, sheet: str = "Sheet1") -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    if title:
        ws.append([title])
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.create_sheet("填表说明").append(["本表由系统导出，请勿修改表头"])
    wb.save(path)
    return path


def write_areas_shapefile(path: Path, areas: list[dict[str, Any]], epsg: int = 4547) -> Path:
    """A GBK Shapefile without .cpg, projected to ``epsg`` (CGCS2000 GK CM 114E)."""
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame({
        "区域编码": [a["area_id"] for a in areas],
        "名称": [a["name"] for a in areas],
        "级别": [LABELS["area_level"].get(a["level"], a["level"]) for a in areas],
        "上级编码": [a["parent_id"] or "" for a in areas],
        "人口": [int(a["population"]) if a["population"] is not None else None for a in areas],
    }, geometry=[shapely.from_wkb(bytes(a["geom_wkb"])) for a in areas], crs="EPSG:4326")
    gdf.to_crs(epsg=epsg).to_file(path, driver="ESRI Shapefile", encoding="GBK")
    for suffix in (".cpg", ".CPG"):
        path.with_suffix(suffix).unlink(missing_ok=True)
    return path


def write_station_files(extract: str | Path, folder: str | Path) -> dict[str, list[Path]]:
    """Write every table of ``extract`` as station files in ``folder``; table → files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(extract), read_only=True)
    try:
        tables = {t: _rows(con, t) for t in ("areas", "incidents", "resources", "hazards",
                                             "rectifications", "disputes", "dispute_steps")}
    finally:
        con.close()
    names = {a["area_id"]: a["name"] for a in tables["areas"]}
    out: dict[str, list[Path]] = {}
    out["areas"] = [write_areas_shapefile(folder / "村界.shp", tables["areas"])]
    out["incidents"] = _incidents(folder, tables["incidents"], names)
    out["resources"] = [_resources(folder, tables["resources"], names)]
    out["hazards"] = [_hazards(folder, tables["hazards"], names)]
    out["rectifications"] = [_rectifications(folder, tables["rectifications"])]
    out["disputes"] = [_disputes(folder, tables["disputes"], names)]
    out["dispute_steps"] = [_steps(folder, tables["dispute_steps"])]
    return out


def _incidents(folder: Path, rows: list[dict[str, Any]], names: dict[str, str]) -> list[Path]:
    half = len(rows) // 2
    a = [(r["incident_id"], spell(r["reported_at"], i), LABELS["category"][r["category"]],
          r["subcategory"] or "", _num(r["lon"]), _num(r["lat"]), r["address"] or "",
          names.get(r["area_id"], r["area_id"] or ""), LABELS["status"][r["status"]],
          spell(r["closed_at"], i + 1)) for i, r in enumerate(rows[:half])]
    b = [(r["incident_id"], spell(r["reported_at"], i + 2),
          LABELS["category_b"][r["category"]], r["subcategory"] or "", _num(r["lon"]),
          _num(r["lat"]), r["address"] or "", names.get(r["area_id"], r["area_id"] or ""),
          LABELS["status"][r["status"]], spell(r["closed_at"], i))
         for i, r in enumerate(rows[half:])]
    first = write_csv(folder / "警情导出_1.csv",
                      ["警情编号", "报警时间", "警情类别", "警情细类", "经度", "纬度", "发案地址",
                       "所属社区", "处置状态", "办结时间"], a, "gb18030",
                      title=["示范县公安局110接处警警情明细表", "导出时间：2026-11-20 06:00"])
    second = write_csv(folder / "警情导出_2.csv",
                       ["接警单编号", "接警时间", "警情类型", "警情细类", "X坐标", "Y坐标",
                        "事发地址", "辖区", "办理状态", "结案时间"], b, "utf-8-sig")
    return [first, second]


def _resources(folder: Path, rows: list[dict[str, Any]], names: dict[str, str]) -> Path:
    data = [(r["resource_id"], LABELS["kind"][r["kind"]], r["name"], r["lon"], r["lat"],
             names.get(r["area_id"], r["area_id"] or ""), r["headcount"], r["phone"] or "",
             "是" if r["available"] else "否", r["updated_at"]) for r in rows]
    return write_xlsx(folder / "力量资源台账.xlsx",
                      ["资源编号", "力量类型", "名称", "经度", "纬度", "所属社区", "人数",
                       "联系电话", "是否可用", "更新时间"], data, title="示范县可用力量资源台账",
                      sheet="力量资源")


def _hazards(folder: Path, rows: list[dict[str, Any]], names: dict[str, str]) -> Path:
    data = [(r["hazard_id"], LABELS["hazard_category"][r["category"]], r["name"], r["lon"],
             r["lat"], names.get(r["area_id"], r["area_id"] or ""),
             LABELS["risk_level"][r["risk_level"]], r["discovered_at"],
             r["responsible_unit"] or "", r["deadline"]) for r in rows]
    return write_xlsx(folder / "风险隐患台账.xlsx",
                      ["隐患编号", "隐患类别", "隐患名称", "经度", "纬度", "所属村", "风险等级",
                       "发现时间", "责任单位", "整改期限"], data, sheet="隐患台账")


def _rectifications(folder: Path, rows: list[dict[str, Any]]) -> Path:
    data = [(r["event_id"], r["hazard_id"], spell(r["event_at"], i), LABELS["action"][r["action"]],
             r["actor"] or "", r["note"] or "") for i, r in enumerate(rows)]
    return write_csv(folder / "整改记录.csv",
                     ["记录编号", "隐患编号", "整改时间", "整改环节", "办理人", "备注"], data,
                     "gb18030")


def _disputes(folder: Path, rows: list[dict[str, Any]], names: dict[str, str]) -> Path:
    data = []
    for i, r in enumerate(rows):
        t = r["received_at"]
        data.append((r["dispute_id"], f"{t.year}年{t.month}月{t.day}日", f"{t:%H:%M:%S}",
                     LABELS["dispute_category"][r["category"]], _num(r["lon"]), _num(r["lat"]),
                     names.get(r["area_id"], r["area_id"] or ""), LABELS["level"][r["level"]],
                     LABELS["mediator_kind"][r["mediator_kind"]],
                     LABELS["dispute_status"][r["status"]], spell(r["resolved_at"], i),
                     r["source_incident_id"] or ""))
    return write_csv(folder / "矛盾纠纷台账.csv",
                     ["纠纷编号", "受理日期", "受理时间", "纠纷类型", "经度", "纬度", "所属村居",
                      "当前层级", "调解力量", "调解状态", "化解时间", "来源警情编号"], data,
                     "gb18030", title=["示范县矛盾纠纷排查化解台账"])


def _steps(folder: Path, rows: list[dict[str, Any]]) -> Path:
    data = [(r["dispute_id"], spell(r["step_at"], i), LABELS["level"][r["level"]],
             LABELS["step_action"][r["action"]]) for i, r in enumerate(rows)]
    return write_csv(folder / "纠纷流转记录.csv", ["纠纷编号", "流转时间", "流转层级", "流转动作"],
                     data)
