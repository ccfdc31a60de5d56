"""What a purge reads and deletes: the inspection locked, its tombstone, the store objects
and hashes its rows name, and the rows themselves; no rules here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Row, Select, delete, select, union
from sqlalchemy.orm import Session

from app.child_lists.models import ListBlock, ListVersion
from app.document_requests.models import DocumentRequest, DocumentRequestAddressee
from app.documents.models import Document, NilReturn, Upload, UploadState
from app.engagement.models import Engagement
from app.evaluations.models import Evaluation
from app.events.models import Event, EventRecipient, SentReminder
from app.inspections.models import Inspection, InspectionStatus
from app.meetings.models import Meeting
from app.retention.models import PurgeState, PurgeTombstone
from app.selections.models import Selection
from app.tracking.models import TrackingRecord


def locked_inspection(session: Session, inspection_id: uuid.UUID) -> Inspection | None:
    """The inspection, locked (PostgreSQL) until the transaction ends."""
    return session.execute(
        select(Inspection).where(Inspection.id == inspection_id).with_for_update()
    ).scalar_one_or_none()


def tombstone(session: Session, inspection_id: uuid.UUID) -> PurgeTombstone | None:
    return session.get(PurgeTombstone, inspection_id)


def document_keys(session: Session, inspection_id: uuid.UUID) -> Iterable[str]:
    """The store keys of the inspection's documents."""
    return session.execute(
        select(Document.object_key).where(Document.inspection_id == inspection_id)
    ).scalars()


def uploads(
    session: Session, inspection_id: uuid.UUID
) -> Sequence[Row[tuple[str, str, UploadState]]]:
    """Each upload of the inspection: its store key, store upload id and state."""
    return session.execute(
        select(Upload.object_key, Upload.store_upload_id, Upload.state).where(
            Upload.inspection_id == inspection_id
        )
    ).all()


def content_hashes(
    session: Session, inspection_id: uuid.UUID
) -> tuple[dict[str, str], dict[str, str]]:
    """The SHA-256 of each document and of each list version's body, by id."""
    documents = session.execute(
        select(Document.id, Document.sha256).where(Document.inspection_id == inspection_id)
    ).all()
    versions = session.execute(
        select(ListVersion.id, ListVersion.body_sha256).where(
            ListVersion.inspection_id == inspection_id
        )
    ).all()
    return (
        {str(row_id): digest for row_id, digest in documents},
        {str(row_id): digest for row_id, digest in versions},
    )


def answer_subjects(inspection_id: uuid.UUID) -> list[Select[tuple[uuid.UUID]]]:
    """What kept Idempotency-Key answers about the inspection are about: the inspection,
    its requests, its uploads and its documents."""
    return [
        select(Inspection.id).where(Inspection.id == inspection_id),
        select(DocumentRequest.id).where(DocumentRequest.inspection_id == inspection_id),
        select(Upload.id).where(Upload.inspection_id == inspection_id),
        select(Document.id).where(Document.inspection_id == inspection_id),
    ]


def _row_deletes(inspection_id: uuid.UUID) -> list[tuple[str, Delete]]:
    """Every table holding the inspection's child data (and the reminders sent about it),
    children before parents."""
    versions = select(ListVersion.id).where(ListVersion.inspection_id == inspection_id)
    return [
        ("list_blocks", delete(ListBlock).where(ListBlock.version_id.in_(versions))),
        ("list_versions", delete(ListVersion).where(ListVersion.inspection_id == inspection_id)),
        ("selections", delete(Selection).where(Selection.inspection_id == inspection_id)),
        ("evaluations", delete(Evaluation).where(Evaluation.inspection_id == inspection_id)),
        (
            "tracking_records",
            delete(TrackingRecord).where(TrackingRecord.inspection_id == inspection_id),
        ),
        ("meetings", delete(Meeting).where(Meeting.inspection_id == inspection_id)),
        ("engagements", delete(Engagement).where(Engagement.inspection_id == inspection_id)),
        ("documents", delete(Document).where(Document.inspection_id == inspection_id)),
        ("nil_returns", delete(NilReturn).where(NilReturn.inspection_id == inspection_id)),
        ("uploads", delete(Upload).where(Upload.inspection_id == inspection_id)),
        (
            "request_addressees",
            delete(DocumentRequestAddressee).where(
                DocumentRequestAddressee.request_id.in_(
                    select(DocumentRequest.id).where(DocumentRequest.inspection_id == inspection_id)
                )
            ),
        ),
        (
            "requests",
            delete(DocumentRequest).where(DocumentRequest.inspection_id == inspection_id),
        ),
        # Not child data, but which milestones each agency was reminded of is the
        # inspection's history: it goes with the rest.
        (
            "sent_reminders",
            delete(SentReminder).where(SentReminder.inspection_id == inspection_id),
        ),
        # Events are thin, but that a request was opened for an agency on a day is still
        # about the inspection: they go with it.
        (
            "event_recipients",
            delete(EventRecipient).where(
                EventRecipient.event_id.in_(
                    select(Event.id).where(Event.inspection_id == inspection_id)
                )
            ),
        ),
        ("events", delete(Event).where(Event.inspection_id == inspection_id)),
    ]


def delete_child_data(session: Session, inspection_id: uuid.UUID) -> dict[str, int]:
    """Delete the inspection's child data, table by table; how many rows went from each."""
    counts = {}
    for kind, statement in _row_deletes(inspection_id):
        # No session sync: nothing purged is loaded, and list blocks can be many.
        result = session.execute(statement.execution_options(synchronize_session=False))
        counts[kind] = int(cast(CursorResult[Any], result).rowcount)
    return counts


def purgeable_inspection_ids(session: Session, closed_by: datetime) -> list[uuid.UUID]:
    """Inspections closed by then and not yet purged, and any purge left half-way."""
    finished = select(PurgeTombstone.inspection_id).where(
        PurgeTombstone.state == PurgeState.FINISHED
    )
    due = select(Inspection.id).where(
        Inspection.status == InspectionStatus.CLOSED,
        Inspection.status_changed_at <= closed_by,
        Inspection.id.not_in(finished),
    )
    unfinished = select(PurgeTombstone.inspection_id).where(
        PurgeTombstone.state == PurgeState.STARTED
    )
    return sorted(session.execute(union(due, unfinished)).scalars())
