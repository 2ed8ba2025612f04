"""Revealing personal data, audited: refused without a reason, one audit line per reveal,
never on the wall (through its widgets and its API), ``--unmask`` only with an operator
and a reason, and a visible "contains personal data" marking on every unmasked export
(and on none of the masked ones). The audit log view shows it all, newest first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from openpyxl import load_workbook
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QPushButton

from data.privacy import PERSON_KINDS
from desktop.reveal import Revealer, RevealRefused
from desktop.session import CockpitSession
from exporters.audit import audit_log_path, read_audit
from tests.test_cockpit_window import (  # noqa: F401 - autouse fixtures
    _dispose_windows,
    _zh,
    grab_image,
    open_window,
)
from tests.test_pdf_briefing import pages, squeeze

ROOT = Path(__file__).resolve().parents[1]
SHOTS = os.environ.get("COCKPIT_SHOTS")
MARK = "含个人信息"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


def raw_resource(path: Path, kind_in: frozenset[str] = PERSON_KINDS) -> tuple[str, str, str]:
    """(id, name, phone) of a person-kind resource, read straight from the file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT resource_id, name, phone, kind FROM resources WHERE "
                           "phone IS NOT NULL AND name IS NOT NULL ORDER BY resource_id"
                           ).fetchall()
    finally:
        con.close()
    rid, name, phone, _ = next(r for r in rows if r[3] in kind_in)
    return rid, name, phone


def audit_lines() -> list[dict]:
    return read_audit()


# --------------------------------------------------------------------------- the rules
def test_a_reveal_without_a_reason_is_refused(qtbot, demo: Path) -> None:
    session = CockpitSession(can_reveal=True)
    try:
        from data.extract import open_extract

        session.set_extract(open_extract(demo), str(demo))
        r = Revealer(session)
        rid, _, phone = raw_resource(demo)
        with pytest.raises(RevealRefused):
            r.reveal("resources", rid, "phone")
        for operator, reason in (("", "调度"), ("王", ""), ("王", " "), ("  ", "  ")):
            with pytest.raises(ValueError):
                r.authorise(operator, reason)
        with pytest.raises(RevealRefused):
            r.reveal("resources", rid, "phone")
        assert audit_lines() == []
        r.authorise(" 王 警官 ", "一键调度 联系")
        assert r.reveal("resources", rid, "phone") == phone
        line = audit_lines()
        assert len(line) == 1 and line[0]["action"] == "reveal"
        d = line[0]["details"]
        assert (d["operator"], d["reason"], d["record"], d["field"]) == (
            "王 警官", "一键调度 联系", rid, "phone")
        with pytest.raises(ValueError):
            r.reveal("resources", rid, "headcount")  # not personal data: not this way
        assert len(audit_lines()) == 1
    finally:
        session.close()


