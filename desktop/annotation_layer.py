"""Annotations on a map canvas, read-only: the desk and the wall both show them.

``AnnotationOverlay`` reads the region's annotations from ``annotations.json`` when an
extract opens, when the language changes and when the file changes on disk (checked
every few seconds: a wall shows what a desk has just drawn), and keeps the canvas's
``annotations`` layer in step. Editing is the desk's (``annotation_controller``).
"""

from __future__ import annotations

import contextlib

import numpy as np
import shapely
from PySide6.QtCore import QObject, QTimer, Signal

from data.annotations import Annotation, AnnotationStore
from data.coords import lonlat_to_mercator
from layers.annotations import LAYER, annotation_layer
from widgets.map_canvas import MapCanvas

from .session import CockpitSession, ViewOptions

POLL_MS = 3_000
HIT_PX = 10.0


class AnnotationOverlay(QObject):
    """``changed`` after the shown annotations were read again; ``warning(text)`` for a
    damaged file (said once per problem)."""

    changed = Signal()
    warning = Signal(str)

    def __init__(self, session: CockpitSession, canvas: MapCanvas,
                 store: AnnotationStore | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(canvas)
        self.session, self.canvas = session, canvas
        self.store = store or AnnotationStore()
        self.annotations: list[Annotation] = []
        self.visible = True
        self._stamp: tuple[int, int] | None = None
        self._said: set[str] = set()
        session.extract_changed.connect(lambda _ex: self.reload())
        session.options.changed.connect(self._on_options)
        self._poll = QTimer(self, interval=poll_ms)
        self._poll.timeout.connect(self._check_file)
        self._poll.start()

    def _on_options(self, new: ViewOptions, old: ViewOptions) -> None:
        if new.lang != old.lang:
            self.draw()

    def _file_stamp(self) -> tuple[int, int] | None:
        with contextlib.suppress(OSError):
            st = self.store.path.stat()
            return (st.st_mtime_ns, st.st_size)
        return None

    def _check_file(self) -> None:
        if self._file_stamp() != self._stamp:
            self.reload()

    def reload(self) -> None:
        ex = self.session.extract
        self._stamp = self._file_stamp()
        got = self.store.load()
        for w in got.warnings:
            if w not in self._said:
                self._said.add(w)
                self.warning.emit(w)
        region = ex.region_name if ex is not None else None
        self.annotations = [a for a in got.items if a.region == region]
        self.draw()
        self.changed.emit()

    def draw(self) -> None:
        spec = annotation_layer(self.annotations, self.session.lang)
        if spec is None:
            self.canvas.remove_layer(LAYER)
            return
        self.canvas.set_layers((spec,), {LAYER})
        self.canvas.set_layer_visible(LAYER, self.visible)

    def set_visible(self, on: bool) -> None:
        self.visible = on
        self.canvas.set_layer_visible(LAYER, on)

    def at(self, mx: float, my: float) -> Annotation | None:
        """The annotation under a map point: a marker or line within a few pixels, else the
        smallest zone containing it."""
        if not self.visible:
            return None
        px = self.canvas.getViewBox().viewPixelSize()[0] or 1.0
        here = shapely.Point(mx, my)
        best: tuple[float, Annotation] | None = None
        zones: list[tuple[float, Annotation]] = []
        for a in self.annotations:
            lon, lat = zip(*a.points, strict=True)
            x, y = lonlat_to_mercator(list(lon), list(lat))
            pts = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
            if a.kind == "marker":
                d = float(np.hypot(*(pts[0] - (mx, my)))) / px
            elif a.kind == "line":
                d = shapely.LineString(pts).distance(here) / px
            else:
                poly = shapely.Polygon(pts)
                if poly.is_valid and poly.contains(here):
                    zones.append((poly.area, a))
                d = poly.exterior.distance(here) / px
            if d <= HIT_PX and (best is None or d < best[0]):
                best = (d, a)
        if best is not None:
            return best[1]
        return min(zones, key=lambda z: z[0])[1] if zones else None
