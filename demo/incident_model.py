"""What incidents are and where they happen: subcategories, place modes, repeat addresses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .timeline import CATEGORIES

# category → (subcategory, weight); 溺水求助 is drawn separately, by month.
SUBCATEGORIES: dict[str, list[tuple[str, float]]] = {
    "criminal": [("盗窃", 30), ("入室盗窃", 12), ("盗窃电动车", 14), ("故意伤害", 8),
                 ("抢夺", 3), ("抢劫", 1.5), ("故意毁坏财物", 6), ("涉毒", 3),
                 ("诈骗（非电信）", 4), ("敲诈勒索", 2)],
    "public_order": [("赌博", 16), ("打架斗殴", 18), ("噪音扰民", 16), ("醉酒滋事", 12),
                     ("寻衅滋事", 8), ("非法燃放烟花爆竹", 5), ("违规养犬", 5), ("涉黄", 3),
                     ("散布谣言", 2)],
    "dispute": [("家庭纠纷", 26), ("邻里纠纷", 24), ("经济纠纷", 14), ("劳资纠纷", 8),
                ("土地纠纷", 8), ("消费纠纷", 10), ("婚恋纠纷", 6), ("医疗纠纷", 2),
                ("物业纠纷", 2)],
    "traffic": [("交通事故（财产损失）", 45), ("交通事故（伤人）", 15), ("交通堵塞", 15),
                ("酒驾醉驾", 8), ("车辆乱停乱放", 12), ("道路障碍物", 5)],
    "fire": [("火灾", 30), ("山林火情", 15), ("秸秆焚烧", 15), ("电动车起火", 15),
             ("燃气泄漏", 10), ("烟花爆竹引燃", 15)],
    "assistance": [("求助", 20), ("走失人员", 10), ("老人走失", 6), ("儿童走失", 4),
                   ("开锁求助", 10), ("医疗急救协助", 10), ("困难群众救助", 6), ("心理危机干预", 3),
                   ("动物伤人", 5), ("车辆故障求助", 8), ("未成年人夜不归宿", 5)],
    "fraud": [("电信诈骗", 25), ("网络刷单诈骗", 20), ("冒充公检法诈骗", 8), ("网络贷款诈骗", 12),
              ("杀猪盘诈骗", 8), ("冒充客服诈骗", 12), ("游戏装备诈骗", 6), ("冒充熟人诈骗", 9)],
    "other": [("咨询", 40), ("举报线索", 20), ("无效警情", 20), ("重复报警", 12), ("骚扰电话", 8)],
}
DROWNING = "溺水求助"
ALL_SUBCATEGORIES: list[str] = sorted({s for v in SUBCATEGORIES.values() for s, _ in v}
                                      | {DROWNING})
SUB_INDEX = {s: i for i, s in enumerate(ALL_SUBCATEGORIES)}

# Place modes of a non-repeat incident.
VILLAGE, HOTSPOT, ROAD, WATER, REPEAT = 0, 1, 2, 3, 4
MODE_P: dict[str, tuple[float, float, float]] = {  # village, hotspot, road
    "criminal": (0.55, 0.40, 0.05), "public_order": (0.50, 0.50, 0.0),
    "dispute": (0.80, 0.20, 0.0), "traffic": (0.15, 0.25, 0.60), "fire": (0.90, 0.10, 0.0),
    "assistance": (0.65, 0.35, 0.0), "fraud": (0.70, 0.30, 0.0), "other": (0.60, 0.40, 0.0),
}
DROWNING_AT_WATER = 0.85

# How long until a unit is dispatched and the case closed (median minutes).
DISPATCH_MEDIAN_MIN = 6.0
CLOSE_MEDIAN_MIN = {"criminal": 300, "public_order": 45, "dispute": 90, "traffic": 50,
                    "fire": 120, "assistance": 60, "fraud": 600, "other": 20}
# Cases that stay dispatched (under investigation, never closed in the system).
STUCK_P = {"criminal": 0.04, "fraud": 0.06, "dispute": 0.01}


@dataclass(frozen=True)
class RepeatPlace:
    """A place that calls 110 again and again; the address text is always the same."""

    label: str  # e.g. 金龙麻将馆
    street: str | None  # None: named after the place alone (汽车客运站)
    town: int  # 0 = the seat
    offset_m: float  # how far from the town centre
    weight: float  # relative number of calls
    mix: tuple[tuple[str, str, float], ...]  # (category, subcategory, weight)


REPEAT_PLACES = (
    RepeatPlace("金龙麻将馆", "解放路128号", 0, 500, 1.4,
                (("public_order", "赌博", 7), ("dispute", "经济纠纷", 2),
                 ("public_order", "打架斗殴", 1.5))),
    RepeatPlace("夜色酒吧", "滨江路66号", 0, 900, 1.3,
                (("public_order", "打架斗殴", 5), ("public_order", "醉酒滋事", 5),
                 ("criminal", "故意伤害", 1.5), ("public_order", "噪音扰民", 1))),
    RepeatPlace("极速网吧", "人民路19号", 0, 300, 1.0,
                (("public_order", "打架斗殴", 2), ("criminal", "盗窃", 3),
                 ("assistance", "未成年人夜不归宿", 4), ("dispute", "消费纠纷", 1))),
    RepeatPlace("星光KTV", "商贸街8号", 0, 700, 1.1,
                (("public_order", "醉酒滋事", 4), ("public_order", "打架斗殴", 3),
                 ("public_order", "噪音扰民", 2), ("dispute", "消费纠纷", 1))),
    RepeatPlace("汽车客运站", "站前路1号", 0, 1_200, 1.0,
                (("criminal", "盗窃", 5), ("assistance", "走失人员", 3), ("dispute", "消费纠纷", 2),
                 ("assistance", "求助", 2))),
    RepeatPlace("幸福家园小区", "文化路88号", 0, 1_500, 0.9,
                (("public_order", "噪音扰民", 5), ("dispute", "邻里纠纷", 4),
                 ("dispute", "物业纠纷", 2), ("public_order", "违规养犬", 1))),
    RepeatPlace("金沙湾洗浴中心", "迎宾大道200号", 0, 1_800, 0.6,
                (("public_order", "涉黄", 3), ("public_order", "醉酒滋事", 2),
                 ("dispute", "消费纠纷", 1))),
    RepeatPlace("人民路与解放路交叉口", None, 0, 200, 0.8,
                (("traffic", "交通事故（财产损失）", 6), ("traffic", "交通堵塞", 3),
                 ("traffic", "交通事故（伤人）", 1.5))),
    RepeatPlace("农贸市场", None, 1, 250, 0.8,
                (("criminal", "盗窃", 4), ("dispute", "消费纠纷", 4),
                 ("public_order", "打架斗殴", 1))),
    RepeatPlace("好运来棋牌室", "新街12号", 2, 400, 0.7,
                (("public_order", "赌博", 6), ("dispute", "经济纠纷", 2))),
)


def repeat_total(n: int) -> int:
    """Rows at repeat addresses: a few hundred each at 200k; never under ~120 each."""
    return int(min(n * 0.15, max(n * 0.015, 2_500)))


def repeat_probabilities(n: int, expected_per_category: np.ndarray
                         ) -> tuple[np.ndarray, list[list[tuple[int, int, float]]]]:
    """P(place j | category c) and, per place, (category, subcategory index, weight) lists.

    Chosen so that the expected rows per place match ``repeat_total`` split by weight.
    """
    total = repeat_total(n)
    w = np.array([p.weight for p in REPEAT_PLACES])
    target = total * w / w.sum()
    prob = np.zeros((len(CATEGORIES), len(REPEAT_PLACES)))
    mixes: list[list[tuple[int, int, float]]] = []
    for j, place in enumerate(REPEAT_PLACES):
        mw = sum(x for _, _, x in place.mix)
        mix = []
        for cat, sub, x in place.mix:
            c = CATEGORIES.index(cat)
            prob[c, j] += target[j] * x / mw / max(expected_per_category[c], 1.0)
            mix.append((c, SUB_INDEX[sub], x))
        mixes.append(mix)
    row = prob.sum(axis=1, keepdims=True)
    prob = np.where(row > 0.6, prob * 0.6 / np.maximum(row, 1e-12), prob)  # leave most elsewhere
    return prob, mixes
