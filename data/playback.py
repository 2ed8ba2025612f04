"""Situation playback (态势回放): the frames of a replay, as filter windows.

A replay walks a time range in steps of an hour, a day or a week. Each frame is a time
window of the one ``FilterState``, so every panel, the map and the exports follow it
without knowing about playback:
- ``sliding``: the frame shows its own step, [t_k, t_k + step);
- ``cumulative``: the frame shows everything from the first step on, [t_0, t_k + step).
Frames never reach past the end of the range (the last one may be a shorter step).

"Skip empty frames" drops the frames whose own step holds no incident under the rest of
the filter (in a cumulative replay such a frame would repeat the one before it);
``step_counts`` answers that for all frames in one query.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from .extract import Extract
from .filters import FilterState, day_start, window_span
from .queries import Query

STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
WINDOWS = ("sliding", "cumulative")
DEFAULT_SPAN = {"hour": timedelta(hours=24), "day": timedelta(days=30),
                "week": timedelta(weeks=12)}
"""How far back a replay reaches when no range is given (24 frames, 30, 12)."""
MAX_FRAMES = 10_000
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class PlaybackSettings:
    """How a replay steps; the play control edits it, the wall and the CLI set it."""

    step: str = "day"
    window: str = "sliding"
    fps: float = 2.0
    """Frames per second asked for (the window shows a frame only once the last is drawn)."""
    loop: bool = False
    skip_empty: bool = False

    def __post_init__(self) -> None:
        if self.step not in STEPS:
            raise ValueError(f"step must be one of {', '.join(STEPS)}, not {self.step!r}")
        if self.window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}, not {self.window!r}")
        if not 0.1 <= self.fps <= 60:
            raise ValueError(f"fps must be from 0.1 to 60, not {self.fps!r}")


@dataclass(frozen=True)
class Frame:
    """One step of a replay: ``start``..``stop`` is what it shows, ``step_start`` its own
    step (equal to ``start`` in a sliding replay)."""

    index: int
    start: datetime
    stop: datetime
    step_start: datetime

    def state(self, base: FilterState) -> FilterState:
        """``base`` (areas, categories...) with this frame's time window."""
        return base.with_span(self.start, self.stop)


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def default_range(step: str, end: datetime) -> tuple[datetime, datetime]:
    """The last ``DEFAULT_SPAN[step]`` up to ``end`` (where the data ends): for hours, up
    to the last whole hour before it; for days and weeks, up to the end of its day."""
    stop = _floor_hour(end)
    if step != "hour":
        day = day_start(end.date())
        stop = day if end == day else day + timedelta(days=1)
    return stop - DEFAULT_SPAN[step], stop


def range_of(state: FilterState, as_of: date, step: str, end: datetime
             ) -> tuple[datetime, datetime]:
    """The range a replay covers for ``state``: its time window when it has both ends (to
    the hour), else the default range before ``end`` (where the data ends)."""
    start, stop = window_span(state, as_of)
    if start is None or state.end is None:
        return default_range(step, end)
    return start, stop


def days_range(first: date | None, last: date | None, as_of: date, step: str,
               end: datetime) -> tuple[datetime, datetime]:
    """[t0, t1) of a replay from days given or not (``--from``/``--to``, inclusive): a
    missing last day is where the data ends (as in ``default_range``), a missing first
    day is ``DEFAULT_SPAN[step]`` before the end; never past the as-of day."""
    if last is None:
        stop = default_range(step, end)[1]
    else:
        stop = min(day_start(last + timedelta(days=1)), day_start(as_of + timedelta(days=1)))
    start = day_start(first) if first is not None else stop - DEFAULT_SPAN[step]
    return start, stop


def frames(t0: datetime, t1: datetime, step: str, window: str) -> list[Frame]:
    """The frames of [t0, t1) (both on whole hours) in steps of ``step``."""
    if step not in STEPS or window not in WINDOWS:
        raise ValueError(f"unknown step or window: {step!r}, {window!r}")
    if t1 <= t0:
        return []
    size = STEPS[step]
    n = -(-(t1 - t0) // size)  # ceiling
    if n > MAX_FRAMES:
        raise ValueError(f"{n} frames of one {step} between {t0} and {t1}: "
                         f"at most {MAX_FRAMES}")
    out = []
    for k in range(n):
        a = t0 + k * size
        b = min(a + size, t1)
        out.append(Frame(k, a if window == "sliding" else t0, b, a))
    return out


def step_counts(q: Query, base: FilterState, fs: list[Frame]) -> np.ndarray:
    """Incidents in each frame's own step under ``base`` (its window ignored), in one query."""
    if not fs:
        return np.zeros(0, dtype=np.int64)
    t0, t1 = fs[0].step_start, fs[-1].stop
    size = fs[1].step_start - t0 if len(fs) > 1 else t1 - t0
    p = q.where(base.with_span(t0, t1), "incidents")
    rows = q.con.execute(
        f"SELECT ((epoch_us(reported_at) - $pb_t0) // $pb_step)::BIGINT AS k, "
        f"count(*)::BIGINT AS n FROM incidents WHERE {p.sql} GROUP BY 1",
        {**p.params, "pb_t0": _us(t0), "pb_step": _us(t0 + size) - _us(t0)}).fetchnumpy()
    k, n = np.asarray(rows["k"], np.int64), np.asarray(rows["n"], np.int64)
    ok = (k >= 0) & (k < len(fs))
    return np.bincount(k[ok], weights=n[ok], minlength=len(fs)).astype(np.int64)


def _us(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1)


def data_end(extract: Extract, state: FilterState) -> datetime:
    """Where the data of ``state`` ends: the extract time, or the end of the as-of day when
    that comes first (or the extract has no time)."""
    as_of = state.as_of or extract.default_as_of
    end_of_day = day_start(as_of + timedelta(days=1))
    at = extract.extracted_at
    return min(at, end_of_day) if at is not None else end_of_day


def non_empty(fs: list[Frame], counts: np.ndarray) -> list[Frame]:
    """The frames whose own step holds an incident (renumbered from 0)."""
    kept = [f for f, n in zip(fs, counts, strict=True) if n > 0]
    return [dataclasses.replace(f, index=i) for i, f in enumerate(kept)]


def plan(q: Query, base: FilterState, t0: datetime, t1: datetime,
         settings: PlaybackSettings) -> list[Frame]:
    """The frames a replay of [t0, t1) shows under ``base`` with ``settings``."""
    fs = frames(t0, t1, settings.step, settings.window)
    if settings.skip_empty:
        fs = non_empty(fs, step_counts(q, base, fs))
    return fs
