"""Colours, fonts and sizes shared by every panel of the cockpit, and the small pieces they share.

Definitions:
- A ``Theme`` is a frozen set of RGBA colours plus a font family list. ``DARK`` is for
  the command-centre wall (deep navy, bright accents readable from across the room),
  ``LIGHT`` for desks and print previews.
- ``good`` is green and ``bad`` red: in a KPI a change is "good" when it goes the way the
  tile wants (incidents down, rates up); ``alarm`` marks tiles/rows that need action now;
  ``highlight`` marks selected bars and is kept out of the series palette so a selection
  never looks like a category.
- Sizes are given in points at the 1920x1080 reference screen; ``scale`` multiplies them
  (the window passes 1.0 at 1920x1080 and 2.0 at 3840x2160).
- Fonts list the CJK families first so Chinese never falls back to boxes; Qt picks the
  first installed one and falls back per glyph along the list.

Shared pieces: ``TitleLabel`` (an eliding panel title), ``no_data_label`` (the "无数据"
placeholder), ``table_style_sheet`` and ``signals_blocked`` (QSignalBlocker is unsafe here).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QSizePolicy, QWidget

from layers.i18n import tr
from painting.fonts import CJK_FAMILIES

RGBA = tuple[int, int, int, int]

FONT_FAMILIES: tuple[str, ...] = (*CJK_FAMILIES, "sans-serif")


@dataclass(frozen=True)
class Theme:
    """The colours (RGBA) and fonts of one look."""

    name: str
    background: RGBA
    """Behind the panels (the window)."""
    panel: RGBA
    """A panel's own background."""
    text: RGBA
    muted: RGBA
    """Secondary text: titles of tiles, details, axis labels."""
    grid: RGBA
    """Grid lines, axes, borders."""
    accent: RGBA
    good: RGBA
    bad: RGBA
    alarm: RGBA
    highlight: RGBA
    """Selected bars and rows."""
    series: tuple[RGBA, ...]
    """Eight category colours, distinct from each other and from ``highlight``."""
    fonts: tuple[str, ...] = FONT_FAMILIES


DARK = Theme(
    name="dark",
    background=(11, 26, 46, 255),  # #0b1a2e
    panel=(16, 36, 62, 255),  # #10243e
    text=(230, 240, 255, 255),
    muted=(138, 160, 189, 255),
    grid=(40, 66, 98, 255),
    accent=(46, 199, 255, 255),
    good=(61, 220, 132, 255),
    bad=(255, 92, 92, 255),
    alarm=(255, 59, 48, 255),
    highlight=(255, 214, 10, 255),
    series=(
        (46, 199, 255, 255),  # cyan
        (255, 140, 66, 255),  # orange
        (92, 219, 149, 255),  # green
        (178, 132, 255, 255),  # violet
        (255, 99, 164, 255),  # pink
        (77, 124, 255, 255),  # blue
        (0, 201, 167, 255),  # teal
        (214, 178, 122, 255),  # sand
    ),
)

LIGHT = Theme(
    name="light",
    background=(240, 243, 247, 255),
    panel=(255, 255, 255, 255),
    text=(31, 41, 55, 255),
    muted=(100, 110, 125, 255),
    grid=(218, 223, 230, 255),
    accent=(22, 119, 255, 255),
    good=(22, 150, 70, 255),
    bad=(215, 38, 61, 255),
    alarm=(230, 30, 30, 255),
    highlight=(255, 184, 0, 255),
    series=(
        (22, 119, 255, 255),  # blue
        (250, 110, 30, 255),  # orange
        (56, 168, 60, 255),  # green
        (125, 60, 210, 255),  # purple
        (220, 50, 140, 255),  # magenta
        (0, 160, 170, 255),  # cyan
        (150, 100, 60, 255),  # brown
        (100, 110, 130, 255),  # slate
    ),
)


def scale(points: float, factor: float) -> float:
    """A size in points at the reference screen, scaled for this screen (never below 1)."""
    return max(1.0, points * factor)


def qcolor(rgba: RGBA, alpha: int | None = None) -> QColor:
    r, g, b, a = rgba
    return QColor(r, g, b, a if alpha is None else alpha)


