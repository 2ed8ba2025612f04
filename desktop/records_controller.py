"""Opens the records behind a clicked figure and feeds the records panel page by page.

Every view of the board whose figures have records emits ``records_requested`` (or, for
the KPI tiles, ``tile_clicked``); the map offers the records of the density cell, the
hot-spot cell and the area under a Ctrl+click or in its context menu. The controller
asks ``layers.records.records_for`` for the list on a job (slot ``records``: its count),
then the rows in view (slot ``records.rows``: a newer scroll position cancels an older
fetch), and exports the list on a third (``records.export``). A row clicked in the list
zooms the map to the record, marks it and opens its details card.

The list is a snapshot: the state it was asked under (shown in its subtitle) stays until
another figure is opened, whatever the filter does meanwhile.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from data.coords import lonlat_to_mercator
from data.filters import FilterState
from data.queries import Query, Viewport
from data.records import fetch_page, record_count
from layers.drawables import Cells, LayerSpec, Points, Raster
from layers.filter_text import describe_filter
from layers.i18n import tr
from layers.records import (
    FigureRef,
    RecordSource,
    headers,
    numeric,
    page_cells,
    page_keys,
    records_for,
    sort_key,
)
from widgets.records_panel import RecordsPanel

from .board import CockpitBoard
from .jobs import JobContext
from .map_menu import Entry
from .session import CockpitSession

SELECTION_COLOR = (255, 214, 10, 255)
DETAILS_LAYER = {"incidents": "incidents", "hazards": "hazards", "resources": "resources"}


class RecordsController(QObject):
    """``opened(RecordSource)`` once a list's count is known; ``exported(summary)``."""

    opened = Signal(object)
    exported = Signal(object)
    failed = Signal(str)

    def __init__(self, session: CockpitSession, board: CockpitBoard, panel: RecordsPanel,
                 show: Callable[[], None], hide: Callable[[], None]) -> None:
        super().__init__(panel)
        self.session, self.board, self.panel = session, board, panel
        self._show, self._hide = show, hide
        self.source: RecordSource | None = None
        self.total = 0
        self.sort: tuple[str, bool] | None = None
        self._gen = 0
        for view in (board.kpis, board.categories, board.hours, board.hotspots, board.overdue,
                     board.rect_funnel, board.med_funnel, board.area_tree):
            view.records_enabled = True
        board.kpis.tile_clicked.connect(lambda key: self.open(FigureRef("kpi", key)))
        for view in (board.categories, board.hours, board.hotspots, board.overdue,
                     board.rect_funnel, board.med_funnel, board.area_tree):
            view.records_requested.connect(lambda f, k: self.open(FigureRef(f, k)))
        board.canvas.records_requested.connect(self.open_at)
        panel.rows_needed.connect(self._fetch)
        panel.sort_requested.connect(self._on_sort)
        panel.row_activated.connect(self.select)
        panel.export_requested.connect(self.ask_export)
        panel.closed.connect(self.close)
        session.extract_changed.connect(lambda _ex: self.close())

    # ------------------------------------------------------------------ opening
    def _figure_state(self, ref: FigureRef) -> FilterState:
        """The state the clicked figure was computed under (the panels on screen)."""
        shown = self.board.panels.panels
        if ref.figure not in ("area", "density", "hotspot_cell") and shown is not None:
            return shown.state
        return self.session.filters.state

    def open(self, ref: FigureRef) -> None:
        s = self.session
        ex = s.extract
        if ex is None:
            return
        state, lang = self._figure_state(ref), s.lang
        self._gen += 1
        gen = self._gen
        self.sort = None
        self.source = None
        self.panel.show_list(tr("records_title", what="…"), _filter_line(ex, state, lang),
                             (), ())
        self._show()

        def work(ctx: JobContext) -> tuple[RecordSource, int]:
            q = Query(ex, ctx.cursor(ex))
            src = records_for(q, state, ref, lang)
            return src, record_count(q.con, src.selection)

        def done(result: tuple[RecordSource, int]) -> None:
            src, n = result
            if gen != self._gen:
                return
            self.source, self.total = src, n
            table = src.table
            self.panel.show_list(tr("records_title", what=src.title),
                                 f"{tr(f'records_table_{table}', lang)} · "
                                 f"{_filter_line(ex, state, lang)}",
                                 headers(table, lang), numeric(table))
            self.panel.set_count(n)
            self.opened.emit(src)

        s.submit("records", (gen, ref), work, done, self._failed)

    def open_at(self, mx: float, my: float) -> None:
        """Ctrl+click on the map: the most specific figure there (cell, then area)."""
        refs = self.refs_at(mx, my)
        if refs:
            self.open(refs[0][1])

    def refs_at(self, mx: float, my: float) -> list[tuple[str, FigureRef]]:
        """(label, figure) of each figure with records at a map point, most specific first:
        the density-raster cell, the hot-spot cell, the area."""
        out: list[tuple[str, FigureRef]] = []
        canvas = self.board.canvas
        for name, spec in canvas.layers().items():
            if not canvas.layer_visible(name) or not spec.visible:
                continue
            for d in spec.drawables:
                if isinstance(d, Raster):
                    ref = _raster_cell(d, mx, my)
                    if ref is not None:
                        out.insert(0, (tr("records_density_here"), ref))
                elif isinstance(d, Cells) and d.keys:
                    hit = np.flatnonzero((d.x <= mx) & (mx < d.x + d.size) & (d.y <= my)
                                         & (my < d.y + d.size))
                    if len(hit):
                        out.append((tr("records_hotspot_here"),
                                    FigureRef("hotspot_cell", d.keys[int(hit[0])])))
        area = self.board.map.area_at_mercator(mx, my)
        if area is not None:
            ex = self.session.extract
            idx = ex.areas.idx_of(area) if ex else None
            name = ex.areas.names[idx] if ex is not None and idx is not None else area
            out.append((tr("records_area_here", name=name), FigureRef("area", area)))
        return out

    def menu_entries(self, mx: float, my: float) -> list[Entry]:
        """The map menu's entries: one per figure with records at the point."""
        return [(label, lambda r=ref: self.open(r)) for label, ref in self.refs_at(mx, my)]

    # ------------------------------------------------------------------ rows
    def _fetch(self, first: int, last: int) -> None:
        s, src = self.session, self.source
        ex = s.extract
        if src is None or ex is None:
            return
        gen, sort, lang = self._gen, self.sort, s.lang

        def work(ctx: JobContext) -> tuple[int, list, list]:
            page = fetch_page(ctx.cursor(ex), src.selection, first, last - first + 1,
                              *(sort or (None, False)))
            return first, page_cells(page, src.table, ex, lang), page_keys(page, src.table)

        def done(result: tuple[int, list, list]) -> None:
            if gen == self._gen and sort == self.sort:
                self.panel.set_rows(*result)

        s.submit("records.rows", (gen, sort, first, last), work, done, self._failed)

    def _on_sort(self, column: int, descending: bool) -> None:
        if self.source is None:
            return
        self.sort = (sort_key(self.source.table, column), descending)
        self.panel.drop_rows()

    # ------------------------------------------------------------------ a row
    def select(self, record_id: str, lon: Any, lat: Any) -> None:
        """Zoom to the record, mark it, and open its details card."""
        src = self.source
        if src is None:
            return
        canvas = self.board.canvas
        if lon is not None and lat is not None:
            x, y = lonlat_to_mercator([float(lon)], [float(lat)])
            mark = Points("records.selection", np.asarray(x, float), np.asarray(y, float),
                          np.array([SELECTION_COLOR], np.uint8), np.array([22.0]), "star",
                          (record_id,), (record_id,), outline=(0, 0, 0, 255), z=39)
            canvas.set_layers((LayerSpec("records.selection", "records", record_id, (mark,)),),
                              {"records.selection"})
            self.board.map.zoom_to(float(lon), float(lat), 1_500.0)
        layer = DETAILS_LAYER.get(src.table)
        if layer is not None:
            self.board.map.show_details(layer, record_id)

    # ------------------------------------------------------------------ export
    def ask_export(self, fmt: str) -> None:
        src = self.source
        if src is None:
            return
        pattern = "Excel (*.xlsx)" if fmt == "xlsx" else "CSV (*.csv)"
        path, _ = QFileDialog.getSaveFileName(self.panel, tr(f"records_export_{fmt}"),
                                              f"{src.title}.{fmt}", pattern)
        if path:
            self.export(path, fmt)

    def export(self, path: str, fmt: str) -> None:
        """Write the list to ``path`` on a job (audited, masked)."""
        from exporters.records_export import export_records

        s, src = self.session, self.source
        ex = s.extract
        if src is None or ex is None:
            return
        sort, lang = self.sort or (None, False), s.lang
        self.panel.show_status(tr("records_exporting", path=Path(path).name))

        def work(ctx: JobContext) -> dict:
            return export_records(ex, src, path, fmt, lang, True, *sort, check=ctx.check)

        def done(summary: dict) -> None:
            text = tr("records_exported", n=f"{summary['rows']:,}", path=summary["path"])
            if summary.get("capped"):
                text += " · " + tr("records_xlsx_capped", n=f"{summary['rows']:,}")
            self.panel.show_status(text)
            self.exported.emit(summary)

        def failed(error: str) -> None:
            self.panel.show_error(tr("records_export_failed", error=error.splitlines()[0]))
            self.failed.emit(error.splitlines()[0])

        s.submit("records.export", (path, fmt, self._gen), work, done, failed)

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        self._gen += 1
        self.source = None
        for slot in ("records", "records.rows"):
            self.session.jobs.cancel(slot)
        self.board.canvas.remove_layer("records.selection")
        self._hide()

    def _failed(self, error: str) -> None:
        first = error.splitlines()[0]
        self.panel.show_error(tr("records_failed", error=first))
        self.failed.emit(first)


def _filter_line(ex: Any, state: FilterState, lang: str) -> str:
    return tr("pdf_filter", lang, text=describe_filter(ex, state, lang))


def _raster_cell(d: Raster, mx: float, my: float) -> FigureRef | None:
    x0, y0, x1, y1 = d.extent
    h, w = d.values.shape
    if not (x0 <= mx < x1 and y0 <= my < y1) or not w or not h:
        return None
    # the same pixel arithmetic as Query.density_cells, so the cell is the one drawn
    col = min(math.floor((mx - x0) / ((x1 - x0) / w)), w - 1)
    row = min(math.floor((my - y0) / ((y1 - y0) / h)), h - 1)
    return FigureRef("density", str(row * w + col), Viewport(x0, y0, x1, y1, w, h))
