"""The words stamped on each frame of an exported replay: when, where, how, which frame.

Qt-free; ``exporters/video.py`` paints them in a strip under the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.extract import Extract
from data.filters import FilterState
from data.playback import PlaybackSettings

from .filter_text import area_name, window_text
from .i18n import tr


@dataclass(frozen=True)
class Caption:
    time: str
    """The frame's time window ("2026-11-19 13:00–14:00"), printed large."""
    where: str
    """The region and the areas of the filter."""
    mode: str
    """态势回放 · 逐小时 · 滑动窗口."""
    frame: str
    """第 3/24 帧."""


def frame_caption(extract: Extract, state: FilterState, settings: PlaybackSettings,
                  index: int, count: int, lang: str | None = None) -> Caption:
    where = " · ".join([extract.region_name, *(area_name(extract, a) for a in sorted(state.areas))])
    mode = tr("play_stamp_mode", lang, step=tr(f"play_step_{settings.step}", lang),
              window=tr(f"play_window_{settings.window}", lang))
    return Caption(window_text(state, lang), where, mode,
                   tr("play_frame_n", lang, i=index + 1, n=count))
