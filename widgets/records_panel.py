"""The records behind a figure: a long list that is never all in the widget.

``RecordsPanel`` shows a title (the figure), a subtitle (the filter it was computed
under), the count, and a table whose model knows only the total and the pages it was
given. Rows not fetched yet read "…"; when they scroll into view the panel asks for
them (``rows_needed(first, last)``, debounced) and whoever listens fetches them on a job
and hands them back with ``set_rows``. At most ``KEEP_PAGES`` pages are kept (a million
rows scroll in bounded memory). A header click asks for another order
(``sort_requested(column, descending)``): the pages are dropped and asked for again. A
click on a row emits ``row_activated(id, lon, lat)``; the buttons ask for an export
(``export_requested("xlsx" | "csv")``). The panel only shows cells; it never queries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layers.i18n import tr

from .theme import DARK, Theme, css, make_font, table_style_sheet

PAGE_ROWS = 200
KEEP_PAGES = 40
"""Pages kept in the model (8,000 rows); older ones are dropped and asked for again."""
_Index = QModelIndex | QPersistentModelIndex
Key = tuple[str, float | None, float | None]


class RecordsModel(QAbstractTableModel):
    """``total`` rows of ``headers``; cells only for the pages handed in."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: tuple[str, ...] = ()
        self.numeric: tuple[bool, ...] = ()
        self.total = 0
        self.pages: OrderedDict[int, tuple[list[tuple[str, ...]], list[Key]]] = OrderedDict()

    def reset(self, headers: Sequence[str], numeric: Sequence[bool], total: int) -> None:
        self.beginResetModel()
        self.headers, self.numeric = tuple(headers), tuple(numeric)
        self.total = max(0, int(total))
        self.pages.clear()
        self.endResetModel()

    def drop_pages(self) -> None:
        self.pages.clear()
        if self.total:
            self.dataChanged.emit(self.index(0, 0), self.index(self.total - 1,
                                                               len(self.headers) - 1))

    def put(self, offset: int, cells: list[tuple[str, ...]], keys: list[Key]) -> None:
        for k in range(0, len(cells), PAGE_ROWS):
            page = (offset + k) // PAGE_ROWS
            self.pages[page] = (cells[k:k + PAGE_ROWS], keys[k:k + PAGE_ROWS])
            self.pages.move_to_end(page)
        while len(self.pages) > KEEP_PAGES:
            self.pages.popitem(last=False)
        if cells:
            last = min(self.total, offset + len(cells)) - 1
            self.dataChanged.emit(self.index(offset, 0), self.index(last, len(self.headers) - 1))

    def row(self, r: int) -> tuple[tuple[str, ...], Key] | None:
        got = self.pages.get(r // PAGE_ROWS)
        if got is None or r % PAGE_ROWS >= len(got[0]):
            return None
        return got[0][r % PAGE_ROWS], got[1][r % PAGE_ROWS]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            got = self.row(r)
            if got is None:  # the panel asks for it once scrolling settles
                return tr("records_loading")
            return got[0][c] if c < len(got[0]) else ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            right = c < len(self.numeric) and self.numeric[c]
            h = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
            return int(h | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section] if section < len(self.headers) else None
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return f"{section + 1:,}"
        return None


class RecordsPanel(QWidget):
    rows_needed = Signal(int, int)
    """(first row, last row) shown but not fetched."""
    sort_requested = Signal(int, bool)
    """(shown column, descending)."""
    row_activated = Signal(str, object, object)
    """(record id, lon, lat)."""
    export_requested = Signal(str)
    closed = Signal()

    def __init__(self, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = theme, scale
        self.model = RecordsModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setWordWrap(False)
        self.view.setShowGrid(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._on_header)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.clicked.connect(self._on_clicked)
        self.view.verticalScrollBar().valueChanged.connect(lambda _v: self._want.start())
        self.title = QLabel()
        self.subtitle = QLabel()
        self.count = QLabel()
        self.status = QLabel()
        self.xlsx = QPushButton(tr("records_export_xlsx"))
        self.csv = QPushButton(tr("records_export_csv"))
        self.close_button = QPushButton("✕")
        self.close_button.setToolTip(tr("close"))
        self.xlsx.clicked.connect(lambda: self.export_requested.emit("xlsx"))
        self.csv.clicked.connect(lambda: self.export_requested.emit("csv"))
        self.close_button.clicked.connect(self.close_panel)
        # one line of words above the list: a docked list has little height to spare
        self.subtitle.setWordWrap(False)
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.subtitle, 1)
        top.addWidget(self.status)
        top.addWidget(self.count)
        for b in (self.xlsx, self.csv, self.close_button):
            top.addWidget(b)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(top)
        self._layout.addWidget(self.view, 1)
        self._sort: tuple[int, bool] | None = None
        # rows scrolled into view are asked for once the scrolling settles
        self._want = QTimer(self, singleShot=True, interval=40)
        self._want.timeout.connect(self._ask_visible)
        self._restyle()

    # ------------------------------------------------------------------ content
    def show_list(self, title: str, subtitle: str, headers: Sequence[str],
                  numeric: Sequence[bool], sort: tuple[int, bool] | None = None) -> None:
        """A new list: its words and columns; the count and rows follow."""
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self.subtitle.setToolTip(subtitle)
        self.count.setText(tr("records_counting"))
        self.status.setText("")
        self.model.reset(headers, numeric, 0)
        self._sort = sort
        self._show_sort()
        self._fit_columns()
        self.xlsx.setEnabled(False)
        self.csv.setEnabled(False)

    def set_count(self, n: int) -> None:
        self.model.reset(self.model.headers, self.model.numeric, n)
        self.count.setText(tr("records_count", n=f"{n:,}"))
        self.xlsx.setEnabled(n > 0)
        self.csv.setEnabled(n > 0)
        self._want.start()

    def set_rows(self, offset: int, cells: list[tuple[str, ...]], keys: list[Key]) -> None:
        self.model.put(offset, cells, keys)
        if offset == 0:
            self._fit_columns()
        self._want.start()  # rows still missing in view (a page dropped meanwhile)

    def drop_rows(self) -> None:
        """A new order: every page is asked for again."""
        self.model.drop_pages()
        self.view.scrollToTop()
        self._want.start()

    def show_error(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet(f"color: {css(self._theme.bad)};")

    def show_status(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet(f"color: {css(self._theme.muted)};")

    def shown_rows(self) -> tuple[int, int]:
        """(first, last) row in view (-1, -1 when empty)."""
        if not self.model.total:
            return -1, -1
        vp = self.view.viewport()
        first = self.view.rowAt(0)
        last = self.view.rowAt(vp.height() - 1)
        first = 0 if first < 0 else first
        last = min(self.model.total - 1, first + 60) if last < 0 else last
        return first, last

    def close_panel(self) -> None:
        self.closed.emit()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        self._want.start()

    # ------------------------------------------------------------------ internals
    def _ask_visible(self) -> None:
        first, last = self.shown_rows()
        if first < 0:
            return
        pages = range(first // PAGE_ROWS, last // PAGE_ROWS + 1)
        missing = [p for p in pages if p not in self.model.pages]
        if missing:
            self.rows_needed.emit(missing[0] * PAGE_ROWS,
                                  min(self.model.total, (missing[-1] + 1) * PAGE_ROWS) - 1)

    def _on_header(self, column: int) -> None:
        desc = not self._sort[1] if self._sort and self._sort[0] == column else False
        self._sort = (column, desc)
        self._show_sort()
        self.sort_requested.emit(column, desc)

    def _show_sort(self) -> None:
        header = self.view.horizontalHeader()
        if self._sort is None:
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        else:
            header.setSortIndicator(self._sort[0], Qt.SortOrder.DescendingOrder if self._sort[1]
                                    else Qt.SortOrder.AscendingOrder)

    def _on_clicked(self, index: QModelIndex) -> None:
        got = self.model.row(index.row()) if index.isValid() else None
        if got is not None:
            rid, lon, lat = got[1]
            self.row_activated.emit(rid, lon, lat)

    def _fit_columns(self) -> None:
        fm = QFontMetrics(self.view.font())
        pad = round(24 * self._scale)
        first = self.model.pages.get(0, ([], []))[0][:100]
        for c, name in enumerate(self.model.headers):
            widest = max([fm.horizontalAdvance(r[c]) for r in first if c < len(r)], default=0)
            self.view.setColumnWidth(c, min(round(360 * self._scale),
                                            max(widest, fm.horizontalAdvance(name)) + pad))

    # ------------------------------------------------------------------ look
    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()

    def retranslate(self) -> None:
        self.xlsx.setText(tr("records_export_xlsx"))
        self.csv.setText(tr("records_export_csv"))
        self.close_button.setToolTip(tr("close"))

    def _restyle(self) -> None:
        t, s = self._theme, self._scale
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            f"RecordsPanel {{ background: {css(t.panel)}; }}"
            f"QLabel {{ color: {css(t.text)}; }}"
            f"QPushButton {{ color: {css(t.text)}; background: {css(t.background)};"
            f" border: 1px solid {css(t.grid)}; padding: {round(2 * s)}px {round(10 * s)}px; }}"
            f"QPushButton:disabled {{ color: {css(t.muted)}; }}")
        self.view.setStyleSheet(table_style_sheet(t, s)
                                + f"QHeaderView::section:vertical {{ color: {css(t.muted)};"
                                f" background: {css(t.panel)}; border: none;"
                                f" padding: 0 {round(4 * s)}px; }}"
                                f"QTableCornerButton::section {{ background: {css(t.panel)};"
                                f" border: none; }}")
        font = make_font(t, 10, s)
        self.view.setFont(font)
        row_h = QFontMetrics(font).height() + round(8 * s)
        self.view.verticalHeader().setDefaultSectionSize(row_h)
        self.view.verticalHeader().setMinimumSectionSize(row_h)
        self.title.setFont(make_font(t, 11, s, bold=True))
        self.subtitle.setFont(make_font(t, 9, s))
        self.subtitle.setStyleSheet(f"color: {css(t.muted)};")
        self.count.setFont(make_font(t, 11, s, bold=True))
        self.count.setStyleSheet(f"color: {css(t.accent)};")
        self.status.setFont(make_font(t, 9, s))
        for b in (self.xlsx, self.csv, self.close_button):
            b.setFont(make_font(t, 10, s))
        m = round(8 * s)
        self._layout.setContentsMargins(m, m, m, m)
        self._layout.setSpacing(round(4 * s))