def test_no_audit_line_no_reveal(qtbot, demo: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from data.extract import open_extract

    session = CockpitSession(can_reveal=True)
    try:
        session.set_extract(open_extract(demo), str(demo))
        r = Revealer(session)
        r.authorise("王", "调度")
        blocker = tmp_path / "file"
        blocker.write_text("x")
        monkeypatch.setenv("COCKPIT_DATA_DIR", str(blocker / "sub"))  # cannot be created
        with pytest.raises(RevealRefused):
            r.reveal("resources", raw_resource(demo)[0], "phone")
    finally:
        session.close()


def test_sessions_cannot_reveal_unless_made_for_a_desk() -> None:
    s = CockpitSession()
    try:
        assert s.can_reveal is False
        with pytest.raises(RevealRefused):
            Revealer(s)
    finally:
        s.close()


# --------------------------------------------------------------------------- the desk
def test_details_and_dispatch_cards_reveal_once_per_click(qtbot, demo: Path) -> None:
    win = open_window(qtbot, demo)
    rid, name, phone = raw_resource(demo)
    asked: list[int] = []

    def ask() -> tuple[str, str]:
        asked.append(1)
        return ("李明", "核实调度")

    win.tools.reveal.ask = lambda: None  # cancelled: nothing shown, nothing logged
    details = win.board.details
    win.board.map.show_details("resources", rid)
    qtbot.waitUntil(lambda: details.findChild(QPushButton, "reveal_phone") is not None,
                    timeout=10_000)
    details.findChild(QPushButton, "reveal_phone").click()
    assert audit_lines() == []
    assert phone not in _texts(details)
    win.tools.reveal.ask = ask
    details.findChild(QPushButton, "reveal_phone").click()
    assert phone in _texts(details) and len(audit_lines()) == 1
    details.findChild(QPushButton, "reveal_name").click()
    assert name in _texts(details) and len(audit_lines()) == 2
    assert asked == [1]  # the name and the reason are asked once per session
    assert [(e["details"]["field"], e["details"]["operator"]) for e in audit_lines()] == [
        ("phone", "李明"), ("name", "李明")]
    if SHOTS:
        details.grab().save(str(Path(SHOTS) / "reveal_card.png"))
    # the dispatch card: the selected force's phone
    x = details._dispatch
    areas = win.extract.areas
    p = areas.geoms[areas.at_level("town")[1]].representative_point()
    win.board.map.dispatch_from(p.x, p.y)
    qtbot.waitUntil(lambda: details._dispatch is not None and details._dispatch is not x,
                    timeout=10_000)
    table = details._dispatch.table
    row = next(i for i, k in enumerate(details._dispatch.kinds) if k in PERSON_KINDS)
    details.select_force(details.table.shown_rows().index(row))
    assert details.reveal_phone.isVisible() and details.reveal_phone.isEnabled()
    assert details.reveal_name.isEnabled()
    before = table.rows[row][3]
    details.reveal_phone.click()
    after = details._dispatch.table.rows[row][3]
    assert "*" in before and "*" not in after and after != before
    assert len(audit_lines()) == 3 and audit_lines()[-1]["details"]["record"] == table.keys[row]


def _texts(widget) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def test_the_operator_dialog_needs_both_fields(qtbot) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from widgets.reveal_dialog import RevealDialog

    dlg = RevealDialog()
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dlg.operator.setText("王")
    assert not ok.isEnabled()
    dlg.reason.setText("调度联系")
    assert ok.isEnabled() and dlg.values() == ("王", "调度联系")
    if SHOTS:
        dlg.show()
        qtbot.waitExposed(dlg)
        dlg.grab().save(str(Path(SHOTS) / "reveal_prompt.png"))


# --------------------------------------------------------------------------- the wall
def test_the_wall_never_reveals(qtbot, demo: Path) -> None:
    from tests.test_wall import _WALLS, open_wall

    rid, name, phone = raw_resource(demo)
    win = open_wall(qtbot, demo)
    try:
        assert win.session.can_reveal is False
        assert not hasattr(win, "tools")
        with pytest.raises(RevealRefused):
            Revealer(win.session)
        details = win.board.details
        assert details.reveal_enabled is False
        win.board.map.show_details("resources", rid)
        qtbot.waitUntil(details.isVisible, timeout=10_000)
        assert not [b for b in details.findChildren(QPushButton)
                    if b.objectName().startswith("reveal_")]
        assert not details.reveal_name.isVisible() and not details.reveal_phone.isVisible()
        # asking anyway, through the card's own signal: nobody listens, nothing shows
        details.reveal_requested.emit("resources", rid, "phone")
        details._reveal_selected("phone")
        qtbot.wait(50)
        texts = _texts(win)
        assert phone not in texts and name not in texts
        assert audit_lines() == []
    finally:
        if win in _WALLS:
            _WALLS.remove(win)
        win.close()


# --------------------------------------------------------------------------- exports
def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args", [
    ("--unmask",), ("--operator", "王"), ("--reason", "调度"),
    ("--unmask", "--operator", "王"), ("--unmask", "--reason", "调度"),
    ("--operator", "王", "--reason", "调度"), ("--unmask", "--operator", " ", "--reason", "调度"),
    ("--unmask", "--operator", "王", "--reason", "")])
