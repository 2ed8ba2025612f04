"""Saved views (书签) on the desk: 视图 → 书签, and Ctrl+1…9.

Saving takes the session's filter, the map's extent and the shown layers; recalling sets
them back (areas the current extract does not know are left out, and the status bar says
so). The list is read from ``views.json`` whenever the menu opens, so a view saved in
another window shows up; a damaged file is reported once in the status bar and set
aside by the store (``data.saved_views``), never a crash.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from data.queries import Viewport
from data.saved_views import SavedView, ViewStore, new_view
from layers.i18n import tr

from .board import CockpitBoard
from .session import CockpitSession

SHORTCUTS = 9
_MISSING: set[str] = set()


def apply_view(session: CockpitSession, board: CockpitBoard | None, view: SavedView,
               keep: tuple[str, ...] = ()) -> list[str]:
    """Set the session (and the board's map) to ``view``; returns the area ids left out.

    ``keep`` names options the caller does not let a view change (the wall keeps its
    privacy profile: repeat addresses stay off there).
    """
    ex = session.extract
    state = view.filter
    dropped: list[str] = []
    if ex is not None and state.areas:
        known = {a for a in state.areas if ex.areas.idx_of(a) is not None}
        dropped = sorted(state.areas - known)
        state = state.with_areas(known)
    options = {k: v for k, v in view.options().items() if k not in keep}
    session.options.update(**options)
    session.filters.set(state)
    if board is not None:
        if view.extent is not None:
            x0, y0, x1, y1 = view.extent
            board.canvas.set_view(Viewport(x0, y0, x1, y1, max(1, board.canvas.width()),
                                           max(1, board.canvas.height())))
        else:
            board.canvas.reset_view()
    return dropped


def apply_saved_view(session: CockpitSession, board: CockpitBoard, name: str) -> bool:
    """The wall's ``view = "name"``: recall a saved view, its privacy kept (repeat addresses
    stay as the wall has them). False, with a line on stderr, when there is no such view."""
    view = ViewStore().get(name)
    if view is None:
        if name not in _MISSING:  # once, not at every turn of the rotation
            _MISSING.add(name)
            print(f"wall: no saved view named {name!r}; showing the whole region",
                  file=sys.stderr)
        return False
    apply_view(session, board, view, keep=("repeats",))
    return True


class Bookmarks(QObject):
    """``applied(name)`` after a view was recalled, ``saved(name)`` after one was saved."""

    applied = Signal(str)
    saved = Signal(str)
    message = Signal(str)

    def __init__(self, session: CockpitSession, board: CockpitBoard, menu: QMenu,
                 window: QWidget, interactive: bool = True,
                 store: ViewStore | None = None) -> None:
        """The menu is filled by ``rebuild`` (first call it once ``message`` is connected)."""
        super().__init__(window)
        self.session, self.board, self.menu, self.window = session, board, menu, window
        self.interactive = interactive
        self.store = store or ViewStore()
        self._warned: set[str] = set()
        self.a_save = QAction(tr("views_save"), window)
        self.a_save.setShortcut(QKeySequence("Ctrl+D"))
        self.a_save.triggered.connect(self.ask_save)
        window.addAction(self.a_save)
        self.m_delete = QMenu(tr("views_delete"), window)
        self.shortcuts: list[QAction] = []
        for i in range(SHORTCUTS):
            a = QAction(window)
            a.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            a.triggered.connect(lambda _=False, i=i: self.apply_index(i))
            window.addAction(a)  # live whether the menu was opened or not
            self.shortcuts.append(a)
        menu.aboutToShow.connect(self.rebuild)

    # ------------------------------------------------------------------ the menu
    def views(self) -> list[SavedView]:
        got = self.store.load()
        for w in got.warnings:
            if w not in self._warned:  # once per problem, not at every menu opening
                self._warned.add(w)
                self.message.emit(tr("views_damaged", detail=w))
        return got.items

    def rebuild(self) -> None:
        views = self.views()
        self.menu.clear()
        self.menu.addAction(self.a_save)
        self.m_delete.clear()
        for v in views:
            self.m_delete.addAction(v.name).triggered.connect(
                lambda _=False, n=v.name: self.delete(n))
        self.m_delete.setEnabled(bool(views))
        self.menu.addMenu(self.m_delete)
        self.menu.addSeparator()
        if not views:
            none = self.menu.addAction(tr("views_none"))
            none.setEnabled(False)
        region = self.session.extract.region_name if self.session.extract else None
        for i, v in enumerate(views):
            text = v.name if not v.region or v.region == region else f"{v.name} ({v.region})"
            if i < SHORTCUTS:
                text += f"\tCtrl+{i + 1}"  # shown in the menu; the window's action fires
            a = self.menu.addAction(text)
            a.setToolTip(tr("views_tooltip", who=v.saved_by, when=v.saved_at[:16]))
            a.triggered.connect(lambda _=False, n=v.name: self.apply(n))

    def retranslate(self) -> None:
        self.a_save.setText(tr("views_save"))
        self.m_delete.setTitle(tr("views_delete"))
        self.rebuild()

    # ------------------------------------------------------------------ actions
    def current(self, name: str) -> SavedView:
        s = self.session
        view = self.board.canvas.map_view()
        opts = s.options.value
        return new_view(name, s.extract.region_name if s.extract else "", s.filters.state,
                        (view.x0, view.y0, view.x1, view.y1),
                        {k: getattr(opts, k) for k in ("situation", "resources", "hazards",
                                                       "hotspots", "repeats", "choropleth",
                                                       "per_10k")})

    def save(self, name: str) -> SavedView:
        """Save the current view under ``name`` (replacing a view of that name)."""
        view = self.current(name)
        self.store.save(view)
        self.rebuild()
        self.saved.emit(view.name)
        self.message.emit(tr("views_saved", name=view.name))
        return view

    def ask_save(self) -> None:
        if not self.interactive:
            return
        name, ok = QInputDialog.getText(self.window, tr("views_save"), tr("views_name"))
        if not ok or not name.strip():
            return
        exists = self.store.get(name) is not None
        if exists and QMessageBox.question(
                self.window, tr("views_save"), tr("views_replace", name=name.strip())
        ) != QMessageBox.StandardButton.Yes:
            return
        self._guard(lambda: self.save(name))

    def apply(self, name: str) -> bool:
        view = self.store.get(name)
        if view is None:
            self.message.emit(tr("views_missing", name=name))
            return False
        dropped = apply_view(self.session, self.board, view)
        if dropped:
            self.message.emit(tr("views_areas_dropped", name=view.name, n=len(dropped)))
        self.applied.emit(view.name)
        return True

    def apply_index(self, i: int) -> bool:
        views = self.views()
        return self.apply(views[i].name) if i < len(views) else False

    def delete(self, name: str) -> None:
        self._guard(lambda: self.store.delete(name))
        self.rebuild()

    def _guard(self, action: Callable[[], object]) -> None:
        try:
            action()
        except (OSError, ValueError) as exc:
            self.message.emit(tr("views_failed", error=str(exc)))
