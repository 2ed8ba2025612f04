"""The import wizard (文件 → 导入数据…): a station's own files into an extract.

A thin Qt shell over ``data.importer.session.ImportSession``: page 1 chooses the
files and what each holds (guessed from its header), page 2 shows the first rows and
the proposed mapping column by column and value by value (drop-downs; the read
counts are recounted after every change), page 3 writes the extract in a worker
thread with progress and cancel, then emits ``extract_written(path)``.

The public methods (``add_files``, ``set_table``, ``set_column``, ``set_value``,
``set_output``, ``start_import``, ``cancel_import``) are what the buttons call, and
what tests drive. While it imports, ``busy()`` is true: a window that collects
garbage only when idle (desktop/gc_guard.py) should ask it.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
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
    QWizard,
    QWizardPage,
)

from data.importer.errors import ImportCancelled, ImportFailure
from data.importer.mapping import ColumnSource
from data.importer.propose import REQUIRED, distinct_counts
from data.importer.report import ImportReport
from data.importer.session import ImportSession
from data.importer.source import GEOMETRY
from data.importer.synonyms import CODE_GROUPS
from data.importer.values import BOOL_WORDS
from data.schema import BOOLEAN, DATA_TABLES, TABLES
from layers.i18n import code_label, tr

PREVIEW_SHOWN = 50


def _field(column: str) -> str:
    return tr(f"imp_field_{column}")


def _table_name(table: str) -> str:
    return tr(f"imp_table_{table}")


def _code_text(table: str, column: str, code: str) -> str:
    group = CODE_GROUPS.get((table, column))
    label = code_label(group, code) if group else code
    return f"{label} ({code})" if label != code else code


def _required(table: str) -> set[str]:
    names = {a for alts in REQUIRED[table] for a in alts}
    return names | ({"geom_wkb"} if "geometry" in names else set())


class _Run(QObject):
    """One import in a worker thread; signals are queued to the GUI thread."""

    progressed = Signal(str, float)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, session: ImportSession, out: str, fmt: str,
                 save_mapping: str | None) -> None:
        super().__init__()
        self.session, self.out, self.fmt, self.save_mapping = session, out, fmt, save_mapping
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._work, name="cockpit-import", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self._stop.set()

    def _progress(self, stage: str, fraction: float) -> None:
        if self._stop.is_set():
            raise ImportCancelled()
        self.progressed.emit(stage, fraction)

    def _work(self) -> None:
        try:
            report = self.session.run(self.out, self.fmt, self._progress, self.save_mapping)
        except ImportCancelled:
            self.cancelled.emit()
        except ImportFailure as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # shown in the wizard, never a crash of the window
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.finished.emit(report)


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
                combo.addItem(_table_name(t), t)
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
            self.file.addItem(f"{f.source.label} → {_table_name(f.table)}")
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


# --------------------------------------------------------------------------- the wizard

class ImportWizard(QWizard):
    extract_written = Signal(str)

    def __init__(self, parent: QWidget | None = None, start_dir: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("imp_title"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.resize(1200, 760)
        self.session = ImportSession()
        self.start_dir = start_dir or str(Path.home())
        self.written: str | None = None
        self.report: ImportReport | None = None
        self._run: _Run | None = None
        self._gc_was_enabled = gc.isenabled()
        for button, key in ((QWizard.WizardButton.BackButton, "imp_back"),
                            (QWizard.WizardButton.NextButton, "imp_next"),
                            (QWizard.WizardButton.FinishButton, "imp_finish"),
                            (QWizard.WizardButton.CancelButton, "imp_close")):
            self.setButtonText(button, tr(key))
        self.files_page = FilesPage(self)
        self.mapping_page = MappingPage(self)
        self.output_page = OutputPage(self)
        for page in (self.files_page, self.mapping_page, self.output_page):
            self.addPage(page)

    # ------------------------------------------------------------------ the model
    def changed(self) -> None:
        self.files_page.refresh()
        if self.currentPage() is self.mapping_page:
            self.mapping_page.show_file()

    def add_files(self, paths: list[str], table: str | None = None) -> list[str]:
        """Add files (their table guessed when not given); returns the errors, one per
        file that could not be read (also shown on the page)."""
        errors = []
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            for p in paths:
                try:
                    self.session.add(p, table)
                except ImportFailure as exc:
                    errors.append(str(exc))
                self.start_dir = str(Path(p.split("#")[0]).parent)
        finally:
            QApplication.restoreOverrideCursor()
        self.files_page.error.setText("\n".join(errors))
        self.changed()
        return errors

    def set_table(self, row: int, table: str) -> None:
        try:
            self.session.set_table(row, table)
        except ImportFailure as exc:
            self.files_page.error.setText(str(exc))
        self.changed()

    def set_column(self, file_row: int, target: str, source: str | ColumnSource | None
                   ) -> None:
        self.session.set_column(file_row, target, source)
        self.files_page.refresh()
        self.mapping_page.show_file()

    def set_value(self, file_row: int, target: str, value: str, code: str | None) -> None:
        self.session.set_value(file_row, target, value, code)
        self.mapping_page.show_file()

    def open_mapping(self, path: str) -> None:
        try:
            self.session.open_mapping(path)
            self.files_page.error.setText("")
        except ImportFailure as exc:
            self.files_page.error.setText(str(exc))
        self.changed()

    def apply_settings(self) -> None:
        page, m = self.output_page, self.session.mapping
        m.region = page.region.text().strip() or None
        m.coord_system = page.datum.currentData()
        m.crs = page.crs.text().strip() or None

    def set_output(self, path: str, fmt: str = "duckdb") -> None:
        self.output_page.path.setText(path)
        self.output_page.fmt.setCurrentIndex(max(self.output_page.fmt.findData(fmt), 0))

    # ------------------------------------------------------------------ running
    def busy(self) -> bool:
        return self._run is not None

    def start_import(self) -> bool:
        """Start writing the extract in a worker thread; False if it cannot start."""
        page = self.output_page
        out = page.path.text().strip()
        if self._run is not None:
            return False
        if not out:
            page.stage.setText(tr("imp_need_out"))
            return False
        self.apply_settings()
        save = f"{out}.mapping.toml"
        self.written = None
        self._run = _Run(self.session, out, page.fmt.currentData(), save)
        self._run.progressed.connect(self._on_progress)
        self._run.finished.connect(self._on_finished)
        self._run.failed.connect(self._on_failed)
        self._run.cancelled.connect(self._on_cancelled)
        page.start.setEnabled(False)
        page.cancel.setEnabled(True)
        page.bar.setValue(0)
        page.stage.setText(tr("imp_running"))
        page.log.clear()
        # Nothing may collect garbage on the GUI thread while the worker is inside DuckDB
        # (see desktop/gc_guard.py); collected once it is done.
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        self._run.start()
        page.completeChanged.emit()
        return True

    def cancel_import(self) -> None:
        if self._run is not None:
            self._run.cancel()

    def _on_progress(self, stage: str, fraction: float) -> None:
        self.output_page.bar.setValue(int(fraction * 1000))
        self.output_page.stage.setText(stage)

    def _end(self, text: str) -> None:
        page = self.output_page
        if self._run is not None:
            self._run.thread.join(timeout=5)
        self._run = None
        if self._gc_was_enabled:
            gc.enable()
        gc.collect()
        page.start.setEnabled(True)
        page.cancel.setEnabled(False)
        page.stage.setText(text)
        page.completeChanged.emit()

    def _on_finished(self, report: ImportReport) -> None:
        self.report = report
        self.written = str(report.out)
        self.output_page.bar.setValue(1000)
        summary = "，".join(tr("imp_written_rows", table=_table_name(t), n=f"{n:,}")
                           for t, n in report.tables.items())
        self.output_page.log.setPlainText("\n".join([summary, "", *report.text_lines()]))
        self._end(tr("imp_done", path=self.written))
        self.extract_written.emit(self.written)

    def _on_failed(self, error: str) -> None:
        self._end(tr("imp_failed", error=error))

    def _on_cancelled(self) -> None:
        self.output_page.bar.setValue(0)
        self._end(tr("imp_cancelled"))

    def reject(self) -> None:
        """Closing while importing cancels the import first (nothing half-written)."""
        if self._run is not None:
            self._run.cancel()
            self._run.thread.join(timeout=30)
        super().reject()


if __name__ == "__main__":  # a look at the wizard on the demo county's station files
    import sys
    import tempfile

    from demo import generate_demo
    from demo.station_files import write_station_files

    app = QApplication(sys.argv)
    folder = Path(tempfile.mkdtemp())
    generate_demo(folder / "demo.duckdb", incidents=2_000)
    files = write_station_files(folder / "demo.duckdb", folder / "station")
    w = ImportWizard(start_dir=str(folder / "station"))
    w.add_files([str(p) for ps in files.values() for p in ps])
    w.show()
    sys.exit(app.exec())
