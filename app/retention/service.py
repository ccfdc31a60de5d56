"""Purging a closed inspection's child data (DESIGN.md section 7, ``jtai admin purge``).

A purge runs in three steps so that a crash anywhere leaves something the next run finishes:

1. a ``started`` tombstone is committed on its own, before anything is deleted;
2. the inspection's objects are deleted from the store (idempotent: a re-run deletes again);
3. the rows are deleted and the tombstone marked ``finished`` in one transaction, with the
   ``inspection.purged`` audit row.

The inspection row, its participants and the audit chain are kept. Rows go last because they
are what tells a re-run which objects to delete; kept Idempotency-Key answers about the
inspection (its requests, uploads and documents) go with them, since a replay would show file
names and child IDs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.audit import chain as audit
from app.child_lists import blocks
from app.core.database import session_scope, utcnow
from app.documents.models import UploadState
from app.idempotency.service import forget_subjects
from app.inspections.models import Inspection, InspectionStatus
from app.retention import repository
from app.retention.models import PurgeState, PurgeTombstone
from app.storage import Storage

logger = logging.getLogger("jtai.retention")


class PurgeRefused(Exception):
    """The purge was not started; the message says why, for the operator."""


class InspectionNotFound(PurgeRefused):
    pass


class InspectionNotClosed(PurgeRefused):
    pass


@dataclass(frozen=True)
class StoreWork:
    """The store objects and open multipart uploads an inspection's rows point at."""

    object_keys: frozenset[str] = frozenset()
    open_uploads: frozenset[tuple[str, str]] = frozenset()  # (object key, store upload id)


def purge_inspection(
    session_factory: sessionmaker[Session],
    storage: Storage,
    inspection_id: uuid.UUID,
    actor: str,
    *,
    force_open: bool = False,
) -> PurgeTombstone:
    """Purge one inspection, or finish an earlier purge of it; returns its tombstone.

    A finished purge is returned as it is. Raises ``PurgeRefused`` for an unknown inspection,
    and for one not yet closed unless ``force_open`` (which closes it first).
    """
    tombstone = _begin(session_factory, inspection_id, actor, force_open)
    if tombstone.state is PurgeState.FINISHED:
        return tombstone
    with session_scope(session_factory) as session:
        work = _store_work(session, inspection_id)
    # Store I/O happens outside any transaction: SQLite would hold its write lock meanwhile.
    _clear_store(storage, work)
    tombstone = _finish(session_factory, storage, inspection_id, work)
    # Pages of the purged lists that this process keeps decoded or written go too.
    blocks.forget([uuid.UUID(version) for version in tombstone.list_version_sha256s])
    return tombstone


def _begin(
    session_factory: sessionmaker[Session],
    inspection_id: uuid.UUID,
    actor: str,
    force_open: bool,
) -> PurgeTombstone:
    with session_scope(session_factory) as session:
        inspection = _lock_inspection(session, inspection_id)
        existing = repository.tombstone(session, inspection_id)
        if existing is not None:
            return existing  # finished: nothing to do; started: continue where it stopped
        was_open = inspection.status is not InspectionStatus.CLOSED
        if was_open:
            if not force_open:
                raise InspectionNotClosed(
                    f"inspection {inspection_id} is {inspection.status.value}, not closed; "
                    "use --force-open to purge it anyway"
                )
            _close(session, inspection, actor)
        tombstone = PurgeTombstone(
            inspection_id=inspection_id,
            state=PurgeState.STARTED,
            started_at=utcnow(),
            purged_by=actor,
            forced_open=was_open,
            counts={},
            document_sha256s={},
            list_version_sha256s={},
        )
        session.add(tombstone)
        session.flush()
        return tombstone


def _lock_inspection(session: Session, inspection_id: uuid.UUID) -> Inspection:
    # Concurrent purges of one inspection (several sweepers) queue here on PostgreSQL;
    # SQLite's BEGIN IMMEDIATE already serialises writers.
    inspection = repository.locked_inspection(session, inspection_id)
    if inspection is None:
        raise InspectionNotFound(f"no inspection {inspection_id}")
    return inspection


def _close(session: Session, inspection: Inspection, actor: str) -> None:
    # A purged inspection must not take new data, or the tombstone would not be the last word.
    previous = inspection.status
    inspection.status = InspectionStatus.CLOSED
    inspection.status_changed_at = utcnow()
    inspection.version += 1
    audit.record(
        session,
        None,
        "inspection.status_changed",
        "inspection",
        inspection.id,
        inspection_id=inspection.id,
        detail={"from": previous.value, "to": "closed", "reason": "purge", "by": actor},
    )


