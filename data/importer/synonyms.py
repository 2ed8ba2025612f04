"""Words stations use for the schema's columns and codes (Chinese and English).

``HEADERS[table][target]`` lists header spellings, most specific first; a target is
a schema column, or a part of one: ``<time column>.date`` / ``.time`` (date and time
in two columns) and ``.year`` ... ``.minute`` (in five). ``area_id`` takes area
codes and area names alike (the importer looks both up).

``VALUES[group][code]`` lists value spellings of each code; the display labels of
``layers/i18n.py`` (zh and en) and the column labels of our own exports are among
them (tests/test_import_propose.py holds the two catalogues to this one: ``data``
may not import ``layers``). ``KEYWORDS[group]`` are fragments for values that match
no spelling exactly (``冒充客服诈骗`` → ``fraud``), tried in order.
"""

from __future__ import annotations

import re
import unicodedata

# --------------------------------------------------------------------------- headers

_ID = ("编号", "序号编码", "id", "编码", "代码")
_LON = ("经度", "经度坐标", "gps经度", "坐标经度", "lon", "lng", "long", "longitude", "x坐标",
        "坐标x", "横坐标", "东坐标", "x", "点位x", "gps_x", "gpsx", "lon84", "经度84", "jd",
        "easting", "e")
_LAT = ("纬度", "纬度坐标", "gps纬度", "坐标纬度", "lat", "latitude", "y坐标", "坐标y", "纵坐标",
        "北坐标", "y", "点位y", "gps_y", "gpsy", "lat84", "纬度84", "wd", "northing", "n")
_ADDRESS = ("发案地址", "事发地址", "案发地址", "报警地址", "发生地址", "发案地点", "事发地点",
            "案发地点", "发生地点", "详细地址", "地址", "地点", "位置", "所在地址", "具体地址",
            "address", "location", "hundred_block", "hundredblock", "block")
_AREA = ("所属社区", "所属村", "所属村社区", "村社区", "所属网格", "网格名称", "所属村居", "村居",
         "社区", "村", "所属区域", "区域", "区域编号", "区域编码", "区域名称", "辖区", "所属辖区",
         "所属派出所", "管辖单位", "管辖派出所", "所属乡镇", "乡镇", "所属街道", "街道",
         "行政区划", "区划代码", "行政区划代码", "area_id", "area", "areaid", "neighbourhood",
         "neighborhood", "district", "所在区域", "发生区域", "发案区域", "责任区", "village",
         "town", "community")


def _time(*names: str) -> tuple[str, ...]:
    return names


HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "areas": {
        "area_id": ("区域编号", "区域编码", "区划代码", "行政区划代码", "村编码", "社区编码",
                    "网格编码", "网格编号", "村居编码", "areaid", "area_id", "code", "id", "编号",
                    "编码", "代码", "villageid", "townid", "mapid", "objectid"),
        "name": ("区域名称", "名称", "村名", "村名称", "社区名称", "村社区", "网格名称", "乡镇名称",
                 "区划名称", "地名", "name", "area", "area_name", "村居名称", "行政区名称",
                 "villagenam", "townname", "村(社区)", "区域"),
        "level": ("级别", "层级", "区域级别", "区域层级", "类型", "区域类型", "等级", "level",
                  "type"),
        "parent_id": ("上级编号", "上级编码", "上级代码", "上级区划代码", "父级编码", "父级编号",
                      "所属乡镇编码", "上级区域", "上级区域编码", "parent_id", "parentid",
                      "parent", "上级"),
        "population": ("人口", "户籍人口", "常住人口", "人口数", "总人口", "人口数量",
                       "population", "pop"),
    },
    "incidents": {
        "incident_id": ("警情编号", "接警单编号", "接警编号", "警情号", "警情id", "报警编号",
                        "案件编号", "接处警编号", "警情单号", "事件编号", "incident_id",
                        "incidentid", "incident", "recordid", "编号"),
        "reported_at": _time("报警时间", "接警时间", "发案时间", "案发时间", "报案时间", "接报时间",
                             "警情时间", "来电时间", "呼入时间", "发生时间", "事发时间", "立案时间",
                             "reported_at", "reportedat", "datereported", "date_reported",
                             "reportdate", "time", "datetime", "时间"),
        "reported_at.date": ("发案日期", "报警日期", "接警日期", "案发日期", "发生日期", "日期",
                             "date", "occurred_date"),
        "reported_at.time": ("发案时段", "发生时段", "案发时段", "报警时段", "时段", "时间段",
                             "发案时刻", "报警时刻", "发生时刻", "hourreported", "hour_reported",
                             "时刻"),
        "reported_at.year": ("年", "年份", "year"),
        "reported_at.month": ("月", "月份", "month"),
        "reported_at.day": ("日", "day"),
        "reported_at.hour": ("时", "小时", "hour"),
        "reported_at.minute": ("分", "分钟", "minute"),
        "category": ("警情类别", "警情类型", "警情性质", "案件类别", "案件类型", "警情分类",
                     "报警类别", "警情大类", "一级分类", "案类", "类别", "类型", "category", "type",
                     "offense", "offence", "crime_type", "crimetype"),
        "subcategory": ("警情细类", "警情小类", "警情子类", "二级分类", "细类", "小类", "子类",
                        "案由", "具体类别", "警情细分", "subcategory", "sub_category"),
        "lon": _LON,
        "lat": _LAT,
        "address": _ADDRESS,
        "area_id": _AREA,
        "status": ("处置状态", "警情状态", "办理状态", "处理状态", "办结状态", "处警状态",
                   "当前状态", "状态", "status"),
        "closed_at": ("办结时间", "结案时间", "处置完成时间", "处结时间", "完成时间", "反馈时间",
                      "结束时间", "closed_at", "closedat"),
    },
    "resources": {
        "resource_id": ("资源编号", "力量编号", "人员编号", "装备编号", "单位编码", "队伍编号",
                        "resource_id", "resourceid", "编号", "id"),
        "kind": ("资源类型", "力量类型", "资源类别", "力量类别", "队伍类型", "类型", "类别", "kind",
                 "type"),
        "name": ("资源名称", "力量名称", "单位名称", "队伍名称", "人员姓名", "姓名", "名称",
                 "name"),
        "lon": _LON,
        "lat": _LAT,
        "area_id": _AREA,
        "headcount": ("人数", "人员数量", "警力数", "在岗人数", "人员数", "数量", "headcount"),
        "phone": ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "值班电话", "phone",
                  "tel", "telephone", "mobile"),
        "available": ("可调度", "是否可调度", "是否可用", "可用", "在岗状态", "是否在岗", "状态",
                      "available", "availability"),
        "updated_at": ("更新时间", "最后更新时间", "定位时间", "上报时间", "updated_at",
                       "updatedat"),
    },
    "hazards": {
        "hazard_id": ("隐患编号", "隐患id", "台账编号", "隐患点编号", "hazard_id", "hazardid",
                      "编号", "id"),
        "category": ("隐患类别", "隐患类型", "隐患分类", "风险类别", "类别", "类型", "category"),
        "name": ("隐患名称", "隐患点名称", "场所名称", "点位名称", "隐患点", "名称", "name",
                 "hazard", "hazard_name"),
        "lon": _LON,
        "lat": _LAT,
        "area_id": _AREA,
        "risk_level": ("风险等级", "隐患等级", "风险级别", "隐患级别", "等级", "级别",
                       "风险", "risk_level", "risklevel", "risk"),
        "discovered_at": ("发现时间", "排查时间", "登记时间", "发现日期", "排查日期", "录入时间",
                          "上报时间", "discovered_at", "discoveredat", "时间"),
        "responsible_unit": ("责任单位", "整改单位", "责任部门", "主管单位", "整改责任单位",
                             "responsible_unit", "unit"),
        "deadline": ("整改期限", "整改时限", "限期", "整改截止日期", "整改截止时间", "截止日期",
                     "期限", "deadline", "due"),
    },
    "rectifications": {
        "event_id": ("记录编号", "整改记录编号", "整改编号", "事件编号", "流水号", "event_id",
                     "eventid", "编号", "id"),
        "hazard_id": ("隐患编号", "隐患id", "台账编号", "hazard_id", "hazardid"),
        "event_at": ("整改时间", "办理时间", "操作时间", "记录时间", "处理时间", "event_at",
                     "eventat", "时间", "日期"),
        "action": ("整改动作", "办理环节", "整改环节", "环节", "动作", "操作", "事项", "action",
                   "类型"),
        "actor": ("办理人", "经办人", "操作人", "记录人", "责任人", "actor"),
        "note": ("备注", "说明", "情况说明", "整改情况", "内容", "note", "notes"),
    },
    "disputes": {
        "dispute_id": ("纠纷编号", "矛盾纠纷编号", "登记编号", "案件编号", "dispute_id",
                       "disputeid", "编号", "id"),
        "received_at": ("受理时间", "登记时间", "收案时间", "接报时间", "排查时间", "受理日期",
                        "发生时间", "received_at", "receivedat", "时间"),
        "category": ("纠纷类别", "纠纷类型", "矛盾类型", "矛盾纠纷类型", "纠纷分类", "类别", "类型",
                     "category"),
        "lon": _LON,
        "lat": _LAT,
        "area_id": _AREA,
        "level": ("当前层级", "所在层级", "调处层级", "受理层级", "调解层级", "化解层级", "层级",
                  "级别", "level"),
        "mediator_kind": ("调解力量", "调解员类型", "调解主体", "调解人类型", "化解力量",
                          "调解人员类别", "调解力量类型", "mediator_kind", "mediatorkind",
                          "mediator"),
        "status": ("调解状态", "化解状态", "办理状态", "调处结果", "调解结果", "状态", "status"),
        "resolved_at": ("化解时间", "办结时间", "结案时间", "调结时间", "完成时间", "resolved_at",
                        "resolvedat"),
        "source_incident_id": ("来源警情编号", "关联警情编号", "警情编号", "接警单编号",
                               "source_incident_id", "sourceincidentid"),
    },
    "dispute_steps": {
        "dispute_id": ("纠纷编号", "矛盾纠纷编号", "dispute_id", "disputeid", "编号"),
        "step_at": ("流转时间", "办理时间", "操作时间", "step_at", "stepat", "时间"),
        "level": ("流转层级", "层级", "级别", "level"),
        "action": ("流转动作", "办理环节", "环节", "动作", "操作", "action"),
    },
}

