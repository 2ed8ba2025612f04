"""The CJK fonts every render needs, for the screen and for print.

``CJK_FAMILIES`` lists the preferred families (Qt takes the first installed one and
falls back per glyph along the list). ``ensure_cjk_font`` makes sure one is usable:
when the system has none (a fresh command-centre PC), fonts that travel with the
program are registered with Qt: those in ``$COCKPIT_FONTS_DIR``, or in the
``fonts/`` folder of a PyInstaller bundle (``scripts/build_bundle.sh`` copies Noto
Sans CJK there).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtGui import QFontDatabase

CJK_FAMILIES: tuple[str, ...] = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
                                 "WenQuanYi Micro Hei", "Microsoft YaHei")
FONT_SUFFIXES = (".ttc", ".otf", ".ttf")


def cjk_font_available() -> str | None:
    """The first CJK family Qt knows, or None (Chinese would show as boxes).

    Needs a QGuiApplication. Tries the preferred families, then any family that declares
    Simplified Chinese.
    """
    families = set(QFontDatabase.families())
    for name in CJK_FAMILIES:
        if name in families:
            return name
    for name in sorted(families):
        if QFontDatabase.WritingSystem.SimplifiedChinese in QFontDatabase.writingSystems(name):
            return name
    return None


def bundled_font_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("COCKPIT_FONTS_DIR"):
        dirs.append(Path(os.environ["COCKPIT_FONTS_DIR"]))
    base = getattr(sys, "_MEIPASS", None)  # set by a PyInstaller bundle
    if base:
        dirs.append(Path(base) / "fonts")
    return dirs


def ensure_cjk_font() -> str | None:
    """A usable CJK family: the system's, else one registered from the bundled fonts."""
    found = cjk_font_available()
    if found is not None:
        return found
    for folder in bundled_font_dirs():
        if not folder.is_dir():
            continue
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in FONT_SUFFIXES:
                QFontDatabase.addApplicationFont(str(f))
    return cjk_font_available()
