"""Flowing blocks into the columns and pages of a briefing (no painting here).

A document is a list of blocks. ``flow`` places them top to bottom in a column, then in
the next column (A3 landscape has two), then on the next page:

- a block that fits is placed whole;
- a block that does not fit may ``split``: a table gives the rows that fit and keeps
  the rest for the next column (which repeats its header), a list gives the items that
  fit; a block that cannot split moves to the next column;
- a block taller than an empty column is placed clipped to the column rather than
  looping for ever (blocks size themselves to avoid this);
- ``keep_with_next`` (headings) moves a block on when the next one would not start
  beside it; ``span`` blocks (page titles) open a new page and run across all columns;
  ``PageBreak`` starts a new page (atlas pages).

Blocks get the room left in the column (``avail``) when asked for their height, so a
map can grow to fill a column and an atlas table can cut itself to the room of one page.
All sizes are device units of the writer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QRectF

from .pdf_style import Ctx


class Block:
    """A piece of the document. Subclasses give ``height`` and ``paint``; ``split`` if they can."""

    keep_with_next: bool = False
    span: bool = False

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        raise NotImplementedError

    def min_height(self, ctx: Ctx, width: float) -> float:
        """The least room this block needs to start (a heading keeps this much after it)."""
        return self.height(ctx, width)

    def split(self, ctx: Ctx, width: float, avail: float) -> tuple[Block | None, Block | None]:
        """(what fits in ``avail``, the rest); ``(None, self)`` when nothing useful fits."""
        return None, self

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        raise NotImplementedError


class PageBreak(Block):
    """Start a new page (nothing is drawn)."""

    def height(self, ctx: Ctx, width: float, avail: float = math.inf) -> float:
        return 0.0

    def paint(self, ctx: Ctx, rect: QRectF) -> None:
        pass


@dataclass(frozen=True)
class Frame:
    """The content area of a page and its columns (device units)."""

    left: float
    top: float
    width: float
    height: float
    columns: int
    column_gap: float
    block_gap: float

    @property
    def column_width(self) -> float:
        return (self.width - (self.columns - 1) * self.column_gap) / self.columns

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass
class Placed:
    block: Block
    rect: QRectF


@dataclass
class _Cursor:
    frame: Frame
    pages: list[list[Placed]] = field(default_factory=lambda: [[]])
    column: int = 0
    top: float = 0.0
    y: float = 0.0

    def __post_init__(self) -> None:
        self.top = self.y = self.frame.top

    @property
    def x(self) -> float:
        return self.frame.left + self.column * (self.frame.column_width + self.frame.column_gap)

    @property
    def avail(self) -> float:
        return self.frame.bottom - self.y

    @property
    def column_empty(self) -> bool:
        return self.y <= self.top + 1e-6

    def new_page(self) -> None:
        self.pages.append([])
        self.column = 0
        self.top = self.y = self.frame.top

    def next_column(self) -> None:
        if self.column + 1 >= self.frame.columns:
            self.new_page()
        else:
            self.column += 1
            self.y = self.top

    def place(self, block: Block, height: float) -> None:
        self.pages[-1].append(Placed(block, QRectF(self.x, self.y, self.frame.column_width,
                                                   height)))
        self.y += height + self.frame.block_gap


def flow(ctx: Ctx, blocks: list[Block], frame: Frame) -> list[list[Placed]]:
    """The blocks placed on pages (see the module docstring). Never returns no page."""
    c = _Cursor(frame)
    pending = list(blocks)
    w = frame.column_width
    while pending:
        b = pending.pop(0)
        if isinstance(b, PageBreak):
            if c.pages[-1]:
                c.new_page()
            continue
        if b.span:
            if c.pages[-1]:
                c.new_page()
            h = min(b.height(ctx, frame.width, frame.height), frame.height)
            c.pages[-1].append(Placed(b, QRectF(frame.left, frame.top, frame.width, h)))
            c.top = c.y = frame.top + h + frame.block_gap
            continue
        avail = c.avail
        h = b.height(ctx, w, avail)
        need = h
        nxt = pending[0] if pending else None
        if b.keep_with_next and nxt is not None and not isinstance(nxt, PageBreak):
            need += frame.block_gap + nxt.min_height(ctx, w)
        if need <= avail + 1e-6:
            c.place(b, h)
            continue
        head, rest = b.split(ctx, w, avail) if not b.keep_with_next else (None, b)
        if head is not None and head.height(ctx, w, avail) > avail + 1e-6:
            head, rest = None, b  # a piece that still does not fit is no piece
        if head is not None:
            c.place(head, head.height(ctx, w, avail))
            if rest is not None:
                pending.insert(0, rest)
                c.next_column()
            continue
        if c.column_empty:
            c.place(b, min(h, avail))  # taller than a column: clipped, never lost in a loop
            if h > avail:
                c.next_column()
            continue
        c.next_column()
        pending.insert(0, b)
    if len(c.pages) > 1 and not c.pages[-1]:
        c.pages.pop()
    return c.pages
