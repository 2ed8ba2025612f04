"""The tables of a briefing as a spreadsheet (XLSX) or CSV files, headless.

``tables_for`` builds every table once, as plain headers and rows of Python values
(str, int, float, date, datetime, None), from the figures of ``data.analysis``; both
writers here and the PDF exporter use it. Nothing is computed here that a figure
module computes: rows are the figures' own values, labelled and masked.

Tables (sheet names in Chinese, or English with ``lang="en"``):
- overview 概况: region, classification, period, as-of day, extract time, filter,
  whether personal data is masked, generation time, and a few counts;
- overdue 逾期隐患: ``rectification().overdue`` in its order (most overdue first);
- hotspots 热点: the hot cells of ``grid_hotspots`` and the hot areas of
  ``area_hotspots`` (at the finest level with enough areas), each by z descending,
  with z and confidence class;
- repeats 重复地址: ``repeat_places`` in their order (count, latest, id);
- mediation 矛盾纠纷: ``mediation`` in total, by current level, by category (each from
  ``mediation`` under the filter narrowed to that code) and by town (``by_town``);
- funnel 化解漏斗: the village → town → county funnel of ``mediation``.

Personal data: with ``masked`` (the default) free-text cells (names, addresses,
responsible units) have phone numbers masked with ``data.privacy.mask_phone``, and
columns of personal names or phones (none in the current figures) go through
``mask_name`` / ``mask_phone``. Identifiers are never altered. Both writers record
the export in the audit log (``exporters.audit``).
"""

from __future__ import annotations

import csv
import math
import os
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from data.analysis.hotspots import CONFIDENCE, area_hotspots, grid_hotspots
from data.analysis.mediation import FINISHED, Mediation, mediation
from data.analysis.rectification import rectification
from data.analysis.repeats import RepeatPlaces, repeat_places
from data.extract import Extract
from data.filters import FilterState
from data.privacy import mask_name, mask_phone, mask_text
from data.queries import Query
from data.schema import INCIDENT_CATEGORIES
from layers.filter_text import describe_filter
from layers.i18n import LANGUAGES, code_label, tr

from .audit import audit

__all__ = ["TABLE_KEYS", "Table", "csv_paths", "export_csv", "export_xlsx",
           "mask_text", "tables_for"]

TABLE_KEYS = ("overview", "overdue", "hotspots", "repeats", "mediation", "funnel")

# Column kinds: how a writer formats a column and how masking treats it.
ID, TEXT, LABEL, PERSON, PHONE, VALUE = "id", "text", "label", "person", "phone", "value"
INT, Z, COORD, PCT, DATE, DATETIME = "int", "z", "coord", "pct", "date", "datetime"
_FORMATS = {INT: "#,##0", Z: "0.000", COORD: "0.000000", PCT: "0.0%", DATE: "yyyy-mm-dd",
            DATETIME: "yyyy-mm-dd hh:mm:ss"}

class words:
    """The export words of one language (the ``x_`` keys of ``layers/i18n.py``)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return tr(f"x_{key}", self.lang)


_CLASS_OF = {conf: c for c, conf in CONFIDENCE.items()}
_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE3EA")


@dataclass(frozen=True)
class Table:
    """One table: ``headers`` and ``rows`` of plain values; ``kinds`` say how to format."""

    key: str
    title: str
    headers: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


# --------------------------------------------------------------------------- masking

def _masker(kind: str, masked: bool) -> Callable[[Any], Any] | None:
    if not masked:
        return None
    return {TEXT: mask_text, PERSON: lambda v: mask_text(mask_name(v)),
            PHONE: mask_phone, VALUE: lambda v: mask_text(v) if isinstance(v, str) else v
            }.get(kind)


def _table(key: str, lang: str, columns: Iterable[tuple[str, str]],
           rows: Iterable[Iterable[Any]], masked: bool) -> Table:
    """A Table from (header, kind) pairs; values masked per column kind."""
    headers, kinds = zip(*columns, strict=True)
    masks = [_masker(k, masked) for k in kinds]
    out = tuple(tuple(v if m is None or v is None else m(v)
                      for v, m in zip(row, masks, strict=True)) for row in rows)
    return Table(key, words(lang)[key], tuple(headers), tuple(kinds), out)


# --------------------------------------------------------------------------- the tables

def tables_for(extract: Extract, state: FilterState, lang: str = "zh", masked: bool = True,
               generated_at: datetime | None = None) -> list[Table]:
    """Every table of the export, in ``TABLE_KEYS`` order (see the module docstring)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language: {lang}")
    q = Query(extract)
    as_of = q.as_of(state)
    rect = rectification(q, state)
    grid = grid_hotspots(q, state)
    grid_rows = grid.to_json(limit=grid.grid.n_study)["top"]  # every hot cell
    villages = area_hotspots(q, state)  # the finest level with enough areas
    village_rows = villages.to_json()["hot_areas"]
    places = repeat_places(q, state)
    med = mediation(q, state)
    t = words(lang)

    overview = [
        *([("privacy", tr("personal_mark", lang))] if not masked else []),
        ("region", extract.region_name),
        *([("classification", extract.classification)] if extract.classification else []),
        ("period_start", state.start or t["unbounded"]),
        ("period_end", min(state.end, as_of) if state.end else as_of),
        ("as_of", as_of),
        *([("extracted_at", extract.extracted_at)] if extract.extracted_at else []),
        *([("source", extract.meta["source"])] if extract.meta.get("source") else []),
        ("filter", describe_filter(extract, state, lang)),
        ("privacy", t["masked"] if masked else t["unmasked"]),
        ("generated_at", (generated_at or datetime.now()).replace(microsecond=0)),
        ("n_overdue", rect.overdue_count),
        ("n_hot_cells", len(grid_rows)),
        ("n_hot_areas", len(village_rows)),
        ("n_repeats", places.total_places),
        ("n_disputes", med.total),
    ]
    return [
        _table("overview", lang, [(t["item"], LABEL), (t["value"], VALUE)],
               [(t[k], v) for k, v in overview], masked),
        _overdue(rect.overdue.columns, lang, masked),
        _hotspots(grid.cell_m, grid_rows, villages.level, village_rows, lang, masked),
        _repeats(places, lang, masked),
        _mediation(q, state, med, lang, masked),
        _funnel(med, lang, masked),
    ]