def _store_work(session: Session, inspection_id: uuid.UUID) -> StoreWork:
    document_keys = repository.document_keys(session, inspection_id)
    uploads = repository.uploads(session, inspection_id)
    # An open upload's object may already be assembled in the store (a crash between
    # completing and recording it), so its key is deleted as well as the upload aborted.
    return StoreWork(
        object_keys=frozenset([*document_keys, *(upload.object_key for upload in uploads)]),
        open_uploads=frozenset(
            (upload.object_key, upload.store_upload_id)
            for upload in uploads
            if upload.state is UploadState.OPEN
        ),
    )


def _clear_store(storage: Storage, work: StoreWork, done: StoreWork | None = None) -> None:
    done = done or StoreWork()
    for key, upload_id in sorted(work.open_uploads - done.open_uploads):
        storage.abort_multipart(key, upload_id)
    for key in sorted(work.object_keys - done.object_keys):
        storage.delete(key)


def _finish(
    session_factory: sessionmaker[Session],
    storage: Storage,
    inspection_id: uuid.UUID,
    cleared: StoreWork,
) -> PurgeTombstone:
    with session_scope(session_factory) as session:
        _lock_inspection(session, inspection_id)
        tombstone = repository.tombstone(session, inspection_id)
        assert tombstone is not None  # committed by _begin and never deleted
        if tombstone.state is PurgeState.FINISHED:
            return tombstone  # a concurrent run finished it first
        # Whatever arrived since the store was cleared (a forced purge racing an upload)
        # goes too, while the inspection is locked and before its rows do.
        _clear_store(storage, _store_work(session, inspection_id), cleared)
        hashes = repository.content_hashes(session, inspection_id)
        tombstone.document_sha256s, tombstone.list_version_sha256s = hashes
        _forget_kept_answers(session, inspection_id)
        tombstone.counts = repository.delete_child_data(session, inspection_id)
        tombstone.state, tombstone.finished_at = PurgeState.FINISHED, utcnow()
        _record_purged(session, tombstone)
        return tombstone


def _forget_kept_answers(session: Session, inspection_id: uuid.UUID) -> None:
    """Idempotency-Key answers about the inspection go too: they can name children and files.

    Runs before the rows go, since the requests and uploads are how the answers are found.
    """
    forgotten = forget_subjects(session, *repository.answer_subjects(inspection_id))
    logger.info(
        "kept idempotency answers purged",
        extra={"inspection_id": str(inspection_id), "records": forgotten},
    )


def _record_purged(session: Session, tombstone: PurgeTombstone) -> None:
    # The hash lists can be long, so the chain holds their digest: that still makes the
    # tombstone's lists tamper-evident.
    hashes = {
        "documents": tombstone.document_sha256s,
        "list_versions": tombstone.list_version_sha256s,
    }
    canonical = json.dumps(hashes, sort_keys=True, separators=(",", ":")).encode()
    audit.record(
        session,
        None,
        "inspection.purged",
        "inspection",
        tombstone.inspection_id,
        inspection_id=tombstone.inspection_id,
        detail={
            "purged_by": tombstone.purged_by,
            "forced_open": tombstone.forced_open,
            "counts": tombstone.counts,
            "hashes_sha256": hashlib.sha256(canonical).hexdigest(),
        },
    )


def tombstone_json(tombstone: PurgeTombstone) -> dict[str, Any]:
    finished = tombstone.finished_at
    return {
        "inspection_id": str(tombstone.inspection_id),
        "state": tombstone.state.value,
        "started_at": tombstone.started_at.isoformat(),
        "finished_at": finished.isoformat() if finished else None,
        "purged_by": tombstone.purged_by,
        "forced_open": tombstone.forced_open,
        "counts": tombstone.counts,
        "document_sha256s": tombstone.document_sha256s,
        "list_version_sha256s": tombstone.list_version_sha256s,
    }


def expired_inspection_ids(
    session: Session, retention_days: int, now: datetime | None = None
) -> list[uuid.UUID]:
    """Closed inspections past retention not yet purged, and any purge left half-way."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    return repository.purgeable_inspection_ids(session, cutoff)


@dataclass
class ExpiredPurge:
    purged: list[PurgeTombstone] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # inspection id -> error


def purge_expired(
    session_factory: sessionmaker[Session], storage: Storage, retention_days: int, actor: str
) -> ExpiredPurge:
    """Purge every inspection closed more than ``retention_days`` ago.

    One failure (say the store is briefly unreachable) does not stop the others; the failed
    purge stays ``started`` and the next run continues it.
    """
    with session_scope(session_factory) as session:
        due: Sequence[uuid.UUID] = expired_inspection_ids(session, retention_days)
    outcome = ExpiredPurge()
    for inspection_id in due:
        try:
            outcome.purged.append(purge_inspection(session_factory, storage, inspection_id, actor))
        except Exception as exc:
            logger.exception("purge failed", extra={"inspection_id": str(inspection_id)})
            outcome.failed[str(inspection_id)] = f"{type(exc).__name__}: {exc}"
    return outcome
