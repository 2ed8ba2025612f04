"""The user's settings file: ``settings.json`` in the cockpit's data directory.

The file lives next to the audit log (``$COCKPIT_DATA_DIR``, else
``$XDG_DATA_HOME/cockpit``, else ``~/.local/share/cockpit``; see
``exporters.audit.data_dir``). It is optional; it says where the base map comes
from (the native map, the web map and the exports share it)::

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
- ``datum``: ``"wgs84"`` (default) or ``"gcj02"`` for tiles drawn in the datum of the
  common Chinese web maps; the data are then shifted for display to line up with them.

``reference_layers`` lists files drawn under the data on every map::

    {"reference_layers": [{"path": "roads.gpkg", "name": "道路", "color": "#ffcc00",
                           "width": 2, "fill": "#3366ff33"}]}

``path`` (GeoPackage, Shapefile or GeoJSON; relative to the settings folder) is
required; ``name`` defaults to the file's name, ``color`` to white, ``width`` (pixels,
0.2–20) to 1.5, ``fill`` (``#rrggbb`` or ``#rrggbbaa``, polygons only) to none. An
entry that is wrong is dropped with a notice; the others stay.

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

from data.reference import ReferenceStyle
from data.tiles import DATUMS
from exporters.audit import data_dir
from layers.i18n import tr

SETTINGS_NAME = "settings.json"
MAX_BYTES = 1_000_000
"""A settings file is a few lines; anything bigger is not one."""
RASTER_FORMATS = frozenset({"png", "jpg", "jpeg", "webp"})
_TILE_KEYS = frozenset({"xyz", "attribution", "mbtiles", "datum"})
_REFERENCE_KEYS = frozenset({"path", "name", "color", "width", "fill"})
MAX_REFERENCE_LAYERS = 32
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Notice:
    """A warning about the settings, translated when shown (``text``)."""

    key: str
    values: tuple[tuple[str, str], ...] = ()

    def text(self, lang: str | None = None) -> str:
        return tr(self.key, lang, **dict(self.values))


def _notice(key: str, /, **values: object) -> Notice:
    return Notice(key, tuple((k, str(v)) for k, v in values.items()))


@dataclass(frozen=True)
class TileSettings:
    """Where the web map's base map comes from: an XYZ server, an MBTiles file, or nothing."""

    xyz: str | None = None
    """A validated ``http(s)`` template with ``{z}``, ``{x}``, ``{y}`` (None if MBTiles wins)."""
    mbtiles: Path | None = None
    """A validated, readable MBTiles file of raster tiles."""
    attribution: str | None = None
    datum: str = "wgs84"
    """The datum the tiles are drawn in: ``wgs84`` or ``gcj02``."""

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
    reference_layers: tuple[ReferenceStyle, ...] = ()
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
    datum = "wgs84"
    if raw.get("datum") is not None:
        value = _text(raw.get("datum"))
        if value is None or value.lower() not in DATUMS:
            notes.append(_notice("settings_bad_datum", value=str(raw.get("datum"))[:50]))
        else:
            datum = value.lower()
    if mbtiles is None and xyz is None:
        attribution = None  # a credit without a base map would be a false statement
    elif attribution is None and mbtiles is not None:
        attribution = file_attribution
    return TileSettings(xyz=xyz, mbtiles=mbtiles,
                        attribution=attribution[:300] if attribution else None,
                        datum=datum), notes


def _rgba(value: Any) -> tuple[int, int, int, int] | None:
    """``#rrggbb`` or ``#rrggbbaa`` → RGBA; None if it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().lstrip("#")
    if len(text) not in (6, 8) or any(c not in "0123456789abcdefABCDEF" for c in text):
        return None
    v = [int(text[i:i + 2], 16) for i in range(0, len(text), 2)]
    return (v[0], v[1], v[2], v[3] if len(v) == 4 else 255)


def parse_reference_layers(raw: Any, base: Path) -> tuple[list[ReferenceStyle], list[Notice]]:
    """The ``reference_layers`` list; a wrong entry is dropped with a notice. The files are
    not opened here (that is slow work for a worker: ``data.reference``)."""
    notes: list[Notice] = []
    if raw is None:
        return [], notes
    if not isinstance(raw, list):
        notes.append(_notice("settings_bad_section", section="reference_layers"))
        return [], notes
    out: list[ReferenceStyle] = []
    for n, entry in enumerate(raw[:MAX_REFERENCE_LAYERS], start=1):
        where = f"reference_layers[{n}]"
        if not isinstance(entry, dict):
            notes.append(_notice("settings_bad_section", section=where))
            continue
        unknown = sorted(str(k) for k in entry if k not in _REFERENCE_KEYS)
        if unknown:
            notes.append(_notice("settings_unknown_keys", keys=", ".join(unknown)))
        name = _text(entry.get("path"))
        if name is None:
            notes.append(_notice("settings_bad_value", key=f"{where}.path"))
            continue
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = base / path
        title = _text(entry.get("name"))
        if entry.get("name") is not None and title is None:
            notes.append(_notice("settings_bad_value", key=f"{where}.name"))
        color = (255, 255, 255, 255)
        if entry.get("color") is not None:
            got = _rgba(entry.get("color"))
            if got is None:
                notes.append(_notice("settings_bad_color", key=f"{where}.color",
                                     value=str(entry.get("color"))[:50]))
            else:
                color = got
        width = 1.5
        raw_width = entry.get("width")
        if raw_width is not None:
            if (isinstance(raw_width, int | float) and not isinstance(raw_width, bool)
                    and 0.2 <= raw_width <= 20):
                width = float(raw_width)
            else:
                notes.append(_notice("settings_bad_width", key=f"{where}.width",
                                     value=str(raw_width)[:50]))
        fill = None
        if entry.get("fill") is not None and entry.get("fill") is not False:
            fill = _rgba(entry.get("fill"))
            if fill is None:
                notes.append(_notice("settings_bad_color", key=f"{where}.fill",
                                     value=str(entry.get("fill"))[:50]))
        out.append(ReferenceStyle(path, (title or path.stem)[:100], color, width, fill))
    if len(raw) > MAX_REFERENCE_LAYERS:
        notes.append(_notice("settings_too_many_layers", count=MAX_REFERENCE_LAYERS))
    return out, notes


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
    unknown = sorted(str(k) for k in doc if k not in ("tiles", "reference_layers"))
    if unknown:
        notes.append(_notice("settings_unknown_keys", keys=", ".join(unknown)))
    tiles, tile_notes = parse_tiles(doc.get("tiles"), target.parent)
    refs, ref_notes = parse_reference_layers(doc.get("reference_layers"), target.parent)
    return Settings(tiles=tiles, reference_layers=tuple(refs), path=target,
                    warnings=(*notes, *tile_notes, *ref_notes))
