"""County → town → village as a tree; a click selects the area (children included)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from .records_menu import offer_records, wants_records
from .theme import DARK, Theme, TitleLabel, make_font, signals_blocked, table_style_sheet

AreaRow = tuple[str, str, str | None, str | None]
"""(area id, name, parent id, level)."""


class AreaTree(QWidget):
    area_selected = Signal(str)
    records_requested = Signal(str, str)
    """("area", area id): the incidents of an area (Ctrl+click or the context menu)."""

    def __init__(self, title: str = "", theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = theme, scale
        self._title = TitleLabel()
        self._title.setText(title)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.records_enabled = False
        self._items: dict[str, QTreeWidgetItem] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._title)
        lay.addWidget(self.tree, 1)
        self._restyle()

    def set_areas(self, rows: Sequence[AreaRow]) -> None:
        self.tree.clear()
        self._items = {}
        ids = {r[0] for r in rows}
        pending = list(rows)
        # parents before children, whatever the order of the rows
        for _ in range(6):
            rest = []
            for area_id, name, parent, _level in pending:
                if parent in ids and parent not in self._items and parent != area_id:
                    rest.append((area_id, name, parent, _level))
                    continue
                item = QTreeWidgetItem([name])
                item.setData(0, Qt.ItemDataRole.UserRole, area_id)
                item.setToolTip(0, area_id)
                holder = self._items.get(parent) if parent else None
                (holder.addChild(item) if holder is not None
                 else self.tree.addTopLevelItem(item))
                self._items[area_id] = item
            pending = rest
            if not pending:
                break
        for i in range(self.tree.topLevelItemCount()):
            self.tree.topLevelItem(i).setExpanded(True)

    def set_selected(self, area_ids: frozenset[str]) -> None:
        with signals_blocked(self.tree):
            self.tree.clearSelection()
            for a in area_ids:
                item = self._items.get(a)
                if item is not None:
                    item.setSelected(True)

    def item(self, area_id: str) -> QTreeWidgetItem | None:
        return self._items.get(area_id)

    def _clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        area_id = str(item.data(0, Qt.ItemDataRole.UserRole))
        if self.records_enabled and wants_records(QGuiApplication.keyboardModifiers()):
            self.records_requested.emit("area", area_id)
        else:
            self.area_selected.emit(area_id)

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is not None and self.records_enabled:
            area_id = str(item.data(0, Qt.ItemDataRole.UserRole))
            offer_records(self, self.tree.viewport().mapToGlobal(pos),
                          lambda: self.records_requested.emit("area", area_id))

    def set_title(self, text: str) -> None:
        self._title.setText(text)

    def _restyle(self) -> None:
        self._title.restyle(self._theme, self._scale)
        self.tree.setFont(make_font(self._theme, 10, self._scale))
        self.tree.setStyleSheet(table_style_sheet(self._theme, self._scale).replace(
            "QTableView", "QTreeWidget"))

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()
