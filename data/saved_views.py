"""Saved views (书签): a filter, a map extent and the layers shown, under a name.

Stored in ``views.json`` in the user data directory (``data.user_files``)::

    {"version": 1, "views": [{"name": "城关镇夜间", "region": "示范县",
      "filter": {"start": "2026-10-01", "end": null, "areas": ["T01"], ...},
      "extent": [12780000.0, 3120000.0, 12800000.0, 3140000.0],
      "layers": {"situation": true, "hazards": false, "hotspots": true, ...},
      "saved_at": "2026-11-20T09:30:00+08:00", "saved_by": "wang"}]}

The order is the user's (Ctrl+1…9 recall the first nine); saving under an existing
name replaces that view in its place. The filter is stored whole, its window as
absolute days. ``extent`` is in Web Mercator metres (None: the whole region). A damaged
file is moved aside and the store starts empty, a bad entry is left out (and a copy
of the file kept): both with a warning, never an exception. Writes are atomic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .filters import FilterState
from .user_files import JsonLoad, data_dir, load_json, locked, os_user, save_json

__all__ = ["LAYER_KEYS", "SavedView", "ViewStore", "state_from_json", "state_to_json",
           "views_path"]

FILE_NAME = "views.json"
LAYER_KEYS = ("situation", "resources", "hazards", "hotspots", "repeats", "choropleth",
              "per_10k")
"""The view options a saved view keeps (the map groups and overlays, not language or theme)."""
MAX_NAME = 60


def views_path() -> Path:
    return data_dir() / FILE_NAME


# --------------------------------------------------------------------------- the filter
_DATES = ("start", "end", "as_of")
_HOURS = ("start_hour", "end_hour")


def state_to_json(state: FilterState) -> dict[str, Any]:
    """Every field of the state as plain JSON (sets sorted, days ISO)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(state):
        v = getattr(state, f.name)
        if isinstance(v, frozenset):
            v = sorted(v)
        elif isinstance(v, date):
            v = v.isoformat()
        out[f.name] = v
    return out


def state_from_json(doc: Mapping[str, Any]) -> FilterState:
    """A state from ``state_to_json``'s form; ValueError/TypeError for a wrong value.
    Unknown keys are ignored (a newer program may know more fields)."""
    if not isinstance(doc, Mapping):
        raise TypeError("the filter is not an object")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(FilterState):
        if f.name not in doc:
            continue
        v = doc[f.name]
        if f.name in _DATES:
            values[f.name] = None if v is None else date.fromisoformat(str(v))
        elif f.type == "bool":
            if not isinstance(v, bool):
                raise TypeError(f"filter.{f.name} is not true or false")
            values[f.name] = v
        elif f.name in _HOURS:
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise TypeError(f"filter.{f.name} is not an hour")
            values[f.name] = v
        else:
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise TypeError(f"filter.{f.name} is not a list of codes")
            values[f.name] = frozenset(v)
    state = FilterState(**values)  # ValueError for an hour out of 0-23 or without its day
    if state.start and state.end and state.end < state.start:
        raise ValueError("the window ends before it starts")
    return state


# --------------------------------------------------------------------------- a view
@dataclass(frozen=True)
class SavedView:
    name: str
    region: str
    filter: FilterState
    extent: tuple[float, float, float, float] | None = None
    layers: tuple[tuple[str, bool], ...] = ()
    """(option, on) for the keys of ``LAYER_KEYS`` that were saved."""
    saved_at: str = ""
    saved_by: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Keys a newer program wrote: kept as they are on the next save."""

    def options(self) -> dict[str, bool]:
        return dict(self.layers)

    def to_json(self) -> dict[str, Any]:
        return {**self.extra, "name": self.name, "region": self.region,
                "filter": state_to_json(self.filter),
                "extent": list(self.extent) if self.extent else None,
                "layers": dict(self.layers), "saved_at": self.saved_at,
                "saved_by": self.saved_by}

    @classmethod
    def from_json(cls, doc: Any) -> SavedView:
        if not isinstance(doc, dict):
            raise TypeError("not an object")
        name = clean_name(doc.get("name"))
        extent = doc.get("extent")
        if extent is not None:
            if (not isinstance(extent, list) or len(extent) != 4
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                               for v in extent)):
                raise TypeError("extent is not four numbers")
            x0, y0, x1, y1 = (float(v) for v in extent)
            if not (x1 > x0 and y1 > y0):
                raise ValueError("extent is empty")
            extent = (x0, y0, x1, y1)
        layers = doc.get("layers") or {}
        if not isinstance(layers, dict):
            raise TypeError("layers is not an object")
        kept = tuple((k, bool(layers[k])) for k in LAYER_KEYS
                     if k in layers and isinstance(layers[k], bool))
        known = {"name", "region", "filter", "extent", "layers", "saved_at", "saved_by"}
        return cls(name, str(doc.get("region") or ""), state_from_json(doc.get("filter") or {}),
                   extent, kept, str(doc.get("saved_at") or ""), str(doc.get("saved_by") or ""),
                   {k: v for k, v in doc.items() if k not in known})


def clean_name(name: Any) -> str:
    """A view's name: text, trimmed, not empty, at most ``MAX_NAME`` characters."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a saved view needs a name")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise ValueError(f"a view's name has at most {MAX_NAME} characters")
    return name


def new_view(name: str, region: str, state: FilterState,
             extent: tuple[float, float, float, float] | None,
             options: Mapping[str, Any], who: str | None = None) -> SavedView:
    """A view of the current state, stamped with who and when."""
    layers = tuple((k, bool(options[k])) for k in LAYER_KEYS if k in options)
    return SavedView(clean_name(name), region, state, extent, layers,
                     datetime.now().astimezone().isoformat(timespec="seconds"),
                     who or os_user())


# --------------------------------------------------------------------------- the store
class ViewStore:
    """The saved views in ``path`` (default: ``views.json`` in the user data directory).

    Every call reads the file again: another window (or the wall) may have changed it.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else views_path()
        self.warnings: tuple[str, ...] = ()

    def load(self) -> JsonLoad:
        got = load_json(self.path, "views", SavedView.from_json)
        seen: set[str] = set()
        views = []
        for v in got.items:  # a hand-edited file may repeat a name: the first one wins
            if v.name not in seen:
                seen.add(v.name)
                views.append(v)
        self.warnings = got.warnings
        return JsonLoad(views, got.warnings, got.kept_aside)

    def views(self) -> list[SavedView]:
        return self.load().items

    def get(self, name: str) -> SavedView | None:
        want = " ".join(name.split())
        return next((v for v in self.views() if v.name == want), None)

    def names(self) -> list[str]:
        return [v.name for v in self.views()]

    def save(self, view: SavedView) -> list[SavedView]:
        """Add ``view``, or replace the one of the same name in its place. Raises OSError."""
        with locked(self.path):
            views = self.views()
            at = next((i for i, v in enumerate(views) if v.name == view.name), None)
            if at is None:
                views.append(view)
            else:
                views[at] = view
            self._write(views)
        return views

    def delete(self, name: str) -> bool:
        with locked(self.path):
            views = self.views()
            kept = [v for v in views if v.name != name]
            if len(kept) == len(views):
                return False
            self._write(kept)
        return True

    def _write(self, views: list[SavedView]) -> None:
        save_json(self.path, {"version": 1, "views": [v.to_json() for v in views]})
