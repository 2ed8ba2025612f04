"""The words around area Gi* (``data.analysis.hotspots.area_hotspots``): the title that
names the level it ran at, and the sentence said in place of an empty table."""

from __future__ import annotations

from .i18n import code_label, language, tr


def hotspot_reason(hs: dict, lang: str | None = None) -> str:
    """Why the area Gi* table has no rows, in a sentence (``area_hotspots(...).to_json()``)."""
    if hs.get("level") is None:
        if hs.get("reason") == "no_polygons":
            return tr("hotspots_no_polygons", lang)
        levels = "，".join if (lang or language()) == "zh" else ", ".join
        return tr("hotspots_too_few", lang, min=hs.get("min_areas", ""), levels=levels(
            tr("level_count", lang, level=code_label("area_level", lv, lang), n=n)
            for lv, n in hs.get("candidates", {}).items()))
    label = code_label("area_level", hs["level"], lang)
    if (lang or language()) == "en":
        label = label.lower()  # "No significant hot town", mid-sentence
    return tr("hotspots_none_hot", lang, level=label, n=hs.get("min_hot_count", ""))


def hotspot_title(hs: dict, lang: str | None = None) -> str:
    """热点村(社区) / 热点乡镇 / 热点网格 …: the level Gi* ran at."""
    return tr(f"table_hotspots_{hs.get('level') or 'none'}", lang)
