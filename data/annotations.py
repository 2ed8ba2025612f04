"""Annotations (标注): a marker, a line or a polygon with a short note, put on the map by
the command centre (临时管控区, 卡点, 集结点), with who and when.

Stored in ``annotations.json`` in the user data directory (``data.user_files``)::

    {"version": 1, "annotations": [{"id": "3f2a…", "kind": "polygon",
      "purpose": "control_zone", "points": [[114.91, 27.07], …], "note": "临时管控",
      "region": "示范县", "created_by": "wang", "created_at": "2026-11-20T09:30:00+08:00",
      "updated_by": "wang", "updated_at": "2026-11-20T09:30:00+08:00"}]}

Points are WGS84 longitude/latitude (a marker has one, a line two or more, a polygon
three or more, not repeating the first). Each annotation belongs to a region (the
extract's ``region_name``): another county's annotations are kept but not shown. A
damaged file is moved aside with a warning and a bad entry left out (a copy kept), never
an exception; writes are atomic and a save re-reads the file under a lock, so two
windows editing at once do not lose each other's annotations.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely

from .user_files import JsonLoad, data_dir, load_json, locked, os_user, save_json

__all__ = ["KINDS", "MAX_NOTE", "PURPOSES", "Annotation", "AnnotationStore",
           "annotations_path", "new_annotation"]

FILE_NAME = "annotations.json"
KINDS = ("marker", "line", "polygon")
PURPOSES = ("control_zone", "checkpoint", "assembly", "other")
"""临时管控区, 卡点, 集结点, 其他."""
MAX_NOTE = 120
_MIN_POINTS = {"marker": 1, "line": 2, "polygon": 3}


def annotations_path() -> Path:
    return data_dir() / FILE_NAME


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def clean_note(note: Any) -> str:
    if not isinstance(note, str):
        raise TypeError("the note is not text")
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise ValueError(f"a note has at most {MAX_NOTE} characters")
    return note


def clean_points(kind: str, points: Any) -> tuple[tuple[float, float], ...]:
    """Finite lon/lat pairs in range, as many as the kind needs (marker: exactly one)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of annotation: {kind!r}")
    if not isinstance(points, (list, tuple)):
        raise TypeError("points are not a list")
    out: list[tuple[float, float]] = []
    for p in points:
        if (not isinstance(p, (list, tuple)) or len(p) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)):
            raise TypeError("a point is not [lon, lat]")
        lon, lat = float(p[0]), float(p[1])
        if not (math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180
                and abs(lat) <= 90):
            raise ValueError(f"a point is off the globe: {lon}, {lat}")
        if not out or out[-1] != (lon, lat):  # a double click adds the same vertex twice
            out.append((lon, lat))
    if kind == "polygon" and len(out) > 1 and out[0] == out[-1]:
        out.pop()
    need = _MIN_POINTS[kind]
    if len(out) < need or (kind == "marker" and len(out) != 1):
        raise ValueError(f"a {kind} needs {'one' if kind == 'marker' else f'{need} or more'} "
                         "distinct points")
    return tuple(out)


@dataclass(frozen=True)
class Annotation:
    id: str
    kind: str
    purpose: str
    points: tuple[tuple[float, float], ...]
    note: str
    region: str
    created_by: str = ""
    created_at: str = ""
    updated_by: str = ""
    updated_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def geometry(self) -> shapely.Geometry:
        if self.kind == "marker":
            return shapely.Point(self.points[0])
        if self.kind == "line":
            return shapely.LineString(self.points)
        return shapely.Polygon(self.points)

    def anchor(self) -> tuple[float, float]:
        """Where its note is written: the marker, the line's middle, inside the polygon."""
        g = self.geometry()
        if self.kind == "line":
            p = g.interpolate(0.5, normalized=True)
        else:
            p = shapely.point_on_surface(g) if g.is_valid else g.centroid
        return float(p.x), float(p.y)

    def to_json(self) -> dict[str, Any]:
        return {**self.extra, "id": self.id, "kind": self.kind, "purpose": self.purpose,
                "points": [list(p) for p in self.points], "note": self.note,
                "region": self.region, "created_by": self.created_by,
                "created_at": self.created_at, "updated_by": self.updated_by,
                "updated_at": self.updated_at}

    @classmethod
    def from_json(cls, doc: Any) -> Annotation:
        if not isinstance(doc, dict):
            raise TypeError("not an object")
        aid = doc.get("id")
        if not isinstance(aid, str) or not aid:
            raise ValueError("no id")
        kind = doc.get("kind")
        purpose = doc.get("purpose", "other")
        if purpose not in PURPOSES:
            purpose = "other"  # a purpose this program does not know is still shown
        known = {"id", "kind", "purpose", "points", "note", "region", "created_by",
                 "created_at", "updated_by", "updated_at"}
        return cls(aid, str(kind), purpose, clean_points(str(kind), doc.get("points")),
                   clean_note(doc.get("note", "")), str(doc.get("region") or ""),
                   *(str(doc.get(k) or "") for k in ("created_by", "created_at", "updated_by",
                                                     "updated_at")),
                   extra={k: v for k, v in doc.items() if k not in known})


def new_annotation(kind: str, points: Any, note: str, region: str, purpose: str = "other",
                   who: str | None = None) -> Annotation:
    """A new annotation stamped with who and when (ValueError/TypeError when invalid)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose: {purpose!r}")
    who = who or os_user()
    now = _now()
    return Annotation(uuid.uuid4().hex[:12], kind, purpose, clean_points(kind, points),
                      clean_note(note), region, who, now, who, now)


class AnnotationStore:
    """The annotations in ``path`` (default: ``annotations.json`` in the data directory)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else annotations_path()

    def load(self) -> JsonLoad:
        return load_json(self.path, "annotations", Annotation.from_json)

    def of_region(self, region: str) -> list[Annotation]:
        return [a for a in self.load().items if a.region == region]

    def add(self, annotation: Annotation) -> Annotation:
        with locked(self.path):
            items = self.load().items
            items.append(annotation)
            self._write(items)
        return annotation

    def update(self, annotation_id: str, who: str | None = None, **changes: Any) -> Annotation:
        """Change the note, purpose or points of one annotation; KeyError when it is gone."""
        allowed = {"note", "purpose", "points"}
        if set(changes) - allowed:
            raise ValueError(f"only {', '.join(sorted(allowed))} can change")
        with locked(self.path):
            items = self.load().items
            at = next((i for i, a in enumerate(items) if a.id == annotation_id), None)
            if at is None:
                raise KeyError(annotation_id)
            old = items[at]
            if "note" in changes:
                changes["note"] = clean_note(changes["note"])
            if "points" in changes:
                changes["points"] = clean_points(old.kind, changes["points"])
            if "purpose" in changes and changes["purpose"] not in PURPOSES:
                raise ValueError(f"unknown purpose: {changes['purpose']!r}")
            items[at] = replace(old, **changes, updated_by=who or os_user(),
                                updated_at=_now())
            self._write(items)
        return items[at]

    def delete(self, annotation_id: str) -> bool:
        with locked(self.path):
            items = self.load().items
            kept = [a for a in items if a.id != annotation_id]
            if len(kept) == len(items):
                return False
            self._write(kept)
        return True

    def _write(self, items: list[Annotation]) -> None:
        save_json(self.path, {"version": 1, "annotations": [a.to_json() for a in items]})