def _overdue(cols: dict[str, Any], lang: str, masked: bool) -> Table:
    t = words(lang)
    columns = [(t["hazard_id"], ID), (t["hazard_name"], TEXT), (t["days_overdue"], INT),
               (t["deadline"], DATE), (t["risk_level"], LABEL), (t["hazard_category"], LABEL),
               (t["state"], LABEL), (t["responsible_unit"], TEXT), (t["town"], TEXT),
               (t["area"], TEXT)]
    v = {k: a.tolist() for k, a in cols.items()}  # numpy → int, date, str, None
    rows = zip(v["hazard_id"], v["name"], v["days_overdue"], v["deadline"],
               [code_label("risk_level", c, lang) for c in v["risk_level"]],
               [code_label("hazard_category", c, lang) for c in v["category"]],
               [code_label("hazard_state", c, lang) for c in v["state"]],
               v["responsible_unit"], v["town_name"], v["area_name"], strict=True)
    return _table("overdue", lang, columns, rows, masked)


def _hot_class(lang: str, confidence: float) -> str:
    return f"{words(lang)['hot']} {confidence:.0%}" if confidence in _CLASS_OF else ""


def _hotspots(cell_m: float, grid_rows: list[dict[str, Any]], level: str,
              village_rows: list[dict[str, Any]], lang: str, masked: bool) -> Table:
    t = words(lang)
    columns = [(t["unit"], LABEL), (t["area_id"], ID), (t["area_name"], TEXT),
               (t["lon"], COORD), (t["lat"], COORD), (t["count"], INT), (t["z"], Z),
               (t["confidence"], PCT), (t["class"], LABEL)]
    cell = t["grid_cell"].format(size=cell_m)
    rows = [(cell, r["area_id"], r["name"], r["lon"], r["lat"], r["count"], r["z"],
             r["confidence"], _hot_class(lang, r["confidence"])) for r in grid_rows]
    unit = code_label("area_level", level, lang)
    rows += [(unit, r["area_id"], r["name"], None, None, r["count"], r["z"], r["confidence"],
              _hot_class(lang, r["confidence"])) for r in village_rows]
    return _table("hotspots", lang, columns, rows, masked)


def _categories(counts: dict[str, int], lang: str) -> str:
    order = sorted(counts, key=lambda c: (-counts[c], INCIDENT_CATEGORIES.index(c)
                                          if c in INCIDENT_CATEGORIES else len(counts)))
    return words(lang)["list_sep"].join(
        f"{code_label('incident_category', c, lang)} {counts[c]}" for c in order)


def _repeats(places: RepeatPlaces, lang: str, masked: bool) -> Table:
    t = words(lang)
    columns = [(t["address"], TEXT), (t["area_name"], TEXT), (t["count"], INT),
               (t["first"], DATETIME), (t["last"], DATETIME), (t["reached_at"], DATETIME),
               (t["categories"], LABEL), (t["matched_by"], LABEL), (t["lon"], COORD),
               (t["lat"], COORD), (t["area_id"], ID), (t["place_id"], ID)]
    by_location = t["by_location"].format(radius=places.radius_m)
    rows = [(p.address, p.name, p.count, p.first, p.last, p.reached_at,
             _categories(p.categories, lang),
             t["by_address"] if p.matched_by == "address" else by_location,
             p.lon, p.lat, p.area_id, p.place_id) for p in places]
    return _table("repeats", lang, columns, rows, masked)


