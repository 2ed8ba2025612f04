"""Tables beside the map (overdue hazards, repeat places, town rankings...).

``DataTable`` shows a ``layers.panels.TableSpec`` of already formatted cells. Definitions:
- numeric columns (``spec.numeric``) are right-aligned and sort by the number in the text:
  thousands separators, a trailing %, a sign (also U+2212) and the Chinese units 万 (1e4)
  and 亿 (1e8) are understood ("1,234" > "987", "87.7%" > "9.5%"); cells without a number
  ("—", "") sort after every number whatever the direction;
- other columns sort as text;
- rows in ``spec.alarm_rows`` are drawn in the alarm colour on an alarm tint;
- a click on a row emits ``row_activated(field, key, location)`` with the row's key and its
  (lon, lat) or None, when the spec has a ``field`` and the row a key;
- ``copy_text()`` is the table as shown (current sort), tab-separated, header first;
  Ctrl+C puts it on the clipboard.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontMetrics, QGuiApplication, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layers.panels import TableSpec
from widgets.records_menu import offer_records, wants_records
from widgets.theme import (
    DARK,
    Theme,
    TitleLabel,
    make_font,
    no_data_label,
    qcolor,
    signals_blocked,
    table_style_sheet,
)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
_NUMBER = re.compile(r"[-+\u2212]?\d[\d,]*(?:\.\d+)?|[-+\u2212]?\.\d+")
_UNITS = {"万": 1e4, "亿": 1e8}

_Index = QModelIndex | QPersistentModelIndex


def parse_number(text: str) -> float | None:
    """The number a formatted cell shows ("1,234" → 1234, "87.7%" → 87.7, "1.2万" → 12000)."""
    m = _NUMBER.search(text)
    if m is None:
        return None
    value = float(m.group().replace(",", "").replace("\u2212", "-"))
    rest = text[m.end():].lstrip()
    if rest[:1] in _UNITS:
        value *= _UNITS[rest[0]]
    return value if math.isfinite(value) else None


class TableModel(QAbstractTableModel):
    """A read-only model over a ``TableSpec``."""

    def __init__(self, theme: Theme = DARK) -> None:
        super().__init__()
        self.spec: TableSpec | None = None
        self.theme = theme

    def set_spec(self, spec: TableSpec | None) -> None:
        self.beginResetModel()
        self.spec = spec
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if self.spec is None or parent.isValid() else len(self.spec.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if self.spec is None or parent.isValid() else len(self.spec.columns)

    def is_numeric(self, column: int) -> bool:
        s = self.spec
        return s is not None and column < len(s.numeric) and s.numeric[column]

    def cell(self, row: int, column: int) -> str:
        assert self.spec is not None
        cells = self.spec.rows[row]
        return cells[column] if column < len(cells) else ""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        s = self.spec
        if s is None or not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cell(r, c)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            h = Qt.AlignmentFlag.AlignRight if self.is_numeric(c) else Qt.AlignmentFlag.AlignLeft
            return int(h | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and r in s.alarm_rows:
            return qcolor(self.theme.alarm)
        if role == Qt.ItemDataRole.BackgroundRole and r in s.alarm_rows:
            return qcolor(self.theme.alarm, 40)
        if role == SORT_ROLE:
            text = self.cell(r, c)
            return parse_number(text) if self.is_numeric(c) else text
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        s = self.spec
        if s is None or orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole and section < len(s.columns):
            return s.columns[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            h = (Qt.AlignmentFlag.AlignRight if self.is_numeric(section)
                 else Qt.AlignmentFlag.AlignLeft)
            return int(h | Qt.AlignmentFlag.AlignVCenter)
        return None


class _SortProxy(QSortFilterProxyModel):
    """Numbers compare as numbers; cells without one go last in either direction."""

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if isinstance(a, str) or isinstance(b, str):
            return str(a or "") < str(b or "")
        if a is None or b is None:
            # lessThan is reversed for a descending sort; keep blanks at the bottom
            blank_big = self.sortOrder() == Qt.SortOrder.AscendingOrder
            if a is None and b is None:
                return False
            return (b is None) == blank_big
        return float(a) < float(b)


class DataTable(QWidget):
    """A titled, sortable table of a ``TableSpec``; emits ``row_activated(field, key, loc)``,
    and ``records_requested(spec key, row key)`` on Ctrl+click or the context menu."""

    row_activated = Signal(str, str, object)
    records_requested = Signal(str, str)

    def __init__(self, spec: TableSpec | None = None, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._scale = scale
        self._model = TableModel(theme)
        self._proxy = _SortProxy()
        self._proxy.setSourceModel(self._model)
        self._proxy.setSortRole(SORT_ROLE)
        self._view = QTableView()
        self._view.setModel(self._proxy)
        self._view.setSortingEnabled(True)
        self._view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._view.setWordWrap(False)
        self._view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._view.setShowGrid(False)
        self._view.verticalHeader().hide()
        self._view.horizontalHeader().setHighlightSections(False)
        self._view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._view.horizontalHeader().setStretchLastSection(True)
        self._view.clicked.connect(self._on_clicked)
        self._view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._view.customContextMenuRequested.connect(self._on_context_menu)
        self.records_enabled = False
        """Whether rows offer their records (set by whoever handles ``records_requested``)."""
        self._title = TitleLabel()
        self._error: str | None = None
        self._empty = no_data_label(theme, scale)
        self._stack = QStackedWidget()
        self._stack.addWidget(self._view)
        self._stack.addWidget(self._empty)
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self._title)
        self._layout.addWidget(self._stack, 1)
        self.setAutoFillBackground(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        copy = QShortcut(QKeySequence(QKeySequence.StandardKey.Copy), self)
        copy.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy.activated.connect(self._copy_to_clipboard)
        self._restyle()
        self.set_spec(spec)

    # -- public -------------------------------------------------------------------------
    def spec(self) -> TableSpec | None:
        return self._model.spec

    def view(self) -> QTableView:
        return self._view

    def set_spec(self, spec: TableSpec | None) -> None:
        old = self._model.spec
        keep_sort = old is not None and spec is not None and old.columns == spec.columns
        header = self._view.horizontalHeader()
        column, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
        if self._error is not None:
            self._error = None
            no_data_label(self._theme, self._scale, self._empty)
        with signals_blocked(self):
            self._model.set_spec(spec)
            self._title.setText(spec.title if spec else "")
            self._title.update()
            has_rows = spec is not None and bool(spec.rows)
            if not has_rows:  # the spec's own sentence (why it is empty), else "无数据"
                no_data_label(self._theme, self._scale, self._empty)
                if spec is not None and spec.empty:
                    self._empty.setText(spec.empty)
                    self._empty.setWordWrap(True)
            self._stack.setCurrentIndex(0 if has_rows else 1)
            if keep_sort and 0 <= column < self._model.columnCount():
                self._view.sortByColumn(column, order)
            else:
                # unsorted: the spec's own order (e.g. a ranking) until a header is clicked
                header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
                self._proxy.sort(-1)
            self._fit_columns()
            self._view.setCurrentIndex(QModelIndex())

    def show_error(self, message: str) -> None:
        """This table failed: say so in its place (the title stays)."""
        self._error = message
        no_data_label(self._theme, self._scale, self._empty, message)
        self._stack.setCurrentIndex(1)

    def error(self) -> str | None:
        return self._error

    def sort_by(self, column: int, order: Qt.SortOrder = Qt.SortOrder.DescendingOrder) -> None:
        """Sort as a header click would."""
        self._view.sortByColumn(column, order)

    def shown_rows(self) -> list[int]:
        """Spec row numbers in the order they are shown."""
        return [self._proxy.mapToSource(self._proxy.index(r, 0)).row()
                for r in range(self._proxy.rowCount())]

    def copy_text(self) -> str:
        """The table as shown, tab-separated, header first (what Ctrl+C copies)."""
        s = self._model.spec
        if s is None:
            return ""

        def clean(text: str) -> str:
            return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")

        lines = ["\t".join(clean(c) for c in s.columns)]
        for r in self.shown_rows():
            lines.append("\t".join(clean(self._model.cell(r, c)) for c in range(len(s.columns))))
        return "\n".join(lines) + "\n"

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()
        self._fit_columns()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._model.theme = theme
        self._restyle()
        self._view.viewport().update()

    def sizeHint(self) -> QSize:
        return QSize(round(420 * self._scale), round(300 * self._scale))

    # -- internals ----------------------------------------------------------------------
    def _restyle(self) -> None:
        t, f = self._theme, self._scale
        m = round(8 * f)
        self._layout.setContentsMargins(m, round(6 * f), m, m)
        self._layout.setSpacing(round(4 * f))
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, qcolor(t.panel))
        self.setPalette(pal)
        # the view takes its colours from a stylesheet only: palettes lose to any stylesheet
        # the application carries (apply_theme), and mixing both leaves stale colours
        self._view.setStyleSheet(table_style_sheet(t, f))
        font = make_font(t, 10, f)
        self._view.setFont(font)  # the stylesheet sets the same; this keeps metrics at hand
        # (the header's font comes from the stylesheet alone: a setFont there renders
        # differently after a restyle)
        row_h = QFontMetrics(font).height() + round(8 * f)
        self._view.verticalHeader().setDefaultSectionSize(row_h)
        self._view.verticalHeader().setMinimumSectionSize(row_h)
        self._title.restyle(t, f)
        no_data_label(t, f, self._empty, self._error)

    def _fit_columns(self) -> None:
        s = self._model.spec
        if s is None:
            return
        fm = QFontMetrics(self._view.font())
        hfm = QFontMetrics(make_font(self._theme, 9.5, self._scale, bold=True))
        pad = round(24 * self._scale)  # cell margins and the sort arrow
        widths = []
        for c, name in enumerate(s.columns):
            widest = max([fm.horizontalAdvance(self._model.cell(r, c))
                          for r in range(min(len(s.rows), 200))], default=0)
            widths.append(max(widest, hfm.horizontalAdvance(name)) + pad)
        # Too wide for the panel: the first text column (a name) gives way and elides,
        # so the figures on the right stay in view without a horizontal scroll bar.
        room = self._view.viewport().width()
        text_cols = [c for c in range(len(widths)) if not self._model.is_numeric(c)]
        if room > 0 and sum(widths) > room and text_cols:
            c = text_cols[0]
            widths[c] = max(round(60 * self._scale), room - (sum(widths) - widths[c]))
        for c, w in enumerate(widths):
            self._view.setColumnWidth(c, w)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _row_key(self, index: QModelIndex) -> str | None:
        s = self._model.spec
        if s is None or not index.isValid():
            return None
        row = self._proxy.mapToSource(index).row()
        return s.keys[row] if row < len(s.keys) else None

    def _on_clicked(self, index: QModelIndex) -> None:
        s = self._model.spec
        key = self._row_key(index)
        if s is None or key is None:
            return
        if self.records_enabled and wants_records(QGuiApplication.keyboardModifiers()):
            self.records_requested.emit(s.key, key)
            return
        if s.field is None:
            return
        row = self._proxy.mapToSource(index).row()
        loc = s.locations[row] if row < len(s.locations) else None
        self.row_activated.emit(s.field, key, loc)

    def _on_context_menu(self, pos: QPoint) -> None:
        s = self._model.spec
        key = self._row_key(self._view.indexAt(pos))
        if self.records_enabled and s is not None and key is not None:
            offer_records(self, self._view.viewport().mapToGlobal(pos),
                          lambda: self.records_requested.emit(s.key, key))

    def _copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self.copy_text())
