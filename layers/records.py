"""The records panel's content: which rows stand behind a clicked figure, and how they read.

``records_for`` turns a ``FigureRef`` (the spec a widget drew, and the item clicked in
it) into the ``Selection`` of ``data.records`` for the state the figure was computed
under, applying the figure's own view of the state (the category chart leaves out its
own field, the period tiles ignore the window: ``layers.dashboard``). The rest of this
module labels columns and formats pages, masking personal data: free text has its
phone numbers masked, names of persons and phones are masked unless ``masked=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from data import records
from data.analysis.rectification import ACTIVE_STATES
from data.coords import mercator_to_lonlat
from data.extract import Extract
from data.filters import FilterState
from data.privacy import mask_phone, mask_resource_name, mask_text
from data.queries import Query, Selection, Viewport
from data.records import COLUMNS, ID_COLUMN, Column, Page

from .dashboard import (
    MEDIATION_STAGES,
    PERIOD_TILES,
    category_state,
    period_state,
)
from .i18n import code_label, tr

FIGURES = ("kpi", "categories", "hours", "hotspots", "overdue", "rect_funnel", "med_funnel",
           "area", "density", "hotspot_cell")
RECT_STAGE_KEYS = ("stage_hazards", "stage_rectified", "stage_verified")


@dataclass(frozen=True)
class FigureRef:
    """A figure the user asked the records of: the spec's key and the item in it.

    ``figure`` is a spec key (``categories``, ``hours``, ``hotspots``, ``overdue``,
    ``rect_funnel``, ``med_funnel``), ``kpi`` (``key`` a KPI key), ``area`` (an area id),
    ``density`` (``key`` a pixel of the raster over ``view``) or ``hotspot_cell`` (a
    flat cell index of the Gi* grid).
    """

    figure: str
    key: str
    view: Viewport | None = None


@dataclass(frozen=True)
class RecordSource:
    """The rows behind one figure for one state, and what to call them."""

    ref: FigureRef
    state: FilterState
    selection: Selection
    title: str

    @property
    def table(self) -> str:
        return self.selection.table


def _area_labels(extract: Extract) -> tuple[str, ...]:
    """Per area: its name after its town's ("云台镇 松洲村"), once per extract."""
    def build() -> tuple[str, ...]:
        areas = extract.areas
        town = areas.ancestor_at("town")
        return tuple(f"{areas.names[int(t)]} {name}" if 0 <= int(t) != i else name
                     for i, (name, t) in enumerate(zip(areas.names, town, strict=True)))
    return extract.memo("record_area_labels", build)


def _area_label(extract: Extract, idx: Any) -> str:
    labels = _area_labels(extract)
    return labels[int(idx)] if idx is not None and 0 <= int(idx) < len(labels) else ""


def records_for(q: Query, state: FilterState, ref: FigureRef,
                lang: str | None = None) -> RecordSource:
    """The records behind ``ref`` as the figure computed it under ``state``.

    Raises ValueError for a figure or item that has no records (e.g. an unknown key).
    """
    f, key = ref.figure, ref.key
    ex = q.extract
    if f == "kpi":
        periods = dict((k, p) for p, k in PERIOD_TILES)
        if key in periods:
            sel = records.period_incidents(q, period_state(state), periods[key], to_date=True)
        else:
            build = {"open_hazards": lambda: records.hazards_in_states(
                        q, state, ACTIVE_STATES),
                     "overdue": lambda: records.overdue_hazards(q, state),
                     "major_rate": lambda: records.major_hazards(q, state),
                     "mediation": lambda: records.finished_disputes(q, state),
                     "forces": lambda: records.available_forces(q, state)}.get(key)
            if build is None:
                raise ValueError(f"no records behind the tile {key!r}")
            sel = build()
        title = tr(f"records_kpi_{key}", lang)
    elif f == "categories":
        sel = records.category_incidents(q, category_state(state), key)
        title = f"{tr('chart_categories', lang)} · {code_label('incident_category', key, lang)}"
    elif f == "hours":
        sel = records.hour_incidents(q, state, int(key))
        title = f"{tr('chart_hours', lang)} · {tr('records_hour', lang, h=int(key))}"
    elif f in ("hotspots", "area"):
        # the hotspot table's areas are of the level Gi* ran at: each counts as its own level
        sel = records.area_incidents(q, state, key, None)
        idx = ex.areas.idx_of(key)
        where = _area_label(ex, idx) or key
        title = (f"{tr('table_hotspots', lang)} · {where}" if f == "hotspots"
                 else tr("records_area", lang, name=where))
    elif f == "overdue":
        sel = records.overdue_hazards(q, state)
        title = tr("table_overdue", lang)
    elif f == "rect_funnel":
        stage = int(key)
        sel = records.funnel_hazards(q, state, stage)
        title = f"{tr('chart_rect_funnel', lang)} · {tr(RECT_STAGE_KEYS[stage], lang)}"
    elif f == "med_funnel":
        level = MEDIATION_STAGES[int(key)]
        sel = records.mediation_stage(q, state, level)
        title = f"{tr('chart_med_funnel', lang)} · {tr(f'stage_{level}', lang)}"
    elif f == "density":
        if ref.view is None:
            raise ValueError("a density cell needs its raster's view")
        v = ref.view
        sel = records.density_incidents(q, state, v, int(key))
        lat = float(mercator_to_lonlat([0.0], [(v.y0 + v.y1) / 2])[1][0])
        cell_m = (v.x1 - v.x0) / v.width * math.cos(math.radians(lat))
        title = tr("records_density", lang, m=f"{cell_m:,.0f}")
    elif f == "hotspot_cell":
        sel = records.hotspot_cell_incidents(q, state, int(key))
        title = tr("records_hotspot_cell", lang)
    else:
        raise ValueError(f"no records behind the figure {f!r}")
    return RecordSource(ref, state, sel, title)


