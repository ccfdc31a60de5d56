"""Abandoned uploads, aborted: ours left open past their time, and any the store still holds.

The job that runs this (in the service's loop, `jtai jobs run`, or cron) is ``app.jobs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.core.database import utcnow
from app.documents.models import Upload, UploadState
from app.storage import Storage

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
