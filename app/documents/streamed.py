"""Bytes streamed through the API: a whole document (multipart ``file``), or one part of a
presigned upload on a store without presigned URLs.

The checks run first, then the transaction ends: the body may take minutes, and no
transaction (on SQLite, the database's write lock) is held while it arrives. The bytes are
hashed and stored as they come, never held whole; the write after them checks afresh that
the caller may still write there. A stored document's object is kept only if the transaction
recording it commits (``cleanup``).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial

from anyio import to_thread
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from app.auth.principal import Principal
from app.core.errors import InvalidContent, UnsupportedMediaType
from app.documents.access import writable_request
from app.documents.cleanup import keep_only_if_committed
from app.documents.content import sniff_or_refuse
from app.documents.errors import ClientDisconnected, problem_for
from app.documents.kinds import checked_kind, one_kind
from app.documents.models import Document
from app.documents.multipart import FileStream, MultipartError, boundary_of, open_file_field
from app.documents.presigned import store_part, writable_part
from app.documents.read_ahead import consume_in_thread
from app.documents.records import new_object_key, publish
from app.documents.sniff import SNIFF_BYTES
from app.storage import Storage, StorageError, StoredObject

logger = logging.getLogger("jtai.documents")

UPLOAD = "upload_document"


async def receive_document(
    session: Session,
    storage: Storage,
    principal: Principal,
    request_id: uuid.UUID,
    content_type: str | None,
    body: AsyncIterator[bytes],
    max_bytes: int,
    query_kind: str | None = None,
) -> Document:
    """Stream a multipart ``file`` into the store against a request, then publish it.

    The document's kind comes from the query (``document_kind``) or a form field before the
    file (``document_kind``, or ``kind``), and is checked against the request before a byte
    of the file is stored.
    """
    asked = await to_thread.run_sync(writable_request, session, principal, request_id, UPLOAD)
    if query_kind is not None:  # refused before the body is read
        checked_kind(asked, query_kind, "query.document_kind")
    await end_transaction(session)
    stream = await _open_file(content_type, body)
    field, named = one_kind(
        {
            "query.document_kind": query_kind,
            **{f"form.{name}": value for name, value in sorted(stream.fields.items())},
        },
        unnamed="form.kind",
    )
    kind = checked_kind(asked, named, field)
    if not stream.head:
        raise InvalidContent("The file is empty.", code="empty_file")
    media_type = sniff_or_refuse(stream.head, stream.filename)
    key = new_object_key(asked.inspection_id)
    stored = await _store(storage, key, stream, media_type, max_bytes)
    # From here on the object stays only if the transaction that records it commits.
    keep_only_if_committed(session, storage, stored.key)
    named_file = NamedFile(stream.filename, media_type, kind)
    return await to_thread.run_sync(_publish, session, principal, request_id, stored, named_file)


async def _open_file(content_type: str | None, body: AsyncIterator[bytes]) -> FileStream:
    try:
        boundary = boundary_of(content_type)
    except MultipartError as exc:
        raise UnsupportedMediaType(str(exc), code="multipart_required") from None
    try:
        with answered_as_problems("upload"):
            return await open_file_field(body, boundary, SNIFF_BYTES)
    except MultipartError as exc:
        raise InvalidContent(str(exc), code="broken_multipart") from None


async def _store(
    storage: Storage, key: str, stream: FileStream, media_type: str, max_bytes: int
) -> StoredObject:
    put = partial(storage.put_stream, key, max_bytes=max_bytes, content_type=media_type)
    try:
        with answered_as_problems("upload"):
            return await consume_in_thread(stream.head, stream.rest, put)
    except MultipartError as exc:
        raise InvalidContent(str(exc), code="broken_multipart") from None


@dataclass(frozen=True)
class NamedFile:
    filename: str
    media_type: str
    kind: str | None


def _publish(
    session: Session,
    principal: Principal,
    request_id: uuid.UUID,
    stored: StoredObject,
    file: NamedFile,
) -> Document:
    """Record a streamed upload's stored bytes, if the caller may still write there."""
    request = writable_request(session, principal, request_id, UPLOAD)
    return publish(session, request, principal, stored, file.filename, file.media_type, file.kind)


async def receive_part(
    session: Session,
    storage: Storage,
    principal: Principal,
    upload_id: uuid.UUID,
    part_number: int,
    declared_length: int | None,
    body: AsyncIterator[bytes],
) -> str:
    """Store one planned part of an upload sent through the API; returns its ETag."""
    part = await to_thread.run_sync(
        writable_part, session, principal, upload_id, part_number, declared_length
    )
    await end_transaction(session)
    with answered_as_problems("part upload"):
        return await consume_in_thread(b"", body, partial(store_part, storage, part))


async def end_transaction(session: Session) -> None:
    # The checks are done and the body may take minutes: no transaction (on SQLite, the
    # database's write lock) is held while it arrives. The write re-checks afresh.
    await to_thread.run_sync(session.commit)


@contextlib.contextmanager
def answered_as_problems(action: str) -> Iterator[None]:
    """A client that goes away mid-body, or a store that fails, is a problem response with
    fixed wording: never a 500, a traceback or a store's own words (its upload id)."""
    try:
        yield
    except ClientDisconnect:
        logger.info("client disconnected", extra={"during": action})
        raise ClientDisconnected(f"The client disconnected during the {action}.") from None
    except StorageError as exc:
        raise problem_for(exc) from None
