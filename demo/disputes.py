"""Disputes (矛盾纠纷) and their path through village → town → county mediation.

Every dispute is accepted at its village; at each level it is resolved, fails,
is referred (to court or another body) or escalated to the next level, where
it is accepted again. Steps follow the schema: a step's level is the level that
holds the dispute after it, so a village → town escalation is ``(town, escalated)``.
The path is cut at extracted_at, and the dispute's level and status are read off
its last step, so the two tables always agree (a dispute escalated but not yet
accepted by the next level is pending there).
"""

from __future__ import annotations

import numpy as np

from data.schema import DISPUTE_CATEGORIES, DISPUTE_LEVELS, MEDIATOR_KINDS

from .common import DAY_S, END_S, START_S, Frame, choice, month_of, ts
from .geography import County
from .incidents import DisputeSources
from .lookup import sample_in_villages

N_DISPUTES = 20_000
LINKED_SHARE = 0.10  # disputes that started as a 110 call
CATEGORY_W = {"family": 0.2, "neighbor": 0.25, "land": 0.12, "labor": 0.08, "debt": 0.12,
              "property": 0.08, "contract": 0.05, "other": 0.10}
MONTH_W = {  # wages and debts before Spring Festival, land at spring ploughing
    "labor": [2.2, 1.6, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 1.1, 1.8],
    "debt": [1.8, 1.4, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.5],
    "land": [0.7, 0.9, 1.6, 1.7, 1.3, 1.0, 0.9, 0.8, 0.9, 1.0, 0.9, 0.7],
    "family": [1.5, 1.5, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 0.9, 1.0, 0.9, 1.0],
}
FROM_SUBCATEGORY = {"家庭纠纷": "family", "婚恋纠纷": "family", "邻里纠纷": "neighbor",
                    "经济纠纷": "debt", "劳资纠纷": "labor", "土地纠纷": "land",
                    "消费纠纷": "contract", "物业纠纷": "property", "医疗纠纷": "other"}
# Outcome at each level: resolved, escalated, failed, referred.
OUTCOME_P = {0: (0.72, 0.22, 0.02, 0.04), 1: (0.66, 0.20, 0.04, 0.10), 2: (0.55, 0.0, 0.10, 0.35)}
MEDIAN_DAYS = {0: 3.0, 1: 8.0, 2: 20.0}
_OUTCOMES = ("resolved", "escalated", "failed", "referred")
MEDIATOR_P = {  # people_mediator, village_sage, legal_aide, police, grid_worker, lawyer
    0: (0.45, 0.20, 0.15, 0.05, 0.15, 0.0),
    1: (0.45, 0.0, 0.20, 0.25, 0.0, 0.10),
    2: (0.35, 0.0, 0.0, 0.25, 0.0, 0.40),
}
NULL_POINT_P = 0.07


