"""Problems the document flows answer with, and the one translation of store errors into them.

A store error's own message is for the log: it may name keys or echo what the store said, and
a multipart upload id is the store's handle on the parts. Clients get fixed wording only.
"""

from __future__ import annotations

import logging

from app.core.errors import AppError, Conflict, InvalidContent, PayloadTooLarge
from app.storage import (
    EmptyObject,
    InvalidParts,
    ObjectTooLarge,
    StorageError,
    UploadNotFound,
)

logger = logging.getLogger("jtai.documents")

TOO_LARGE = "The file is larger than the exchange accepts."


class StoreUnavailable(AppError):
    status, code, title = 503, "storage_unavailable", "Document store unavailable"


class ClientDisconnected(AppError):
    """The client went away mid-body. Nobody reads the answer; the status is for the log
    (499, as proxies log a request the client closed), so it never counts as a 500."""

    status, code, title = 499, "client_disconnected", "Client closed request"


def upload_closed() -> Conflict:
    return Conflict("The upload is no longer open; start a new one.", code="upload_closed")


def problem_for(exc: StorageError) -> AppError:
    if isinstance(exc, ObjectTooLarge):
        return PayloadTooLarge(TOO_LARGE, code="file_too_large")
    if isinstance(exc, EmptyObject):
        return InvalidContent("The file is empty.", code="empty_file")
    if isinstance(exc, InvalidParts):
        return InvalidContent("The store refused the parts listed.", code="invalid_parts")
    if isinstance(exc, UploadNotFound):
        return upload_closed()
    logger.warning("document store failed", extra={"error": str(exc)})
    return StoreUnavailable("The document store did not answer; try again later.")
