"""The one point-in-polygon function of the build.

Every executor places points through ``locate_points`` (called by the cockpit's own
``data.geo_clean.clean_points`` via ``SwappableAreas.locate``): the finest-level area
covering each point, by the cockpit's ``AreaIndex`` over the broadcast polygons. A site
with Apache Sedona (whose jars come from Maven, out of reach here) replaces this one
function; nothing else in the build knows how points meet polygons.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from data.areas import AreaSet


def locate_points(areas: AreaSet, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Area index (into ``areas``) of the finest polygon covering each point, -1 if none."""
    return AreaSet.locate(areas, lon, lat)


class SwappableAreas(AreaSet):
    """An ``AreaSet`` that places points with ``locate_points``."""

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return locate_points(self, lon, lat)

    @classmethod
    def of(cls, areas: AreaSet) -> SwappableAreas:
        """A copy whose lists are its own (an executor adds pseudo areas to them) and
        whose polygons and index are shared."""
        kw = {f.name: getattr(areas, f.name) for f in fields(areas) if f.init}
        for name in ("ids", "names", "levels", "parent", "population", "geoms"):
            kw[name] = list(kw[name])
        kw["_by_id"] = dict(kw["_by_id"])
        return cls(**kw)
