"""The opening view of an extract, kept beside its cache so a restart shows it at once.

Every start of the window opens on the default filter and the home view, and its
panels and map cost 0.5 to 0.8 s at 1M incidents, mostly DuckDB reading cold
columns. They depend only on the extract, the language, the map's size and options
and the code that computes them, so after a start they are stored next to the
extract's cache entry and read back (a few ms) by the next one, a render cache as
QGIS keeps one. The map is only reused for exactly the same view and options.

File names carry the cache entry's name (the extract's fingerprint), the language
and a hash of the ``data/`` and ``layers/`` sources, so a replaced extract or a new
version of the figures never reads an old file; entries of replaced extracts go
with their cache entry (``data.cache.remove_stale``). Any problem reading a file
means the figures are computed as usual.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
from pathlib import Path

from data.extract import Extract
from data.filters import FilterState
from data.queries import Viewport
from layers.dashboard import Panels
from layers.scene import Scene, SceneOptions

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("data", "layers")


@functools.cache
def code_version() -> str:
    """A hash of the code the panels come from (any change gives new files)."""
    h = hashlib.sha256()
    for top in SOURCES:
        for f in sorted((ROOT / top).rglob("*.py")):
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def memo_path(extract: Extract, lang: str, what: str = "panels") -> Path:
    return extract.cache_path.with_name(
        f"{extract.cache_path.name}.{what}-{lang}-{code_version()}.pickle")


def _read(path: Path) -> object | None:
    try:
        with path.open("rb") as f:
            return pickle.load(f)  # our own file, in the user's private cache directory
    except FileNotFoundError:
        return None
    except Exception:  # damaged or foreign: recomputed and rewritten
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def _write(extract: Extract, path: Path, what: str, lang: str, value: object) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            os.chmod(tmp, 0o600)
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{extract.cache_path.name}.{what}-{lang}-*.pickle"):
            if old != path:  # written by an earlier version of the code
                old.unlink()
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def load(extract: Extract, state: FilterState, lang: str) -> Panels | None:
    """The stored panels of the default state, or None (not stored, or unreadable)."""
    if state != FilterState():
        return None
    panels = _read(memo_path(extract, lang))
    if not isinstance(panels, Panels) or panels.state != state:
        return None
    return panels


def store(extract: Extract, panels: Panels, lang: str) -> None:
    """Keep the default state's panels (complete ones only) for the next start."""
    if panels.state == FilterState() and not panels.errors():
        _write(extract, memo_path(extract, lang), "panels", lang, panels)


def load_scene(extract: Extract, state: FilterState, view: Viewport,
               options: SceneOptions) -> Scene | None:
    """The stored map of the default state if it was built for this very view and options."""
    if state != FilterState():
        return None
    got = _read(memo_path(extract, options.lang or "zh", "scene"))
    if not (isinstance(got, tuple) and len(got) == 3 and isinstance(got[2], Scene)):
        return None
    if got[0] != view or got[1] != options:
        return None
    return got[2]


def store_scene(extract: Extract, state: FilterState, options: SceneOptions,
                scene: Scene) -> None:
    if state == FilterState():
        lang = options.lang or "zh"
        _write(extract, memo_path(extract, lang, "scene"), "scene", lang,
               (scene.view, options, scene))
