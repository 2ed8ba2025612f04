"""Shared constants and small helpers of the demo generator.

Everything is generated in WGS84; a local metre grid around the county centre
is used for distances (sigma of a hotspot, jitter of a repeat address). Times
are naive local seconds since the epoch, as the extract stores naive local
timestamps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely

from data.coords import from_wgs84

REGION = "示范县"
EXTRACTED_AT = "2026-11-20T06:00:00"
END_S = int(np.datetime64(EXTRACTED_AT, "s").astype(np.int64))
DAYS = 730  # two years; the window holds no 29 February
START_S = END_S - DAYS * 86400
HOURS = DAYS * 24
DAY_S = 86400
YEAR_S = 365 * DAY_S
# Spring Festival (春节) inside the window: fireworks, travel and family quarrels peak.
SPRING_FESTIVALS_S = tuple(
    int(np.datetime64(d, "s").astype(np.int64)) for d in ("2025-01-29", "2026-02-17")
)

LON0, LAT0 = 114.9, 27.1
MX = 111_320.0 * math.cos(math.radians(LAT0))  # metres per degree of longitude
MY = 110_574.0  # metres per degree of latitude


def m_to_deg(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    return LON0 + np.asarray(x, dtype=np.float64) / MX, LAT0 + np.asarray(y, dtype=np.float64) / MY


def deg_to_m(lon: np.ndarray | float, lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    return ((np.asarray(lon, dtype=np.float64) - LON0) * MX,
            (np.asarray(lat, dtype=np.float64) - LAT0) * MY)


def geom_m_to_deg(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(m_to_deg(xy[:, 0], xy[:, 1])))


def round6(a: np.ndarray) -> np.ndarray:
    """Six decimals (~0.1 m), as real extracts carry."""
    return np.round(np.asarray(a, dtype=np.float64), 6)


def ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Naive local seconds → Arrow timestamp[us] (DuckDB TIMESTAMP); invalid → NULL."""
    us = np.asarray(seconds, dtype=np.int64) * 1_000_000
    return pa.array(us, type=pa.timestamp("us"), mask=None if valid is None else ~valid)


def dates(seconds: np.ndarray) -> pa.Array:
    return pa.array((np.asarray(seconds, dtype=np.int64) // DAY_S).astype(np.int32),
                    type=pa.date32())


def floats(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Doubles; NaN stays NaN (a dirty value), NULL only where ``valid`` is False."""
    return pa.array(np.asarray(values, dtype=np.float64),
                    mask=None if valid is None else ~np.asarray(valid, dtype=bool))


def month_of(seconds: np.ndarray) -> np.ndarray:
    """0 = January."""
    return np.asarray(seconds, dtype="datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12


def hour_of(seconds: np.ndarray) -> np.ndarray:
    return (np.asarray(seconds, dtype=np.int64) % DAY_S) // 3600


def weekday_of(seconds: np.ndarray) -> np.ndarray:
    """0 = Monday (1970-01-01 was a Thursday)."""
    return (np.asarray(seconds, dtype=np.int64) // DAY_S + 3) % 7


def choice(rng: np.random.Generator, weights: np.ndarray | list[float], size: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(w), size=size, p=w / w.sum())


def iso(seconds: int) -> str:
    return str(np.datetime64(int(seconds), "s"))


@dataclass(frozen=True)
class Frame:
    """The output coordinate system: points and polygon vertices leave WGS84 here."""

    system: str = "wgs84"

    def points(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.system == "wgs84":
            return round6(lon), round6(lat)
        x, y = from_wgs84(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64),
                          self.system)
        return round6(x), round6(y)

    def geom(self, g: shapely.Geometry) -> shapely.Geometry:
        if self.system == "wgs84":
            return g
        return shapely.transform(
            g, lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], self.system)))
