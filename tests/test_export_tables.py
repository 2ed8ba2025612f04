"""XLSX and CSV exports (exporters/tables.py), read back as a user's program reads them.

Workbooks are opened with openpyxl and CSV files with the csv module; rows are checked
against the independent rectification oracle (tests/test_rectification.py) and the
report oracle (tests/oracle.py), both reading the raw extract without the cockpit's code.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import (
    EXTRACTED_AT,
    full_tables,
    hazard,
    incident,
    village_point,
    write_extract,
)
from openpyxl import load_workbook
from oracle import expected_report, is_under, load_raw
from test_rectification import Raw, expected, read_raw

from data.extract import open_extract
from data.filters import FilterState
from exporters.audit import read_audit
from exporters.tables import export_csv, export_xlsx, mask_text, tables_for
from layers.i18n import code_label

WINDOW = (date(2026, 1, 1), date(2026, 6, 30))


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Audit lines of these tests go to a private directory, never to the user's."""
    target = tmp_path / "userdata"
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(target))
    return target


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Raw]:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path, read_raw(path)


def _sheet(path: Path, title: str) -> tuple[list[Any], list[list[Any]]]:
    ws = load_workbook(path)[title]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def _cells(path: Path) -> list[str]:
    """Every non-empty cell of every sheet, as text."""
    wb = load_workbook(path)
    return [str(v) for ws in wb for row in ws.iter_rows(values_only=True)
            for v in row if v is not None]


def _day(v: Any) -> str:
    assert isinstance(v, datetime), v  # a date cell, not text
    return v.date().isoformat()


def _overdue_rows(want: list[dict[str, Any]], lang: str = "zh") -> list[list[Any]]:
    return [[r["hazard_id"], r["name"], r["days_overdue"], r["deadline"],
             code_label("risk_level", r["risk_level"], lang),
             code_label("hazard_category", r["category"], lang),
             code_label("hazard_state", r["state"], lang),
             r["responsible_unit"], r["town_name"], r["area_name"]] for r in want]


def _as_oracle(rows: list[list[Any]]) -> list[list[Any]]:
    return [[*r[:3], _day(r[3]), *r[4:]] for r in rows]


# --------------------------------------------------------------------------- the overdue list

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overdue_sheet_equals_the_oracle(demo: tuple[Path, Raw], tmp_path: Path,
                                         lang: str) -> None:
    path, raw = demo
    out = tmp_path / "whole.xlsx"
    export_xlsx(open_extract(path), FilterState(), out, lang=lang)
    title = "逾期隐患" if lang == "zh" else "Overdue hazards"
    header, rows = _sheet(out, title)
    want = expected(raw)["overdue"]
    assert len(want) > 50
    assert _as_oracle(rows) == _overdue_rows(want, lang)
    days = [r[2] for r in rows]
    assert days == sorted(days, reverse=True) and all(isinstance(d, int) for d in days)
    if lang == "zh":
        assert header == ["隐患编号", "隐患名称", "逾期天数", "整改期限", "风险等级",
                          "隐患类别", "整改状态", "责任单位", "乡镇", "村(社区)"]
    else:
        assert header[:4] == ["Hazard ID", "Hazard", "Days overdue", "Deadline"]


def test_town_and_window_filter(demo: tuple[Path, Raw], tmp_path: Path) -> None:
    path, raw = demo
    ex = open_extract(path)
    state = FilterState().with_window(*WINDOW).with_areas(["T03"])
    out = tmp_path / "t03.xlsx"
    export_xlsx(ex, state, out)
    town = raw.area_name["T03"]

    # Hazards are a register: the town cuts them, the window does not.
    _, rows = _sheet(out, "逾期隐患")
    want = expected(raw, areas=("T03",))["overdue"]
    assert 0 < len(want) < len(expected(raw)["overdue"])
    assert _as_oracle(rows) == _overdue_rows(want)
    assert {r[8] for r in rows} == {town}

    # Disputes: the window and the town, as the report oracle counts them.
    disputes = expected_report(path, *WINDOW, "T03")["disputes"]
    _, med = _sheet(out, "矛盾纠纷")
    total = med[0]
    assert total[:3] == ["合计", None, "全部"] and total[3] == disputes["total"] > 0
    assert total[4:7] == [disputes["by_status"].get(s, 0)
                          for s in ("resolved", "failed", "referred")]
    assert total[8] == pytest.approx(disputes["success_rate"])
    by_level = {r[1]: r[3] for r in med if r[0] == "按层级"}
    assert {k: v for k, v in by_level.items() if v} == disputes["by_level"]
    for r in med[1:]:  # each breakdown row: outcomes add up to its count
        assert r[3] == r[4] + r[5] + r[6] + r[7]
    for dim in ("按层级", "按类别"):
        assert sum(r[3] for r in med if r[0] == dim) == disputes["total"]
    assert [r[1:3] for r in med if r[0] == "按乡镇"] == [["T03", town]]

    # Incidents: repeat places and hotspots lie in the town and the window.
    full = load_raw(path)
    parent = full["parent"]
    _, places = _sheet(out, "重复地址")
    assert places and sum(p[2] for p in places) <= expected_report(
        path, *WINDOW, "T03")["incidents"]["total"]
    for p in places:
        assert WINDOW[0] <= p[3].date() and p[4].date() <= WINDOW[1]
        assert is_under(parent, p[10], "T03")
    _, hot = _sheet(out, "热点")
    assert hot and all(is_under(parent, h[1], "T03") for h in hot)

    # The overview says what was exported.
    items = dict(_sheet(out, "概况")[1])
    assert items["地区"] == "示范县" and items["密级"] == "内部资料 注意保密"
    assert _day(items["统计起始日期"]) == "2026-01-01"
    assert _day(items["统计截止日期"]) == "2026-06-30"
    assert _day(items["截至日期"]) == raw.extracted.isoformat()
    assert items["筛选条件"] == f"区域：{town}(T03)" and items["个人信息"] == "已脱敏"
    assert items["逾期隐患数"] == len(want) and items["矛盾纠纷数"] == disputes["total"]
    assert items["重复地址数"] == len(places) and isinstance(items["生成时间"], datetime)


