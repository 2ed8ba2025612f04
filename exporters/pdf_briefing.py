"""The PDF briefing (研判报告): Qt's own PDF output, vector maps, headless.

``export_pdf`` writes, for one filter state, a briefing on A4 portrait (one column) or
A3 landscape (two columns):

1. title band (region, period, as-of day, extract and generation time, filter, whether
   personal data is masked), the key figures (the screen's KPI tiles plus the period's
   incidents against a year earlier) and the written summary (``layers.summary``);
2. situation: incidents by category against a year earlier, the situation map
   (态势感知图: the screen's layer specs, painted as vectors; the density raster as an
   image), incidents by hour and weekday, hot villages (Gi*), new and intensifying hot
   spots, repeat addresses;
3. hazard rectification: the funnel, the responsible units with most overdue hazards,
   the overdue list;
4. dispute mediation: the village → town → county funnel and table, the monthly trend,
   disputes by town;
5. coverage of hazards by the nearest available forces: a map of the forces with the
   gaps marked, and the list of gaps;
6. the command centre's annotations (标注: zones, lines, markers with a note) drawn on
   the situation maps and listed after the first one (kind, note, who, when, where);
7. with ``atlas="town"``: one page per town (those the filter touches), each with the
   town's own map, key figures and overdue list ("and N more" when it is long).

Every figure and layer is the one the screen shows for the same state (``layers``);
long lists are capped as on screen, with "and N more". Every page carries the
classification marking of ``meta.classification`` at its top and bottom, page "n / N",
the generation time and the region. An extract without a marking gets the neutral text
"密级：未标注" / "Classification: not marked" in grey, so that a reader never mistakes
an unmarked briefing for a marked one and no level is invented.

Fonts are embedded (Noto Sans CJK for Chinese, a Latin font for Latin letters and
digits, see ``pdf_style``); the text layer is corrected after writing (``pdf_text``).
Personal data is masked by default (phone numbers in free text; no personal names are
printed). The file is written beside the target and renamed into place, and the export
is recorded in the audit log. The slowest figure (repeat addresses, ~3 s at 1M
incidents), the maps and the atlas pages are computed on a small thread pool (each task
with its own DuckDB cursor) while the rest is gathered on the calling thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from data import agg_counts
from data.analysis.mediation import mediation
from data.analysis.rectification import rectification
from data.analysis.repeats import RepeatPlaces, repeat_places
from data.analysis.window_change import window_change
from data.annotations import Annotation, AnnotationStore
from data.coords import lonlat_to_mercator
from data.extract import Extract
from data.filters import FilterState
from data.queries import Query, Viewport
from layers import dashboard
from layers.annotations import annotation_layer, annotation_table
from layers.backdrop import Backdrop
from layers.briefing import (
    GAP_ROWS,
    REPEAT_ROWS,
    TOWN_ROWS,
    BriefingFigures,
    briefing_figures,
    category_change_table,
    coverage_table,
    emerging_table,
    mediation_level_table,
    mediation_town_table,
    period_kpi,
    refused_repeat_table,
    repeat_table,
    town_states,
    unit_table,
)
from layers.drawables import LayerSpec, LegendEntry, Points
from layers.filter_text import describe_filter
from layers.i18n import LANGUAGES, tr
from layers.jurisdiction import scoped
from layers.scene import (
    VILLAGE_VIEW_M,
    SceneOptions,
    area_geometry,
    area_layers,
    build_scene,
)
from layers.summary import Summary, summarize

from .audit import audit
from .chart_painter import paint_bars, paint_funnel, paint_lines
from .pdf_blocks import Bullets, Chart, Heading, KpiGrid, MapBlock, Row, SpanTitle
from .pdf_layout import Block, Frame, PageBreak, Placed, flow
from .pdf_style import (
    PAPERS,
    RESOLUTION,
    Ctx,
    Paper,
    PrintStyle,
    cjk_family,
    ensure_gui,
    printable,
    qcolor,
)
from .pdf_table import TableBlock
from .pdf_text import fix_to_unicode

__all__ = ["ATLAS_KINDS", "PAPERS", "export_pdf"]

ATLAS_KINDS = ("town",)
GAP_COLOR = (213, 0, 0, 255)


@dataclass(frozen=True)
class _Settings:
    lang: str
    paper: Paper
    masked: bool
    generated: datetime
    backdrop: Backdrop | None = None
    annotations: tuple[Annotation, ...] = ()
    """The region's annotations (标注): drawn on the situation maps and listed."""


