"""Situation playback in a window: the session's filter window steps through the frames
of a replay, and every view follows because the filter store is the one source of truth.

Pacing: a frame is shown (the filter set) only once the frame before it is drawn (the
board's ``frame_ready``) *and* its time at the chosen speed is up, so a replay never
queues work faster than the cockpit draws it: at 1M incidents the wall and the desk
show whole steps, slower than asked if they must, never a backlog. A frame that is not
drawn within ``STALL_MS`` is left behind (the job runner cancels its work when the next
frame's request comes).

The first frame of a replay is one entry of the undo history (后退 returns to the window
before the replay); the frames after it are not. A change of the window by someone else
(a dragged timeline, 后退, a cleared filter) ends the replay where it is; other filter
changes (a category, an area) are kept and the replay goes on with them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from data.filters import FilterState
from data.playback import Frame, PlaybackSettings, data_end, frames, plan, range_of
from data.queries import Query
from layers.filter_text import window_text
from layers.i18n import tr

from .jobs import JobContext
from .session import CockpitSession

STALL_MS = 15_000
_WINDOW = ("start", "end", "start_hour", "end_hour")


def window_of(state: FilterState) -> tuple:
    return tuple(getattr(state, f) for f in _WINDOW)


def with_window_of(state: FilterState, source: FilterState) -> FilterState:
    """``state`` with the time window of ``source``."""
    return dataclasses.replace(state, **{f: getattr(source, f) for f in _WINDOW})


class Player(QObject):
    """Plays replays on ``session``; ``drawn`` is the signal that the current state is drawn
    (``CockpitBoard.frame_ready``).

    ``frame_shown(frame | None)`` after the filter moved to a frame (None: the replay
    ended); ``playing_changed(bool)``; ``planned(n)`` when the frames of a replay are
    known (0: nothing to play); ``finished()`` when the last frame has had its time and
    the replay does not loop.
    """

    frame_shown = Signal(object)
    playing_changed = Signal(bool)
    planned = Signal(int)
    finished = Signal()

    def __init__(self, session: CockpitSession, drawn: SignalInstance,
                 settings: PlaybackSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent or session)
        self.session = session
        self.settings = settings or PlaybackSettings()
        self.frames: list[Frame] = []
        self.index = -1
        self.range: tuple[datetime, datetime] | None = None
        self.frames_shown = 0
        """Frames shown since the player was made (tests and benchmarks read it)."""
        self._playing = False
        self._drawn = True
        self._due = False
        self._shown: FilterState | None = None  # the state the player set last
        self._before: FilterState | None = None  # the state before the replay (stop restores)
        self._plan_id = 0
        self._tick = QTimer(self, singleShot=True)
        self._tick.timeout.connect(self._on_tick)
        self._stall = QTimer(self, singleShot=True, interval=STALL_MS)
        self._stall.timeout.connect(self._on_drawn)
        drawn.connect(self._on_drawn)
        session.filters.changed.connect(self._on_filter)
        session.extract_changed.connect(lambda _ex: self.stop(restore=False))

    # ------------------------------------------------------------------ asking
    def active(self) -> bool:
        """A replay is under way (playing or paused on one of its frames)."""
        return self.index >= 0

    def playing(self) -> bool:
        return self._playing

    def current(self) -> Frame | None:
        return self.frames[self.index] if self.active() else None

    def frame_text(self) -> str | None:
        f = self.current()
        if f is None:
            return None
        return tr("play_frame", i=self.index + 1, n=len(self.frames),
                  window=window_text(self.session.filters.state))

    # ------------------------------------------------------------------ intents
    def play(self) -> None:
        """Play from the current frame (a new replay of the filter's window when none)."""
        if not self.active():
            self._start(self._plan_range(), then=lambda: self._show(0, playing=True))
            return
        if self.index >= len(self.frames) - 1 and not self.settings.loop:
            self._show(0, playing=True)  # at the end: from the beginning again
            return
        self._set_playing(True)
        self._schedule()

    def play_range(self, t0: datetime, t1: datetime, settings: PlaybackSettings | None = None
                   ) -> None:
        """A new replay of [t0, t1) from its first frame (the wall's replay view)."""
        if settings is not None:
            self.settings = settings
        self.stop(restore=False)
        self._start((t0, t1), then=lambda: self._show(0, playing=True))

    def pause(self) -> None:
        self._set_playing(False)

    def step(self, delta: int) -> None:
        """One frame on (+1) or back (-1), paused; a new replay starts at its first (last)."""
        self.pause()
        if not self.active():
            self._start(self._plan_range(),
                        then=lambda: self._show(0 if delta > 0 else len(self.frames) - 1))
            return
        n = len(self.frames)
        i = self.index + delta
        i = i % n if self.settings.loop else max(0, min(n - 1, i))
        if i != self.index:
            self._show(i)

    def stop(self, restore: bool = True) -> None:
        """End the replay; ``restore`` puts the window from before it back."""
        was = self.active()
        self._set_playing(False)
        self._plan_id += 1  # a plan still computing is forgotten
        self.frames, self.index, self.range = [], -1, None
        if was and restore and self._before is not None:
            store = self.session.filters
            self._shown = with_window_of(store.state, self._before)
            store.set(self._shown, remember=False)
        self._before = None
        if was:
            self.frame_shown.emit(None)

    def set_settings(self, settings: PlaybackSettings) -> None:
        """New settings; a replay under way is planned again over the same range and goes
        on from the frame holding the current time."""
        old, self.settings = self.settings, settings
        if not self.active():
            return
        if (old.step, old.window, old.skip_empty) == (settings.step, settings.window,
                                                      settings.skip_empty):
            if self._playing and old.fps != settings.fps:
                self._schedule()
            return
        at = self.frames[self.index].step_start
        playing = self._playing

        def resume() -> None:
            i = max([k for k, f in enumerate(self.frames) if f.step_start <= at], default=0)
            self._show(i, playing=playing)

        self._start(self.range, then=resume, keep_before=True)

    # ------------------------------------------------------------------ planning
    def _plan_range(self) -> tuple[datetime, datetime] | None:
        ex = self.session.extract
        if ex is None:
            return None
        st = self.session.filters.state
        return range_of(st, st.as_of or ex.default_as_of, self.settings.step, data_end(ex, st))

    def _start(self, span: tuple[datetime, datetime] | None, then: Callable[[], None],
               keep_before: bool = False) -> None:
        ex = self.session.extract
        if span is None or ex is None:
            self.planned.emit(0)
            return
        self._plan_id += 1
        plan_id, settings = self._plan_id, self.settings
        base = self.session.filters.state
        if not keep_before:
            self._before = base
        self.range = span

        def done(fs: list[Frame]) -> None:
            if plan_id != self._plan_id:
                return
            self.frames = fs
            self.planned.emit(len(fs))
            if not fs:
                self.stop(restore=True)
                return
            then()

        if not settings.skip_empty:  # pure arithmetic: no query, no job
            done(frames(*span, settings.step, settings.window))
            return

        def work(ctx: JobContext) -> list[Frame]:
            return plan(Query(ex, ctx.cursor(ex)), base, *span, settings)

        self.session.submit("playback_plan", (base, span, settings), work, done,
                            lambda _e: done([]))

    # ------------------------------------------------------------------ frames
    def _show(self, i: int, playing: bool | None = None) -> None:
        first = not self.active()
        self.index = i
        store = self.session.filters
        state = self.frames[i].state(store.state)
        self._shown = state
        self._drawn, self._due = False, False
        store.set(state, remember=first)
        if not self.session.jobs.busy():  # nothing to compute: it is drawn already
            self._drawn = True
        else:
            self._stall.start()
        self.frames_shown += 1
        self.frame_shown.emit(self.frames[i])
        if playing is not None:
            self._set_playing(playing)
        if self._playing:
            self._schedule()

    def _schedule(self) -> None:
        self._tick.start(round(1000 / self.settings.fps))

    def _on_tick(self) -> None:
        if not self._playing:
            return
        if self._drawn:
            self._advance()
        else:
            self._due = True  # the frame is late: the next one follows as soon as it is drawn

    def _on_drawn(self) -> None:
        self._stall.stop()
        if self._drawn:
            return
        self._drawn = True
        if self._playing and self._due:
            self._advance()

    def _advance(self) -> None:
        nxt = self.index + 1
        if nxt < len(self.frames):
            self._show(nxt)
        elif self.settings.loop and self.frames:
            self._show(0)
        else:
            self._set_playing(False)
            self.finished.emit()

    def _set_playing(self, playing: bool) -> None:
        if not playing:
            self._tick.stop()
            self._due = False
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)

    def _on_filter(self, state: FilterState) -> None:
        if not self.active() or state == self._shown:
            return
        if window_of(state) != window_of(self._shown or state):
            # someone else moved the window (a drag, 后退, a cleared filter): theirs now
            self._before = None
            self.stop(restore=False)
            return
        self._shown = state  # a category or an area: the replay goes on with it
        self._drawn = not self.session.jobs.busy()