def css(rgba: RGBA) -> str:
    r, g, b, a = rgba
    return f"rgba({r},{g},{b},{a})"


def make_font(theme: Theme, points: float, factor: float, bold: bool = False) -> QFont:
    """The theme's font at ``points`` (reference size) times ``factor``."""
    font = QFont()
    font.setFamilies(list(theme.fonts))
    font.setPointSizeF(scale(points, factor))
    font.setBold(bold)
    return font


def apply_theme(target: QApplication | QWidget, theme: Theme, factor: float = 1.0) -> None:
    """Palette, base font and a small stylesheet on the application or on one widget tree."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.background,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.panel,
        QPalette.ColorRole.AlternateBase: theme.background,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.panel,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.background,
        QPalette.ColorRole.ToolTipBase: theme.panel,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Mid: theme.grid,
    }
    for role, rgba in roles.items():
        pal.setColor(role, qcolor(rgba))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, qcolor(theme.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText,
                 qcolor(theme.muted))
    font = make_font(theme, 10, factor)
    target.setPalette(pal)
    target.setFont(font)
    families = ", ".join(f'"{f}"' if f != "sans-serif" else f for f in theme.fonts)
    target.setStyleSheet(
        f"QToolTip {{ color: {css(theme.text)}; background: {css(theme.panel)};"
        f" border: 1px solid {css(theme.grid)}; font-family: {families}; }}\n"
        + table_style_sheet(theme, factor)
    )


def table_style_sheet(theme: Theme, factor: float) -> str:
    """Colours of item views and their headers (a stylesheet, since it outranks palettes)."""
    families = ", ".join(f'"{f}"' if f != "sans-serif" else f for f in theme.fonts)
    return (
        f"QTableView {{ font-family: {families}; font-size: {scale(10, factor):.1f}pt;"
        f" color: {css(theme.text)}; background: {css(theme.panel)};"
        f" gridline-color: {css(theme.grid)}; border: none;"
        f" selection-color: {css(theme.text)};"
        f" selection-background-color: {css((*theme.accent[:3], 90))}; }}\n"
        f"QHeaderView::section {{ color: {css(theme.muted)}; background: {css(theme.panel)};"
        f" font-size: {scale(9.5, factor):.1f}pt; font-weight: bold;"
        f" border: none; border-bottom: 1px solid {css(theme.grid)};"
        f" padding: {round(4 * factor)}px; }}\n"
    )


class TitleLabel(QLabel):
    """A one-line panel title that elides instead of clipping or widening its panel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def restyle(self, theme: Theme, factor: float) -> None:
        self.setFont(make_font(theme, 11, factor, bold=True))
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.WindowText, qcolor(theme.text))
        self.setPalette(pal)
        self.setFixedHeight(QFontMetrics(self.font()).height() + round(6 * factor))

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setFont(self.font())
        p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                            self.width())
        p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                   text)
        p.end()


def no_data_label(theme: Theme, factor: float, label: QLabel | None = None,
                  error: str | None = None) -> QLabel:
    """The centred "无数据" placeholder every panel shows for an empty spec.

    With ``error`` it says instead, in red, that this panel failed and why.
    """
    label = label or QLabel()
    label.setText(tr("panel_failed", error=error) if error else tr("no_data"))
    label.setWordWrap(bool(error))
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setFont(make_font(theme, 11 if error else 14, factor))
    pal = label.palette()
    pal.setColor(QPalette.ColorRole.WindowText, qcolor(theme.bad if error else theme.muted))
    label.setPalette(pal)
    return label


@contextmanager
def signals_blocked(obj: QObject) -> Iterator[None]:
    """Block ``obj``'s signals for the block, restoring the previous state.

    Used instead of ``QSignalBlocker``: in PySide6 6.12 every QSignalBlocker construction
    drops a reference to ``None`` (sys.getrefcount(None) falls by one each time), which
    after enough refreshes aborts the interpreter ("deallocating None").
    """
    was = obj.blockSignals(True)
    try:
        yield
    finally:
        obj.blockSignals(was)
