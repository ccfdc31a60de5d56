"""Migration f1: every request gets its addressee row, and the per-agency duplicates of an
item asked of the partnership become the council's one request, with what was sent to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from app.core.database import make_engine, make_session_factory
from app.core.migrations import alembic_config
from app.document_requests.models import DocumentRequest, DocumentRequestAddressee, RequestKind
from app.document_requests.service import Wanted
from app.documents.models import Document
from app.inspections.models import Inspection
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation
from tests.migrations.test_data_migrations import OLD_DOCUMENTS, OLD_REQUESTS, old_organisation

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _derived_id(inspection_id: uuid.UUID, organisation: Organisation, item: str) -> uuid.UUID:
    wanted = Wanted(RequestKind.INFORMATION_ITEM, (organisation,), None, item, item, [], None)
    return wanted.id_in(inspection_id)


def test_partnership_duplicates_become_the_councils_request(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "d1")
    engine = make_engine(empty_database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            kinds = {
                "council": OrganisationKind.LOCAL_AUTHORITY,
                "health": OrganisationKind.HEALTH,
                "trust": OrganisationKind.HEALTH,
                "police": OrganisationKind.POLICE,
            }
            # Inserted in their old shape; the objects only carry ids for _derived_id.
            orgs = {
                name: Organisation(id=old_organisation(session, name, kind), name=name, kind=kind)
                for name, kind in kinds.items()
            }
            inspection = Inspection(
                area_name="Area",
                local_authority_id=orgs["council"].id,
                theme="mental-health",
                notification_at=NOW,
            )
            session.add(inspection)
            session.flush()
            inspection_id = inspection.id
            asked = [("3.2", name) for name in ("council", "health", "police")]
            asked += [("6.1", "health"), ("6.1", "trust"), ("1.1", "council")]
            ids = {key: _derived_id(inspection_id, orgs[key[1]], key[0]) for key in asked}
            org_ids = {name: org.id for name, org in orgs.items()}
        with engine.begin() as connection:
            connection.execute(
                OLD_REQUESTS.insert(),
                [
                    {
                        "id": ids[(item, name)],
                        "inspection_id": inspection_id,
                        "addressee_organisation_id": org_ids[name],
                        "kind": "information_item",
                        "child_id": None,
                        "item_number": item,
                        "title": item,
                        "categories": [],
                        "withdrawn": False,
                        "created_at": NOW,
                    }
                    for item, name in asked
                ],
            )
            police_minutes = uuid.uuid4()
            connection.execute(
                OLD_DOCUMENTS.insert(),
                {
                    "id": police_minutes,
                    "inspection_id": inspection_id,
                    "request_id": ids[("3.2", "police")],
                    "organisation_id": org_ids["police"],
                    "client_id": org_ids["police"],
                    "filename": "minutes.pdf",
                    "sha256": "0" * 64,
                    "media_type": "application/pdf",
                    "object_key": "k",
                    "size": 1,
                    "created_at": NOW,
                    "late": False,
                },
            )
        command.upgrade(config, "head")
        with make_session_factory(engine)() as session:
            requests = session.execute(select(DocumentRequest)).scalars().all()
            by_item: dict[str | None, list[uuid.UUID]] = {}
            for request in requests:
                by_item.setdefault(request.item_number, []).append(request.id)
            addressees: dict[uuid.UUID, set[uuid.UUID]] = {}
            for row in session.execute(select(DocumentRequestAddressee)).scalars():
                addressees.setdefault(row.request_id, set()).add(row.organisation_id)
            document = session.get(Document, police_minutes)
            assert document is not None
            minutes_request = document.request_id
        council_minutes = ids[("3.2", "council")]
        assert by_item["3.2"] == [council_minutes]  # the id the derivation now gives it
        assert addressees[council_minutes] == {org_ids[n] for n in ("council", "health", "police")}
        assert minutes_request == council_minutes  # what police sent answers it for all
        # Two agencies of one kind asked the same item: two requests, as before.
        assert sorted(by_item["6.1"]) == sorted([ids[("6.1", "health")], ids[("6.1", "trust")]])
        assert all(len(addressees[request]) == 1 for request in by_item["6.1"] + by_item["1.1"])
        command.downgrade(config, "d1")
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
            assert "document_request_addressees" not in tables
    finally:
        engine.dispose()
