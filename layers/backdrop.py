"""What lies under the data on every map: the base map's tiles and the reference layers.

``Backdrop`` travels from the settings (``desktop``) to the renderers that draw a map
without a window (the PDF painter, the HTML exporter); the window's canvas gets the
same pieces through its own base-map loader. ``reference_specs`` turns the loaded
reference files into layer specs for one view: polygons (outlined, optionally filled)
and polylines, simplified to the view's resolution, each file one toggleable layer of
the ``base`` group, under the data layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from data.queries import Viewport
from data.reference import ReferenceLayer
from data.tiles import TileSource

from .drawables import Drawable, LayerSpec, LegendEntry, Polygons, Polylines

REFERENCE_PREFIX = "reference."
REFERENCE_Z = 4
"""Under the density raster (5) and the area outlines (9, 10)."""


@dataclass(frozen=True, eq=False)
class Backdrop:
    tiles: TileSource | None = None
    datum: str = "wgs84"
    """The datum the tiles are drawn in; the data are shifted to it for display."""
    attribution: str | None = None
    reference: tuple[ReferenceLayer, ...] = ()

    def reference_specs(self, view: Viewport) -> list[LayerSpec]:
        return reference_specs(self.reference, view)


def reference_name(i: int) -> str:
    return f"{REFERENCE_PREFIX}{i}"


def reference_specs(layers: Sequence[ReferenceLayer], view: Viewport) -> list[LayerSpec]:
    """One spec per reference layer (in settings order), drawn for ``view``."""
    m_per_px = (view.x1 - view.x0) / max(1, view.width)
    out = []
    for i, layer in enumerate(layers):
        st = layer.style
        shapes = layer.at_resolution(m_per_px)
        name = reference_name(i)
        drawables: list[Drawable] = []
        if shapes.rings:
            fills = None
            if st.fill is not None:
                fills = np.tile(np.array([st.fill], np.uint8), (len(shapes.rings), 1))
            drawables.append(Polygons(name, shapes.rings, shapes.ring_names, st.color,
                                      st.width, fills, shapes.ring_names, z=REFERENCE_Z))
        if len(shapes.line_x):
            drawables.append(Polylines(name, shapes.line_x, shapes.line_y, st.color, st.width,
                                       z=REFERENCE_Z))
        filled = bool(shapes.rings) and st.fill is not None and not len(shapes.line_x)
        legend = (LegendEntry(st.name, st.fill if filled and st.fill else st.color,
                              "s" if filled else "line", st.width),)
        out.append(LayerSpec(name, "base", st.name, tuple(drawables), legend,
                             meta={"path": str(st.path), "crs": layer.crs,
                                   "vertices": layer.vertices}))
    return out