def _outcomes(m: Mediation) -> tuple[int, int, int, int, int, float | None]:
    """total, resolved, failed, referred, open, success rate of one ``mediation`` result.

    open is total − resolved − failed − referred, as ``AreaRow.open`` defines it.
    """
    s = m.by_status
    return (m.total, s["resolved"], s["failed"], s["referred"],
            m.total - sum(s[k] for k in FINISHED), m.success_rate)


def _mediation(q: Query, state: FilterState, med: Mediation, lang: str,
               masked: bool) -> Table:
    t = words(lang)
    columns = [(t["dimension"], LABEL), (t["code"], ID), (t["name"], TEXT),
               (t["disputes"], INT), (code_label("dispute_status", "resolved", lang), INT),
               (code_label("dispute_status", "failed", lang), INT),
               (code_label("dispute_status", "referred", lang), INT), (t["open"], INT),
               (t["success_rate"], PCT)]
    rows: list[tuple[Any, ...]] = [(t["dim_total"], None, t["all"], *_outcomes(med))]
    for dim, field, group, counts in (
            ("dim_level", "dispute_levels", "dispute_level", med.by_level),
            ("dim_category", "dispute_categories", "dispute_category", med.by_category)):
        for code, n in counts.items():
            # The breakdown of one code is mediation() under the filter narrowed to it
            # (the code is inside any existing filter on the field, or n would be 0).
            figures = (_outcomes(mediation(q, state.with_set(field, [code]))) if n
                       else (0, 0, 0, 0, 0, None))
            rows.append((t[dim], code, code_label(group, code, lang), *figures))
    rows += [(t["dim_town"], r.area_id, r.name, r.total, r.resolved, r.failed, r.referred,
              r.open, r.success_rate) for r in med.by_town]
    return _table("mediation", lang, columns, rows, masked)


def _funnel(med: Mediation, lang: str, masked: bool) -> Table:
    t = words(lang)
    f = med.funnel
    columns = [(t["level"], LABEL), (t["entered"], INT), (t["reached"], INT),
               (code_label("dispute_status", "resolved", lang), INT),
               (code_label("dispute_status", "failed", lang), INT),
               (code_label("dispute_status", "referred", lang), INT), (t["open"], INT)]
    rows = [(code_label("dispute_level", lv, lang), f.entered[lv], f.reached[lv],
             f.resolved[lv], f.failed[lv], f.referred[lv], f.open[lv])
            for lv in f.reached]
    if f.refused:  # the steps cannot be read: the reason instead of per-level figures
        rows = [(tr(f"med_refused_{f.refused}", lang), None, None, None, None, None, None)]
    return _table("funnel", lang, columns, rows, masked)


# --------------------------------------------------------------------------- writers

