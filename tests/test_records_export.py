"""The records list exported: every row once, masked, formulas kept as text, audited."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from exporters import records_export
from exporters.audit import read_audit
from layers.records import FigureRef, records_for
from tests.factory import EXTRACTED_AT, incident, meta_rows, standard_areas, write_extract

PHONE = "13812345678"


@pytest.fixture()
def extract(tmp_path: Path):
    rows = [incident(i, 115.02 + (i % 7) * 0.01, 27.02 + (i % 5) * 0.01,
                     when=EXTRACTED_AT - timedelta(hours=i + 1),
                     address=f"示范路{i}号") for i in range(40)]
    # producer text that a spreadsheet would run, and a phone number in an address
    rows[0] = incident(0, 115.03, 27.03, when=EXTRACTED_AT - timedelta(minutes=5),
                       address="=HYPERLINK(\"http://x\",\"点我\")")
    rows[1] = incident(1, 115.03, 27.03, when=EXTRACTED_AT - timedelta(minutes=6),
                       address=f"报警人电话 {PHONE} 东门")
    rows.append(incident(99, None, None, area_id="V00"))  # unlocated by point, placed by id
    path = write_extract(tmp_path / "x.duckdb", {"meta": meta_rows(), "areas": standard_areas(),
                                                 "incidents": rows})
    ex = open_extract(path)
    yield ex
    ex.close()


def _source(ex, ref: FigureRef | None = None):
    return records_for(Query(ex), FilterState(), ref or FigureRef("area", "C"), "zh")


def test_csv_has_every_row_once_masked_and_safe(extract, tmp_path: Path) -> None:
    src = _source(extract)
    out = records_export.export_records(extract, src, tmp_path / "r.csv", "csv")
    with open(out["path"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[0] == "警情编号" and "经度" in header
    assert out["rows"] == out["total"] == len(body) == 41
    assert len({r[0] for r in body}) == 41
    text = "\n".join(",".join(r) for r in body)
    assert PHONE not in text and "138****5678" in text
    formula = next(r for r in body if "HYPERLINK" in ",".join(r))
    assert any(c.startswith("'=HYPERLINK") for c in formula)  # shown, never run
    # newest first (the panel's default order)
    times = [datetime.fromisoformat(r[1]) for r in body]
    assert times == sorted(times, reverse=True)
    log = read_audit()
    assert log[-1]["action"] == "export_records_csv" and log[-1]["details"]["rows"] == 41
    assert log[-1]["details"]["masked"] is True and log[-1]["output"] == out["path"]


def test_xlsx_rows_overview_and_text_cells(extract, tmp_path: Path) -> None:
    src = _source(extract, FigureRef("hours", str((EXTRACTED_AT - timedelta(hours=3)).hour)))
    out = records_export.export_records(extract, src, tmp_path / "r.xlsx", "xlsx",
                                        sort="address")
    wb = load_workbook(out["path"])
    assert wb.sheetnames == ["明细", "概况"]
    ws = wb["明细"]
    values = list(ws.iter_rows(values_only=True))
    assert len(values) - 1 == out["rows"] == out["total"] >= 1
    overview = dict(wb["概况"].iter_rows(values_only=True))
    assert overview["条数"] == f"{out['rows']:,}" and overview["个人信息"] == "已脱敏"
    assert src.title == overview["来源图表"]
    src = _source(extract)
    out = records_export.export_records(extract, src, tmp_path / "all.xlsx", "xlsx")
    ws = load_workbook(out["path"])["明细"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    formula = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert formula and all(c.data_type == "s" for c in formula)
    assert not any(isinstance(c.value, str) and PHONE in c.value for c in cells)


def test_xlsx_is_cut_at_the_sheet_limit_and_says_so(extract, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_export, "XLSX_ROWS", 10)
    out = records_export.export_records(extract, _source(extract), tmp_path / "cut.xlsx")
    assert out["rows"] == 10 and out["total"] == 41 and out["capped"]
    ws = load_workbook(out["path"])["明细"]
    assert ws.max_row == 11


def test_a_cancelled_export_leaves_nothing(extract, tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    def check() -> None:
        raise Stop

    target = tmp_path / "never.csv"
    with pytest.raises(Stop):
        records_export.export_records(extract, _source(extract), target, "csv", check=check)
    assert not target.exists() and not list(tmp_path.glob(".never.csv*"))
