"""Start the cockpit window: the application, the CJK font check, the first extract."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from layers.i18n import tr
from painting.fonts import cjk_font_available, ensure_cjk_font
from widgets.theme import DARK, LIGHT, apply_theme
from widgets.web_map import webengine_environment  # importing it registers cockpit-tiles:


def application() -> QApplication:
    webengine_environment()  # Chromium's flags must be set before Qt starts
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("cockpit")
    app.setOrganizationName("cockpit")
    ensure_cjk_font()  # the system's, or the fonts that travel with a bundle
    return app


def run_window(path: str, lang: str = "zh", theme: str = "dark",
               quit_after_frame: bool = False) -> int:
    """Open the window on ``path`` (opening runs in the background, with progress)."""
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        # Qt would abort with a platform-plugin error; say what to do instead
        print("no display to open the window on: run it on a desktop, set DISPLAY, or use "
              "QT_QPA_PLATFORM=offscreen (and the headless 'export --png')", file=sys.stderr)
        return 2
    from .main_window import CockpitWindow

    app = application()
    t = LIGHT if theme == "light" else DARK
    apply_theme(app, t)
    win = CockpitWindow(t, lang)
    if cjk_font_available() is None:
        # Chinese would show as boxes: say so in a language that still renders
        print(tr("no_cjk_font", "en"), file=sys.stderr)
        win.statusBar().showMessage(tr("no_cjk_font", "en"))
    win.show()
    win.open_path(path)
    if quit_after_frame or os.environ.get("COCKPIT_QUIT_AFTER_FRAME"):
        def first_frame() -> None:
            win.repaint()  # painted now, not at the next turn of the loop
            # wall-clock time, for bench/bench_window.py to measure from the process start
            print(f"cockpit: first frame painted at {time.time():.3f}", file=sys.stderr)
            QTimer.singleShot(0, app.quit)
        win.frame_ready.connect(first_frame)
        win.open_failed.connect(lambda *_: QTimer.singleShot(0, app.quit))
    return app.exec()
