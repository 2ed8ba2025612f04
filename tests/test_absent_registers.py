"""An extract that is an incident feed alone (a city's published data; a station's 110
export before its ledgers are added): the hazard, dispute and resource panels say that
the register is missing instead of showing zeros, on screen and in the PDF; and the
period tiles do not compare with a year the feed does not reach."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from factory import (
    EXTRACTED_AT,
    full_tables,
    incident,
    meta_rows,
    standard_areas,
    village_point,
    write_extract,
)

from data.extract import open_extract
from data.filters import FilterState
from data.queries import Query
from layers.dashboard import build_panels
from layers.i18n import tr

ABSENT = {"hazards": ("open_hazards", "overdue", "major_rate"), "disputes": ("mediation",),
          "resources": ("forces",)}


def _incidents_only(n: int = 60) -> dict:
    return {"meta": meta_rows(), "areas": standard_areas(),
            "incidents": [incident(k, *village_point(k % 2, 0)) for k in range(n)]}


@pytest.fixture
def feed_only(tmp_path: Path) -> Path:
    return write_extract(tmp_path / "feed.duckdb", _incidents_only())


def _tiles(panels) -> dict:
    return {t.key: t for t in panels.kpis}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_missing_registers_are_said_in_their_panels(feed_only: Path, lang: str) -> None:
    ex = open_extract(feed_only)
    try:
        panels = build_panels(Query(ex), FilterState(), lang)
    finally:
        ex.close()
    assert panels.errors() == []
    tiles = _tiles(panels)
    for table, keys in ABSENT.items():
        for key in keys:
            assert tiles[key].value == "—", key
            assert tiles[key].detail == tr(f"kpi_absent_{table}", lang)
    hazards, disputes = tr("absent_hazards", lang), tr("absent_disputes", lang)
    assert panels.rect_funnel.stages == () and panels.rect_funnel.message == hazards
    assert panels.overdue.rows == () and panels.overdue.empty == hazards
    assert panels.med_funnel.stages == () and panels.med_funnel.message == disputes
    assert panels.med_trend.x == () and panels.med_trend.empty == disputes
    # the incident panels are untouched: every incident of the fixture counted
    assert sum(panels.categories.series[0]) == 60


def test_a_full_extract_shows_its_registers(tmp_path: Path) -> None:
    tables = full_tables()
    ex = open_extract(write_extract(tmp_path / "full.duckdb", tables))
    try:
        panels = build_panels(Query(ex), FilterState(), "zh")
    finally:
        ex.close()
    tiles = _tiles(panels)
    assert all(tiles[k].value != "—" for keys in ABSENT.values() for k in keys)
    assert panels.rect_funnel.values[0] == len(tables["hazards"])
    assert panels.med_funnel.stages and not panels.med_funnel.message
    assert not panels.overdue.empty and not panels.med_trend.empty


def test_an_empty_register_is_missing_too(tmp_path: Path) -> None:
    # the hazards table present with no rows: the same sentence as no table at all
    tables = full_tables() | {"hazards": [], "rectifications": []}
    ex = open_extract(write_extract(tmp_path / "empty.duckdb", tables))
    try:
        panels = build_panels(Query(ex), FilterState(), "zh")
    finally:
        ex.close()
    assert panels.rect_funnel.message == tr("absent_hazards", "zh")
    assert _tiles(panels)["mediation"].value != "—"  # the disputes are there


def test_the_window_and_the_pdf_say_it(feed_only: Path, tmp_path: Path, qtbot) -> None:
    from exporters.pdf_briefing import export_pdf
    from widgets.charts import FunnelChart, LineChart

    ex = open_extract(feed_only)
    try:
        panels = build_panels(Query(ex), FilterState(), "en")
        out = tmp_path / "b.pdf"
        export_pdf(ex, FilterState(), out, lang="en")
    finally:
        ex.close()
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(out), "-"],
                                   capture_output=True, text=True, check=True).stdout.split())
    assert "The extract holds no hazard register" in text
    assert "The extract holds no dispute ledger" in text
    trend, funnel = LineChart(), FunnelChart()
    for w, spec in ((trend, panels.med_trend), (funnel, panels.rect_funnel)):
        qtbot.addWidget(w)
        w.set_spec(spec)
        assert w._empty.text() == (spec.empty if w is trend else spec.message)


def test_no_comparison_with_a_year_the_feed_does_not_reach(tmp_path: Path) -> None:
    def tiles_for(rows: list) -> dict:
        t = {"meta": meta_rows(), "areas": standard_areas(), "incidents": rows}
        ex = open_extract(write_extract(tmp_path / f"y{len(rows)}.duckdb", t))
        try:
            return _tiles(build_panels(Query(ex), FilterState(), "en"))
        finally:
            ex.close()

    p = village_point(0, 0)
    this_year = [incident(k, *p, when=EXTRACTED_AT - timedelta(hours=k)) for k in range(30)]
    first_year = tiles_for(this_year)
    assert first_year["kpi_today"].detail == tr("kpi_no_last_year", "en")
    assert first_year["kpi_today"].delta_pct is None
    # the same feed reaching back a year and a half: last year's figure is compared
    back = [incident(100 + k, *p, when=datetime(2024, 1, 1) + timedelta(days=k))
            for k in range(0, 540, 3)]
    a_year_ago = EXTRACTED_AT.replace(year=EXTRACTED_AT.year - 1)
    same_day = sum(r[1].date() == a_year_ago.date() and r[1] <= a_year_ago for r in back)
    tiles = tiles_for(this_year + back)
    assert tiles["kpi_today"].detail == tr("kpi_last_year", "en", n=f"{same_day:,}")


# --------------------------------------------------------------------------- a blank map
def test_a_map_with_nothing_to_draw_says_why(tmp_path: Path, qtbot) -> None:
    from layers.scene import SceneOptions, build_scene, full_view
    from widgets.map_canvas import MapCanvas

    def scene_of(tables: dict, name: str):
        ex = open_extract(write_extract(tmp_path / name, tables))
        try:
            q = Query(ex)
            return build_scene(q, FilterState(), full_view(ex), SceneOptions(lang="en"))
        finally:
            ex.close()

    # addresses only: no areas, no coordinates (a feed like Charlottesville's)
    rows = [incident(k, None, None) for k in range(25)]
    blank = scene_of({"meta": meta_rows(), "incidents": rows}, "blank.duckdb")
    assert blank.notice == tr("map_nothing_to_draw", "en", n="25")
    # one located incident, or the outlines alone, make a map
    located = scene_of({"meta": meta_rows(), "incidents": [
        *rows, incident(99, *village_point(0, 0))]}, "one.duckdb")
    outlines = scene_of({"meta": meta_rows(), "areas": standard_areas(), "incidents": rows},
                        "areas.duckdb")
    assert located.notice == "" and outlines.notice == ""

    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(800, 500)
    canvas.show()
    qtbot.waitExposed(canvas)

    def ink() -> int:  # bright pixels in the middle band, where the sentence goes
        img = canvas.grab().toImage()
        return sum(img.pixelColor(x, y).lightness() > 150
                   for x in range(120, 680, 2) for y in range(200, 300, 2))

    before = ink()
    canvas.set_notice(blank.notice)
    assert ink() > before + 50
    canvas.set_notice("")
    assert ink() == before
