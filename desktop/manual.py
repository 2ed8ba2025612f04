"""The user guide (使用手册), offline: shown in the window (帮助 → 使用手册) and printed to PDF.

The guide is Markdown in ``docs/manual.zh.md`` and ``docs/manual.en.md`` with
screenshots in ``docs/img/`` (regenerated from the demo county by
``scripts/manual_shots.py``). Qt renders the Markdown itself (``QTextDocument``), so
neither a browser nor the network is needed; the PDF is the same document printed
on A4 with the screenshots fitted to the page width.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF, QUrl
from PySide6.QtGui import (
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextCursor,
    QTextDocument,
    QTextImageFormat,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from exporters.pdf_style import cjk_family
from exporters.pdf_text import fix_to_unicode
from layers.i18n import tr


def docs_dir() -> Path:
    base = getattr(sys, "_MEIPASS", None)  # a PyInstaller bundle carries docs/ inside
    return Path(base) / "docs" if base else Path(__file__).resolve().parents[1] / "docs"


def manual_path(lang: str) -> Path:
    return docs_dir() / f"manual.{'en' if lang == 'en' else 'zh'}.md"


def manual_document(lang: str) -> QTextDocument:
    """The guide as a Qt document (images resolved next to the Markdown file)."""
    path = manual_path(lang)
    doc = QTextDocument()
    doc.setBaseUrl(QUrl.fromLocalFile(str(path.parent) + os.sep))
    doc.setMarkdown(path.read_text(encoding="utf-8"))
    return doc


def fit_images(doc: QTextDocument, width: float) -> int:
    """Scale every image wider than ``width`` (document units) down to it; returns how many.

    Markdown gives an image no size, and a 1920-pixel screenshot would run off the page.
    """
    fitted = 0
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            if frag.isValid() and fmt.isImageFormat():
                img_fmt = fmt.toImageFormat()
                image = doc.resource(QTextDocument.ResourceType.ImageResource,
                                     QUrl(img_fmt.name()))
                natural = image.width() if hasattr(image, "width") else 0
                if natural and natural > width:
                    new = QTextImageFormat(img_fmt)
                    new.setWidth(width)
                    new.setHeight(image.height() * width / natural)
                    cur = QTextCursor(doc)
                    cur.setPosition(frag.position())
                    cur.setPosition(frag.position() + frag.length(),
                                    QTextCursor.MoveMode.KeepAnchor)
                    cur.setCharFormat(new)
                    fitted += 1
            it += 1
        block = block.next()
    return fitted


def manual_pdf(lang: str, out: str | os.PathLike[str]) -> Path:
    """Print the guide to ``out`` (A4 portrait), written atomically."""
    target = Path(out)
    tmp = target.with_name(f".{target.name}.tmp")
    writer = QPdfWriter(str(tmp))
    writer.setResolution(110)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait,
                                     QMarginsF(16, 16, 16, 16), QPageLayout.Unit.Millimeter))
    writer.setTitle(tr("manual_title", lang))
    writer.setCreator("cockpit")
    doc = manual_document(lang)
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    doc.setDefaultFont(_print_font(lang))
    fit_images(doc, rect.width() - 8)
    doc.print_(writer)
    del writer  # closes the file
    # Qt maps some CJK glyphs to Kangxi radicals in the text layer (心 → ⼼): mend it as the
    # briefing does, so the guide can be searched and copied
    fix_to_unicode(tmp, cjk_family())
    os.replace(tmp, target)
    return target


def _print_font(lang: str):
    from PySide6.QtGui import QFont

    from painting.fonts import CJK_FAMILIES

    f = QFont()
    f.setFamilies(["DejaVu Sans", *CJK_FAMILIES] if lang == "en" else [*CJK_FAMILIES])
    f.setPointSizeF(10)
    return f


class ManualWindow(QDialog):
    """帮助 → 使用手册: the guide in the window's language, switchable, printable."""

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.setWindowTitle(tr("manual_title", lang))
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)  # offline: no link leaves the program
        self.browser.setOpenLinks(True)
        self.switch_button = QPushButton()
        self.switch_button.clicked.connect(
            lambda: self.show_language("en" if self.lang == "zh" else "zh"))
        self.pdf_button = QPushButton(tr("manual_pdf", lang))
        self.pdf_button.clicked.connect(self._ask_pdf)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.switch_button)
        bar.addWidget(self.pdf_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addLayout(bar)
        self.resize(1000, 800)
        self.show_language(lang)

    def show_language(self, lang: str) -> None:
        self.lang = lang
        path = manual_path(lang)
        self.browser.setSearchPaths([str(path.parent)])
        self.browser.setSource(QUrl.fromLocalFile(str(path)),
                               QTextDocument.ResourceType.MarkdownResource)
        self.switch_button.setText("English" if lang == "zh" else "中文")
        self.pdf_button.setText(tr("manual_pdf", lang))
        self.setWindowTitle(tr("manual_title", lang))

    def _ask_pdf(self) -> None:
        out, _ = QFileDialog.getSaveFileName(self, tr("manual_pdf", self.lang),
                                             f"cockpit-manual-{self.lang}.pdf", "PDF (*.pdf)")
        if out:
            manual_pdf(self.lang, out)
