"""``If-Match: "<version>"`` against lost updates, for records kept as numbered versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header

from app.core.errors import InvalidContent, PreconditionFailed, PreconditionRequired, ProblemItem

IfMatch = Annotated[
    str | None,
    Header(description='The version the change is based on, e.g. "3" ("0" when there is none)'),
]

# For records changed in place (see ``require_version``).
IfMatchOnChange = Annotated[
    str | None,
    Header(
        description='Required to change an existing record: the version (its ETag, e.g. "3") '
        "the change is based on. Not needed for the first write."
    ),
]


def etag_responses(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry declaring the ``ETag`` header a versioned record is sent with."""
    header = {"description": 'The record\'s version, e.g. "3": send it back as If-Match'}
    return {status: {"headers": {"ETag": header | {"schema": {"type": "string"}}}}}


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


def require_version(current: int, wanted: int | None, what: str) -> None:
    """For records changed in place: 428 when a change to an existing one sends no If-Match.

    A record overwritten in place keeps no earlier versions, so a blind write would silently
    lose what another caller wrote; the first write (``current`` 0) has nothing to lose.
    """
    if wanted is None and current > 0:
        raise PreconditionRequired(
            f"The {what} exists (version {current}): send If-Match with the version your "
            "change is based on.",
            code="precondition_required",
        )
    check_version(current, wanted, what)


def etag(version: int) -> str:
    return f'"{version}"'
