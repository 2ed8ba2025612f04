"""The wall's configuration: settings and the rotation playlist, from a small TOML file.

The documented defaults are ``desktop/wall.toml``. A user file (``--config`` or
``$COCKPIT_DATA_DIR/wall.toml``) overrides them key by key. Nothing in it can stop the
wall from starting: a bad value is reported (``WallConfig.warnings``) and the default
kept, because an unattended wall that refuses to start shows nothing at all.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).with_name("wall.toml")
MAPS = ("situation", "resources", "hazards")
FOCUS = ("map", "kpis", "rectification", "mediation", "hotspots")


@dataclass(frozen=True)
class WallView:
    """One step of the rotation: which maps, where, and which panel is highlighted."""

    name: str
    name_en: str = ""
    maps: tuple[str, ...] = ("situation",)
    area: str = ""
    hotspots: bool = True
    choropleth: str | None = None
    focus: str = "map"
    each_town: bool = False
    replay: str = ""
    """"" (a still view) or how far back to replay, up to the data's end: "24h", "7d"."""
    replay_step: str = "hour"
    replay_window: str = "sliding"
    replay_fps: float = 2.0
    saved: str = ""
    """A saved view (书签) by name: its filter, extent and layers replace maps/area/..."""

    def title(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


@dataclass(frozen=True)
class WallConfig:
    lang: str = "zh"
    theme: str = "dark"
    rotate_seconds: float = 0.0
    check_seconds: float = 3.0
    retry_seconds: float = 10.0
    detail_timeout_seconds: float = 30.0
    cursor_hide_seconds: float = 3.0
    incidents: str = "density"
    min_cell_m: float = 300.0
    window_days: int = 0
    repeats: bool = False
    views: tuple[WallView, ...] = ()
    source: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)


_NUMBERS = {"rotate_seconds": (0.0, 86_400.0), "check_seconds": (0.2, 3_600.0),
            "retry_seconds": (0.2, 3_600.0), "detail_timeout_seconds": (1.0, 86_400.0),
            "cursor_hide_seconds": (0.0, 3_600.0), "min_cell_m": (0.0, 100_000.0),
            "window_days": (0, 36_500)}
_CHOICES = {"lang": ("zh", "en"), "theme": ("dark", "light"),
            "incidents": ("density", "points")}


