"""The map legend: the entries of the visible layers, drawn as a translucent card."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from layers.drawables import LegendEntry
from painting.symbols import symbol_path

from .theme import DARK, Theme, make_font, qcolor


class Legend(QWidget):
    def __init__(self, theme: Theme = DARK, scale: float = 1.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = theme, scale
        self._sections: list[tuple[str, tuple[LegendEntry, ...]]] = []
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def set_sections(self, sections: list[tuple[str, tuple[LegendEntry, ...]]]) -> None:
        self._sections = [(t, e) for t, e in sections if e]
        self.setVisible(bool(self._sections))
        self.resize(self.sizeHint())
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.update()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self.resize(self.sizeHint())
        self.update()

    def sections(self) -> list[tuple[str, tuple[LegendEntry, ...]]]:
        return list(self._sections)

    def _fonts(self) -> tuple:
        return make_font(self._theme, 9.5, self._scale, bold=True), make_font(
            self._theme, 9, self._scale)

    def _columns(self) -> list[list[tuple[str, LegendEntry | None]]]:
        # Sections flow into columns so a tall legend does not cover the map's height.
        cols: list[list[tuple[str, LegendEntry | None]]] = [[]]
        for title, entries in self._sections:
            block = [(title, None)] + [("", e) for e in entries]
            if cols[-1] and len(cols[-1]) + len(block) > 14:
                cols.append([])
            cols[-1] += block
        return cols

    def sizeHint(self) -> QSize:
        head, body = self._fonts()
        fm_h, fm_b = QFontMetricsF(head), QFontMetricsF(body)
        line = max(fm_h.height(), fm_b.height()) * 1.25
        pad = 8 * self._scale
        width, height = 0.0, 0.0
        for col in self._columns():
            w = max((fm_h.horizontalAdvance(t) if e is None else
                     fm_b.horizontalAdvance(e.label) + line * 1.3) for t, e in col) if col else 0
            width += w + pad * 2
            height = max(height, line * len(col))
        return QSize(int(width + pad), int(height + pad * 2))

    def paintEvent(self, event: QPaintEvent) -> None:
        t, s = self._theme, self._scale
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(qcolor(t.grid), 1))
        p.setBrush(qcolor(t.panel, 215))
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6 * s, 6 * s)
        head, body = self._fonts()
        fm_h, fm_b = QFontMetricsF(head), QFontMetricsF(body)
        line = max(fm_h.height(), fm_b.height()) * 1.25
        pad = 8 * s
        x = pad
        for col in self._columns():
            y = pad
            w = 0.0
            for title, e in col:
                if e is None:
                    p.setFont(head)
                    p.setPen(qcolor(t.text))
                    p.drawText(QPointF(x, y + fm_h.ascent()), title)
                    w = max(w, fm_h.horizontalAdvance(title))
                else:
                    _symbol(p, e, QPointF(x + line * 0.45, y + line * 0.45), line * 0.6)
                    p.setFont(body)
                    p.setPen(qcolor(t.muted))
                    p.drawText(QPointF(x + line * 1.3, y + fm_b.ascent()), e.label)
                    w = max(w, fm_b.horizontalAdvance(e.label) + line * 1.3)
                y += line
            x += w + pad * 2
        p.end()


def _symbol(p: QPainter, e: LegendEntry, c: QPointF, size: float) -> None:
    p.setPen(QPen(qcolor((255, 255, 255, 200)), 1))
    p.setBrush(qcolor(e.color))
    if e.symbol == "line":  # a reference layer's line, as thick as on the map (within reason)
        r = size / 2
        p.setPen(QPen(qcolor(e.color), max(1.0, min(e.size, size * 0.5))))
        p.drawLine(QPointF(c.x() - r * 1.2, c.y()), QPointF(c.x() + r * 1.2, c.y()))
        return
    p.drawPath(symbol_path(e.symbol, size, c))
