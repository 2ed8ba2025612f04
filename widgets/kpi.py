"""KPI tiles: one big number, its change against a base, and a detail line.

A tile only formats a ``layers.panels.KpiSpec``; the figure and its comparison come from
``data/``. Definitions of what the tile shows:
- the delta line reads "<delta_label> ▲12.3%" (▼ for a fall, no arrow for 0.0%); it is
  green (``good``) when the change goes the wanted way (down when ``good_when_down``,
  up otherwise), red (``bad``) when it goes the other way, muted when it is zero; no line
  when ``delta_pct`` is None (no base to compare with);
- an alarm tile is tinted and framed in the theme's ``alarm`` colour;
- text never clips: all fonts shrink together when the tile is too short, the value font
  shrinks further to fit the width, the other lines elide (the tooltip has the full text).

Intents: ``KpiTile.clicked(key)``, ``KpiStrip.tile_clicked(key)`` (a click or the context
menu's 查看明细: the records behind the tile).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from layers.i18n import tr
from layers.panels import KpiSpec
from widgets.records_menu import offer_records
from widgets.theme import DARK, Theme, make_font, no_data_label, qcolor

# Reference sizes in points (scaled by the tile's factor).
_TITLE_PT, _VALUE_PT, _DELTA_PT, _DETAIL_PT = 10.0, 26.0, 10.0, 9.0
_MIN_PT = 5.0


class KpiTile(QWidget):
    """Paints one ``KpiSpec``; emits ``clicked(key)``."""

    clicked = Signal(str)

    def __init__(self, spec: KpiSpec | None = None, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spec = spec
        self._theme = theme
        self._scale = scale
        self._cap = 1.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._refresh()

    # -- public -------------------------------------------------------------------------
    def spec(self) -> KpiSpec | None:
        return self._spec

    def set_spec(self, spec: KpiSpec | None) -> None:
        if spec == self._spec:
            return
        self._spec = spec
        self._refresh()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._refresh()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._refresh()

    # -- geometry -----------------------------------------------------------------------
    def _pad(self) -> float:
        return 10.0 * self._scale

    def _border(self) -> float:
        alarm = self._spec is not None and self._spec.alarm
        return max(1.0, (3.0 if alarm else 1.0) * self._scale)

    def _fonts(self, shrink: float) -> tuple[QFont, QFont, QFont, QFont]:
        f = self._scale * shrink
        t = self._theme
        return (make_font(t, max(_MIN_PT, _TITLE_PT * f), 1.0),
                make_font(t, max(_MIN_PT, _VALUE_PT * f), 1.0, bold=True),
                make_font(t, max(_MIN_PT, _DELTA_PT * f), 1.0),
                make_font(t, max(_MIN_PT, _DETAIL_PT * f), 1.0))

    def _lines(self) -> list[tuple[str, int]]:
        """(text, font index) of the lines shown, top to bottom."""
        s = self._spec
        if s is None:
            return [(tr("no_data"), 0)]
        lines = [(s.title, 0), (s.value or "—", 1)]
        d = s.delta_text()
        if d:
            lines.append((d, 2))
        if s.detail:
            lines.append((s.detail, 3))
        return lines

    def _content_height(self, fonts: tuple[QFont, ...]) -> float:
        gap = 2.0 * self._scale
        lines = self._lines()
        return sum(QFontMetricsF(fonts[i]).height() for _, i in lines) + gap * (len(lines) - 1)

    def sizeHint(self) -> QSize:
        h = self._content_height(self._fonts(1.0)) + 2 * (self._pad() + self._border())
        return QSize(round(200 * self._scale), math.ceil(h))

    def minimumSizeHint(self) -> QSize:
        hint = self.sizeHint()
        return QSize(round(60 * self._scale), math.ceil(hint.height() * 0.6))

    def height_fit(self) -> float:
        """The factor (<= 1) all fonts must shrink by for the lines to fit the tile's height."""
        inset = 2 * (self._border() + self._pad())
        need = self._content_height(self._fonts(1.0))
        room = self.height() - inset
        return 1.0 if need <= room else max(0.05, room / need)

    def set_shrink_cap(self, cap: float) -> None:
        """Shrink fonts by at least ``cap``, so tiles of a strip keep the same type sizes."""
        if cap != self._cap:
            self._cap = cap
            self.update()

    def _refresh(self) -> None:
        s = self._spec
        if s is None:
            self.setToolTip("")
            self.unsetCursor()
        else:
            self.setToolTip("\n".join(t for t, _ in self._lines()))
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.updateGeometry()
        self.update()

    # -- painting -----------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        t, s = self._theme, self._spec
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        bw = self._border()
        frame = QRectF(self.rect()).adjusted(bw / 2, bw / 2, -bw / 2, -bw / 2)
        radius = 6.0 * self._scale
        alarm = s is not None and s.alarm
        p.setPen(QPen(qcolor(t.alarm if alarm else t.grid), bw))
        p.setBrush(qcolor(t.panel))
        p.drawRoundedRect(frame, radius, radius)
        if alarm:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(qcolor(t.alarm, 48))
            inner = frame.adjusted(bw / 2, bw / 2, -bw / 2, -bw / 2)
            p.drawRoundedRect(inner, radius, radius)

        pad = self._pad()
        box = QRectF(self.rect()).adjusted(bw + pad, bw + pad, -bw - pad, -bw - pad)
        if box.width() <= 1 or box.height() <= 1:
            p.end()
            return
        # Shrink every line together when the tile is too short.
        fonts = self._fonts(min(self._cap, self.height_fit()))
        lines = self._lines()
        colors = {0: t.muted, 1: t.text, 3: t.muted}
        good = s.delta_is_good() if s is not None else None
        colors[2] = t.muted if good is None else t.good if good else t.bad

        gap = 2.0 * self._scale
        heights = []
        for text, i in lines:
            if i == 1:  # the value shrinks to the width instead of eliding
                fonts = (fonts[0], _fit_width(fonts[1], text, box.width()), *fonts[2:])
            heights.append(QFontMetricsF(fonts[i]).height())
        total = sum(heights) + gap * (len(lines) - 1)
        y = box.top() + max(0.0, (box.height() - total) / 2)
        align = (Qt.AlignmentFlag.AlignHCenter if s is None else Qt.AlignmentFlag.AlignLeft)
        for (text, i), h in zip(lines, heights, strict=True):
            fm = QFontMetricsF(fonts[i])
            shown = text if i == 1 else fm.elidedText(text, Qt.TextElideMode.ElideRight,
                                                       box.width())
            p.setFont(fonts[i])
            p.setPen(qcolor(colors[i]))
            p.drawText(QRectF(box.left(), y, box.width(), h),
                       int(align | Qt.AlignmentFlag.AlignVCenter), shown)
            y += h + gap
        p.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # the strip's common type size depends on every tile's height
        strip = self.parentWidget()
        if isinstance(strip, KpiStrip):
            strip._share_sizes()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if (self._spec is not None and event.button() == Qt.MouseButton.LeftButton
                and self.rect().contains(event.position().toPoint())):
            self.clicked.emit(self._spec.key)
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        spec, strip = self._spec, self.parentWidget()
        if spec is not None and isinstance(strip, KpiStrip) and strip.records_enabled:
            offer_records(self, event.globalPos(), lambda: self.clicked.emit(spec.key))


