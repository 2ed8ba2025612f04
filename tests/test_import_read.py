"""Reading a station's files: encodings, title rows, delimiters, workbooks, GIS files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from openpyxl import Workbook
from shapely.geometry import Polygon, box

from data.importer import times as T
from data.importer.encoding import detect_file
from data.importer.errors import ImportFailure
from data.importer.read import read_source
from data.importer.synonyms import is_known_header

SIMPLIFIED = "警情编号,报警时间,发案地址\nJQ1,2024-05-02 13:04,城关镇新华街7号派出所东侧\n" * 40
TRADITIONAL = "編號,案類,發生地點\n1,自行車竊盜,臺北市大安區住安里四維路124巷\n" * 40


@pytest.mark.parametrize(("text", "codec", "want"), [
    (SIMPLIFIED, "utf-8", "utf-8"),
    (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
    (SIMPLIFIED, "gb18030", "gb18030"),
    (SIMPLIFIED, "gbk", "gb18030"),
    (TRADITIONAL, "cp950", "cp950"),
    (TRADITIONAL, "big5", "cp950"),
    (TRADITIONAL, "utf-8", "utf-8"),
    ("a,b\n1,2\n", "ascii", "utf-8"),
])
def test_encoding_detected(tmp_path: Path, text: str, codec: str, want: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode(codec))
    assert detect_file(path) == want


def test_gbk_text_late_in_a_big_file(tmp_path: Path) -> None:
    """The first chunk is pure ASCII; the Chinese rows come at the end."""
    path = tmp_path / "late.csv"
    body = "id,name\n" + "".join(f"{i},abc\n" for i in range(60_000))
    path.write_bytes(body.encode() + "999,城关镇派出所\n".encode("gb18030"))
    assert detect_file(path) == "gb18030"
    src = read_source(path)
    assert src.table.column("name").to_pylist()[-1] == "城关镇派出所"


def _write(path: Path, lines: list[str], codec: str = "gb18030") -> Path:
    path.write_bytes("\r\n".join(lines).encode(codec) + b"\r\n")
    return path


def test_title_rows_above_the_header_and_a_total_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "警情.csv", [
        "某某县公安局2024年5月警情统计表", "导出时间：2024-06-01 08:00", "",
        "序号,警情编号,报警时间,警情类别", "1,JQ001,2024-05-02 13:04,刑事",
        '2,JQ002,"2024-05-03 08:00",诈骗', "3,JQ003,2024-05-04,纠纷", "合计：3条"])
    src = read_source(path, known=is_known_header)
    assert src.encoding == "gb18030" and src.header_row == 3
    assert src.headers == ["序号", "警情编号", "报警时间", "警情类别"]
    assert src.table.column("警情编号").to_pylist() == ["JQ001", "JQ002", "JQ003"]
    assert src.table.column("_source_row").to_pylist() == [1, 2, 3]
    assert src.skipped_rows == 1 and "合计" in src.notes[0]


@pytest.mark.parametrize("delimiter", ["\t", ";", "|", ","])
def test_delimiter_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = ["编号,时间,地址", "A1,2024-05-02,东街1号", "A2,2024-05-03,西街2号"]
    path = _write(tmp_path / "x.txt", [r.replace(",", delimiter) for r in rows], "utf-8")
    src = read_source(path)
    assert src.delimiter == delimiter and src.headers == ["编号", "时间", "地址"]
    assert src.table.column("地址").to_pylist() == ["东街1号", "西街2号"]


def test_quoted_newlines_and_blank_header_cells(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", ["编号,备注,,编号", 'A1,"第一行\n第二行",x,B', "A2,,y,C"],
                  "utf-8")
    src = read_source(path)
    assert src.headers == ["编号", "备注", "列3", "编号_2"]
    assert src.table.column("备注").to_pylist() == ["第一行\n第二行", ""]


def test_no_header_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", ["1,2024-05-02,3.5", "2,2024-05-03,4.5"], "utf-8")
    with pytest.raises(ImportFailure, match="no header row"):
        read_source(path)


def _workbook(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "填表说明"
    ws.append(["本表由系统导出"])
    data = wb.create_sheet("隐患台账")
    data.append(["示范县风险隐患排查台账"])
    data.append(["隐患编号", "发现时间", "整改期限", "经度", "数量"])
    data.append([201400000017, dt.datetime(2024, 5, 2, 13, 4, 5), dt.date(2024, 6, 1), 114.9, 3])
    data.append(["YH2", dt.datetime(2024, 5, 3, 8, 0), 45474, 114.95, None])
    other = wb.create_sheet("汇总")
    other.append(["乡镇", "数量"])
    other.append(["城关镇", 2])
    wb.save(path)
    return path


def test_workbook_sheet_by_content_and_date_cells(tmp_path: Path, excel_reader: str) -> None:
    path = _workbook(tmp_path / "台账.xlsx")
    src = read_source(path, known=is_known_header,
                      score=lambda hs: sum(h in ("隐患编号", "发现时间", "整改期限") for h in hs))
    assert src.sheet == "隐患台账" and src.label == "台账.xlsx#隐患台账" and src.header_row == 1
    assert src.table.column("隐患编号").to_pylist() == ["201400000017", "YH2"]
    # date cells in ISO form; a serial number in a number cell is kept as written
    assert src.table.column("发现时间").to_pylist() == ["2024-05-02 13:04:05",
                                                     "2024-05-03 08:00:00"]
    deadline = src.table.column("整改期限").to_pylist()
    assert deadline[0].startswith("2024-06-01") and deadline[1] == "45474"
    got = T.parse_timestamp(src.table.column("整改期限")).values.to_pylist()
    assert got == [dt.datetime(2024, 6, 1), dt.datetime(2024, 7, 1)]
    assert src.table.column("数量").to_pylist() == ["3", ""]


@pytest.fixture(params=["fastexcel", "python-calamine"])
def excel_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both readers give the same cells (calamine is the fallback without fastexcel)."""
    from data.importer import read_excel as R

    if request.param == "python-calamine":
        monkeypatch.setattr(R, "_backend", lambda: (R._calamine_names, R._calamine_sheet))
    return request.param