# ----------------------------------------------------------------------------- geometry
def _bounds(extract: Extract, q: Query, state: FilterState) -> tuple[float, float, float, float]:
    """Mercator bounds of the filtered areas, else of all areas, else of the incidents."""
    areas = extract.areas
    geoms = [areas.geoms[i] for i in areas.resolve(sorted(state.areas))
             if areas.geoms[i] is not None] if state.areas else []
    if geoms:
        b = np.array([g.bounds for g in geoms])
        ext = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    else:
        ext = areas.extent()
    if ext is not None:
        (x0, x1), (y0, y1) = lonlat_to_mercator([ext[0], ext[2]], [ext[1], ext[3]])
        return float(x0), float(y0), float(x1), float(y1)
    p = q.where(state, "incidents")
    row = q.con.execute(f"SELECT min(mx), min(my), max(mx), max(my) FROM incidents "
                        f"WHERE {p.sql} AND mx IS NOT NULL", p.params).fetchall()
    if row and row[0][0] is not None:
        return tuple(float(v) for v in row[0])  # type: ignore[return-value]
    return (0.0, 0.0, 20_000.0, 20_000.0)  # nothing located: an empty map, not an error


def _town_bounds(extract: Extract, state: FilterState) -> tuple[float, float, float, float]:
    areas = extract.areas
    geoms = [areas.geoms[i] for i in areas.resolve(sorted(state.areas))
             if areas.geoms[i] is not None]
    b = np.array([g.bounds for g in geoms])
    (x0, x1), (y0, y1) = lonlat_to_mercator([b[:, 0].min(), b[:, 2].max()],
                                            [b[:, 1].min(), b[:, 3].max()])
    return float(x0), float(y0), float(x1), float(y1)


def _focus(extract: Extract, state: FilterState) -> list[np.ndarray]:
    """Mercator rings of the state's areas themselves (not their children)."""
    geo = area_geometry(extract)
    idx = [i for a in sorted(state.areas) if (i := extract.areas.idx_of(a)) is not None]
    return [ring for i in idx for ring in geo.rings[i]]


def _region_title(extract: Extract, state: FilterState, lang: str) -> str:
    """The region, and the filtered areas by name ("示范县云台镇", at most three named)."""
    areas = extract.areas
    names = [areas.names[i] for a in sorted(state.areas) if (i := areas.idx_of(a)) is not None]
    if not names:
        return printable(extract.region_name)
    shown = tr("list_sep", lang).join(names[:3]) + (tr("and_more", lang) if len(names) > 3
                                                     else "")
    return printable(f"{extract.region_name}{'' if lang == 'zh' else ' '}{shown}")


# ----------------------------------------------------------------------------- maps
def _on_own_cursor(extract: Extract, work: Callable[[Query], Any]) -> Any:
    """Run ``work`` with a cursor of its own: maps and atlas pages are built on threads."""
    q = Query(extract, extract.cursor())
    try:
        return work(q)
    finally:
        q.con.close()


def _situation_builder(extract: Extract, state: FilterState, lang: str, hazards: bool = False,
                       detail: tuple[float, float, float, float] | None = None,
                       notes: Sequence[Annotation] = ()
                       ) -> Callable[[Viewport], Sequence[LayerSpec]]:
    """The situation map's layers. With ``detail`` (an atlas page's area), the area outlines
    are those of a view on that area itself: a town narrower than the village threshold
    shows its villages even when the page's shape makes the map wider."""
    options = SceneOptions(situation=True, resources=False, hazards=hazards, hotspots=True,
                           repeats=False, lang=lang, dark=False)

    marks = annotation_layer(notes, lang)

    def build(view: Viewport) -> Sequence[LayerSpec]:
        layers = _on_own_cursor(extract, lambda q: build_scene(q, state, view, options).layers)
        if marks is not None:
            layers = (*layers, marks)
        if detail is None or detail[2] - detail[0] >= VILLAGE_VIEW_M:
            return layers
        areas = area_layers(extract, state, Viewport(*detail, view.width, view.height), None,
                            lang)
        return [*areas, *(spec for spec in layers if not spec.name.startswith("areas."))]

    return build


