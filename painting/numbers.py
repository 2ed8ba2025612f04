"""How counts are written wherever they are drawn: 12,345 (grouped, no decimals)."""

from __future__ import annotations


def count_text(value: float | int) -> str:
    return f"{max(0, int(value)):,}"
