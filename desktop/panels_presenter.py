"""Keeps the panels beside the map in step with the session's filter.

``refresh`` asks ``layers.dashboard.build_panels`` for the filter in a background job
(slot ``panels``; a newer request cancels an older one) and pushes each spec into
its widget; a panel whose figures failed shows the error in its own place. The
charts' intents (a bar, a dragged time range) become filter changes here.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np
from PySide6.QtCore import QObject, Signal

from data.filters import FilterState
from data.queries import Query
from layers.dashboard import PanelError, Panels, build_panels
from widgets.charts import BarChart, FunnelChart, LineChart
from widgets.kpi import KpiStrip
from widgets.tables import DataTable

from . import first_frame
from .jobs import JobContext
from .session import CockpitSession

_EPOCH = date(1970, 1, 1)


def day_number(d: date) -> float:
    """The timeline's x for a day."""
    return float((d - _EPOCH).days)


class PanelsPresenter(QObject):
    shown = Signal(object)
    """The panels of a state are drawn (``Panels``)."""
    failed = Signal(str)

    def __init__(self, session: CockpitSession, kpis: KpiStrip, categories: BarChart,
                 hours: BarChart, hotspots: DataTable, rect_funnel: FunnelChart,
                 overdue: DataTable, med_funnel: FunnelChart, med_trend: LineChart,
                 timeline: LineChart) -> None:
        super().__init__(kpis)
        self.session = session
        self.kpis, self.categories, self.hours, self.hotspots = kpis, categories, hours, hotspots
        self.rect_funnel, self.overdue, self.med_funnel = rect_funnel, overdue, med_funnel
        self.med_trend, self.timeline = med_trend, timeline
        self.panels: Panels | None = None
        self._panels_extract: object = None  # the extract ``panels`` were computed from
        self.timings: dict[str, float] = {}
        categories.bar_clicked.connect(self._on_bar)
        timeline.region_selected.connect(self._on_region)

    def widgets(self) -> tuple:
        return (self.kpis, self.categories, self.hours, self.hotspots, self.rect_funnel,
                self.overdue, self.med_funnel, self.med_trend, self.timeline)

    def refresh(self) -> None:
        s = self.session
        ex = s.extract
        if ex is None:
            return
        state, lang = s.filters.state, s.lang
        started = time.perf_counter()
        # the last panels of this extract: what does not depend on the window is kept
        reuse = self.panels if self._panels_extract is ex else None

        def work(ctx: JobContext) -> Panels:
            stored = first_frame.load(ex, state, lang)  # the opening view, from the last start
            if stored is not None:
                return stored
            panels = build_panels(Query(ex, ctx.cursor(ex)), state, lang, reuse)
            first_frame.store(ex, panels, lang)
            return panels

        def done(panels: Panels) -> None:
            self.timings["panels"] = time.perf_counter() - started
            self._panels_extract = ex
            self._draw(panels)

        def failed(error: str) -> None:
            first = error.splitlines()[0]
            for w in self.widgets():
                w.show_error(first)
            self.failed.emit(first)

        s.submit(f"panels@{id(self):x}", (state, lang), work, done, failed)  # a slot per board

    def _draw(self, p: Panels) -> None:
        before, self.panels = self.panels, p
        for name, widget, spec in (
                ("kpis", self.kpis, p.kpis), ("categories", self.categories, p.categories),
                ("hours", self.hours, p.hours), ("hotspots", self.hotspots, p.hotspots),
                ("rect_funnel", self.rect_funnel, p.rect_funnel),
                ("overdue", self.overdue, p.overdue), ("med_funnel", self.med_funnel,
                                                       p.med_funnel),
                ("med_trend", self.med_trend, p.med_trend), ("timeline", self.timeline,
                                                             p.timeline)):
            if before is not None and getattr(before, name) is spec:
                continue  # reused from the last panels (build_panels' reuse): drawn already
            try:
                if isinstance(spec, PanelError):
                    widget.show_error(spec.message)
                elif widget is self.kpis:
                    widget.set_specs(spec)
                else:
                    widget.set_spec(spec)
            except Exception as exc:  # drawing one panel must not stop the others
                widget.show_error(f"{type(exc).__name__}: {exc}")
        self.show_window(p.state)
        self.shown.emit(p)

    def show_window(self, st: FilterState) -> None:
        """The time window on the timeline (at once on a filter change, and with new panels)."""
        spec = self.timeline.spec()
        if (st.start is None and st.end is None) or spec is None or not spec.x:
            self.timeline.set_region(None)
            return
        # a day spans x - 0.5 .. x + 0.5; a window of hours covers its share of it
        lo = day_number(st.start) + (st.start_hour or 0) / 24 if st.start else spec.x[0]
        hi = (day_number(st.end) - (23 - st.end_hour) / 24 if st.end_hour is not None
              else day_number(st.end)) if st.end else spec.x[-1]
        self.timeline.set_region(lo - 0.5, hi + 0.5)

    # ------------------------------------------------------------------ intents
    def _on_bar(self, field: str, key: str) -> None:
        if field:
            self.session.filters.apply(lambda st: st.toggle(field, key))

    def _on_region(self, x0: float, x1: float) -> None:
        a, b = sorted((x0, x1))
        start = _EPOCH + timedelta(days=int(np.ceil(a)))
        end = _EPOCH + timedelta(days=int(np.floor(b)))
        if end < start:
            end = start
        self.session.filters.apply(lambda st: st.with_window(start, end))