def _coverage_builder(extract: Extract, state: FilterState, figs: BriefingFigures, lang: str
                      ) -> Callable[[Viewport], Sequence[LayerSpec]]:
    options = SceneOptions(situation=False, resources=True, hazards=False, hotspots=False,
                           lang=lang, dark=False)
    gaps = figs.coverage.gaps
    km = f"{figs.coverage.radius_km:g}"

    def build(view: Viewport) -> Sequence[LayerSpec]:
        layers = list(_on_own_cursor(extract,
                                     lambda q: build_scene(q, state, view, options).layers))
        if gaps:
            x, y = lonlat_to_mercator([g.lon for g in gaps], [g.lat for g in gaps])
            pts = Points("coverage_gaps", np.asarray(x, float), np.asarray(y, float),
                         np.tile(np.array([GAP_COLOR], np.uint8), (len(gaps), 1)),
                         np.full(len(gaps), 14.0), "d", tuple(g.hazard_id for g in gaps),
                         outline=(255, 255, 255, 255), z=40)
            layers.append(LayerSpec("coverage_gaps", "hazards", tr("legend_gap", lang, km=km),
                                    (pts,), (LegendEntry(tr("legend_gap", lang, km=km),
                                                         GAP_COLOR, "d"),)))
        return layers

    return build


# ----------------------------------------------------------------------------- content
@dataclass(frozen=True)
class _Content:
    """Everything the briefing prints (the screen's specs and the briefing's figures)."""

    kpis: tuple
    categories: Any
    hours: Any
    weekdays: Any
    hotspots: Any
    overdue: Any
    rect_funnel: Any
    med_funnel: Any
    med_trend: Any
    figs: BriefingFigures
    """Without the repeat places until ``export_pdf`` fills them in."""


def _gather(q: Query, state: FilterState, lang: str) -> _Content:
    rect = rectification(q, state)
    med = mediation(q, state)
    disputes_gap = dashboard.register_gap(q.extract, "disputes", lang)
    return _Content(dashboard.kpis(q, state, lang, rect, med),
                    dashboard.category_chart(q, state, lang), dashboard.hour_chart(q, state, lang),
                    dashboard.weekday_chart(q, state, lang),
                    dashboard.hotspot_table(q, state, lang),
                    dashboard.overdue_table(q, state, rect, lang),
                    dashboard.rectification_funnel(
                        rect, lang, dashboard.register_gap(q.extract, "hazards", lang)),
                    dashboard.mediation_funnel(med, lang, disputes_gap),
                    dashboard.mediation_trend(med, lang, disputes_gap),
                    briefing_figures(q, state, repeats=False, rect=rect, med=med))


def _table(spec: Any, s: _Settings, more: int = 0, truncate: bool = False,
           empty: str | None = None) -> TableBlock:
    return TableBlock.of(spec, s.masked, more=more, more_text=tr("pdf_more_rows", s.lang),
                         empty=empty or getattr(spec, "empty", "") or tr("no_data", s.lang),
                         continued=tr("pdf_continued", s.lang), truncate=truncate)


def _facts(extract: Extract, q: Query, state: FilterState, s: _Settings) -> list[str]:
    lang = s.lang
    out = [tr("pdf_period", lang, window=dashboard.window_text(state, lang)),
           tr("pdf_as_of", lang, day=q.as_of(state).isoformat())]
    if extract.extracted_at is not None:
        out.append(tr("pdf_extracted", lang,
                      time=extract.extracted_at.isoformat(sep=" ", timespec="minutes")))
    out.append(tr("pdf_generated", lang, time=s.generated.isoformat(sep=" ", timespec="minutes")))
    out.append(tr("pdf_filter", lang, text=describe_filter(extract, state, lang)))
    out.append(tr("pdf_masked" if s.masked else "pdf_unmasked", lang))
    return out


