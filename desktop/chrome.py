"""The cockpit without its window chrome, for pictures (``export --png``, playback frames).

A picture of the cockpit shows what the cockpit shows: the header (region, as-of,
window), the KPI strip, the map and the panels. The menu bar, the status bar and the
header's language and theme buttons are for the person at the desk and stay out:
they are hidden before the window is laid out, so the content gets the whole size
asked for, and the picture is a grab of the central widget alone.
"""

from __future__ import annotations

from typing import Any


def hide_chrome(win: Any) -> None:
    """Hide the menu bar, the status bar and the header's buttons of a ``CockpitWindow``."""
    win.menuBar().hide()
    win.statusBar().hide()
    for name in ("lang_button", "theme_button"):
        button = getattr(win, name, None)
        if button is not None:
            button.hide()


def content_grab(win: Any) -> Any:
    """The window's content (its central widget's rectangle) as a QPixmap: no chrome.
    Grabbed from the window, so the window's own background shows between the parts."""
    return win.grab(win.centralWidget().geometry())
