"""The incidents table (110 警情), generated and appended month by month in time order.

Memory stays flat whatever the row count: only the (hour x category) count
matrix lives for the whole run; each chunk is built with numpy, turned into an
Arrow table (strings are assembled by Arrow compute, not Python) and appended
to DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data.schema import INCIDENT_STATUSES

from . import incident_model as im
from .common import DAY_S, END_S, START_S, Frame, floats, m_to_deg, month_of, round6, ts
from .geography import County
from .lookup import sample_in_villages, sample_near
from .names import STREETS
from .timeline import CATEGORIES, DROWNING_SHARE, hourly_rates, month_chunks
from .writer import append

CHUNK_ROWS = 250_000  # bounds memory: ~300 MB of numpy and Arrow per chunk at most
NULL_COORD_P = 0.02
NULL_AREA_P = 0.20
_OPEN, _DISPATCHED, _CLOSED = (INCIDENT_STATUSES.index(s) for s in ("open", "dispatched", "closed"))
_DISPUTE = CATEGORIES.index("dispute")
_ASSIST = CATEGORIES.index("assistance")


@dataclass
class DisputeSources:
    """A sample of dispute-category incidents that may have become mediation cases."""

    ids: list[str] = field(default_factory=list)
    seconds: list[np.ndarray] = field(default_factory=list)
    village: list[np.ndarray] = field(default_factory=list)
    subcategory: list[str] = field(default_factory=list)


ChunkHook = Callable[[pa.Table, int, int], pa.Table]


@dataclass
class _Places:
    """Repeat addresses placed in this county: centre (metres), village, address text."""

    x: np.ndarray
    y: np.ndarray
    address: list[str]
    prob: np.ndarray  # (category, place)
    mixes: list[list[tuple[int, int, float]]]


def _repeat_places(rng: np.random.Generator, county: County, n: int,
                   expected: np.ndarray) -> _Places:
    xs, ys, addr = [], [], []
    for p in im.REPEAT_PLACES:
        a = rng.uniform(0, 2 * np.pi)
        cx, cy = county.town_centre_m[p.town] + p.offset_m * np.array([np.cos(a), np.sin(a)])
        xs.append(cx)
        ys.append(cy)
        town = county.town_names[p.town]
        addr.append(f"{county.name}{town}{p.street or ''}{p.label}")
    prob, mixes = im.repeat_probabilities(n, expected)
    return _Places(np.array(xs), np.array(ys), addr, prob, mixes)


def write_incidents(con: duckdb.DuckDBPyConnection, county: County, frame: Frame, n: int,
                    rng: np.random.Generator, hook: ChunkHook | None,
                    progress: Callable[[float], None], sources_wanted: int
                    ) -> tuple[list[str], DisputeSources]:
    """Append ``n`` incidents; return the repeat addresses and a sample of dispute calls."""
    addresses, sources, chunks = incident_chunks(county, frame, n, rng, hook, sources_wanted)
    for done, table in chunks:
        append(con, "incidents", table)
        progress(done / max(n, 1))
    return addresses, sources


def incident_chunks(county: County, frame: Frame, n: int, rng: np.random.Generator,
                    hook: ChunkHook | None, sources_wanted: int, resolved_areas: bool = False
                    ) -> tuple[list[str], DisputeSources, Iterator[tuple[int, pa.Table]]]:
    """The repeat addresses, the dispute-call sample (filled while the chunks are drawn)
    and the chunks themselves, each (rows so far, table): one calendar month or less, in
    time order, never more than ``CHUNK_ROWS`` rows unless one day holds more.

    ``resolved_areas``: every located row names the village its point lies in (as the
    schema version 2 build writes ``area_id``), instead of leaving a fifth of them blank.
    """
    rates = hourly_rates(rng)
    counts = rng.multinomial(n, (rates / rates.sum()).ravel()).reshape(rates.shape)
    places = _repeat_places(rng, county, n, counts.sum(axis=0).astype(np.float64))
    chunks = month_chunks(counts.sum(axis=1), CHUNK_ROWS)
    keep_p = min(1.0, 4.0 * sources_wanted / max(int(counts[:, _DISPUTE].sum()), 1))
    sources = DisputeSources()

    def draw() -> Iterator[tuple[int, pa.Table]]:
        done = 0
        for k, ((h0, h1), crng) in enumerate(zip(chunks, rng.spawn(len(chunks)), strict=True)):
            if not counts[h0:h1].any():
                continue
            table = _chunk(crng, county, frame, places, counts[h0:h1], h0, keep_p, sources,
                           resolved_areas)
            done += table.num_rows
            if hook is not None:
                table = hook(table, k, len(chunks))
            yield done, table

    return places.address, sources, draw()


def _chunk(rng: np.random.Generator, county: County, frame: Frame, places: _Places,
           counts: np.ndarray, h0: int, keep_p: float, sources: DisputeSources,
           resolved_areas: bool = False) -> pa.Table:
    ncat = counts.shape[1]
    flat = counts.ravel()
    hour = np.repeat(np.repeat(np.arange(h0, h0 + len(counts)), ncat), flat)
    cat = np.repeat(np.tile(np.arange(ncat), len(counts)), flat)
    n = len(cat)
    sec = START_S + hour * 3600 + rng.integers(0, 3600, n)
    order = np.argsort(sec, kind="stable")
    sec, cat = sec[order], cat[order]

    sub = _subcategories(rng, cat, sec)
    mode, place = _modes(rng, cat, sub, places)
    for j, mix in enumerate(places.mixes):  # the place decides what kind of trouble it is
        for c in sorted({m[0] for m in mix}):
            rows = np.flatnonzero((place == j) & (cat == c))
            opts = [(s, w) for cc, s, w in mix if cc == c]
            pick = rng.choice(len(opts), size=len(rows), p=_norm([w for _, w in opts]))
            sub[rows] = np.array([s for s, _ in opts])[pick]

    lon, lat, vil, aux = _locate(rng, county, places, mode, place)
    located = rng.random(n) >= NULL_COORD_P
    has_area = np.where(located, rng.random(n) >= NULL_AREA_P, rng.random(n) < 0.5)
    if resolved_areas:
        has_area |= located
    status, closed_at = _status(rng, cat, sec)

    ids = _ids(sec)
    out_lon, out_lat = frame.points(lon, lat)
    if keep_p > 0:
        pick = np.flatnonzero((cat == _DISPUTE) & (rng.random(n) < keep_p))
        sources.ids += pc.take(ids, pa.array(pick)).to_pylist()
        sources.seconds.append(sec[pick])
        sources.village.append(vil[pick])
        sources.subcategory += [im.ALL_SUBCATEGORIES[s] for s in sub[pick]]
    return pa.table({
        "incident_id": ids,
        "reported_at": ts(sec),
        "category": pc.take(pa.array(CATEGORIES), pa.array(cat)),
        "subcategory": pc.take(pa.array(im.ALL_SUBCATEGORIES), pa.array(sub)),
        "lon": floats(out_lon, located),
        "lat": floats(out_lat, located),
        "address": _addresses(rng, county, places, mode, place, vil, aux),
        "area_id": pc.take(pa.array(county.village_ids), pa.array(vil, mask=~has_area)),
        "status": pc.take(pa.array(INCIDENT_STATUSES), pa.array(status)),
        "closed_at": ts(closed_at, status == _CLOSED),
    })


def _norm(w: list[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    return w / w.sum()


def _subcategories(rng: np.random.Generator, cat: np.ndarray, sec: np.ndarray) -> np.ndarray:
    sub = np.empty(len(cat), dtype=np.int64)
    for c, name in enumerate(CATEGORIES):
        rows = np.flatnonzero(cat == c)
        opts = im.SUBCATEGORIES[name]
        idx = np.array([im.SUB_INDEX[s] for s, _ in opts])
        sub[rows] = idx[rng.choice(len(opts), size=len(rows), p=_norm([w for _, w in opts]))]
        if c == _ASSIST:  # drowning calls come in summer
            drown = rng.random(len(rows)) < DROWNING_SHARE[month_of(sec[rows])]
            sub[rows[drown]] = im.SUB_INDEX[im.DROWNING]
    return sub


def _modes(rng: np.random.Generator, cat: np.ndarray, sub: np.ndarray, places: _Places
           ) -> tuple[np.ndarray, np.ndarray]:
    """Place mode per row, and the repeat place (-1 if none)."""
    n = len(cat)
    cum = np.cumsum(places.prob, axis=1)[cat]
    place = (rng.random(n)[:, None] >= cum).sum(axis=1)
    place = np.where(place < places.prob.shape[1], place, -1)
    mode = np.full(n, im.VILLAGE)
    u = rng.random(n)
    for c, name in enumerate(CATEGORIES):
        pv, ph, _ = im.MODE_P[name]
        rows = cat == c
        mode[rows & (u >= pv)] = im.HOTSPOT
        mode[rows & (u >= pv + ph)] = im.ROAD
    drown = sub == im.SUB_INDEX[im.DROWNING]
    mode[drown] = np.where(rng.random(int(drown.sum())) < im.DROWNING_AT_WATER, im.WATER,
                           im.VILLAGE)
    mode[place >= 0] = im.REPEAT
    return mode, place


def _locate(rng: np.random.Generator, county: County, places: _Places, mode: np.ndarray,
            place: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 points (rounded), their village, and an auxiliary index (street/road/water)."""
    n = len(mode)
    lon, lat = np.empty(n), np.empty(n)
    vil = np.empty(n, dtype=np.int64)
    aux = np.zeros(n, dtype=np.int64)

    rows = np.flatnonzero(mode == im.VILLAGE)
    w = county.village_pop * np.where(county.village_urban, 1.5, 1.0)
    vil[rows] = rng.choice(len(w), size=len(rows), p=_norm(w))
    lon[rows], lat[rows] = sample_in_villages(rng, county.index, vil[rows])

    rows = np.flatnonzero(mode == im.HOTSPOT)
    h = rng.choice(len(county.hotspot_weight), size=len(rows), p=_norm(county.hotspot_weight))
    lon[rows], lat[rows], vil[rows] = sample_near(
        rng, county.index, county.hotspot_m[h, 0], county.hotspot_m[h, 1], county.hotspot_sigma[h])
    aux[rows] = rng.integers(0, len(STREETS), len(rows))

    rows = np.flatnonzero(mode == im.ROAD)
    pw = county.road_weight[county.road_of_point]
    p = rng.choice(len(pw), size=len(rows), p=_norm(pw))
    lon[rows], lat[rows], vil[rows] = sample_near(
        rng, county.index, county.road_m[p, 0], county.road_m[p, 1], 12.0)
    aux[rows] = p  # the road point: road and stake number

    rows = np.flatnonzero(mode == im.WATER)
    p = rng.integers(0, len(county.water_m), len(rows))
    lon[rows], lat[rows], vil[rows] = sample_near(
        rng, county.index, county.water_m[p, 0], county.water_m[p, 1], 40.0)
    aux[rows] = county.water_is_reservoir[p]

    rows = np.flatnonzero(mode == im.REPEAT)
    j = place[rows]
    r = 18.0 * np.sqrt(rng.random(len(rows)))  # same doorway, GPS jitter under 20 m
    a = rng.uniform(0, 2 * np.pi, len(rows))
    x, y = m_to_deg(places.x[j] + r * np.cos(a), places.y[j] + r * np.sin(a))
    lon[rows], lat[rows] = round6(x), round6(y)
    vil[rows] = county.index.lookup(lon[rows], lat[rows])
    lost = rows[vil[rows] < 0]
    if len(lost):  # jitter crossed the county border: use the doorway itself
        x, y = m_to_deg(places.x[place[lost]], places.y[place[lost]])
        lon[lost], lat[lost] = round6(x), round6(y)
        vil[lost] = county.index.lookup(lon[lost], lat[lost])
    return lon, lat, vil, aux