def _maps(extract: Extract, q: Query, state: FilterState, c: _Content, s: _Settings
          ) -> tuple[MapBlock, MapBlock]:
    """The situation map and the coverage map of the main part."""
    lang, f = s.lang, c.figs
    bounds = _bounds(extract, q, state)
    situation = MapBlock(tr("map_situation_title", lang,
                            window=dashboard.window_text(state, lang)),
                         _situation_builder(extract, state, lang, notes=s.annotations), bounds,
                         (),
                         min_mm=110.0, focus=_focus(extract, state), empty=tr("no_data", lang),
                         lang=lang, backdrop=s.backdrop)
    coverage = MapBlock(tr("map_coverage_title", lang, km=f"{f.coverage.radius_km:g}"),
                        _coverage_builder(extract, state, f, lang), bounds, (),
                        min_mm=90.0, max_mm=150.0, focus=_focus(extract, state),
                        empty=tr("no_data", lang), lang=lang, backdrop=s.backdrop)
    return situation, coverage


def _main_blocks(extract: Extract, q: Query, state: FilterState, c: _Content,
                 summary: Summary, maps: tuple[MapBlock, MapBlock], s: _Settings
                 ) -> list[Block]:
    lang, f = s.lang, c.figs
    empty = tr("no_data", lang)
    repeats = f.repeats
    # filled in by export_pdf before the blocks are made, unless a province read in
    # place has too many incidents for it (the table says why)
    assert repeats is not None or f.refused is not None
    coverage_note = summary.get("coverage")
    return [
        SpanTitle(tr("pdf_title", lang, region=_region_title(extract, state, lang)),
                  scoped("pdf_subtitle", extract, lang),
                  _facts(extract, q, state, s)),
        KpiGrid(tr("pdf_key_figures", lang),
                (period_kpi(f.incidents, f.unlocated, f.comparison, lang), *c.kpis), 3),
        Bullets(tr("sec_summary", lang), [printable(x.text) for x in summary.sentences],
                tr("pdf_continued", lang)),
        Heading(tr("sec_situation", lang)),
        Row([Chart(c.categories.title, lambda ctx, r: paint_bars(ctx, c.categories, r, empty),
                   max(30.0, 5.2 * len(c.categories.labels))),
             _table(category_change_table(f, lang), s)], (1.0, 1.05)),
        maps[0],
        *([_table(annotation_table(s.annotations, extract, lang), s)] if s.annotations else []),
        Row([Chart(c.hours.title, lambda ctx, r: paint_bars(ctx, c.hours, r, empty), 32.0),
             Chart(c.weekdays.title, lambda ctx, r: paint_bars(ctx, c.weekdays, r, empty),
                   32.0)], (2.0, 1.0)),
        _table(c.hotspots, s, more=len(f.hot.get("hot_areas", [])) - len(c.hotspots.rows)),
        _table(emerging_table(f, lang), s),
        (_table(repeat_table(repeats, lang), s,
                more=repeats.total_places - min(len(repeats), REPEAT_ROWS))
         if repeats is not None else _table(refused_repeat_table(f.refused, lang), s)),
        Heading(tr("sec_rect", lang)),
        Row([Chart(c.rect_funnel.title, lambda ctx, r: paint_funnel(ctx, c.rect_funnel, r,
                                                                     empty), 34.0),
             _table(unit_table(f.rect, lang), s)], (1.0, 1.0)),
        _table(c.overdue, s, more=f.rect.overdue_count - len(c.overdue.rows)),
        Heading(tr("sec_med", lang)),
        Row([Chart(c.med_funnel.title, lambda ctx, r: paint_funnel(ctx, c.med_funnel, r, empty),
                   34.0), _table(mediation_level_table(f.med, lang), s)], (1.0, 1.0)),
        Chart(c.med_trend.title,
              lambda ctx, r: paint_lines(ctx, c.med_trend, r, c.med_trend.empty or empty), 42.0),
        _table(mediation_town_table(f.med, lang), s,
               more=max(0, len(f.med.by_town) - TOWN_ROWS)),
        Heading(tr("sec_coverage", lang)),
        # the table first: with no gaps it is one line, which alone on a page wastes it
        _table(coverage_table(f.coverage, lang), s,
               more=f.coverage.total_gaps - min(len(f.coverage.gaps), GAP_ROWS),
               empty=coverage_note.text if coverage_note is not None else None),
        maps[1],
    ]


@dataclass(frozen=True)
class _Town:
    """The figures of one atlas page."""

    name: str
    state: FilterState
    kpis: tuple
    overdue: Any
    overdue_count: int