def _fit_width(font: QFont, text: str, width: float) -> QFont:
    """``font`` shrunk until ``text`` fits in ``width`` (never below the minimum size)."""
    for _ in range(8):
        w = QFontMetricsF(font).horizontalAdvance(text)
        if w <= width or font.pointSizeF() <= _MIN_PT:
            break
        font = QFont(font)
        font.setPointSizeF(max(_MIN_PT, font.pointSizeF() * width / w * 0.98))
    return font


class KpiStrip(QWidget):
    """A row of ``KpiTile``; ``set_specs`` replaces them; emits ``tile_clicked(key)``."""

    tile_clicked = Signal(str)

    def __init__(self, specs: list[KpiSpec] | tuple[KpiSpec, ...] = (), theme: Theme = DARK,
                 scale: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._scale = scale
        self._tiles: list[KpiTile] = []
        self.records_enabled = False
        """Whether tiles offer their records in a context menu."""
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._error: str | None = None
        self._empty: QLabel = no_data_label(theme, scale)
        self._layout.addWidget(self._empty)
        self._restyle()
        self.set_specs(specs)

    def tiles(self) -> list[KpiTile]:
        return list(self._tiles)

    def show_error(self, message: str) -> None:
        """The figures failed: the tiles give way to the error, in the strip's place."""
        self.set_specs(())
        self._error = message
        no_data_label(self._theme, self._scale, self._empty, message)

    def error(self) -> str | None:
        return self._error

    def set_specs(self, specs: list[KpiSpec] | tuple[KpiSpec, ...]) -> None:
        specs = list(specs)
        if self._error is not None:
            self._error = None
            no_data_label(self._theme, self._scale, self._empty)
        # Reuse tiles so a refresh does not rebuild the row (no flicker on the wall).
        while len(self._tiles) > len(specs):
            tile = self._tiles.pop()
            self._layout.removeWidget(tile)
            tile.deleteLater()
        while len(self._tiles) < len(specs):
            tile = KpiTile(None, self._theme, self._scale, self)
            tile.clicked.connect(self.tile_clicked)
            self._layout.addWidget(tile, 1)
            # now, not at the layout's queued show: a frame painted right after this call
            # (the first frame) must have its tiles
            tile.show()
            self._tiles.append(tile)
        for tile, spec in zip(self._tiles, specs, strict=True):
            tile.set_spec(spec)
        self._empty.setVisible(not specs)
        self._share_sizes()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._share_sizes()

    def _share_sizes(self) -> None:
        # the tallest tile content decides the type size of the whole row
        cap = min((t.height_fit() for t in self._tiles), default=1.0)
        for tile in self._tiles:
            tile.set_shrink_cap(cap)

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self._restyle()
        for tile in self._tiles:
            tile.set_scale(factor)
        self._share_sizes()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()
        for tile in self._tiles:
            tile.set_theme(theme)

    def _restyle(self) -> None:
        self._layout.setSpacing(round(8 * self._scale))
        # the gaps between tiles show the window colour even when the strip stands alone
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, qcolor(self._theme.background))
        self.setPalette(pal)
        no_data_label(self._theme, self._scale, self._empty, self._error)
