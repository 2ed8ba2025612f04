"""The import wizard, driven through its public interface offscreen (pytest-qt), on the
demo county handed over as station files; screenshots of each page with ``--shots DIR``
via the environment variable COCKPIT_WIZARD_SHOTS."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QComboBox

from data.extract import open_extract
from data.filters import FilterState
from data.report import build_report
from desktop.import_wizard import ImportWizard

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("COCKPIT_WIZARD_SHOTS")


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from demo import generate_demo
    from demo.station_files import write_station_files

    folder = tmp_path_factory.mktemp("wizard")
    generate_demo(folder / "demo.duckdb", incidents=1_500, seed=3)
    return {"demo": folder / "demo.duckdb",
            "files": write_station_files(folder / "demo.duckdb", folder / "station")}


def shot(widget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def test_a_multi_file_import_without_reading_documentation(qtbot, station: dict,
                                                           tmp_path: Path) -> None:
    files = station["files"]
    w = ImportWizard(start_dir=str(tmp_path))
    qtbot.addWidget(w)
    w.show()
    paths = [str(p) for t in ("areas", "incidents", "resources", "hazards", "disputes")
             for p in files[t]]
    assert w.add_files(paths) == []
    # the table of every file is guessed from its content
    assert [f.table for f in w.session.files] == [
        "areas", "incidents", "incidents", "resources", "hazards", "disputes"]
    table = w.files_page.table
    assert table.rowCount() == 6
    assert isinstance(table.cellWidget(1, 1), QComboBox)
    assert table.cellWidget(1, 1).currentData() == "incidents"
    assert w.files_page.isComplete()
    shot(w, "1-files")

    w.next()
    page = w.mapping_page
    assert w.currentPage() is page and page.isComplete()
    page.file.setCurrentIndex(2)  # the second incidents file, other header spellings
    assert page.fields.rowCount() == 10
    combo = page.fields.cellWidget(1, 1)  # reported_at
    assert combo.currentText() == "接警时间"
    assert "2,000" not in page.fields.item(1, 2).text()
    assert page.fields.item(1, 2).text().startswith("500/500") or "500" in \
        page.fields.item(1, 2).text()
    assert page.preview.rowCount() == 50 and page.preview.columnCount() == 10
    page.fields.selectRow(2)  # category: its values and what they mean
    assert page.values.rowCount() >= 5
    shot(w, "2-mapping")

    # change a value's meaning through the drop-down and see the counts follow
    values = [page.values.item(r, 0).text() for r in range(page.values.rowCount())]
    r = values.index("诈骗")
    code_combo = page.values.cellWidget(r, 2)
    assert code_combo.currentData() == "fraud"
    code_combo.setCurrentIndex(0)  # (no match: other)
    stats = w.session.stats(2)
    assert stats.columns["category"].to_fallback.get("诈骗", 0) > 0
    page.fields.selectRow(2)
    code_combo = page.values.cellWidget(values.index("诈骗"), 2)
    code_combo.setCurrentIndex(code_combo.findData("fraud"))
    assert not w.session.stats(2).columns["category"].to_fallback

    # take a column away: the required time goes, the page says so and will not go on
    page.fields.cellWidget(1, 1).setCurrentIndex(0)
    assert not page.isComplete() and "reported_at" in page.error.text()
    page.fields.cellWidget(1, 1).setCurrentText("接警时间")
    assert page.isComplete()

    w.next()
    out = tmp_path / "out" / "导入.duckdb"
    w.set_output(str(out))
    assert w.output_page.region.text() == ""
    w.output_page.region.setText("示范县")
    with qtbot.waitSignal(w.extract_written, timeout=120_000) as blocker:
        assert w.start_import()
        assert w.busy()
    assert blocker.args == [str(out)]
    assert not w.busy() and w.output_page.isComplete()
    assert Path(f"{out}.mapping.toml").exists()
    shot(w, "3-output")

    got = build_report(open_extract(out), FilterState(), analysis=False)
    want = build_report(open_extract(station["demo"]), FilterState(), analysis=False)
    for key in ("incidents", "resources", "hazards", "disputes"):
        assert got[key]["total"] == want[key]["total"], key
    assert got["incidents"]["by_category"] == want["incidents"]["by_category"]
    assert got["region"] == "示范县"


def test_cancel_writes_nothing(qtbot, station: dict, tmp_path: Path) -> None:
    from layers.i18n import tr

    w = ImportWizard(start_dir=str(tmp_path))
    qtbot.addWidget(w)
    w.add_files([str(p) for p in station["files"]["incidents"]])
    out = tmp_path / "out.duckdb"
    w.set_output(str(out))
    gate = threading.Event()
    run = w.session.run

    def held(out, fmt, progress, save):  # the worker waits until the user has cancelled
        def wait_then(stage: str, fraction: float) -> None:
            gate.wait(30)
            progress(stage, fraction)
        return run(out, fmt, wait_then, save)

    w.session.run = held
    assert w.start_import()
    w.cancel_import()
    gate.set()
    qtbot.waitUntil(lambda: not w.busy(), timeout=60_000)
    assert w.output_page.stage.text() == tr("imp_cancelled")
    assert list(tmp_path.iterdir()) == []
    assert w.written is None and not w.output_page.isComplete()


def test_a_bad_file_is_said_on_the_page(qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "警情.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    w = ImportWizard(start_dir=str(tmp_path))
    qtbot.addWidget(w)
    errors = w.add_files([str(bad)])
    assert len(errors) == 1 and "警情.xlsx" in errors[0]
    assert "警情.xlsx" in w.files_page.error.text()
    assert not w.files_page.isComplete()


def test_english(qtbot, station: dict) -> None:
    from layers.i18n import set_language

    set_language("en")
    try:
        w = ImportWizard()
        qtbot.addWidget(w)
        w.show()
        w.add_files([str(station["files"]["disputes"][0])])
        w.next()
        assert w.mapping_page.title() == "Check the columns"
        assert w.mapping_page.fields.item(1, 0).text().startswith("Received at")
        shot(w, "2-mapping-en")
    finally:
        set_language("zh")


def test_the_written_extract_keeps_file_order(qtbot, station: dict, tmp_path: Path) -> None:
    w = ImportWizard()
    qtbot.addWidget(w)
    w.add_files([str(p) for p in station["files"]["incidents"]])
    w.set_output(str(tmp_path / "x.duckdb"))
    with qtbot.waitSignal(w.extract_written, timeout=120_000):
        w.start_import()
    con = duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True)
    names = [r[0] for r in con.execute("SELECT _source_file FROM incidents").fetchall()]
    con.close()
    first = [p.name for p in station["files"]["incidents"]]
    assert names[0] == first[0] and names[-1] == first[1]
    assert names.index(first[1]) == names.count(first[0])


def test_file_menu_opens_the_wizard_and_its_extract_opens_in_the_window(qtbot, tmp_path) -> None:
    """文件 → 导入数据…: the written extract is opened in the window that asked."""
    from desktop.main_window import CockpitWindow
    from tests.factory import full_tables, write_extract
    from widgets.theme import DARK

    win = CockpitWindow(DARK, "zh", interactive=False)
    qtbot.addWidget(win)
    assert win.a_import in win.m_file.actions() and win.a_import.text() == "导入数据…"
    win.a_import.trigger()
    wizard = win._import_wizard
    assert wizard is not None and wizard.isVisible()
    path = write_extract(tmp_path / "w.duckdb", full_tables(20))
    with qtbot.waitSignal(win.extract_opened, timeout=60_000):
        wizard.extract_written.emit(str(path))
    assert win.session.path == str(path)
    wizard.close()
    win.close()
