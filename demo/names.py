"""Chinese names: towns, villages, streets, shops, people and phone numbers.

All fictional; word lists are chosen to sound like a county in central Jiangxi.
"""

from __future__ import annotations

import numpy as np

SEAT_TOWN = "城关镇"
TOWN_STEMS = (
    "青岭", "石溪", "柳塘", "枫林", "鹤山", "龙泉", "桃源", "白沙", "金滩", "云台", "竹坑",
    "长岗", "凤凰", "双河", "梅岭", "清溪", "马埠", "官田", "槎滩", "黄陂",
)
SEAT_COMMUNITIES = (
    "东门", "西街", "城南", "滨江", "文昌", "解放", "新城", "站前", "花园", "城北", "和平",
    "龙腾", "阳明", "朝阳",
)
_VILLAGE_FIRST = tuple(
    "东西南北上下大小新老石高枫桥柳竹杨桂梅松荷田坪塘岭溪湾源洲江山龙凤鹤白青黄金银"
    "长平安永富兴丰和樟桐茶杉沙泉霞云月仁义礼")
_VILLAGE_SECOND = tuple("塘坑坪岭田桥湾源溪洲冲垅岗背头陂江口山坊里埠圩寨庄屋坳陇边溪洞")
STREETS = (
    "人民路", "解放路", "建设路", "中山路", "新华街", "胜利路", "文化路", "滨江路", "商贸街",
    "府前路", "朝阳路", "光明路", "兴业路", "和平路", "工业大道", "青年路", "育才路", "站前路",
    "农贸街", "东环路", "西环路", "迎宾大道",
)
BRANDS = (
    "金龙", "星光", "好运来", "鑫鑫", "天天", "梦幻", "乐途", "蓝海", "时代", "皇冠", "缘来",
    "夜色", "极速", "聚缘", "欢乐颂", "红太阳", "满天星", "盛世", "福满楼", "顺发",
)
_SURNAME_WEIGHTS = (
    ("刘", 9), ("李", 8), ("王", 7), ("陈", 8), ("胡", 5), ("罗", 5), ("黄", 4), ("张", 5),
    ("曾", 4), ("肖", 4), ("彭", 3), ("周", 3), ("吴", 3), ("徐", 3), ("邓", 3), ("郭", 2),
    ("钟", 2), ("杨", 2), ("朱", 2), ("谢", 2), ("邹", 1.5), ("欧阳", 0.8), ("袁", 1.5),
    ("何", 1.5), ("康", 1), ("尹", 1), ("段", 1), ("龙", 1), ("邱", 1), ("萧", 0.8), ("熊", 1),
    ("廖", 1), ("汪", 1), ("颜", 0.8), ("戴", 0.8), ("孙", 1), ("丁", 0.8), ("邬", 0.4),
)
SURNAMES = tuple(s for s, _ in _SURNAME_WEIGHTS)
_SURNAME_W = np.array([w for _, w in _SURNAME_WEIGHTS], dtype=np.float64)
_GIVEN_MALE = (
    "建国", "志强", "国平", "春生", "文华", "伟", "强", "军", "勇", "斌", "建华", "海波", "小龙",
    "俊杰", "浩", "宇航", "子轩", "明辉", "水根", "细毛", "长生", "冬生", "永红", "庆华", "卫东",
    "志明", "振华", "光荣", "德胜", "金水", "晓东", "鹏", "磊", "涛", "晨",
)
_GIVEN_FEMALE = (
    "秀英", "芳", "丽华", "海燕", "冬梅", "桂花", "小红", "玉兰", "春花", "婷", "娟", "丽",
    "燕", "静", "敏", "慧", "雪梅", "淑珍", "美玲", "欣怡", "梓涵", "晓丽", "金凤", "菊香",
    "水英", "红梅",
)
_MOBILE_PREFIX = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "177", "180", "181", "182", "183", "186", "187", "188", "189",
    "191", "198", "199",
)


def town_names(rng: np.random.Generator, n: int) -> list[str]:
    """The seat first, then n-1 distinct towns (镇 or 乡)."""
    stems = rng.choice(len(TOWN_STEMS), size=n - 1, replace=False)
    suffix = rng.random(n - 1) < 0.3
    return [SEAT_TOWN] + [TOWN_STEMS[s] + ("乡" if x else "镇")
                          for s, x in zip(stems, suffix, strict=True)]


def town_stem(town: str) -> str:
    return "城关" if town == SEAT_TOWN else town[:-1]


def village_stems(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """Distinct two-character village stems (东坑, 罗坊...), none in ``taken``."""
    pool = [a + b for a in _VILLAGE_FIRST for b in _VILLAGE_SECOND if a != b]
    pool += [s + b for s in SURNAMES if len(s) == 1 for b in ("家", "坊", "屋", "家湾", "家坪")]
    pool = sorted(set(pool) - taken)
    picked = rng.choice(len(pool), size=n, replace=False)
    return [pool[i] for i in picked]


def people(rng: np.random.Generator, n: int) -> np.ndarray:
    """Person names (surname + given name), about half men."""
    sur = np.asarray(SURNAMES, dtype=object)[
        rng.choice(len(SURNAMES), size=n, p=_SURNAME_W / _SURNAME_W.sum())]
    male = rng.random(n) < 0.55
    given = np.where(
        male,
        np.asarray(_GIVEN_MALE, dtype=object)[rng.integers(0, len(_GIVEN_MALE), n)],
        np.asarray(_GIVEN_FEMALE, dtype=object)[rng.integers(0, len(_GIVEN_FEMALE), n)],
    )
    return sur + given


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.asarray(_MOBILE_PREFIX, dtype=object)[rng.integers(0, len(_MOBILE_PREFIX), n)]
    rest = rng.integers(0, 100_000_000, n)
    return np.array([p + f"{r:08d}" for p, r in zip(prefix, rest, strict=True)], dtype=object)


def landlines(rng: np.random.Generator, n: int) -> np.ndarray:
    """Office numbers with the (fictional county's) 0796 area code."""
    return np.array([f"0796-8{r:06d}" for r in rng.integers(0, 1_000_000, n)], dtype=object)
