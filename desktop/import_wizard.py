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
from PySide6.QtWidgets import QApplication, QWidget, QWizard

from data.importer.errors import ImportCancelled, ImportFailure
from data.importer.mapping import ColumnSource
from data.importer.report import ImportReport
from data.importer.session import ImportSession
from layers.i18n import tr

from .import_pages import FilesPage, MappingPage, OutputPage, table_name


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
        if self._gc_was_enabled:  # standalone: nothing else runs, collect now
            gc.enable()
            gc.collect()
        # inside the cockpit the session's IdleCollector collects when no worker runs
        page.start.setEnabled(True)
        page.cancel.setEnabled(False)
        page.stage.setText(text)
        page.completeChanged.emit()

    def _on_finished(self, report: ImportReport) -> None:
        self.report = report
        self.written = str(report.out)
        self.output_page.bar.setValue(1000)
        summary = "，".join(tr("imp_written_rows", table=table_name(t), n=f"{n:,}")
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
