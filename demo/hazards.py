"""Hazards (风险隐患) and their rectification histories (隐患整改).

Every hazard is given a full life — assigned, rectified, re-inspected (回头看),
sometimes reopened and rectified again — then the story is cut at
extracted_at, so young hazards are naturally still open or in progress and a
few stalled ones are overdue.
"""

from __future__ import annotations

import numpy as np

from data.schema import HAZARD_CATEGORIES, RISK_LEVELS

from . import names
from .common import DAY_S, END_S, START_S, Frame, choice, dates, month_of, ts
from .geography import County
from .lookup import sample_in_villages, sample_near

N_HAZARDS = 9_000
CATEGORY_W = {"key_place": 0.18, "crime_hotspot": 0.08, "drowning": 0.16, "road": 0.2,
              "fire": 0.22, "public_order": 0.1, "other": 0.06}
RISK_W = (0.05, 0.2, 0.4, 0.35)  # major, high, medium, low
DEADLINE_DAYS = {"major": (15, 30), "high": (15, 45), "medium": (30, 60), "low": (30, 90)}
UNITS = {
    "key_place": ("派出所", "市场监督管理局", "文化广电旅游局"),
    "crime_hotspot": ("派出所", "镇政府综治办"),
    "drowning": ("水利局", "镇政府", "教育体育局", "村委会"),
    "road": ("交通运输局", "公安局交警大队", "公路事业发展中心"),
    "fire": ("应急管理局", "消防救援大队", "镇政府", "住房和城乡建设局"),
    "public_order": ("派出所", "镇政府综治办"),
    "other": ("镇政府", "住房和城乡建设局", "自然资源局", "供电公司"),
}
FIXES = {
    "key_place": "已督促落实实名登记和视频监控", "crime_hotspot": "已增设视频监控并加强巡逻",
    "drowning": "已设置警示牌、安装防护栏并配备救生圈", "road": "已增设减速带和警示标志",
    "fire": "已清理堵塞的消防通道并配齐灭火器", "public_order": "已约谈经营者并纳入重点巡查",
    "other": "已落实整改措施",
}
# Drowning risks are found in the pre-summer sweep (防溺水专项排查).
DROWNING_MONTH_W = np.array([0.2, 0.2, 0.4, 1.2, 2.5, 3.0, 2.6, 1.8, 0.8, 0.3, 0.2, 0.2])
FIRE_MONTH_W = np.array([1.5, 1.3, 1.0, 0.9, 0.8, 0.7, 0.7, 0.7, 0.8, 1.0, 1.3, 1.6])