def test_workbook_layout(demo: tuple[Path, Raw], tmp_path: Path) -> None:
    path, _ = demo
    out = tmp_path / "layout.xlsx"
    result = export_xlsx(open_extract(path), FilterState(), out)
    wb = load_workbook(out)
    assert wb.sheetnames == ["概况", "逾期隐患", "热点", "重复地址", "矛盾纠纷", "化解漏斗"]
    assert result["sheets"] == {ws.title: ws.max_row - 1 for ws in wb}
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in ws[1])
        assert ws.oddHeader.center.text == "内部资料 注意保密"  # printed on every page
    hot = wb["热点"]
    assert [c.value for c in hot[1]] == ["分析单元", "区域编号", "区域名称", "经度", "纬度",
                                         "警情数", "Z值(Gi*)", "置信度", "分级"]
    row = [c for c in hot[2]]
    assert row[6].data_type == "n" and row[6].value >= 1.645 and row[7].number_format == "0.0%"
    assert row[8].value == f"热点 {row[7].value:.0%}"
    assert {r[0] for r in hot.iter_rows(min_row=2, values_only=True)} >= {"村(社区)"}
    repeats = wb["重复地址"]
    assert repeats["D2"].is_date and repeats["C2"].data_type == "n"
    # Column widths follow the content: long Chinese addresses, short counts.
    widths = {c.column_letter: repeats.column_dimensions[c.column_letter].width
              for c in repeats[1]}
    assert widths["A"] >= 30 and widths["C"] <= 10 and max(widths.values()) <= 60
    funnel = [list(r) for r in wb["化解漏斗"].iter_rows(values_only=True)]
    assert [r[0] for r in funnel[1:]] == ["村级", "乡镇级", "县级"]
    assert funnel[1][2] >= funnel[2][2] >= funnel[3][2] > 0  # reached narrows upwards


# --------------------------------------------------------------------------- personal data

