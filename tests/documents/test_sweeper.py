"""Abandoned uploads are aborted: ours past their time, and the store's orphans."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine, select, update

from app.core.database import session_scope, utcnow
from app.documents.models import Upload, UploadState
from app.documents.service import COMPLETION_GRACE
from app.jobs.runner import sweep
from tests.conftest import Reader
from tests.factories import Factory


def test_expired_and_orphaned_uploads_are_aborted(
    app: FastAPI, factory: Factory, engine: Engine, db: Reader
) -> None:
    state = app.state.jtai
    # The store outlives each test's database: what earlier tests left open is swept first.
    sweep(state.session_factory, state.storage, ttl_seconds=0)
    world = factory.world()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    expired = factory.upload(world.agency, request_id)
    live = factory.upload(world.agency, request_id)
    with session_scope(state.session_factory) as session:
        session.execute(
            update(Upload).where(Upload.id == expired).values(expires_at=utcnow() - timedelta(1))
        )
    orphan_key = f"inspections/{world.inspection_id}/orphan"
    state.storage.start_multipart(orphan_key, "application/pdf")  # a process died here
    report = sweep(state.session_factory, state.storage, ttl_seconds=0)
    assert report.uploads.expired_uploads == 1
    assert report.uploads.orphaned_store_uploads == 1
    states = {upload.id: upload.state for upload in db.all(select(Upload))}
    assert states[expired] == UploadState.ABORTED
    assert states[live] == UploadState.OPEN
    still_open = {u.key for u in state.storage.list_open_multipart(utcnow() + timedelta(1))}
    assert orphan_key not in still_open


def test_a_completion_that_died_is_discarded_after_its_grace(
    app: FastAPI, factory: Factory, engine: Engine, db: Reader
) -> None:
    """A process killed between claiming a completion and recording the document leaves the
    upload 'completing' and perhaps an assembled object: both go, once surely abandoned."""
    state = app.state.jtai
    world = factory.world()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    died, running = (
        factory.upload(world.agency, request_id),
        factory.upload(world.agency, request_id),
    )
    uploads = {u.id: u for u in db.all(select(Upload))}
    for upload_id, expired_ago in ((died, COMPLETION_GRACE * 2), (running, timedelta(minutes=1))):
        upload = uploads[upload_id]
        state.storage.put_stream(
            upload.object_key, [b"assembled"], max_bytes=100, content_type="application/pdf"
        )
        with session_scope(state.session_factory) as session:
            session.execute(
                update(Upload)
                .where(Upload.id == upload_id)
                .values(state=UploadState.COMPLETING, expires_at=utcnow() - expired_ago)
            )

    report = sweep(state.session_factory, state.storage, ttl_seconds=0)

    assert report.uploads.expired_uploads == 1
    states = {upload.id: upload.state for upload in db.all(select(Upload))}
    assert states == {died: UploadState.ABORTED, running: UploadState.COMPLETING}
    assert not state.storage.exists(uploads[died].object_key)
    assert state.storage.exists(uploads[running].object_key)
    open_ids = {u.upload_id for u in state.storage.list_open_multipart(utcnow() + timedelta(1))}
    assert uploads[died].store_upload_id not in open_ids
    assert uploads[running].store_upload_id in open_ids  # a live completion's parts stay