def test_workbook_sheet_by_name(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "台账.xlsx")
    src = read_source(f"{path}#汇总")
    assert src.sheet == "汇总" and src.headers == ["乡镇", "数量"]
    with pytest.raises(ImportFailure, match="no sheet"):
        read_source(f"{path}#不存在")


def _areas() -> gpd.GeoDataFrame:
    polys = [box(114.90, 27.00, 114.95, 27.05), box(114.95, 27.00, 115.00, 27.05),
             Polygon([(114.9, 27.05), (115.0, 27.05), (114.95, 27.1)])]
    return gpd.GeoDataFrame({"编码": ["V1", "V2", "V3"], "名称": ["城东社区", "西门村", "臺北里"],
                             "人口": [1200, 800, 300]}, geometry=polys, crs="EPSG:4326")


def test_gbk_shapefile_without_cpg_in_gauss_kruger(tmp_path: Path) -> None:
    wgs = _areas()
    path = tmp_path / "村界.shp"
    wgs.to_crs(epsg=4547).to_file(path, driver="ESRI Shapefile", encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert not path.with_suffix(".cpg").exists()
    src = read_source(path)
    assert src.encoding == "gb18030" and src.crs is not None and "4547" in src.crs
    assert src.table.column("名称").to_pylist() == ["城东社区", "西门村", "臺北里"]
    back = shapely.from_wkb(src.table.column("_geometry").to_pylist())
    for got, want in zip(back, wgs.geometry, strict=True):
        assert shapely.hausdorff_distance(got, want) < 1e-7  # degrees: about a centimetre


def test_utf8_shapefile_with_cpg_and_geopackage(tmp_path: Path) -> None:
    wgs = _areas()
    shp = tmp_path / "a.shp"
    wgs.to_file(shp, driver="ESRI Shapefile", encoding="UTF-8")
    assert read_source(shp).table.column("名称").to_pylist() == ["城东社区", "西门村", "臺北里"]
    gpkg = tmp_path / "a.gpkg"
    wgs.to_crs(epsg=3857).to_file(gpkg, driver="GPKG")
    src = read_source(gpkg)
    back = shapely.from_wkb(src.table.column("_geometry").to_pylist())
    assert shapely.hausdorff_distance(back[0], wgs.geometry[0]) < 1e-7


def test_topojson(tmp_path: Path) -> None:
    topo = {"type": "Topology", "objects": {"v": {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "arcs": [[0]], "properties": {"name": "住安里"}}]}},
        "arcs": [[[121.0, 25.0], [121.1, 25.0], [121.1, 25.1], [121.0, 25.1], [121.0, 25.0]]]}
    path = tmp_path / "v.topo.json"
    path.write_text(json.dumps(topo, ensure_ascii=False), encoding="utf-8")
    src = read_source(path)
    assert src.table.column("name").to_pylist() == ["住安里"]
    g = shapely.from_wkb(src.table.column("_geometry")[0].as_py())
    assert g.area == pytest.approx(0.01)


def test_projected_file_without_crs_needs_one(tmp_path: Path) -> None:
    gdf = _areas().to_crs(epsg=4547)
    path = tmp_path / "noprj.shp"
    gdf.to_file(path, driver="ESRI Shapefile", encoding="UTF-8")
    path.with_suffix(".prj").unlink()
    with pytest.raises(ImportFailure, match="--crs"):
        read_source(path)
    src = read_source(path, crs="EPSG:4547")
    assert shapely.from_wkb(src.table.column("_geometry")[0].as_py()).bounds[0] == \
        pytest.approx(114.90, abs=1e-6)


@pytest.mark.parametrize(("name", "content", "match"), [
    ("ledger.xlsx", "编号,时间\n1,2\n".encode(), "not a workbook"),
    ("ledger.xls", b"<html><table><tr><td>1</td></tr></table></html>", "web page"),
    ("data.csv", b"PK\x03\x04" + b"\0" * 64, "workbook"),
    ("data.parquet", b"not parquet at all", "not a Parquet"),
    ("data.dat", b"whatever", "unknown kind"),
])
def test_file_not_what_its_name_says(tmp_path: Path, name: str, content: bytes,
                                     match: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFailure, match=match) as info:
        read_source(path)
    assert name in str(info.value) and "\n" not in str(info.value)
