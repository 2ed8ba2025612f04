"""The user's settings file: ``settings.json`` in the cockpit's data directory.

The file lives next to the audit log (``$COCKPIT_DATA_DIR``, else
``$XDG_DATA_HOME/cockpit``, else ``~/.local/share/cockpit``; see
``exporters.audit.data_dir``). It is optional; today it only says where the web
map's base map comes from::

    {"tiles": {"xyz": "http://10.1.2.3/tiles/{z}/{x}/{y}.png",
               "attribution": "县自然资源局 2024",
               "mbtiles": "/srv/maps/county.mbtiles"}}

- ``xyz``: an intranet tile server, ``http`` or ``https`` with ``{z}``, ``{x}`` and
  ``{y}``; no placeholder in the host name and no user name or password in it
  (the request guard lets through the URL up to the first placeholder).
- ``mbtiles``: a local MBTiles file of raster tiles (png/jpg/webp); the program
  serves it to the page itself. A relative path is taken from the settings
  file's folder. When both are given **the MBTiles file wins** (it needs no
  network at all) and a warning says that ``xyz`` was ignored.
- ``attribution``: the credit shown on the map (default: the MBTiles file's own
  ``attribution`` metadata, else the word "底图").

Nothing is configured by default: the map then has no base map and reaches
nothing. A missing file is the normal case; an unreadable, garbled or wrong file
gives the defaults (or the parts that are right) plus warnings to show the user,
never an exception.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from exporters.audit import data_dir
from layers.i18n import tr

SETTINGS_NAME = "settings.json"
MAX_BYTES = 1_000_000
"""A settings file is a few lines; anything bigger is not one."""
RASTER_FORMATS = frozenset({"png", "jpg", "jpeg", "webp"})
_TILE_KEYS = frozenset({"xyz", "attribution", "mbtiles"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Notice:
    """A warning about the settings, translated when shown (``text``)."""

    key: str
    values: tuple[tuple[str, str], ...] = ()

    def text(self, lang: str | None = None) -> str:
        return tr(self.key, lang, **dict(self.values))


def _notice(key: str, **values: object) -> Notice:
    return Notice(key, tuple((k, str(v)) for k, v in values.items()))


@dataclass(frozen=True)
class TileSettings:
    """Where the web map's base map comes from: an XYZ server, an MBTiles file, or nothing."""

    xyz: str | None = None
    """A validated ``http(s)`` template with ``{z}``, ``{x}``, ``{y}`` (None if MBTiles wins)."""
    mbtiles: Path | None = None
    """A validated, readable MBTiles file of raster tiles."""
    attribution: str | None = None

    @property
    def source(self) -> str | None:
        """What the status line names: the file name or the server; None without base map."""
        if self.mbtiles is not None:
            return f"MBTiles {self.mbtiles.name}"
        if self.xyz is not None:
            return urlsplit(self.xyz).netloc
        return None

    @property
    def tile_prefix(self) -> str | None:
        """The URL prefix the request guard lets through (only the XYZ server)."""
        return xyz_prefix(self.xyz) if self.xyz is not None else None


@dataclass(frozen=True)
class Settings:
    tiles: TileSettings = field(default_factory=TileSettings)
    path: Path | None = None
    """The file read (None: defaults only)."""
    warnings: tuple[Notice, ...] = ()


def settings_path() -> Path:
    return data_dir() / SETTINGS_NAME


def xyz_prefix(template: str) -> str | None:
    """``scheme://host[:port]/path-before-the-first-placeholder``, normalised as a browser
    writes request URLs (lower case scheme and host, no default port); None if the
    template is not an acceptable intranet tile URL."""
    if not isinstance(template, str) or any(c.isspace() for c in template):
        return None
    if not all(k in template for k in ("{z}", "{x}", "{y}")):
        return None
    parts = urlsplit(template)
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        return None
    if scheme not in _DEFAULT_PORTS or not host or "{" in parts.netloc or "}" in parts.netloc:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    rest = template[len(parts.scheme) + 3 + len(parts.netloc):]  # after "scheme://netloc"
    if not rest.startswith("/"):
        return None  # e.g. "http://host?{z}": the prefix would let through the whole host
    return f"{scheme}://{netloc}{rest[:rest.index('{')]}"


