"""Find the header row of a sheet or CSV file, below any title rows.

Exports from 110 and ledger systems often start with a title (``某某县公安局
2024年5月警情统计表``), an export time or a blank line, and only then the header.
The header is the first row that is about as wide as the data below it and whose
cells are mostly words rather than numbers or dates; among such rows one that
holds known column names (synonyms) is preferred.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

_DATA_LIKE = re.compile(r"^[\d\s.,:/\-+年月日时時分秒TZ()]+$")
SCAN_ROWS = 40


def _cells(row: Sequence[str]) -> list[str]:
    return [c.strip() for c in row if c is not None and str(c).strip()]


def data_width(rows: Sequence[Sequence[str]]) -> int:
    """The usual number of filled cells in a row (the table's width)."""
    counts = Counter(len(_cells(r)) for r in rows if len(_cells(r)) >= 2)
    if not counts:
        return 0
    best = max(counts.values())
    return max(w for w, c in counts.items() if c == best)


def find_header(rows: Sequence[Sequence[str]],
                known: Callable[[str], bool] | None = None) -> int | None:
    """Index of the header row among the first rows, or None when no row looks like one."""
    rows = list(rows[:SCAN_ROWS])
    width = data_width(rows)
    candidates = []
    for i, row in enumerate(rows):
        cells = _cells(row)
        if len(cells) < max(2, (width + 1) // 2):
            continue  # a title, a note or a blank row
        words = [c for c in cells if not _DATA_LIKE.match(c)]
        if len(words) < 0.6 * len(cells) or len(set(cells)) < 0.6 * len(cells):
            continue  # a data row (or a row of repeated labels)
        candidates.append(i)
        if len(candidates) >= 3:
            break
    if not candidates:
        return None
    if known is not None:
        for i in candidates:
            if any(known(c) for c in _cells(rows[i])):
                return i
    return candidates[0]


def header_names(row: Sequence[object]) -> list[str]:
    """Column names from a header row: blanks named ``列N``, repeats numbered."""
    names: list[str] = []
    seen: Counter[str] = Counter()
    for j, cell in enumerate(row):
        name = re.sub(r"\s+", " ", str(cell if cell is not None else "")).strip() or f"列{j + 1}"
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return names
