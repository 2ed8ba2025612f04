"""Exception alerts: what changed since the last shift (异常预警).

Spikes
- The latest *day* is the last complete day (the day before the as-of day); its
  baseline is the same weekday in each of the previous ``BASELINE_PERIODS``
  weeks. The latest *week* is the last complete ISO week; its baseline is the
  previous ``BASELINE_PERIODS`` weeks.
- Only days the feed covers are tested: when the incident feed lags
  (``data.period``), the as-of day becomes the day of its newest incident, so the
  latest day tested is the last complete day before the feed stopped.
- Groups: each incident category (whole selection), each town, and each town ×
  category. The category and area filters of the state apply; the time window
  does not (alerts are always about the latest period).
- Expected = the mean of the baseline counts. A group alerts when its count is
  at least ``MIN_COUNT`` and the chance of seeing that many or more under a
  Poisson law with the expected mean (floored at 0.5 so that a first incident
  in a quiet group is not a certainty of doom) is below ``ALPHA`` divided by the
  number of groups tested in its family (Bonferroni): about one false alarm in
  a hundred shifts, whatever the number of towns.

New repeat places
- Repeat places (data.analysis.repeats, ``MIN_COUNT`` incidents within
  ``REPEAT_RADIUS_M``) found in the last seven complete days, whose centre had
  fewer than ``MIN_COUNT`` incidents within that radius (or, for places matched
  by address, with that normalised address) in the ``BASELINE_PERIODS`` weeks
  before: a place that became a repeat address this week, not a chronic one.
  ``expected`` is the baseline's weekly mean, ``baseline`` its count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import poisson

from ..filters import FilterState, day_start
from ..period import incident_feed_end
from ..queries import Query
from .change import period_span

ALPHA = 0.01
MIN_COUNT = 3
BASELINE_PERIODS = 8
EXPECTED_FLOOR = 0.5
REPEAT_RADIUS_M = 50.0


@dataclass(frozen=True)
class Alert:
    kind: str
    """``spike`` or ``new_repeat``."""
    period: str
    """``day``, ``week`` or ``7d`` (new repeat places: the last seven complete days)."""
    period_label: str
    category: str | None
    area_id: str | None
    area_name: str | None
    observed: int
    expected: float
    p_value: float | None
    baseline: tuple[int, ...] = ()
    place_id: str | None = None
    address: str | None = None

    @property
    def ratio(self) -> float | None:
        return self.observed / self.expected if self.expected > 0 else None

    def to_json(self) -> dict:
        return {"kind": self.kind, "period": self.period, "label": self.period_label,
                "category": self.category, "area_id": self.area_id,
                "area_name": self.area_name, "observed": self.observed,
                "expected": round(self.expected, 2),
                "ratio": None if self.ratio is None else round(self.ratio, 2),
                "p_value": None if self.p_value is None else float(f"{self.p_value:.3g}"),
                "baseline": list(self.baseline), "place_id": self.place_id,
                "address": self.address}


@dataclass(frozen=True)
class Alerts:
    day: date
    week_start: date
    alerts: list[Alert]
    tested: dict[str, int]
    """Groups tested per family, e.g. ``day/category``."""
    feed_end: datetime | None = None
    """The newest incident when the feed lags (the periods tested end before its day)."""

    def to_json(self, limit: int | None = None) -> dict:
        rows = self.alerts if limit is None else self.alerts[:limit]
        return {"day": self.day.isoformat(), "week": self.week_start.isoformat(),
                "alpha": ALPHA, "baseline_periods": BASELINE_PERIODS, "min_count": MIN_COUNT,
                "count": len(self.alerts), "tested": dict(self.tested),
                "feed_end": None if self.feed_end is None else self.feed_end.isoformat(
                    timespec="seconds"),
                "alerts": [a.to_json() for a in rows]}


def latest_periods(as_of: date) -> tuple[date, date]:
    """(latest complete day, Monday of the latest complete week)."""
    day = as_of - timedelta(days=1)
    week = period_span("week", as_of).start.date() - timedelta(days=7)
    return day, week


def _spike_p(observed: int, expected: float) -> float:
    return float(poisson.sf(observed - 1, max(expected, EXPECTED_FLOOR)))


def _family(counts: np.ndarray, keys: list[tuple[str | None, int | None]], period: str,
            label: str, family: str, tested: dict[str, int], q: Query,
            up_names: dict[int, tuple[str, str]]) -> list[Alert]:
    """``counts[g, 0]`` is the latest period, ``counts[g, 1:]`` its baseline."""
    active = (counts.sum(axis=1) > 0)
    m = int(active.sum())
    tested[family] = m
    out = []
    for g in np.flatnonzero(active):
        obs = int(counts[g, 0])
        base = counts[g, 1:]
        expected = float(base.mean())
        if obs < MIN_COUNT or obs <= expected:
            continue
        p = _spike_p(obs, expected)
        if p < ALPHA / max(m, 1):
            cat, area = keys[g]
            aid, aname = up_names.get(area, (None, None)) if area is not None else (None, None)
            out.append(Alert("spike", period, label, cat, aid, aname, obs, expected, p,
                             tuple(int(v) for v in base)))
    return out


def _spikes(q: Query, state: FilterState, period: str, first: date, step: int,
            tested: dict[str, int]) -> list[Alert]:
    """Counts for the latest period (starting ``first``) and the ``BASELINE_PERIODS`` before.

    ``step`` is the distance in days between compared periods (7 for both: the
    same weekday a week earlier, or the week before); each period lasts 1 or 7 days.
    """
    length = 1 if period == "day" else 7
    starts = [first - timedelta(days=step * k) for k in range(BASELINE_PERIODS + 1)]
    p = q.where(state, "incidents", window=False)
    params = {**p.params, "a_lo": day_start(starts[-1]),
              "a_hi": day_start(first + timedelta(days=length))}
    res = q.con.execute(
        f"""SELECT CAST(reported_at AS DATE) AS d, coalesce(area_idx, -1) AS area_idx, category,
                   count(*)::BIGINT AS n
            FROM incidents WHERE {p.sql} AND reported_at >= $a_lo AND reported_at < $a_hi
            GROUP BY ALL""", params).fetchnumpy()
    days = np.asarray(res["d"], dtype="datetime64[D]")
    n = np.asarray(res["n"], dtype=np.int64)
    # Which compared period each day belongs to (-1: between them, for daily ones).
    offset = (np.datetime64(first, "D") - days).astype(np.int64)
    if period == "day":
        slot = np.where(offset % step == 0, offset // step, -1)
    else:
        slot = (offset + length - 1) // step
    keep = (slot >= 0) & (slot <= BASELINE_PERIODS)
    areas = q.extract.areas
    up = areas.ancestor_at("town")
    idx = np.asarray(res["area_idx"], dtype=np.int64)  # -1: unlocated
    town = np.full(len(idx), -1, dtype=np.int64)
    located = idx >= 0
    town[located] = up[idx[located]]
    cats = np.asarray(res["category"], dtype=object)
    names = {int(i): (areas.ids[i], areas.names[i]) for i in areas.at_level("town")}
    label = first.isoformat() if period == "day" else \
        f"{first.isocalendar()[0]:04d}-W{first.isocalendar()[1]:02d}"

    out: list[Alert] = []
    for family, key_of in (
        ("category", lambda r: (cats[r], None)),
        ("town", lambda r: (None, int(town[r])) if town[r] >= 0 else None),
        ("town_category", lambda r: (cats[r], int(town[r])) if town[r] >= 0 else None),
    ):
        keys: dict[tuple, int] = {}
        rows, cols, vals = [], [], []
        for r in np.flatnonzero(keep):
            k = key_of(r)
            if k is None:
                continue
            rows.append(keys.setdefault(k, len(keys)))
            cols.append(int(slot[r]))
            vals.append(int(n[r]))
        counts = np.zeros((len(keys), BASELINE_PERIODS + 1), dtype=np.int64)
        np.add.at(counts, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)),
                  np.asarray(vals, dtype=np.int64))
        out += _family(counts, list(keys), period, label, f"{period}/{family}", tested, q, names)
    return out


def _new_repeats(q: Query, state: FilterState, day: date) -> list[Alert]:
    """Repeat places of the last seven days that were quiet in the weeks before."""
    from .repeats import _centre, normalise_address, project, repeat_places

    since = day - timedelta(days=6)
    recent = repeat_places(q, state.with_window(since, day), min_count=MIN_COUNT)
    if not len(recent):
        return []
    before = state.with_window(since - timedelta(days=7 * BASELINE_PERIODS),
                               since - timedelta(days=1))
    p = q.where(before, "incidents")
    # Points as arrays and addresses counted in SQL (normalised once per distinct text):
    # weeks of a big county are millions of rows.
    pts = q.con.execute(f"SELECT lon, lat FROM incidents WHERE ({p.sql}) AND lon IS NOT NULL "
                        "AND lat IS NOT NULL", p.params).fetchnumpy()
    lon = np.asarray(np.ma.getdata(pts["lon"]), np.float64)
    lat = np.asarray(np.ma.getdata(pts["lat"]), np.float64)
    centre = _centre(q.extract)
    tree = None
    if len(lon):
        x, y = project(lon, lat, centre)
        tree = cKDTree(np.column_stack([x, y]))
    addresses: dict[str, int] = {}
    for a, n in q.con.execute(f"SELECT address, count(*) FROM incidents WHERE ({p.sql}) "
                              "AND address IS NOT NULL GROUP BY address", p.params).fetchall():
        key = normalise_address(a)
        if key:
            addresses[key] = addresses.get(key, 0) + int(n)
    label = f"{since.isoformat()}/{day.isoformat()}"
    out = []
    for place in recent:
        if place.lon is not None and place.lat is not None:
            px, py = project(np.array([place.lon]), np.array([place.lat]), centre)
            earlier = 0 if tree is None else int(tree.query_ball_point(
                [float(px[0]), float(py[0])], REPEAT_RADIUS_M, return_length=True))
        else:
            earlier = addresses.get(normalise_address(place.address), 0)
        if earlier < MIN_COUNT:
            out.append(Alert("new_repeat", "7d", label, None, place.area_id, place.name,
                             place.count, earlier / BASELINE_PERIODS, None,
                             baseline=(earlier,), place_id=place.place_id,
                             address=place.address))
    return out


def alerts(q: Query, state: FilterState) -> Alerts:
    as_of = q.as_of(state)
    end = incident_feed_end(q.extract)
    if end is not None and end.date() < as_of:
        as_of = end.date()  # a lagging feed: its empty days are not news (the last is partial)
    day, week = latest_periods(as_of)
    tested: dict[str, int] = {}
    found = _spikes(q, state, "day", day, 7, tested) + _spikes(q, state, "week", week, 7, tested)
    found += _new_repeats(q, state, day)
    found.sort(key=lambda a: (a.kind != "spike", a.p_value if a.p_value is not None else 1.0,
                              -a.observed, a.category or "", a.area_id or ""))
    return Alerts(day, week, found, tested, end)
