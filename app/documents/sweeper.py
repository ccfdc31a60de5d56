"""Aborting abandoned uploads, from a cron job (`jtai admin sweep-uploads`) or in the service.

An upload a client never completed holds parts in the store; so does one whose API process
was killed mid-stream. Both are aborted once older than JTAI_UPLOAD_TTL_SECONDS. Expired
idempotency records are dropped at the same time.
With JTAI_RETENTION_DAYS set, the in-service sweeper also purges expired inspections.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import anyio
from anyio import to_thread
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.database import session_scope, utcnow
from app.documents.models import Upload, UploadState
from app.idempotency.middleware import RETENTION
from app.idempotency.models import IdempotencyRecord
from app.retention.service import purge_expired
from app.storage import Storage

logger = logging.getLogger("jtai.sweeper")

# A completion claimed but never finished (its process died) is swept this long after the
# upload's own expiry: long enough that no live completion is still reading the object back.
COMPLETION_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class SweepResult:
    expired_uploads: int
    orphaned_store_uploads: int


def sweep_uploads(session: Session, storage: Storage, ttl_seconds: int) -> SweepResult:
    """Abort uploads left open past their time, ours and any the store still holds.

    A completion whose process died ('completing' well past expiry) is discarded too,
    with any object it had assembled: no document refers to it.
    """
    now = utcnow()
    expired = (
        session.execute(
            select(Upload).where(
                or_(
                    and_(Upload.state == UploadState.OPEN, Upload.expires_at < now),
                    and_(
                        Upload.state == UploadState.COMPLETING,
                        Upload.expires_at < now - COMPLETION_GRACE,
                    ),
                )
            )
        )
        .scalars()
        .all()
    )
    for upload in expired:
        storage.abort_multipart(upload.object_key, upload.store_upload_id)
        if upload.state is UploadState.COMPLETING:
            storage.delete(upload.object_key)
        upload.state = UploadState.ABORTED
    live = {
        upload.store_upload_id
        for upload in session.execute(
            select(Upload).where(Upload.state.in_([UploadState.OPEN, UploadState.COMPLETING]))
        ).scalars()
    }
    orphans = [
        open_upload
        for open_upload in storage.list_open_multipart(now - timedelta(seconds=ttl_seconds))
        if open_upload.upload_id not in live
    ]
    for orphan in orphans:
        storage.abort_multipart(orphan.key, orphan.upload_id)
    session.flush()
    return SweepResult(len(expired), len(orphans))


@dataclass(frozen=True)
class SweepReport:
    uploads: SweepResult
    idempotency_records: int


def sweep(factory: sessionmaker[Session], storage: Storage, ttl_seconds: int) -> SweepReport:
    with session_scope(factory) as session:
        uploads = sweep_uploads(session, storage, ttl_seconds)
        removed = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - RETENTION)
        )
        return SweepReport(uploads, int(removed.rowcount or 0))  # type: ignore[attr-defined]


async def run_periodically(
    factory: sessionmaker[Session],
    storage: Storage,
    ttl_seconds: int,
    every_seconds: float,
    retention_days: int | None = None,
) -> None:
    """The in-service sweeper: several processes may run it; aborting twice is harmless.

    With ``retention_days`` it also purges inspections closed longer ago than that; purges
    lock the inspection, so concurrent sweepers do not purge one twice.
    """
    while True:
        await anyio.sleep(every_seconds)
        try:
            report = await to_thread.run_sync(sweep, factory, storage, ttl_seconds)
        except Exception:
            logger.exception("upload sweep failed")
        else:
            if report.uploads.expired_uploads or report.uploads.orphaned_store_uploads:
                logger.info("uploads swept", extra={"report": str(report)})
        if retention_days is not None:
            await _purge_expired(factory, storage, retention_days)


async def _purge_expired(
    factory: sessionmaker[Session], storage: Storage, retention_days: int
) -> None:
    try:
        outcome = await to_thread.run_sync(
            purge_expired, factory, storage, retention_days, "sweeper"
        )
    except Exception:
        logger.exception("retention purge failed")
        return
    if outcome.purged or outcome.failed:
        purged = [str(tombstone.inspection_id) for tombstone in outcome.purged]
        logger.info("inspections purged", extra={"purged": purged, "failed": outcome.failed})
