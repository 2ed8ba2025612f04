"""Colours and symbols of the three maps, in one place (RGBA tuples).

Category colours follow the conventions of Chinese police GIS: criminal red,
public order orange, traffic blue, fire deep orange; hazard states go from red
(open) through amber (rectifying) to blue (rectified) and green (verified).
"""

from __future__ import annotations

import numpy as np

RGBA = tuple[int, int, int, int]

INCIDENT_COLORS: dict[str, RGBA] = {
    "criminal": (230, 57, 70, 255),
    "public_order": (244, 162, 97, 255),
    "dispute": (233, 196, 106, 255),
    "traffic": (69, 123, 157, 255),
    "fire": (255, 99, 20, 255),
    "assistance": (42, 157, 143, 255),
    "fraud": (181, 101, 255, 255),
    "other": (160, 160, 160, 255),
}

RESOURCE_STYLE: dict[str, tuple[RGBA, str]] = {
    "police_station": ((30, 136, 229, 255), "s"),
    "patrol_unit": ((0, 188, 212, 255), "t"),
    "officer": ((66, 165, 245, 255), "o"),
    "auxiliary": ((129, 212, 250, 255), "o"),
    "mass_prevention": ((102, 187, 106, 255), "d"),
    "social_org": ((171, 71, 188, 255), "h"),
    "mediator": ((255, 202, 40, 255), "star"),
    "equipment": ((141, 110, 99, 255), "s"),
    "other": ((158, 158, 158, 255), "o"),
}
UNAVAILABLE_ALPHA = 70

HAZARD_STATE_COLORS: dict[str, RGBA] = {
    "open": (229, 57, 53, 255),
    "rectifying": (255, 179, 0, 255),
    "rectified": (30, 136, 229, 255),
    "verified": (67, 160, 71, 255),
}
HAZARD_SYMBOLS: dict[str, str] = {
    "key_place": "s", "crime_hotspot": "star", "drowning": "d", "road": "t",
    "fire": "h", "public_order": "o", "other": "o",
}
RISK_SIZES: dict[str, float] = {"major": 16.0, "high": 12.0, "medium": 9.0, "low": 7.0,
                                "other": 7.0}

HOT_COLORS: dict[int, RGBA] = {3: (215, 25, 28, 150), 2: (253, 174, 97, 140),
                               1: (255, 224, 140, 120), -1: (171, 217, 233, 110),
                               -2: (116, 173, 209, 130), -3: (44, 123, 182, 150)}

# Sequential classes for choropleths (ColorBrewer YlOrRd, 5 classes).
CHOROPLETH: tuple[RGBA, ...] = ((255, 255, 178, 150), (254, 204, 92, 160), (253, 141, 60, 170),
                                (240, 59, 32, 180), (189, 0, 38, 190))


def heat_lut(dark: bool = True) -> np.ndarray:
    """256-entry lookup table for the density raster; entry 0 is transparent."""
    stops = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    colors = np.array([(40, 0, 120, 90), (120, 0, 170, 150), (230, 40, 90, 200),
                       (255, 150, 30, 230), (255, 255, 160, 255)], dtype=float)
    if not dark:
        # on white, the faint end must stay light: pale orange to deep red
        colors = np.array([(255, 220, 160, 70), (253, 174, 97, 140), (240, 59, 32, 190),
                           (189, 0, 38, 230), (110, 0, 40, 255)], dtype=float)
    t = np.linspace(0, 1, 256)
    lut = np.stack([np.interp(t, stops, colors[:, c]) for c in range(4)], axis=1)
    lut[0] = (0, 0, 0, 0)
    return lut.astype(np.uint8)


def quantile_breaks(values: np.ndarray, k: int = 5) -> np.ndarray:
    """Upper bounds of ``k`` quantile classes over the positive values (a standard scheme)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) == 0:
        return np.zeros(0)
    return np.unique(np.quantile(v, np.linspace(0, 1, k + 1)[1:]))


def classify(values: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Class index per value (-1 for 0, NaN or no breaks)."""
    v = np.asarray(values, float)
    if len(breaks) == 0:
        return np.full(len(v), -1)
    cls = np.searchsorted(breaks, v, side="left")
    return np.where(np.isfinite(v) & (v > 0), np.minimum(cls, len(breaks) - 1), -1)
