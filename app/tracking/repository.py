"""Reading inspectors' tracking records; no rules here."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import ApiClient
from app.organisations.models import Organisation
from app.tracking.models import TrackingRecord


def latest_version(
    session: Session, inspection_id: uuid.UUID, child_id: str, inspector_client_id: uuid.UUID
) -> int | None:
    """The number of the inspector's current record of the child; None before the first."""
    return session.execute(
        select(func.max(TrackingRecord.version)).where(
            TrackingRecord.inspection_id == inspection_id,
            TrackingRecord.child_id == child_id,
            TrackingRecord.inspector_client_id == inspector_client_id,
        )
    ).scalar_one_or_none()


def current_records(
    session: Session, inspection_id: uuid.UUID, child_id: str
) -> list[tuple[TrackingRecord, ApiClient, Organisation]]:
    """The current version of every inspector's record of the child, with its author."""
    rows = session.execute(
        select(TrackingRecord, ApiClient, Organisation)
        .join(ApiClient, ApiClient.id == TrackingRecord.inspector_client_id)
        .join(Organisation, Organisation.id == TrackingRecord.organisation_id)
        .where(TrackingRecord.inspection_id == inspection_id, TrackingRecord.child_id == child_id)
        .order_by(TrackingRecord.version)
    ).all()
    latest: dict[uuid.UUID, tuple[TrackingRecord, ApiClient, Organisation]] = {}
    for record, client, organisation in rows:
        latest[record.inspector_client_id] = (record, client, organisation)
    return sorted(latest.values(), key=lambda row: row[1].name)


def record_counts(session: Session, inspection_id: uuid.UUID) -> dict[str, int]:
    """child -> how many inspectors keep a tracking record of it, in one query."""
    rows = session.execute(
        select(
            TrackingRecord.child_id, func.count(func.distinct(TrackingRecord.inspector_client_id))
        )
        .where(TrackingRecord.inspection_id == inspection_id)
        .group_by(TrackingRecord.child_id)
    ).tuples()
    return dict(rows.all())
