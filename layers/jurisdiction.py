"""Whose command centre this is: a county's, a city's or a province's.

The cockpit's words name the jurisdiction ("县级指挥中心", "全县", "未筛选: 全县全部数据").
An extract with several county-level areas is not a county's: it is a city's (a region
named …市/州/盟/地区), a province's (…省/自治区) or, when the name says neither, a
region's; the texts follow (``scoped``). One county area, or none, keeps the county
words, as before.
"""

from __future__ import annotations

from data.areas import AreaSet
from data.extract import Extract

from .i18n import tr

SCOPES = ("county", "city", "province", "region")
SCOPED_KEYS = ("app_title", "no_filter", "reset_view", "pdf_subtitle")
"""Texts that name the jurisdiction: each has ``<key>_<scope>`` variants besides county."""

_PROVINCE_SUFFIXES = ("省", "自治区")
_CITY_SUFFIXES = ("市", "州", "盟", "地区")


def jurisdiction_of(areas: AreaSet, region_name: str) -> str:
    """``county`` for at most one county-level area; else by the region's name."""
    if sum(1 for lv in areas.levels if lv == "county") <= 1:
        return "county"
    name = (region_name or "").strip()
    low = name.lower()
    if name.endswith(_PROVINCE_SUFFIXES) or "province" in low:
        return "province"
    if name.endswith(_CITY_SUFFIXES) or "city" in low or "prefecture" in low:
        return "city"
    return "region"


def jurisdiction(extract: Extract | None) -> str:
    if extract is None:
        return "county"
    return extract.memo("jurisdiction",
                        lambda: jurisdiction_of(extract.areas, extract.region_name))


def scoped(key: str, extract: Extract | None, lang: str | None = None) -> str:
    """``tr(key)`` in the words of ``extract``'s jurisdiction (``SCOPED_KEYS``)."""
    scope = jurisdiction(extract)
    return tr(key if scope == "county" else f"{key}_{scope}", lang)