# --------------------------------------------------------------------------- columns
def shown_columns(table: str) -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS[table] if c.shown)


def headers(table: str, lang: str | None = None) -> tuple[str, ...]:
    return tuple(tr(f"rec_{c.key}", lang) for c in shown_columns(table))


def numeric(table: str) -> tuple[bool, ...]:
    return tuple(c.kind in ("int", "coord") for c in shown_columns(table))


def _column_values(c: Column, values: list[Any], kinds: list[Any], extract: Extract,
                   lang: str | None, masked: bool) -> list[Any]:
    """One column of a page as exported: labels for codes and areas, masked personal data
    (a column at a time: a million rows are exported, and per-cell dispatch shows)."""
    kind = c.kind
    if kind.startswith("code:"):
        group, labels = kind[5:], {}
        for v in set(values) - {None}:
            labels[v] = code_label(group, str(v), lang)
        return [labels.get(v) for v in values]
    if kind == "area":
        names = _area_labels(extract)
        return [names[int(v)] or None if v is not None and 0 <= int(v) < len(names) else None
                for v in values]
    if kind == "bool":
        yes, no = tr("yes", lang), tr("no", lang)
        return [None if v is None else yes if v else no for v in values]
    if masked and kind == "text":
        return [None if v is None else mask_text(str(v)) for v in values]
    if masked and kind == "person":
        return [None if v is None else mask_resource_name(k, str(v))
                for v, k in zip(values, kinds, strict=True)]
    if masked and kind == "phone":
        return [None if v is None else mask_phone(str(v)) for v in values]
    return list(values)


def page_values(page: Page, table: str, extract: Extract, lang: str | None = None,
                masked: bool = True, columns: tuple[Column, ...] | None = None
                ) -> list[tuple[Any, ...]]:
    """The page's rows as typed, labelled, masked values of ``columns`` (default: shown)."""
    cols = columns or shown_columns(table)
    n = len(page)
    kinds = page.columns.get("kind", [None] * n)
    out = [_column_values(c, page.columns.get(c.key, [None] * n), kinds, extract, lang, masked)
           for c in cols]
    return list(zip(*out, strict=True)) if out else [() for _ in range(n)]


def cell_text(v: Any) -> str:
    """A value as the table shows it."""
    if v is None:
        return "—"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.6f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def page_cells(page: Page, table: str, extract: Extract, lang: str | None = None
               ) -> list[tuple[str, ...]]:
    """The page as the panel shows it: formatted, always masked."""
    return [tuple(cell_text(v) for v in row)
            for row in page_values(page, table, extract, lang, masked=True)]


def page_keys(page: Page, table: str) -> list[tuple[str, float | None, float | None]]:
    """(record id, lon, lat) of each row (for selecting it on the map)."""
    ids = page.columns.get(ID_COLUMN[table], [])
    lons = page.columns.get("lon", [None] * len(ids))
    lats = page.columns.get("lat", [None] * len(ids))
    return [(str(i), lon, lat) for i, lon, lat in zip(ids, lons, lats, strict=True)]


def sort_key(table: str, shown_index: int) -> str:
    """The column key of the ``shown_index``-th shown column (a header click)."""
    return shown_columns(table)[shown_index].key
