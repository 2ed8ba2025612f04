"""The cockpit session: the state that the desk window, the wall and the web map observe.

One ``CockpitSession`` owns the open extract, the ``FilterStore`` (what is selected),
an ``OptionsStore`` (how it is shown: map groups, hotspots, choropleth, repeats,
dispatch mode, language, theme) and the ``JobRunner`` that computes figures off the
GUI thread. Windows lay out and wire views to it; none owns state another needs
(QGIS's ``QgsProject``, napari's ``ViewerModel``). Both stores notify only on a real
change.

Opening an extract runs on a Python thread with progress and cancel; the GUI thread
only swaps the opened extract in. The extract it replaces is closed once no job
holds its cursors any more.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from data.extract import Extract, ExtractError, open_extract
from data.filters import FilterState
from layers import i18n
from layers.scene import SceneOptions

from .filter_store import FilterStore
from .gc_guard import IdleCollector
from .jobs import JobRunner
from .settings import Settings, load_settings

MAP_GROUPS = ("situation", "resources", "hazards")


@dataclass(frozen=True)
class ViewOptions:
    """How the session is shown; the same for every window that observes it."""

    situation: bool = True
    resources: bool = False
    hazards: bool = False
    hotspots: bool = True
    repeats: bool = False
    """Repeat places on the situation map (computed on demand: they cost a query)."""
    choropleth: bool = False
    per_10k: bool = False
    """The choropleth's measure: incidents per 10,000 residents instead of counts."""
    dispatch: bool = False
    """一键调度 mode: a click on the map lists the nearest available forces."""
    lang: str = "zh"
    theme: str = "dark"
    incident_points: bool = True
    """False: incidents only aggregated, never at their places (the wall's privacy)."""
    min_cell_m: float = 0.0

    def group_shown(self, group: str) -> bool:
        return bool(getattr(self, group))

    @property
    def choropleth_measure(self) -> str | None:
        if not self.choropleth:
            return None
        return "rate" if self.per_10k else "count"

    def scene_options(self) -> SceneOptions:
        """What the map of these options needs built (hidden groups are not built)."""
        return SceneOptions(situation=self.situation, resources=self.resources,
                            hazards=self.hazards, hotspots=self.hotspots, repeats=False,
                            choropleth=self.choropleth_measure, lang=self.lang,
                            dark=self.theme == "dark", incident_points=self.incident_points,
                            min_cell_m=self.min_cell_m)