def _settings(table: dict[str, Any], base: WallConfig, warn: list[str]) -> WallConfig:
    values: dict[str, Any] = {}
    for key, v in table.items():
        if key in _NUMBERS:
            lo, hi = _NUMBERS[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                warn.append(f"wall.{key} = {v!r}: expected a number from {lo} to {hi}")
                continue
            values[key] = int(v) if key == "window_days" else float(v)
        elif key in _CHOICES:
            if v not in _CHOICES[key]:
                warn.append(f"wall.{key} = {v!r}: expected one of {', '.join(_CHOICES[key])}")
                continue
            values[key] = v
        elif key == "repeats":
            if not isinstance(v, bool):
                warn.append(f"wall.repeats = {v!r}: expected true or false")
                continue
            values[key] = v
        else:
            warn.append(f"wall.{key}: unknown setting, ignored")
    return replace(base, **values)


def _view(raw: Any, n: int, warn: list[str]) -> WallView | None:
    where = f"views[{n}]"
    if not isinstance(raw, dict):
        warn.append(f"{where}: not a table, ignored")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        warn.append(f"{where}: needs a name, ignored")
        return None
    maps = raw.get("maps", ["situation"])
    if isinstance(maps, str):
        maps = [maps]
    if not isinstance(maps, list) or not all(m in MAPS for m in maps):
        warn.append(f"{where}.maps = {maps!r}: expected some of {', '.join(MAPS)}")
        maps = [m for m in maps if m in MAPS] if isinstance(maps, list) else []
    choropleth = raw.get("choropleth") or None
    if choropleth not in (None, "count", "rate"):
        warn.append(f"{where}.choropleth = {choropleth!r}: expected \"\", count or rate")
        choropleth = None
    focus = raw.get("focus", "map")
    if focus not in FOCUS:
        warn.append(f"{where}.focus = {focus!r}: expected one of {', '.join(FOCUS)}")
        focus = "map"
    flags = {}
    for key, default in (("hotspots", True), ("each_town", False)):
        v = raw.get(key, default)
        if not isinstance(v, bool):
            warn.append(f"{where}.{key} = {v!r}: expected true or false")
            v = default
        flags[key] = v
    saved = raw.get("view", "")
    if not isinstance(saved, str):
        warn.append(f"{where}.view = {saved!r}: expected the name of a saved view")
        saved = ""
    known = {"name", "name_en", "maps", "area", "hotspots", "choropleth", "focus", "each_town",
             "view", *REPLAY_KEYS}
    for key in sorted(set(raw) - known):
        warn.append(f"{where}.{key}: unknown key, ignored")
    return WallView(name=name.strip(), name_en=str(raw.get("name_en", "")),
                    maps=tuple(maps) or ("situation",), area=str(raw.get("area", "") or ""),
                    choropleth=choropleth, focus=focus, saved=saved.strip(), **flags,
                    **_replay(raw, where, warn))


REPLAY_KEYS = ("replay", "replay_step", "replay_window", "replay_fps")
_REPLAY_STEPS = {"hour": 1, "day": 24}  # hours per step
_SPAN = re.compile(r"(\d+)\s*([hd])")
MAX_REPLAY_FRAMES = 200


def replay_hours(text: str) -> int | None:
    """The hours of a replay span ("24h", "7d"); None when it is not one."""
    m = _SPAN.fullmatch(text.strip().lower()) if isinstance(text, str) else None
    if m is None:
        return None
    return int(m.group(1)) * (24 if m.group(2) == "d" else 1) or None


def _replay(raw: dict, where: str, warn: list[str]) -> dict[str, Any]:
    """The replay keys of a view; a bad value leaves the view still (without a replay)."""
    if not raw.get("replay"):
        return {}
    out = {"replay": raw["replay"], "replay_step": raw.get("replay_step", "hour"),
           "replay_window": raw.get("replay_window", "sliding"),
           "replay_fps": raw.get("replay_fps", 2.0)}
    hours = replay_hours(out["replay"])
    problem = ""
    if hours is None:
        problem = f"replay = {out['replay']!r}: expected hours or days, e.g. \"24h\", \"7d\""
    elif out["replay_step"] not in _REPLAY_STEPS:
        problem = f"replay_step = {out['replay_step']!r}: expected hour or day"
    elif out["replay_window"] not in ("sliding", "cumulative"):
        problem = f"replay_window = {out['replay_window']!r}: expected sliding or cumulative"
    elif (isinstance(out["replay_fps"], bool) or not isinstance(out["replay_fps"], (int, float))
          or not 0.2 <= out["replay_fps"] <= 30):
        problem = f"replay_fps = {out['replay_fps']!r}: expected a number from 0.2 to 30"
    elif not 1 <= hours / _REPLAY_STEPS[out["replay_step"]] <= MAX_REPLAY_FRAMES:
        problem = (f"replay = {out['replay']!r} in steps of one {out['replay_step']}: "
                   f"1 to {MAX_REPLAY_FRAMES} frames")
    if problem:
        warn.append(f"{where}.{problem}; shown without a replay")
        return {}
    out["replay"] = out["replay"].strip().lower()
    out["replay_fps"] = float(out["replay_fps"])
    return out


def parse(text: str, base: WallConfig | None = None, source: str = "") -> WallConfig:
    """A configuration from TOML text over ``base``; problems become warnings."""
    warn: list[str] = []
    base = base or WallConfig()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return replace(base, warnings=(*base.warnings, f"{source or 'config'}: {exc}"))
    cfg = base
    table = doc.get("wall", {})
    if isinstance(table, dict):
        cfg = _settings(table, cfg, warn)
    else:
        warn.append("[wall] is not a table, ignored")
    if "views" in doc:
        raw = doc["views"]
        views = []
        for n, item in enumerate(raw if isinstance(raw, list) else []):
            view = _view(item, n, warn)
            if view is not None:
                views.append(view)
        if not isinstance(raw, list):
            warn.append("views: expected [[views]] tables, ignored")
        if views:
            cfg = replace(cfg, views=tuple(views))
        elif isinstance(raw, list):
            warn.append("views: none usable, the built-in playlist is kept")
    for key in sorted(set(doc) - {"wall", "views"}):
        warn.append(f"[{key}]: unknown section, ignored")
    where = f"{source}: " if source else ""
    return replace(cfg, source=source or cfg.source,
                   warnings=(*base.warnings, *(where + w for w in warn)))


def default_config() -> WallConfig:
    return parse(DEFAULT_FILE.read_text(encoding="utf-8"), source=str(DEFAULT_FILE))


def user_config_path() -> Path:
    root = os.environ.get("COCKPIT_DATA_DIR")
    base = Path(root) if root else Path.home() / ".local" / "share" / "cockpit"
    return base / "wall.toml"


def load_config(path: str | Path | None = None) -> WallConfig:
    """The built-in defaults, overridden by ``path`` (or the user's wall.toml if present)."""
    cfg = default_config()
    explicit = path is not None
    target = Path(path) if explicit else user_config_path()
    if not target.exists():
        if explicit:
            return replace(cfg, warnings=(*cfg.warnings, f"{target}: no such file, "
                                          "the built-in configuration is used"))
        return cfg
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return replace(cfg, warnings=(*cfg.warnings, f"{target}: {exc}"))
    return parse(text, cfg, str(target))


def expand_views(views: tuple[WallView, ...], towns: list[tuple[str, str]]) -> list[WallView]:
    """The playlist with each ``each_town`` view turned into one view per (id, name) town."""
    out: list[WallView] = []
    for v in views:
        if not v.each_town:
            out.append(v)
            continue
        for area_id, name in towns:
            out.append(replace(v, name=v.name.replace("{town}", name),
                               name_en=v.name_en.replace("{town}", name), area=area_id,
                               each_town=False))
    return out
