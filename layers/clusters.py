"""Gathering many symbols into counted groups when zoomed out (hazards, resources).

At county zoom 9,000 hazard symbols overlap into confetti. When more than
``SYMBOL_LIMIT`` points are in view, points are gathered per square cell of a grid
anchored at the Mercator origin, about ``CLUSTER_CELLS`` cells across the view; the
cell size is a power-of-two fraction of the world, like a tile, so groups do not jump
while panning and split cleanly in four when zooming in one level. A cell holding one
point leaves it as a symbol. Each group counts its members by class (a hazard's state,
a resource's kind) and carries a badge count (overdue hazards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from data.queries import Viewport
from data.tiles import ORIGIN, WORLD

SYMBOL_LIMIT = 400
"""At most this many points in view are drawn as symbols; more are gathered."""
CLUSTER_CELLS = 16
"""Grid cells across the view's width, roughly (a power-of-two cell is chosen)."""


def cluster_cell(view: Viewport) -> float:
    """The grid's cell in Mercator metres for ``view``: WORLD / 2**k nearest to 1/16 of it."""
    target = max(view.x1 - view.x0, 1.0) / CLUSTER_CELLS
    return WORLD / 2.0 ** round(math.log2(WORLD / target))


def in_view(mx: np.ndarray, my: np.ndarray, view: Viewport) -> int:
    return int(np.count_nonzero((mx >= view.x0) & (mx <= view.x1)
                                & (my >= view.y0) & (my <= view.y1)))


@dataclass(frozen=True)
class Grouping:
    """Which points were gathered, and the groups: one row per cell with ≥ 2 points."""

    member_of: np.ndarray
    """(n,) the group of each point, -1 for a point left as a symbol."""
    x: np.ndarray
    y: np.ndarray
    counts: np.ndarray  # (m, k) members per class
    badges: np.ndarray  # (m,) flagged members (e.g. overdue)
    cell_x: np.ndarray  # (m,) grid column and row of each group
    cell_y: np.ndarray
    cell: float

    def __len__(self) -> int:
        return len(self.x)


def group_points(mx: np.ndarray, my: np.ndarray, classes: np.ndarray, n_classes: int,
                 cell: float, flags: np.ndarray | None = None) -> Grouping:
    """Gather points per grid cell of side ``cell`` (Mercator metres).

    ``classes`` are class numbers in [0, n_classes); ``flags`` (bool) are counted apart
    as the group's badge.
    """
    mx, my = np.asarray(mx, float), np.asarray(my, float)
    cls = np.asarray(classes, np.int64)
    n = len(mx)
    cx = np.floor((mx + ORIGIN) / cell).astype(np.int64)
    cy = np.floor((my + ORIGIN) / cell).astype(np.int64)
    key = cx * (1 << 31) + cy
    uniq, inverse, sizes = np.unique(key, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    grouped = sizes >= 2
    group_id = np.full(len(uniq), -1, np.int64)
    group_id[grouped] = np.arange(int(grouped.sum()))
    member_of = group_id[inverse] if n else np.zeros(0, np.int64)
    m = int(grouped.sum())
    sel = member_of >= 0
    g = member_of[sel]
    counts = np.zeros((m, n_classes), np.int64)
    np.add.at(counts, (g, cls[sel]), 1)
    total = np.bincount(g, minlength=m).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.bincount(g, weights=mx[sel], minlength=m) / total
        y = np.bincount(g, weights=my[sel], minlength=m) / total
    badges = (np.bincount(g, weights=np.asarray(flags, float)[sel], minlength=m).astype(np.int64)
              if flags is not None else np.zeros(m, np.int64))
    first = np.zeros(m, np.int64)
    first[g[::-1]] = np.flatnonzero(sel)[::-1]  # any member gives the group's cell
    return Grouping(member_of, x, y, counts, badges, cx[first] if m else np.zeros(0, np.int64),
                    cy[first] if m else np.zeros(0, np.int64), cell)
