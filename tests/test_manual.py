"""The user guide: both languages whole, every picture present, shown offline in the window
(帮助 → 使用手册) and printed to PDF with the pictures fitted to the page."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


def _text(lang: str) -> str:
    return (DOCS / f"manual.{lang}.md").read_text(encoding="utf-8")


def test_both_languages_have_the_same_sections_and_pictures() -> None:
    zh, en = _text("zh"), _text("en")
    heads = [len(re.findall(r"^#{1,3} ", t, re.M)) for t in (zh, en)]
    assert heads[0] == heads[1] and heads[0] >= 8
    zh_imgs = IMAGE.findall(zh)
    en_imgs = IMAGE.findall(en)
    assert [p.replace(".zh.", ".") for p in zh_imgs] == [p.replace(".en.", ".") for p in en_imgs]
    for rel in zh_imgs + en_imgs:
        f = DOCS / rel
        assert f.is_file() and f.stat().st_size > 10_000, rel  # a picture, not a stub
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_manual_window_shows_the_guide_with_its_pictures(qtbot) -> None:
    from desktop.manual import ManualWindow

    win = ManualWindow("zh")
    qtbot.addWidget(win)
    win.show()
    doc = win.browser.document()
    assert "使用手册" in doc.toPlainText() and "一键调度" in doc.toPlainText()
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QTextDocument

    for rel in IMAGE.findall(_text("zh")):
        img = doc.resource(QTextDocument.ResourceType.ImageResource, QUrl(rel))
        assert img is not None and not img.isNull(), rel
    win.switch_button.click()
    assert "User Guide" in win.browser.document().toPlainText() and win.lang == "en"


def test_help_menu_opens_the_guide_in_the_windows_language(qtbot) -> None:
    from desktop.main_window import CockpitWindow
    from widgets.theme import DARK

    win = CockpitWindow(DARK, "en", interactive=False)
    qtbot.addWidget(win)
    assert win.m_help.title() == "Help"
    win.a_manual.trigger()
    assert win._manual.isVisible() and win._manual.lang == "en"
    win._manual.close()
    win.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_manual_prints_to_pdf(tmp_path: Path, lang: str) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed")
    out = tmp_path / f"manual-{lang}.pdf"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "manual", "--pdf", str(out),
                        "--lang", lang], capture_output=True, text=True, timeout=120,
                       env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                            "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 4
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert ("一键调度" if lang == "zh" else "One-click dispatch") in text
    # the pictures are in, and none is wider than the page: pdfimages lists them
    listed = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True,
                            text=True).stdout.splitlines()[2:]
    assert len(listed) >= len(IMAGE.findall(_text(lang)))
