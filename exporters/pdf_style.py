"""The print look of the PDF briefing: paper sizes, a light palette, type, and the context
every painter of the briefing draws with (QtGui only, no widgets).

Units: painters draw in device units of the ``QPdfWriter`` (``RESOLUTION`` dots per inch);
``Ctx.mm`` converts millimetres to them. Font sizes are points, which Qt converts with
the writer's own resolution, so type has the same physical size on A4 and A3.

Fonts: a Latin family first, then the CJK families (Qt falls back per glyph along the
list). The Latin family is there for a reason beyond looks: Qt's PDF writer leaves the
digits of Noto Sans CJK (proportional) out of the text layer (they print, but copying
and searching the PDF loses them), while digits of a Latin font extract correctly.
Ligatures are switched off so that "fi" extracts as two letters.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QPageSize,
    QPainter,
)

from painting.fonts import CJK_FAMILIES, ensure_cjk_font

RGBA = tuple[int, int, int, int]
RESOLUTION = 300
"""Dots per inch of the writer: coordinates are floats, this only sets their unit."""

LATIN_FAMILIES: tuple[str, ...] = ("DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial")


@dataclass(frozen=True)
class Paper:
    """A sheet and how the briefing uses it (millimetres)."""

    key: str
    size_id: QPageSize.PageSizeId
    landscape: bool
    width: float
    height: float
    columns: int
    margin: float = 14.0
    header: float = 11.0
    """Band above the content (marking, region, page title)."""
    footer: float = 10.0
    gap: float = 7.0
    """Between columns, and between blocks in a column."""

    @property
    def content_width(self) -> float:
        return self.width - 2 * self.margin

    @property
    def content_height(self) -> float:
        return self.height - 2 * self.margin - self.header - self.footer


PAPERS: dict[str, Paper] = {
    "a4": Paper("a4", QPageSize.PageSizeId.A4, False, 210.0, 297.0, 1),
    "a3": Paper("a3", QPageSize.PageSizeId.A3, True, 420.0, 297.0, 2),
}


@dataclass(frozen=True)
class PrintStyle:
    """Colours for paper (the values of ``widgets.theme.LIGHT``, plus print-only ones)."""

    text: RGBA = (31, 41, 55, 255)
    muted: RGBA = (100, 110, 125, 255)
    grid: RGBA = (218, 223, 230, 255)
    rule: RGBA = (150, 160, 175, 255)
    accent: RGBA = (22, 119, 255, 255)
    good: RGBA = (22, 150, 70, 255)
    bad: RGBA = (215, 38, 61, 255)
    alarm: RGBA = (230, 30, 30, 255)
    marking: RGBA = (190, 0, 0, 255)
    panel: RGBA = (246, 248, 251, 255)
    head_fill: RGBA = (228, 234, 242, 255)
    zebra: RGBA = (247, 249, 252, 255)
    alarm_fill: RGBA = (253, 236, 236, 255)
    map_fill: RGBA = (250, 251, 253, 255)
    label: RGBA = (25, 35, 50, 255)
    """Map labels: dark text with a white halo (the scene's are for a dark screen)."""
    label_halo: RGBA = (255, 255, 255, 230)
    series: tuple[RGBA, ...] = ((22, 119, 255, 255), (56, 168, 60, 255), (250, 110, 30, 255),
                                (125, 60, 210, 255))
    size_title: float = 20.0
    size_h1: float = 13.0
    size_h2: float = 10.0
    size_body: float = 9.0
    size_table: float = 7.8
    size_small: float = 7.0
    size_kpi: float = 15.0


_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def printable(text: str) -> str:
    """Text from an extract as it may be printed: no control characters, and no
    direction overrides or invisible marks (which can make "123" print as "321")."""
    return _INVISIBLE.sub("", text).replace("\n", " ").replace("\t", " ")


def qcolor(rgba: RGBA | tuple[int, ...], alpha: int | None = None) -> QColor:
    r, g, b, a = (int(v) for v in rgba)
    return QColor(r, g, b, a if alpha is None else alpha)


def families() -> list[str]:
    """Installed Latin family (first found) then the installed CJK families."""
    have = set(QFontDatabase.families())
    latin = [f for f in LATIN_FAMILIES if f in have][:1]
    cjk = [f for f in CJK_FAMILIES if f in have]
    return [*latin, *cjk] or ["sans-serif"]


def cjk_family() -> str | None:
    have = set(QFontDatabase.families())
    return next((f for f in CJK_FAMILIES if f in have), None)


_app: QGuiApplication | None = None


def ensure_gui() -> QGuiApplication:
    """The running Qt application, or a new offscreen one (a PDF never needs a display)."""
    global _app
    app = QGuiApplication.instance()
    if app is not None:
        return app  # type: ignore[return-value]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication(["cockpit-export"])
    ensure_cjk_font()
    return _app


@dataclass
class Ctx:
    """What a painter needs: the painter, the device scale, style, language, fonts."""

    painter: QPainter
    device: object
    """The QPdfWriter: fonts are measured against its resolution."""
    style: PrintStyle
    lang: str
    dpmm: float = RESOLUTION / 25.4
    _families: list[str] = field(default_factory=families)
    _fonts: dict[tuple[float, bool], QFont] = field(default_factory=dict)
    _metrics: dict[tuple[float, bool], QFontMetricsF] = field(default_factory=dict)

    def mm(self, v: float) -> float:
        return v * self.dpmm

    def font(self, size: float, bold: bool = False) -> QFont:
        key = (round(size, 2), bold)
        f = self._fonts.get(key)
        if f is None:
            f = QFont()
            f.setFamilies(self._families)
            f.setPointSizeF(size)
            f.setBold(bold)
            f.setFeature(QFont.Tag("liga"), 0)
            f.setFeature(QFont.Tag("clig"), 0)
            self._fonts[key] = f
        return f

    def metrics(self, size: float, bold: bool = False) -> QFontMetricsF:
        key = (round(size, 2), bold)
        m = self._metrics.get(key)
        if m is None:
            m = QFontMetricsF(self.font(size, bold), self.device)
            self._metrics[key] = m
        return m

    def line(self, size: float, bold: bool = False) -> float:
        """Line height of a font, in device units."""
        return self.metrics(size, bold).height()

    def width(self, text: str, size: float, bold: bool = False) -> float:
        return self.metrics(size, bold).horizontalAdvance(text)
