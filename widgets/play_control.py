"""The play control of situation playback (态势回放), a bar above the timeline.

Buttons (previous frame, play/pause, next frame, stop), the step (hour, day, week), the
window (sliding, cumulative), the speed, loop and "skip empty frames", and the current
frame in words. It only emits intents and shows what it is told: the player in
``desktop/`` moves the filter.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from data.playback import STEPS, WINDOWS, PlaybackSettings
from layers.i18n import tr

from .theme import DARK, Theme, css, make_font, qcolor, signals_blocked

SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0)
"""Frames per second offered (the window shows a frame only once the last one is drawn)."""


def _icon(kind: str, rgba: tuple[int, int, int, int], px: int) -> QIcon:
    """A media glyph drawn in the theme's ink (the CJK fonts lack ⏮ ⏭, style icons ignore
    the theme)."""
    pm = QPixmap(px, px)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(qcolor(rgba))
    m = px * 0.18
    a, b = m, px - m
    mid = px / 2

    def tri(x0: float, x1: float) -> None:
        p.drawPolygon(QPolygonF([QPointF(x0, a), QPointF(x1, mid), QPointF(x0, b)]))

    bar = px * 0.14
    if kind == "play":
        tri(a + px * 0.06, b)
    elif kind == "pause":
        p.drawRect(QRectF(a + px * 0.06, a, bar * 1.3, b - a))
        p.drawRect(QRectF(b - px * 0.06 - bar * 1.3, a, bar * 1.3, b - a))
    elif kind == "stop":
        p.drawRect(QRectF(a + px * 0.04, a + px * 0.04, b - a - px * 0.08, b - a - px * 0.08))
    elif kind == "back":  # bar, then a triangle pointing left
        p.drawRect(QRectF(a, a, bar, b - a))
        p.drawPolygon(QPolygonF([QPointF(b, a), QPointF(a + bar, mid), QPointF(b, b)]))
    elif kind == "forward":
        p.drawRect(QRectF(b - bar, a, bar, b - a))
        tri(a, b - bar)
    p.end()
    return QIcon(pm)


class PlayControl(QWidget):
    """Intents: ``play_requested``, ``pause_requested``, ``step_requested(+1 | -1)``,
    ``stop_requested``, ``settings_changed(PlaybackSettings)``."""

    play_requested = Signal()
    pause_requested = Signal()
    step_requested = Signal(int)
    stop_requested = Signal()
    settings_changed = Signal(object)

    def __init__(self, settings: PlaybackSettings | None = None, theme: Theme = DARK,
                 scale: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = theme, scale
        self._settings = settings or PlaybackSettings()
        self._playing = False
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self._layout = lay
        self.title = QLabel()
        self.back_button = QPushButton()
        self.play_button = QPushButton()
        self.forward_button = QPushButton()
        self.stop_button = QPushButton()
        self.back_button.clicked.connect(lambda: self.step_requested.emit(-1))
        self.forward_button.clicked.connect(lambda: self.step_requested.emit(1))
        self.play_button.clicked.connect(self._on_play)
        self.stop_button.clicked.connect(self.stop_requested)
        self.step_box = QComboBox()
        self.window_box = QComboBox()
        self.speed_box = QComboBox()
        self.loop_box = QCheckBox()
        self.skip_box = QCheckBox()
        self.frame_label = QLabel()
        for box in (self.step_box, self.window_box, self.speed_box):
            box.currentIndexChanged.connect(self._on_edit)
        for check in (self.loop_box, self.skip_box):
            check.toggled.connect(self._on_edit)
        for w in (self.title, self.back_button, self.play_button, self.forward_button,
                  self.stop_button, self.step_box, self.window_box, self.speed_box,
                  self.loop_box, self.skip_box):
            lay.addWidget(w)
        lay.addWidget(self.frame_label, 1)
        self.retranslate()
        self._restyle()
        self.set_frame(None)

    # ------------------------------------------------------------------ state shown
    @property
    def settings(self) -> PlaybackSettings:
        return self._settings

    def set_settings(self, settings: PlaybackSettings) -> None:
        self._settings = settings
        self._sync()

    def set_playing(self, playing: bool) -> None:
        self._playing = playing
        self._set_play_look()

    def playing(self) -> bool:
        return self._playing

    def set_frame(self, text: str | None) -> None:
        """The current frame in words (None: not playing)."""
        self.frame_label.setText(text if text is not None else tr("play_idle"))
        self.stop_button.setEnabled(text is not None)

    # ------------------------------------------------------------------ intents
    def _on_play(self) -> None:
        (self.pause_requested if self._playing else self.play_requested).emit()
        self.play_button.setChecked(self._playing)  # what the player did, not the click

    def _on_edit(self) -> None:
        new = dataclasses.replace(
            self._settings, step=self.step_box.currentData() or self._settings.step,
            window=self.window_box.currentData() or self._settings.window,
            fps=self.speed_box.currentData() or self._settings.fps,
            loop=self.loop_box.isChecked(), skip_empty=self.skip_box.isChecked())
        if new != self._settings:
            self._settings = new
            self.settings_changed.emit(new)

    # ------------------------------------------------------------------ look
    def _sync(self) -> None:
        s = self._settings
        for box, value in ((self.step_box, s.step), (self.window_box, s.window),
                           (self.speed_box, s.fps)):
            with signals_blocked(box):
                i = box.findData(value)
                if i < 0 and box is self.speed_box:  # a speed not offered: add it
                    box.addItem(tr("play_fps", n=f"{value:g}"), value)
                    i = box.count() - 1
                box.setCurrentIndex(i)
        for check, on in ((self.loop_box, s.loop), (self.skip_box, s.skip_empty)):
            with signals_blocked(check):
                check.setChecked(on)

    def retranslate(self) -> None:
        self.title.setText(tr("play_title"))
        for box, items in ((self.step_box, [(tr(f"play_step_{k}"), k) for k in STEPS]),
                           (self.window_box, [(tr(f"play_window_{k}"), k) for k in WINDOWS]),
                           (self.speed_box, [(tr("play_fps", n=f"{v:g}"), v)
                                             for v in SPEEDS])):
            with signals_blocked(box):
                box.clear()
                for label, data in items:
                    box.addItem(label, data)
        self.loop_box.setText(tr("play_loop"))
        self.skip_box.setText(tr("play_skip_empty"))
        for b, key in ((self.back_button, "play_back"), (self.forward_button, "play_forward"),
                       (self.stop_button, "play_stop")):
            b.setToolTip(tr(key))
        self._set_play_look()
        self._sync()
        if not self.stop_button.isEnabled():
            self.frame_label.setText(tr("play_idle"))

    def _set_play_look(self) -> None:
        t, px = self._theme, max(12, round(16 * self._scale))
        self.play_button.setIcon(_icon("pause" if self._playing else "play", t.text, px))
        self.play_button.setToolTip(tr("play_pause" if self._playing else "play_play"))
        self.play_button.setChecked(self._playing)

    def _restyle(self) -> None:
        t, s = self._theme, self._scale
        self._layout.setSpacing(round(6 * s))
        px = max(12, round(16 * s))
        pad = f"{round(2 * s)}px {round(6 * s)}px"
        button = (f"QPushButton {{ background: {css(t.panel)}; border: 1px solid {css(t.grid)};"
                  f" padding: {pad}; border-radius: {round(4 * s)}px; }}"
                  f"QPushButton:checked {{ background: {css((*t.accent[:3], 90))};"
                  f" border-color: {css(t.accent)}; }}"
                  f"QPushButton:disabled {{ background: {css(t.background)}; }}")
        self.play_button.setCheckable(True)
        for b, kind in ((self.back_button, "back"), (self.forward_button, "forward"),
                        (self.stop_button, "stop")):
            b.setIcon(_icon(kind, t.text, px))
        for b in (self.back_button, self.play_button, self.forward_button, self.stop_button):
            b.setStyleSheet(button)
            b.setIconSize(QSize(px, px))
        font = make_font(t, 10, s)
        for w in (self.step_box, self.window_box, self.speed_box, self.loop_box, self.skip_box,
                  self.frame_label):
            w.setFont(font)
        self.title.setFont(make_font(t, 10, s, bold=True))
        self.title.setStyleSheet(f"color: {css(t.text)};")
        self.frame_label.setStyleSheet(f"color: {css(t.accent)};")
        box_css = (f"QComboBox {{ color: {css(t.text)}; background: {css(t.panel)};"
                   f" border: 1px solid {css(t.grid)}; padding: {round(s)}px {round(6 * s)}px; }}"
                   f"QComboBox QAbstractItemView {{ color: {css(t.text)};"
                   f" background: {css(t.panel)}; selection-background-color:"
                   f" {css((*t.accent[:3], 120))}; }}")
        for box in (self.step_box, self.window_box, self.speed_box):
            box.setStyleSheet(box_css)
        for check in (self.loop_box, self.skip_box):
            check.setStyleSheet(f"QCheckBox {{ color: {css(t.text)}; }}")
        self._set_play_look()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()


if __name__ == "__main__":  # a look at the control alone
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    w = PlayControl()
    w.set_frame(tr("play_frame", i=3, n=24, window="2026-11-19 13:00–14:00"))
    w.show()
    sys.exit(app.exec())
