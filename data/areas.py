"""The administrative hierarchy of an extract, in memory.

Areas are few (hundreds to thousands), so they live in numpy arrays next to
shapely geometries. Every other table refers to an area by its position here
(``area_idx``). Areas referenced by an ``area_id`` that the areas table does not
know are kept as "pseudo" areas (no level, no geometry) so that their rows are
still counted against that id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from .area_index import AreaIndex
from .schema import AREA_LEVELS


@dataclass
class AreaSet:
    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    levels: list[str | None] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    """Index of the enclosing area, -1 for none."""
    population: list[float] = field(default_factory=list)
    geoms: list[shapely.Geometry | None] = field(default_factory=list)
    """WGS84 polygons; None for pseudo areas."""
    _by_id: dict[str, int] = field(default_factory=dict, repr=False)
    index: AreaIndex | None = field(default=None, repr=False)
    index_map: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)
    """Position in ``index`` → area index."""

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, area_id: str, name: str, level: str | None, geom: shapely.Geometry | None,
            population: float = np.nan, parent: int = -1) -> int:
        idx = len(self.ids)
        self.ids.append(area_id)
        self.names.append(name)
        self.levels.append(level)
        self.parent.append(parent)
        self.population.append(population)
        self.geoms.append(geom)
        self._by_id[area_id] = idx
        return idx

    def idx_of(self, area_id: str) -> int | None:
        return self._by_id.get(area_id)

    @property
    def finest_level(self) -> str | None:
        present = {lv for lv, g in zip(self.levels, self.geoms, strict=True) if g is not None}
        for level in reversed(AREA_LEVELS):
            if level in present:
                return level
        return None

    def at_level(self, level: str) -> list[int]:
        return [i for i, lv in enumerate(self.levels) if lv == level]

    def build_index(self) -> None:
        """Index the polygons of the finest level for point-in-polygon assignment."""
        level = self.finest_level
        if level is None:
            self.index, self.index_map = None, np.zeros(0, np.int32)
            return
        members = [i for i in self.at_level(level) if self.geoms[i] is not None]
        self.index_map = np.asarray(members, dtype=np.int32)
        self.index = AreaIndex.build([self.geoms[i] for i in members])

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Area index of the finest-level polygon covering each point, -1 if none."""
        if self.index is None and self.finest_level is not None:
            self.build_index()  # built on first use: opening from the cache needs none
        if self.index is None or len(self.index_map) == 0:
            return np.full(len(lon), -1, dtype=np.int32)
        pos = self.index.locate(lon, lat)
        out = np.full(len(pos), -1, dtype=np.int32)
        hit = pos >= 0
        out[hit] = self.index_map[pos[hit]]
        return out

    def extent(self) -> tuple[float, float, float, float] | None:
        polys = [g for g in self.geoms if g is not None]
        if not polys:
            return None
        b = shapely.total_bounds(np.asarray(polys, dtype=object))
        return float(b[0]), float(b[1]), float(b[2]), float(b[3])

    def parent_array(self) -> np.ndarray:
        return np.asarray(self.parent, dtype=np.int64)

    def descendants(self, roots: Iterable[int]) -> np.ndarray:
        """The given areas and every area below them (sorted area indices)."""
        parent = self.parent_array()
        inside = np.zeros(len(parent), dtype=bool)
        targets = np.asarray(sorted(set(roots)), dtype=np.int64)
        if len(targets) == 0 or len(parent) == 0:
            return np.zeros(0, dtype=np.int64)
        inside[targets] = True
        # Walk up from every area; depth is bounded by the number of levels but a
        # producer may hand over a cycle, so stop after len(parent) steps at most.
        anc = parent.copy()
        for _ in range(min(len(parent), 16)):
            valid = anc >= 0
            if not valid.any():
                break
            inside[valid] |= inside[anc[valid]]
            anc = np.where(valid, parent[np.clip(anc, 0, None)], -1)
        return np.flatnonzero(inside)

    def ancestor_at(self, level: str) -> np.ndarray:
        """For every area, the index of its ancestor (or itself) at ``level``, -1 if none."""
        parent = self.parent_array()
        levels = np.asarray([lv == level for lv in self.levels], dtype=bool)
        out = np.where(levels, np.arange(len(parent)), -1)
        anc = parent.copy()
        for _ in range(min(len(parent), 16)):
            valid = (anc >= 0) & (out < 0)
            if not valid.any():
                break
            hit = valid & levels[np.clip(anc, 0, None)]
            out[hit] = anc[hit]
            anc = np.where(valid, parent[np.clip(anc, 0, None)], -1)
        return out

    def resolve(self, area_ids: Sequence[str]) -> np.ndarray:
        """Area indices covered by a filter on ``area_ids`` (children included)."""
        roots = [i for a in area_ids if (i := self.idx_of(a)) is not None]
        return self.descendants(roots)
