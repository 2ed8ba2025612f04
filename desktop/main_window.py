"""The desk window: the cockpit board with a header, filter chips, menus and a status bar.

Layout and wiring only. The state lives in the ``CockpitSession`` (extract, filter,
view options, jobs); the board (``desktop/board.py``) shows it; this window adds what a
desk needs around it: the header (region, as-of, extract age, time window, language
and theme), removable filter chips, 文件/视图 menus, opening an extract with progress
and cancel, and the status bar for rows set aside and failed jobs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.extract import Extract
from data.filters import FilterState
from layers.filter_text import filter_chips, remove_chip, window_text
from layers.i18n import tr
from layers.jurisdiction import scoped
from layers.load_notes import finding_lines
from widgets.filter_bar import FilterBar
from widgets.theme import Theme, apply_theme, css, make_font

from .analyst_tools import AnalystTools
from .board import THEMES, CockpitBoard, scale_for
from .playback_desk import DeskPlayback
from .session import CockpitSession, ViewOptions

FAILURES_KEPT = 50


class CockpitWindow(QMainWindow):
    """The desk cockpit on ``session`` (a new one when not given).

    ``extract_opened(path)``/``open_failed(reason, path)`` say what happened to an
    open; ``frame_ready`` that the figures of the current state are drawn.
    """

    extract_opened = Signal(str)
    open_failed = Signal(str, str)
    frame_ready = Signal()

    def __init__(self, theme: Theme | None = None, lang: str = "zh", interactive: bool = True,
                 session: CockpitSession | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if session is None:
            options = ViewOptions(lang=lang, theme=theme.name if theme else "dark")
            session = CockpitSession(options, self, can_reveal=True)  # a desk may reveal
        self.session = session
        self.interactive = interactive
        self.scale = 1.0
        self.failures: list[tuple[str, str]] = []  # (what, first line), the last 50
        self._message: QMessageBox | None = None
        self._import_wizard = None
        # the import wizard's thread is a worker too: no garbage collection while it runs
        session.idle_checks.append(
            lambda: self._import_wizard is None or not self._import_wizard.busy())
        self.board = CockpitBoard(session, web_map=True)
        self.playback = DeskPlayback(self.board)  # the play control above the timeline
        self._build()
        self._menus()
        self.tools = AnalystTools(self)  # records, saved views, annotations, reveal, audit log
        session.filters.changed.connect(self._on_state)
        session.options.changed.connect(self._on_options)
        session.extract_changed.connect(self._on_extract)
        session.open_started.connect(self._on_open_started)
        session.open_progress.connect(self._on_open_progress)
        session.open_failed.connect(self._on_open_failed)
        session.open_finished.connect(self.progress_box.hide)
        self.board.map.failed.connect(lambda e: self._note_failure("map", e))
        self.board.panels.failed.connect(lambda e: self._note_failure("panels", e))
        self._feed_notes: tuple[str, ...] = ()
        self.board.panels.shown.connect(self._on_panels_shown)
        self.board.frame_ready.connect(self.frame_ready)
        self.board.notices_changed.connect(self._show_notices)
        self._clock = QTimer(self, interval=30_000)
        self._clock.timeout.connect(self._update_header)
        self._clock.start()
        self.restyle()
        self.resize(1920, 1080)

    # ================================================================ the parts
    @property
    def theme(self) -> Theme:
        return THEMES.get(self.session.options.value.theme, THEMES["dark"])

    @property
    def lang(self) -> str:
        return self.session.lang

    @property
    def extract(self) -> Extract | None:
        return self.session.extract

    def _build(self) -> None:
        self.setWindowTitle(tr("app_title"))
        root = QWidget()
        self.setCentralWidget(root)
        outer = QVBoxLayout(root)
        self._outer = outer
        # header: region, as-of, freshness, window; progress of an open; language, theme
        self.title_label = QLabel()
        self.asof_label = QLabel()
        self.fresh_label = QLabel()
        self.feed_label = QLabel()  # a feed that stopped before the extract time
        self.window_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton(tr("cancel"))
        self.cancel_button.clicked.connect(self.session.cancel_open)
        self.progress_box = QWidget()
        pb = QHBoxLayout(self.progress_box)
        pb.setContentsMargins(0, 0, 0, 0)
        pb.addWidget(self.progress)
        pb.addWidget(self.cancel_button)
        self.progress_box.hide()
        self.header_bar = QWidget()
        head = QHBoxLayout(self.header_bar)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title_label)
        head.addStretch(1)
        for w in (self.progress_box, self.window_label, self.asof_label, self.fresh_label,
                  self.feed_label):
            head.addWidget(w)
        self.lang_button = QPushButton()
        self.lang_button.clicked.connect(
            lambda: self.set_language("en" if self.lang == "zh" else "zh"))
        self.theme_button = QPushButton()
        self.theme_button.clicked.connect(
            lambda: self.set_theme(THEMES["light" if self.theme.name == "dark" else "dark"]))
        head.addWidget(self.lang_button)
        head.addWidget(self.theme_button)
        outer.addWidget(self.header_bar)
        self.filter_bar = FilterBar(self.theme, self.board.scale)
        store = self.session.filters
        self.filter_bar.chip_removed.connect(
            lambda chip: store.apply(lambda st: remove_chip(st, chip)))
        self.filter_bar.clear_all.connect(lambda: store.apply(lambda st: st.cleared()))
        self.board.add_bar(self.filter_bar)
        outer.addWidget(self.board, 1)

    def _menus(self) -> None:
        bar = self.menuBar()
        self.m_file = bar.addMenu(tr("menu_file"))
        self.a_open = QAction(tr("menu_open"), self, shortcut=QKeySequence.StandardKey.Open)
        self.a_open.triggered.connect(self._ask_open)
        self.a_import = QAction(tr("menu_import"), self)
        self.a_import.triggered.connect(self.show_import_wizard)
        self.a_report = QAction(tr("menu_load_report"), self)
        self.a_report.triggered.connect(self.show_load_report)
        self.a_quit = QAction(tr("menu_quit"), self, shortcut=QKeySequence.StandardKey.Quit)
        self.a_quit.triggered.connect(self.close)
        for a in (self.a_open, self.a_import, self.a_report, self.a_quit):
            self.m_file.addAction(a)
        self.m_view = bar.addMenu(tr("menu_view"))
        group = QActionGroup(self)
        self.a_dark = QAction(tr("menu_theme_dark"), self, checkable=True)
        self.a_light = QAction(tr("menu_theme_light"), self, checkable=True)
        self.a_dark.triggered.connect(lambda: self.set_theme(THEMES["dark"]))
        self.a_light.triggered.connect(lambda: self.set_theme(THEMES["light"]))
        for a in (self.a_dark, self.a_light):
            group.addAction(a)
            self.m_view.addAction(a)
        self.m_help = bar.addMenu(tr("menu_help"))
        self.a_manual = QAction(tr("menu_manual"), self,
                                shortcut=QKeySequence.StandardKey.HelpContents)
        self.a_manual.triggered.connect(self.show_manual)
        self.m_help.addAction(self.a_manual)
        self.m_lang = self.m_view.addMenu(tr("menu_language"))
        lg = QActionGroup(self)
        self.a_langs: dict[str, QAction] = {}
        for code, name in (("zh", "简体中文"), ("en", "English")):
            a = QAction(name, self, checkable=True)
            a.triggered.connect(lambda _=False, c=code: self.set_language(c))
            lg.addAction(a)
            self.m_lang.addAction(a)
            self.a_langs[code] = a
        self._sync_menus()

    def _sync_menus(self) -> None:
        (self.a_dark if self.theme.name == "dark" else self.a_light).setChecked(True)
        self.a_langs[self.lang].setChecked(True)

    # ================================================================ look
    def restyle(self) -> None:
        t, s = self.theme, self.scale
        apply_theme(self, t, s)
        # the window's own background: a palette change alone did not repaint it on a
        # theme switch (the title stayed dark on dark)
        self.setStyleSheet(self.styleSheet()
                           + f"QMainWindow {{ background: {css(t.background)}; }}")
        self._outer.setContentsMargins(*(round(8 * s),) * 4)
        self._outer.setSpacing(round(6 * s))
        self.title_label.setFont(make_font(t, 16, s, bold=True))
        for lab in (self.asof_label, self.fresh_label, self.window_label):
            lab.setFont(make_font(t, 11, s))
        self.title_label.setStyleSheet(f"color: {css(t.text)};")
        self.asof_label.setStyleSheet(f"color: {css(t.text)};")
        self.window_label.setStyleSheet(f"color: {css(t.accent)};")
        self.progress.setFixedWidth(round(320 * s))
        for b in (self.lang_button, self.theme_button, self.cancel_button):
            b.setStyleSheet(self.board.button_css)
            b.setFont(make_font(t, 10, s))
        self.filter_bar.set_theme(t)
        self.filter_bar.set_scale(s)
        self.menuBar().setFont(make_font(t, 10, s))
        self.statusBar().setFont(make_font(t, 10, s))
        self._update_header()

    def set_theme(self, theme: Theme) -> None:
        self.session.options.update(theme=theme.name)

    def set_language(self, lang: str) -> None:
        self.session.options.update(lang=lang)

    def _on_options(self, new: ViewOptions, old: ViewOptions) -> None:
        if new.theme != old.theme:
            app = QApplication.instance()
            if app is not None:  # menus, scroll bars and tooltips follow the application palette
                apply_theme(app, self.theme)
            self.restyle()
            self.board.set_theme(self.theme)  # the board after the window (see board.py)
        if new.lang != old.lang:
            self._retranslate()
        self._sync_menus()

    def _retranslate(self) -> None:
        self.setWindowTitle(scoped("app_title", self.extract))
        self.filter_bar.retranslate()
        self.cancel_button.setText(tr("cancel"))
        self.m_file.setTitle(tr("menu_file"))
        self.m_view.setTitle(tr("menu_view"))
        self.m_lang.setTitle(tr("menu_language"))
        self.m_help.setTitle(tr("menu_help"))
        self.a_manual.setText(tr("menu_manual"))
        for a, key in ((self.a_open, "menu_open"), (self.a_import, "menu_import"),
                       (self.a_report, "menu_load_report"),
                       (self.a_quit, "menu_quit"), (self.a_dark, "menu_theme_dark"),
                       (self.a_light, "menu_theme_light")):
            a.setText(tr(key))
        self._on_state(self.session.filters.state)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        factor = scale_for(self.width(), self.height())
        if abs(factor - self.scale) > 0.04:
            self.scale = factor
            self.restyle()  # the window first, then the board (see board.py)
            self.board.set_scale(factor)

    # ================================================================ following the session
    def _on_state(self, state: FilterState) -> None:
        """The chips and the header follow the filter at once (the figures come later)."""
        ex = self.extract
        self.filter_bar.set_idle_text(scoped("no_filter", ex))
        self.filter_bar.set_chips(filter_chips(state, ex, self.lang) if ex else ())
        self._update_header()

    def _on_extract(self, extract: Extract) -> None:
        self.setWindowTitle(scoped("app_title", extract))
        self._on_state(self.session.filters.state)
        self.extract_opened.emit(self.session.path or "")
        set_aside = sum(t.quarantined for t in extract.report.tables.values())
        if set_aside:
            # the figures leave these rows out: say so, the report is one menu click away
            self.statusBar().showMessage(tr("quarantined_note", n=f"{set_aside:,}"))

    def _update_header(self) -> None:
        ex = self.extract
        self.lang_button.setText("English" if self.lang == "zh" else "中文")
        self.theme_button.setText(tr("menu_theme_light" if self.theme.name == "dark"
                                     else "menu_theme_dark"))
        if ex is None:
            self.title_label.setText(tr("app_title"))
            return
        self.title_label.setText(f"{ex.region_name} · {scoped('app_title', ex)}")
        st = self.session.filters.state
        as_of = st.as_of or ex.default_as_of
        self.asof_label.setText(tr("as_of", day=as_of.isoformat()))
        at = ex.extracted_at
        if at is None:
            self.fresh_label.setText("")
        else:
            age = datetime.now() - at
            n, key = _age(age)
            alarm = age > timedelta(hours=24)
            self.fresh_label.setText(f"{tr('extracted', time=at.strftime('%Y-%m-%d %H:%M'))}"
                                     f" ({tr(key, n=n)})")
            self.fresh_label.setStyleSheet(
                f"color: {css(self.theme.bad if alarm else self.theme.good)};")
        self.window_label.setText(window_text(st, self.lang))
        self.feed_label.setText("；".join(self._feed_notes) if self.lang == "zh"
                                else "; ".join(self._feed_notes))
        self.feed_label.setStyleSheet(f"color: {css(self.theme.bad)};")
        self.feed_label.setVisible(bool(self._feed_notes))

    def _on_panels_shown(self, panels: object) -> None:
        # the notes come with the panels (computed in a worker, in the panels' language)
        self._feed_notes = tuple(getattr(getattr(panels, "header", None), "feed_notes", ()))
        self._update_header()

    def _show_notices(self) -> None:
        """What the base map and reference layers could not do (a bad settings entry, a
        missing file): said in the status bar, the rest of the map carries on."""
        notices = self.board.notices()
        if notices:
            self.statusBar().showMessage("  ".join(notices), 30_000)

    def _note_failure(self, what: str, first_line: str) -> None:
        # A failure shows in the place of what failed; the status bar keeps the last one.
        self.failures.append((what, first_line))
        del self.failures[:-FAILURES_KEPT]
        self.statusBar().showMessage(tr("panel_error", error=first_line), 15_000)

    # ================================================================ extracts
    def open_path(self, path: str) -> None:
        """Open an extract in the background; the current one stays until it succeeds."""
        self.session.open(path)

    def _on_open_started(self, path: str) -> None:
        self.progress.setFormat(tr("opening", name=Path(path).name) + " %p%")
        self.progress.setValue(0)
        self.progress_box.show()

    def _on_open_progress(self, stage: str, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))

    def _on_open_failed(self, reason: str, path: str) -> None:
        self.open_failed.emit(reason, path)
        if not reason:  # cancelled by the user
            self.statusBar().showMessage(tr("open_cancelled", name=Path(path).name), 10_000)
            return
        if self.interactive:
            box = QMessageBox(QMessageBox.Icon.Warning, tr("open_failed"),
                              tr("open_failed_detail", path=path, reason=reason),
                              QMessageBox.StandardButton.Ok, self)
            box.open()
            self._message = box

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("menu_open"), "",
                                              "DuckDB (*.duckdb *.db);;*")
        if path:
            self.open_path(path)

    def show_import_wizard(self) -> None:
        """文件 → 导入数据…: a station's own files into an extract, which then opens here."""
        from .import_wizard import ImportWizard

        wizard = self._import_wizard
        if wizard is None or not wizard.isVisible():
            wizard = self._import_wizard = ImportWizard(self)
            wizard.extract_written.connect(self.open_path)
        wizard.show()
        wizard.raise_()

    def show_manual(self) -> None:
        """帮助 → 使用手册: the guide, offline, in the window's language."""
        from .manual import ManualWindow

        win = getattr(self, "_manual", None)
        if win is None:
            win = self._manual = ManualWindow(self.lang, self)
        else:
            win.show_language(self.lang)
        win.show()
        win.raise_()

    def show_load_report(self) -> None:
        ex = self.extract
        if ex is None:
            return
        text = "\n".join([*ex.report.summary_lines(), *finding_lines(ex.report)])
        box = QMessageBox(QMessageBox.Icon.Information,
                          tr("load_report_title", name=Path(self.session.path or "").name),
                          text, QMessageBox.StandardButton.Ok, self)
        box.open()
        self._message = box

    # ================================================================ lifecycle
    def closeEvent(self, event: QCloseEvent) -> None:
        self._clock.stop()
        if self.session.parent() is self:  # a session this window made ends with it
            self.session.close()
        self.board.close()
        super().closeEvent(event)


def _age(age: timedelta) -> tuple[int, str]:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 120:
        return minutes, "fresh_minutes"
    if minutes < 48 * 60:
        return minutes // 60, "fresh_hours"
    return minutes // 1440, "fresh_days"
