"""Specs for the panels beside the map: KPI tiles, charts and tables.

Plain data built from the figures of ``data/``; widgets draw them, the PDF
painter prints them, the XLSX exporter writes the tables. Every clickable
element carries a ``key`` and the filter ``field`` it stands for, so a click
becomes a filter intent without the widget knowing what the key means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RGBA = tuple[int, int, int, int]


def format_value(template: str, value: float) -> str:
    """``template.format(value)`` (a spec's value format), plain ``{:g}`` if it does not fit."""
    try:
        return template.format(value)
    except (ValueError, TypeError):
        return f"{value:g}"


@dataclass(frozen=True)
class KpiSpec:
    """One tile: a big number, and under it its change against a base."""

    key: str
    title: str
    value: str
    """Already formatted (e.g. "1,234", "87.7%")."""
    delta_pct: float | None = None
    """Change in percent against ``delta_label``; None = no comparison shown."""
    delta_label: str = ""
    """E.g. "同比" / "vs last year"."""
    detail: str = ""
    """A second line, e.g. "去年同期 1,180"."""
    good_when_down: bool = True
    """Incidents falling is good (green); a rate falling is bad (red)."""
    alarm: bool = False
    """Draw the tile in the alarm colour (e.g. overdue hazards > 0)."""

    def delta_text(self) -> str | None:
        """The change line as screen and print show it ("同比 ▲12.3%"); None: no comparison."""
        pct = self.delta_pct
        if pct is None or not math.isfinite(pct):
            return None
        shown = round(pct, 1)
        arrow = "▲" if shown > 0 else "▼" if shown < 0 else ""
        mag = abs(shown)
        number = f"{mag:,.0f}" if mag >= 1000 else f"{mag:.1f}"
        return f"{self.delta_label} {arrow}{number}%".strip()

    def delta_is_good(self) -> bool | None:
        """True when the change goes the wanted way, False when not, None for no/zero change."""
        pct = self.delta_pct
        if pct is None or not math.isfinite(pct) or round(pct, 1) == 0:
            return None
        return (pct < 0) == self.good_when_down


@dataclass(frozen=True)
class BarSpec:
    """A bar chart; bars may be stacked when ``series`` has more than one entry."""

    key: str
    title: str
    labels: tuple[str, ...]
    keys: tuple[str, ...]
    """The code behind each bar (category, area id...)."""
    series: tuple[tuple[float, ...], ...]
    """One tuple of values per series, each as long as ``labels``."""
    series_labels: tuple[str, ...] = ()
    colors: tuple[RGBA, ...] = ()
    """One colour per series (or per bar when there is one series and as many colours)."""
    field: str | None = None
    """The FilterState field a click toggles (e.g. ``incident_categories``), or ``areas``."""
    selected: frozenset[str] = frozenset()
    horizontal: bool = False
    value_format: str = "{:,.0f}"


@dataclass(frozen=True)
class LineSpec:
    """Time series on a shared x axis (days since 1970 as floats, or indices)."""

    key: str
    title: str
    x: tuple[float, ...]
    x_labels: tuple[str, ...]
    """Tick text for each x (widgets thin them out)."""
    series: tuple[tuple[float, ...], ...]
    series_labels: tuple[str, ...]
    colors: tuple[RGBA, ...]
    y_format: str = "{:,.0f}"
    empty: str = ""
    """Said in place of the chart when there is nothing to draw (why), instead of "无数据"."""


@dataclass(frozen=True)
class FunnelSpec:
    """Stages from wide to narrow (e.g. received → reached town → reached county)."""

    key: str
    title: str
    stages: tuple[str, ...]
    values: tuple[int, ...]
    notes: tuple[str, ...] = ()
    """Text beside each stage (e.g. "村级化解 14,274")."""
    colors: tuple[RGBA, ...] = ()
    message: str | None = None
    """Without stages: why the funnel cannot be drawn (shown in its place), else "no data"."""


@dataclass(frozen=True)
class TableSpec:
    """Rows of already formatted cells; ``keys`` say what a row stands for."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    keys: tuple[str, ...] = ()
    """Per row: the id it stands for (hazard id, area id, place id...)."""
    field: str | None = None
    """What a row click selects: a FilterState field, or ``zoom`` to only zoom the map."""
    locations: tuple[tuple[float, float] | None, ...] = ()
    """Per row: (lon, lat) to zoom to, when it has one."""
    numeric: tuple[bool, ...] = ()
    """Per column: right-align (numbers)."""
    alarm_rows: frozenset[int] = frozenset()
    """Rows drawn in the alarm colour."""
    empty: str = ""
    """Said in place of the rows when there are none (why), instead of "无数据"."""
