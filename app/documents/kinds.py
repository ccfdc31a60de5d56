"""Which kind of document an answer to a request is: one of the kinds the request covers.

A case-file request covers the theme's ``case_file_documents`` kinds that its addressee's
organisation kind provides (``DocumentRequest.categories``, set when it is derived); every
document sent to it and every nil return recorded against it names one of them. A request
without kinds (an information item, CQC's) is answered as a whole: naming a kind there is
refused too, so that a client's mistake is told rather than silently dropped.
"""

from __future__ import annotations

from app.core.errors import InvalidContent, ProblemItem
from app.document_requests.models import DocumentRequest

MAX_KIND = 64


def checked_kind(request: DocumentRequest, kind: str | None, field: str) -> str | None:
    """``kind`` if the request covers it (None for a request without kinds); else 422 naming
    ``field`` (say ``form.kind``) and the kinds allowed."""
    allowed = list(request.categories)
    if not allowed:
        if kind is None:
            return None
        message = "this request covers no document kinds: send it without one"
        raise _refused(message, "document_kind_not_applicable", field, kind, allowed)
    if kind is None:
        message = f"name the document's kind, one of: {', '.join(allowed)}"
        raise _refused(message, "document_kind_required", field, None, allowed)
    if kind not in allowed:
        message = f"'{kind[:MAX_KIND]}' is not a kind this request covers; one of: " + ", ".join(
            allowed
        )
        raise _refused(message, "invalid_document_kind", field, kind, allowed)
    return kind


def one_kind(named: dict[str, str | None], unnamed: str) -> tuple[str, str | None]:
    """The kind named in one or more places (field -> value); 422 if they differ.

    Returns the field it came from (the first that names it) and the kind; ``unnamed`` and
    None when none does.
    """
    given = {field: value for field, value in named.items() if value is not None}
    if len(set(given.values())) > 1:
        message = "the document kind is named twice, differently: " + ", ".join(
            f"{field}={value[:MAX_KIND]!r}" for field, value in given.items()
        )
        raise InvalidContent(
            message,
            code="conflicting_document_kind",
            errors=[
                ProblemItem(field=field, code="conflicting", message=message) for field in given
            ],
        )
    if given:
        field, value = next(iter(given.items()))
        return field, value
    return unnamed, None


def _refused(
    message: str, code: str, field: str, value: str | None, allowed: list[str]
) -> InvalidContent:
    item = ProblemItem(
        field=field,
        code=code,
        message=message,
        value=value[:MAX_KIND] if value is not None else None,
    )
    return InvalidContent(
        message[0].upper() + message[1:] + ".",
        code=code,
        errors=[item],
        extra={"allowed_document_kinds": allowed},
    )