def _office(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """A time in office hours (08:30-20:00) on the given day numbers."""
    return day * DAY_S + rng.integers(int(8.5 * 3600), 20 * 3600, len(day))


def _received(rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
    days = np.arange(START_S, END_S - DAY_S, DAY_S)
    months = month_of(days)
    out = np.empty(len(cat), dtype=np.int64)
    for c, name in enumerate(DISPUTE_CATEGORIES):
        rows = np.flatnonzero(cat == c)
        w = np.asarray(MONTH_W.get(name, [1.0] * 12))[months] * np.linspace(0.9, 1.1, len(days))
        out[rows] = days[rng.choice(len(days), size=len(rows), p=w / w.sum())]
    return out + rng.integers(8 * 3600, 21 * 3600, len(cat))


def dispute_columns(rng: np.random.Generator, county: County, frame: Frame,
                    sources: DisputeSources) -> tuple[dict[str, object], dict[str, object]]:
    n = N_DISPUTES
    src_sec = np.concatenate(sources.seconds) if sources.seconds else np.zeros(0, np.int64)
    src_vil = np.concatenate(sources.village) if sources.village else np.zeros(0, np.int64)
    k = min(round(n * LINKED_SHARE), len(sources.ids))
    pick = np.sort(rng.choice(len(sources.ids), size=k, replace=False))
    lrecv = _office(rng, src_sec[pick] // DAY_S + rng.integers(0, 3, k))
    lrecv = np.where(lrecv > src_sec[pick], lrecv, src_sec[pick] + rng.integers(1800, 7200, k))
    keep = lrecv < END_S - 3600
    pick, lrecv = pick[keep], lrecv[keep]
    lcat = np.array([DISPUTE_CATEGORIES.index(FROM_SUBCATEGORY.get(sources.subcategory[i],
                                                                   "other")) for i in pick],
                    dtype=np.int64)
    m = n - len(pick)
    cat = np.r_[lcat, choice(rng, [CATEGORY_W[c] for c in DISPUTE_CATEGORIES], m)]
    recv = np.r_[lrecv, _received(rng, cat[len(pick):])]
    pop = county.village_pop / county.village_pop.sum()
    vil = np.r_[src_vil[pick], rng.choice(len(pop), size=m, p=pop)]
    source = np.r_[np.array([sources.ids[i] for i in pick], dtype=object),
                   np.full(m, None, dtype=object)]
    order = np.argsort(recv, kind="stable")
    cat, recv, vil, source = cat[order], recv[order], vil[order], source[order]

    lon, lat = sample_in_villages(rng, county.index, vil)
    located = rng.random(n) >= NULL_POINT_P
    lon, lat = frame.points(lon, lat)
    ids = np.array([f"JF{i:07d}" for i in range(1, n + 1)], dtype=object)
    steps, level, status, done_at = _steps(rng, recv)
    linked = np.array([s is not None for s in source], dtype=bool)
    kind = np.empty(n, dtype=np.int64)
    for lv, p in MEDIATOR_P.items():
        rows = np.flatnonzero(level == lv)
        kind[rows] = choice(rng, p, len(rows))
    police = linked & (level == 0) & (rng.random(n) < 0.4)  # a 110 call: police mediate first
    kind[police] = MEDIATOR_KINDS.index("police")
    disputes = {
        "dispute_id": ids, "received_at": ts(recv),
        "category": np.array(DISPUTE_CATEGORIES, object)[cat],
        "lon": np.where(located, lon, None), "lat": np.where(located, lat, None),
        "area_id": np.array(county.village_ids, object)[vil],
        "level": np.array(DISPUTE_LEVELS, object)[level],
        "mediator_kind": np.array(MEDIATOR_KINDS, object)[kind], "status": status,
        "resolved_at": ts(done_at, done_at > 0), "source_incident_id": source,
    }
    sd, st, sl, sa = steps
    return disputes, {"dispute_id": ids[sd], "step_at": ts(st),
                      "level": np.array(DISPUTE_LEVELS, object)[sl], "action": sa}


def _steps(rng: np.random.Generator, recv: np.ndarray
           ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray,
                      np.ndarray, np.ndarray]:
    """Steps (dispute, time, level, action) and each dispute's level, status, resolved_at."""
    n = len(recv)
    d_, t_, cut_, l_, a_ = [], [], [], [], []

    def add(d: np.ndarray, t: np.ndarray, cut: np.ndarray, lv: int, act: str) -> None:
        d_.append(d)
        t_.append(t)
        cut_.append(cut)
        l_.append(np.full(len(d), lv))
        a_.append(np.full(len(d), act, dtype=object))

    alive, now = np.arange(n), recv.copy()
    for lv in range(3):
        add(alive, now, now, lv, "accepted")
        out = choice(rng, OUTCOME_P[lv], len(alive))
        days = np.maximum(np.round(rng.lognormal(np.log(MEDIAN_DAYS[lv]), 0.8, len(alive))), 1)
        end = _office(rng, now // DAY_S + days.astype(np.int64))  # mediators work days
        for o, name in enumerate(_OUTCOMES):
            if name != "escalated":
                rows = out == o
                add(alive[rows], end[rows], end[rows], lv, name)
        esc = out == 1
        nxt = _office(rng, end[esc] // DAY_S + 1 + rng.poisson(0.5, int(esc.sum())))
        # The schema's convention: an escalation carries the level it went to.
        add(alive[esc], end[esc], end[esc], lv + 1, "escalated")
        alive, now = alive[esc], nxt

    d, t, cut = np.concatenate(d_), np.concatenate(t_), np.concatenate(cut_)
    lvl, act = np.concatenate(l_), np.concatenate(a_)
    keep = cut < END_S
    d, t, lvl, act = d[keep], t[keep], lvl[keep], act[keep]
    rank = np.select([act == "accepted", act == "escalated"], [0, 2], 1)
    order = np.lexsort((rank, lvl, t, d))
    d, t, lvl, act = d[order], t[order], lvl[order], act[order]

    last = np.r_[np.flatnonzero(np.diff(d)), len(d) - 1]  # every dispute has >= 1 step
    level = lvl[last]
    status = act[last].copy()
    waiting = status == "escalated"  # handed up, not accepted there yet
    accepted = status == "accepted"
    fresh = (END_S - t[last]) < 2 * DAY_S
    status[accepted] = np.where(fresh[accepted] & (rng.random(int(accepted.sum())) < 0.6),
                                "pending", "mediating")
    status[waiting] = "pending"
    done_at = np.where(accepted | waiting, 0, t[last])
    return (d, t, lvl, act), level, status, done_at