# --------------------------------------------------------------------------- values

VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "incident_category": {
        "criminal": ("刑事", "刑事案件", "刑事警情", "刑案", "刑事类", "Criminal", "crime"),
        "public_order": ("治安", "治安案件", "治安警情", "治安类", "治安事件", "Public order",
                         "publicorder"),
        "dispute": ("纠纷", "纠纷类", "纠纷警情", "民事纠纷", "矛盾纠纷", "Dispute"),
        "traffic": ("交通", "交通事故", "交通警情", "交通类", "道路交通", "交通事件", "Traffic"),
        "fire": ("火灾", "消防", "火警", "火灾警情", "消防类", "Fire"),
        "assistance": ("求助", "群众求助", "求助类", "求助警情", "救助", "Assistance", "help"),
        "fraud": ("诈骗", "电信诈骗", "电信网络诈骗", "网络诈骗", "电诈", "诈骗类", "Fraud",
                  "scam"),
        "other": ("其他", "其它", "其他警情", "Other"),
    },
    "incident_status": {
        "open": ("待处置", "未处置", "待派警", "待处理", "未处理", "已接警", "接警", "未派警",
                 "新建", "Open", "new"),
        "dispatched": ("已派警", "处置中", "派警", "已出警", "出警", "处理中", "在办", "已到场",
                       "到达现场", "Dispatched", "in progress"),
        "closed": ("已办结", "已结案", "办结", "结案", "已处置", "处置完毕", "已完成", "完成",
                   "已反馈", "已处理", "已归档", "归档", "Closed", "done", "finished"),
        "other": ("其他", "Other"),
    },
    "resource_kind": {
        "police_station": ("派出所", "公安派出所", "警务站", "警务室", "Police station",
                           "station"),
        "patrol_unit": ("巡逻组", "巡逻队", "巡逻车", "巡逻警力", "巡组", "快反", "快反队",
                        "巡特警", "特警", "Patrol unit", "patrol"),
        "officer": ("民警", "警察", "社区民警", "警员", "Officer", "police officer"),
        "auxiliary": ("辅警", "协警", "警务辅助人员", "Auxiliary"),
        "mass_prevention": ("群防群治", "群防群治力量", "治安志愿者", "平安志愿者", "义务巡逻队",
                            "联防队", "红袖标", "志愿者", "Community force", "volunteer"),
        "social_org": ("社会组织", "社会力量", "保安公司", "保安", "企业保安", "物业保安",
                       "Social organisation", "social organization"),
        "mediator": ("调解员", "人民调解员", "调解组织", "调委会", "Mediator"),
        "equipment": ("装备", "设备", "器材", "物资", "无人机", "警车", "车辆", "Equipment"),
        "other": ("其他", "Other"),
    },
    "hazard_category": {
        "key_place": ("重点场所", "重点部位", "重点单位", "娱乐场所", "Key place"),
        "crime_hotspot": ("治安乱点", "乱点", "犯罪热点", "案件高发区", "Crime hotspot"),
        "drowning": ("防溺水", "溺水", "溺水隐患", "危险水域", "涉水隐患", "Drowning spot",
                     "drowning"),
        "road": ("道路隐患", "交通隐患", "道路交通隐患", "道路交通安全隐患", "道路", "Road hazard",
                 "road"),
        "fire": ("消防隐患", "火灾隐患", "消防安全隐患", "消防", "Fire hazard", "fire"),
        "public_order": ("治安隐患", "治安", "社会治安隐患", "Public order"),
        "other": ("其他", "其他隐患", "Other"),
    },
    "risk_level": {
        "major": ("重大", "重大风险", "重大隐患", "特大", "一级", "Ⅰ级", "i级", "红色", "极高",
                  "Major"),
        "high": ("较大", "较大风险", "较大隐患", "高", "高风险", "较高", "二级", "Ⅱ级", "ii级",
                 "橙色",
                 "High"),
        "medium": ("一般", "一般风险", "一般隐患", "中", "中等", "中风险", "三级", "Ⅲ级", "iii级",
                   "黄色", "Medium"),
        "low": ("较低", "低", "低风险", "轻微", "四级", "Ⅳ级", "iv级", "蓝色", "Low"),
    },
    "rectification_action": {
        "assigned": ("交办", "已交办", "交办整改", "派单", "下发", "督办", "分派", "Assigned"),
        "rectified": ("整改", "已整改", "整改完成", "完成整改", "整改到位", "Rectified"),
        "reinspected": ("回头看通过", "回头看已通过", "复查通过", "复核通过", "验收通过", "销号",
                        "已销号", "Re-inspected", "reinspected"),
        "reopened": ("回头看未通过", "回头看不通过", "复查未通过", "复核不通过", "验收不通过",
                     "重新整改", "退回", "反弹", "Reopened"),
    },
    "dispute_category": {
        "family": ("婚姻家庭", "婚姻家庭纠纷", "家庭纠纷", "婚恋纠纷", "婚姻", "家庭", "赡养",
                   "抚养", "继承", "Family"),
        "neighbor": ("邻里", "邻里纠纷", "相邻关系", "邻里关系", "Neighbour", "neighbor"),
        "land": ("土地山林", "山林土地", "土地纠纷", "山林纠纷", "山林", "土地", "宅基地",
                 "宅基地纠纷", "林地", "土地承包", "Land"),
        "labor": ("劳动争议", "劳资纠纷", "劳资", "劳动纠纷", "欠薪", "拖欠工资", "Labour",
                  "labor"),
        "debt": ("债务", "借贷", "借贷纠纷", "债务纠纷", "民间借贷", "欠款", "Debt"),
        "property": ("物业", "物业纠纷", "物业管理", "Property"),
        "contract": ("合同", "合同纠纷", "经济合同", "买卖合同", "Contract"),
        "other": ("其他", "其它", "其他纠纷", "Other"),
    },
    "dispute_level": {
        "village": ("村级", "村", "社区", "村(社区)", "村居", "村委会", "居委会", "村调委会",
                    "网格",
                    "Village"),
        "town": ("乡镇级", "乡镇", "镇级", "乡级", "街道", "乡", "镇", "镇街", "Town"),
        "county": ("县级", "县", "区级", "县(区)", "县市区", "区", "County"),
        "other": ("其他", "Other"),
    },
    "mediator_kind": {
        "people_mediator": ("人民调解员", "人民调解", "调解员", "专职调解员", "调委会",
                            "People's mediator", "people mediator"),
        "village_sage": ("乡贤评理员", "乡贤", "评理员", "乡贤评理", "Village sage"),
        "legal_aide": ("法律明白人", "法律援助", "法律顾问", "Legal aide"),
        "police": ("民警", "派出所", "公安", "警察", "社区民警", "Police"),
        "grid_worker": ("网格员", "网格", "专职网格员", "Grid worker"),
        "lawyer": ("律师", "律师调解", "Lawyer"),
        "other": ("其他", "Other"),
    },
    "dispute_status": {
        "pending": ("待受理", "待处理", "未受理", "待调解", "已登记", "登记", "Pending"),
        "mediating": ("调解中", "化解中", "正在调解", "办理中", "处理中", "在办", "Mediating"),
        "resolved": ("调解成功", "已化解", "化解成功", "成功", "已调解", "已解决", "达成协议",
                     "Resolved"),
        "failed": ("调解不成", "调解失败", "未化解", "化解失败", "失败", "不成功", "Failed"),
        "referred": ("移交", "已移交", "移送", "转诉讼", "引导诉讼", "转交", "Referred"),
        "other": ("其他", "Other"),
    },
    "step_action": {
        "accepted": ("受理", "接收", "登记", "已受理", "Accepted"),
        "escalated": ("上报", "升级", "提级", "移交上级", "上交", "Escalated"),
        "resolved": ("化解", "调解成功", "已化解", "Resolved"),
        "failed": ("调解不成", "调解失败", "失败", "Failed"),
        "referred": ("移交", "移送", "转诉讼", "移交司法", "Referred"),
    },
    "area_level": {
        "county": ("县", "县级", "区", "县(区)", "市辖区", "县级市", "区县", "County"),
        "town": ("乡镇", "乡", "镇", "街道", "街道办", "乡镇级", "镇级", "乡镇街道", "Town"),
        "village": ("村(社区)", "村", "社区", "居委会", "村委会", "村级", "行政村", "村居",
                    "居民委员会", "村民委员会", "Village"),
        "grid": ("网格", "网格级", "Grid"),
    },
}

