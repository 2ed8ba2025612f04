"""Dark or white text on a coloured fill: whichever has the higher contrast (WCAG 2)."""

from __future__ import annotations

from collections.abc import Sequence

RGBA = tuple[int, int, int, int]
DARK_INK: RGBA = (20, 24, 32, 255)
LIGHT_INK: RGBA = (255, 255, 255, 255)


def _linear(channel: float) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgba: Sequence[int]) -> float:
    """WCAG relative luminance of an sRGB colour (0 black … 1 white)."""
    r, g, b = (_linear(float(v)) for v in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Sequence[int], b: Sequence[int]) -> float:
    """WCAG contrast ratio of two colours (1 … 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_on(fill: Sequence[int]) -> RGBA:
    """The text colour for a label on ``fill``: dark or white, the more legible one."""
    return DARK_INK if contrast(DARK_INK, fill) >= contrast(LIGHT_INK, fill) else LIGHT_INK
