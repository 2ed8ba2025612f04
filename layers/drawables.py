"""Plain drawables: what to draw, in Web Mercator metres, with no Qt in sight.

The map canvas, the PDF painter and the folium exporter each map these few
types to their own items (a registry per renderer), so the three show the same
scene. Arrays are numpy; colours are RGBA ``uint8``; sizes are in points at a
1920-wide reference screen and scaled by the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Points:
    """Symbols at points. ``colors``/``sizes`` per point; ``keys`` identify them for clicks."""

    layer: str
    x: np.ndarray
    y: np.ndarray
    colors: np.ndarray  # (n, 4) uint8
    sizes: np.ndarray  # (n,) float
    symbol: str = "o"  # o, s (square), t (triangle), d (diamond), star, h (hexagon)
    keys: tuple[str, ...] = ()
    tooltips: tuple[str, ...] = ()
    outline: RGBA = (255, 255, 255, 200)
    z: int = 30

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Polygons:
    """Area outlines with optional fills (a choropleth). One entry per area."""

    layer: str
    rings: tuple[tuple[np.ndarray, ...], ...]
    """Per polygon, its exterior rings as (n, 2) arrays (holes are not filled apart)."""
    keys: tuple[str, ...]
    pen: RGBA
    pen_width: float
    fills: np.ndarray | None = None  # (n, 4) uint8, None = outline only
    tooltips: tuple[str, ...] = ()
    z: int = 10


@dataclass(frozen=True)
class Labels:
    """Text at points; ``priority`` decides which label survives a collision (higher wins)."""

    layer: str
    x: np.ndarray
    y: np.ndarray
    texts: tuple[str, ...]
    priority: np.ndarray
    size: float = 10.0
    color: RGBA = (230, 230, 230, 255)
    halo: RGBA = (0, 0, 0, 180)
    z: int = 40
    offset: float = 0.0
    """Reference points the text sits above its point (a note beside a symbol, not on it)."""


@dataclass(frozen=True)
class Raster:
    """A grid of values over a Mercator rectangle; row 0 is the south edge."""

    layer: str
    values: np.ndarray  # (h, w) float
    extent: tuple[float, float, float, float]  # x0, y0, x1, y1
    lut: np.ndarray  # (256, 4) uint8, index 0 transparent
    levels: tuple[float, float]
    z: int = 5


@dataclass(frozen=True)
class Lines:
    """Straight segments, e.g. dispatch lines from an incident to the nearest forces."""

    layer: str
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    color: RGBA
    width: float = 2.0
    labels: tuple[str, ...] = ()
    z: int = 35


@dataclass(frozen=True)
class Cells:
    """Square grid cells (hotspots): lower-left corners and one size, coloured each."""

    layer: str
    x: np.ndarray
    y: np.ndarray
    size: float
    colors: np.ndarray  # (n, 4) uint8
    keys: tuple[str, ...] = ()
    tooltips: tuple[str, ...] = ()
    z: int = 20


@dataclass(frozen=True)
class Polylines:
    """Lines of many vertices (roads, rivers): one array each for x and y, the lines
    separated by NaN."""

    layer: str
    x: np.ndarray
    y: np.ndarray
    color: RGBA
    width: float = 1.5
    z: int = 4


@dataclass(frozen=True)
class Clusters:
    """Symbols gathered per grid cell when zoomed out: a ring of counts by class (state,
    kind) around the total, a red badge for what is overdue; a glyph with nothing to act
    on is faded and drawn below the others. A click zooms in on it."""

    layer: str
    x: np.ndarray  # members' mean position per cluster
    y: np.ndarray
    counts: np.ndarray  # (n, k) int: members per class
    class_colors: np.ndarray  # (k, 4) uint8
    badges: np.ndarray  # (n,) int: shown in red on the glyph when > 0 (overdue)
    faded: np.ndarray  # (n,) bool
    cell: float  # Mercator metres of the grid that gathered them
    keys: tuple[str, ...] = ()
    tooltips: tuple[str, ...] = ()
    z: int = 36

    def __len__(self) -> int:
        return len(self.x)

    @property
    def totals(self) -> np.ndarray:
        return np.asarray(self.counts).sum(axis=1)


Drawable = Points | Polygons | Labels | Raster | Lines | Cells | Polylines | Clusters


@dataclass(frozen=True)
class LegendEntry:
    label: str
    color: RGBA
    symbol: str = "o"
    size: float = 8.0


@dataclass(frozen=True)
class LayerSpec:
    """One toggleable layer: its drawables and its legend, tagged with a group (map)."""

    name: str
    group: str  # situation, resources, hazards, base
    title: str
    drawables: tuple[Drawable, ...]
    legend: tuple[LegendEntry, ...] = ()
    visible: bool = True
    meta: dict = field(default_factory=dict)