# Fragments tried in order when no spelling matches exactly.
KEYWORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "incident_category": (
        ("诈骗", "fraud"), ("fraud", "fraud"), ("scam", "fraud"),
        ("纠纷", "dispute"), ("dispute", "dispute"),
        ("交通", "traffic"), ("车祸", "traffic"), ("事故", "traffic"), ("酒驾", "traffic"),
        ("collision", "traffic"), ("hit and run", "traffic"), ("pedestrian struck", "traffic"),
        ("traffic", "traffic"), ("dui", "traffic"),
        ("火", "fire"), ("消防", "fire"), ("燃气", "fire"), ("arson", "fire"),
        ("求助", "assistance"), ("救助", "assistance"), ("走失", "assistance"),
        ("开锁", "assistance"), ("assist", "assistance"), ("missing", "assistance"),
        ("盗", "criminal"), ("竊", "criminal"), ("窃", "criminal"), ("偷", "criminal"),
        ("抢", "criminal"), ("劫", "criminal"), ("伤害", "criminal"), ("杀", "criminal"),
        ("强奸", "criminal"), ("绑架", "criminal"), ("勒索", "criminal"), ("毁坏", "criminal"),
        ("theft", "criminal"), ("larceny", "criminal"), ("burglar", "criminal"),
        ("break and enter", "criminal"), ("robbery", "criminal"), ("assault", "criminal"),
        ("homicide", "criminal"), ("against a person", "criminal"), ("murder", "criminal"),
        ("shoplift", "criminal"), ("stolen", "criminal"), ("weapon", "criminal"),
        ("赌", "public_order"), ("嫖", "public_order"), ("黄", "public_order"),
        ("斗殴", "public_order"), ("滋事", "public_order"), ("扰民", "public_order"),
        ("扰乱", "public_order"), ("毒", "public_order"), ("治安", "public_order"),
        ("烟花", "public_order"), ("mischief", "public_order"), ("vandal", "public_order"),
        ("disorder", "public_order"), ("drug", "public_order"), ("narcotic", "public_order"),
        ("drunk", "public_order"), ("liquor", "public_order"), ("trespass", "public_order"),
        ("刑事", "criminal"),
    ),
    "dispute_category": (
        ("婚", "family"), ("家庭", "family"), ("赡养", "family"), ("抚养", "family"),
        ("邻", "neighbor"), ("山林", "land"), ("土地", "land"), ("宅基", "land"),
        ("劳", "labor"), ("工资", "labor"), ("借", "debt"), ("债", "debt"), ("欠款", "debt"),
        ("物业", "property"), ("合同", "contract"),
    ),
    "hazard_category": (
        ("溺水", "drowning"), ("水域", "drowning"), ("道路", "road"), ("交通", "road"),
        ("消防", "fire"), ("火", "fire"), ("乱点", "crime_hotspot"), ("治安", "public_order"),
        ("场所", "key_place"), ("重点", "key_place"),
    ),
    "resource_kind": (
        ("派出所", "police_station"), ("巡", "patrol_unit"), ("辅警", "auxiliary"),
        ("民警", "officer"), ("群防", "mass_prevention"), ("志愿", "mass_prevention"),
        ("调解", "mediator"), ("保安", "social_org"), ("社会", "social_org"),
        ("装备", "equipment"), ("车", "equipment"),
    ),
    "dispute_status": (
        ("成功", "resolved"), ("化解", "resolved"), ("不成", "failed"), ("失败", "failed"),
        ("移", "referred"), ("诉讼", "referred"), ("中", "mediating"), ("待", "pending"),
    ),
    "incident_status": (
        ("结", "closed"), ("完", "closed"), ("派", "dispatched"), ("中", "dispatched"),
        ("待", "open"), ("未", "open"),
    ),
    "area_level": (
        ("网格", "grid"), ("居委会", "village"), ("村委会", "village"), ("社区", "village"),
        ("村", "village"),
        ("街道", "town"), ("镇", "town"), ("乡", "town"), ("县", "county"), ("区", "county"),
    ),
}

