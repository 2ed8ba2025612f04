"""Make the text layer of a Qt-written PDF say the characters that were printed.

Qt's PDF writer maps each glyph of an embedded font back to the *first* code point
that the font's character map sends to it. Noto Sans CJK shares glyphs between CJK
ideographs and the radicals blocks (U+2E80–U+2FDF, below U+4E00), so "示范县" is
printed right but copies and searches as "⽰范县" (a Kangxi radical), "页" as "⻚".
``fix_to_unicode`` rewrites those entries of the ToUnicode maps in place: each radical
becomes the unified ideograph the font draws with the same glyph (found with
``QRawFont``), or its NFKC form. A code point of the same length replaces another, so no
offset of the file moves. Compressed maps (Qt writes them plain) are left alone.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from PySide6.QtGui import QFont, QRawFont

_RADICALS = range(0x2E80, 0x2FE0)
_IDEOGRAPHS = range(0x4E00, 0xA000)
_CMAP = re.compile(rb"(begincmap)(.*?)(endcmap)", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]{4})>")


@cache
def radical_map(family: str | None) -> dict[int, int]:
    """Radical code point → the ideograph drawn with the same glyph (needs a Qt app)."""
    out: dict[int, int] = {}
    for cp in _RADICALS:
        nf = unicodedata.normalize("NFKC", chr(cp))
        if len(nf) == 1 and ord(nf) in _IDEOGRAPHS:
            out[cp] = ord(nf)
    if family is None:
        return out
    font = QFont()
    font.setFamily(family)
    raw = QRawFont.fromFont(font)
    if not raw.isValid():
        return out
    ideographs = "".join(chr(c) for c in _IDEOGRAPHS)
    glyph_of = {}
    for ch, g in zip(ideographs, raw.glyphIndexesForString(ideographs), strict=True):
        if g and g not in glyph_of:
            glyph_of[g] = ord(ch)
    radicals = "".join(chr(c) for c in _RADICALS)
    for ch, g in zip(radicals, raw.glyphIndexesForString(radicals), strict=True):
        if g and g in glyph_of:
            out[ord(ch)] = glyph_of[g]
    return out


def _swap_line(line: bytes, skip: int, mapping: dict[int, int]) -> tuple[bytes, int]:
    """The line with its code points after the first ``skip`` ones mapped; (line, count)."""
    out, pos, changed = [], 0, 0
    for seen, m in enumerate(_HEX.finditer(line), start=1):
        cp = int(m.group(1), 16)
        if seen > skip and cp in mapping:
            out += [line[pos:m.start()], b"<%04X>" % mapping[cp]]
            pos = m.end()
            changed += 1
    out.append(line[pos:])
    return b"".join(out), changed


def _fix_cmap(body: bytes, mapping: dict[int, int]) -> tuple[bytes, int]:
    """Replace destination code points in bfrange/bfchar entries; (new body, count)."""
    changed = 0
    lines = body.split(b"\n")
    inside = False
    for i, line in enumerate(lines):
        if line.rstrip().endswith((b"beginbfrange", b"beginbfchar")):
            inside = True
            continue
        if line.startswith((b"endbfrange", b"endbfchar")):
            inside = False
            continue
        codes = _HEX.findall(line)
        if not inside or len(codes) < 2:
            continue
        # "<a> <b> <dst>" is a run when a != b: its destination is a start, not one char
        if b"[" not in line and len(codes) == 3 and codes[0].lower() != codes[1].lower():
            continue
        first_dst = 2 if b"[" in line or len(codes) == 3 else 1
        lines[i], n = _swap_line(line, first_dst, mapping)
        changed += n
    return b"\n".join(lines), changed


def fix_to_unicode(path: str | Path, family: str | None) -> int:
    """Rewrite the radicals in the PDF's ToUnicode maps; returns how many entries changed."""
    p = Path(path)
    data = p.read_bytes()
    mapping = radical_map(family)
    total = 0

    def repl(m: re.Match[bytes]) -> bytes:
        nonlocal total
        if b"Adobe-Identity-UCS" not in m.group(2):
            return m.group(0)
        body, n = _fix_cmap(m.group(2), mapping)
        total += n
        return m.group(1) + body + m.group(3)

    fixed = _CMAP.sub(repl, data)
    if total and len(fixed) == len(data):  # same-length edits: the xref table stays valid
        p.write_bytes(fixed)
        return total
    return 0
