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

from data.coords import mercator_to_lonlat
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


def _lonlat(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    lon, lat = mercator_to_lonlat(x, y)
    return np.round(np.column_stack([lon, lat]), 6).tolist()


def reference_geojson(layer: ReferenceLayer, metres_per_px: float) -> dict:
    """The layer as a GeoJSON FeatureCollection in lon/lat (WGS84), simplified to
    ``metres_per_px``: polygons with their names, lines as one MultiLineString."""
    shapes = layer.at_resolution(metres_per_px)
    features = [{"type": "Feature", "properties": {"name": name},
                 "geometry": {"type": "Polygon",
                              "coordinates": [_lonlat(r[:, 0], r[:, 1]) for r in rings]}}
                for rings, name in zip(shapes.rings, shapes.ring_names, strict=True) if rings]
    if len(shapes.line_x):
        breaks = np.flatnonzero(~np.isfinite(shapes.line_x))
        parts, start = [], 0
        for end in [*breaks.tolist(), len(shapes.line_x)]:
            if end - start >= 2:
                parts.append(_lonlat(shapes.line_x[start:end], shapes.line_y[start:end]))
            start = end + 1
        features.append({"type": "Feature", "properties": {"name": layer.style.name},
                         "geometry": {"type": "MultiLineString", "coordinates": parts}})
    return {"type": "FeatureCollection", "features": features}
