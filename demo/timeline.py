"""When incidents happen: an hourly rate per category over the two-year window.

rate(hour, category) = base share x hour-of-day profile x weekday factor x
month factor x Spring Festival bump x year-on-year trend x day-to-day noise.
The counts per (hour, category) cell are one multinomial draw, so the total is
exact and every cycle is visible in the data.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from data.schema import INCIDENT_CATEGORIES

from .common import DAY_S, DAYS, HOURS, SPRING_FESTIVALS_S, START_S, month_of, weekday_of

CATEGORIES = INCIDENT_CATEGORIES
# Share of all 110 calls, like a real rural county: help and disorder dominate.
BASE = {"assistance": 0.30, "public_order": 0.24, "dispute": 0.14, "traffic": 0.12,
        "criminal": 0.07, "fraud": 0.04, "fire": 0.02, "other": 0.07}
# Last 12 months over the 12 before: anti-fraud and crime campaigns work, e-bikes add crashes.
TREND = {"fraud": 0.70, "criminal": 0.85, "traffic": 1.15, "public_order": 0.97,
         "dispute": 1.02}

_DAYTIME = [3, 2.5, 2, 1.5, 1.5, 2, 3, 4.5, 6, 7, 7, 7, 6.5, 6.5, 7, 7, 7, 7, 7, 7, 6.5, 5.5,
            4.5, 3.5]
HOURLY = {
    "public_order": [8, 7, 5, 3, 2, 1.5, 1.5, 2, 3, 3.5, 4, 4.5, 5, 5, 5, 5, 5.5, 6, 7, 8, 9,
                     10, 10, 9],
    "traffic": [2, 1.5, 1, 0.8, 0.8, 1.5, 3, 7, 9, 6, 5, 5.5, 6, 5, 5, 5.5, 6.5, 9, 8.5, 6, 5,
                4.5, 4, 3],
    "criminal": [4, 4, 3.5, 3, 2.5, 2.5, 3, 5, 7, 7, 6.5, 6, 5.5, 5.5, 6, 6, 6, 5.5, 5, 5, 5, 5,
                 4.5, 4.5],
    "assistance": _DAYTIME,
    "dispute": [3, 2, 1.5, 1, 1, 1, 1.5, 3, 5, 6, 6.5, 6.5, 6, 6, 6, 6, 6.5, 7, 8, 8.5, 8.5, 7,
                5.5, 4],
    "fraud": [1, 0.6, 0.4, 0.3, 0.3, 0.4, 1, 2.5, 5, 7, 8, 8, 7, 6.5, 7.5, 8, 8, 7, 6, 5, 4.5,
              3.5, 2.5, 1.5],
    "fire": [2, 1.5, 1.2, 1, 1, 1.2, 2, 3, 4, 5, 6, 6.5, 6.5, 7, 7.5, 7.5, 7, 7, 6.5, 5.5, 4.5,
             3.5, 3, 2.5],
    "other": _DAYTIME,
}
_FLAT7 = [1.0] * 7
WEEKLY = {  # Monday first
    "public_order": [0.9, 0.88, 0.9, 0.95, 1.1, 1.4, 1.35],
    "traffic": [1.05, 1, 1, 1, 1.1, 0.95, 0.9],
    "assistance": [1, 1, 1, 1, 1, 1.1, 1.1],
    "dispute": [0.95, 0.95, 0.95, 0.95, 1, 1.15, 1.15],
    "fraud": [1.1, 1.1, 1.05, 1.05, 1.05, 0.85, 0.8],
}
_FLAT12 = [1.0] * 12
MONTHLY = {  # January first
    "public_order": [1.05, 1.1, 0.9, 0.95, 1, 1.1, 1.2, 1.2, 1.05, 1, 0.95, 1],
    "traffic": [1.15, 1.1, 0.95, 1, 1, 0.95, 0.95, 1, 1, 1.15, 1, 1.05],
    "criminal": [1.05, 1, 0.95, 0.95, 1, 1.05, 1.1, 1.1, 1, 1, 1, 1.05],
    "assistance": [1, 1, 0.95, 0.95, 1, 1.1, 1.25, 1.25, 1, 1, 0.95, 1],
    "dispute": [1.2, 1.15, 1, 0.95, 0.95, 0.95, 1, 1, 0.95, 1, 1, 1.05],
    "fire": [1.5, 1.6, 1.4, 1.2, 0.8, 0.7, 0.7, 0.75, 0.85, 1, 1.1, 1.3],
}
SPRING_BUMP = {"fire": 2.5, "public_order": 0.3, "traffic": 0.4, "dispute": 0.25,
               "assistance": 0.1}
# Share of assistance calls that are drowning calls (溺水求助), by month: a summer risk.
DROWNING_SHARE = np.array([0.002, 0.002, 0.003, 0.01, 0.04, 0.09, 0.12, 0.11, 0.04, 0.01, 0.003,
                           0.002])


def hour_starts() -> np.ndarray:
    return START_S + np.arange(HOURS, dtype=np.int64) * 3600


def hourly_rates(rng: np.random.Generator) -> np.ndarray:
    """(HOURS, len(CATEGORIES)) relative rates."""
    t = hour_starts()
    hod, dow, mon = (t % DAY_S) // 3600, weekday_of(t), month_of(t)
    years = (t - START_S) / (365 * DAY_S)
    day = (t - START_S) // DAY_S
    sf = np.zeros(len(t))
    for s in SPRING_FESTIVALS_S:
        sf += np.exp(-0.5 * ((t - s) / (3.0 * DAY_S)) ** 2)
    rates = np.empty((len(t), len(CATEGORIES)))
    for k, c in enumerate(CATEGORIES):
        r = BASE[c] * np.asarray(HOURLY[c])[hod] / np.mean(HOURLY[c])
        r = r * np.asarray(WEEKLY.get(c, _FLAT7))[dow] * np.asarray(MONTHLY.get(c, _FLAT12))[mon]
        r = r * (1 + SPRING_BUMP.get(c, 0.0) * sf) * TREND.get(c, 1.0) ** years
        noise = rng.gamma(40.0, 1 / 40.0, DAYS)[day]  # busy and quiet days
        rates[:, k] = r * noise
    return rates


def month_chunks(counts_per_hour: np.ndarray, max_rows: int) -> list[tuple[int, int]]:
    """Hour ranges [h0, h1) by calendar month, cut at midnight when a month holds too many rows.

    Chunks always end at a calendar-day border: incident numbers restart every day.
    """
    t = hour_starts()
    month = t.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    midnights = [int(h) for h in np.flatnonzero(t % DAY_S == 0)] + [len(t)]
    cum = np.r_[0, np.cumsum(counts_per_hour)]
    chunks: list[tuple[int, int]] = []
    start = 0
    for here, nxt in pairwise(midnights):
        if here <= start:
            continue
        if month[here] != month[here - 1] or cum[nxt] - cum[start] > max_rows:
            chunks.append((start, here))
            start = here
    chunks.append((start, len(t)))
    return chunks
