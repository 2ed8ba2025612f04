"""``cockpit playback``: a replay written as GIF or MP4, each frame the cockpit itself.

The frames are the desk window (or its map alone, ``map_only``) rendered offscreen for
each frame's filter, exactly as ``export --png`` renders one state: the same board, the
same presenters and jobs, nothing drawn a second time. A frame is grabbed once every
job of its state is drawn, so the frames do not depend on timing: the same arguments
give the same frames. Under each frame a strip says its time window, the region and
areas, the replay's step and window and the frame's number (``exporters/video.py``).
Personal data stays masked (the window's defaults; no card is open), and the extract's
age (relative to now) is left out of the header so that a replay made later is the same.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from data.filters import FilterState
from data.playback import Frame, PlaybackSettings

Progress = Callable[[str, float], None]
MIN_SIZE = (320, 240)
FRAME_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class PlaybackExport:
    """What to render: the extract, the frames (with the base filter they apply to) and
    how the video looks."""

    extract: str
    out: str
    frames: tuple[Frame, ...]
    base: FilterState
    settings: PlaybackSettings
    size: tuple[int, int]
    lang: str = "zh"
    theme: str = "dark"
    map_only: bool = False


@dataclass
class FrameTimes:
    """Milliseconds per frame: the cockpit drawing the state, grabbing it with its caption,
    and handing it to the encoder."""

    build: list[float] = field(default_factory=list)
    grab: list[float] = field(default_factory=list)
    encode: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        out = {}
        for name in ("build", "grab", "encode"):
            values = getattr(self, name)
            if values:
                out[f"{name}_ms_median"] = round(statistics.median(values), 1)
        return out


class FrameSource:
    """The cockpit offscreen at a frame size, rendering one frame per filter state."""

    def __init__(self, path: str, size: tuple[int, int], lang: str, theme: str,
                 map_only: bool, timeout_s: float = FRAME_TIMEOUT_S) -> None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QVBoxLayout, QWidget

        from widgets.theme import DARK, LIGHT, apply_theme

        from .app import application
        from .board import CockpitBoard, scale_for
        from .chrome import hide_chrome
        from .main_window import CockpitWindow
        from .session import CockpitSession, ViewOptions

        self.app = application()
        self.timeout_s = timeout_s
        self.map_only = map_only
        t = LIGHT if theme == "light" else DARK
        self.theme = t
        if map_only:
            # the board's own map (canvas, legend, presenter), the panels around it hidden
            self.widget = QWidget()
            self.session = CockpitSession(ViewOptions(lang=lang, theme=t.name), self.widget)
            self.board = CockpitBoard(self.session, web_map=False)
            b = self.board
            for w in (b.kpis, b.map_toolbar, b.timeline_box, b.main_split.widget(0),
                      b.main_split.widget(2)):
                w.hide()
            lay = QVBoxLayout(self.widget)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(b)
            apply_theme(self.widget, t)
            b.set_scale(scale_for(*size))
            # the panels are not shown: their jobs would only slow the map down
            b.map.settled.connect(lambda: self.session.jobs.cancel("panels"))
            self.window = None
        else:
            self.window = CockpitWindow(t, lang, interactive=False)
            self.widget, self.session, self.board = self.window, self.window.session, \
                self.window.board
            self.window.playback.control.hide()  # controls mean nothing in a video
            self.window.fresh_label.hide()  # "N hours ago" would differ between runs
            hide_chrome(self.window)  # frames show the content, never the menu bar
        self.widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.size = size
        self.widget.resize(*size)
        self.widget.show()
        self.app.processEvents()
        got = self.widget.size()
        if got.width() > size[0] or got.height() > size[1]:
            # smaller than the layout's minimum: render larger, same shape, and scale down
            k = max(got.width() / size[0], got.height() / size[1])
            self.widget.resize(math.ceil(size[0] * k), math.ceil(size[1] * k))
            self.app.processEvents()
        failed: list[str] = []
        self.session.open_failed.connect(lambda reason, _p: failed.append(reason))
        self.session.open(path)
        deadline = time.monotonic() + timeout_s
        while not failed and self.session.extract is None and time.monotonic() < deadline:
            self._spin()
        if failed or self.session.extract is None:
            self.close()
            raise RuntimeError(failed[0] if failed else f"cannot open {path} in time")
        self._wait(deadline)

    def _spin(self) -> None:
        self.app.processEvents()
        time.sleep(0.002)

    def _drawn(self) -> bool:
        s, b = self.session, self.board
        if s.jobs.busy() or b.map.scene is None:
            return False
        if self.map_only:
            return True
        panels = b.panels.panels
        return panels is not None and panels.state == s.filters.state

    def _wait(self, deadline: float) -> None:
        from PySide6.QtCore import QCoreApplication, QEvent

        while not self._drawn():
            if time.monotonic() > deadline:
                raise RuntimeError("the cockpit did not draw a frame in time")
            self._spin()
        for _ in range(3):  # layouts and deferred paints of the new specs
            self.app.processEvents()
        # widgets replaced by the new state (the filter chips) are deleted "later", which
        # without a running event loop is never: they would stay painted under the new ones
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        self.app.processEvents()

    def zoom_to_area(self, area_id: str) -> None:
        self.board.map.zoom_to_area(area_id)

    def render(self, state: FilterState) -> Any:
        """The cockpit drawn for ``state``, as a QImage."""
        from PySide6.QtCore import Qt

        from .chrome import content_grab

        self.session.filters.set(state, remember=False)
        self._wait(time.monotonic() + self.timeout_s)
        image = (self.widget.grab() if self.window is None
                 else content_grab(self.window)).toImage()
        if (image.width(), image.height()) != self.size:
            image = image.scaled(*self.size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        return image

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
        else:
            self.session.close()
            self.widget.close()
        self.widget.deleteLater()
        self.app.processEvents()
        from PySide6.QtCore import QCoreApplication, QEvent

        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        gc.collect()  # the session's cycles, now that no worker runs (desktop/gc_guard.py)


def render_playback(job: PlaybackExport, progress: Progress | None = None) -> dict[str, Any]:
    """Write ``job.out`` (GIF or MP4) from the cockpit's frames; returns a summary.

    The file appears only complete (a temporary name, then a rename); on any failure
    nothing is left at ``job.out``.
    """
    from exporters.video import qimage_rgb, strip_height, with_caption, writer_for
    from layers.playback_caption import frame_caption

    w, h = job.size
    strip = strip_height(h)
    started = time.perf_counter()
    source = FrameSource(job.extract, (w, h - strip), job.lang, job.theme, job.map_only)
    writer = None
    times = FrameTimes()
    captions = []
    try:
        ex = source.session.extract
        if len(job.base.areas) == 1:
            source.zoom_to_area(next(iter(job.base.areas)))
        writer = writer_for(job.out, (w, h), job.settings.fps)
        t = source.theme
        n = len(job.frames)
        for k, frame in enumerate(job.frames):
            state = frame.state(job.base)
            a = time.perf_counter()
            image = source.render(state)
            b = time.perf_counter()
            caption = frame_caption(ex, state, job.settings, k, n, job.lang)
            rgb = qimage_rgb(with_caption(image, caption, strip, t.background, t.text,
                                          t.accent))
            c = time.perf_counter()
            writer.add(rgb)
            d = time.perf_counter()
            times.build.append((b - a) * 1000)
            times.grab.append((c - b) * 1000)
            times.encode.append((d - c) * 1000)
            captions.append(caption.time)
            if progress is not None:
                progress(f"frame {k + 1}/{n}", (k + 1) / n * 0.98)
        e = time.perf_counter()
        writer.close()
        finish_ms = (time.perf_counter() - e) * 1000
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        source.close()
    if progress is not None:
        progress("written", 1.0)
    total = time.perf_counter() - started
    first, last = job.frames[0], job.frames[-1]
    return {"path": str(Path(job.out)), "format": Path(job.out).suffix.lower().lstrip("."),
            "frames": len(job.frames), "width": w, "height": h, "fps": job.settings.fps,
            "step": job.settings.step, "window": job.settings.window,
            "from": _iso(first.start), "to": _iso(last.stop), "map_only": job.map_only,
            "seconds": round(total, 2), "finish_ms": round(finish_ms, 1),
            "captions": captions, **times.summary()}


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="minutes")