def _town(extract: Extract, name: str, st: FilterState, lang: str) -> _Town:
    def work(q: Query) -> _Town:
        rect = rectification(q, st)
        med = mediation(q, st)
        kpis = (period_kpi(q.incident_count(st), q.unlocated_count(st), window_change(q, st),
                           lang), *dashboard.kpis(q, st, lang, rect, med))
        return _Town(name, st, kpis, dashboard.overdue_table(q, st, rect, lang),
                     rect.overdue_count)

    return _on_own_cursor(extract, work)


def _atlas_towns(extract: Extract, state: FilterState, lang: str,
                 submit: Callable[..., Future]) -> list[Future]:
    """The figures of each town's page, computed on the pool (``submit``)."""
    return [submit(_town, extract, name, st, lang) for _tid, name, st in
            town_states(extract, state)]


def _atlas_blocks(extract: Extract, q: Query, towns: Sequence[_Town], s: _Settings
                  ) -> list[Block]:
    """One page per town: its title, map, key figures and overdue list (cut to the page)."""
    lang = s.lang
    out: list[Block] = []
    one_column = s.paper.columns == 1
    for i, t in enumerate(towns, start=1):
        out += [PageBreak(),
                SpanTitle(tr("atlas_title", lang, i=i, count=len(towns), town=t.name),
                          "  ·  ".join(_facts(extract, q, t.state, s)[:2])),
                MapBlock(tr("map_situation_title", lang,
                            window=dashboard.window_text(t.state, lang)),
                         _situation_builder(extract, t.state, lang, hazards=True,
                                            detail=_town_bounds(extract, t.state),
                                            notes=s.annotations),
                         _town_bounds(extract, t.state), (), min_mm=80.0,
                         max_mm=112.0 if one_column else None, focus=_focus(extract, t.state),
                         empty=tr("no_data", lang), lang=lang, backdrop=s.backdrop),
                KpiGrid("", t.kpis, 5 if one_column else 3),
                _table(t.overdue, s, more=t.overdue_count - len(t.overdue.rows),
                       truncate=True)]
    return out


# ----------------------------------------------------------------------------- pages
def _frame(ctx: Ctx, paper: Paper) -> Frame:
    return Frame(ctx.mm(paper.margin), ctx.mm(paper.margin + paper.header),
                 ctx.mm(paper.content_width), ctx.mm(paper.content_height), paper.columns,
                 ctx.mm(paper.gap * 1.5), ctx.mm(paper.gap * 0.75))


def _paint_margins(ctx: Ctx, paper: Paper, page: int, total: int, marking: str, marked: bool,
                   region_line: str, generated: str) -> None:
    """Header and footer: the marking (top left, bottom centre), region, page n / N, time."""
    p, s = ctx.painter, ctx.style
    left, right = ctx.mm(paper.margin), ctx.mm(paper.width - paper.margin)
    top = ctx.mm(paper.margin)
    band = ctx.mm(paper.header - 3)
    mark_color = s.marking if marked else s.muted
    p.setFont(ctx.font(s.size_body, True))
    p.setPen(qcolor(mark_color))
    half = (right - left) / 2
    p.drawText(QRectF(left, top, half, band), int(Qt.AlignmentFlag.AlignLeft |
                                                  Qt.AlignmentFlag.AlignVCenter), marking)
    p.setFont(ctx.font(s.size_small))
    p.setPen(qcolor(s.muted))
    fm = ctx.metrics(s.size_small)
    p.drawText(QRectF(left + half, top, half, band), int(Qt.AlignmentFlag.AlignRight |
                                                         Qt.AlignmentFlag.AlignVCenter),
               fm.elidedText(region_line, Qt.TextElideMode.ElideLeft, half))
    pen = QPen(qcolor(s.rule))
    pen.setWidthF(ctx.mm(0.25))
    p.setPen(pen)
    p.drawLine(QPointF(left, top + band + ctx.mm(1)), QPointF(right, top + band + ctx.mm(1)))
    bottom = ctx.mm(paper.height - paper.margin)
    foot = QRectF(left, bottom - ctx.mm(paper.footer - 3), right - left, ctx.mm(paper.footer - 3))
    p.drawLine(QPointF(left, foot.top() - ctx.mm(1)), QPointF(right, foot.top() - ctx.mm(1)))
    p.setFont(ctx.font(s.size_small))
    p.setPen(qcolor(s.muted))
    p.drawText(foot, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), generated)
    p.drawText(foot, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
               tr("pdf_page", ctx.lang, n=page, total=total))
    p.setFont(ctx.font(s.size_small, True))
    p.setPen(qcolor(mark_color))
    p.drawText(foot, int(Qt.AlignmentFlag.AlignCenter), marking)