def _status(rng: np.random.Generator, cat: np.ndarray, sec: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    n = len(cat)
    dispatch = rng.lognormal(np.log(im.DISPATCH_MEDIAN_MIN * 60), 1.2, n)
    backlog = rng.random(n) < 0.08  # calls parked for a follow-up visit in office hours
    dispatch[backlog] += rng.lognormal(np.log(20 * 3600), 0.8, int(backlog.sum()))
    median = np.array([im.CLOSE_MEDIAN_MIN[c] * 60.0 for c in CATEGORIES])[cat]
    close = rng.lognormal(np.log(median), 1.0)
    stuck = rng.random(n) < np.array([im.STUCK_P.get(c, 0.003) for c in CATEGORIES])[cat]
    t_dispatch = sec + dispatch.astype(np.int64) + 30
    t_close = t_dispatch + close.astype(np.int64) + 60
    status = np.full(n, _OPEN)
    status[t_dispatch <= END_S] = _DISPATCHED
    status[(t_close <= END_S) & ~stuck] = _CLOSED
    return status, t_close


def _ids(sec: np.ndarray) -> pa.Array:
    """JQ + date + six-digit number of the day, as 110 systems number calls."""
    day = sec // DAY_S
    days, first = np.unique(day, return_index=True)
    pos = np.searchsorted(days, day)
    seq = np.arange(len(sec)) - first[pos] + 1
    stamps = pa.array([str(np.datetime64(int(d), "D")).replace("-", "") for d in days],
                      type=pa.string())
    return pc.binary_join_element_wise(
        "JQ", pc.take(stamps, pa.array(pos)),
        pc.utf8_lpad(pc.cast(pa.array(seq), pa.string()), 6, padding="0"), "")


def _addresses(rng: np.random.Generator, county: County, places: _Places, mode: np.ndarray,
               place: np.ndarray, vil: np.ndarray, aux: np.ndarray) -> pa.Array:
    n = len(mode)
    towns = pa.array([county.name + t for t in county.town_names])
    town = pc.take(towns, pa.array(county.village_town[vil]))
    village = pc.take(pa.array(county.village_names), pa.array(vil))
    street = pc.take(pa.array(list(STREETS)), pa.array(np.where(mode == im.HOTSPOT, aux, 0)))
    on_road = mode == im.ROAD
    point = np.where(on_road, aux, 0)
    road = pc.take(pa.array(county.road_names), pa.array(county.road_of_point[point]))
    chain = (county.road_chain_m[point] // 10 * 10).astype(np.int64)  # 桩号 K823+450
    stake = pc.binary_join_element_wise(
        road, "K", pc.cast(pa.array(chain // 1000), pa.string()), "+",
        pc.utf8_lpad(pc.cast(pa.array(chain % 1000), pa.string()), 3, padding="0"), "")
    number = pc.cast(pa.array(rng.integers(1, 200, n)), pa.string())
    is_ = {m: pa.array(mode == m) for m in (im.HOTSPOT, im.ROAD, im.WATER)}
    reservoir = pa.array((mode == im.WATER) & (aux == 1))
    middle = pc.if_else(is_[im.HOTSPOT], street, village)
    middle = pc.if_else(is_[im.ROAD], stake, middle)
    middle = pc.if_else(reservoir, pa.scalar(county.reservoir_name), middle)
    tail = pc.binary_join_element_wise(number, "号", "")
    tail = pc.if_else(is_[im.ROAD], pa.scalar("处"), tail)
    tail = pc.if_else(is_[im.WATER], pa.scalar(county.river_name + "段"), tail)
    tail = pc.if_else(reservoir, pa.scalar("库区"), tail)
    text = pc.binary_join_element_wise(town, middle, tail, "")
    rep = pc.take(pa.array(places.address), pa.array(np.maximum(place, 0)))
    return pc.if_else(pa.array(place >= 0), rep, text)
