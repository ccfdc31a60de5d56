"""What a document may be: its name, and its type as sniffed from its first bytes."""

from __future__ import annotations

from app.core.errors import InvalidContent, ProblemItem, UnsupportedMediaType
from app.documents.sniff import (
    SNIFF_BYTES,
    Finding,
    active_content,
    active_extension,
    extension_mismatch,
    filename_problem,
    sniff,
)


def refuse_type(filename: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"'{filename[:100]}' is not a document type the exchange accepts "
        "(PDF, Office documents, images, text, email).",
        code="unsupported_document_type",
    )


def check_filename(filename: str, field: str) -> None:
    """422 for a name that cannot be shown or kept as it is; 415 for one that runs code."""
    if (problem := filename_problem(filename)) is not None:
        raise InvalidContent(
            problem,
            code="invalid_filename",
            errors=[ProblemItem(field=field, code="invalid_filename", message=problem)],
        )
    if (finding := active_extension(filename)) is not None:
        raise _refuse_active(finding, filename, field)


def _refuse_active(finding: Finding, filename: str, field: str) -> UnsupportedMediaType:
    message = f"'{filename[:100]}' is refused. {finding.message}"
    item = ProblemItem(field=field, code=finding.code, message=message, value=finding.value)
    return UnsupportedMediaType(message, code=finding.code, errors=[item])


def sniff_or_refuse(head: bytes, filename: str, field: str = "file.filename") -> str:
    """The media type of an allowed document, after the name and content rules.

    ``field`` names where the file name came from, for the problem's ``errors``.
    """
    check_filename(filename, field)
    media_type = sniff(head[:SNIFF_BYTES], filename)
    if media_type is None:
        raise refuse_type(filename)
    if (finding := extension_mismatch(media_type, filename)) is not None:
        raise _refuse_active(finding, filename, field)
    if _is_text_type(media_type) and (finding := active_content(head)) is not None:
        raise _refuse_active(finding, filename, field)
    return media_type


def _is_text_type(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type == "message/rfc822"
