"""The cockpit as a PNG at any size, headless (no window is shown on any screen).

The picture is taken once the panels, the map and the base map's visible tiles are all
drawn (a missing tile is a gap, not a wait) and the reference layers are read.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from data.filters import FilterState


def export_png(path: str, out: str, size: tuple[int, int], state: FilterState,
               lang: str = "zh", theme: str = "dark", timeout_s: float = 300.0) -> dict:
    """Render the window for ``state`` at ``size`` and save it; returns a summary."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt

    from widgets.theme import DARK, LIGHT

    from .app import application
    from .main_window import CockpitWindow

    app = application()
    win = CockpitWindow(LIGHT if theme == "light" else DARK, lang, interactive=False)
    win.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    win.resize(*size)
    win.show()
    failed: list[str] = []
    win.open_failed.connect(lambda reason, _p: failed.append(reason))
    win.open_path(path)
    deadline = time.monotonic() + timeout_s

    def settled() -> bool:
        return (win.extract is not None and not win.jobs.busy() and win.panels is not None
                and win.panels.state == win.store.state and win.scene is not None
                and (backdrop is None or backdrop.settled()))

    while not failed and win.extract is None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if failed:
        raise RuntimeError(failed[0])
    backdrop = getattr(win, "backdrop", None)
    own = None
    if backdrop is None:  # a window without its own (before the session refactor wires it)
        from .backdrop import BackdropController
        from .settings import load_settings

        own = backdrop = BackdropController(win.canvas, load_settings(),
                                            win.extract.areas.extent())
    win.store.set(state)
    if len(state.areas) == 1:
        win.zoom_to_area(next(iter(state.areas)))
    while not settled() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    for _ in range(5):  # let layouts and deferred paints finish
        app.processEvents()
    image = win.grab()
    ok = image.save(out, "PNG")
    if own is not None:
        own.close()
    win.close()
    if not ok:
        raise OSError(f"cannot write {out}")
    return {"path": str(Path(out)), "width": image.width(), "height": image.height()}
