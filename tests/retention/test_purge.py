"""Purging an inspection: what goes, what stays, and a re-run after a crash half-way."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.child_lists.models import ListBlock, ListVersion
from app.core.database import session_scope
from app.document_requests.models import DocumentRequest
from app.documents.models import Document, Upload
from app.engagement.models import Engagement
from app.evaluations.models import Evaluation
from app.idempotency.models import IdempotencyRecord
from app.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from app.meetings.models import Meeting
from app.retention.models import PurgeState, PurgeTombstone
from app.retention.service import InspectionNotClosed, InspectionNotFound, purge_inspection
from app.selections.models import Selection
from app.storage import Storage
from app.tracking.models import TrackingRecord
from tests.factories import PDF, Factory
from tests.retention.conftest import Filled, close, object_keys

CHILD_TABLES: list[Any] = [
    ListVersion,
    Selection,
    Evaluation,
    TrackingRecord,
    Meeting,
    Engagement,
    Document,
    Upload,
    DocumentRequest,
]
Sessions = sessionmaker[Session]


def _count(session_factory: Sessions, model: Any, inspection_id: uuid.UUID) -> int:
    with session_scope(session_factory) as session:
        query = select(func.count()).select_from(model).where(model.inspection_id == inspection_id)
        return int(session.execute(query).scalar_one())


def _list_blocks(session_factory: Sessions, version_id: uuid.UUID) -> int:
    with session_scope(session_factory) as session:
        query = (
            select(func.count()).select_from(ListBlock).where(ListBlock.version_id == version_id)
        )
        return int(session.execute(query).scalar_one())


def _purged_events(session_factory: Sessions, inspection_id: uuid.UUID) -> list[AuditEvent]:
    with session_scope(session_factory) as session:
        query = select(AuditEvent).where(
            AuditEvent.action == "inspection.purged", AuditEvent.inspection_id == inspection_id
        )
        return list(session.execute(query).scalars())


def _assert_purged(session_factory: Sessions, storage: Storage, filled: Filled) -> None:
    for model in CHILD_TABLES:
        assert _count(session_factory, model, filled.inspection_id) == 0, model.__name__
    assert _list_blocks(session_factory, filled.list_version_id) == 0
    with session_scope(session_factory) as session:
        inspection = session.get(Inspection, filled.inspection_id)
        assert inspection is not None
        assert inspection.status is InspectionStatus.CLOSED
        participants = select(InspectionParticipant).where(
            InspectionParticipant.inspection_id == filled.inspection_id
        )
        assert session.execute(participants).scalars().all()
        assert verify_chain(session).valid


def test_purge_removes_child_data_and_objects_and_keeps_the_rest(
    factory: Factory, filled: Filled, session_factory: Sessions, storage: Storage
) -> None:
    close(factory, filled.inspection_id)
    keys = object_keys(factory, filled.inspection_id)
    other = filled.world.other_inspection_id
    factory.stored_list(other, "children_in_need", [{"child_id": "X1"}])

    tombstone = purge_inspection(session_factory, storage, filled.inspection_id, "cli")

    assert tombstone.state is PurgeState.FINISHED
    assert tombstone.finished_at is not None
    assert tombstone.purged_by == "cli"
    assert not tombstone.forced_open
    assert tombstone.counts == filled.counts
    assert set(tombstone.document_sha256s.values()) == filled.document_sha256s
    assert tombstone.list_version_sha256s == {str(filled.list_version_id): "0" * 64}
    _assert_purged(session_factory, storage, filled)
    assert not any(storage.exists(key) for key in keys)
    # Another inspection's data is not touched.
    assert _count(session_factory, ListVersion, other) == 1
    [event] = _purged_events(session_factory, filled.inspection_id)
    assert event.detail["counts"] == filled.counts
    assert event.detail["purged_by"] == "cli"
    assert event.child_id is None


def test_purge_twice_does_nothing_the_second_time(
    factory: Factory, filled: Filled, session_factory: Sessions, storage: Storage
) -> None:
    close(factory, filled.inspection_id)
    first = purge_inspection(session_factory, storage, filled.inspection_id, "cli")
    second = purge_inspection(session_factory, storage, filled.inspection_id, "someone else")
    assert second.counts == first.counts == filled.counts
    assert second.finished_at == first.finished_at
    assert second.purged_by == "cli"
    assert len(_purged_events(session_factory, filled.inspection_id)) == 1
    _assert_purged(session_factory, storage, filled)


def test_a_crash_half_way_is_finished_by_the_next_run(
    factory: Factory,
    filled: Filled,
    session_factory: Sessions,
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    close(factory, filled.inspection_id)
    keys = object_keys(factory, filled.inspection_id)
    real_delete, calls = storage.delete, list[str]()

    def crash_on_second(key: str) -> None:
        calls.append(key)
        if len(calls) == 2:
            raise OSError("store went away")
        real_delete(key)

    monkeypatch.setattr(storage, "delete", crash_on_second)
    with pytest.raises(OSError, match="store went away"):
        purge_inspection(session_factory, storage, filled.inspection_id, "cli")
    monkeypatch.undo()

    # Half-way: the tombstone says so, one object is gone and every row is still there.
    with session_scope(session_factory) as session:
        started = session.get(PurgeTombstone, filled.inspection_id)
        assert started is not None
        assert started.state is PurgeState.STARTED
        assert started.finished_at is None
    # The first delete went through (whichever key sorted first), the second did not.
    assert {key for key in keys if storage.exists(key)} == set(keys) - {calls[0]}
    assert _count(session_factory, Document, filled.inspection_id) == 2
    assert not _purged_events(session_factory, filled.inspection_id)

    tombstone = purge_inspection(session_factory, storage, filled.inspection_id, "cli")
    assert tombstone.state is PurgeState.FINISHED
    assert tombstone.started_at == started.started_at
    assert tombstone.counts == filled.counts
    assert set(tombstone.document_sha256s.values()) == filled.document_sha256s
    assert not any(storage.exists(key) for key in keys)
    assert len(_purged_events(session_factory, filled.inspection_id)) == 1
    _assert_purged(session_factory, storage, filled)


def test_an_open_inspection_is_refused(
    filled: Filled, session_factory: Sessions, storage: Storage
) -> None:
    with pytest.raises(InspectionNotClosed, match="--force-open"):
        purge_inspection(session_factory, storage, filled.inspection_id, "cli")
    with session_scope(session_factory) as session:
        assert session.get(PurgeTombstone, filled.inspection_id) is None
    assert _count(session_factory, Document, filled.inspection_id) == 2


def test_force_open_closes_then_purges(
    filled: Filled, session_factory: Sessions, storage: Storage
) -> None:
    tombstone = purge_inspection(
        session_factory, storage, filled.inspection_id, "cli", force_open=True
    )
    assert tombstone.forced_open
    assert tombstone.counts == filled.counts
    _assert_purged(session_factory, storage, filled)
    with session_scope(session_factory) as session:
        closing = select(AuditEvent.detail).where(
            AuditEvent.action == "inspection.status_changed",
            AuditEvent.inspection_id == filled.inspection_id,
        )
        assert session.execute(closing).scalar_one()["reason"] == "purge"


def test_an_unknown_inspection_is_refused(
    session_factory: Sessions, storage: Storage, factory: Factory
) -> None:
    with pytest.raises(InspectionNotFound):
        purge_inspection(session_factory, storage, uuid.uuid4(), "cli", force_open=True)


def test_a_purged_inspection_still_reads_and_refuses_writes(
    factory: Factory, filled: Filled, session_factory: Sessions, storage: Storage, client: Any
) -> None:
    close(factory, filled.inspection_id)
    purge_inspection(session_factory, storage, filled.inspection_id, "cli")
    base = f"/v1/inspections/{filled.inspection_id}"
    lead = filled.world.lead.headers
    assert client.get(base, headers=lead).json()["status"] == "closed"
    write = client.put(f"{base}/children/C1/tracking", json={"summaries": {}}, headers=lead)
    assert write.status_code == 409


@pytest.mark.commits
def test_concurrent_purges_of_one_inspection_purge_it_once(
    factory: Factory, filled: Filled, session_factory: Sessions, storage: Storage
) -> None:
    close(factory, filled.inspection_id)
    results: list[PurgeTombstone] = []

    def purge() -> None:
        results.append(purge_inspection(session_factory, storage, filled.inspection_id, "cli"))

    threads = [threading.Thread(target=purge) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 3
    assert all(result.counts == filled.counts for result in results)
    assert len(_purged_events(session_factory, filled.inspection_id)) == 1
    _assert_purged(session_factory, storage, filled)


def _kept_answers(session_factory: Sessions, keys: list[str]) -> set[str]:
    with session_scope(session_factory) as session:
        query = select(IdempotencyRecord.key).where(IdempotencyRecord.key.in_(keys))
        return set(session.execute(query).scalars())


def test_kept_idempotency_answers_about_the_inspection_are_purged_with_it(
    factory: Factory, filled: Filled, session_factory: Sessions, storage: Storage, client: Any
) -> None:
    """A retry after a purge must not hand back file names or child IDs of the purged data."""
    world = filled.world
    health = factory.actor_in(world, "health")
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    upload_id = factory.upload(world.agency, request_id)
    other_request = factory.document_request(
        world.other_inspection_id, world.other_area_agency.organisation_id
    )

    def keyed(actor: Any, key: str) -> dict[str, str]:
        return {**actor.headers, "Idempotency-Key": key}

    named_file = {"file": ("C1 case notes.pdf", PDF, "application/pdf")}
    # On a request, an upload, and the inspection itself, and one on another inspection.
    answers = [
        client.post(
            f"/v1/requests/{request_id}/documents",
            files=named_file,
            headers=keyed(world.agency, "doc"),
        ),
        client.post(
            f"/v1/uploads/{upload_id}/complete",
            json={"parts": [{"part_number": 1, "etag": "nothing-sent"}]},
            headers=keyed(world.agency, "complete"),
        ),
        client.post(
            f"/v1/inspections/{world.inspection_id}/requests",
            json={
                "organisation_id": str(health.organisation_id),
                "title": "Health records for C1",
                "child_id": "C1",
                "due_at": "2027-05-03T09:00:00+01:00",
            },
            headers=keyed(world.inspector, "cqc"),
        ),
        client.post(
            f"/v1/requests/{other_request}/documents",
            files=named_file,
            headers=keyed(world.other_area_agency, "elsewhere"),
        ),
    ]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [201, 422, 201, 201], answers[2].text
    keys = ["doc", "complete", "cqc", "elsewhere"]
    assert _kept_answers(session_factory, keys) == set(keys)

    close(factory, filled.inspection_id)
    purge_inspection(session_factory, storage, filled.inspection_id, "cli")

    assert _kept_answers(session_factory, keys) == {"elsewhere"}
    retry = client.post(
        f"/v1/requests/{request_id}/documents", files=named_file, headers=keyed(world.agency, "doc")
    )
    assert retry.status_code == 404
    assert "C1 case notes" not in retry.text