class OptionsStore(QObject):
    """The session's ``ViewOptions``; ``changed(new, old)`` only on a real change."""

    changed = Signal(object, object)

    def __init__(self, options: ViewOptions | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._options = options or ViewOptions()

    @property
    def value(self) -> ViewOptions:
        return self._options

    def update(self, **changes: Any) -> bool:
        new = dataclasses.replace(self._options, **changes)
        if new == self._options:
            return False
        old, self._options = self._options, new
        self.changed.emit(new, old)
        return True


class OpenCancelled(Exception):
    """The user cancelled an open (raised from the progress callback)."""


class _Opener(QObject):
    progress = Signal(object, str, float)  # attempt, stage, fraction
    opened = Signal(object, object, str)  # attempt, Extract, path
    failed = Signal(object, str, str)  # attempt, reason, path


@dataclass(eq=False)
class _OpenAttempt:
    path: str
    cancelled: threading.Event = dataclasses.field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    started: float = dataclasses.field(default_factory=time.perf_counter)


def _open_in_thread(attempt: _OpenAttempt, relay: _Opener) -> None:
    def progress(stage: str, fraction: float) -> None:
        if attempt.cancelled.is_set():
            raise OpenCancelled
        with contextlib.suppress(RuntimeError):  # the session is gone: nobody to tell
            relay.progress.emit(attempt, stage, fraction)

    ex: Extract | None = None
    reason = ""
    try:
        ex = open_extract(attempt.path, progress=progress)
    except OpenCancelled:
        pass
    except ExtractError as exc:
        reason = str(exc)
    except Exception as exc:  # an unforeseen failure is still only a message
        reason = f"{type(exc).__name__}: {exc}"
    if ex is not None and attempt.cancelled.is_set():
        ex.close()
        ex = None
    try:
        if ex is not None:
            relay.opened.emit(attempt, ex, attempt.path)
        else:
            relay.failed.emit(attempt, reason, attempt.path)
    except RuntimeError:  # the session was closed while this ran
        if ex is not None:
            ex.close()


class CockpitSession(QObject):
    """The open extract, the filter, the view options and the jobs of one cockpit.

    ``extract_changed(extract)`` after a new extract is in place (the filter already
    reset for a new region); ``open_started(path)``, ``open_progress(stage, fraction)``,
    ``open_failed(reason, path)`` (reason ``""``: cancelled), ``open_finished()``
    after either outcome.
    """

    extract_changed = Signal(object)
    open_started = Signal(str)
    open_progress = Signal(str, float)
    open_failed = Signal(str, str)
    open_finished = Signal()

    def __init__(self, options: ViewOptions | None = None, parent: QObject | None = None,
                 threads: int = 2, settings_file: str | Path | None = None,
                 can_reveal: bool = False) -> None:
        super().__init__(parent)
        self.settings_file = settings_file
        self._settings: Settings | None = None
        self.idle_checks: list[Callable[[], bool]] = []
        """More workers to wait for before a garbage collection (tile loaders...)."""
        self.can_reveal = can_reveal
        """Whether personal data may be revealed here (a desk workstation). False by
        default: a session made for a wall, or for anything else, never can."""
        self.options = OptionsStore(options, self)
        i18n.set_language(self.options.value.lang)
        # connected first: every later observer already reads the new language
        self.options.changed.connect(self._on_options)
        self.filters = FilterStore(parent=self)
        self.jobs = JobRunner(self, threads=threads)
        self.extract: Extract | None = None
        self.path: str | None = None
        self.timings: dict[str, float] = {}
        self._attempt: _OpenAttempt | None = None
        self._threads: list[threading.Thread] = []
        self._retired: list[Extract] = []
        self._opener = _Opener(self)
        self._opener.progress.connect(self._on_progress)
        self._opener.opened.connect(self._on_opened)
        self._opener.failed.connect(self._on_failed)
        self.jobs.idle.connect(self._close_retired)
        self._gc = IdleCollector(self.idle, self)  # see desktop/gc_guard.py
        self._gc.start()
        self._closed = False

    # ------------------------------------------------------------------ options
    def _on_options(self, new: ViewOptions, old: ViewOptions) -> None:
        if new.lang != old.lang:
            i18n.set_language(new.lang)

    @property
    def lang(self) -> str:
        return self.options.value.lang

    @property
    def settings(self) -> Settings:
        """``settings.json`` (base map, reference layers), read once (restart after editing)."""
        if self._settings is None:
            self._settings = load_settings(self.settings_file)
        return self._settings

    # ------------------------------------------------------------------ opening
    def open(self, path: str) -> None:
        """Open ``path`` in the background; the current extract stays until it succeeds.
        A newer ``open`` supersedes (cancels) an earlier one still running."""
        if self._closed:
            return
        self.cancel_open()
        attempt = _OpenAttempt(str(path))
        # a Python thread (see desktop/jobs.py for why not a QRunnable)
        attempt.thread = threading.Thread(target=_open_in_thread, args=(attempt, self._opener),
                                          name="cockpit-open", daemon=True)
        self._attempt = attempt
        self._threads = [t for t in self._threads if t.is_alive()] + [attempt.thread]
        self.open_started.emit(attempt.path)
        attempt.thread.start()

    def opening(self) -> bool:
        return self._attempt is not None

    def cancel_open(self) -> None:
        """Stop the open under way (its partial cache file is removed by ``open_extract``)."""
        if self._attempt is not None:
            self._attempt.cancelled.set()

    def _on_progress(self, attempt: _OpenAttempt, stage: str, fraction: float) -> None:
        if attempt is self._attempt:
            self.open_progress.emit(stage, fraction)

    def _on_opened(self, attempt: _OpenAttempt, extract: Extract, path: str) -> None:
        if attempt is not self._attempt or self._closed:
            extract.close()  # superseded by a newer open, or the session closed
            return
        self._attempt = None
        self.timings["open"] = time.perf_counter() - attempt.started
        self.set_extract(extract, path)
        self.open_finished.emit()

    def _on_failed(self, attempt: _OpenAttempt, reason: str, path: str) -> None:
        if attempt is not self._attempt:
            return
        self._attempt = None
        self.open_failed.emit(reason, path)
        self.open_finished.emit()

    def set_extract(self, extract: Extract, path: str = "") -> None:
        """Make ``extract`` current; a new region starts from a clear filter."""
        old = self.extract
        same_region = old is not None and old.region_name == extract.region_name
        self.extract, self.path = extract, path
        if old is not None and old is not extract:
            # jobs of the old extract are stale now: stop them, close it when they end
            self.jobs.cancel_all()
            self._retired.append(old)
            if not self.jobs.busy():
                QTimer.singleShot(0, self._close_retired)
        if not same_region:
            self.filters.reset(FilterState())
        self.extract_changed.emit(extract)

    def _close_retired(self) -> None:
        if self.jobs.busy():
            return
        retired, self._retired = self._retired, []
        for ex in retired:
            ex.close()

    # ------------------------------------------------------------------ helpers
    def submit(self, slot: str, token: object, work: Callable[..., Any],
               on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None) -> None:
        """``jobs.submit`` with the extract's id in the token (a new extract is new work)."""
        self.jobs.submit(slot, (id(self.extract), token), work, on_result, on_error)

    def idle(self) -> bool:
        """No worker thread is inside DuckDB, GEOS or numpy for this session."""
        opening = any(t.is_alive() for t in self._threads)
        return not opening and not self.jobs.busy() and all(c() for c in self.idle_checks)

    def close(self) -> None:
        """Stop the jobs and any open under way; close the extracts."""
        if self._closed:
            return
        self._closed = True
        self.cancel_open()
        self.jobs.shutdown()
        for t in self._threads:
            t.join(5.0)
        self._gc.stop()
        for ex in [*self._retired, self.extract]:
            if ex is not None:
                with contextlib.suppress(Exception):
                    ex.close()
        self._retired = []