def _check_mbtiles(path: Path) -> tuple[str | None, str | None]:
    """(error, attribution of the file); reads the file once, read-only."""
    if not path.is_file():
        return "not a file" if path.exists() else "not found", None
    try:
        con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles "
                        "LIMIT 1").fetchall()
            try:
                meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
            except sqlite3.Error:
                meta = {}
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"not an MBTiles file ({exc})", None
    fmt = str(meta.get("format", "png")).lower()
    if fmt not in RASTER_FORMATS:
        return f"tile format {fmt!r} cannot be shown (raster png/jpg/webp only)", None
    attribution = meta.get("attribution")
    return None, str(attribution) if attribution else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_tiles(raw: Any, base: Path) -> tuple[TileSettings, list[Notice]]:
    """The ``tiles`` section; what is wrong is dropped with a notice."""
    notes: list[Notice] = []
    if raw is None:
        return TileSettings(), notes
    if not isinstance(raw, dict):
        notes.append(_notice("settings_bad_section", section="tiles"))
        return TileSettings(), notes
    unknown = sorted(str(k) for k in raw if k not in _TILE_KEYS)
    if unknown:
        notes.append(_notice("settings_unknown_keys", keys=", ".join(unknown)))
    xyz = _text(raw.get("xyz"))
    if raw.get("xyz") is not None and (xyz is None or xyz_prefix(xyz) is None):
        notes.append(_notice("settings_bad_xyz", value=str(raw.get("xyz"))[:200]))
        xyz = None
    mbtiles: Path | None = None
    attribution = _text(raw.get("attribution"))
    if raw.get("attribution") is not None and attribution is None:
        notes.append(_notice("settings_bad_value", key="tiles.attribution"))
    file_attribution = None
    if raw.get("mbtiles") is not None:
        name = _text(raw.get("mbtiles"))
        if name is None:
            notes.append(_notice("settings_bad_value", key="tiles.mbtiles"))
        else:
            candidate = Path(name).expanduser()
            if not candidate.is_absolute():
                candidate = base / candidate
            error, file_attribution = _check_mbtiles(candidate)
            if error:
                notes.append(_notice("settings_bad_mbtiles", path=candidate, error=error))
            else:
                mbtiles = candidate
    if mbtiles is not None and xyz is not None:
        notes.append(_notice("settings_both_tiles"))
        xyz = None
    if mbtiles is None and xyz is None:
        attribution = None  # a credit without a base map would be a false statement
    elif attribution is None and mbtiles is not None:
        attribution = file_attribution
    return TileSettings(xyz=xyz, mbtiles=mbtiles,
                        attribution=attribution[:300] if attribution else None), notes


def load_settings(path: str | Path | None = None) -> Settings:
    """The settings of ``path`` (default ``settings_path()``); never raises."""
    target = Path(path) if path is not None else settings_path()
    try:
        if target.stat().st_size > MAX_BYTES:
            return Settings(path=target,
                            warnings=(_notice("settings_unreadable", path=target,
                                              error="file too large"),))
        text = target.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(path=target, warnings=(
            _notice("settings_unreadable", path=target, error=type(exc).__name__),))
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        return Settings(path=target,
                        warnings=(_notice("settings_garbled", path=target, error=detail),))
    if not isinstance(doc, dict):
        return Settings(path=target, warnings=(
            _notice("settings_garbled", path=target, error="not a JSON object"),))
    notes: list[Notice] = []
    unknown = sorted(str(k) for k in doc if k != "tiles")
    if unknown:
        notes.append(_notice("settings_unknown_keys", keys=", ".join(unknown)))
    tiles, tile_notes = parse_tiles(doc.get("tiles"), target.parent)
    return Settings(tiles=tiles, path=target, warnings=(*notes, *tile_notes))
