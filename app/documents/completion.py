"""Ending a presigned upload: completed into a document, or given up.

A completion checks the parts against the plan, has the store assemble them, reads the object
back to verify its size and SHA-256 (and sniff its type), and only then publishes the
document, re-checking that the caller may still write there. Any failure after the upload is
claimed discards its parts and any assembled object.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.principal import Principal
from app.core.errors import Conflict, InvalidContent, ProblemItem
from app.documents.access import writable_request, writable_upload
from app.documents.cleanup import keep_only_if_committed
from app.documents.content import sniff_or_refuse
from app.documents.errors import problem_for, upload_closed
from app.documents.models import Document, Upload, UploadState
from app.documents.presigned import part_count, planned_part_size
from app.documents.records import publish
from app.documents.sniff import SNIFF_BYTES
from app.storage import InvalidParts, Storage, StorageError, StoredObject, UploadNotFound
from app.storage.base import normalise_etag

logger = logging.getLogger("jtai.documents")


def complete_upload(
    session: Session,
    storage: Storage,
    principal: Principal,
    upload_id: uuid.UUID,
    parts: list[tuple[int, str]],
) -> Document:
    """Check the parts against the plan, assemble them, verify size and SHA-256 by reading
    the object back, then publish, re-checking the caller may still write there.

    One completion at a time: the upload is claimed (open -> completing) in a transaction
    of its own before anything else, so a racing completion is told 409 and never touches
    the store; a list of parts that does not fit the plan opens it again. The store
    work runs outside any transaction (no lock held while gigabytes are read back). Any
    failure after the claim discards the parts and any assembled object (the object also
    goes if the transaction publishing it does not commit); a process that dies half-way
    leaves the upload 'completing', which the sweeper discards once expired.
    """
    upload = writable_upload(session, principal, upload_id, "complete_upload")
    # Claimed before the parts are looked at: a racer that lost would otherwise find the
    # winner's parts already assembled and gone, and be told they were never sent (422).
    _claim(session, upload)
    try:
        _check_parts_against_plan(session, storage, upload, parts)
    except BaseException:
        if upload.state is UploadState.COMPLETING:  # not discarded: open for a corrected list
            _set_state(session, upload, UploadState.OPEN)
        raise
    stored, media_type = _assemble(session, storage, upload, parts)
    keep_only_if_committed(session, storage, stored.key)
    try:
        request = writable_request(
            session, principal, upload.request_id, "complete_upload", "No such upload."
        )
        document = publish(
            session, request, principal, stored, upload.filename, media_type, upload.document_kind
        )
        upload.state, upload.document_id = UploadState.COMPLETED, document.id
        session.flush()
    except BaseException:
        session.rollback()
        _discard(session, storage, upload)
        raise
    return document


def _check_parts_against_plan(
    session: Session, storage: Storage, upload: Upload, parts: list[tuple[int, str]]
) -> None:
    """Every planned part, listed once in order, stored with the ETag given and its planned
    size. A part of another size ends the upload (its bytes broke the plan the URL was
    signed for); a wrong or missing part leaves it open for a corrected list."""
    count = part_count(upload)
    if [number for number, _ in parts] != list(range(1, count + 1)):
        message = f"list parts 1 to {count}, each once and in order"
        raise InvalidContent(
            f"The upload has {count} part(s): {message}.",
            code="invalid_parts",
            errors=[ProblemItem(field="body.parts", code="parts_not_as_planned", message=message)],
        )
    try:
        stored = {
            (part.number, part.etag): part.size
            for part in storage.list_parts(upload.object_key, upload.store_upload_id)
        }
    except StorageError as exc:
        raise problem_for(exc) from None
    missing, wrong_size = [], []
    for index, (number, etag) in enumerate(parts):
        held, field = stored.get((number, normalise_etag(etag))), f"body.parts[{index}]"
        planned = planned_part_size(upload, number)
        if held is None:
            message = f"part {number} is not stored with the ETag given"
            missing.append(ProblemItem(field=field, code="part_not_stored", message=message))
        elif held != planned:
            message = f"part {number} has {held} bytes; the upload's plan says {planned}"
            wrong_size.append(ProblemItem(field=field, code="part_size_mismatch", message=message))
    if wrong_size:
        _discard(session, storage, upload)
        raise InvalidContent(
            "Parts differ in size from the upload's plan; the upload is discarded.",
            code="part_size_mismatch",
            errors=wrong_size,
        )
    if missing:
        raise InvalidContent(
            "Some parts listed are not stored.", code="invalid_parts", errors=missing
        )


def _leave_open(session: Session, upload: Upload, state: UploadState) -> bool:
    """Move an open upload to ``state``; False when it is no longer open. On PostgreSQL the
    UPDATE waits for a racing one to commit and then finds the row no longer open."""
    moved = cast(
        CursorResult[Any],
        session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.state == UploadState.OPEN)
            .values(state=state)
            .execution_options(synchronize_session=False)
        ),
    )
    if moved.rowcount != 1:
        return False
    set_committed_value(upload, "state", state)
    return True


def _claim(session: Session, upload: Upload) -> None:
    if not _leave_open(session, upload, UploadState.COMPLETING):
        raise Conflict("The upload is being completed or is closed.", code="upload_closed")
    session.commit()


def _assemble(
    session: Session, storage: Storage, upload: Upload, parts: list[tuple[int, str]]
) -> tuple[StoredObject, str]:
    try:
        storage.complete_multipart(upload.object_key, upload.store_upload_id, parts)
    except StorageError as exc:
        if isinstance(exc, InvalidParts | UploadNotFound):
            _discard(session, storage, upload)
        else:  # the store is down: nothing was assembled, the client may try again
            _set_state(session, upload, UploadState.OPEN)
        raise problem_for(exc) from None
    try:
        size, digest, head = _read_back(storage, upload.object_key)
        if size != upload.size or digest != upload.sha256:
            raise _mismatch(
                f"The assembled file has {size} bytes and SHA-256 {digest}; "
                f"{upload.size} bytes and {upload.sha256} were declared."
            )
        media_type = sniff_or_refuse(head, upload.filename, "filename")
    except BaseException as exc:
        _discard(session, storage, upload)
        if isinstance(exc, StorageError):
            raise problem_for(exc) from None
        raise
    return StoredObject(key=upload.object_key, size=size, sha256=digest), media_type


def _discard(session: Session, storage: Storage, upload: Upload) -> None:
    """End an upload that will not become a document: its parts and any assembled object go.

    If the store cannot be reached the row keeps its state, and the sweeper finishes the job
    once the upload has expired.
    """
    try:
        storage.abort_multipart(upload.object_key, upload.store_upload_id)
        storage.delete(upload.object_key)
    except StorageError as exc:
        logger.warning(
            "upload left for the sweeper", extra={"upload_id": str(upload.id), "error": str(exc)}
        )
        return
    _set_state(session, upload, UploadState.ABORTED)


def _set_state(session: Session, upload: Upload, state: UploadState) -> None:
    # Committed at once: the request itself is about to fail, and its rollback must not
    # take this with it.
    session.execute(
        update(Upload)
        .where(Upload.id == upload.id)
        .values(state=state)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(upload, "state", state)
    session.commit()


def abort_upload(
    session: Session, storage: Storage, principal: Principal, upload_id: uuid.UUID
) -> None:
    """The caller gives up an open upload: its parts are discarded."""
    upload = writable_upload(session, principal, upload_id, "abort_upload")
    if not _leave_open(session, upload, UploadState.ABORTED):
        raise upload_closed()
    try:
        storage.abort_multipart(upload.object_key, upload.store_upload_id)
    except StorageError as exc:
        # Ours is aborted; the sweeper aborts store uploads no open upload of ours holds.
        logger.warning(
            "store upload left for the sweeper",
            extra={"upload_id": str(upload.id), "error": str(exc)},
        )


def _mismatch(message: str) -> InvalidContent:
    return InvalidContent(
        message,
        code="upload_verification_failed",
        errors=[ProblemItem(code="mismatch", message=message)],
    )


def _read_back(storage: Storage, key: str) -> tuple[int, str, bytes]:
    """Size, SHA-256 and first bytes of a stored object, in one pass over it."""
    digest, size, head = hashlib.sha256(), 0, bytearray()
    for chunk in storage.open_stream(key):
        digest.update(chunk)
        size += len(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
    return size, digest.hexdigest(), bytes(head)
