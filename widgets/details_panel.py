"""What a map click opens: the object's details and the nearest available forces."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layers.details import Details, Dispatch
from layers.i18n import tr

from .tables import DataTable
from .theme import DARK, Theme, TitleLabel, css, make_font, qcolor


class DetailsPanel(QFrame):
    """A floating card over the map; ``closed`` when the user dismisses it."""

    closed = Signal()
    row_activated = Signal(str, str, object)

    def __init__(self, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = theme, scale
        self._dispatch: Dispatch | None = None
        self._title = TitleLabel()
        self._close = QPushButton("✕")
        self._close.setToolTip(tr("close"))
        self._close.clicked.connect(self._on_close)
        self._copy = QPushButton(tr("copy"))
        self._copy.clicked.connect(self.copy)
        top = QHBoxLayout()
        top.addWidget(self._title, 1)
        top.addWidget(self._copy)
        top.addWidget(self._close)
        self._fields = QGridLayout()
        self._field_labels: list[QLabel] = []
        self.table = DataTable(None, theme, scale)
        self.table.row_activated.connect(self.row_activated)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(self._fields)
        lay.addWidget(self.table, 1)
        self._restyle()
        self.hide()

    def show_details(self, details: Details | None) -> None:
        for w in self._field_labels:
            self._fields.removeWidget(w)
            w.deleteLater()
        self._field_labels = []
        if details is None:
            return
        self._title.setText(details.title)
        for i, (k, v) in enumerate(details.rows):
            a, b = QLabel(k), QLabel(v)
            b.setWordWrap(True)
            b.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            for lab, muted in ((a, True), (b, False)):
                lab.setFont(make_font(self._theme, 10, self._scale))
                pal = lab.palette()
                pal.setColor(lab.foregroundRole(),
                             qcolor(self._theme.muted if muted else self._theme.text))
                lab.setPalette(pal)
            self._fields.addWidget(a, i, 0)
            self._fields.addWidget(b, i, 1)
            self._field_labels += [a, b]
        self.show()
        self.raise_()

    def show_dispatch(self, dispatch: Dispatch | None) -> None:
        self._dispatch = dispatch
        self.table.set_spec(dispatch.table if dispatch else None)
        self.table.setVisible(dispatch is not None)
        self._copy.setEnabled(dispatch is not None)
        if dispatch is not None:
            if not self._field_labels:
                self._title.setText(dispatch.origin)
            self.show()
            self.raise_()

    def dispatch_text(self) -> str:
        return self._dispatch.text if self._dispatch else ""

    def copy(self) -> None:
        if self._dispatch is not None:
            QGuiApplication.clipboard().setText(self._dispatch.text)

    def _on_close(self) -> None:
        self.dismiss()

    def dismiss(self) -> None:
        """Close the card as its ✕ does (the wall does it after a timeout)."""
        if self.isVisible():
            self.hide()
            self.closed.emit()

    def retranslate(self) -> None:
        self._copy.setText(tr("copy"))
        self._close.setToolTip(tr("close"))

    def _restyle(self) -> None:
        t, s = self._theme, self._scale
        self._title.restyle(t, s)
        self.setStyleSheet(
            f"DetailsPanel {{ background: {css((*t.panel[:3], 235))};"
            f" border: 1px solid {css(t.accent)}; border-radius: {round(6 * s)}px; }}"
            f"QPushButton {{ color: {css(t.text)}; background: {css(t.background)};"
            f" border: 1px solid {css(t.grid)}; padding: {round(2 * s)}px {round(8 * s)}px; }}")
        self._copy.setFont(make_font(t, 10, s))
        self._close.setFont(make_font(t, 10, s))
        self.table.set_theme(t)
        self.table.set_scale(s)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()
