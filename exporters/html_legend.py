"""The words, the title and the legend of the exported HTML map, escaped for HTML.

Kept apart from ``html_map`` (which gathers the data and assembles the page):
this is the part a translator or a designer changes. Every text goes through
``html.escape``, including the catalogue's own words and the region name.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import numpy as np

from layers import styles
from layers.i18n import code_label, tr

RISK_ORDER = ("low", "medium", "high", "major")
AREA_PENS: dict[str, tuple[str, float]] = {"county": ("#afd2f5", 2.6), "town": ("#96bee6", 1.8),
                                           "village": ("#7896be", 0.8)}
"""Outline colour and width of town and village boundaries (the screen's, in layers/scene.py)."""

# Words of this page only; (zh, en) like layers.i18n.TEXT.
_TEXT: dict[str, tuple[str, str]] = {
    "title": ("{region} 三张图", "{region}: the three maps"),
    "period": ("{start} 至 {end}", "{start} to {end}"),
    "as_of": ("截至 {day}", "As of {day}"),
    "masked": ("个人信息已脱敏", "Personal data masked"),
    "unmasked": ("含未脱敏个人信息", "Contains unmasked personal data"),
    "legend": ("图例", "Legend"),
    "heat": ("警情热力 (按网格汇总)", "Incident heat (grid totals)"),
    "cluster": ("警情 (聚合点)", "Incidents (clustered)"),
    "few": ("少", "Few"),
    "many": ("多", "Many"),
    "unavailable": ("不可调度 (淡色)", "Unavailable (dimmed)"),
    "state": ("整改状态", "Rectification state"),
    "risk": ("风险等级 (大小)", "Risk level (size)"),
    "category": ("类别 (形状)", "Category (shape)"),
    "overdue": ("超期整改 (红框)", "Overdue (red outline)"),
    "areas": ("行政区划", "Areas"),
    "incidents": ("警情", "Incidents"),
    "id": ("编号", "ID"),
    "time": ("时间", "Time"),
    "kind": ("类型", "Kind"),
    "available": ("可调度", "Available"),
    "headcount": ("人数", "Headcount"),
    "phone": ("电话", "Phone"),
    "risk_level": ("风险等级", "Risk level"),
    "category_short": ("类别", "Category"),
    "state_short": ("整改状态", "State"),
    "overdue_short": ("超期", "Overdue"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "no_incidents": ("无警情", "No incidents"),
    "tiles": ("底图", "Base map"),
}


def text(key: str, lang: str, **values: Any) -> str:
    zh, en = _TEXT[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def hex_color(color: tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color[:3])


def symbol_svg(symbol: str, color: str, size: int = 12, opacity: float = 1.0,
                stroke: str = "#ffffff") -> str:
    """A legend swatch drawn like cockpit_map.js draws the symbol (attribute values escaped)."""
    c, r = size / 2, size / 2 - 1.5
    if symbol == "s":
        shape = f'<rect x="{c - r * .9:.1f}" y="{c - r * .9:.1f}" width="{r * 1.8:.1f}" ' \
                f'height="{r * 1.8:.1f}"'
    elif symbol in ("t", "d", "h", "star"):
        if symbol == "t":
            pts = [(c, c - r), (c + r, c + r * .8), (c - r, c + r * .8)]
        elif symbol == "d":
            pts = [(c, c - r), (c + r, c), (c, c + r), (c - r, c)]
        elif symbol == "h":
            pts = [(c + r * np.cos(a), c + r * np.sin(a)) for a in np.arange(6) * np.pi / 3]
        else:
            pts = [(c + (r if k % 2 == 0 else r * .45) * np.cos(-np.pi / 2 + k * np.pi / 5),
                    c + (r if k % 2 == 0 else r * .45) * np.sin(-np.pi / 2 + k * np.pi / 5))
                   for k in range(10)]
        shape = '<polygon points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"'
    else:
        shape = f'<circle cx="{c}" cy="{c}" r="{r:.1f}"'
    return (f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}">{shape} '
            f'fill="{html.escape(color)}" fill-opacity="{opacity}" stroke="{html.escape(stroke)}" '
            'stroke-width="1"/></svg>')


def _outline(pen: str, width: float) -> str:
    return (f'<svg width="14" height="10"><rect x="1" y="1" width="12" height="8" fill="none" '
            f'stroke="{html.escape(pen)}" stroke-width="{width}"/></svg>')


def _item(swatch: str, label: str) -> str:
    return f'<span class="ck-item">{swatch}<span>{html.escape(label)}</span></span>'


def _items(entries: list[str], note: str | None = None) -> str:
    head = f'<div class="ck-note">{html.escape(note)}</div>' if note else ""
    return f'{head}<div class="ck-items">{"".join(entries)}</div>'


def legend_html(lang: str, incident_mode: str | None, heat_gradient: dict[str, str] | None,
                resource_kinds: list[str], has_hazards: bool) -> str:
    """The legend panel; every word is escaped (they come from the catalogue, but still)."""
    parts = ['<div class="ck-legend" id="ck-legend">',
             f"<h2>{html.escape(tr('map_situation', lang))}</h2>"]
    if incident_mode == "heat" and heat_gradient:
        stops = ", ".join(f"{html.escape(c)} {float(t) * 100:.0f}%"
                          for t, c in heat_gradient.items())
        ramp = (f'<span>{html.escape(text("few", lang))}</span><span class="ck-ramp" '
                f'style="background: linear-gradient(to right, {stops})"></span>'
                f'<span>{html.escape(text("many", lang))}</span>')
        parts.append(f'<div class="ck-note">{html.escape(text("heat", lang))}</div>'
                     f'<div class="ck-items">{ramp}</div>')
    elif incident_mode == "cluster":
        parts.append(_items([_item(symbol_svg("o", hex_color(color)),
                                   code_label("incident_category", cat, lang))
                             for cat, color in styles.INCIDENT_COLORS.items()],
                            text("cluster", lang)))
    else:
        parts.append(_items([], text("no_incidents", lang)))
    if resource_kinds:
        parts.append(f"<h2>{html.escape(tr('map_resources', lang))}</h2>")
        entries = []
        for kind in resource_kinds:
            color, symbol = styles.RESOURCE_STYLE.get(kind, styles.RESOURCE_STYLE["other"])
            entries.append(_item(symbol_svg(symbol, hex_color(color)),
                                 code_label("resource_kind", kind, lang)))
        entries.append(_item(symbol_svg("o", "#9e9e9e", opacity=styles.UNAVAILABLE_ALPHA / 255,
                                         stroke="#808080"), text("unavailable", lang)))
        parts.append(_items(entries))
    if has_hazards:
        parts.append(f"<h2>{html.escape(tr('map_hazards', lang))}</h2>")
        parts.append(_items([_item(symbol_svg("o", hex_color(color)),
                                   code_label("hazard_state", st, lang))
                             for st, color in styles.HAZARD_STATE_COLORS.items()]
                            + [_item(symbol_svg("o", "#000000", opacity=0, stroke="#ff1744"),
                                     text("overdue", lang))], text("state", lang)))
        parts.append(_items([_item(symbol_svg("o", "#c8c8c8",
                                               size=round(styles.RISK_SIZES[r]) + 2),
                                   code_label("risk_level", r, lang))
                             for r in reversed(RISK_ORDER)], text("risk", lang)))
        parts.append(_items([_item(symbol_svg(sym, "#c8c8c8"),
                                   code_label("hazard_category", cat, lang))
                             for cat, sym in styles.HAZARD_SYMBOLS.items() if cat != "other"],
                            text("category", lang)))
    parts.append(f"<h2>{html.escape(text('areas', lang))}</h2>")
    parts.append(_items([_item(_outline(pen, width), code_label("area_level", level, lang))
                         for level, (pen, width) in AREA_PENS.items()]))
    parts.append("</div>")
    return "".join(parts)


def title_html(region: str, classification: str | None, start: date | None, end: date,
               as_of: date, lang: str, masked: bool) -> str:
    period = text("period", lang, start=start.isoformat() if start else "…",
                end=end.isoformat())
    maps = " · ".join(tr(k, lang) for k in ("map_situation", "map_resources", "map_hazards"))
    mark = classification
    sub = f"{period} · {text('as_of', lang, day=as_of.isoformat())} · " \
          f"{text('masked' if masked else 'unmasked', lang)}"
    return ('<div class="ck-title" id="ck-title">'
            f"<h1>{html.escape(text('title', lang, region=region))}"
            + (f'<span class="ck-mark">{html.escape(mark)}</span>' if mark else "")
            + ("" if masked else '<span class="ck-mark ck-personal" id="ck-personal">'
               f'{html.escape(tr("personal_mark", lang))}</span>')
            + f'</h1><div class="ck-sub">{html.escape(maps)}</div>'
            f'<div class="ck-sub">{html.escape(sub)}</div></div>')
