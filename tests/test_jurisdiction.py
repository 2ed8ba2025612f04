"""A city's or a province's extract is not called a county: the window's title, the
filter bar, the home button and the briefing name the jurisdiction, and the hot-spot
table tells 城关镇 of one county from 城关镇 of the next."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from factory import EXTRACTED_AT, hazard, incident, meta_rows, write_extract
from shapely.geometry import box

from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from layers.dashboard import hotspot_table
from layers.jurisdiction import jurisdiction_of

COUNTIES = 3
VILLAGES = 4  # per town, in a row; two towns per county


def _areas() -> list[tuple]:
    rows = []
    for c in range(COUNTIES):
        x = 115.0 + c
        rows.append((f"C{c}", f"{'东西南'[c]}县", "county", None, box(x, 27, x + 1, 28).wkb, 1))
        for t in range(2):
            tid = f"C{c}T{t}"
            # the same town names in every county, as in real life (城关镇 everywhere)
            rows.append((tid, ("城关镇", "新华镇")[t], "town", f"C{c}",
                         box(x + t / 2, 27, x + t / 2 + 0.5, 28).wkb, 1))
            for v in range(VILLAGES):
                y = 27 + v / VILLAGES
                rows.append((f"{tid}V{v}", f"第{v}村", "village", tid,
                             box(x + t / 2, y, x + t / 2 + 0.5, y + 1 / VILLAGES).wkb, 1))
    return rows


def _incidents() -> list[tuple]:
    rows, i = [], 0
    for c in range(COUNTIES):
        for t in range(2):
            for v in range(VILLAGES):
                # a busy strip across the border of two counties (东县's 新华镇 beside
                # 西县's 城关镇), quiet elsewhere
                n = 40 if (c, t) in ((0, 1), (1, 0)) else 2
                lon = 115.0 + c + t / 2 + 0.25
                lat = 27 + (v + 0.5) / VILLAGES
                for _ in range(n):
                    rows.append(incident(i, lon, lat, EXTRACTED_AT - timedelta(days=1 + i % 90)))
                    i += 1
    return rows


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_extract(tmp_path_factory.mktemp("prov") / "p.duckdb", {
        "meta": meta_rows(region_name="测试省"), "areas": _areas(),
        "incidents": _incidents(),
        # one open hazard in each county's 城关镇, past its deadline (20 days after discovery)
        "hazards": [hazard(c, 115.0 + c + 0.25, 27.5) for c in range(COUNTIES)]})


@pytest.mark.parametrize(("levels", "name", "want"), [
    (["county", "town"], "测试省", "county"),           # one county: a county's words
    (["town", "town"], "测试省", "county"),             # no county at all
    (["county", "county"], "测试省", "province"),
    (["county", "county"], "广西壮族自治区", "province"),
    (["county", "county", "town"], "测试市", "city"),
    (["county", "county"], "恩施土家族苗族自治州", "city"),
    (["county", "county"], "Anhui Province", "province"),
    (["county", "county"], "Springfield City", "city"),
    (["county", "county"], "示范片区", "region"),
])
def test_jurisdiction_from_levels_and_name(levels: list[str], name: str, want: str) -> None:
    assert jurisdiction_of(_Levels(levels), name) == want  # type: ignore[arg-type]


class _Levels:  # the one field of an AreaSet that the rule reads
    def __init__(self, levels: list[str]) -> None:
        self.levels = levels


def test_hotspot_rows_carry_their_county(province: Path) -> None:
    ex = open_extract(province)
    try:
        q = Query(ex)
        table = hotspot_table(q, FilterState(), "zh")
        county = {a: ex.areas.names[c] for a, c in zip(
            ex.areas.ids, ex.areas.ancestor_at("county").tolist(), strict=True)}
    finally:
        ex.close()
    assert table.columns[:2] == ("村(社区)", "县 · 乡镇")
    assert table.rows
    for key, row in zip(table.keys, table.rows, strict=True):
        # the row's village, its own county and its own town (all towns are 城关镇 or 新华镇)
        assert row[1] == f"{county[key]} {'城关镇' if 'T0' in key else '新华镇'}", row
    # hot villages in more than one county: a bare 城关镇 would not tell them apart
    assert len({r[1] for r in table.rows}) > 1


def test_overdue_rows_carry_their_county(province: Path) -> None:
    from data.analysis.rectification import rectification
    from layers.dashboard import overdue_table

    ex = open_extract(province)
    try:
        q = Query(ex)
        table = overdue_table(q, FilterState(), rectification(q, FilterState()), "zh")
    finally:
        ex.close()
    assert table.columns[1] == "县 · 乡镇"
    by_id = {k: r[1] for k, r in zip(table.keys, table.rows, strict=True)}
    assert by_id == {f"H{c:04d}": f"{'东西南'[c]}县 城关镇" for c in range(COUNTIES)}


def test_window_and_briefing_name_the_province(province: Path, qtbot, tmp_path: Path) -> None:
    from test_cockpit_window import open_window, wait_frame

    from exporters.pdf_briefing import export_pdf

    win = open_window(qtbot, province, 1600, 900)
    wait_frame(qtbot, win)
    assert win.title_label.text() == "测试省 · 省级指挥中心驾驶舱"
    assert win.windowTitle() == "省级指挥中心驾驶舱"
    assert win.filter_bar._empty.text() == "未筛选: 全省全部数据"
    assert win.board.reset_button.text() == "全省"
    out = tmp_path / "b.pdf"
    ex = open_extract(province)
    try:
        export_pdf(ex, FilterState(), out, lang="zh")
    finally:
        ex.close()
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "省级指挥中心" in text and "县级指挥中心" not in text
