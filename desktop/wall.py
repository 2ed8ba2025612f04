"""Wall-display mode: the cockpit full screen, unattended, current, and safe for visitors.

``WallWindow`` shows the cockpit board of its own session with the controls taken
away: no menus, buttons or filter chips, a read-only banner instead (region, rotation
view, filter and time window, as-of, clock, and a red "stale" strip when a new extract
cannot be read), a privacy profile that holds whatever the desktop does (personal data
masked, incidents only aggregated, cards that close themselves), a rotation through the
configured views, and a reload of the extract when it is replaced, keeping the filter
and view.
It never opens a dialog: every problem is shown where it happened.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import QApplication, QHBoxLayout, QVBoxLayout, QWidget

from data.extract import Extract
from data.filters import FilterState
from layers.filter_text import window_text
from layers.i18n import tr
from widgets.theme import Theme, apply_theme, css, qcolor
from widgets.wall_banner import WallBanner

from . import allocator
from .annotation_layer import AnnotationOverlay
from .board import THEMES, CockpitBoard, scale_for
from .bookmarks import apply_saved_view
from .extract_watch import ReloadTracker, signature
from .session import MAP_GROUPS, CockpitSession, ViewOptions
from .wall_config import WallConfig, WallView, expand_views
from .wall_replay import WallReplay
from .wall_screens import Rect, assign_parts, screen_regions

WALL_BOOST = 1.15
"""Type and symbols a little larger than on a desk: the wall is read from across the room."""
TRIM_MS = 60_000
"""How often the wall hands the allocator's free pages back (``desktop.allocator``)."""