def test_unmask_needs_operator_and_reason(demo: Path, tmp_path: Path, args: tuple) -> None:
    out = run("export", str(demo), "--xlsx", str(tmp_path / "x.xlsx"), *args)
    assert out.returncode == 2 and "--operator" in out.stderr
    assert not (tmp_path / "x.xlsx").exists() and not audit_log_path().exists()


def test_unmasked_exports_are_marked_and_masked_ones_are_not(demo: Path, tmp_path: Path
                                                              ) -> None:
    who = ("--unmask", "--operator", "张三", "--reason", "专案研判")
    phone = raw_resource(demo)[2]
    for unmask in (False, True):
        tag = "u" if unmask else "m"
        extra = who if unmask else ()
        for flag, ext in (("--pdf", "pdf"), ("--xlsx", "xlsx"), ("--html", "html"),
                          ("--png", "png")):
            size = ("--size", "960x540") if ext == "png" else ()
            out = run("export", str(demo), flag, str(tmp_path / f"{tag}.{ext}"), *size, *extra)
            assert out.returncode == 0, out.stderr
            line = audit_lines()[-1]
            assert line["details"]["masked"] is (not unmask), (ext, line)
            if unmask:
                assert (line["details"]["operator"], line["details"]["reason"]) == (
                    "张三", "专案研判")
        # PDF: every page
        text = pages(tmp_path / f"{tag}.pdf")
        assert all((MARK in squeeze(t)) == unmask for t in text), tag
        # XLSX: the overview says it first
        overview = list(load_workbook(tmp_path / f"{tag}.xlsx").worksheets[0].iter_rows(
            values_only=True))
        assert (MARK in str(overview[1][1])) == unmask
        # HTML: the title band, and the data itself
        html = (tmp_path / f"{tag}.html").read_text(encoding="utf-8")
        assert ('id="ck-personal"' in html) == unmask
        assert (phone in html) == unmask
        # PNG: the red box in the top-left corner
        img = grab_image(QImage(str(tmp_path / f"{tag}.png")))[:40, :200, :3].astype(int)
        red = (img[..., 0] > 180) & (img[..., 1] < 60) & (img[..., 2] < 60)
        assert (red.sum() > 500) == unmask, tag
        if SHOTS and unmask:
            QImage(str(tmp_path / f"{tag}.png")).save(str(Path(SHOTS) / "unmasked_png.png"))


# --------------------------------------------------------------------------- the log view
def test_audit_log_view_newest_first_and_filtered(qtbot, demo: Path) -> None:
    from exporters.audit import audit

    audit("export_pdf", {"output": "/tmp/a.pdf", "masked": True}, None)
    audit("reveal", {"operator": "王五", "reason": "调度联系", "table": "resources",
                     "record": "OF0001", "field": "phone"}, None)
    audit("export_xlsx", {"output": "/tmp/b.xlsx", "masked": False, "operator": "赵六",
                          "reason": "专案"}, None)
    with open(audit_log_path(), "a", encoding="utf-8") as fh:
        fh.write('{"when": "cut off\n')
    win = open_window(qtbot, demo)
    view = win.tools.show_audit_log()
    rows = view.shown()
    assert [r[2] for r in rows] == ["导出 XLSX", "显示个人信息", "导出 PDF"]
    assert rows[1][1].startswith("王五") and rows[1][4] == "调度联系"
    assert "OF0001" in rows[1][3] and "phone" in rows[1][3]
    assert "1 行无法读取" in view.note.text()
    view.set_filter("王五")
    assert [r[2] for r in view.shown()] == ["显示个人信息"]
    view.set_filter("", "导出 PDF")
    assert [r[3] for r in view.shown()] == ["/tmp/a.pdf"]
    view.set_filter("")
    assert view.view.editTriggers() == view.view.EditTrigger.NoEditTriggers
    if SHOTS:
        win.tools.audit_dialog.grab().save(str(Path(SHOTS) / "audit_log_dark.png"))
        from widgets.theme import LIGHT

        win.set_theme(LIGHT)
        win.tools.audit_dialog.grab().save(str(Path(SHOTS) / "audit_log_light.png"))
    json.dumps(rows)  # plain strings only
    assert np.all([isinstance(c, str) for r in rows for c in r])
