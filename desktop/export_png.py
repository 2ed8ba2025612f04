"""The cockpit as a PNG at any size, headless (no window is shown on any screen).

The picture is taken once the panels, the map and the base map's visible tiles are all
drawn (a missing tile is a gap, not a wait) and the reference layers are read.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from data.filters import FilterState


def export_png(path: str, out: str, size: tuple[int, int], state: FilterState,
               lang: str = "zh", theme: str = "dark", timeout_s: float = 300.0,
               view: Any = None, personal_mark: bool = False) -> dict:
    """Render the window for ``state`` at ``size`` and save it; returns a summary.

    ``view`` (a ``data.saved_views.SavedView``) sets the layers and the map extent; its
    filter is expected in ``state`` already (the command line puts it there).
    ``personal_mark``: the image says "含个人信息 / Contains personal data" in its top-left
    corner (an export made with --unmask).
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPoint, Qt

    from widgets.theme import DARK, LIGHT

    from .app import application
    from .chrome import content_grab, hide_chrome
    from .main_window import CockpitWindow

    app = application()
    win = CockpitWindow(LIGHT if theme == "light" else DARK, lang, interactive=False)
    win.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    hide_chrome(win)  # the picture is the content only: no menu bar, no status bar
    win.resize(*size)
    win.show()
    failed: list[str] = []
    win.open_failed.connect(lambda reason, _p: failed.append(reason))
    win.open_path(path)
    deadline = time.monotonic() + timeout_s

    session, board = win.session, win.board

    def settled() -> bool:
        panels = board.panels.panels
        backdrop = board.backdrop
        return (session.extract is not None and not session.jobs.busy() and panels is not None
                and panels.state == session.filters.state and board.map.scene is not None
                and (backdrop is None or backdrop.settled())
                # a view set just now: its debounced refresh has been drawn too
                and board.map.scene.view == board.canvas.map_view())

    while not failed and session.extract is None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if failed:
        raise RuntimeError(failed[0])
    if view is not None:
        session.options.update(**view.options())
    session.filters.set(state)
    if view is not None and view.extent is not None:
        from data.queries import Viewport

        board.canvas.set_view(Viewport(*view.extent, board.canvas.width(),
                                       board.canvas.height()))
    elif len(state.areas) == 1:
        board.map.zoom_to_area(next(iter(state.areas)))
    while not settled() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    for _ in range(5):  # let layouts and deferred paints finish
        app.processEvents()
    image = content_grab(win)
    if personal_mark:
        _mark_personal(image, lang)
    ok = image.save(out, "PNG")
    # what the image shows, for the audit log (and for checking the image's figures)
    kpis = {f"kpi_{t.spec().key}": t.spec().value for t in board.kpis.tiles()
            if t.spec() is not None}
    strip = board.kpis.geometry()
    top_left = board.kpis.mapTo(win, QPoint(0, 0)) - win.centralWidget().pos()
    win.close()
    if not ok:
        raise OSError(f"cannot write {out}")
    return {"path": str(Path(out)), "width": image.width(), "height": image.height(),
            "kpi_box": f"{top_left.x()},{top_left.y()},{strip.width()},{strip.height()}",
            **kpis}


def _mark_personal(image: Any, lang: str) -> None:
    """A red box with "含个人信息 / Contains personal data" in the image's top-left corner."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

    from layers.i18n import tr
    from painting.fonts import CJK_FAMILIES

    text = tr("personal_mark", lang)
    scale = max(1.0, image.width() / 1920)
    font = QFont(CJK_FAMILIES[0])
    font.setPixelSize(round(20 * scale))
    font.setBold(True)
    fm = QFontMetricsF(font)
    pad = 10 * scale
    box = QRectF(pad, pad, fm.horizontalAdvance(text) + 2 * pad, fm.height() + pad)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(255, 255, 255), 2 * scale))
    p.setBrush(QColor(213, 0, 0, 235))
    p.drawRoundedRect(box, 4 * scale, 4 * scale)
    p.setFont(font)
    p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
    p.end()