def _discovered(rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
    days = np.arange(START_S, END_S, DAY_S)
    months = month_of(days)
    out = np.empty(len(cat), dtype=np.int64)
    for c, name in enumerate(HAZARD_CATEGORIES):
        rows = np.flatnonzero(cat == c)
        w = np.ones(len(days))
        if name == "drowning":
            w = DROWNING_MONTH_W[months]
        elif name == "fire":
            w = FIRE_MONTH_W[months]
        w = w * np.linspace(0.8, 1.2, len(days))  # inspections grew over the two years
        d = days[rng.choice(len(days), size=len(rows), p=w / w.sum())]
        out[rows] = d + rng.integers(8 * 3600, 18 * 3600, len(rows))  # office hours
    return np.minimum(out, END_S - 3600)


def _names(rng: np.random.Generator, county: County, cat: np.ndarray, vil: np.ndarray,
           near_reservoir: np.ndarray) -> list[str]:
    town = [county.town_names[t] for t in county.village_town]
    out = []
    for c, v, res in zip(cat, vil, near_reservoir, strict=True):
        name, vn, tn = HAZARD_CATEGORIES[c], county.village_names[v], town[v]
        g = int(rng.integers(1, 13))
        brand = names.BRANDS[int(rng.integers(len(names.BRANDS)))]
        street = names.STREETS[int(rng.integers(len(names.STREETS)))]
        opts = {
            "drowning": [f"{vn}{g}组水塘", f"{vn}山塘", f"{county.river_name}{vn}段",
                         f"{vn}灌溉渠", f"{vn}废弃砂坑"],
            "road": [f"{vn}路口", f"{tn}{street}与{names.STREETS[g]}交叉口", f"{vn}村道急弯",
                     f"{vn}临水临崖路段", f"{tn}中心小学门口路段"],
            "fire": [f"{vn}自建房群", f"{vn}电动车集中充电点", f"{tn}{brand}批发部",
                     f"{vn}山林防火区", f"{tn}{brand}酒店"],
            "key_place": [f"{tn}{brand}网吧", f"{tn}{brand}KTV", f"{tn}{brand}宾馆",
                          f"{tn}{brand}加油站", f"{tn}{brand}快递物流点"],
            "crime_hotspot": [f"{tn}汽车站周边", f"{tn}{street}夜市", f"{vn}偏僻路段",
                              f"{tn}农贸市场"],
            "public_order": [f"{tn}{brand}麻将馆", f"{vn}棋牌室", f"{tn}文化广场",
                             f"{tn}{brand}酒吧"],
            "other": [f"{vn}废弃厂房", f"{vn}高压线下违建", f"{vn}{g}组危房", f"{vn}边坡"],
        }[name]
        out.append(f"{county.reservoir_name}库区" if res else opts[int(rng.integers(len(opts)))])
    return out


def _place(rng: np.random.Generator, county: County, cat: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Drowning risks by the water, road risks on roads, places in towns, the rest in villages."""
    n = len(cat)
    lon, lat, vil = np.empty(n), np.empty(n), np.zeros(n, np.int64)
    res = np.zeros(n, bool)
    placed = np.zeros(n, bool)
    code = {c: i for i, c in enumerate(HAZARD_CATEGORIES)}

    rows = np.flatnonzero(cat == code["drowning"])
    rows = rows[rng.random(len(rows)) < 0.7]  # the rest are village ponds
    p = rng.integers(0, len(county.water_m), len(rows))
    lon[rows], lat[rows], vil[rows] = sample_near(
        rng, county.index, county.water_m[p, 0], county.water_m[p, 1], 30.0)
    res[rows], placed[rows] = county.water_is_reservoir[p], True

    rows = np.flatnonzero(cat == code["road"])
    p = rng.integers(0, len(county.road_m), len(rows))
    lon[rows], lat[rows], vil[rows] = sample_near(
        rng, county.index, county.road_m[p, 0], county.road_m[p, 1], 10.0)
    placed[rows] = True

    rows = np.flatnonzero(np.isin(cat, [code[c] for c in ("key_place", "crime_hotspot",
                                                          "public_order")]))
    hw = county.hotspot_weight / county.hotspot_weight.sum()
    h = rng.choice(len(hw), size=len(rows), p=hw)
    lon[rows], lat[rows], vil[rows] = sample_near(
        rng, county.index, county.hotspot_m[h, 0], county.hotspot_m[h, 1],
        county.hotspot_sigma[h] * 1.5)
    placed[rows] = True

    rows = np.flatnonzero(~placed)
    w = county.village_pop / county.village_pop.sum()
    vil[rows] = rng.choice(len(w), size=len(rows), p=w)
    lon[rows], lat[rows] = sample_in_villages(rng, county.index, vil[rows])
    return lon, lat, vil, res


def hazard_columns(rng: np.random.Generator, county: County, frame: Frame
                   ) -> tuple[dict[str, object], dict[str, object]]:
    """(hazards, rectifications) columns; hazards in discovery order, events in time order."""
    n = N_HAZARDS
    cat = choice(rng, [CATEGORY_W[c] for c in HAZARD_CATEGORIES], n)
    disc = _discovered(rng, cat)
    order = np.argsort(disc, kind="stable")  # the register numbers hazards as found
    cat, disc = cat[order], disc[order]
    lon, lat, vil, res = _place(rng, county, cat)

    risk = choice(rng, RISK_W, n)
    lo = np.array([DEADLINE_DAYS[r][0] for r in RISK_LEVELS])[risk]
    hi = np.array([DEADLINE_DAYS[r][1] for r in RISK_LEVELS])[risk]
    deadline = (disc // DAY_S + rng.integers(lo, hi + 1)) * DAY_S
    unit = []
    for c, v in zip(cat, vil, strict=True):
        options = UNITS[HAZARD_CATEGORIES[c]]
        u = options[int(rng.integers(len(options)))]
        if u.startswith(("派出所", "镇政府")):  # local bodies carry the town's name
            town = county.town_names[county.village_town[v]]
            u = names.town_stem(town) + u if u == "派出所" else town + u.removeprefix("镇")
        elif u == "村委会":
            u = county.village_names[v] + u
        unit.append(u)
    ids = np.array([f"YH{i:06d}" for i in range(1, n + 1)], dtype=object)
    out_lon, out_lat = frame.points(lon, lat)
    hazards = {
        "hazard_id": ids, "category": np.array(HAZARD_CATEGORIES, object)[cat],
        "name": np.array(_names(rng, county, cat, vil, res), object),
        "lon": out_lon, "lat": out_lat,
        "area_id": np.array(county.village_ids, object)[vil],
        "risk_level": np.array(RISK_LEVELS, object)[risk], "discovered_at": ts(disc),
        "responsible_unit": np.array(unit, object), "deadline": dates(deadline),
    }
    return hazards, _events(rng, ids, cat, disc, deadline + DAY_S - 1, unit)


REOPEN_REASONS = ("整改措施未落实到位", "问题反弹", "警示标志损毁", "整改材料不实",
                  "群众反映问题依旧")
_ACTIONS = ("assigned", "rectified", "reinspected", "rectified", "reinspected")


def _events(rng: np.random.Generator, ids: np.ndarray, cat: np.ndarray, disc: np.ndarray,
            due: np.ndarray, unit: list[str]) -> dict[str, object]:
    """Each hazard's whole story, cut at extracted_at.

    Columns: assigned, rectified, re-inspected (or reopened when it failed),
    rectified again, re-inspected again.
    """
    n = len(ids)
    day = np.zeros((n, 5), dtype=np.int64)
    ok = np.zeros((n, 5), dtype=bool)
    day[:, 0] = disc // DAY_S + 1 + rng.poisson(0.7, n)  # handed over within days
    ok[:, 0] = rng.random(n) >= 0.02  # some are never handed over: open
    span = np.maximum(due // DAY_S - day[:, 0], 1)
    day[:, 1] = day[:, 0] + np.maximum(np.round(span * 1.15 * rng.beta(2.2, 1.6, n)), 1)
    ok[:, 1] = ok[:, 0] & (rng.random(n) >= 0.05)  # stalled: assigned, never rectified
    day[:, 2] = day[:, 1] + rng.integers(5, 31, n)
    ok[:, 2] = ok[:, 1] & (rng.random(n) >= 0.15)  # not every hazard gets a 回头看
    failed = ok[:, 2] & (rng.random(n) < 0.10)
    day[:, 3] = day[:, 2] + rng.integers(3, 26, n)
    ok[:, 3] = failed & (rng.random(n) >= 0.1)
    day[:, 4] = day[:, 3] + rng.integers(5, 21, n)
    ok[:, 4] = ok[:, 3]
    t = day * DAY_S + rng.integers(int(8.5 * 3600), 18 * 3600, (n, 5))  # one event a day at most
    ok &= t < END_S  # the story so far
    ok = np.cumprod(ok, axis=1).astype(bool)  # an event only after all earlier ones

    hz, col = np.nonzero(ok)
    when = t[hz, col]
    order = np.lexsort((col, when))
    hz, col, when = hz[order], col[order], when[order]
    action = np.array(_ACTIONS, dtype=object)[col]
    action[(col == 2) & failed[hz]] = "reopened"
    people = names.people(rng, len(hz))
    actor, note = [], []
    for k, (h, c, a) in enumerate(zip(hz, col, action, strict=True)):
        if a == "assigned":
            actor.append(f"县综治中心 {people[k]}")
            note.append(f"交办{unit[h]}，限{np.datetime64(int(due[h]), 's').astype('M8[D]')}前整改")
        elif a == "rectified":
            actor.append(f"{unit[h]} {people[k]}")
            note.append(FIXES[HAZARD_CATEGORIES[cat[h]]] + ("（复改）" if c == 3 else ""))
        elif a == "reopened":
            actor.append(f"县综治中心 {people[k]}")
            reason = REOPEN_REASONS[int(rng.integers(len(REOPEN_REASONS)))]
            note.append(f"回头看：{reason}，整改不到位，重新交办")
        else:
            actor.append(f"县综治中心 {people[k]}")
            note.append("回头看：整改到位，予以销号")
    return {
        "event_id": np.array([f"ZG{i:07d}" for i in range(1, len(hz) + 1)], dtype=object),
        "hazard_id": ids[hz], "event_at": ts(when),
        "action": action, "actor": np.array(actor, object), "note": np.array(note, object),
    }
