"""The settings' base map and reference files opened, without Qt (headless exports).

``open_tiles`` opens the configured tile source (nothing configured: nothing opened,
no request); ``load_backdrop`` also reads the reference files, and returns a
``layers.backdrop.Backdrop`` for the PDF and HTML exporters with the notices of what
could not be used. Neither raises for a bad file.
"""

from __future__ import annotations

from data.reference import ReferenceStyle, load_references
from data.tiles import TileError, TileSource, open_source
from layers.backdrop import Backdrop

from .settings import Notice, Settings, TileSettings


def open_tiles(tiles: TileSettings, extent: tuple[float, float, float, float] | None = None
               ) -> tuple[TileSource | None, str | None]:
    """The configured source (None when nothing is configured) and why it failed, if it
    did (shown as the ``basemap_failed`` notice). ``extent`` (lon/lat of the data) lets
    an MBTiles file without ``scheme`` metadata be recognised as XYZ-ordered."""
    if tiles.mbtiles is None and tiles.xyz is None:
        return None, None
    try:
        return open_source(tiles.mbtiles, tiles.xyz, tiles.attribution, extent), None
    except (TileError, OSError) as exc:
        return None, str(exc)
    except Exception as exc:  # sqlite3 and friends: never a crash for a bad file
        return None, f"{type(exc).__name__}: {exc}"


def reference_failed(style: ReferenceStyle, reason: str) -> Notice:
    return Notice("reference_failed", (("name", style.name), ("path", str(style.path)),
                                       ("error", reason)))


def basemap_failed(error: str) -> Notice:
    return Notice("basemap_failed", (("error", error),))


def load_backdrop(settings: Settings, extent: tuple[float, float, float, float] | None = None
                  ) -> tuple[Backdrop, list[Notice]]:
    """Tiles opened and reference files read now (headless exports); never raises."""
    notes: list[Notice] = []
    source, warning = open_tiles(settings.tiles, extent)
    if warning:
        notes.append(basemap_failed(warning))
    layers, failed = load_references(settings.reference_layers)
    notes += [reference_failed(s, r) for s, r in failed]
    return Backdrop(source, settings.tiles.datum if source is not None else "wgs84",
                    source.attribution if source is not None else None, tuple(layers)), notes