def _clean(v: Any) -> Any:
    """A value openpyxl writes faithfully: no NaN, no control characters, not too long."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, str):
        return ILLEGAL_CHARACTERS_RE.sub("", v)[:32767]
    return v


def _width(v: Any, kind: str) -> int:
    if v is None:
        return 0
    if isinstance(v, datetime):
        return 19
    if isinstance(v, date):
        return 10
    if isinstance(v, float):
        return {PCT: 7, Z: 8, COORD: 11}.get(kind, 12)
    if isinstance(v, int):
        return len(f"{v:,}")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(v))


def _cell(ws: Any, v: Any, kind: str, fmt: str | None = None) -> Cell:
    cell = WriteOnlyCell(ws, value=_clean(v))
    if isinstance(cell.value, str):
        cell.data_type = "s"  # a producer's "=..." text stays text, never a formula
    elif cell.value is not None:
        cell.number_format = fmt or _FORMATS.get(kind) or _type_format(v)
    return cell


def _type_format(v: Any) -> str:
    # Mixed columns (the overview's values) are formatted by the value's type.
    if isinstance(v, datetime):
        return _FORMATS[DATETIME]
    if isinstance(v, date):
        return _FORMATS[DATE]
    return _FORMATS[INT] if isinstance(v, int) else "General"


def _write_sheet(wb: Workbook, table: Table, classification: str | None,
                 personal: str | None = None) -> None:
    """One sheet: bold header row, frozen, with a filter; widths from the content."""
    ws = wb.create_sheet(table.title[:31])
    widths = [_width(h, LABEL) for h in table.headers]
    for row in table.rows[:1000]:  # widths from the first thousand rows are enough
        for c, (v, kind) in enumerate(zip(row, table.kinds, strict=True)):
            widths[c] = max(widths[c], _width(v, kind))
    # A write-only sheet takes its layout before its rows, and keeps memory flat.
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A2"
    if table.rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(table.headers))}{len(table.rows) + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    if classification:  # the marking is printed on every page (extract-schema.md)
        ws.oddHeader.center.text = ws.evenHeader.center.text = classification
    if personal:  # an unmasked workbook says so on every printed page too
        ws.oddHeader.right.text = ws.evenHeader.right.text = personal
    head = []
    for h in table.headers:
        cell = _cell(ws, h, LABEL)
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
        head.append(cell)
    ws.append(head)
    for row in table.rows:
        ws.append([_cell(ws, v, kind) for v, kind in zip(row, table.kinds, strict=True)])


def _replace_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary file beside ``target``, then rename: no half-written output."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _record(action: str, extract: Extract, state: FilterState, output: Any, as_of: date,
            lang: str, masked: bool, tables: list[Table],
            extra: dict[str, Any] | None = None) -> bool:
    # The as-of day is logged resolved: a state without one means the extract's day.
    return audit(action, {"output": output, "extract": str(extract.path),
                          "as_of": as_of.isoformat(), "lang": lang, "masked": masked,
                          "rows": {t.key: len(t.rows) for t in tables}, **(extra or {})},
                 state)


def export_xlsx(extract: Extract, state: FilterState, path: str | os.PathLike[str],
                lang: str = "zh", masked: bool = True,
                audit_details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write every table to one workbook (one sheet each) and record it in the audit log.

    An unmasked workbook (``masked=False``) says so first in its overview and in every
    sheet's page header; ``audit_details`` (who unmasked it, and why) go into the log.
    Returns ``{"path", "sheets": {title: rows}, "as_of", "lang", "masked", "audited"}``.
    """
    target = Path(path).expanduser().resolve()
    tables = tables_for(extract, state, lang, masked)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    wb.properties.creator = "cockpit"  # not the user's name: the audit log has that
    wb.properties.title = f"{extract.region_name} {tables[0].title}"
    personal = None if masked else tr("personal_mark", lang)
    for table in tables:
        _write_sheet(wb, table, extract.classification, personal)
    _replace_atomically(target, lambda tmp: wb.save(tmp))
    as_of = Query(extract).as_of(state)
    return {"path": str(target), "sheets": {t.title: len(t.rows) for t in tables},
            "as_of": as_of.isoformat(), "lang": lang, "masked": masked,
            "audited": _record("export_xlsx", extract, state, str(target), as_of, lang,
                               masked, tables, audit_details)}


def _csv_text(v: Any, kind: str) -> Any:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, str) and kind not in _FORMATS and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v  # Excel would run it as a formula (CSV injection)
    return v


def csv_paths(folder_or_prefix: str | os.PathLike[str]) -> dict[str, Path]:
    """Where each table's CSV goes: ``<folder>/<key>.csv`` for an existing folder (or a
    path ending in a separator), else ``<prefix>_<key>.csv``."""
    text = os.fspath(folder_or_prefix)
    base = Path(text).expanduser().resolve()
    if base.is_dir() or text.endswith((os.sep, "/")):
        return {k: base / f"{k}.csv" for k in TABLE_KEYS}
    return {k: base.with_name(f"{base.name}_{k}.csv") for k in TABLE_KEYS}


def export_csv(extract: Extract, state: FilterState, folder_or_prefix: str | os.PathLike[str],
               lang: str = "zh", masked: bool = True) -> dict[str, Any]:
    """One UTF-8 CSV with a BOM (Excel then reads Chinese right) per table; audited.

    Returns ``{"paths": {key: path}, "rows": {key: rows}, "as_of", "lang", "masked",
    "audited"}``.
    """
    tables = tables_for(extract, state, lang, masked)
    paths = csv_paths(folder_or_prefix)
    next(iter(paths.values())).parent.mkdir(parents=True, exist_ok=True)
    for table in tables:
        def write(tmp: Path, table: Table = table) -> None:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(table.headers)
                out.writerows([_csv_text(v, k) for v, k in zip(row, table.kinds, strict=True)]
                              for row in table.rows)
        _replace_atomically(paths[table.key], write)
    written = {k: str(p) for k, p in paths.items()}
    as_of = Query(extract).as_of(state)
    return {"paths": written, "rows": {t.key: len(t.rows) for t in tables},
            "as_of": as_of.isoformat(), "lang": lang, "masked": masked,
            "audited": _record("export_csv", extract, state, written, as_of, lang, masked,
                               tables)}
