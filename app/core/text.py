"""Bounded free text in request bodies: every answer, summary and note has one ceiling."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import StringConstraints

MAX_TEXT = 10_000

Answer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]


# Line breaks and tabs are how people write; every other control or format character
# (zero-width spaces, bidirectional overrides, ESC) hides or disguises text in a record
# that others read and that may be kept for years.
_ALLOWED_CONTROLS = frozenset("\n\t")


def is_hidden(character: str) -> bool:
    """A control or format character: NUL, ESC, zero-width spaces, bidirectional overrides."""
    return unicodedata.category(character) in ("Cc", "Cf")


def without_hidden(value: str) -> str:
    return "".join(character for character in value if not is_hidden(character))


def visible_text(value: str) -> str:
    hidden = [c for c in value if is_hidden(c) and c not in _ALLOWED_CONTROLS]
    if hidden:
        raise ValueError(f"holds an invisible or control character (U+{ord(hidden[0]):04X})")
    if not any(unicodedata.category(c)[0] in "LNPS" for c in value):
        raise ValueError("holds no visible character")
    return value
