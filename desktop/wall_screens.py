"""Where the wall's pieces go when one window spans several physical screens (Qt-free).

A window spanning two monitors is one widget to Qt, but the bezel between them cuts
whatever lies across it: a map across the seam splits the town seat in two. So the
spanning wall is laid out per screen: ``screen_regions`` turns the screens' geometries
into regions of the window, and ``assign_parts`` says which of the board's pieces each
region holds (the map alone on one screen, the panels on the others). A single display,
however large (an LED wall reported as one screen), keeps the one ordinary layout;
so do screens that overlap (mirrored outputs), where a seam cannot be told.
"""

from __future__ import annotations

from collections.abc import Sequence

Rect = tuple[int, int, int, int]
"""x, y, width, height in pixels."""

PARTS = ("banner", "kpis", "left", "map", "right", "timeline")
"""The wall's pieces: the banner, the board's KPI strip, left column, map, right column and
timeline."""


def _overlap(a: Rect, b: Rect) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


def screen_regions(screens: Sequence[Rect]) -> list[Rect]:
    """The screens as regions of a window covering them all (its origin at their common
    top-left), left to right then top to bottom. One region (the whole window) for a
    single screen, for repeated (cloned) screens and for screens that overlap; none for
    none."""
    rects = sorted({tuple(int(v) for v in r) for r in screens if r[2] > 0 and r[3] > 0},
                   key=lambda r: (r[0], r[1]))
    if not rects:
        return []
    x0, y0 = min(r[0] for r in rects), min(r[1] for r in rects)
    x1 = max(r[0] + r[2] for r in rects)
    y1 = max(r[1] + r[3] for r in rects)
    if len(rects) == 1 or any(_overlap(a, b) for i, a in enumerate(rects)
                              for b in rects[i + 1:]):
        return [(0, 0, x1 - x0, y1 - y0)]
    return [(x - x0, y - y0, w, h) for x, y, w, h in rects]


def map_region(regions: Sequence[Rect]) -> int:
    """The region for the map: the largest screen; among equals the one nearest the middle
    of the wall, then the leftmost (two equal screens: the left one)."""
    mid = (len(regions) - 1) / 2
    return max(range(len(regions)),
               key=lambda i: (regions[i][2] * regions[i][3], -abs(i - mid), -i))


def assign_parts(regions: Sequence[Rect]) -> list[tuple[str, ...]]:
    """The pieces each region holds, in the order of ``regions``. One region: all of them
    (the ordinary layout). Several: the banner and the map on the map's screen; the panels
    on the next screen, or, with three screens and more, the KPIs and the left column on
    the first other screen and the right column and the timeline on the second (a fourth
    screen and beyond stay empty rather than cut a panel)."""
    if len(regions) <= 1:
        return [PARTS] if regions else []
    m = map_region(regions)
    others = [i for i in range(len(regions)) if i != m]
    out: list[tuple[str, ...]] = [() for _ in regions]
    out[m] = ("banner", "map")
    if len(others) == 1:
        out[others[0]] = ("kpis", "left", "right", "timeline")
    else:
        out[others[0]] = ("kpis", "left")
        out[others[1]] = ("right", "timeline")
    return out
