"""The cockpit's one screen as a widget: KPI tiles, the charts and tables on the left and
right, the map in the middle, the timeline below, all following one session.

``CockpitBoard`` lays out the views and wires them to a ``CockpitSession`` through two
presenters (the map's, the panels'); the desk window puts its header, menus and filter
chips around it, the wall its banner. Nothing here owns state: the filter and the view
options live in the session, and every control only asks it for a change.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from data.extract import Extract
from data.filters import FilterState
from layers.i18n import tr
from layers.jurisdiction import scoped
from widgets.area_tree import AreaTree
from widgets.charts import BarChart, FunnelChart, LineChart
from widgets.details_panel import DetailsPanel
from widgets.kpi import KpiStrip
from widgets.legend import Legend
from widgets.map_canvas import MapCanvas
from widgets.reference_button import ReferenceButton
from widgets.tables import DataTable
from widgets.theme import DARK, LIGHT, Theme, css, make_font, qcolor, signals_blocked

from .backdrop import BackdropController
from .map_presenter import MapPresenter
from .panels_presenter import PanelsPresenter
from .session import CockpitSession, ViewOptions

THEMES = {"dark": DARK, "light": LIGHT}
REFERENCE = (1920, 1080)

# map toolbar: button key → (label key, the ViewOptions field it switches)
MAP_BUTTONS = (("situation", "group_situation", "situation"),
               ("resources", "group_resources", "resources"),
               ("hazards", "group_hazards", "hazards"),
               ("hotspots", "toggle_hotspots", "hotspots"),
               ("repeats", "toggle_repeats", "repeats"),
               ("choropleth", "toggle_choropleth", "choropleth"),
               ("choropleth_rate", "choropleth_rate", "per_10k"),
               ("dispatch", "dispatch_title", "dispatch"))


def scale_for(width: int, height: int) -> float:
    """Type and symbol scale for a window size (1.0 at 1920x1080, 2.0 at 3840x2160)."""
    return round(max(0.75, min(width / REFERENCE[0], height / REFERENCE[1], 4.0)), 2)


class CockpitBoard(QWidget):
    """``frame_ready``: the scene and panels asked for last are drawn (no job left);
    ``notices_changed``: the base map or reference layers had something to say."""

    frame_ready = Signal()
    notices_changed = Signal()

    def __init__(self, session: CockpitSession, scale: float = 1.0, web_map: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.theme = THEMES.get(session.options.value.theme, DARK)
        self.scale = scale
        self._panels_pending = False
        self.backdrop: BackdropController | None = None
        """The settings' base map and reference layers, attached with the first extract."""
        self._build(web_map)
        self.map = MapPresenter(session, self.canvas, self.legend, self.details, self.map_error)
        self.map.legend_extra = self._backdrop_legend
        self.panels = PanelsPresenter(session, self.kpis, self.categories, self.hours,
                                      self.hotspots, self.rect_funnel, self.overdue,
                                      self.med_funnel, self.med_trend, self.timeline)
        self.map.settled.connect(self._on_map_settled)
        for table in (self.hotspots, self.overdue, self.details):
            table.row_activated.connect(self._on_row)
        self.area_tree.area_selected.connect(self.map.select_area)
        session.filters.changed.connect(self._on_state)
        session.options.changed.connect(self._on_options)
        session.extract_changed.connect(self._on_extract)
        session.jobs.idle.connect(self._on_idle)
        self._sync_buttons(session.options.value)
        self.restyle()

    # ================================================================ construction
    def _build(self, web_map: bool) -> None:
        t, s = self.theme, self.scale
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self._outer = outer
        self.kpis = KpiStrip((), t, s)
        outer.addWidget(self.kpis)

        # left column: categories, hours, hotspot areas / area tree
        self.categories = BarChart(None, t, s)
        self.hours = BarChart(None, t, s)
        self.hotspots = DataTable(None, t, s)
        self.area_tree = AreaTree(tr("areas_tree"), t, s)
        self.left_tabs = QTabWidget()
        self.left_tabs.addTab(self.hotspots, tr("table_hotspots"))
        self.left_tabs.addTab(self.area_tree, tr("areas_tree"))
        left = QSplitter(Qt.Orientation.Vertical)
        for w in (self.categories, self.hours, self.left_tabs):
            left.addWidget(w)

        # centre: map toolbar, map with legend and details card
        self.canvas = MapCanvas(background=t.background[:3])
        self.canvas.installEventFilter(self)  # overlays follow the canvas size
        self.legend = Legend(t, s, self.canvas)
        self.legend.installEventFilter(self)  # it grows with its sections: placed again
        self.details = DetailsPanel(t, s, self.canvas)
        self.map_error = QLabel(self.canvas)  # the map failed: said on the map, old layers stay
        self.map_error.setWordWrap(True)
        self.map_error.hide()
        self.map_buttons: dict[str, QPushButton] = {}
        self.map_toolbar = QWidget()
        bar = QHBoxLayout(self.map_toolbar)
        bar.setContentsMargins(0, 0, 0, 0)
        for key, label, option in MAP_BUTTONS:
            b = QPushButton(tr(label))
            b.setCheckable(True)
            b.setProperty("i18n", label)
            b.toggled.connect(lambda on, o=option: self.session.options.update(**{o: on}))
            bar.addWidget(b)
            self.map_buttons[key] = b
        self.reference_button = ReferenceButton()  # hidden until reference layers arrive
        bar.addWidget(self.reference_button)
        bar.addStretch(1)
        self.back_button = QPushButton(tr("back"))
        self.back_button.clicked.connect(self.session.filters.back)
        self.back_button.setShortcut(QKeySequence(QKeySequence.StandardKey.Back))
        self.reset_button = QPushButton(tr("reset_view"))
        self.reset_button.clicked.connect(self.canvas.reset_view)
        bar.addWidget(self.back_button)
        bar.addWidget(self.reset_button)
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.map_toolbar)
        cl.addWidget(self.canvas, 1)
        self.centre = centre

        # right column: rectification and mediation
        self.rect_funnel = FunnelChart(None, t, s)
        self.overdue = DataTable(None, t, s)
        self.med_funnel = FunnelChart(None, t, s)
        self.med_trend = LineChart(None, t, s)
        right = QSplitter(Qt.Orientation.Vertical)
        for w in (self.rect_funnel, self.overdue, self.med_funnel, self.med_trend):
            right.addWidget(w)

        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.addWidget(left)
        self.web_map = None
        if web_map:
            # imported here: the wall never builds a web page (its memory grows for days)
            from .web_map_controller import WebMapController

            self.web_map = WebMapController(
                self.session, centre, parent=self,
                reference=lambda: self.backdrop.reference if self.backdrop else ())
            self.main_split.addWidget(self.web_map.tabs)
            self.web_map.tabs.currentChanged.connect(
                lambda i: self.map.refresh() if i == 0 else None)
        else:
            self.main_split.addWidget(centre)
        self.main_split.addWidget(right)
        self.main_split.setStretchFactor(1, 1)
        self.timeline = LineChart(None, t, s, selectable=True)
        self.timeline_box = QWidget()  # the timeline and the bars above it (the play control)
        self._timeline_bars: list[QWidget] = []
        tl = QVBoxLayout(self.timeline_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.timeline, 1)
        vsplit = QSplitter(Qt.Orientation.Vertical)
        vsplit.addWidget(self.main_split)
        vsplit.addWidget(self.timeline_box)
        vsplit.setStretchFactor(0, 1)
        outer.addWidget(vsplit, 1)
        self._splitters = (left, right, self.main_split, vsplit)

    def add_bar(self, widget: QWidget) -> None:
        """Put a full-width bar (the desk's filter chips) between the KPIs and the panels."""
        self._outer.insertWidget(1, widget)

    def add_timeline_bar(self, widget: QWidget) -> None:
        """Put a bar right above the timeline (the desk's play control); it follows the
        board's theme, scale and language (``set_theme``, ``set_scale``, ``retranslate``)."""
        self.timeline_box.layout().insertWidget(len(self._timeline_bars), widget)
        self._timeline_bars.append(widget)
        widget.set_theme(self.theme)
        widget.set_scale(self.scale)
        self._size_splitters()

    def panel_widgets(self) -> tuple:
        return self.panels.widgets()

    # ================================================================ parts (a spanning wall)
    def parts(self) -> dict[str, QWidget]:
        """The pieces a wall spanning several screens places screen by screen
        (``desktop.wall_screens``): KPI strip, left column, map, right column, timeline."""
        left, right, _main, _vsplit = self._splitters
        return {"kpis": self.kpis, "left": left, "map": self.centre, "right": right,
                "timeline": self.timeline_box}

    def restore_parts(self) -> None:
        """Put the pieces back into this board's own layout (after ``parts`` were placed
        elsewhere): the one-screen layout again."""
        left, right, main, vsplit = self._splitters
        self._outer.insertWidget(0, self.kpis)
        if self.web_map is None:
            for i, w in enumerate((left, self.centre, right)):
                main.insertWidget(i, w)
        vsplit.insertWidget(1, self.timeline_box)
        for w in (self.kpis, left, right, self.timeline_box) + (
                (self.centre,) if self.web_map is None else ()):
            w.show()
        self._size_splitters()

    # ================================================================ look
    def restyle(self) -> None:
        t, s = self.theme, self.scale
        self._outer.setSpacing(round(6 * s))
        button_css = (
            f"QPushButton {{ color: {css(t.text)}; background: {css(t.panel)};"
            f" border: 1px solid {css(t.grid)}; padding: {round(3 * s)}px {round(10 * s)}px;"
            f" border-radius: {round(4 * s)}px; }}"
            f"QPushButton:checked {{ background: {css((*t.accent[:3], 90))};"
            f" border-color: {css(t.accent)}; }}"
            f"QPushButton:disabled {{ color: {css(t.muted)}; }}")
        self.button_css = button_css
        for b in (*self.map_buttons.values(), self.reset_button, self.back_button,
                  self.reference_button):
            b.setStyleSheet(button_css.replace("QPushButton", b.metaObject().className()))
            b.setFont(make_font(t, 10, s))
        self.left_tabs.setStyleSheet(
            f"QTabWidget::pane {{ border: none; }}"
            f"QTabBar::tab {{ color: {css(t.muted)}; background: {css(t.background)};"
            f" padding: {round(4 * s)}px {round(12 * s)}px; }}"
            f"QTabBar::tab:selected {{ color: {css(t.text)}; background: {css(t.panel)}; }}")
        self.left_tabs.tabBar().setFont(make_font(t, 10, s, bold=True))
        self.left_tabs.tabBar().setStyleSheet(f"font-size: {10 * s:.1f}pt;")
        for sp in self._splitters:
            sp.setHandleWidth(round(6 * s))
        self.canvas.setBackground(qcolor(t.background))
        self.canvas.ink = qcolor(t.text)
        self.canvas.scale_factor = s
        self._size_splitters()
        for w in (self.kpis, self.categories, self.hours, self.hotspots, self.area_tree,
                  self.rect_funnel, self.overdue, self.med_funnel, self.med_trend,
                  self.timeline, self.details, *self._timeline_bars):
            w.set_theme(t)
            w.set_scale(s)
        self.legend.set_theme(t)
        self.legend.set_scale(s)
        if self.web_map is not None:
            self.web_map.set_theme(t, s)
        self.map_error.setFont(make_font(t, 12, s, bold=True))
        self.map_error.setStyleSheet(f"color: {css(t.bad)}; background: {css(t.panel)};"
                                     f" padding: {round(6 * s)}px;")
        self.place_overlays()

    def _size_splitters(self) -> None:
        # proportions of the reference layout, whatever the screen
        s = self.scale
        left, right, main, vsplit = self._splitters
        left.setSizes([round(v * s) for v in (300, 220, 420)])
        right.setSizes([round(v * s) for v in (170, 330, 170, 230)])
        total = max(self.main_split.width(), round(1900 * s))
        main.setSizes([round(420 * s), total - round(900 * s), round(480 * s)])
        low = round(150 * s) + sum(b.sizeHint().height() for b in self._timeline_bars)
        vsplit.setSizes([max(1, vsplit.height() - low), low])

    def set_scale(self, scale: float) -> bool:
        """Type and symbol scale; True when it changed (the map is rebuilt for it)."""
        if abs(scale - self.scale) <= 0.04:
            return False
        self.scale = scale
        self.restyle()
        self.map.refresh()
        return True

    def set_theme(self, theme: Theme) -> None:
        """Restyle for ``theme`` (called by the window, after its own restyle)."""
        if theme == self.theme:
            return
        self.theme = theme
        self.restyle()
        self.canvas.update()

    def retranslate(self) -> None:
        for b in self.map_buttons.values():
            b.setText(tr(b.property("i18n")))
        self.reset_button.setText(scoped("reset_view", self.session.extract))
        self.back_button.setText(tr("back"))
        self.left_tabs.setTabText(0, tr("table_hotspots"))
        self.left_tabs.setTabText(1, tr("areas_tree"))
        self.area_tree.set_title(tr("areas_tree"))
        self.reference_button.setText(tr("layer_reference"))
        for bar in self._timeline_bars:
            bar.retranslate()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and (
                obj is self.canvas or obj is getattr(self, "legend", None)):
            self.place_overlays()
        return super().eventFilter(obj, event)

    def place_overlays(self) -> None:
        m = round(10 * self.scale)
        self.legend.resize(self.legend.sizeHint())
        self.legend.move(m, max(m, self.canvas.height() - self.legend.height() - m * 5))
        w = min(round(420 * self.scale), max(200, self.canvas.width() // 2))
        h = min(round(460 * self.scale), self.canvas.height() - 2 * m)
        self.details.setGeometry(self.canvas.width() - w - m, m, w, h)
        self.map_error.setFixedWidth(max(100, self.canvas.width() // 2))
        self.map_error.adjustSize()
        self.map_error.move(m, m)

    # ================================================================ following the session
    def refresh(self) -> None:
        """Everything again for the current state (a new extract, a new language)."""
        self._panels_pending = self.map.refresh()
        if not self._panels_pending:
            self.panels.refresh()
        if self.session.options.value.repeats:
            self.map.refresh_repeats()

    def _on_extract(self, extract: Extract) -> None:
        self.reset_button.setText(scoped("reset_view", extract))
        a = extract.areas
        self.area_tree.set_areas([(a.ids[i], a.names[i],
                                   a.ids[int(a.parent[i])] if a.parent[i] >= 0 else None,
                                   a.levels[i]) for i in range(len(a))])
        self.area_tree.set_selected(self.session.filters.state.areas)
        self.map.show_extract(extract, keep_view=self._same_home(extract))
        if self.backdrop is None:
            self._attach_backdrop(extract)
        self.refresh()

    # ================================================================ base map, reference
    def _attach_backdrop(self, extract: Extract) -> None:
        """The settings' base map and reference layers on this board's canvas (once: they do
        not depend on the extract, whose extent only helps tell an MBTiles file's rows)."""
        b = self.backdrop = BackdropController(self.canvas, self.session.settings,
                                               extract.areas.extent())
        b.bind(self.reference_button)
        b.changed.connect(self.map.update_legend)
        b.changed.connect(self.notices_changed)
        self.session.idle_checks.append(b.idle)
        if b.warnings:
            self.notices_changed.emit()

    def _backdrop_legend(self) -> list:
        return self.backdrop.legend_section(self.session.lang) if self.backdrop else []

    def notices(self) -> list[str]:
        """What the base map and reference layers could not do, in the session's language."""
        return ([n.text(self.session.lang) for n in self.backdrop.warnings]
                if self.backdrop else [])

    def close(self) -> None:
        """Stop the tile loaders and file readers; remove the web map's pages."""
        if self.backdrop is not None:
            self.backdrop.close()
        if self.web_map is not None:
            self.web_map.close()

    def _same_home(self, extract: Extract) -> bool:
        # a reload of the same region keeps the user's map view (the wall's reloads)
        prev = getattr(self, "_region", None)
        self._region = extract.region_name
        return prev == extract.region_name

    def _on_state(self, state: FilterState) -> None:
        # what only needs the state is shown at once; figures follow from the jobs
        self.area_tree.set_selected(state.areas)
        self.panels.show_window(state)
        self.refresh()

    def _on_idle(self) -> None:
        # Layouts changed by the new specs (tiles added, tables filled) are applied now, so
        # the frame announced as ready is the laid-out one, not the one before it.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self.frame_ready.emit()

    def _on_map_settled(self) -> None:
        if self._panels_pending:
            self._panels_pending = False
            self.panels.refresh()

    def _on_options(self, new: ViewOptions, old: ViewOptions) -> None:
        # A theme change is applied by the window around the board (``set_theme``), after
        # its own style sheet: a parent's new style sheet repolishes the children and
        # restores the palettes they had before, so the children must come last.
        self._sync_buttons(new)
        if new.lang != old.lang:
            self.retranslate()
            self.refresh()  # the map first, the panels after it, as for a filter change

    def _sync_buttons(self, o: ViewOptions) -> None:
        for key, _label, option in MAP_BUTTONS:
            b = self.map_buttons[key]
            with signals_blocked(b):
                b.setChecked(bool(getattr(o, option)))
        self.map_buttons["choropleth_rate"].setEnabled(o.choropleth)

    def _on_row(self, field: str, key: str, location: object) -> None:
        if field == "areas":
            self.map.select_area(key, zoom=False)
        if location is not None:
            lon, lat = location
            self.map.zoom_to(lon, lat, 6_000.0 if field == "areas" else 2_000.0)