class FocusRing(QWidget):
    """An accent frame drawn over the panel the current view is about (mouse passes through)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.color = QColor(46, 199, 255)
        self.width_px = 3

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(self.color, self.width_px))
        half = self.width_px / 2
        p.drawRoundedRect(self.rect().adjusted(half, half, -half, -half), 6, 6)
        p.end()


class WallWindow(QWidget):
    """The cockpit board under a read-only banner, full screen and unattended.

    ``reloads``/``failures_seen``/``rotations`` count what happened (the soak reads them).
    """

    extract_opened = Signal(str)
    frame_ready = Signal()

    def __init__(self, path: str, config: WallConfig) -> None:
        # before the session's threads start: the wall runs for days (see allocator.py)
        tuned = allocator.tune_for_long_run()
        super().__init__()
        self.allocator_tuned = tuned
        self.config = config
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        # privacy: aggregated incidents and no exact repeat addresses, whatever the desk does
        points = config.incidents == "points"
        self.session = CockpitSession(ViewOptions(
            lang=config.lang, theme="light" if config.theme == "light" else "dark",
            repeats=config.repeats, incident_points=points,
            min_cell_m=0.0 if points else config.min_cell_m), self)
        self.wall_path = Path(path)
        self.reloads = 0
        self.failures_seen = 0
        self.rotations = 0
        self.views: list[WallView] = []
        self.view_index = -1
        self.scale = 1.0
        # no web page on the wall: its memory grows for days
        self.board = CockpitBoard(self.session, web_map=False)
        self.board.map_toolbar.hide()
        self.replay = WallReplay(self.session, self.board.frame_ready, self)  # replay views
        self.replay.done.connect(self._replay_done)
        self.annotations = AnnotationOverlay(self.session, self.board.canvas)  # shown, read-only
        self.banner = WallBanner(self.theme, self.scale, self)
        layout = QVBoxLayout(self)
        self._layout = layout
        layout.addWidget(self.banner)
        layout.addWidget(self.board, 1)
        self._rings: dict[QWidget, FocusRing] = {}
        self.regions: list[Rect] = []
        """The physical screens in window coordinates when spanning several (else empty)."""
        self._region_boxes: list[QWidget] = []
        self._span_size: tuple[int, int] = (0, 0)
        self.tracker = ReloadTracker(self.wall_path, config.retry_seconds)
        s = self.session
        s.extract_changed.connect(self._wall_opened)
        s.open_failed.connect(self._wall_failed)
        s.filters.changed.connect(lambda _s: self._update_banner())
        self.board.frame_ready.connect(self.frame_ready)
        self._poll = QTimer(self, interval=max(200, round(config.check_seconds * 1000)))
        self._poll.timeout.connect(self.check_extract)
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._on_tick)
        self._rotate = QTimer(self)
        self._rotate.timeout.connect(self.next_view)
        details = self.board.details
        self._details_timer = QTimer(self, singleShot=True,
                                     interval=round(config.detail_timeout_seconds * 1000))
        self._details_timer.timeout.connect(details.dismiss)
        details.installEventFilter(self)
        # The pointer is polled, not filtered: an application event filter would run
        # Python for every paint and timer event of the wall, all day.
        self._trim = QTimer(self, interval=TRIM_MS)
        self._trim.timeout.connect(allocator.trim)
        self._cursor_timer = QTimer(self, interval=500)
        self._cursor_timer.timeout.connect(self._check_cursor)
        self._cursor_pos = QCursor.pos()
        self._cursor_still_since = time.monotonic()
        self._cursor_hidden = False
        self._quit = QShortcut(QKeySequence("Ctrl+Q"), self, activated=self.close)
        self.restyle()
        self._on_tick()

    @property
    def theme(self) -> Theme:
        return THEMES.get(self.session.options.value.theme, THEMES["dark"])

    @property
    def lang(self) -> str:
        return self.session.lang

    @property
    def extract(self) -> Extract | None:
        return self.session.extract

    # ================================================================ start
    def start(self) -> None:
        """Open the extract and start the clocks (after the window is placed)."""
        self._begin_open()
        self._poll.start()
        self._tick.start()
        if self.config.rotate_seconds > 0:
            self._rotate.start(round(self.config.rotate_seconds * 1000))
        self._cursor_timer.start()
        self._trim.start()

    def _begin_open(self, sig: str | None = None) -> None:
        self.tracker.loading = sig or signature(self.wall_path) or "missing"
        self.session.open(str(self.wall_path))

    def check_extract(self) -> None:
        """One poll of the extract file (the timer calls it; tests may call it directly)."""
        sig = self.tracker.poll(time.time())
        if sig is not None:
            self._begin_open(sig)
        self._show_stale()

    def _wall_opened(self, _extract: Extract) -> None:
        first = self.tracker.loaded is None
        self.tracker.succeeded(self.tracker.loading or "")
        if not first:
            self.reloads += 1
        towns = self._towns()
        self.views = expand_views(self.config.views, towns) if self.config.views else []
        if first or self.view_index >= len(self.views):
            self.view_index = -1
            self.next_view(count=False)
        elif self.current_view() is not None and self.current_view().replay:
            # new data cut the replay short: on to the next view (a feed replaced every few
            # seconds must not hold the rotation), or, without rotation, the replay again
            if self.config.rotate_seconds > 0:
                self._replay_done()
            else:
                self.apply_view(self.current_view())
        else:
            self._update_banner()
        self._show_stale()
        self.extract_opened.emit(str(self.wall_path))

    def _wall_failed(self, reason: str, _path: str) -> None:
        self.failures_seen += 1
        self.tracker.failed(self.tracker.loading or "", reason, time.time())
        self._show_stale()

    def _show_stale(self) -> None:
        since = self.tracker.stale_since
        if since is None:
            self.banner.set_stale(None)
        else:
            reason = self.tracker.failure
            self.banner.set_stale(datetime.fromtimestamp(since),
                                  tr("wall_missing") if reason == "missing" else reason,
                                  has_data=self.extract is not None)
        if self.extract is None and since is not None:
            self.banner.set_context(tr("app_title"), "", tr("wall_waiting"), "")

    def _towns(self) -> list[tuple[str, str]]:
        ex = self.extract
        if ex is None:
            return []
        a = ex.areas
        return [(a.ids[i], a.names[i]) for i in a.at_level("town") if a.geoms[i] is not None]

    # ================================================================ rotation
    def next_view(self, count: bool = True) -> None:
        """Show the next view of the playlist (wrapping round)."""
        if self.extract is None or not self.views:
            self._apply_base_filter(None)
            return
        self.view_index = (self.view_index + 1) % len(self.views)
        if count:
            self.rotations += 1
        self.apply_view(self.views[self.view_index])

    def current_view(self) -> WallView | None:
        return self.views[self.view_index] if 0 <= self.view_index < len(self.views) else None

    def apply_view(self, view: WallView) -> None:
        if view.saved and apply_saved_view(self.session, self.board, view.saved):
            self._place_focus(view.focus)
            self._update_banner()
            return
        area = self._resolve_area(view.area)
        self.session.options.update(
            **{g: g in view.maps for g in MAP_GROUPS}, hotspots=view.hotspots,
            choropleth=view.choropleth is not None, per_10k=view.choropleth == "rate")
        self._apply_base_filter(area)
        if area:
            self.board.map.zoom_to_area(area)
        else:
            self.board.canvas.reset_view()
        self._place_focus(view.focus)
        self._update_banner()
        rotating = self.config.rotate_seconds > 0
        if view.replay and self.replay.start(view, loop=not rotating):
            self._rotate.stop()  # the replay says when it is done
        else:
            self.replay.stop()

    def _replay_done(self) -> None:
        self.next_view()
        if self.config.rotate_seconds > 0 and not self.replay.active():
            self._rotate.start(round(self.config.rotate_seconds * 1000))

    def _apply_base_filter(self, area: str | None) -> None:
        ex = self.extract
        state = FilterState()
        if ex is not None and self.config.window_days > 0:
            as_of = ex.default_as_of
            state = state.with_window(as_of - timedelta(days=self.config.window_days - 1), as_of)
        if area:
            state = state.with_areas({area})
        self.session.filters.set(state)

    def _resolve_area(self, key: str) -> str | None:
        ex = self.extract
        if not key or ex is None:
            return None
        if ex.areas.idx_of(key) is not None:
            return key
        for i, name in enumerate(ex.areas.names):
            if name == key:
                return ex.areas.ids[i]
        return None

    def _focus_widgets(self, focus: str) -> tuple[QWidget, ...]:
        b = self.board
        return {"map": (b.canvas,), "kpis": (b.kpis,),
                "rectification": (b.rect_funnel, b.overdue),
                "mediation": (b.med_funnel, b.med_trend),
                "hotspots": (b.left_tabs,)}.get(focus, ())

    def _place_focus(self, focus: str | None = None) -> None:
        """Frame the panels the view is about; each ring is a child of its panel and
        follows it through every relayout (a ring placed once went astray on resize)."""
        view = self.current_view()
        wanted = self._focus_widgets(focus or (view.focus if view else ""))
        for w, ring in list(self._rings.items()):
            ring.setVisible(w in wanted)
        for w in wanted:
            ring = self._rings.get(w)
            if ring is None:
                ring = self._rings[w] = FocusRing(w)
                w.installEventFilter(self)
            ring.color = qcolor(self.theme.accent)
            ring.width_px = max(2, round(3 * self.scale))
            ring.setGeometry(w.rect())
            ring.show()
            ring.raise_()

    def focused_widgets(self) -> list[QWidget]:
        return [w for w, ring in self._rings.items() if not ring.isHidden()]

    # ================================================================ banner
    def _update_banner(self) -> None:
        ex = self.extract
        if ex is None:
            self.banner.set_context(tr("app_title"), "", tr("wall_waiting"), "")
            return
        st = self.session.filters.state
        view = self.current_view()
        parts = [window_text(st, self.lang)]
        for a in sorted(st.areas):
            idx = ex.areas.idx_of(a)
            parts.append(ex.areas.names[idx] if idx is not None else a)
        as_of = (st.as_of or ex.default_as_of).isoformat()
        fresh = tr("as_of", day=as_of)
        if ex.extracted_at is not None:
            fresh += " · " + tr("extracted", time=ex.extracted_at.strftime("%m-%d %H:%M"))
        self.banner.set_context(ex.region_name, view.title(self.lang) if view else "",
                                " · ".join(parts), fresh)

    def _on_tick(self) -> None:
        self.banner.tick()
        if date.today() != getattr(self, "_day", None):  # a new day moves the window
            self._day = date.today()
            self._update_banner()

    # ================================================================ screens
    def set_screens(self, screens: list[Rect]) -> None:
        """Lay the wall out for these physical screens (x, y, width, height, in the
        coordinates of the screens): one layout on one screen, or, over several, each
        piece inside one screen so that no map or panel crosses a bezel
        (``desktop.wall_screens``). The window is expected to cover them all."""
        regions = screen_regions(screens)
        if len(regions) <= 1:
            self._single_layout()
            return
        self._single_layout()  # start from the pieces in their places
        self.regions = regions
        self._span_size = (max(x + w for x, _y, w, _h in regions),
                           max(y + h for _x, y, _w, h in regions))
        parts: dict[str, QWidget] = {"banner": self.banner, **self.board.parts()}
        self._layout.removeWidget(self.banner)
        self._layout.removeWidget(self.board)
        self.board.hide()
        for names in assign_parts(regions):
            box = QWidget(self)
            box.setObjectName("wallScreen")
            lay = QVBoxLayout(box)
            if "left" in names and "right" in names:  # the two columns side by side
                cols = QHBoxLayout()
                cols.addWidget(parts["left"], 420)
                cols.addWidget(parts["right"], 480)
                order = [n for n in names if n not in ("left", "right")]
                order.insert(order.index("timeline") if "timeline" in order else len(order),
                             "cols")
            else:
                cols, order = None, list(names)
            for name in order:
                if name == "cols":
                    lay.addLayout(cols, 5)
                else:
                    lay.addWidget(parts[name], {"map": 1, "left": 1, "right": 5,
                                                "timeline": 1}.get(name, 0))
                    parts[name].show()
            box.show()
            self._region_boxes.append(box)
        self._rescale()
        self._place_regions()
        self._place_focus()

    def _single_layout(self) -> None:
        """Back to the one layout: banner above the board, filling the window."""
        if not self.regions:
            return
        self.regions = []
        self.board.restore_parts()
        self._layout.insertWidget(0, self.banner)
        self._layout.insertWidget(1, self.board, 1)
        self.banner.show()
        self.board.show()
        for box in self._region_boxes:
            box.deleteLater()
        self._region_boxes = []
        self._rescale()

    def _place_regions(self) -> None:
        # the regions follow the window (scaled if it is not exactly the screens' union)
        sw, sh = self._span_size
        fx, fy = self.width() / max(1, sw), self.height() / max(1, sh)
        m = round(8 * self.scale)
        for box, (x, y, w, h) in zip(self._region_boxes, self.regions, strict=True):
            box.setGeometry(round(x * fx), round(y * fy), round(w * fx), round(h * fy))
            box.layout().setContentsMargins(m, m, m, m)
            box.layout().setSpacing(round(6 * self.scale))

    # ================================================================ look
    def restyle(self) -> None:
        t, s = self.theme, self.scale
        apply_theme(self, t, s)
        self.setStyleSheet(self.styleSheet() + f"WallWindow {{ background: {css(t.background)}; }}")
        self._layout.setContentsMargins(*(round(8 * s),) * 4)
        self._layout.setSpacing(round(6 * s))
        self.banner.set_theme(t)
        self.banner.set_scale(s)
        if self.regions:
            self._place_regions()
        self._place_focus()

    def _rescale(self) -> None:
        # type and symbols for one screen: the smallest region when spanning several
        if self.regions:
            sw, sh = self._span_size
            fx, fy = self.width() / max(1, sw), self.height() / max(1, sh)
            base = min(scale_for(round(w * fx), round(h * fy)) for _x, _y, w, h in self.regions)
        else:
            base = scale_for(self.width(), self.height())
        factor = round(base * WALL_BOOST, 2)
        if abs(factor - self.scale) > 0.04:
            self.scale = factor
            self.restyle()  # the wall first, then the board (see board.py)
            self.board.set_scale(factor)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()
        if self.regions:
            self._place_regions()

    # ================================================================ events
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if obj is self.board.details and kind == QEvent.Type.Show:
            self._details_timer.start()  # a card left open would hold data on the wall
        elif kind == QEvent.Type.Resize and obj in getattr(self, "_rings", {}):
            self._rings[obj].setGeometry(obj.rect())
        return super().eventFilter(obj, event)

    def _check_cursor(self) -> None:
        pos, now = QCursor.pos(), time.monotonic()
        if pos != self._cursor_pos:
            self._cursor_pos, self._cursor_still_since = pos, now
            if self._cursor_hidden:
                QApplication.restoreOverrideCursor()
                self._cursor_hidden = False
        elif (not self._cursor_hidden
              and now - self._cursor_still_since >= self.config.cursor_hide_seconds):
            QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
            self._cursor_hidden = True

    def cursor_hidden(self) -> bool:
        return self._cursor_hidden

    def closeEvent(self, event: object) -> None:
        for t in (self._poll, self._tick, self._rotate, self._details_timer, self._cursor_timer,
                  self._trim):
            t.stop()
        self.replay.stop()
        if self._cursor_hidden:
            QApplication.restoreOverrideCursor()
            self._cursor_hidden = False
        self.session.close()
        self.board.close()
        super().closeEvent(event)


def place(win: WallWindow, screen: int | None = None, span: bool = False) -> list[str]:
    """Put ``win`` full screen on screen ``screen`` or across all screens; returns warnings."""
    warnings: list[str] = []
    screens = QGuiApplication.screens()
    if span and len(screens) > 0:
        rect = QRect()
        for s in screens:
            rect = rect.united(s.geometry())
        # each piece inside one physical screen: nothing across a bezel
        win.set_screens([(g.x(), g.y(), g.width(), g.height())
                         for g in (s.geometry() for s in screens)])
        win.setGeometry(rect)
        win.show()  # full screen applies to one screen only: a frameless window spans them
        return warnings
    target = QGuiApplication.primaryScreen()
    if screen is not None:
        if 0 <= screen < len(screens):
            target = screens[screen]
        else:
            warnings.append(f"--screen {screen}: there are {len(screens)} screen(s) "
                            "(numbered from 0); using the primary one")
    if target is not None:
        win.setGeometry(target.geometry())
    win.showFullScreen()
    return warnings


def run_wall(path: str, config: WallConfig, screen: int | None = None,
             span: bool = False) -> int:
    """Run the wall until it is closed (Ctrl+Q); problems go to stderr, never to a dialog."""
    import os
    import sys

    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        print("no display for the wall: set DISPLAY (or QT_QPA_PLATFORM=offscreen to try it)",
              file=sys.stderr)
        return 2
    from widgets.theme import apply_theme

    from .app import application

    allocator.tune_for_long_run()  # before Qt's threads too (the window does it again)
    app = application()
    win = WallWindow(path, config)
    apply_theme(app, win.theme)
    for w in (*config.warnings, *place(win, screen, span)):
        print(f"wall: {w}", file=sys.stderr)
    win.start()
    if os.environ.get("COCKPIT_QUIT_AFTER_FRAME"):
        win.frame_ready.connect(lambda: QTimer.singleShot(0, app.quit))
    return app.exec()
