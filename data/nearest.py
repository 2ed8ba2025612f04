"""Nearest available resources (一键调度) by great-circle distance.

Points are indexed as unit vectors in 3-D: the straight-line (chord) distance
between two unit vectors grows monotonically with the great-circle distance,
so a KD-tree on them returns exactly the nearest resources on the sphere. The
index is built once per extract and kind selection and then answers in
microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .coords import haversine_m
from .extract import Extract
from .privacy import mask_phone, mask_resource_name

if TYPE_CHECKING:  # scipy is imported on first use: the window starts without it
    from scipy.spatial import cKDTree


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


@dataclass
class ResourceIndex:
    """Available resources of some kinds, with a spatial index over them."""

    columns: dict[str, np.ndarray]
    tree: cKDTree | None

    @classmethod
    def build(cls, extract: Extract, kinds: frozenset[str]) -> ResourceIndex:
        con = extract.cursor()
        sql = ("SELECT r.resource_id, r.kind, r.name, r.lon, r.lat, r.phone, r.headcount, "
               "a.area_id FROM resources r LEFT JOIN areas a ON a.area_idx = r.area_idx "
               "WHERE r.available AND r.lon IS NOT NULL")
        params: list[Any] = []
        if kinds:
            sql += " AND list_contains(?, r.kind)"
            params.append(sorted(kinds))
        res = con.execute(sql + " ORDER BY r.resource_id", params).fetchnumpy()
        cols = {k: np.asarray(v) for k, v in res.items()}
        from scipy.spatial import cKDTree

        tree = cKDTree(unit_vectors(cols["lon"], cols["lat"])) if len(cols["lon"]) else None
        return cls(cols, tree)

    def query(self, lon: float, lat: float, k: int) -> list[dict[str, Any]]:
        if self.tree is None or k <= 0:
            return []
        k = min(k, self.tree.n)
        here = unit_vectors([lon], [lat])[0]
        chord, idx = self.tree.query(here, k=k)
        # Everything as near as the k-th one, so that ties are broken by id, not by the tree.
        idx = np.asarray(self.tree.query_ball_point(here, float(np.max(chord)) * (1 + 1e-9)
                                                    + 1e-12), dtype=np.int64)
        c = self.columns
        dist = haversine_m(lon, lat, c["lon"][idx], c["lat"][idx])
        order = np.lexsort((c["resource_id"][idx].astype(str), dist))[:k]
        out = []
        for j in order:
            i = idx[j]
            kind = str(c["kind"][i])
            out.append({
                "resource_id": str(c["resource_id"][i]), "kind": kind,
                "name": mask_resource_name(kind, _s(c["name"][i])),
                "distance_m": round(float(dist[j]), 1),
                "phone": mask_phone(_s(c["phone"][i])),
                "lon": float(c["lon"][i]), "lat": float(c["lat"][i]),
                "area_id": _s(c["area_id"][i]),
                "headcount": None if _s(c["headcount"][i]) is None else int(c["headcount"][i]),
            })
        return out


def _s(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is np.ma.masked:
        return None
    return v


def resource_index(extract: Extract, kinds: Iterable[str] = ()) -> ResourceIndex:
    """The index for ``kinds`` (all kinds when empty), built once per extract."""
    key = frozenset(kinds)
    return extract.memo(("resource_index", key), lambda: ResourceIndex.build(extract, key))


def nearest_resources(extract: Extract, lon: float, lat: float, k: int = 5,
                      kinds: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The ``k`` nearest available resources, nearest first, distances in metres."""
    return resource_index(extract, kinds).query(lon, lat, k)
