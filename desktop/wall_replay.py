"""The wall's replay views (态势回放 on the wall): "the last 24 hours" hour by hour.

A view with ``replay = "24h"`` plays the span up to the data's end (the extract time)
through a ``Player`` on the wall's own session, with the wall's privacy profile (the
view options are not touched: incidents stay aggregated). When the last frame has had
its time, the replay holds it for ``HOLD_MS`` and says ``done``: the wall moves on.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from data.playback import PlaybackSettings, data_end, default_range

from .player import Player
from .session import CockpitSession
from .wall_config import WallView, replay_hours

HOLD_MS = 4_000


class WallReplay(QObject):
    done = Signal()

    def __init__(self, session: CockpitSession, drawn: SignalInstance,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.player = Player(session, drawn, parent=self)
        self.player.finished.connect(self._finished)
        self._hold = QTimer(self, singleShot=True, interval=HOLD_MS)
        self._hold.timeout.connect(self.done)

    def start(self, view: WallView, loop: bool) -> bool:
        """Play the view's replay from its first frame; False when it cannot (no extract,
        no replay in the view)."""
        ex = self.session.extract
        hours = replay_hours(view.replay)
        if ex is None or hours is None:
            return False
        self._hold.stop()
        settings = PlaybackSettings(view.replay_step, view.replay_window, view.replay_fps,
                                    loop=loop)
        stop = default_range(settings.step, data_end(ex, self.session.filters.state))[1]
        self.player.play_range(stop - timedelta(hours=hours), stop, settings)
        return True

    def stop(self) -> None:
        self._hold.stop()
        self.player.stop(restore=False)

    def active(self) -> bool:
        return self.player.active()

    def _finished(self) -> None:
        self._hold.start()
