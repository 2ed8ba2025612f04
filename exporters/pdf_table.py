"""A ``TableSpec`` as a printed table that splits across columns and pages.

Columns are as wide as their content when it fits; otherwise numbers keep their width
and text columns share the rest, wrapping onto a second line and then eliding ("…").
A table that does not fit the room left gives the rows that do (at least three, and
never a single orphan row) and continues in the next column under its title marked
"continued" and its header again. A ``truncate`` table (the atlas) keeps to its room
and counts the rows it drops in its "and N more" line, as it counts the rows the figure
itself did not list (``more``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPen

from data.privacy import mask_text
from layers.panels import TableSpec

from .pdf_blocks import paint_title, title_height
from .pdf_layout import Block
from .pdf_style import Ctx, printable, qcolor

_WRAP = int(Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap)
MAX_LINES = 2


@dataclass
class _Layout:
    widths: list[float]
    header: list[str]
    header_h: float
    cells: list[list[str]]
    row_h: list[float]


@dataclass
class TableBlock(Block):
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool] = ()
    alarm: frozenset[int] = frozenset()
    """Row positions (in ``rows``) printed in the alarm colour."""
    more: int = 0
    """Rows of the figure not in ``rows`` (an "and N more" line says so)."""
    more_text: str = "+{n}"
    """Template with ``{n}`` for that line."""
    empty: str = "—"
    continued: str = ""
    truncate: bool = False
    basis: Sequence[Sequence[str]] | None = None
    """Rows that set the column widths (the whole table, so that its pieces line up)."""
    _cache: dict[int, _Layout] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, spec: TableSpec, masked: bool, *, more: int = 0, more_text: str = "+{n}",
           empty: str = "—", continued: str = "", truncate: bool = False) -> TableBlock:
        """From a spec; with ``masked`` every text cell has its phone numbers masked."""
        numeric = tuple(spec.numeric) or (False,) * len(spec.columns)
        rows = [tuple(printable(v if (num or not masked) else (mask_text(v) or ""))
                      for v, num in zip(row, numeric, strict=True)) for row in spec.rows]
        return cls(spec.title, spec.columns, rows, numeric, frozenset(spec.alarm_rows),
                   max(0, more), more_text, empty, continued, truncate)

    # ------------------------------------------------------------------ measuring
    def _pad(self, ctx: Ctx) -> float:
        return ctx.mm(1.2)

    def _widths(self, ctx: Ctx, width: float) -> list[float]:
        s = ctx.style
        pad = 2 * self._pad(ctx)
        n = len(self.columns)
        numeric = list(self.numeric) or [False] * n
        basis = self.basis if self.basis is not None else self.rows
        natural = [max([ctx.width(h, s.size_table, True)] +
                       [ctx.width(r[c], s.size_table) for r in basis]) + pad
                   for c, h in enumerate(self.columns)]
        total = sum(natural)
        if total <= width:
            grow = [c for c in range(n) if not numeric[c]] or list(range(n))
            extra = (width - total) / sum(natural[c] for c in grow)
            return [w * (1 + extra) if c in grow else w for c, w in enumerate(natural)]
        out = [min(natural[c], width * 0.25) if numeric[c] else 0.0 for c in range(n)]
        text = sorted((c for c in range(n) if not numeric[c]), key=lambda c: natural[c])
        room = max(width - sum(out), width * 0.3)
        # Water-filling: narrow text columns keep their width, wide ones share the rest.
        for k, c in enumerate(text):
            share = room / (len(text) - k)
            out[c] = max(min(natural[c], share), ctx.mm(8))
            room -= out[c]
        scale = width / sum(out)
        return [w * scale for w in out] if scale < 1 else out

    def _fit(self, ctx: Ctx, text: str, width: float, bold: bool = False) -> tuple[str, int]:
        """(text cut to at most MAX_LINES lines, lines it takes)."""
        fm = ctx.metrics(ctx.style.size_table, bold)
        if fm.horizontalAdvance(text) <= width:
            return text, 1
        line = fm.height()

        def lines(t: str) -> int:
            r = fm.boundingRect(QRectF(0, 0, width, 1e9), _WRAP, t)
            return max(1, round(r.height() / line))

        if lines(text) <= MAX_LINES:
            return text, lines(text)
        lo, hi = 0, len(text)
        while lo < hi:  # the longest prefix that fits with an ellipsis
            mid = (lo + hi + 1) // 2
            if lines(text[:mid] + "…") <= MAX_LINES:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo] + "…", MAX_LINES

    def _layout(self, ctx: Ctx, width: float) -> _Layout:
        key = round(width)
        if key in self._cache:
            return self._cache[key]
        widths = self._widths(ctx, width)
        pad = 2 * self._pad(ctx)
        line = ctx.line(ctx.style.size_table)
        header, hl = [], 1
        for h, w in zip(self.columns, widths, strict=True):
            t, k = self._fit(ctx, h, w - pad, bold=True)
            header.append(t)
            hl = max(hl, k)
        cells, heights = [], []
        for row in self.rows:
            fitted = [self._fit(ctx, v, w - pad) for v, w in zip(row, widths, strict=True)]
            cells.append([t for t, _ in fitted])
            heights.append(max(k for _, k in fitted) * line + ctx.mm(1.3))
        out = _Layout(widths, header, hl * line + ctx.mm(1.6), cells, heights)
        self._cache[key] = out
        return out

    def _more_h(self, ctx: Ctx) -> float:
        return ctx.line(ctx.style.size_small) + ctx.mm(1.2)

    def _body_h(self, ctx: Ctx, lay: _Layout) -> float:
        return sum(lay.row_h) if self.rows else ctx.line(ctx.style.size_table) + ctx.mm(1.3)

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        lay = self._layout(ctx, width)
        h = title_height(ctx) + lay.header_h + self._body_h(ctx, lay)
        if self.more:
            h += self._more_h(ctx)
        return h + ctx.mm(0.5)

    def min_height(self, ctx: Ctx, width: float) -> float:
        lay = self._layout(ctx, width)
        return title_height(ctx) + lay.header_h + sum(lay.row_h[:3]) + ctx.mm(0.5)

    def _piece(self, rows: slice, more: int, title: str) -> TableBlock:
        start = rows.start or 0
        picked = self.rows[rows]
        alarm = frozenset(i - start for i in self.alarm if start <= i < start + len(picked))
        return TableBlock(title, self.columns, picked, self.numeric, alarm, more,
                          self.more_text, self.empty, self.continued, False,
                          self.basis if self.basis is not None else self.rows)

    def split(self, ctx: Ctx, width: float, avail: float) -> tuple[Block | None, Block | None]:
        lay = self._layout(ctx, width)
        room = avail - title_height(ctx) - lay.header_h - ctx.mm(0.5)
        if self.truncate:
            room -= self._more_h(ctx)
        k = 0
        for h in lay.row_h:
            if h > room:
                break
            room -= h
            k += 1
        n = len(self.rows)
        if self.truncate:
            if room < 0:
                return None, self
            return self._piece(slice(0, k), self.more + n - k, self.title), None
        k = min(k, n - 1)  # every row fits but the table does not: its last rows move on
        if n - k == 1 and k > 1:
            k -= 1  # no orphan row on the next page
        if k < min(3, n):
            return None, self
        rest = self._piece(slice(k, n), self.more, self.title + self.continued)
        return self._piece(slice(0, k), 0, self.title), rest

    # ------------------------------------------------------------------ painting
    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        p, s = ctx.painter, ctx.style
        lay = self._layout(ctx, rect.width())
        y = rect.top() + paint_title(ctx, rect, self.title)
        pad = self._pad(ctx)
        numeric = list(self.numeric) or [False] * len(self.columns)
        p.save()
        p.setClipRect(rect.adjusted(-ctx.mm(0.5), 0, ctx.mm(0.5), ctx.mm(0.5)))
        p.fillRect(QRectF(rect.left(), y, rect.width(), lay.header_h), qcolor(s.head_fill))
        p.setFont(ctx.font(s.size_table, True))
        p.setPen(qcolor(s.text))
        x = rect.left()
        for c, (text, w) in enumerate(zip(lay.header, lay.widths, strict=True)):
            align = Qt.AlignmentFlag.AlignRight if numeric[c] else Qt.AlignmentFlag.AlignLeft
            p.drawText(QRectF(x + pad, y, w - 2 * pad, lay.header_h), _WRAP | int(align), text)
            x += w
        y += lay.header_h
        p.setFont(ctx.font(s.size_table))
        if not self.rows:
            h = self._body_h(ctx, lay)
            p.setPen(qcolor(s.muted))
            p.drawText(QRectF(rect.left(), y, rect.width(), h), int(Qt.AlignmentFlag.AlignCenter),
                       self.empty)
            y += h
        for i, (cells, h) in enumerate(zip(lay.cells, lay.row_h, strict=True)):
            band = QRectF(rect.left(), y, rect.width(), h)
            if i in self.alarm:
                p.fillRect(band, qcolor(s.alarm_fill))
            elif i % 2 == 1:
                p.fillRect(band, qcolor(s.zebra))
            p.setPen(qcolor((170, 20, 20, 255)) if i in self.alarm else qcolor(s.text))
            x = rect.left()
            for c, (text, w) in enumerate(zip(cells, lay.widths, strict=True)):
                align = Qt.AlignmentFlag.AlignRight if numeric[c] else Qt.AlignmentFlag.AlignLeft
                p.drawText(QRectF(x + pad, y, w - 2 * pad, h), _WRAP | int(align), text)
                x += w
            y += h
        pen = QPen(qcolor(s.rule))
        pen.setWidthF(ctx.mm(0.2))
        p.setPen(pen)
        p.drawLine(rect.left(), y, rect.right(), y)
        if self.more:
            p.setFont(ctx.font(s.size_small))
            p.setPen(qcolor(s.muted))
            p.drawText(QRectF(rect.left(), y + ctx.mm(0.4), rect.width(), self._more_h(ctx)),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                       self.more_text.format(n=f"{self.more:,}"))
        p.restore()
