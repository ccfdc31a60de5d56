"""``If-Match: "<version>"`` against lost updates, for records kept as numbered versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from app.core.errors import InvalidContent, PreconditionFailed, ProblemItem

IfMatch = Annotated[
    str | None,
    Header(description='The version the change is based on, e.g. "3" ("0" when there is none)'),
]


def version_from_if_match(if_match: str | None) -> int | None:
    """The version number an ``If-Match`` header names; None when the header is absent."""
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidContent(
            'If-Match must be a version number, e.g. "3".',
            code="invalid_if_match",
            errors=[ProblemItem(field="header.if-match", code="invalid", message="not a number")],
        )
    return int(text)


def check_version(current: int, wanted: int | None, what: str) -> None:
    """412 when the caller's copy (``wanted``) is not the current version (0: none yet)."""
    if wanted is not None and wanted != current:
        raise PreconditionFailed(
            f"The current version of the {what} is {current}, not {wanted}; read it again.",
            code="version_mismatch",
        )


def etag(version: int) -> str:
    return f'"{version}"'
