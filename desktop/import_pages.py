"""The pages of the import wizard (desktop/import_wizard.py): files, columns, output.

Each page shows the wizard's ``ImportSession`` and calls the wizard's public methods
for every change; none keeps state of its own beyond its widgets.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from data.importer.mapping import ColumnSource
from data.importer.propose import REQUIRED, distinct_counts
from data.importer.source import GEOMETRY
from data.importer.synonyms import CODE_GROUPS
from data.importer.values import BOOL_WORDS
from data.schema import BOOLEAN, DATA_TABLES, TABLES
from layers.i18n import code_label, tr

if TYPE_CHECKING:
    from .import_wizard import ImportWizard

PREVIEW_SHOWN = 50


def _field(column: str) -> str:
    return tr(f"imp_field_{column}")


def table_name(table: str) -> str:
    return tr(f"imp_table_{table}")


def _code_text(table: str, column: str, code: str) -> str:
    group = CODE_GROUPS.get((table, column))
    label = code_label(group, code) if group else code
    return f"{label} ({code})" if label != code else code


def _required(table: str) -> set[str]:
    names = {a for alts in REQUIRED[table] for a in alts}
    return names | ({"geom_wkb"} if "geometry" in names else set())


# --------------------------------------------------------------------------- page 1

class FilesPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(tr("imp_page_files"))
        self.setSubTitle(tr("imp_page_files_sub"))
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels([tr("imp_col_file"), tr("imp_col_table"),
                                              tr("imp_col_rows"), tr("imp_col_status")])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        add = QPushButton(tr("imp_add_files"))
        add.clicked.connect(self._choose)
        remove = QPushButton(tr("imp_remove_file"))
        remove.clicked.connect(self._remove)
        mapping = QPushButton(tr("imp_open_mapping"))
        mapping.clicked.connect(self._open_mapping)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b")
        buttons = QHBoxLayout()
        for b in (add, remove, mapping):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(buttons)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.error)

    def isComplete(self) -> bool:
        return bool(self.w.session.files)

    def refresh(self) -> None:
        files = self.w.session.files
        self.table.setRowCount(len(files))
        for r, f in enumerate(files):
            self.table.setItem(r, 0, QTableWidgetItem(f.source.label))
            combo = QComboBox()
            for t in DATA_TABLES:
                combo.addItem(table_name(t), t)
            combo.setCurrentIndex(DATA_TABLES.index(f.table))
            combo.currentIndexChanged.connect(
                lambda _i, row=r, c=combo: self.w.set_table(row, c.currentData()))
            self.table.setCellWidget(r, 1, combo)
            self.table.setItem(r, 2, QTableWidgetItem(f"{f.source.num_rows:,}"))
            status = QTableWidgetItem(f.error or tr("imp_ok"))
            status.setForeground(Qt.GlobalColor.red if f.error else Qt.GlobalColor.darkGreen)
            status.setToolTip(f.error or "")
            self.table.setItem(r, 3, status)
        self.table.resizeColumnToContents(1)
        self.completeChanged.emit()

    def _choose(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, tr("imp_add_files"),
                                                self.w.start_dir, tr("imp_files_filter"))
        if paths:
            self.w.add_files(paths)

    def _remove(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            self.w.session.remove(r)
        self.w.changed()

    def _open_mapping(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("imp_open_mapping"), self.w.start_dir,
                                              "TOML (*.toml)")
        if path:
            self.w.open_mapping(path)


# --------------------------------------------------------------------------- page 2

class MappingPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(tr("imp_page_mapping"))
        self.setSubTitle(tr("imp_page_mapping_sub"))
        self.file = QComboBox()
        self.file.currentIndexChanged.connect(lambda _i: self.show_file())
        self.fields = QTableWidget(0, 3)
        self.fields.setHorizontalHeaderLabels([tr("imp_col_field"), tr("imp_col_source"),
                                               tr("imp_col_parsed")])
        self.fields.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.fields.verticalHeader().setVisible(False)
        self.fields.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.fields.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.fields.itemSelectionChanged.connect(self._show_values)
        self.preview = QTableWidget()
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_label = QLabel()
        self.values_label = QLabel()
        self.values = QTableWidget(0, 3)
        self.values.setHorizontalHeaderLabels([tr("imp_col_value"), tr("imp_col_count"),
                                               tr("imp_col_code")])
        self.values.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.values.horizontalHeader().setMinimumSectionSize(60)
        self.values.verticalHeader().setVisible(False)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.preview_label)
        rl.addWidget(self.preview, 3)
        rl.addWidget(self.values_label)
        rl.addWidget(self.values, 2)
        split = QSplitter()
        split.addWidget(self.fields)
        split.addWidget(right)
        split.setSizes([460, 640])
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("imp_col_file")))
        top.addWidget(self.file, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(self.error)
        self._options: list[list[tuple[str, ColumnSource | None]]] = []
        self._targets: list[str] = []

    def initializePage(self) -> None:
        self.file.blockSignals(True)
        self.file.clear()
        for f in self.w.session.files:
            self.file.addItem(f"{f.source.label} → {table_name(f.table)}")
        self.file.blockSignals(False)
        self.show_file()

    def isComplete(self) -> bool:
        return bool(self.w.session.files) and not self.w.session.problems()

    @property
    def index(self) -> int:
        return max(self.file.currentIndex(), 0)

    def show_file(self) -> None:
        s = self.w.session
        if not s.files:
            return
        i = self.index
        f = s.files[i]
        stats = s.stats(i, s.area_lookup())
        spec = TABLES[f.table]
        targets = [c.name for c in spec.columns]
        self._targets = targets
        self._options = []
        self.fields.setRowCount(len(targets))
        for r, name in enumerate(targets):
            label = _field(name) + (" *" if name in _required(f.table) else "")
            item = QTableWidgetItem(label)
            item.setToolTip(name)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.fields.setItem(r, 0, item)
            options = self._column_options(f, name)
            self._options.append(options)
            combo = QComboBox()
            for text, _src in options:
                combo.addItem(text)
            current = self._current(f, name)
            combo.setCurrentIndex(next((k for k, (_t, src) in enumerate(options)
                                        if src == current), 0))
            combo.currentIndexChanged.connect(
                lambda k, row=r: self._column_changed(row, k))
            self.fields.setCellWidget(r, 1, combo)
            cs = stats.columns.get(name)
            if name == "geom_wkb":
                cs = stats.columns.get("geom_wkb")
            text = ""
            if cs is not None:
                bad = sum(cs.failed.values()) + sum(cs.to_fallback.values())
                text = tr("imp_parsed_bad" if bad else "imp_parsed", read=cs.read,
                          rows=cs.rows, bad=bad)
                if cs.blank:
                    text += tr("imp_parsed_blank", blank=cs.blank)
                reasons = "; ".join(f"{k} {v}" for k, v in cs.failed.items())
                if cs.to_fallback:
                    reasons += "; other: " + ", ".join(list(cs.to_fallback)[:5])
            cell = QTableWidgetItem(text)
            cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if cs is not None and (cs.failed or cs.to_fallback):
                cell.setForeground(Qt.GlobalColor.darkRed)
                cell.setToolTip(reasons)
            self.fields.setItem(r, 2, cell)
        self.fields.resizeColumnToContents(0)
        self.fields.resizeColumnToContents(1)
        self._show_preview(i)
        self.error.setText(f.error or "")
        self._show_values()
        self.completeChanged.emit()

    def _current(self, f, name: str) -> ColumnSource | None:
        e = f.entry
        if name == "geom_wkb":
            return e.columns.get("geometry") or e.columns.get(name)
        if name in ("lon", "lat") and "geometry" in e.columns and name not in e.columns:
            return e.columns["geometry"]
        return e.columns.get(name)

    def _column_options(self, f, name: str) -> list[tuple[str, ColumnSource | None]]:
        none = tr("imp_content_id") if name == TABLES[f.table].id_column else tr("imp_none")
        options: list[tuple[str, ColumnSource | None]] = [(none, None)]
        current = self._current(f, name)
        if current is not None and current.column is None:
            if current.parts:
                text = tr("imp_combined", columns=" + ".join(current.parts.values()))
            elif current.join:
                text = tr("imp_combined", columns=" + ".join(current.join))
            else:
                text = f"= {current.value}"
            options.append((text, current))
        if GEOMETRY in f.source.table.column_names and name in ("geom_wkb", "lon", "lat"):
            options.append((tr("imp_geometry"), ColumnSource(column=GEOMETRY)))
        options += [(h, ColumnSource(column=h)) for h in f.source.headers]
        return options

    def _column_changed(self, row: int, k: int) -> None:
        target = self._targets[row]
        source = self._options[row][k][1]
        if target == "geom_wkb" or (source is not None and source.column == GEOMETRY):
            target = "geometry" if target in ("geom_wkb", "lon", "lat") else target
        self.w.set_column(self.index, target, source)

    def _show_preview(self, i: int) -> None:
        t = self.w.session.preview(i).slice(0, PREVIEW_SHOWN)
        headers = [h for h in t.column_names if not h.startswith("_")]
        self.preview.clear()
        self.preview.setColumnCount(len(headers))
        self.preview.setRowCount(t.num_rows)
        self.preview.setHorizontalHeaderLabels(headers)
        for c, h in enumerate(headers):
            for r, v in enumerate(t.column(h).to_pylist()):
                self.preview.setItem(r, c, QTableWidgetItem("" if v is None else str(v)))
        self.preview.resizeColumnsToContents()
        self.preview_label.setText(tr("imp_preview", n=t.num_rows))

    def selected_field(self) -> str | None:
        rows = self.fields.selectionModel().selectedRows() if self.fields.selectionModel() \
            else []
        if rows:
            return self._targets[rows[0].row()]
        f = self.w.session.files[self.index] if self.w.session.files else None
        if f is None:
            return None
        return next((t for t in self._targets if (f.table, t) in CODE_GROUPS
                     and t in f.entry.columns), None)

    def _show_values(self) -> None:
        s = self.w.session
        if not s.files:
            return
        f = s.files[self.index]
        target = self.selected_field()
        src = f.entry.columns.get(target) if target else None
        col = TABLES[f.table].column(target) if target else None
        if src is None or src.column is None or col is None or (
                col.codes is None and col.kind != BOOLEAN):
            self.values.setRowCount(0)
            self.values_label.setText("")
            return
        self.values_label.setText(tr("imp_values_for", field=_field(target)))
        counts = distinct_counts(f.source.table.column(src.column), limit=200)
        pairs = f.entry.values.get(target, {})
        codes = list(col.codes or ("true", "false"))
        self.values.setRowCount(len(counts))
        for r, (value, n) in enumerate(counts.items()):
            self.values.setItem(r, 0, QTableWidgetItem(value))
            self.values.setItem(r, 1, QTableWidgetItem(f"{n:,}"))
            combo = QComboBox()
            combo.addItem(tr("imp_unknown_code"), None)
            for c in codes:
                combo.addItem(_code_text(f.table, target, c) if col.codes else
                              (BOOL_WORDS[c == "true"][0]), c)
            chosen = pairs.get(value) or (value.lower() if value.lower() in codes else None)
            combo.setCurrentIndex(codes.index(chosen) + 1 if chosen in codes else 0)
            combo.currentIndexChanged.connect(
                lambda _k, v=value, c=combo, t=target: self.w.set_value(
                    self.index, t, v, c.currentData()))
            self.values.setCellWidget(r, 2, combo)
        self.values.resizeColumnToContents(1)
        self.values.setColumnWidth(2, 190)


# --------------------------------------------------------------------------- page 3

class OutputPage(QWizardPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(tr("imp_page_output"))
        self.setSubTitle(tr("imp_page_output_sub"))
        self.path = QLineEdit()
        browse = QPushButton(tr("imp_browse"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.fmt = QComboBox()
        self.fmt.addItem("DuckDB (.duckdb)", "duckdb")
        self.fmt.addItem("Parquet", "parquet")
        self.region = QLineEdit()
        self.datum = QComboBox()
        for c in ("wgs84", "gcj02", "bd09"):
            self.datum.addItem(c.upper(), c)
        self.crs = QLineEdit()
        self.crs.setPlaceholderText("EPSG:4547")
        save = QPushButton(tr("imp_save_mapping"))
        save.clicked.connect(self._save_mapping)
        self.start = QPushButton(tr("imp_start"))
        self.start.clicked.connect(self.w.start_import)
        self.cancel = QPushButton(tr("imp_cancel"))
        self.cancel.clicked.connect(self.w.cancel_import)
        self.cancel.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.stage = QLabel()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        form = QFormLayout()
        form.addRow(tr("imp_out_path"), row)
        form.addRow(tr("imp_format"), self.fmt)
        form.addRow(tr("imp_region"), self.region)
        form.addRow(tr("imp_coord_system"), self.datum)
        form.addRow(tr("imp_crs"), self.crs)
        buttons = QHBoxLayout()
        buttons.addWidget(save)
        buttons.addStretch(1)
        buttons.addWidget(self.start)
        buttons.addWidget(self.cancel)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.bar)
        lay.addWidget(self.stage)
        lay.addWidget(self.log, 1)

    def initializePage(self) -> None:
        m = self.w.session.mapping
        if m.region and not self.region.text():
            self.region.setText(m.region)
        self.datum.setCurrentIndex(max(self.datum.findData(m.coord_system), 0))
        if m.crs and not self.crs.text():
            self.crs.setText(m.crs)
        if not self.path.text() and self.w.session.files:
            first = Path(self.w.session.files[0].path.split("#")[0])
            self.path.setText(str(first.parent / "导入数据.duckdb"))

    def isComplete(self) -> bool:
        return self.w.written is not None and not self.w.busy()

    def _browse(self) -> None:
        if self.fmt.currentData() == "parquet":
            path = QFileDialog.getExistingDirectory(self, tr("imp_out_path"), self.w.start_dir)
        else:
            path, _ = QFileDialog.getSaveFileName(self, tr("imp_out_path"), self.w.start_dir,
                                                  "DuckDB (*.duckdb)")
        if path:
            self.path.setText(path)

    def _save_mapping(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("imp_save_mapping"), self.w.start_dir,
                                              "TOML (*.toml)")
        if path:
            self.w.apply_settings()
            self.w.session.save_mapping(path)
            self.log.appendPlainText(path)
