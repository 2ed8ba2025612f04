"""Broken rows for ``dirty=True``: each has exactly one problem and is counted once.

Most dirty rows are copies of a real row with one field spoiled (and a fresh
id), so that every other column is valid. They come from their own random
stream: the clean rows are the same whether or not dirt is added.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from data.schema import Reason

from .common import DAY_S, END_S, Frame

PER_KIND = 3  # dirty incident rows of each kind
# kind → reason the loader must report (None: a valid row with awkward text)
INCIDENT_KINDS: dict[str, str | None] = {
    "nan_lon": Reason.BAD_COORDINATES, "inf_lat": Reason.BAD_COORDINATES,
    "lat_200": Reason.COORDINATES_OUT_OF_RANGE, "far_away": Reason.COORDINATES_OUTSIDE_EXTENT,
    "swapped": Reason.SWAPPED_COORDINATES, "zombie": f"{Reason.UNKNOWN_CODE}:category",
    "null_time": Reason.BAD_TIMESTAMP, "null_id": Reason.MISSING_ID,
    "duplicate": Reason.DUPLICATE_ID, "text": None,
}
TEXTS = (  # (subcategory, address) that must survive SQL, HTML and fonts untouched
    ('"老王"说\'有人打架\'', "示范县城关镇人民路\"3\"号'后门'"),
    ("打架斗殴", "示范县城关镇'; DROP TABLE incidents; --"),
    ("<b>html</b>", "示范县城关镇<i>解放路</i>12号&amp;"),
    ("醉酒滋事🍺", "示范县城关镇滨江路66号🚨🔥"),
)


class DirtyLog:
    """The manifest's table → reason → count, kept exactly as rows are written."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def add(self, table: str, reason: str | None, k: int = 1) -> None:
        if reason is not None and k:
            self.counts.setdefault(table, Counter())[reason] += k

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {t: dict(sorted(c.items())) for t, c in sorted(self.counts.items()) if c}


class IncidentDirt:
    """Adds dirty incidents to the chunks as they stream past (see incidents.ChunkHook)."""

    def __init__(self, rng: np.random.Generator, log: DirtyLog) -> None:
        self.rng, self.log = rng, log
        self.todo: list[tuple[int, str, int]] | None = None  # (chunk, kind, variant)
        self.serial = 0

    def __call__(self, table: pa.Table, k: int, n_chunks: int) -> pa.Table:
        if self.todo is None:  # first call: spread the dirty rows over the chunks
            kinds = [(kind, v) for kind in INCIDENT_KINDS
                     for v in range(len(TEXTS) if kind == "text" else PER_KIND)]
            where = self.rng.integers(0, n_chunks, len(kinds))
            where[[i for i, (kind, _) in enumerate(kinds) if kind == "null_time"]] = n_chunks - 1
            self.todo = sorted((int(w), kind, v) for w, (kind, v) in zip(where, kinds, strict=True))
        mine = [t for t in self.todo if t[0] <= k]  # late ones ride on a later chunk
        if not table.num_rows:
            return table
        sec = table.column("reported_at").to_numpy().astype("datetime64[s]").astype(np.int64)
        located = pc.is_valid(table.column("lon")).to_numpy(zero_copy_only=False)
        # Not in the chunk's last hour, so a duplicate keyed in later still sorts inside it.
        base = np.flatnonzero(located & (sec < min(END_S - DAY_S, int(sec.max()) - 3600)))
        if not mine or not len(base):
            return table
        self.todo = [t for t in self.todo if t[0] > k]
        rows = [self._row(table, int(self.rng.choice(base)), kind, v) for _, kind, v in mine]
        extra = pa.Table.from_pylist(rows, schema=table.schema)
        merged = pa.concat_tables([table, extra])
        order = pc.sort_indices(merged, sort_keys=[("reported_at", "ascending")])  # NULLs last
        return merged.take(order)

    def _row(self, table: pa.Table, i: int, kind: str, variant: int) -> dict[str, Any]:
        row = table.slice(i, 1).to_pylist()[0]
        self.serial += 1
        day = row["reported_at"].strftime("%Y%m%d")
        if kind != "duplicate":
            row["incident_id"] = f"JQ{day}{900000 + self.serial:06d}"
        if kind == "nan_lon":
            row["lon"] = float("nan")
        elif kind == "inf_lat":
            row["lat"] = float("inf")
        elif kind == "lat_200":
            row["lat"] = 200.0
        elif kind == "far_away":
            row["lon"], row["lat"] = 10.0, 10.0
        elif kind == "swapped":
            row["lon"], row["lat"] = row["lat"], row["lon"]
        elif kind == "zombie":
            row["category"] = "zombie_code"
        elif kind == "null_time":
            row["reported_at"] = None
        elif kind == "null_id":
            row["incident_id"] = None
        elif kind == "duplicate":  # the same call keyed in twice, a few minutes apart
            shift = np.timedelta64(int(self.rng.integers(60, 1800)), "s").item()
            row["reported_at"] += shift
            if row["closed_at"] is not None:  # still closed, and not after extracted_at
                end = np.datetime64(END_S - 1, "s").item()
                row["closed_at"] = min(row["closed_at"] + shift, end)
        elif kind == "text":
            row["subcategory"], row["address"] = TEXTS[variant]
        self.log.add("incidents", INCIDENT_KINDS[kind])
        return row


def _copies(rng: np.random.Generator, table: pa.Table, k: int) -> list[dict[str, Any]]:
    return [table.slice(int(i), 1).to_pylist()[0] for i in rng.choice(table.num_rows, k)]


