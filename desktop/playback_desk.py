"""The desk's play control: a ``PlayControl`` above the timeline driving a ``Player``.

Wiring only: the control emits intents, the player moves the session's filter, and the
control shows what the player did. The wall plays replays with a ``Player`` alone (no
control on the wall).
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from data.playback import PlaybackSettings
from layers.i18n import tr
from widgets.play_control import PlayControl

from .board import CockpitBoard
from .player import Player


class DeskPlayback(QObject):
    def __init__(self, board: CockpitBoard, settings: PlaybackSettings | None = None) -> None:
        super().__init__(board)
        self.player = p = Player(board.session, board.frame_ready, settings, parent=self)
        self.control = c = PlayControl(p.settings, board.theme, board.scale)
        board.add_timeline_bar(c)
        c.play_requested.connect(p.play)
        c.pause_requested.connect(p.pause)
        c.step_requested.connect(p.step)
        c.stop_requested.connect(p.stop)
        c.settings_changed.connect(p.set_settings)
        p.playing_changed.connect(c.set_playing)
        p.frame_shown.connect(lambda _f: self._show_frame())
        p.planned.connect(lambda n: None if n else c.set_frame(tr("play_no_frames")))
        board.session.options.changed.connect(lambda _n, _o: self._show_frame())

    def _show_frame(self) -> None:
        text = self.player.frame_text()
        self.control.set_frame(text)
