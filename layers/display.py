"""Drawables moved into the datum of the base map's tiles, for display only.

The data are WGS84 everywhere (queries, clicks, nearest forces, exported figures).
A tile set drawn in GCJ-02 puts every road a few hundred metres away from where WGS84
says it is; to line the data up with such tiles, each renderer draws a copy of the
drawables with their coordinates moved by ``data.tiles.to_display``. A density raster
or a grid of cells moves as a whole by the offset at its centre (the offset changes by
centimetres across a county).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from data.tiles import to_display

from .drawables import (
    Cells,
    Clusters,
    Drawable,
    Labels,
    LayerSpec,
    Lines,
    Points,
    Polygons,
    Polylines,
    Raster,
)


def _offset(x: float, y: float, datum: str) -> tuple[float, float]:
    sx, sy = to_display([x], [y], datum)
    return float(sx[0]) - x, float(sy[0]) - y


def shift_drawable(d: Drawable, datum: str) -> Drawable:
    """``d`` with its coordinates in the tiles' datum (``d`` itself for ``wgs84``)."""
    if datum == "wgs84":
        return d
    if isinstance(d, Points | Labels | Clusters | Polylines):
        x, y = to_display(d.x, d.y, datum)
        return replace(d, x=x, y=y)
    if isinstance(d, Lines):
        x0, y0 = to_display(d.x0, d.y0, datum)
        x1, y1 = to_display(d.x1, d.y1, datum)
        return replace(d, x0=x0, y0=y0, x1=x1, y1=y1)
    if isinstance(d, Polygons):
        rings = []
        for parts in d.rings:
            moved = []
            for ring in parts:
                x, y = to_display(ring[:, 0], ring[:, 1], datum)
                moved.append(np.column_stack([x, y]))
            rings.append(tuple(moved))
        return replace(d, rings=tuple(rings))
    if isinstance(d, Raster):
        x0, y0, x1, y1 = d.extent
        dx, dy = _offset((x0 + x1) / 2, (y0 + y1) / 2, datum)
        return replace(d, extent=(x0 + dx, y0 + dy, x1 + dx, y1 + dy))
    if isinstance(d, Cells):
        if not len(d.x):
            return d
        dx, dy = _offset(float(np.mean(d.x)), float(np.mean(d.y)), datum)
        return replace(d, x=np.asarray(d.x, float) + dx, y=np.asarray(d.y, float) + dy)
    return d


def shift_spec(spec: LayerSpec, datum: str) -> LayerSpec:
    if datum == "wgs84":
        return spec
    return replace(spec, drawables=tuple(shift_drawable(d, datum) for d in spec.drawables))
