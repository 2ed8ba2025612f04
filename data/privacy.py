"""Masking of personal data (phones, personal names) for screens and exports."""

from __future__ import annotations

import re

# Resource kinds whose ``name`` is a person's name.
PERSON_KINDS = frozenset({"officer", "auxiliary", "mass_prevention", "mediator"})

_DIGITS = re.compile(r"\d")


def mask_phone(phone: str | None) -> str | None:
    """Keep the first 3 and last 4 digits of a number: 138****5678."""
    if phone is None:
        return None
    digits = _DIGITS.findall(phone)
    if len(digits) < 8:
        return "*" * len(phone) if phone else phone
    keep = set(range(3)) | set(range(len(digits) - 4, len(digits)))
    out, n = [], 0
    for ch in phone:
        if ch.isdigit():
            out.append(ch if n in keep else "*")
            n += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_name(name: str | None) -> str | None:
    """A personal name keeps its first character: 张三丰 → 张**; Li Ming → L*******."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_resource_name(kind: str | None, name: str | None) -> str | None:
    return mask_name(name) if kind in PERSON_KINDS else name


# Mainland mobiles (11 digits from 1[3-9]) and landlines with an area code, optionally
# with +86 and separators; a letter or digit before means an identifier, not a phone.
_PHONE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[-\s]?)?"
                    r"(?:1[3-9]\d(?:[-\s]?\d){8}|0\d{2,3}[-\s]?\d{7,8})(?!\d)")


def mask_text(text: str | None) -> str | None:
    """Free text with every phone number in it masked (138****5678)."""
    if not text:
        return text
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)) or "", text)