def _phones_in_raw(path: Path) -> set[str]:
    """Phones of the raw resources table and phone-like runs in the hazards' text."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        phones = {r[0] for r in con.execute(
            "SELECT phone FROM resources WHERE phone IS NOT NULL").fetchall()}
        texts = con.execute("SELECT name, responsible_unit FROM hazards").fetchall()
        texts += con.execute("SELECT address, NULL FROM incidents").fetchall()
    finally:
        con.close()
    for row in texts:
        for text in row:
            phones |= set(re.findall(r"\+?\d[\d -]{8,}\d", text or ""))
    return phones


def _leaks(cells: list[str], phones: set[str]) -> set[str]:
    """The phones found in some cell, as written or with separators dropped."""
    text = "\0".join(cells)  # NUL is in no cell, so no match spans two cells
    squeezed = re.sub(r"[\s-]", "", text)
    return {p for p in phones if p in text or re.sub(r"\D", "", p) in squeezed}


def test_demo_workbook_holds_no_phone(demo: tuple[Path, Raw], tmp_path: Path) -> None:
    path, _ = demo
    phones = _phones_in_raw(path)
    assert len(phones) > 100
    out = tmp_path / "masked.xlsx"
    export_xlsx(open_extract(path), FilterState(), out)
    assert _leaks(_cells(out), phones) == set()


PERSONAL = {
    "unit": "城关派出所 张三 13812345678",
    "pond": "李四家鱼塘 0796-8123456",
    "address": "解放路1号 联系人+86 139-0000-1111",
}


@pytest.fixture
def personal(tmp_path: Path) -> Path:
    """A small extract whose free text carries phone numbers where figures show it."""
    tables = full_tables()
    hz = [list(h) for h in tables["hazards"]]
    hz[1][8] = PERSONAL["unit"]  # H0001 and H0003: overdue, never rectified
    hz[3][2] = PERSONAL["pond"]
    tables["hazards"] = [tuple(h) for h in hz]
    spot = village_point(1, 1, 0.5, 0.5)
    when = EXTRACTED_AT.replace(day=1)
    # Ten calls at one address: a repeat place over the fixture's two months (3 per 30 days)
    tables["incidents"] += [incident(100 + k, *spot, when=when, address=PERSONAL["address"])
                            for k in range(10)]
    other = village_point(0, 0, 0.9, 0.9)
    # Identifiers that look like phone numbers (some 110 systems number calls so).
    tables["incidents"] += [(f"1590000000{k}", *incident(200 + k, *other, when=when,
                                                         category="fraud",
                                                         address='=HYPERLINK("http://x")')[1:])
                            for k in range(10)]
    # an overdue hazard numbered like a mobile phone (identifiers are never masked)
    tables["hazards"].append(("15800000009", *hazard(9, *village_point(0, 1), name="-1+1")[1:]))
    return write_extract(tmp_path / "personal.duckdb", tables)


def test_phones_in_free_text_are_masked(personal: Path, tmp_path: Path) -> None:
    ex = open_extract(personal)
    phones = _phones_in_raw(personal)
    assert set(PERSONAL.values()) <= {t for row in duckdb.connect(
        str(personal), read_only=True).execute(
        "SELECT name, responsible_unit FROM hazards UNION ALL SELECT address, NULL "
        "FROM incidents").fetchall() for t in row}
    assert {"13812345678", "0796-8123456", "+86 139-0000-1111"} <= phones

    masked, plain = tmp_path / "masked.xlsx", tmp_path / "plain.xlsx"
    export_xlsx(ex, FilterState(), masked)
    export_xlsx(ex, FilterState(), plain, masked=False)
    # Unmasked, the numbers are there: the scan can find them.
    assert {"13812345678", "0796-8123456", "+86 139-0000-1111"} <= _leaks(_cells(plain),
                                                                          phones)
    assert _leaks(_cells(masked), phones) == set()
    cells = set(_cells(masked))
    assert {"城关派出所 张三 138****5678", "李四家鱼塘 079*-***3456",
            "解放路1号 联系人+86 1**-****-1111"} <= cells
    assert dict(_sheet(plain, "概况")[1])["个人信息"].startswith("未脱敏")
    # Identifiers stay whole even when they look like phone numbers.
    assert "15800000009" in cells


def test_mask_text() -> None:
    assert mask_text("电话 13800001111，座机 0796-8123456") == \
        "电话 138****1111，座机 079*-***3456"
    assert mask_text("JQ20241228000008 解放路128号") == "JQ20241228000008 解放路128号"
    assert mask_text(None) is None and mask_text("") == ""


def test_text_never_becomes_a_formula(personal: Path, tmp_path: Path) -> None:
    out = tmp_path / "inject.xlsx"
    export_xlsx(open_extract(personal), FilterState(), out)
    ws = load_workbook(out)["重复地址"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row
             if str(c.value).startswith("=HYPERLINK")]
    assert cells and all(c.data_type == "s" for c in cells)
    folder = tmp_path / "csv"
    folder.mkdir()
    export_csv(open_extract(personal), FilterState(), folder)
    text = (folder / "repeats.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and '\n=HYPERLINK' not in text
    assert "'-1+1" in (folder / "overdue.csv").read_text(encoding="utf-8-sig")


# --------------------------------------------------------------------------- CSV

def _same(xlsx: Any, text: str) -> bool:
    if xlsx is None:
        return text == ""
    if isinstance(xlsx, datetime):
        return text in (xlsx.isoformat(sep=" "), xlsx.date().isoformat())
    if isinstance(xlsx, bool) or not isinstance(xlsx, int | float):
        return text in (xlsx, "'" + xlsx)
    return float(text) == pytest.approx(xlsx, rel=1e-12)


def test_csv_has_bom_and_the_workbook_rows(demo: tuple[Path, Raw], tmp_path: Path) -> None:
    path, _ = demo
    ex = open_extract(path)
    state = FilterState().with_window(*WINDOW).with_areas(["T03"])
    book = tmp_path / "t03.xlsx"
    export_xlsx(ex, state, book)
    result = export_csv(ex, state, tmp_path / "out" / "briefing")
    paths = {k: Path(p) for k, p in result["paths"].items()}
    assert paths["overdue"] == tmp_path / "out" / "briefing_overdue.csv"
    wb = load_workbook(book)
    assert len(paths) == len(wb.sheetnames)
    for key, ws in zip(paths, wb, strict=True):
        raw = paths[key].read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), key
        with open(paths[key], encoding="utf-8-sig", newline="") as fh:
            got = list(csv.reader(fh))
        want = [list(r) for r in ws.iter_rows(values_only=True)]
        assert got[0] == want[0] and len(got) == len(want) == result["rows"][key] + 1
        for g, w in zip(got[1:], want[1:], strict=True):
            if w[0] == "生成时间":
                continue  # two exports, two generation times
            assert all(_same(x, t) for x, t in zip(w, g, strict=True)), (key, g, w)
    assert "逾期天数" in paths["overdue"].read_text(encoding="utf-8-sig").splitlines()[0]


def test_csv_into_a_folder(demo: tuple[Path, Raw], tmp_path: Path) -> None:
    path, _ = demo
    result = export_csv(open_extract(path), FilterState(), str(tmp_path / "new") + "/",
                        lang="en")
    names = sorted(Path(p).name for p in result["paths"].values())
    assert names == ["funnel.csv", "hotspots.csv", "mediation.csv", "overdue.csv",
                     "overview.csv", "repeats.csv"]
    head = (tmp_path / "new" / "overdue.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert head.startswith("Hazard ID,Hazard,Days overdue")


# --------------------------------------------------------------------------- small extracts

def test_extract_with_only_incidents(tmp_path: Path) -> None:
    tables = full_tables()
    path = write_extract(tmp_path / "bare.duckdb", {k: tables[k] for k in
                                                    ("meta", "areas", "incidents")})
    out = tmp_path / "bare.xlsx"
    result = export_xlsx(open_extract(path), FilterState(), out)
    wb = load_workbook(out)
    assert len(wb.sheetnames) == 6 and result["sheets"]["逾期隐患"] == 0
    assert wb["逾期隐患"].max_row == 1 and wb["逾期隐患"]["A1"].value == "隐患编号"
    assert [r[3] for r in wb["矛盾纠纷"].iter_rows(min_row=2, max_row=2, values_only=True)] \
        == [0]


def test_tables_for_is_plain_data(demo: tuple[Path, Raw]) -> None:
    path, _ = demo
    tables = tables_for(open_extract(path), FilterState().with_areas(["T03"]), lang="en",
                        generated_at=datetime(2026, 11, 20, 7, 30))
    assert [t.key for t in tables] == ["overview", "overdue", "hotspots", "repeats",
                                       "mediation", "funnel"]
    for t in tables:
        assert len(t.headers) == len(t.kinds)
        assert all(len(r) == len(t.headers) for r in t.rows)
        for row in t.rows:
            for v in row:
                assert v is None or type(v) in (str, int, float, date, datetime), (t.key, v)
    overview = dict(tables[0].rows)
    assert overview["Generated at"] == datetime(2026, 11, 20, 7, 30)
    assert overview["Period start"] == "Unbounded"
    json.dumps([t.rows for t in tables], default=str)


# --------------------------------------------------------------------------- audit

def test_exports_are_audited(demo: tuple[Path, Raw], tmp_path: Path, _data_dir: Path) -> None:
    path, _ = demo
    ex = open_extract(path)
    state = FilterState().with_areas(["T03"])
    first = export_xlsx(ex, state, tmp_path / "a.xlsx")
    log = _data_dir / "audit.jsonl"
    before = log.read_bytes()
    second = export_xlsx(ex, state, tmp_path / "b.xlsx", masked=False)
    after = log.read_bytes()
    assert first["audited"] and second["audited"]
    assert after.startswith(before) and after.count(b"\n") == 2
    events = read_audit()
    assert [e["action"] for e in events] == ["export_xlsx", "export_xlsx"]
    assert [e["output"] for e in events] == [str(tmp_path / "a.xlsx"), str(tmp_path / "b.xlsx")]
    assert [e["details"]["masked"] for e in events] == [True, False]
    assert all(e["extract"] == str(ex.path) and e["filter"]["areas"] == ["T03"]
               and e["details"]["as_of"] == first["as_of"] for e in events)


def test_export_survives_a_broken_audit_log(demo: tuple[Path, Raw], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    path, _ = demo
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(blocker))
    out = tmp_path / "still.xlsx"
    with caplog.at_level("WARNING", logger="exporters.audit"):
        result = export_xlsx(open_extract(path), FilterState(), out)
    assert result["audited"] is False and out.exists()
    assert "audit log" in caplog.text and load_workbook(out).sheetnames[0] == "概况"


def test_headless_no_qt() -> None:
    """The spreadsheet export runs without a display: no Qt is imported."""
    code = ("import sys\nimport exporters.tables, exporters.audit\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')]\n"
            "assert not bad, bad\nprint('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
