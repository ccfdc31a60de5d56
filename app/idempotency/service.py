"""Forgetting stored answers when what they concern goes away; no HTTP here."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, or_
from sqlalchemy.orm import Session

from app.core.database import utcnow
from app.idempotency.models import IdempotencyRecord

# How long an answer is kept for replay: a client retrying the same key within a day gets it.
RETENTION = timedelta(hours=24)


def forget_client(session: Session, client_id: uuid.UUID) -> int:
    """Drop every answer kept for a client's retries: a disabled client is replayed nothing."""
    result = session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.client_id == client_id)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount)


def forget_subjects(session: Session, *subject_ids: Select[tuple[uuid.UUID]]) -> int:
    """Drop the answers to requests made on any of the IDs the given queries select."""
    result = session.execute(
        delete(IdempotencyRecord)
        .where(or_(*(IdempotencyRecord.subject_id.in_(ids) for ids in subject_ids)))
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount)


def expire_records(session: Session) -> int:
    """Drop the answers kept longer than a client may retry with the same key."""
    removed = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - RETENTION)
    )
    return int(cast(CursorResult[Any], removed).rowcount or 0)
