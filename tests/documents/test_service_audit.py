"""Every change and read of a document is audited by the service that does it, whoever calls
it (the sizes of modules and the routers' shape are checked for every domain in
tests/architecture)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth import service as auth_service
from app.core.database import session_scope
from app.documents import service
from app.documents.models import Document
from app.storage import StoredObject
from tests.conftest import Reader
from tests.factories import PDF, Factory


def test_the_service_audits_each_document_it_publishes_and_each_read(
    factory: Factory, db: Reader
) -> None:
    world = factory.world()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    storage = factory.state.storage
    with session_scope(factory.state.session_factory) as session:
        agency = auth_service.principal_for_client(session, world.agency.client_id)
        lead = auth_service.principal_for_client(session, world.lead.client_id)
        request = service.writable_request(session, agency, request_id, "upload_document")
        key = service.new_object_key(world.inspection_id)
        stored: StoredObject = storage.put_stream(
            key, [PDF], max_bytes=1 << 20, content_type="application/pdf"
        )
        document = service.publish(session, request, agency, stored, "a.pdf", "application/pdf")
        document_id = document.id
    with session_scope(factory.state.session_factory) as session:
        service.read_metadata(session, lead, document_id)
        download = service.download(session, storage, lead, document_id, redirect=False)
        assert b"".join(download.chunks) == PDF
    events = db.all(select(AuditEvent).where(AuditEvent.object_id == str(document_id)))
    assert [(event.action, event.client_id) for event in events] == [
        ("document.uploaded", world.agency.client_id),
        ("document.metadata_read", world.lead.client_id),
        ("document.downloaded", world.lead.client_id),
    ]
    assert [d.id for d in db.all(select(Document))] == [document_id]
