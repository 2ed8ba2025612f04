"""Putting annotations on the map (标注 menu): draw, edit, remove.

Drawing takes the canvas's clicks (``MapCanvas.click_interceptor``): a marker is one
click, a line or an area one click per vertex, finished by a double click or Enter and
abandoned with Esc; the vertices so far are drawn as a draft. Then a small form asks the
kind and the note, and the annotation is stored with who and when
(``data.annotations``); the overlay shows it at once (and every other window and the
wall within a few seconds). A right click on an annotation offers to edit or remove it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu, QWidget

from data.annotations import Annotation, AnnotationStore, new_annotation
from data.coords import mercator_to_lonlat
from layers.drawables import LayerSpec, Lines, Points
from layers.i18n import code_label, tr
from widgets.annotation_dialog import AnnotationDialog

from .annotation_layer import AnnotationOverlay
from .board import CockpitBoard
from .map_menu import Entry
from .session import CockpitSession

DRAFT = "annotations.draft"
DRAFT_COLOR = (255, 235, 59, 255)
MIN_POINTS = {"marker": 1, "line": 2, "polygon": 3}
Ask = Callable[[str, "Annotation | None"], "tuple[str, str] | None"]


class AnnotationController(QObject):
    """``saved(Annotation)``, ``deleted(id)``, ``message(text)`` for the status bar."""

    saved = Signal(object)
    deleted = Signal(str)
    message = Signal(str)

    def __init__(self, session: CockpitSession, board: CockpitBoard,
                 overlay: AnnotationOverlay, menu: QMenu, window: QWidget) -> None:
        super().__init__(window)
        self.session, self.board, self.overlay, self.window = session, board, overlay, window
        self.store: AnnotationStore = overlay.store
        self.ask: Ask = self._dialog
        """Asks the kind and note (the form); tests put a function here."""
        self.drawing: str | None = None
        self.vertices: list[tuple[float, float]] = []
        self.menu = menu
        self.actions: dict[str, QAction] = {}
        for kind, key in (("marker", "ann_add_marker"), ("line", "ann_add_line"),
                          ("polygon", "ann_add_polygon")):
            a = menu.addAction(tr(key))
            a.setProperty("i18n", key)
            a.triggered.connect(lambda _=False, k=kind: self.start(k))
            self.actions[kind] = a
        menu.addSeparator()
        self.a_show = menu.addAction(tr("ann_show"))
        self.a_show.setProperty("i18n", "ann_show")
        self.a_show.setCheckable(True)
        self.a_show.setChecked(True)
        self.a_show.toggled.connect(overlay.set_visible)
        self._finish_keys = [QShortcut(QKeySequence(k), window) for k in ("Return", "Enter")]
        self._cancel_key = QShortcut(QKeySequence("Escape"), window)
        for sc in self._finish_keys:
            sc.activated.connect(self.finish)
        self._cancel_key.activated.connect(self.cancel)
        self._keys(False)

    def retranslate(self) -> None:
        for a in (*self.actions.values(), self.a_show):
            a.setText(tr(a.property("i18n")))

    # ------------------------------------------------------------------ drawing
    def _keys(self, on: bool) -> None:
        for sc in (*self._finish_keys, self._cancel_key):
            sc.setEnabled(on)

    def start(self, kind: str, at: tuple[float, float] | None = None) -> None:
        """Begin drawing a ``kind`` (``at``: a first vertex in Mercator, from the menu)."""
        if self.session.extract is None:
            return
        self.cancel()
        self.drawing, self.vertices = kind, []
        self.board.canvas.click_interceptor = self._click
        self.board.canvas.setCursor(Qt.CursorShape.CrossCursor)
        self._keys(True)
        self.message.emit(tr("ann_drawing"))
        if at is not None:
            self._click(*at, False)

    def _click(self, mx: float, my: float, double: bool) -> bool:
        if self.drawing is None:
            return False
        if double:
            self.finish()
            return True
        self.vertices.append((mx, my))
        if self.drawing == "marker":
            self.finish()
        else:
            self._draw_draft()
        return True

    def _draw_draft(self) -> None:
        canvas = self.board.canvas
        if not self.vertices:
            canvas.remove_layer(DRAFT)
            return
        xy = np.asarray(self.vertices, float)
        drawables: list = [Points(f"{DRAFT}.vertices", xy[:, 0], xy[:, 1],
                                  np.tile(np.array([DRAFT_COLOR], np.uint8), (len(xy), 1)),
                                  np.full(len(xy), 9.0), "o", z=45)]
        if len(xy) > 1:
            ring = np.vstack([xy, xy[:1]]) if self.drawing == "polygon" else xy
            drawables.append(Lines(f"{DRAFT}.edges", ring[:-1, 0], ring[:-1, 1], ring[1:, 0],
                                   ring[1:, 1], DRAFT_COLOR, 2.0, z=44))
        canvas.set_layers((LayerSpec(DRAFT, "annotations", DRAFT, tuple(drawables)),), {DRAFT})

    def finish(self) -> Annotation | None:
        kind, verts = self.drawing, list(self.vertices)
        if kind is None:
            return None
        need = MIN_POINTS[kind]
        distinct = list(dict.fromkeys(verts))
        if len(distinct) < need:
            self.message.emit(tr("ann_too_few", kind=code_label("annotation_kind", kind),
                                 n=need))
            return None
        self.cancel()
        lon, lat = mercator_to_lonlat([v[0] for v in distinct], [v[1] for v in distinct])
        points = list(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist(), strict=True))
        answer = self.ask(kind, None)
        if answer is None:
            return None
        return self.add(kind, points, *answer)

    def cancel(self) -> None:
        self.drawing, self.vertices = None, []
        canvas = self.board.canvas
        canvas.click_interceptor = None
        canvas.remove_layer(DRAFT)
        canvas.setCursor(Qt.CursorShape.CrossCursor if self.session.options.value.dispatch
                         else Qt.CursorShape.ArrowCursor)
        self._keys(False)

    # ------------------------------------------------------------------ storing
    def add(self, kind: str, points: list[tuple[float, float]], purpose: str,
            note: str) -> Annotation | None:
        """Store a new annotation of the current region (lon/lat points)."""
        ex = self.session.extract
        if ex is None:
            return None
        try:
            a = self.store.add(new_annotation(kind, points, note, ex.region_name, purpose))
        except (OSError, ValueError, TypeError) as exc:
            self.message.emit(tr("ann_failed", error=str(exc)))
            return None
        self.overlay.reload()
        self.message.emit(tr("ann_saved"))
        self.saved.emit(a)
        return a

    def edit(self, a: Annotation) -> Annotation | None:
        answer = self.ask(a.kind, a)
        if answer is None:
            return None
        purpose, note = answer
        try:
            new = self.store.update(a.id, purpose=purpose, note=note)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            self.message.emit(tr("ann_failed", error=str(exc)))
            return None
        self.overlay.reload()
        self.saved.emit(new)
        return new

    def delete(self, a: Annotation) -> None:
        try:
            gone = self.store.delete(a.id)
        except OSError as exc:
            self.message.emit(tr("ann_failed", error=str(exc)))
            return
        self.overlay.reload()
        if gone:
            self.message.emit(tr("ann_deleted"))
            self.deleted.emit(a.id)

    def _dialog(self, kind: str, current: Annotation | None) -> tuple[str, str] | None:
        default = {"polygon": "control_zone", "marker": "checkpoint"}.get(kind, "other")
        dlg = AnnotationDialog(current.purpose if current else default,
                               current.note if current else "", self.window)
        return dlg.values() if dlg.exec() == AnnotationDialog.DialogCode.Accepted else None

    # ------------------------------------------------------------------ the map menu
    def menu_entries(self, mx: float, my: float) -> list[Entry]:
        if self.session.extract is None or self.drawing is not None:
            return []
        out: list[Entry] = [(tr("ann_add_here"), lambda: self.start("marker", (mx, my)))]
        hit = self.overlay.at(mx, my)
        if hit is not None:
            label = hit.note or code_label("annotation_purpose", hit.purpose)
            out += [(tr("ann_edit", note=label), lambda: self.edit(hit)),
                    (tr("ann_delete", note=label), lambda: self.delete(hit))]
        return out