def areas(frame: Frame, county_bounds: tuple[float, float, float, float], town_ids: list[str],
          log: DirtyLog) -> list[dict[str, Any]]:
    x0, y0, x1, y1 = county_bounds
    mid = (y0 + y1) / 2
    line = frame.geom(shapely.LineString([(x0 + 0.1, mid), (x0 + 0.2, mid + 0.05)]))
    bx, d = x1 + 0.01, 0.002  # a 200 m bow-tie just east of the county
    bowtie = frame.geom(shapely.Polygon([(bx, mid), (bx + d, mid + d), (bx + d, mid),
                                         (bx, mid + d), (bx, mid)]))
    province = frame.geom(shapely.box(x0 - 0.5, y0 - 0.5, x1 + 0.5, y1 + 0.5))
    rows = [
        dict(area_id=f"{town_ids[0]}V901", name="测试甲村", level="village",
             parent_id=town_ids[0], geom_wkb=b"\x01\x03\x00\x00garbage\xff\xfe\x00",
             population=900),
        dict(area_id=f"{town_ids[1]}V901", name="测试乙村", level="village",
             parent_id=town_ids[1], geom_wkb=shapely.to_wkb(line), population=1_100),
        dict(area_id=f"{town_ids[2]}V901", name="测试丙村", level="village",
             parent_id=town_ids[2], geom_wkb=shapely.to_wkb(bowtie), population=1_200),
        dict(area_id="P36", name="示范省", level="province", parent_id=None,
             geom_wkb=shapely.to_wkb(province), population=None),
    ]
    log.add("areas", Reason.INVALID_GEOMETRY, 2)
    log.add("areas", Reason.REPAIRED_GEOMETRY)
    log.add("areas", Reason.UNKNOWN_LEVEL)
    return rows


def resources(rng: np.random.Generator, table: pa.Table, log: DirtyLog) -> list[dict[str, Any]]:
    rows = []
    for i, r in enumerate(_copies(rng, table, 2)):
        r["resource_id"], r["lon"] = f"ZZ{i + 1:04d}", None
        rows.append(r)
    rows += _copies(rng, table, 2)  # same id again: a re-sent register entry
    for i, r in enumerate(_copies(rng, table, 2)):
        r["resource_id"], r["kind"], r["name"] = f"ZZ{i + 11:04d}", "spaceship", f"神舟{i + 1}号"
        rows.append(r)
    log.add("resources", Reason.MISSING_COORDINATES, 2)
    log.add("resources", Reason.DUPLICATE_ID, 2)
    log.add("resources", f"{Reason.UNKNOWN_CODE}:kind", 2)
    return rows


def hazards(rng: np.random.Generator, table: pa.Table, log: DirtyLog) -> list[dict[str, Any]]:
    """Dirty hazards get no rectification events: a set-aside hazard's events stay countable."""
    rows = _copies(rng, table, 6)
    for i, r in enumerate(rows):
        r["hazard_id"] = f"YH9{i + 1:05d}"
    rows[0]["name"] = "<script>alert(1)</script>"
    rows[1]["name"] = "'; DROP TABLE hazards; --🚧"
    rows[2]["lat"] = rows[3]["lat"] = float("nan")
    rows[4]["risk_level"] = rows[5]["risk_level"] = "extreme"
    log.add("hazards", Reason.BAD_COORDINATES, 2)
    log.add("hazards", f"{Reason.UNKNOWN_CODE}:risk_level", 2)
    return rows


def rectifications(log: DirtyLog) -> list[dict[str, Any]]:
    t0 = np.datetime64(END_S - 40 * DAY_S + 4 * 3600, "s").item()  # 10:00
    day = np.timedelta64(1, "D").item()
    rows = [
        dict(event_id="ZG9000001", hazard_id="HZ-DOES-NOT-EXIST", event_at=t0,
             action="assigned", actor="县综治中心 测试员", note="交办不存在的隐患"),
        dict(event_id="ZG9000002", hazard_id="HZ-DOES-NOT-EXIST", event_at=t0 + 5 * day,
             action="rectified", actor="测试单位 测试员", note="已整改"),
        dict(event_id="ZG9000003", hazard_id="HZ-DOES-NOT-EXIST", event_at=t0 + 20 * day,
             action="reinspected", actor="县综治中心 测试员", note="回头看：整改到位"),
    ]
    log.add("rectifications", Reason.UNKNOWN_HAZARD, len(rows))
    return rows


def disputes(rng: np.random.Generator, table: pa.Table, log: DirtyLog
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Disputes with an unknown status (and their valid steps), steps of no dispute."""
    rows, steps = [], []
    for i, r in enumerate(_copies(rng, table, 2)):
        r.update(dispute_id=f"JF9{i + 1:06d}", status="lost", level="village",
                 resolved_at=None, source_incident_id=None)
        rows.append(r)
        steps.append(dict(dispute_id=r["dispute_id"], step_at=r["received_at"],
                          level="village", action="accepted"))
    t0 = np.datetime64(END_S - 30 * DAY_S + 3 * 3600, "s").item()  # 09:00
    for k, act in enumerate(("accepted", "resolved")):
        steps.append(dict(dispute_id="DS-DOES-NOT-EXIST",
                          step_at=t0 + np.timedelta64(3 * k, "D").item(), level="village",
                          action=act))
    log.add("disputes", f"{Reason.UNKNOWN_CODE}:status", 2)
    log.add("dispute_steps", Reason.UNKNOWN_DISPUTE, 2)
    return rows, steps

