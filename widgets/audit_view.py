"""The audit log, read-only: newest first, filtered by text and by action.

``AuditLogView.set_rows(headers, rows, actions, note)`` shows rows already in words
(``layers.audit_log``); the filter box keeps the rows with the text in any cell
(case-insensitive), the action box those of one action. Nothing can be edited.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layers.i18n import tr

from .theme import DARK, Theme, css, make_font, table_style_sheet

ACTION_COLUMN = 2


class _Filter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.action = ""

    def set(self, text: str, action: str) -> None:
        self.beginFilterChange()  # Qt 6.9+: the pair replaces the deprecated invalidate*()
        self.text, self.action = text.casefold().strip(), action
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: object) -> bool:
        m = self.sourceModel()
        cells = [str(m.index(row, c, parent).data() or "") for c in range(m.columnCount())]
        if self.action and cells[ACTION_COLUMN] != self.action:
            return False
        return not self.text or any(self.text in c.casefold() for c in cells)


class AuditLogView(QWidget):
    refresh_requested = Signal()

    def __init__(self, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = theme, scale
        self.model = QStandardItemModel()
        self.proxy = _Filter()
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.actions_box = QComboBox()
        self.count = QLabel()
        self.note = QLabel()
        self.refresh = QPushButton(tr("audit_refresh"))
        self.refresh.clicked.connect(self.refresh_requested)
        self.search.textChanged.connect(self._apply)
        self.actions_box.currentIndexChanged.connect(self._apply)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("audit_filter")))
        top.addWidget(self.search, 1)
        top.addWidget(self.actions_box)
        top.addWidget(self.refresh)
        top.addWidget(self.count)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.note)
        self._restyle()

    def set_rows(self, headers: Sequence[str], rows: Sequence[Sequence[str]],
                 actions: Sequence[str], note: str = "") -> None:
        self.model.clear()
        self.model.setHorizontalHeaderLabels(list(headers))
        for row in rows:
            items = []
            for cell in row:
                it = QStandardItem(cell)
                it.setEditable(False)
                it.setToolTip(cell)
                items.append(it)
            self.model.appendRow(items)
        current = self.actions_box.currentData()
        self.actions_box.blockSignals(True)
        self.actions_box.clear()
        self.actions_box.addItem(tr("audit_all_actions"), "")
        for a in actions:
            self.actions_box.addItem(a, a)
        at = self.actions_box.findData(current)
        self.actions_box.setCurrentIndex(max(0, at))
        self.actions_box.blockSignals(False)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self._apply()
        for c, w in enumerate((150, 150, 120, 360, 220, 50)):
            self.view.setColumnWidth(c, round(w * self._scale))

    def set_filter(self, text: str, action: str = "") -> None:
        self.search.setText(text)
        at = self.actions_box.findData(action)
        self.actions_box.setCurrentIndex(max(0, at))

    def shown(self) -> list[tuple[str, ...]]:
        """The rows as shown now (filtered), top first."""
        p = self.proxy
        return [tuple(str(p.index(r, c).data() or "") for c in range(p.columnCount()))
                for r in range(p.rowCount())]

    def _apply(self) -> None:
        self.proxy.set(self.search.text(), str(self.actions_box.currentData() or ""))
        self.count.setText(tr("audit_count", shown=f"{self.proxy.rowCount():,}",
                              total=f"{self.model.rowCount():,}"))

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def _restyle(self) -> None:
        t, s = self._theme, self._scale
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"AuditLogView {{ background: {css(t.panel)}; }}"
                           f"QLabel {{ color: {css(t.text)}; }}")
        self.view.setStyleSheet(table_style_sheet(t, s))
        self.view.setFont(make_font(t, 10, s))
        self.note.setStyleSheet(f"color: {css(t.bad)};")
        self.view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                                         | Qt.AlignmentFlag.AlignVCenter)
