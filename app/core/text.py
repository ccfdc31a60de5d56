"""Bounded free text in request bodies: every answer, summary and note has one ceiling."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

MAX_TEXT = 10_000

Answer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
