"""The cockpit window: the three maps, rectification and mediation on one screen.

One ``FilterStore`` holds the state; every intent (a bar, an area on the map or in
the tree, a table row, a dragged time range, a chip) goes through it, and every
view follows its ``changed`` signal. Figures and layer specs are built by
``layers/`` in worker threads (``JobRunner``: the latest request wins, late
answers for an older state are dropped); the GUI thread only draws specs.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
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
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from data.coords import lonlat_to_mercator
from data.extract import Extract, ExtractError, open_extract
from data.filters import FilterState
from data.queries import Query, Viewport
from layers import i18n
from layers.dashboard import PanelError, Panels, build_panels, filter_chips, remove_chip
from layers.details import (
    dispatch,
    dispatch_for_incident,
    hazard_details,
    incident_details,
    resource_details,
)
from layers.i18n import tr
from layers.scene import (
    VILLAGE_VIEW_M,
    Scene,
    SceneOptions,
    build_scene,
    fit_view,
    full_view,
    repeat_layers,
)
from widgets.area_tree import AreaTree
from widgets.charts import BarChart, FunnelChart, LineChart
from widgets.details_panel import DetailsPanel
from widgets.filter_bar import FilterBar
from widgets.kpi import KpiStrip
from widgets.legend import Legend
from widgets.map_canvas import MapCanvas
from widgets.tables import DataTable
from widgets.theme import DARK, LIGHT, Theme, apply_theme, css, make_font, qcolor

from . import first_frame
from .filter_store import FilterStore
from .gc_guard import IdleCollector
from .jobs import JobRunner
from .web_map_controller import WebMapController

REFERENCE = (1920, 1080)
OWN_JOBS = frozenset({"panels", "scene", "repeats", "details", "dispatch"})
"""Jobs this window submits to its runner (others share it and report their own)."""
GROUP_LAYERS = {"situation": ("incidents", "hotspots", "repeats", "choropleth"),
                "resources": ("resources",), "hazards": ("hazards",)}


def scale_for(width: int, height: int) -> float:
    """Type and symbol scale for a window size (1.0 at 1920x1080, 2.0 at 3840x2160)."""
    return round(max(0.75, min(width / REFERENCE[0], height / REFERENCE[1], 4.0)), 2)


class _Opener(QObject):
    progress = Signal(str, float)
    opened = Signal(object, str)  # Extract, path
    failed = Signal(str, str)  # reason, path


class _OpenJob:
    def __init__(self, path: str, opener: _Opener) -> None:
        self.path, self.opener = path, opener

    def run(self) -> None:
        try:
            ex = open_extract(self.path, progress=lambda s, f: self.opener.progress.emit(s, f))
        except ExtractError as exc:
            self.opener.failed.emit(str(exc), self.path)
        except Exception as exc:  # an unforeseen failure is still only a message
            self.opener.failed.emit(f"{type(exc).__name__}: {exc}", self.path)
        else:
            self.opener.opened.emit(ex, self.path)


class CockpitWindow(QMainWindow):
    """``extract_opened``/``open_failed`` tell tests and the wall what happened."""

    extract_opened = Signal(str)
    open_failed = Signal(str, str)
    frame_ready = Signal()  # scene and panels of the current state are drawn
    scale_boost = 1.0  # the wall reads from across the room: it draws a little larger

    def __init__(self, theme: Theme = DARK, lang: str = "zh", interactive: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        i18n.set_language(lang)
        self.theme = theme
        self.lang = lang
        self.interactive = interactive
        self.scale = 1.0
        self.extract: Extract | None = None
        self.path: str | None = None
        self.store = FilterStore(parent=self)
        self.jobs = JobRunner(self)
        self.jobs.finished.connect(self._on_job)
        self.jobs.failed.connect(self._on_job_failed)
        self.options = SceneOptions(repeats=False, lang=lang, dark=theme.name == "dark")
        self.groups = {"situation": True, "resources": False, "hazards": False}
        self.show_repeats = False
        self.dispatch_mode = False
        self.panels: Panels | None = None
        self._panels_after_scene = False
        self.scene: Scene | None = None
        self.timings: dict[str, float] = {}
        self._remember_scene = False
        self.failures: list[tuple[str, str]] = []  # (job, first line), the last 50
        self._drawn: dict[str, object] = {}
        self._opener = _Opener(self)
        self._opener.progress.connect(self._on_open_progress)
        self._opener.opened.connect(self._on_opened)
        self._opener.failed.connect(self._on_open_failed)
        self._open_thread: threading.Thread | None = None
        self._build()
        self.store.changed.connect(self._on_state)
        self._gc = IdleCollector(self._idle, self)  # see desktop/gc_guard.py
        self._gc.start()
        self._clock = QTimer(self, interval=30_000)
        self._clock.timeout.connect(self._update_header)
        self._clock.start()
        self.resize(*REFERENCE)

    # ================================================================ construction
    def _build(self) -> None:
        t, s = self.theme, self.scale
        self.setWindowTitle(tr("app_title"))
        root = QWidget()
        self.setCentralWidget(root)
        outer = QVBoxLayout(root)
        self._outer = outer
        # header: title and region, as-of, freshness, window; language and theme
        self.title_label = QLabel()
        self.asof_label = QLabel()
        self.fresh_label = QLabel()
        self.window_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.header_bar = QWidget()  # the wall replaces it with its read-only banner
        head = QHBoxLayout(self.header_bar)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title_label)
        head.addStretch(1)
        for w in (self.progress, self.window_label, self.asof_label, self.fresh_label):
            head.addWidget(w)
        self.lang_button = QPushButton()
        self.lang_button.clicked.connect(
            lambda: self.set_language("en" if self.lang == "zh" else "zh"))
        self.theme_button = QPushButton()
        self.theme_button.clicked.connect(
            lambda: self.set_theme(LIGHT if self.theme.name == "dark" else DARK))
        head.addWidget(self.lang_button)
        head.addWidget(self.theme_button)
        outer.addWidget(self.header_bar)
        self.kpis = KpiStrip((), t, s)
        outer.addWidget(self.kpis)
        self.filter_bar = FilterBar(t, s)
        self.filter_bar.chip_removed.connect(
            lambda chip: self.store.apply(lambda st: remove_chip(st, chip)))
        self.filter_bar.clear_all.connect(lambda: self.store.apply(lambda st: st.cleared()))
        outer.addWidget(self.filter_bar)

        # left column: categories, hours, hotspot villages / area tree
        self.categories = BarChart(None, t, s)
        self.categories.bar_clicked.connect(self._on_bar)
        self.hours = BarChart(None, t, s)
        self.hotspots = DataTable(None, t, s)
        self.hotspots.row_activated.connect(self._on_row)
        self.area_tree = AreaTree(tr("areas_tree"), t, s)
        self.area_tree.area_selected.connect(self.select_area)
        self.left_tabs = QTabWidget()
        self.left_tabs.addTab(self.hotspots, tr("table_hotspots"))
        self.left_tabs.addTab(self.area_tree, tr("areas_tree"))
        left = QSplitter(Qt.Orientation.Vertical)
        for w in (self.categories, self.hours, self.left_tabs):
            left.addWidget(w)
        left.setSizes([300, 220, 420])

        # centre: map toolbar, map with legend and details card
        self.canvas = MapCanvas(background=t.background[:3])
        self.canvas.view_changed.connect(self._on_view)
        self.canvas.area_clicked.connect(self._on_map_area)
        self.canvas.point_clicked.connect(self._on_map_point)
        self.canvas.symbol_clicked.connect(self._on_symbol)
        self.canvas.installEventFilter(self)  # overlays follow the canvas size
        self.legend = Legend(t, s, self.canvas)
        self.details = DetailsPanel(t, s, self.canvas)
        self.map_error = QLabel(self.canvas)  # the map failed: said on the map, old layers stay
        self.map_error.setWordWrap(True)
        self.map_error.hide()
        self.details.closed.connect(self._clear_dispatch)
        self.details.row_activated.connect(self._on_row)
        self.map_buttons: dict[str, QPushButton] = {}
        self.map_toolbar = QWidget()
        bar = QHBoxLayout(self.map_toolbar)
        bar.setContentsMargins(0, 0, 0, 0)
        for key, label in (("situation", "group_situation"), ("resources", "group_resources"),
                           ("hazards", "group_hazards"), ("hotspots", "toggle_hotspots"),
                           ("repeats", "toggle_repeats"), ("choropleth", "toggle_choropleth"),
                           ("choropleth_rate", "choropleth_rate"), ("dispatch", "dispatch_title")):
            b = QPushButton(tr(label))
            b.setCheckable(True)
            b.setProperty("i18n", label)
            b.toggled.connect(lambda on, k=key: self._toggle(k, on))
            bar.addWidget(b)
            self.map_buttons[key] = b
        bar.addStretch(1)
        self.reset_button = QPushButton(tr("reset_view"))
        self.reset_button.clicked.connect(self.canvas.reset_view)
        self.back_button = QPushButton(tr("back"))
        self.back_button.clicked.connect(self.store.back)
        self.back_button.setShortcut(QKeySequence(QKeySequence.StandardKey.Back))
        bar.addWidget(self.back_button)
        bar.addWidget(self.reset_button)
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.map_toolbar)
        cl.addWidget(self.canvas, 1)
        self._centre = centre

        # right column: rectification and mediation
        self.rect_funnel = FunnelChart(None, t, s)
        self.overdue = DataTable(None, t, s)
        self.overdue.row_activated.connect(self._on_row)
        self.med_funnel = FunnelChart(None, t, s)
        self.med_trend = LineChart(None, t, s)
        right = QSplitter(Qt.Orientation.Vertical)
        for w in (self.rect_funnel, self.overdue, self.med_funnel, self.med_trend):
            right.addWidget(w)
        right.setSizes([170, 330, 170, 230])

        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.addWidget(left)
        self.web_map = WebMapController(self, centre)  # tabs: the native map, the web map
        self.main_split.addWidget(self.web_map.tabs)
        self.web_map.tabs.currentChanged.connect(
            lambda i: self._refresh_scene() if i == 0 else None)
        self.main_split.addWidget(right)
        self.main_split.setSizes([420, 1020, 480])
        self.main_split.setStretchFactor(1, 1)
        self.timeline = LineChart(None, t, s, selectable=True)
        self.timeline.region_selected.connect(self._on_region)
        vsplit = QSplitter(Qt.Orientation.Vertical)
        vsplit.addWidget(self.main_split)
        vsplit.addWidget(self.timeline)
        vsplit.setSizes([800, 150])
        vsplit.setStretchFactor(0, 1)
        outer.addWidget(vsplit, 1)
        self._splitters = (left, right, self.main_split, vsplit)
        self._menus()
        for key, on in (("situation", True), ("hotspots", True)):
            self.map_buttons[key].setChecked(on)
        self.map_buttons["choropleth_rate"].setEnabled(False)
        self._restyle()

    def _menus(self) -> None:
        bar = self.menuBar()
        self.m_file = bar.addMenu(tr("menu_file"))
        self.a_open = QAction(tr("menu_open"), self, shortcut=QKeySequence.StandardKey.Open)
        self.a_open.triggered.connect(self._ask_open)
        self.a_report = QAction(tr("menu_load_report"), self)
        self.a_report.triggered.connect(self.show_load_report)
        self.a_quit = QAction(tr("menu_quit"), self, shortcut=QKeySequence.StandardKey.Quit)
        self.a_quit.triggered.connect(self.close)
        for a in (self.a_open, self.a_report, self.a_quit):
            self.m_file.addAction(a)
        self.m_view = bar.addMenu(tr("menu_view"))
        group = QActionGroup(self)
        self.a_dark = QAction(tr("menu_theme_dark"), self, checkable=True, checked=True)
        self.a_light = QAction(tr("menu_theme_light"), self, checkable=True)
        self.a_dark.triggered.connect(lambda: self.set_theme(DARK))
        self.a_light.triggered.connect(lambda: self.set_theme(LIGHT))
        for a in (self.a_dark, self.a_light):
            group.addAction(a)
            self.m_view.addAction(a)
        self.m_lang = self.m_view.addMenu(tr("menu_language"))
        lg = QActionGroup(self)
        for code, name in (("zh", "简体中文"), ("en", "English")):
            a = QAction(name, self, checkable=True, checked=code == self.lang)
            a.triggered.connect(lambda _=False, c=code: self.set_language(c))
            lg.addAction(a)
            self.m_lang.addAction(a)

    # ================================================================ look
    def _restyle(self) -> None:
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
        button_css = (
            f"QPushButton {{ color: {css(t.text)}; background: {css(t.panel)};"
            f" border: 1px solid {css(t.grid)}; padding: {round(3 * s)}px {round(10 * s)}px;"
            f" border-radius: {round(4 * s)}px; }}"
            f"QPushButton:checked {{ background: {css((*t.accent[:3], 90))};"
            f" border-color: {css(t.accent)}; }}")
        for b in (*self.map_buttons.values(), self.reset_button, self.back_button,
                  self.lang_button, self.theme_button):
            b.setStyleSheet(button_css)
            b.setFont(make_font(t, 10, s))
        self.left_tabs.setStyleSheet(
            f"QTabWidget::pane {{ border: none; }}"
            f"QTabBar::tab {{ color: {css(t.muted)}; background: {css(t.background)};"
            f" padding: {round(4 * s)}px {round(12 * s)}px; }}"
            f"QTabBar::tab:selected {{ color: {css(t.text)}; background: {css(t.panel)}; }}")
        self.left_tabs.tabBar().setFont(make_font(t, 10, s, bold=True))
        for sp in self._splitters:
            sp.setHandleWidth(round(6 * s))
        self.canvas.setBackground(qcolor(t.background))
        self.canvas.ink = qcolor(t.text)
        self.canvas.scale_factor = s
        self.menuBar().setFont(make_font(t, 10, s))
        self.statusBar().setFont(make_font(t, 10, s))
        self.left_tabs.tabBar().setStyleSheet(f"font-size: {10 * s:.1f}pt;")
        self._size_splitters()
        for w in (self.kpis, self.filter_bar, self.categories, self.hours, self.hotspots,
                  self.area_tree, self.rect_funnel, self.overdue, self.med_funnel,
                  self.med_trend, self.timeline, self.details):
            w.set_theme(t)
            w.set_scale(s)
        self.legend.set_theme(t)
        self.legend.set_scale(s)
        self.web_map.set_theme(t, s)
        self.map_error.setFont(make_font(t, 12, s, bold=True))
        self.map_error.setStyleSheet(f"color: {css(t.bad)}; background: {css(t.panel)};"
                                     f" padding: {round(6 * s)}px;")
        self._update_header()
        self._place_overlays()

    def _size_splitters(self) -> None:
        # proportions of the reference layout, whatever the screen
        s = self.scale
        left, right, main, vsplit = self._splitters
        left.setSizes([round(v * s) for v in (300, 220, 420)])
        right.setSizes([round(v * s) for v in (170, 330, 170, 230)])
        total = max(self.main_split.width(), round(1900 * s))
        main.setSizes([round(420 * s), total - round(900 * s), round(480 * s)])
        vsplit.setSizes([max(1, vsplit.height() - round(150 * s)), round(150 * s)])

    def set_theme(self, theme: Theme) -> None:
        if theme == self.theme:
            return
        self.theme = theme
        self.options = dataclasses.replace(self.options, dark=theme.name == "dark")
        (self.a_dark if theme.name == "dark" else self.a_light).setChecked(True)
        app = QApplication.instance()
        if app is not None:  # menus, scroll bars and tooltips follow the application palette
            apply_theme(app, theme)
        self._restyle()
        self.canvas.update()
        self._refresh_scene()

    def set_language(self, lang: str) -> None:
        if lang == self.lang:
            return
        self.lang = lang
        i18n.set_language(lang)
        self.options = dataclasses.replace(self.options, lang=lang)
        self.setWindowTitle(tr("app_title"))
        for b in self.map_buttons.values():
            b.setText(tr(b.property("i18n")))
        self.reset_button.setText(tr("reset_view"))
        self.back_button.setText(tr("back"))
        self.left_tabs.setTabText(0, tr("table_hotspots"))
        self.left_tabs.setTabText(1, tr("areas_tree"))
        self.area_tree.set_title(tr("areas_tree"))
        self.web_map.set_language(lang)
        self.filter_bar.retranslate()
        self.details.retranslate()
        self.m_file.setTitle(tr("menu_file"))
        self.m_view.setTitle(tr("menu_view"))
        self.m_lang.setTitle(tr("menu_language"))
        for a, key in ((self.a_open, "menu_open"), (self.a_report, "menu_load_report"),
                       (self.a_quit, "menu_quit"), (self.a_dark, "menu_theme_dark"),
                       (self.a_light, "menu_theme_light")):
            a.setText(tr(key))
        self._update_header()
        self.refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        factor = round(scale_for(self.width(), self.height()) * self.scale_boost, 2)
        if abs(factor - self.scale) > 0.04:
            self.scale = factor
            self._restyle()
            self._refresh_scene()
        self._place_overlays()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.canvas and event.type() == QEvent.Type.Resize:
            self._place_overlays()
        return super().eventFilter(obj, event)

    def _place_overlays(self) -> None:
        m = round(10 * self.scale)
        self.legend.resize(self.legend.sizeHint())
        self.legend.move(m, max(m, self.canvas.height() - self.legend.height() - m * 5))
        w = min(round(420 * self.scale), max(200, self.canvas.width() // 2))
        h = min(round(460 * self.scale), self.canvas.height() - 2 * m)
        self.details.setGeometry(self.canvas.width() - w - m, m, w, h)
        self.map_error.setFixedWidth(max(100, self.canvas.width() // 2))
        self.map_error.adjustSize()
        self.map_error.move(m, m)

    def _update_header(self) -> None:
        ex = self.extract
        if ex is None:
            self.title_label.setText(tr("app_title"))
            return
        self.title_label.setText(f"{ex.region_name} · {tr('app_title')}")
        st = self.store.state
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
        self.window_label.setText(self.panels.header.window if self.panels else "")
        self.lang_button.setText("English" if self.lang == "zh" else "中文")
        self.theme_button.setText(tr("menu_theme_light" if self.theme.name == "dark"
                                     else "menu_theme_dark"))

    # ================================================================ extracts
    def open_path(self, path: str) -> None:
        """Open an extract in the background; the current one stays until it succeeds."""
        self.progress.setFormat(tr("opening", name=Path(path).name) + " %p%")
        self.progress.setValue(0)
        self.progress.show()
        self._open_started = time.perf_counter()
        # a Python thread (see desktop/jobs.py for why not a QRunnable)
        self._open_thread = threading.Thread(target=_OpenJob(path, self._opener).run,
                                             name="cockpit-open", daemon=True)
        self._open_thread.start()

    def _on_open_progress(self, stage: str, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))

    def _on_opened(self, extract: Extract, path: str) -> None:
        self.progress.hide()
        self.timings["open"] = time.perf_counter() - self._open_started
        self.set_extract(extract, path)

    def _on_open_failed(self, reason: str, path: str) -> None:
        self.progress.hide()
        self.open_failed.emit(reason, path)
        if self.interactive:
            box = QMessageBox(QMessageBox.Icon.Warning, tr("open_failed"),
                              tr("open_failed_detail", path=path, reason=reason),
                              QMessageBox.StandardButton.Ok, self)
            box.open()
            self._message = box

    def set_extract(self, extract: Extract, path: str = "") -> None:
        """Show ``extract``; a new region starts from a clear filter and the home view."""
        old = self.extract
        same_region = old is not None and old.region_name == extract.region_name
        self.jobs.wait(10_000)
        self.extract = extract
        self.path = path
        self._drawn.clear()
        self._remember_scene = True
        geom = extract.areas
        self.canvas.set_area_hit_test(self._area_at)
        self.area_tree.set_areas([(geom.ids[i], geom.names[i],
                                   geom.ids[int(geom.parent[i])] if geom.parent[i] >= 0
                                   else None, geom.levels[i]) for i in range(len(geom))])
        home = full_view(extract, max(1, self.canvas.width()), max(1, self.canvas.height()))
        if not same_region:
            self.canvas.set_home(home)
            self.store.set(FilterState())
        else:
            self.canvas.set_home(home, move=False)
        if old is not None and old is not extract:
            QTimer.singleShot(2_000, old.close)  # after jobs that still hold its cursors
        self._update_header()
        self.refresh()
        self.extract_opened.emit(path)
        set_aside = sum(t.quarantined for t in extract.report.tables.values())
        if set_aside:
            # the figures leave these rows out: say so, the report is one menu click away
            self.statusBar().showMessage(tr("quarantined_note", n=f"{set_aside:,}"))

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("menu_open"), "",
                                              "DuckDB (*.duckdb *.db);;*")
        if path:
            self.open_path(path)

    def show_load_report(self) -> None:
        if self.extract is None:
            return
        text = "\n".join(self.extract.report.summary_lines())
        box = QMessageBox(QMessageBox.Icon.Information,
                          tr("load_report_title", name=Path(self.path or "").name), text,
                          QMessageBox.StandardButton.Ok, self)
        box.open()
        self._message = box

    # ================================================================ jobs
    def refresh(self) -> None:
        self._refresh_panels()
        self._refresh_scene()
        if self.show_repeats:
            self._refresh_repeats()

    def _query(self) -> Query:
        ex = self.extract
        return Query(ex, ex.cursor())

    def _refresh_panels(self) -> None:
        if self.extract is None:
            return
        state, lang, ex = self.store.state, self.lang, self.extract
        token = (id(ex), state, lang)

        def work() -> Panels:
            stored = first_frame.load(ex, state, lang)  # the opening view, from the last start
            if stored is not None:
                return stored
            q = Query(ex, ex.cursor())
            try:
                panels = build_panels(q, state, lang)
            finally:
                q.con.close()
            first_frame.store(ex, panels, lang)
            return panels
        self._t_panels = time.perf_counter()
        self.jobs.submit("panels", token, work)

    def _refresh_scene(self) -> bool:
        if self.extract is None or self.canvas.width() < 2 or not self.canvas.isVisible():
            return False  # a hidden map (the web tab in front) is built when shown again
        state, ex, view = self.store.state, self.extract, self.canvas.map_view()
        # hidden maps are not built: hazards alone cost 80 ms at 1M
        options = dataclasses.replace(self.options, repeats=False, lang=self.lang,
                                      situation=self.groups["situation"],
                                      resources=self.groups["resources"],
                                      hazards=self.groups["hazards"])
        token = (id(ex), state, view, options)

        # only the opening map is remembered for the next start, not every pan
        remember, self._remember_scene = self._remember_scene, False

        def work() -> Scene:
            stored = first_frame.load_scene(ex, state, view, options) if remember else None
            if stored is not None:
                return stored
            q = Query(ex, ex.cursor())
            try:
                scene = build_scene(q, state, view, options)
            finally:
                q.con.close()
            if remember:
                first_frame.store_scene(ex, state, options, scene)
            return scene
        self._t_scene = time.perf_counter()
        self.jobs.submit("scene", token, work)
        return True

    def _refresh_repeats(self) -> None:
        if self.extract is None:
            return
        state, ex, lang = self.store.state, self.extract, self.lang
        token = (id(ex), state, lang)

        def work() -> list:
            q = Query(ex, ex.cursor())
            try:
                return repeat_layers(q, state, lang)
            finally:
                q.con.close()
        self.jobs.submit("repeats", token, work)

    def _on_job(self, name: str, token: object, result: Any) -> None:
        if name == "panels":
            self.timings["panels"] = time.perf_counter() - self._t_panels
            self._show_panels(result)
        elif name == "scene":
            self.timings["scene"] = time.perf_counter() - self._t_scene
            self._show_scene(result)
            if self._panels_after_scene:
                self._panels_after_scene = False
                self._refresh_panels()
        elif name == "repeats":
            self.canvas.set_layers(tuple(result), {"repeats"})
            self._apply_visibility()
            self._update_legend()
        elif name == "details":
            self.details.show_details(result)
        elif name == "dispatch":
            self._show_dispatch(result)
        if not self.jobs.busy():
            self.frame_ready.emit()

    def _on_job_failed(self, name: str, token: object, error: str) -> None:
        # A failure shows in the place of what failed; the rest keeps working.
        first = error.splitlines()[0]
        if name in OWN_JOBS:  # other owners (the web-map tab) show their own failures
            self.failures.append((name, first))
            del self.failures[:-50]
            self.statusBar().showMessage(tr("panel_error", error=first), 15_000)
        if name == "panels":
            for w in self._panel_widgets():
                w.show_error(first)
        elif name == "scene":
            self.map_error.setText(tr("panel_failed", error=first))
            self.map_error.adjustSize()
            self.map_error.show()
            self._place_overlays()
        if not self.jobs.busy():
            self.frame_ready.emit()

    def _panel_widgets(self) -> tuple:
        return (self.kpis, self.categories, self.hours, self.hotspots, self.rect_funnel,
                self.overdue, self.med_funnel, self.med_trend, self.timeline)

    def _show_panels(self, p: Panels) -> None:
        self.panels = p
        for widget, spec in ((self.kpis, p.kpis), (self.categories, p.categories),
                             (self.hours, p.hours), (self.hotspots, p.hotspots),
                             (self.rect_funnel, p.rect_funnel), (self.overdue, p.overdue),
                             (self.med_funnel, p.med_funnel), (self.med_trend, p.med_trend),
                             (self.timeline, p.timeline)):
            try:
                if isinstance(spec, PanelError):
                    widget.show_error(spec.message)
                elif widget is self.kpis:
                    widget.set_specs(spec)
                else:
                    widget.set_spec(spec)
            except Exception as exc:  # drawing one panel must not stop the others
                widget.show_error(f"{type(exc).__name__}: {exc}")
        st = p.state
        if (st.start is None and st.end is None) or isinstance(p.timeline, PanelError):
            self.timeline.set_region(None)
        elif p.timeline.x:
            lo = _day_number(st.start) if st.start else p.timeline.x[0]
            hi = _day_number(st.end) if st.end else p.timeline.x[-1]
            self.timeline.set_region(lo - 0.5, hi + 0.5)
        self.filter_bar.set_chips(filter_chips(st, self.extract, self.lang))
        self.area_tree.set_selected(st.areas)
        self._update_header()

    def _show_scene(self, scene: Scene) -> None:
        self.scene = scene
        self.map_error.hide()
        names = {spec.name for spec in scene.layers}
        # layers that the new scene no longer has (e.g. the choropleth switched off)
        for n in self.canvas.layers():
            if n not in names and n not in ("repeats", "dispatch"):
                self.canvas.remove_layer(n)
        self.canvas.set_layers(scene.layers)
        self._apply_visibility()
        self._update_legend()

    def _apply_visibility(self) -> None:
        for group, names in GROUP_LAYERS.items():
            for n in names:
                on = self.groups[group]
                if n == "hotspots":
                    on = on and self.options.hotspots
                if n == "repeats":
                    on = on and self.show_repeats
                self.canvas.set_layer_visible(n, on)
        self.canvas.set_layer_visible("areas.fill", True)

    def _update_legend(self) -> None:
        sections = []
        for name, spec in self.canvas.layers().items():
            if spec.legend and self.canvas.layer_visible(name) and spec.visible:
                sections.append((spec.title, spec.legend))
        self.legend.set_sections(sections)
        self._place_overlays()

    # ================================================================ intents
    def _on_state(self, state: FilterState) -> None:
        # The map first, the panels once it is drawn: on two cores (and one GIL) running
        # both at once makes the map wait for the panels.
        self._panels_after_scene = self._refresh_scene()
        if not self._panels_after_scene:
            self._refresh_panels()
        if self.show_repeats:
            self._refresh_repeats()

    def _on_view(self, view: Viewport) -> None:
        if self.scene is not None and self.scene.view == view:
            return
        self._refresh_scene()

    def _on_bar(self, field: str, key: str) -> None:
        if field:
            self.store.apply(lambda st: st.toggle(field, key))

    def _on_region(self, x0: float, x1: float) -> None:
        a, b = sorted((x0, x1))
        start = date(1970, 1, 1) + timedelta(days=int(np.ceil(a)))
        end = date(1970, 1, 1) + timedelta(days=int(np.floor(b)))
        if end < start:
            end = start
        self.store.apply(lambda st: st.with_window(start, end))

    def _on_row(self, field: str, key: str, location: object) -> None:
        if field == "areas":
            self.select_area(key, zoom=False)
        if location is not None:
            lon, lat = location
            mx, my = lonlat_to_mercator([lon], [lat])
            span = 6_000.0 if field == "areas" else 2_000.0
            self.canvas.zoom_to(float(mx[0]), float(my[0]), span)

    def select_area(self, area_id: str, zoom: bool = True) -> None:
        """Select one area (its children included); selecting it again clears it."""
        st = self.store.state
        new = st.with_areas(set() if st.areas == {area_id} else {area_id})
        self.store.set(new)
        if zoom and new.areas and self.extract is not None:
            self.zoom_to_area(area_id)

    def zoom_to_area(self, area_id: str) -> None:
        ex = self.extract
        idx = ex.areas.idx_of(area_id) if ex else None
        if idx is None or ex.areas.geoms[idx] is None:
            return
        x0, y0, x1, y1 = ex.areas.geoms[idx].bounds
        (mx0, mx1), (my0, my1) = lonlat_to_mercator([x0, x1], [y0, y1])
        self.canvas.set_view(fit_view(mx0, my0, mx1, my1, self.canvas.width(),
                                      self.canvas.height()))

    def _area_at(self, lon: float, lat: float) -> str | None:
        ex = self.extract
        if ex is None:
            return None
        idx = int(ex.areas.locate(np.array([lon]), np.array([lat]))[0])
        if idx < 0:
            return None
        view = self.canvas.map_view()
        level = "village" if (view.x1 - view.x0) < VILLAGE_VIEW_M else "town"
        up = int(ex.areas.ancestor_at(level)[idx])
        return ex.areas.ids[up if up >= 0 else idx]

    def _on_map_area(self, area_id: str) -> None:
        if not self.dispatch_mode:
            self.select_area(area_id, zoom=False)

    def _on_map_point(self, lon: float, lat: float) -> None:
        if self.dispatch_mode:
            self.dispatch_from(lon, lat)

    def dispatch_from(self, lon: float, lat: float) -> None:
        ex, lang = self.extract, self.lang
        if ex is None:
            return
        origin = tr("details_point", lon=lon, lat=lat)
        self.details.show_details(None)
        self.jobs.submit("dispatch", ("point", lon, lat, lang),
                         lambda: dispatch(ex, lon, lat, origin, lang=lang))

    def _on_symbol(self, layer: str, key: str) -> None:
        ex, lang, state = self.extract, self.lang, self.store.state
        if ex is None:
            return
        token = (layer, key, lang)
        if layer == "incidents":
            self.jobs.submit("details", token, lambda: incident_details(ex, key, lang))
            self.jobs.submit("dispatch", token, lambda: dispatch_for_incident(ex, key, lang=lang))
        elif layer == "hazards":
            def hazard() -> object:
                q = Query(ex, ex.cursor())
                try:
                    return hazard_details(q, state, key, lang)
                finally:
                    q.con.close()
            self.jobs.submit("details", token, hazard)
            self._clear_dispatch()
        elif layer == "resources":
            self.jobs.submit("details", token, lambda: resource_details(ex, key, lang))
            self._clear_dispatch()

    def _show_dispatch(self, d: object) -> None:
        self.details.show_dispatch(d)
        if d is not None:
            self.canvas.set_layers((d.layer,), {"dispatch"})
            self.canvas.set_layer_visible("dispatch", True)

    def _clear_dispatch(self) -> None:
        self.details.show_dispatch(None)
        self.canvas.remove_layer("dispatch")

    def _toggle(self, key: str, on: bool) -> None:
        if key in self.groups:
            self.groups[key] = on
            self._refresh_scene()
        elif key == "hotspots":
            self.options = dataclasses.replace(self.options, hotspots=on)
            self._refresh_scene()
        elif key == "repeats":
            self.show_repeats = on
            if on:
                self._refresh_repeats()
        elif key in ("choropleth", "choropleth_rate"):
            # one switch for the map, one for its measure: count, or rate per 10k residents
            shown = self.map_buttons["choropleth"].isChecked()
            measure = "rate" if self.map_buttons["choropleth_rate"].isChecked() else "count"
            self.map_buttons["choropleth_rate"].setEnabled(shown)
            self.options = dataclasses.replace(self.options,
                                               choropleth=measure if shown else None)
            self._refresh_scene()
        elif key == "dispatch":
            self.dispatch_mode = on
            self.canvas.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
        self._apply_visibility()
        self._update_legend()

    # ================================================================ lifecycle
    def _idle(self) -> bool:
        """No worker thread is inside DuckDB, GEOS or numpy for this window."""
        opening = self._open_thread is not None and self._open_thread.is_alive()
        return not opening and not self.jobs.busy()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._clock.stop()
        self.jobs.shutdown()
        self.web_map.close()
        if self._open_thread is not None:
            self._open_thread.join(5.0)
        self._gc.stop()
        super().closeEvent(event)


def _day_number(d: date) -> float:
    return float((d - date(1970, 1, 1)).days)


def _age(age: timedelta) -> tuple[int, str]:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 120:
        return minutes, "fresh_minutes"
    if minutes < 48 * 60:
        return minutes // 60, "fresh_hours"
    return minutes // 1440, "fresh_days"

