"""The wall's read-only banner: where, when, what is filtered, and whether the data is current.

A wall without its context is misread, so the banner always shows the region and
the current rotation view, the active filter and time window, the as-of day and
extract time, and a clock. When the extract could not be reloaded a red strip
says since when the data has been stale and that the wall is retrying.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from layers.i18n import tr

from .theme import DARK, Theme, css, make_font, qcolor


class WallBanner(QWidget):
    def __init__(self, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = theme, scale
        self.title = QLabel()
        self.view = QLabel()
        self.filter = QLabel()
        self.as_of = QLabel()
        self.clock = QLabel()
        self.stale = QLabel()
        self.stale.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stale.setWordWrap(True)
        self.stale.hide()
        self.filter.setTextFormat(Qt.TextFormat.PlainText)
        self.view.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.title)
        row.addWidget(self.view)
        row.addWidget(self.filter, 1)
        row.addWidget(self.as_of)
        row.addWidget(self.clock)
        self._row = row
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.stale)
        self._lay = lay
        self.setAutoFillBackground(True)
        self._restyle()

    # ------------------------------------------------------------------ content
    def set_context(self, region: str, view: str, filter_text: str, as_of: str) -> None:
        self.title.setText(region)
        self.view.setText(view)
        self.view.setVisible(bool(view))
        self.filter.setText(filter_text)
        self.as_of.setText(as_of)

    def tick(self, now: datetime | None = None) -> None:
        self.clock.setText((now or datetime.now()).strftime("%H:%M:%S"))

    def set_stale(self, since: datetime | None, reason: str = "", has_data: bool = True) -> None:
        """Show (``since`` set) or clear the "data stale" strip (``has_data``: is any shown)."""
        if since is None:
            self.stale.hide()
            return
        text = tr("wall_stale" if has_data else "wall_no_data_yet", time=since.strftime("%H:%M"))
        if reason:
            text += " · " + reason.splitlines()[0][:160]
        self.stale.setText(text)
        self.stale.show()

    def is_stale(self) -> bool:
        return not self.stale.isHidden()

    # ------------------------------------------------------------------ look
    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()

    def _restyle(self) -> None:
        t, s = self._theme, self._scale
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, qcolor(t.background))
        self.setPalette(pal)
        self._row.setSpacing(round(24 * s))
        self._lay.setSpacing(round(4 * s))
        self.title.setFont(make_font(t, 20, s, bold=True))
        self.view.setFont(make_font(t, 16, s, bold=True))
        self.filter.setFont(make_font(t, 14, s))
        self.as_of.setFont(make_font(t, 14, s))
        self.clock.setFont(make_font(t, 22, s, bold=True))
        self.title.setStyleSheet(f"color: {css(t.text)};")
        self.view.setStyleSheet(f"color: {css(t.background)}; background: {css(t.accent)};"
                                f" border-radius: {round(4 * s)}px;"
                                f" padding: {round(2 * s)}px {round(12 * s)}px;")
        self.filter.setStyleSheet(f"color: {css(t.accent)};")
        self.as_of.setStyleSheet(f"color: {css(t.muted)};")
        self.clock.setStyleSheet(f"color: {css(t.text)};")
        self.stale.setFont(make_font(t, 16, s, bold=True))
        self.stale.setStyleSheet(f"color: white; background: {css(t.bad)};"
                                 f" padding: {round(4 * s)}px;")
