"""How the documents domain is laid out: small modules, a router that only parses, calls and
serialises, and every change and read of a document audited by the service that does it."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth import service as auth_service
from app.core.database import session_scope
from app.documents import service
from app.documents.models import Document
from app.storage import StoredObject
from tests.conftest import Reader
from tests.factories import PDF, Factory

DOCUMENTS = Path(service.__file__).parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_no_module_or_function_of_the_documents_domain_is_too_long() -> None:
    too_long = []
    for module in sorted(DOCUMENTS.glob("*.py")):
        source = module.read_text(encoding="utf-8")
        if source.count("\n") > MAX_MODULE_LINES:
            too_long.append(module.name)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{module.name}:{node.name}")
    assert too_long == []


def test_the_router_records_nothing_itself() -> None:
    tree = ast.parse((DOCUMENTS / "router.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not any(name.startswith("app.audit") for name in imported)


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
