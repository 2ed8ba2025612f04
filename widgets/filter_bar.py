"""The active filter as removable chips, and one button that clears everything."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from layers.filter_text import Chip
from layers.i18n import tr

from .theme import DARK, Theme, css, make_font, qcolor


class FilterBar(QWidget):
    chip_removed = Signal(object)  # Chip
    clear_all = Signal()

    def __init__(self, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = theme, scale
        self._chips: list[QPushButton] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._idle = tr("no_filter")  # the jurisdiction's words: set_idle_text
        self._empty = QLabel(self._idle)
        self._layout.addWidget(self._empty)
        self._layout.addStretch(1)
        self._clear = QPushButton(tr("clear_all"))
        self._clear.clicked.connect(self.clear_all)
        self._layout.addWidget(self._clear)
        self._restyle()
        self.set_chips(())

    def chips(self) -> list[QPushButton]:
        return list(self._chips)

    def set_chips(self, chips: tuple[Chip, ...]) -> None:
        for b in self._chips:
            self._layout.removeWidget(b)
            b.deleteLater()
        self._chips = []
        for i, chip in enumerate(chips):
            b = QPushButton(f"{chip.label}  ✕")
            b.setToolTip(tr("close"))
            b.clicked.connect(lambda _=False, c=chip: self.chip_removed.emit(c))
            b.setStyleSheet(self._chip_css())
            b.setFont(make_font(self._theme, 10, self._scale))
            self._layout.insertWidget(1 + i, b)
            self._chips.append(b)
        self._empty.setVisible(not chips)
        self._clear.setEnabled(bool(chips))

    def set_idle_text(self, text: str) -> None:
        """What the bar says with no filter ("未筛选: 全县全部数据", or 全省 … on a province)."""
        self._idle = text
        self._empty.setText(text)

    def retranslate(self) -> None:
        self._empty.setText(self._idle)
        self._clear.setText(tr("clear_all"))

    def _chip_css(self) -> str:
        t, s = self._theme, self._scale
        return (f"QPushButton {{ color: {css(t.text)}; background: {css((*t.accent[:3], 60))};"
                f" border: 1px solid {css(t.accent)}; border-radius: {round(10 * s)}px;"
                f" padding: {round(2 * s)}px {round(10 * s)}px; }}"
                f"QPushButton:hover {{ background: {css((*t.accent[:3], 110))}; }}")

    def _restyle(self) -> None:
        t, s = self._theme, self._scale
        self._layout.setSpacing(round(6 * s))
        font = make_font(t, 10, s)
        for w in (self, self._empty, self._clear, *self._chips):
            w.setFont(font)
        pal = self._empty.palette()
        pal.setColor(self._empty.foregroundRole(), qcolor(t.muted))
        self._empty.setPalette(pal)
        self._clear.setStyleSheet(
            f"QPushButton {{ color: {css(t.text)}; background: {css(t.panel)};"
            f" border: 1px solid {css(t.grid)}; padding: {round(2 * s)}px {round(10 * s)}px; }}"
            f"QPushButton:disabled {{ color: {css(t.muted)}; }}")
        for b in self._chips:
            b.setStyleSheet(self._chip_css())

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()
