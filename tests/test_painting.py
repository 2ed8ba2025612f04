"""The one painter: the screen's funnel and the PDF's are the same drawing, symbols are the
same shapes in the map, the legend and print, and text on a bar uses the legible ink.

Expected values come from the definitions (widths proportional to the values, WCAG
contrast computed here from its formula), not from the painter itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from layers.panels import FunnelSpec
from painting.ink import DARK_INK, LIGHT_INK, ink_on
from painting.symbols import KINDS, symbol_path, unit_path

SPEC = FunnelSpec("med", "调解", ("村级受理", "乡镇级", "县级"), (20_000, 8_000, 2_000),
                  ("化解 14,270", "化解 2,870", "化解 439"),
                  ((46, 150, 255, 255), (255, 179, 0, 255), (229, 57, 53, 255)))


def _wcag(rgb: tuple[int, ...]) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ratio(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    hi, lo = sorted((_wcag(a), _wcag(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("fill", [(255, 255, 255), (0, 0, 0), (255, 214, 10), (11, 26, 46),
                                  (229, 57, 53), (67, 160, 71), (46, 199, 255), (128, 128, 128)])
def test_ink_is_the_more_legible_of_dark_and_white(fill: tuple[int, int, int]) -> None:
    want = DARK_INK if _ratio(DARK_INK, fill) >= _ratio(LIGHT_INK, fill) else LIGHT_INK
    assert ink_on((*fill, 255)) == want


def _array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[
        :, : w * 4].reshape(h, w, 4).copy()


def _bar_widths(a: np.ndarray, colors: tuple[tuple[int, ...], ...]) -> list[int]:
    """Per stage colour, the widest run of that colour on any row (the bar's width)."""
    out = []
    for c in colors:
        match = (np.abs(a[:, :, :3].astype(int) - np.array(c[:3])).max(axis=2) <= 3)
        out.append(int(match.sum(axis=1).max()))
    return out


def _ink_inside(a: np.ndarray, color: tuple[int, ...]) -> tuple[int, int, int]:
    """The colour of the text inside the widest bar of ``color``: the pixels of its rows,
    within its columns, farthest from the fill."""
    match = (np.abs(a[:, :, :3].astype(int) - np.array(color[:3])).max(axis=2) <= 3)
    rows = np.where(match.sum(axis=1) >= match.sum(axis=1).max() * 0.5)[0]
    cols = np.where(match[rows].any(axis=0))[0]
    block = a[rows.min():rows.max() + 1, cols.min():cols.max() + 1, :3].reshape(-1, 3).astype(int)
    far = block[np.abs(block - np.array(color[:3])).sum(axis=1).argmax()]
    return tuple(int(v) for v in far)


def _check(a: np.ndarray) -> None:
    widths = _bar_widths(a, SPEC.colors)
    assert widths[0] > 100
    for w, v in zip(widths, SPEC.values, strict=True):  # width ∝ value (±3 px of antialiasing)
        assert abs(w - widths[0] * v / SPEC.values[0]) <= 3
    for c in SPEC.colors[:2]:  # the first two bars carry their count inside, in the right ink
        ink = _ink_inside(a, c)
        want = ink_on(c)
        assert np.abs(np.array(ink) - np.array(want[:3])).max() <= 40, (c, ink)


def test_screen_funnel(qtbot) -> None:
    from widgets.charts import FunnelChart
    from widgets.theme import LIGHT

    w = FunnelChart(SPEC, LIGHT, 1.0)
    qtbot.addWidget(w)
    w.resize(600, 260)
    w.show()
    qtbot.waitExposed(w)
    _check(_array(w.grab().toImage()))


def test_print_funnel_is_drawn_like_the_screen(qtbot) -> None:
    from exporters.chart_painter import paint_funnel
    from exporters.pdf_style import Ctx, PrintStyle

    dpi = 300
    img = QImage(1800, 700, QImage.Format.Format_ARGB32)
    img.setDotsPerMeterX(round(dpi / 0.0254))
    img.setDotsPerMeterY(round(dpi / 0.0254))
    img.fill(QColor(255, 255, 255))
    p = QPainter(img)
    ctx = Ctx(p, img, PrintStyle(), "zh", dpmm=dpi / 25.4)
    paint_funnel(ctx, SPEC, QRectF(0, 0, 1800, 700), "无数据")
    p.end()
    _check(_array(img))


def test_pdf_page_funnel_pixels(tmp_path, qtbot) -> None:
    """The same check on a rasterised page of a real PDF (pdftoppm), as a reader sees it."""
    import shutil
    import subprocess

    from PySide6.QtGui import QPageSize, QPdfWriter

    from exporters.chart_painter import paint_funnel
    from exporters.pdf_style import RESOLUTION, Ctx, PrintStyle

    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed")
    pdf = tmp_path / "funnel.pdf"
    writer = QPdfWriter(str(pdf))
    writer.setResolution(RESOLUTION)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A5))
    p = QPainter(writer)
    ctx = Ctx(p, writer, PrintStyle(), "zh")
    paint_funnel(ctx, SPEC, QRectF(0, 0, ctx.mm(120), ctx.mm(45)), "无数据")
    p.end()
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    _check(_array(QImage(str(tmp_path / "page.png"))))


@pytest.mark.parametrize("kind", KINDS)
def test_symbols_are_unit_shapes_centred_on_the_origin(kind: str) -> None:
    r = unit_path(kind).boundingRect()
    assert 0.8 <= max(r.width(), r.height()) <= 1.11
    assert abs(r.center().x()) < 0.05 and abs(r.center().y()) < 0.1
    big = symbol_path(kind, 20.0, QPointF(100, 50)).boundingRect()
    assert abs(big.width() - 20 * r.width()) < 1e-6 and abs(big.center().x() - 100) < 1.0


def test_legend_and_print_draw_the_map_symbol(qtbot) -> None:
    """The legend's swatch of a symbol covers the same pixels as the symbol's path."""
    from layers.drawables import LegendEntry
    from widgets.legend import _symbol

    for kind in KINDS:
        img = QImage(64, 64, QImage.Format.Format_ARGB32)
        img.fill(QColor(0, 0, 0))
        p = QPainter(img)
        _symbol(p, LegendEntry("x", (255, 0, 0, 255), kind), QPointF(32, 32), 40)
        p.end()
        a = _array(img)
        red = (a[:, :, 0] > 200) & (a[:, :, 1] < 60)
        path = symbol_path(kind, 40, QPointF(32, 32))
        inside = np.array([[path.contains(QPointF(x + 0.5, y + 0.5)) for x in range(64)]
                           for y in range(64)])
        assert (red & ~inside).sum() <= 0.03 * inside.sum()
        assert (inside & ~red).sum() <= 0.15 * inside.sum()  # the outline covers the edge
