"""The analyst's tools on the desk window: records behind figures, saved views,
annotations, audited reveal of personal data and the audit log (issue 17).

``AnalystTools(window)`` builds them and wires them to the window's session and board;
the window itself only makes one. The wall never makes one: it has none of these tools,
and in particular no way to reveal personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QDockWidget, QVBoxLayout

from exporters.audit import read_audit_lines
from layers.audit_log import audit_rows
from layers.audit_log import headers as audit_headers
from layers.i18n import tr
from widgets.audit_view import AuditLogView
from widgets.records_panel import RecordsPanel
from widgets.reveal_dialog import RevealDialog
from widgets.theme import apply_theme

from .annotation_controller import AnnotationController
from .annotation_layer import AnnotationOverlay
from .board import THEMES
from .bookmarks import Bookmarks
from .map_menu import MapMenu
from .records_controller import RecordsController
from .reveal import RevealController
from .session import ViewOptions

if TYPE_CHECKING:
    from .main_window import CockpitWindow


class AnalystTools(QObject):
    def __init__(self, window: CockpitWindow) -> None:
        super().__init__(window)
        self.window = window
        session, board = window.session, window.board
        self.records_panel = RecordsPanel(board.theme, board.scale)
        self.records_dock = QDockWidget(tr("records_dock"), window)
        self.records_dock.setObjectName("records_dock")
        self.records_dock.setWidget(self.records_panel)
        self.records_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                      | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.records_dock)
        self.records_dock.hide()
        self.records = RecordsController(session, board, self.records_panel,
                                         self._show_records, self.records_dock.hide)
        self.map_menu = MapMenu(board.canvas)
        self.map_menu.add(self.records.menu_entries)
        self.m_views = window.m_view.addMenu(tr("menu_views"))
        self.bookmarks = Bookmarks(session, board, self.m_views, window, window.interactive)
        self.bookmarks.message.connect(self.say)
        self.bookmarks.rebuild()
        self.annotations_overlay = AnnotationOverlay(session, board.canvas)
        self.annotations_overlay.warning.connect(
            lambda w: self.say(tr("ann_damaged", detail=w)))
        self.m_annotations = window.menuBar().addMenu(tr("menu_annotations"))
        self.annotations = AnnotationController(session, board, self.annotations_overlay,
                                                self.m_annotations, window)
        self.annotations.message.connect(self.say)
        self.map_menu.add(self.annotations.menu_entries)
        # personal data: only a session made for a desk may reveal (never the wall's)
        self.reveal: RevealController | None = None
        if session.can_reveal:
            self.reveal = RevealController(session, board.details, self._ask_operator)
            self.reveal.message.connect(self.say)
        self.a_audit = QAction(tr("menu_audit_log"), window)
        self.a_audit.triggered.connect(self.show_audit_log)
        window.m_file.insertAction(window.a_quit, self.a_audit)
        self.audit_dialog: QDialog | None = None
        self.audit_view: AuditLogView | None = None
        session.options.changed.connect(self._on_options)

    def say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 15_000)

    def _ask_operator(self) -> tuple[str, str] | None:
        if not self.window.interactive:
            return None
        dlg = RevealDialog(self.window)
        return dlg.values() if dlg.exec() == QDialog.DialogCode.Accepted else None

    # ------------------------------------------------------------------ the audit log
    def show_audit_log(self) -> AuditLogView:
        """文件 → 审计日志: the log, newest first, in a window of its own (read-only)."""
        if self.audit_dialog is None:
            dlg = QDialog(self.window)
            dlg.setWindowTitle(tr("audit_title"))
            dlg.resize(1280, 640)
            view = AuditLogView(self.window.board.theme, 1.0, dlg)
            view.refresh_requested.connect(self.load_audit_log)
            box = QVBoxLayout(dlg)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(view)
            apply_theme(dlg, self.window.board.theme)
            self.audit_dialog, self.audit_view = dlg, view
        self.load_audit_log()
        self.audit_dialog.show()
        self.audit_dialog.raise_()
        return self.audit_view  # type: ignore[return-value]

    def load_audit_log(self) -> None:
        if self.audit_view is None:
            return
        events, bad = read_audit_lines()
        lang = self.window.session.lang
        rows = audit_rows(events, lang)
        actions = sorted({r[2] for r in rows})
        self.audit_view.set_rows(audit_headers(lang), rows, actions,
                                 tr("audit_bad_lines", n=bad) if bad else "")

    def _show_records(self) -> None:
        board = self.window.board
        self.records_panel.set_scale(board.scale)
        if not self.records_dock.isVisible():
            self.records_dock.show()
            # a list needs room: about a third of the window, the board keeps the rest
            self.window.resizeDocks([self.records_dock], [round(self.window.height() * 0.36)],
                                    Qt.Orientation.Vertical)
        self.records_dock.raise_()

    def _on_options(self, new: ViewOptions, old: ViewOptions) -> None:
        if new.theme != old.theme:
            self.records_panel.set_theme(THEMES.get(new.theme, THEMES["dark"]))
            if self.audit_view is not None and self.audit_dialog is not None:
                self.audit_view.set_theme(THEMES.get(new.theme, THEMES["dark"]))
                apply_theme(self.audit_dialog, THEMES.get(new.theme, THEMES["dark"]))
        if new.lang != old.lang:
            self.records_panel.retranslate()
            self.records_dock.setWindowTitle(tr("records_dock"))
            self.m_views.setTitle(tr("menu_views"))
            self.bookmarks.retranslate()
            self.m_annotations.setTitle(tr("menu_annotations"))
            self.annotations.retranslate()
            self.a_audit.setText(tr("menu_audit_log"))
            self.load_audit_log()