def _paint_personal_mark(ctx: Ctx, paper: Paper) -> None:
    """An unmasked briefing says so on every page: "含个人信息 / Contains personal data" in
    the alarm colour, boxed, at the top centre."""
    p, s = ctx.painter, ctx.style
    text = tr("personal_mark", ctx.lang)
    font_size = s.size_body
    fm = ctx.metrics(font_size, True)
    w, h = fm.horizontalAdvance(text) + ctx.mm(4), ctx.mm(paper.header - 3)
    box = QRectF(ctx.mm(paper.width / 2) - w / 2, ctx.mm(paper.margin), w, h)
    p.save()
    pen = QPen(qcolor(s.marking))
    pen.setWidthF(ctx.mm(0.4))
    p.setPen(pen)
    p.setBrush(qcolor((255, 235, 238, 255)))
    p.drawRect(box)
    p.setFont(ctx.font(font_size, True))
    p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
    p.restore()


class _PdfFile:
    """A writer and its painter on ``target``; ``close`` ends the painter (writes the file)."""

    def __init__(self, target: Path, title: str, s: _Settings) -> None:
        self.writer = QPdfWriter(str(target))
        self.writer.setResolution(RESOLUTION)
        self.writer.setTitle(title)
        self.writer.setCreator("cockpit")
        self.writer.setPageLayout(QPageLayout(
            QPageSize(s.paper.size_id), QPageLayout.Orientation.Landscape if s.paper.landscape
            else QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
        self.painter = QPainter()
        if not self.painter.begin(self.writer):
            raise OSError(f"cannot write {target}")
        self.ctx = Ctx(self.painter, self.writer, PrintStyle(), s.lang)
        self.frame = _frame(self.ctx, s.paper)

    def close(self) -> None:
        if self.painter.isActive():
            self.painter.end()


def _prefetch(pdf: _PdfFile, blocks: Sequence[Block], submit: Callable[..., Future]) -> None:
    """Start building each map for the size it will most likely get (in the pool)."""
    f = pdf.frame
    title_h = 0.0
    for b in blocks:
        if isinstance(b, SpanTitle):
            title_h = b.height(pdf.ctx, f.width) + f.block_gap
        elif isinstance(b, MapBlock):
            b.prefetch(pdf.ctx, f.column_width, f.height - title_h, submit)


def _paint(pdf: _PdfFile, blocks: list[Block], s: _Settings, marking: str, marked: bool,
           region_line: str) -> int:
    ctx, painter = pdf.ctx, pdf.painter
    pages: list[list[Placed]] = flow(ctx, blocks, pdf.frame)
    generated = tr("pdf_generated", s.lang, time=s.generated.isoformat(sep=" ", timespec="minutes"))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    for n, page in enumerate(pages, start=1):
        if n > 1:
            pdf.writer.newPage()
        _paint_margins(ctx, s.paper, n, len(pages), marking, marked, region_line, generated)
        if not s.masked:
            _paint_personal_mark(ctx, s.paper)
        for placed in page:
            painter.save()
            painter.setClipRect(placed.rect.adjusted(-ctx.mm(1), -ctx.mm(1), ctx.mm(1),
                                                     ctx.mm(1)))
            placed.block.paint(ctx, placed.rect)
            painter.restore()
    return len(pages)


def _repeats(extract: Extract, state: FilterState) -> RepeatPlaces | None:
    q = Query(extract, extract.cursor())  # its own cursor: this runs on another thread
    try:
        if agg_counts.refused_rows(q, state) is not None:
            return None  # a province read in place: the briefing says why
        return repeat_places(q, state, limit=REPEAT_ROWS)
    finally:
        q.con.close()


def export_pdf(extract: Extract, state: FilterState, path: str | os.PathLike[str],
               lang: str = "zh", paper: str = "a4", atlas: str | None = None,
               masked: bool = True, generated_at: datetime | None = None,
               backdrop: Backdrop | None = None,
               annotations: Sequence[Annotation] | None = None,
               audit_details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the briefing for ``state`` to ``path`` (see the module docstring); audited.

    ``backdrop``: the base map's tiles (fetched as the maps are painted) and the reference
    layers drawn under every map. ``annotations``: drawn on the situation maps and listed
    after the first one; None reads the region's from the user's ``annotations.json``.
    An unmasked briefing (``masked=False``) is marked on every page; ``audit_details``
    (who unmasked it, and why) go into its audit line.

    Returns ``{"path", "pages", "paper", "atlas", "towns", "lang", "masked", "bytes",
    "seconds", "as_of", "audited"}``. Raises ValueError for a wrong argument and OSError
    when the file cannot be written (nothing is left half-written).
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language: {lang!r} (one of {', '.join(LANGUAGES)})")
    if paper not in PAPERS:
        raise ValueError(f"unknown paper: {paper!r} (one of {', '.join(PAPERS)})")
    if atlas is not None and atlas not in ATLAS_KINDS:
        raise ValueError(f"unknown atlas: {atlas!r} (one of {', '.join(ATLAS_KINDS)})")
    t0 = time.perf_counter()
    target = Path(path).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if annotations is None:
        annotations = AnnotationStore().of_region(extract.region_name)
    settings = _Settings(lang, PAPERS[paper], masked,
                         (generated_at or datetime.now()).replace(microsecond=0), backdrop,
                         tuple(annotations))
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    window = dashboard.window_text(state, lang)
    title = f"{tr('pdf_title', lang, region=_region_title(extract, state, lang))} {window}"
    own_marking = printable(extract.classification or "").strip()
    marking = own_marking or tr("pdf_no_marking", lang)
    q = Query(extract, extract.cursor())
    region_line = f"{title} · {tr('pdf_as_of', lang, day=q.as_of(state).isoformat())}"
    pdf: _PdfFile | None = None
    try:
        # The repeat places (the slowest figure), the maps and the atlas pages on threads;
        # the rest meanwhile on this one.
        with ThreadPoolExecutor(3, thread_name_prefix="pdf") as pool:
            try:
                future: Future[RepeatPlaces | None] = pool.submit(_repeats, extract, state)
                towns = _atlas_towns(extract, state, lang, pool.submit) if atlas else []
                ensure_gui()
                pdf = _PdfFile(tmp, title, settings)
                content = _gather(q, state, lang)
                maps = _maps(extract, q, state, content, settings)
                _prefetch(pdf, maps, pool.submit)
                atlas_blocks = _atlas_blocks(extract, q, [t.result() for t in towns], settings)
                _prefetch(pdf, atlas_blocks, pool.submit)
                figs = replace(content.figs, repeats=future.result())
                summary = summarize(figs, lang, masked)
                blocks = _main_blocks(extract, q, state, replace(content, figs=figs), summary,
                                      maps, settings) + atlas_blocks
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # no work left queued
                raise
        # Leaving the pool waited for the maps it was building.
        pages = _paint(pdf, blocks, settings, marking, bool(own_marking),
                       printable(region_line))
        pdf.close()
        fix_to_unicode(tmp, cjk_family())
        os.replace(tmp, target)
        as_of = q.as_of(state).isoformat()
    finally:
        if pdf is not None:
            pdf.close()
        tmp.unlink(missing_ok=True)
        q.con.close()
    size = target.stat().st_size
    result: dict[str, Any] = {
        "path": str(target), "pages": pages, "paper": paper, "atlas": atlas,
        "towns": len(towns), "lang": lang, "masked": masked, "bytes": size, "as_of": as_of,
        "annotations": len(settings.annotations),
        "seconds": round(time.perf_counter() - t0, 3)}
    result["audited"] = audit("export_pdf", {
        "output": str(target), "extract": str(extract.path), "as_of": as_of, "lang": lang,
        "masked": masked, "paper": paper, "atlas": atlas, "pages": pages, "bytes": size,
        "classification": extract.classification, **(audit_details or {})}, state)
    return result
