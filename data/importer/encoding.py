"""Which text encoding a file (or a .dbf's strings) is in.

Chinese stations hand over UTF-8 (with or without BOM), GBK/GB18030 and, from
Taiwan or Hong Kong, Big5/CP950, never with a label. Strict decoding of samples
from the start, middle and end of the file decides most cases; when both GB18030
and CP950 decode (Big5 bytes are almost always valid GBK), the one whose reading
uses more of its own common characters wins: simplified text read as GB18030 is
nearly all GB2312 level-1 characters, traditional text read as CP950 nearly all
Big5 level-1 characters, and each misreading scores far lower. A statistical
detector (charset-normalizer) is the last resort only.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
from pathlib import Path

SAMPLE_BYTES = 256 * 1024
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def bom_encoding(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def samples(path: Path, size: int = SAMPLE_BYTES) -> list[bytes]:
    """Up to three chunks (start, middle, end), each cut at line ends, so that a
    multi-byte character is never split (a newline byte is never part of one in
    UTF-8, GBK or Big5)."""
    total = path.stat().st_size
    out = []
    with open(path, "rb") as fh:
        for start in sorted({0, max(0, total // 2 - size // 2), max(0, total - size)}):
            fh.seek(start)
            chunk = fh.read(size)
            if start > 0:
                cut = chunk.find(b"\n")
                chunk = chunk[cut + 1:] if cut >= 0 else b""
            if start + size < total:
                cut = chunk.rfind(b"\n")
                chunk = chunk[:cut + 1] if cut >= 0 else chunk
            if chunk:
                out.append(chunk)
            if start + size >= total:
                break
    return out


def _decodes(chunks: list[bytes], codec: str) -> bool:
    try:
        for c in chunks:
            c.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


@functools.cache
def _common(codec: str) -> frozenset[str]:
    """GB2312 level 1 (3,755 characters) or Big5 level 1 (5,401): the everyday ones."""
    chars = set()
    if codec == "gb18030":
        leads, trails = range(0xB0, 0xD8), range(0xA1, 0xFF)
        enc = "gb2312"
    else:
        leads, trails = range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
        enc = "big5"
    for lead in leads:
        for trail in trails:
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([lead, trail]).decode(enc))
    return frozenset(chars)


def common_share(text: str, codec: str) -> float:
    """Share of the CJK characters of ``text`` that are everyday characters for ``codec``."""
    common = _common(codec)
    cjk = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not cjk:
        return 0.0
    return sum(ch in common for ch in cjk) / len(cjk)


def detect_bytes(chunks: list[bytes]) -> str:
    """The encoding of some text bytes (see the module docstring)."""
    if chunks:
        bom = bom_encoding(chunks[0][:4])
        if bom:
            return bom
    if _decodes(chunks, "utf-8"):
        return "utf-8"
    candidates = [c for c in ("gb18030", "cp950") if _decodes(chunks, c)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        text = {c: "".join(ch.decode(c) for ch in chunks) for c in candidates}
        return max(candidates, key=lambda c: common_share(text[c], c))
    return _detector(b"".join(chunks))


def _detector(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:SAMPLE_BYTES]).best()
    if best is None or best.encoding is None:
        raise ValueError("cannot tell the text encoding (not UTF-8, GBK/GB18030 or Big5)")
    return codecs.lookup(best.encoding).name


def detect_file(path: Path) -> str:
    with open(path, "rb") as fh:
        bom = bom_encoding(fh.read(4))
    return bom or detect_bytes(samples(path))
