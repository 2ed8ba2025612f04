"""Keeps the native map in step with the session: scene, repeats, details and dispatch.

The presenter asks ``layers/`` for the map of the session's filter, view and options
in a background job (slot ``scene``; a newer request cancels an older one) and pushes
the answer into the ``MapCanvas``, the ``Legend`` and the ``DetailsPanel``; the
canvas's intents (an area, a symbol or a point clicked) become filter changes or
detail jobs. ``settled`` fires when the scene of a request is drawn or has failed,
so the panels can follow (the map first: on two cores and one GIL, building both at
once makes the map wait).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel

from data.coords import lonlat_to_mercator, mercator_to_lonlat
from data.extract import Extract
from data.queries import Query, Viewport
from layers.details import (
    dispatch,
    dispatch_for_incident,
    hazard_details,
    incident_details,
    resource_details,
)
from layers.i18n import tr
from layers.scene import (
    Scene,
    build_scene,
    display_level,
    fit_view,
    full_view,
    repeat_layers,
)
from widgets.details_panel import DetailsPanel
from widgets.legend import Legend
from widgets.map_canvas import MapCanvas

from . import first_frame
from .jobs import JobContext
from .session import MAP_GROUPS, CockpitSession, ViewOptions

GROUP_LAYERS = {"situation": ("incidents", "hotspots", "repeats", "choropleth"),
                "resources": ("resources",), "hazards": ("hazards",)}
# not part of a scene: kept when a scene is drawn
_OWN_LAYERS = ("repeats", "dispatch", "records.selection", "annotations", "annotations.draft")


class MapPresenter(QObject):
    settled = Signal()
    """The scene asked for last is drawn (or failed): the panels may follow."""
    failed = Signal(str)
    """A job of the map failed (first line of the error)."""

    def __init__(self, session: CockpitSession, canvas: MapCanvas, legend: Legend,
                 details: DetailsPanel, error_label: QLabel) -> None:
        super().__init__(canvas)
        self.session = session
        self.canvas, self.legend, self.details, self.error_label = (
            canvas, legend, details, error_label)
        self.scene: Scene | None = None
        self.timings: dict[str, float] = {}
        self.legend_extra: Callable[[], list] = list
        """Legend sections that are not the scene's (the reference layers)."""
        self._remember = False  # the next scene is the opening view: keep it for the next start
        canvas.set_area_hit_test(self._area_at)
        canvas.view_changed.connect(self._on_view)
        canvas.area_clicked.connect(self._on_area)
        canvas.point_clicked.connect(self._on_point)
        canvas.symbol_clicked.connect(self._on_symbol)
        details.closed.connect(self.clear_dispatch)
        session.options.changed.connect(self._on_options)

    # ------------------------------------------------------------------ extract
    def show_extract(self, extract: Extract, keep_view: bool) -> None:
        """A new extract: the home view (kept for the same region) and a fresh map."""
        self._remember = True
        home = full_view(extract, max(1, self.canvas.width()), max(1, self.canvas.height()))
        self.canvas.set_home(home, move=not keep_view)
        self.clear_dispatch()
        self.details.dismiss()

    # ------------------------------------------------------------------ scene
    def slot(self, name: str) -> str:
        """This presenter's own job slot: two boards on one session (two windows) must not
        cancel each other's maps, whose views differ."""
        return f"{name}@{id(self):x}"

    def shown(self) -> bool:
        return self.canvas.width() >= 2 and self.canvas.isVisible()

    def refresh(self) -> bool:
        """Ask for the scene of the current state; False when the map is not shown (it is
        built when shown again)."""
        s = self.session
        ex = s.extract
        if ex is None or not self.shown():
            return False
        state, view = s.filters.state, self.canvas.map_view()
        options = s.options.value.scene_options()
        remember, self._remember = self._remember, False
        started = time.perf_counter()

        def work(ctx: JobContext) -> Scene:
            stored = first_frame.load_scene(ex, state, view, options) if remember else None
            if stored is not None:
                return stored
            scene = build_scene(Query(ex, ctx.cursor(ex)), state, view, options)
            if remember:
                first_frame.store_scene(ex, state, options, scene)
            return scene

        def done(scene: Scene) -> None:
            self.timings["scene"] = time.perf_counter() - started
            self._draw(scene)
            self.settled.emit()

        def failed(error: str) -> None:
            first = error.splitlines()[0]
            self.error_label.setText(tr("panel_failed", error=first))
            self.error_label.adjustSize()
            self.error_label.show()
            self.failed.emit(first)
            self.settled.emit()  # the panels still follow the filter

        s.submit(self.slot("scene"), (state, view, options), work, done, failed)
        return True

    def _draw(self, scene: Scene) -> None:
        self.scene = scene
        self.error_label.hide()
        names = {spec.name for spec in scene.layers}
        for n in self.canvas.layers():  # layers the new scene no longer has
            if n not in names and n not in _OWN_LAYERS:
                self.canvas.remove_layer(n)
        self.canvas.set_layers(scene.layers)
        self.canvas.set_notice(getattr(scene, "notice", ""))  # a stored first frame may predate it
        self.apply_visibility()

    def refresh_repeats(self) -> None:
        s = self.session
        ex = s.extract
        if ex is None:
            return
        state, lang = s.filters.state, s.lang

        def work(ctx: JobContext) -> list:
            return repeat_layers(Query(ex, ctx.cursor(ex)), state, lang)

        def done(layers: list) -> None:
            self.canvas.set_layers(tuple(layers), {"repeats"})
            self.apply_visibility()

        s.submit(self.slot("repeats"), (state, lang), work, done, self._job_failed)

    def _job_failed(self, error: str) -> None:
        self.failed.emit(error.splitlines()[0])

    def apply_visibility(self) -> None:
        o = self.session.options.value
        for group, names in GROUP_LAYERS.items():
            for n in names:
                on = o.group_shown(group)
                if n == "hotspots":
                    on = on and o.hotspots
                if n == "repeats":
                    on = on and o.repeats
                self.canvas.set_layer_visible(n, on)
        self.canvas.set_layer_visible("areas.fill", True)
        self.update_legend()

    def update_legend(self) -> None:
        sections = list(self.legend_extra())
        for name, spec in self.canvas.layers().items():
            if spec.legend and self.canvas.layer_visible(name) and spec.visible:
                sections.append((spec.title, spec.legend))
        self.legend.set_sections(sections)

    def _on_options(self, new: ViewOptions, old: ViewOptions) -> None:
        if new.dispatch != old.dispatch:
            self.canvas.setCursor(Qt.CursorShape.CrossCursor if new.dispatch
                                  else Qt.CursorShape.ArrowCursor)
        if new.repeats and not old.repeats:
            self.refresh_repeats()
        self.apply_visibility()
        if new.scene_options() != old.scene_options():
            self.refresh()
        if new.lang != old.lang:
            self.details.retranslate()
            if new.repeats:
                self.refresh_repeats()

    def _on_view(self, view: Viewport) -> None:
        if self.scene is not None and self.scene.view == view:
            return
        self.refresh()

    # ------------------------------------------------------------------ areas
    def select_area(self, area_id: str, zoom: bool = True) -> None:
        """Select one area (its children included); selecting it again clears it."""
        store = self.session.filters
        st = store.state
        new = st.with_areas(set() if st.areas == {area_id} else {area_id})
        store.set(new)
        if zoom and new.areas:
            self.zoom_to_area(area_id)

    def zoom_to_area(self, area_id: str) -> None:
        ex = self.session.extract
        idx = ex.areas.idx_of(area_id) if ex else None
        if idx is None or ex.areas.geoms[idx] is None:
            return
        x0, y0, x1, y1 = ex.areas.geoms[idx].bounds
        (mx0, mx1), (my0, my1) = lonlat_to_mercator([x0, x1], [y0, y1])
        self.canvas.set_view(fit_view(mx0, my0, mx1, my1, self.canvas.width(),
                                      self.canvas.height()))

    def zoom_to(self, lon: float, lat: float, span_m: float) -> None:
        mx, my = lonlat_to_mercator([lon], [lat])
        self.canvas.zoom_to(float(mx[0]), float(my[0]), span_m)

    def area_at_mercator(self, mx: float, my: float) -> str | None:
        """The area a click at this map point selects (town or village by zoom)."""
        lon, lat = mercator_to_lonlat([mx], [my])
        return self._area_at(float(lon[0]), float(lat[0]))

    def _area_at(self, lon: float, lat: float) -> str | None:
        ex = self.session.extract
        if ex is None:
            return None
        idx = int(ex.areas.locate(np.array([lon]), np.array([lat]))[0])
        if idx < 0:
            return None
        view = self.canvas.map_view()
        level = display_level(ex, view.x1 - view.x0) or "town"
        up = int(ex.areas.ancestor_at(level)[idx])
        return ex.areas.ids[up if up >= 0 else idx]

    def _on_area(self, area_id: str) -> None:
        if not self.session.options.value.dispatch:
            self.select_area(area_id, zoom=False)

    # ------------------------------------------------------------------ details, dispatch
    def _on_point(self, lon: float, lat: float) -> None:
        if self.session.options.value.dispatch:
            self.dispatch_from(lon, lat)

    def dispatch_from(self, lon: float, lat: float) -> None:
        s = self.session
        ex, lang = s.extract, s.lang
        if ex is None:
            return
        origin = tr("details_point", lon=lon, lat=lat)
        self.details.show_details(None)
        s.submit(self.slot("dispatch"), ("point", lon, lat, lang),
                 lambda _ctx: dispatch(ex, lon, lat, origin, lang=lang),
                 self._show_dispatch, self._job_failed)

    def _on_symbol(self, layer: str, key: str) -> None:
        s = self.session
        ex, lang, state = s.extract, s.lang, s.filters.state
        if ex is None:
            return
        token = (layer, key, lang)
        show = self.details.show_details
        details, near = self.slot("details"), self.slot("dispatch")
        if layer == "incidents":
            s.submit(details, token, lambda _ctx: incident_details(ex, key, lang), show,
                     self._job_failed)
            s.submit(near, token, lambda _ctx: dispatch_for_incident(ex, key, lang=lang),
                     self._show_dispatch, self._job_failed)
        elif layer == "hazards":
            def hazard(ctx: JobContext) -> Any:
                return hazard_details(Query(ex, ctx.cursor(ex)), state, key, lang)
            s.submit(details, token, hazard, show, self._job_failed)
            self.clear_dispatch()
        elif layer == "resources":
            s.submit(details, token, lambda _ctx: resource_details(ex, key, lang), show,
                     self._job_failed)
            self.clear_dispatch()

    def show_details(self, layer: str, key: str) -> None:
        """The details card of one object, as a click on its symbol opens it."""
        self._on_symbol(layer, key)

    def _show_dispatch(self, d: Any) -> None:
        self.details.show_dispatch(d)
        if d is not None:
            self.canvas.set_layers((d.layer,), {"dispatch"})
            self.canvas.set_layer_visible("dispatch", True)

    def clear_dispatch(self) -> None:
        self.details.show_dispatch(None)
        self.canvas.remove_layer("dispatch")


__all__ = ["GROUP_LAYERS", "MAP_GROUPS", "MapPresenter"]