# Schema code column → its value group.
CODE_GROUPS: dict[tuple[str, str], str] = {
    ("areas", "level"): "area_level",
    ("incidents", "category"): "incident_category",
    ("incidents", "status"): "incident_status",
    ("resources", "kind"): "resource_kind",
    ("hazards", "category"): "hazard_category",
    ("hazards", "risk_level"): "risk_level",
    ("rectifications", "action"): "rectification_action",
    ("disputes", "category"): "dispute_category",
    ("disputes", "level"): "dispute_level",
    ("disputes", "mediator_kind"): "mediator_kind",
    ("disputes", "status"): "dispute_status",
    ("dispute_steps", "level"): "dispute_level",
    ("dispute_steps", "action"): "step_action",
}

# --------------------------------------------------------------------------- normalising

# Traditional → simplified for the characters that occur in headers and admin names
# (a full converter is not needed: only our own synonyms are compared).
_TRAD_PAIRS = (
    "編编 號号 發发 時时 間间 類类 別别 點点 區区 縣县 鄉乡 鎮镇 報报 處处 單单 稱称 狀状 態态 "
    "級级 長长 調调 紛纷 糾纠 員员 險险 隱隐 複复 檢检 場场 經经 緯纬 標标 資资 數数 話话 電电 "
    "門门 戶户 屬属 轄辖 達达 備备 註注 記记 錄录 帳帐 碼码 機机 車车 竊窃 臺台 灣湾 裡里 內内 "
    "華华 東东 來来 過过 這这 們们 為为 與与 開开 關关 對对 應应 當当 實实 業业 務务 產产 證证 "
    "據据 統统 計计 劃划 歲岁 齡龄 聯联 絡络 網网 違违 規规 現现 況况 轉转 運运 輸输 傷伤 亡亡 "
    "損损 壞坏 詐诈 騙骗 賭赌 債债 勞劳 動动 爭争 議议 請请 鄰邻 寶宝 貝贝 結结 辦办 義义 區区 "
    "衛卫 護护 隊队 組组 巡巡 邏逻 輛辆 備备 災灾 齊齐 頭头 傳传 書书 費费 貨货 購购 賣卖 買买 "
    "鐘钟 鐵铁 銀银 錢钱 劃划 圖图 園园 圍围 國国 團团 營营 廳厅 醫医 藥药 養养 樂乐 線线 總总 "
    "據据 舊旧 屬属 歸归 擁拥 鬧闹 戰战 槍枪 彈弹 殺杀 搶抢 傷伤 貓猫 騎骑 駕驾 駛驶 險险 禍祸 "
    "廠厂 莊庄 灣湾 嶺岭 崗岗 橋桥 樓楼 號号 巷巷 弄弄 段段"
)
_TRAD = str.maketrans({p[0]: p[1] for p in _TRAD_PAIRS.split() if p[0] != p[1]})
_PUNCT = re.compile(r"[\s()（）\[\]【】{}<>《》:：;；,，.。、_\-—–/\\|*#\"'“”‘’?？!！·•]+")


def norm_header(text: str) -> str:
    """How headers are compared: NFKC, simplified, lower case, no spaces or punctuation."""
    t = unicodedata.normalize("NFKC", str(text)).translate(_TRAD).lower()
    return _PUNCT.sub("", t)


def norm_value(text: str) -> str:
    """How code values are compared with the spellings (punctuation kept)."""
    t = unicodedata.normalize("NFKC", str(text)).translate(_TRAD).lower().strip()
    return re.sub(r"\s+", "", t)


def _header_index() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for table in HEADERS.values():
        for spellings in table.values():
            for s in spellings:
                out.setdefault(norm_header(s), set())
    return out


_KNOWN = frozenset(_header_index())


def is_known_header(text: str) -> bool:
    """Whether a header cell is one of the spellings (for finding the header row)."""
    n = norm_header(text)
    return bool(n) and (n in _KNOWN or any(len(k) >= 3 and k in n for k in _KNOWN if
                                           not k.isascii()))
