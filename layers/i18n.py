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
    # cockpit: header, KPI tiles, panels
    "app_title": ("县级指挥中心驾驶舱", "County command centre"),
    "as_of": ("截至 {day}", "As of {day}"),
    "extracted": ("数据提取 {time}", "Extracted {time}"),
    "fresh_minutes": ("{n} 分钟前", "{n} min ago"),
    "fresh_hours": ("{n} 小时前", "{n} h ago"),
    "fresh_days": ("{n} 天前", "{n} days ago"),
    "window_all": ("全部时段", "All dates"),
    "window": ("{start} 至 {end}", "{start} to {end}"),
    "yoy": ("同比", "vs last year"),
    "kpi_today": ("今日警情", "Incidents today"),
    "kpi_week": ("本周警情", "This week"),
    "kpi_month": ("本月警情", "This month"),
    "kpi_last_year": ("去年同期 {n}", "Last year {n}"),
    "kpi_open_hazards": ("在办隐患", "Open hazards"),
    "kpi_open_detail": ("重大 {major} · 待整改 {open}", "Major {major} · not started {open}"),
    "kpi_overdue": ("超期整改", "Overdue"),
    "kpi_overdue_detail": ("最久超期 {days} 天", "Longest {days} days"),
    "kpi_major_rate": ("重大隐患整改率", "Major hazards fixed"),
    "kpi_rate_detail": ("{done} / {total}", "{done} of {total}"),
    "kpi_mediation": ("矛盾化解成功率", "Mediation success"),
    "kpi_mediation_detail": ("化解在基层 {share}", "Solved in village {share}"),
    "kpi_forces": ("可用力量", "Available forces"),
    "kpi_forces_detail": ("共 {total}", "of {total}"),
    "chart_categories": ("警情类别", "Incidents by category"),
    "chart_hours": ("警情时段分布", "Incidents by hour"),
    "chart_weekdays": ("警情星期分布", "Incidents by weekday"),
    "chart_timeline": ("每日警情 (拖动选择时段)", "Incidents per day (drag to pick dates)"),
    "chart_rect_funnel": ("隐患整改进度", "Hazard rectification"),
    "chart_med_funnel": ("矛盾纠纷逐级化解", "Dispute mediation by level"),
    "chart_med_trend": ("矛盾纠纷月度趋势", "Disputes per month"),
    "series_incidents": ("警情", "Incidents"),
    "series_received": ("受理", "Received"),
    "series_resolved": ("化解", "Resolved"),
    "table_hotspots": ("热点村(社区) Gi*", "Hotspot villages (Gi*)"),
    "table_overdue": ("超期隐患 (按超期天数)", "Overdue hazards (most overdue first)"),
    "table_repeats": ("重复警情地址", "Repeat addresses"),
    "col_area": ("村(社区)", "Village"),
    "col_town": ("乡镇", "Town"),
    "col_count": ("警情", "Incidents"),
    "col_z": ("Z 值", "z"),
    "col_confidence": ("置信度", "Confidence"),
    "col_hazard": ("隐患", "Hazard"),
    "col_unit": ("责任单位", "Responsible unit"),
    "col_days_overdue": ("超期天数", "Days overdue"),
    "col_risk": ("风险", "Risk"),
    "col_address": ("地址", "Address"),
    "col_last": ("最近", "Last"),
    "stage_hazards": ("排查隐患", "Hazards found"),
    "stage_rectified": ("已整改", "Rectified"),
    "stage_verified": ("回头看销号", "Verified on re-inspection"),
    "stage_note_overdue": ("超期 {n}", "{n} overdue"),
    "stage_note_reopen": ("回头看未通过 {n}", "{n} reopened"),
    "stage_village": ("村级受理", "Village"),
    "stage_town": ("乡镇级", "Town"),
    "stage_county": ("县级", "County"),
    "stage_note_resolved": ("化解 {n}", "{n} resolved"),
    "weekday_0": ("一", "Mon"), "weekday_1": ("二", "Tue"), "weekday_2": ("三", "Wed"),
    "weekday_3": ("四", "Thu"), "weekday_4": ("五", "Fri"), "weekday_5": ("六", "Sat"),
    "weekday_6": ("日", "Sun"),
    "details_incident": ("警情 {id}", "Incident {id}"),
    "details_hazard": ("隐患 {id}", "Hazard {id}"),
    "details_resource": ("力量 {id}", "Resource {id}"),
    "details_point": ("地图点 {lon:.5f}, {lat:.5f}", "Point {lon:.5f}, {lat:.5f}"),
    "f_time": ("时间", "Time"), "f_category": ("类别", "Category"), "f_status": ("状态", "Status"),
    "f_address": ("地址", "Address"), "f_area": ("区域", "Area"), "f_name": ("名称", "Name"),
    "f_risk": ("风险等级", "Risk level"), "f_state": ("整改状态", "State"),
    "f_deadline": ("整改期限", "Deadline"), "f_unit": ("责任单位", "Responsible unit"),
    "f_discovered": ("发现时间", "Found"), "f_kind": ("类型", "Kind"),
    "f_phone": ("电话", "Phone"), "f_available": ("可调度", "Available"),
    "f_headcount": ("人数", "Headcount"), "f_overdue": ("超期", "Overdue"),
    "yes": ("是", "yes"), "no": ("否", "no"),
    "dispatch_title": ("一键调度: 最近可用力量", "Dispatch: nearest available forces"),
    "dispatch_none": ("附近没有可用力量", "No available force found"),
    "col_kind": ("类型", "Kind"), "col_name": ("名称", "Name"),
    "col_distance": ("距离", "Distance"), "col_phone": ("电话", "Phone"),
    "dispatch_text": ("{origin} 最近可用力量:", "Nearest available forces to {origin}:"),
    "layer_dispatch": ("调度连线", "Dispatch lines"),
    "clear_all": ("清除全部", "Clear all"),
    "no_filter": ("未筛选: 全县全部数据", "No filter: the whole county"),
    "areas_tree": ("区域", "Areas"),
    "group_situation": ("态势", "Situation"),
    "group_resources": ("资源", "Resources"),
    "group_hazards": ("隐患", "Hazards"),
    "toggle_hotspots": ("热点", "Hotspots"),
    "toggle_repeats": ("重复地址", "Repeats"),
    "toggle_choropleth": ("分级设色", "Choropleth"),
    "choropleth_count": ("按数量", "By count"),
    "choropleth_rate": ("按万人率", "Per 10k"),
    "reset_view": ("全县", "Whole county"),
    "copy": ("复制", "Copy"),
    "close": ("关闭", "Close"),
    "back": ("后退", "Back"),
    "menu_file": ("文件", "File"), "menu_open": ("打开数据...", "Open extract..."),
    "menu_view": ("视图", "View"), "menu_language": ("语言", "Language"),
    "menu_theme_dark": ("深色 (大屏)", "Dark (wall)"),
    "menu_theme_light": ("浅色 (桌面)", "Light (desk)"),
    "menu_quit": ("退出", "Quit"),
    "menu_load_report": ("数据质量报告", "Load report"),
    "opening": ("正在打开 {name} ...", "Opening {name} ..."),
    "open_failed": ("无法打开数据文件", "Cannot open the extract"),
    "open_failed_detail": ("{path}\n\n{reason}\n\n当前数据保持不变。",
                           "{path}\n\n{reason}\n\nThe data already open stays open."),
    "load_report_title": ("数据质量报告: {name}", "Load report: {name}"),
    "panel_error": ("此面板出错: {error}", "This panel failed: {error}"),
    "working": ("计算中...", "Working..."),
    "no_cjk_font": ("未找到中文字体 (请安装 fonts-noto-cjk)，中文可能无法显示。",
                    "No CJK font found (install fonts-noto-cjk); Chinese text may not show."),
    "quarantined_note": ("已剔除 {n} 行问题数据", "{n} bad rows set aside"),
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
