"""The one catalogue of user-visible words: code labels and interface text, zh_CN and en.

Qt-free so that the window, the exporters and the command line share it.
Simplified Chinese is the default language. Interface strings are added to
``TEXT`` by key; a key missing from a language falls back to the other one and
then to the key itself, so a gap shows as a readable key, never as a crash.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("zh", "en")
_current = "zh"


def set_language(lang: str) -> None:
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language: {lang}")
    _current = lang


def language() -> str:
    return _current


# (group, code) → (zh, en)
CODES: dict[tuple[str, str], tuple[str, str]] = {
    ("incident_category", "criminal"): ("刑事", "Criminal"),
    ("incident_category", "public_order"): ("治安", "Public order"),
    ("incident_category", "dispute"): ("纠纷", "Dispute"),
    ("incident_category", "traffic"): ("交通", "Traffic"),
    ("incident_category", "fire"): ("火灾", "Fire"),
    ("incident_category", "assistance"): ("求助", "Assistance"),
    ("incident_category", "fraud"): ("诈骗", "Fraud"),
    ("incident_category", "other"): ("其他", "Other"),
    ("incident_status", "open"): ("待处置", "Open"),
    ("incident_status", "dispatched"): ("已派警", "Dispatched"),
    ("incident_status", "closed"): ("已办结", "Closed"),
    ("incident_status", "other"): ("其他", "Other"),
    ("resource_kind", "police_station"): ("派出所", "Police station"),
    ("resource_kind", "patrol_unit"): ("巡逻组", "Patrol unit"),
    ("resource_kind", "officer"): ("民警", "Officer"),
    ("resource_kind", "auxiliary"): ("辅警", "Auxiliary"),
    ("resource_kind", "mass_prevention"): ("群防群治", "Community force"),
    ("resource_kind", "social_org"): ("社会组织", "Social organisation"),
    ("resource_kind", "mediator"): ("调解员", "Mediator"),
    ("resource_kind", "equipment"): ("装备", "Equipment"),
    ("resource_kind", "other"): ("其他", "Other"),
    ("hazard_category", "key_place"): ("重点场所", "Key place"),
    ("hazard_category", "crime_hotspot"): ("治安乱点", "Crime hotspot"),
    ("hazard_category", "drowning"): ("防溺水", "Drowning spot"),
    ("hazard_category", "road"): ("道路隐患", "Road hazard"),
    ("hazard_category", "fire"): ("消防隐患", "Fire hazard"),
    ("hazard_category", "public_order"): ("治安隐患", "Public order"),
    ("hazard_category", "other"): ("其他", "Other"),
    ("risk_level", "major"): ("重大", "Major"),
    ("risk_level", "high"): ("较大", "High"),
    ("risk_level", "medium"): ("一般", "Medium"),
    ("risk_level", "low"): ("较低", "Low"),
    ("hazard_state", "open"): ("待整改", "Open"),
    ("hazard_state", "rectifying"): ("整改中", "Rectifying"),
    ("hazard_state", "rectified"): ("已整改", "Rectified"),
    ("hazard_state", "verified"): ("已销号", "Verified"),
    ("rectification_action", "assigned"): ("交办", "Assigned"),
    ("rectification_action", "rectified"): ("整改", "Rectified"),
    ("rectification_action", "reinspected"): ("回头看通过", "Re-inspected"),
    ("rectification_action", "reopened"): ("回头看未通过", "Reopened"),
    ("dispute_category", "family"): ("婚姻家庭", "Family"),
    ("dispute_category", "neighbor"): ("邻里", "Neighbour"),
    ("dispute_category", "land"): ("土地山林", "Land"),
    ("dispute_category", "labor"): ("劳动争议", "Labour"),
    ("dispute_category", "debt"): ("债务", "Debt"),
    ("dispute_category", "property"): ("物业", "Property"),
    ("dispute_category", "contract"): ("合同", "Contract"),
    ("dispute_category", "other"): ("其他", "Other"),
    ("dispute_level", "village"): ("村级", "Village"),
    ("dispute_level", "town"): ("乡镇级", "Town"),
    ("dispute_level", "county"): ("县级", "County"),
    ("dispute_level", "other"): ("其他", "Other"),
    ("mediator_kind", "people_mediator"): ("人民调解员", "People's mediator"),
    ("mediator_kind", "village_sage"): ("乡贤评理员", "Village sage"),
    ("mediator_kind", "legal_aide"): ("法律明白人", "Legal aide"),
    ("mediator_kind", "police"): ("民警", "Police"),
    ("mediator_kind", "grid_worker"): ("网格员", "Grid worker"),
    ("mediator_kind", "lawyer"): ("律师", "Lawyer"),
    ("mediator_kind", "other"): ("其他", "Other"),
    ("dispute_status", "pending"): ("待受理", "Pending"),
    ("dispute_status", "mediating"): ("调解中", "Mediating"),
    ("dispute_status", "resolved"): ("调解成功", "Resolved"),
    ("dispute_status", "failed"): ("调解不成", "Failed"),
    ("dispute_status", "referred"): ("移交", "Referred"),
    ("dispute_status", "other"): ("其他", "Other"),
    ("area_level", "county"): ("县", "County"),
    ("area_level", "town"): ("乡镇", "Town"),
    ("area_level", "village"): ("村(社区)", "Village"),
    ("area_level", "grid"): ("网格", "Grid"),
    ("hotspot_class", "new"): ("新增热点", "New"),
    ("hotspot_class", "intensifying"): ("加剧热点", "Intensifying"),
    ("hotspot_class", "persistent"): ("持续热点", "Persistent"),
    ("hotspot_class", "diminishing"): ("减弱热点", "Diminishing"),
    ("hotspot_class", "sporadic"): ("零星热点", "Sporadic"),
    ("hotspot_class", "none"): ("无", "None"),
    ("safety_grade", "excellent"): ("优", "Excellent"),
    ("safety_grade", "good"): ("良", "Good"),
    ("safety_grade", "fair"): ("中", "Fair"),
    ("safety_grade", "poor"): ("差", "Poor"),
    ("safety_component", "incident_rate"): ("万人警情数", "Incidents per 10k"),
    ("safety_component", "open_major_hazards"): ("未整改重大隐患", "Open major hazards"),
    ("safety_component", "overdue_rectifications"): ("超期整改", "Overdue rectifications"),
    ("safety_component", "unresolved_disputes"): ("未化解纠纷", "Unresolved disputes"),
}

# key → (zh, en). Interface text; ``{name}`` placeholders are filled by ``tr``.
TEXT: dict[str, tuple[str, str]] = {
    "other": ("其他", "Other"),
    "unlocated": ("未定位", "Unlocated"),
    "no_data": ("无数据", "No data"),
    "layer_incidents": ("警情", "Incidents"),
    "layer_density": ("警情密度", "Incident density"),
    "legend_density_low": ("少", "Few"),
    "legend_density_high": ("多", "Many"),
    "layer_hotspots": ("热点区域 (Gi*)", "Hotspots (Gi*)"),
    "legend_hot_3": ("热点 99%", "Hot 99%"),
    "legend_hot_2": ("热点 95%", "Hot 95%"),
    "legend_hot_1": ("热点 90%", "Hot 90%"),
    "legend_hot_-3": ("冷点 99%", "Cold 99%"),
    "layer_repeats": ("重复警情地址", "Repeat addresses"),
    "layer_resources": ("可用资源", "Resources"),
    "layer_hazards": ("风险隐患", "Hazards"),
    "layer_choropleth": ("分级设色", "Choropleth"),
    "map_situation": ("态势感知图", "Situation"),
    "map_resources": ("可用资源图", "Resources"),
    "map_hazards": ("风险隐患图", "Hazards"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    zh, en = pair
    return (zh or en) if lang == "zh" else (en or zh)


def code_label(group: str, code: str | None, lang: str | None = None) -> str:
    """The display name of a code; unknown codes show as themselves."""
    if code is None:
        return _pick(TEXT["unlocated"], lang or _current) if group == "area" else ""
    pair = CODES.get((group, code))
    return _pick(pair, lang or _current) if pair else str(code)


def tr(key: str, lang: str | None = None, **values: Any) -> str:
    pair = TEXT.get(key)
    text = _pick(pair, lang or _current) if pair else key
    return text.format(**values) if values else text
