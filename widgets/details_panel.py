"""What a map click opens: the object's details and the nearest available forces.

Personal data arrives masked. Where the panel may reveal it (``reveal_enabled``, set only
on a desk), each personal field of the details gets a 显示 button and the dispatch list
two buttons for the selected force; they emit ``reveal_requested(table, id, field)`` and
whoever listens (an audited revealer) answers with ``show_revealed``. On the wall the
buttons are never made.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from data.reveal import is_personal
from layers.details import Details, Dispatch
from layers.i18n import tr

from .tables import DataTable
from .theme import DARK, Theme, TitleLabel, css, make_font, qcolor


class DetailsPanel(QFrame):
    """A floating card over the map; ``closed`` when the user dismisses it."""

    closed = Signal()
    row_activated = Signal(str, str, object)
    reveal_requested = Signal(str, str, str)
    """(table, record id, field): show this personal value (audited by the listener)."""

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
        self.reveal_enabled = False
        """Whether personal data can be asked for here (a desk; never the wall)."""
        self._details: Details | None = None
        self._values: dict[tuple[str, str, str], QLabel] = {}
        self._reveal_buttons: list[QPushButton] = []
        self.reveal_name = QPushButton(tr("reveal_name"))
        self.reveal_phone = QPushButton(tr("reveal_phone"))
        self.reveal_name.clicked.connect(lambda: self._reveal_selected("name"))
        self.reveal_phone.clicked.connect(lambda: self._reveal_selected("phone"))
        self._dispatch_buttons = QHBoxLayout()
        self._dispatch_buttons.addStretch(1)
        for b in (self.reveal_name, self.reveal_phone):
            b.hide()
            self._dispatch_buttons.addWidget(b)
        self.table.view().clicked.connect(lambda _i: self._sync_reveal_buttons())
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(self._fields)
        lay.addWidget(self.table, 1)
        lay.addLayout(self._dispatch_buttons)
        self._restyle()
        self.hide()

    def show_details(self, details: Details | None) -> None:
        for w in [*self._field_labels, *self._reveal_buttons]:
            self._fields.removeWidget(w)
            w.deleteLater()
        self._field_labels, self._reveal_buttons = [], []
        self._details = details
        self._values = {}
        if details is None:
            return
        self._title.setText(details.title)
        personal = dict(details.personal) if self.reveal_enabled and details.record else {}
        for i, (k, v) in enumerate(details.rows):
            a, b = QLabel(k), QLabel(v)
            if i in personal and details.record is not None:
                key = (*details.record, personal[i])
                self._values[key] = b
                button = QPushButton(tr("reveal_button"))
                button.setObjectName(f"reveal_{personal[i]}")
                button.setFont(make_font(self._theme, 9, self._scale))
                button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
                button.clicked.connect(lambda _=False, key=key: self.reveal_requested.emit(*key))
                self._fields.addWidget(button, i, 2)
                self._reveal_buttons.append(button)
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
        for b in (self.reveal_name, self.reveal_phone):
            b.setVisible(self.reveal_enabled and dispatch is not None)
        self._sync_reveal_buttons()
        if dispatch is not None:
            if not self._field_labels:
                self._title.setText(dispatch.origin)
            self.show()
            self.raise_()

    # ------------------------------------------------------------------ revealing
    def _selected_force(self) -> tuple[str, str] | None:
        """(resource id, kind) of the dispatch row selected."""
        d = self._dispatch
        rows = self.table.view().selectionModel().selectedRows() if d else []
        if not rows or d is None:
            return None
        r = self.table.shown_rows()[rows[0].row()]
        kind = d.kinds[r] if r < len(d.kinds) else None
        return (d.table.keys[r], kind) if r < len(d.table.keys) else None

    def _sync_reveal_buttons(self) -> None:
        picked = self._selected_force()
        self.reveal_phone.setEnabled(picked is not None)
        self.reveal_name.setEnabled(picked is not None and is_personal(
            "resources", "name", picked[1]))

    def select_force(self, row: int) -> None:
        """Select a row of the dispatch list (as a click on it does)."""
        self.table.view().selectRow(row)
        self._sync_reveal_buttons()

    def _reveal_selected(self, field: str) -> None:
        picked = self._selected_force()
        if picked is not None and self.reveal_enabled:
            self.reveal_requested.emit("resources", picked[0], field)

    def show_revealed(self, table: str, record_id: str, field: str, value: str | None) -> None:
        """Show a value the listener revealed (and audited), where it is on the card."""
        text = value if value else "—"
        label = self._values.get((table, record_id, field))
        if label is not None:
            label.setText(text)
            label.setToolTip(tr("reveal_logged"))
        d = self._dispatch
        if d is not None and table == "resources" and record_id in d.table.keys:
            r = d.table.keys.index(record_id)
            col = {"name": 1, "phone": 3}[field]
            rows = list(d.table.rows)
            cells = list(rows[r])
            cells[col] = text
            rows[r] = tuple(cells)
            self._dispatch = dataclasses.replace(d, table=dataclasses.replace(
                d.table, rows=tuple(rows)))
            self.table.set_spec(self._dispatch.table)
            self.select_force(self.table.shown_rows().index(r))

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
        self.reveal_name.setText(tr("reveal_name"))
        self.reveal_phone.setText(tr("reveal_phone"))
        self._close.setToolTip(tr("close"))

    def _restyle(self) -> None:
        t, s = self._theme, self._scale
        self._title.restyle(t, s)
        self.setStyleSheet(
            f"DetailsPanel {{ background: {css((*t.panel[:3], 235))};"
            f" border: 1px solid {css(t.accent)}; border-radius: {round(6 * s)}px; }}"
            f"QPushButton {{ color: {css(t.text)}; background: {css(t.background)};"
            f" border: 1px solid {css(t.grid)}; padding: {round(2 * s)}px {round(8 * s)}px; }}")
        for b in (self._copy, self._close, self.reveal_name, self.reveal_phone):
            b.setFont(make_font(t, 10, s))
        self.table.set_theme(t)
        self.table.set_scale(s)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()
