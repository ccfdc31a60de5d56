"""Aborting abandoned uploads, from a cron job (`jtai admin sweep-uploads`) or in the service.

An upload a client never completed holds parts in the store; so does one whose API process
was killed mid-stream. Both are aborted once older than JTAI_UPLOAD_TTL_SECONDS. Expired
idempotency records are dropped at the same time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio
from anyio import to_thread
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from app.core.database import session_scope, utcnow
from app.documents.service import SweepResult, sweep_uploads
from app.idempotency.middleware import RETENTION
from app.idempotency.models import IdempotencyRecord
from app.storage import Storage

logger = logging.getLogger("jtai.sweeper")


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
    factory: sessionmaker[Session], storage: Storage, ttl_seconds: int, every_seconds: float
) -> None:
    """The in-service sweeper: several processes may run it; aborting twice is harmless."""
    while True:
        await anyio.sleep(every_seconds)
        try:
            report = await to_thread.run_sync(sweep, factory, storage, ttl_seconds)
        except Exception:
            logger.exception("upload sweep failed")
            continue
        if report.uploads.expired_uploads or report.uploads.orphaned_store_uploads:
            logger.info("uploads swept", extra={"report": str(report)})
