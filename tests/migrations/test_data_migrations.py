"""Migrations that rewrite data keep every value: list rows moving into blocks and back."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.child_lists import blocks
from app.child_lists.models import ListVersion
from app.core.database import UTCDateTime, make_engine, make_session_factory
from app.core.migrations import alembic_config
from app.documents.models import Document
from app.idempotency.models import IdempotencyRecord
from app.inspections.models import Inspection
from app.organisations.kinds import OrganisationKind

BEFORE_BLOCKS = "e1b52d9420db"
# The two tables as they were before the move, typed so that values bind on either database.
OLD_VERSIONS = sa.table(
    "list_versions",
    *(
        sa.column(name, sa.Uuid())
        for name in ("id", "inspection_id", "client_id", "organisation_id")
    ),
    *(sa.column(name, sa.String()) for name in ("list_key", "media_type", "body_sha256")),
    *(sa.column(name, sa.Integer()) for name in ("number", "row_count", "warning_count")),
    sa.column("created_at", UTCDateTime()),
    sa.column("warnings", sa.JSON()),
    sa.column("late", sa.Boolean()),
)
OLD_ROWS = sa.table(
    "list_rows",
    sa.column("version_id", sa.Uuid()),
    sa.column("row_number", sa.Integer()),
    sa.column("child_id", sa.String()),
    sa.column("data", sa.JSON()),
)
# Organisations as they were before their name key (g1): the ORM model would write it.
OLD_ORGANISATIONS = sa.table(
    "organisations",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("created_at", UTCDateTime()),
)


def old_organisation(session: Session, name: str, kind: OrganisationKind) -> uuid.UUID:
    """An organisation inserted in the shape tables had before g1."""
    organisation_id = uuid.uuid4()
    session.execute(
        OLD_ORGANISATIONS.insert().values(
            id=organisation_id, name=name, kind=kind.value, created_at=datetime.now(UTC)
        )
    )
    return organisation_id


ROWS: list[dict[str, Any]] = [
    {"child_id": "C1", "gender": "b", "age_years": 12, "mh_concern": True},
    {"child_id": "C\\t2", "gender": None, "age_years": 3, "mh_concern": False},
]


def _old_shape_list(engine: Engine) -> uuid.UUID:
    """An inspection with one list version stored the way rows were stored before."""
    version = uuid.uuid4()
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with make_session_factory(engine)() as session, session.begin():
        council_id = old_organisation(session, "Council", OrganisationKind.LOCAL_AUTHORITY)
        session.flush()
        inspection = Inspection(
            area_name="Area",
            local_authority_id=council_id,
            theme="mental-health",
            notification_at=now,
        )
        session.add(inspection)
        session.flush()
        organisation, inspection_id = council_id, inspection.id
    with engine.begin() as connection:
        connection.execute(
            OLD_VERSIONS.insert().values(
                id=version,
                inspection_id=inspection_id,
                list_key="children-in-need",
                number=1,
                created_at=now,
                client_id=organisation,
                organisation_id=organisation,
                media_type="text/csv",
                body_sha256="0" * 64,
                row_count=len(ROWS),
                warning_count=0,
                warnings=[],
                late=False,
            )
        )
        connection.execute(
            OLD_ROWS.insert(),
            [
                {"version_id": version, "row_number": n, "child_id": row["child_id"], "data": row}
                for n, row in enumerate(ROWS, start=2)
            ],
        )
    return version


def test_list_rows_survive_the_move_into_blocks_and_back(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, BEFORE_BLOCKS)
    engine = make_engine(empty_database_url)
    try:
        version_id = _old_shape_list(engine)
        command.upgrade(config, "head")
        with make_session_factory(engine)() as session:
            version = session.get(ListVersion, version_id)
            assert version is not None
            assert version.columns == ["child_id", "gender", "age_years", "mh_concern"]
            stored = blocks.rows_of(session, [version])
        assert [row.data for row in stored] == ROWS
        assert [row.row_number for row in stored] == [2, 3]

        command.downgrade(config, BEFORE_BLOCKS)
        with engine.connect() as connection:
            data = connection.execute(
                text("SELECT data FROM list_rows ORDER BY row_number")
            ).scalars()
            assert [
                value if isinstance(value, dict) else json.loads(value) for value in data
            ] == ROWS
    finally:
        engine.dispose()


BEFORE_IDEMPOTENCY_SUBJECTS = "5b1d0c7e9a21"
OLD_RECORDS = sa.table(
    "idempotency_records",
    sa.column("client_id", sa.Uuid()),
    *(sa.column(name, sa.String()) for name in ("key", "fingerprint", "state")),
    sa.column("status", sa.Integer()),
    sa.column("headers", sa.JSON()),
    sa.column("body", sa.LargeBinary()),
    sa.column("created_at", UTCDateTime()),
)


def test_stored_secrets_are_removed_and_answers_tagged_with_their_inspection(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, BEFORE_IDEMPOTENCY_SUBJECTS)
    engine = make_engine(empty_database_url)
    client_id, inspection_id = uuid.uuid4(), uuid.uuid4()
    bodies = {
        "secret": json.dumps({"client_id": str(uuid.uuid4()), "client_secret": "s3cr3t"}),
        "document": json.dumps({"id": str(uuid.uuid4()), "inspection_id": str(inspection_id)}),
        "other": "not json",
    }
    try:
        with engine.begin() as connection:
            connection.execute(
                OLD_RECORDS.insert(),
                [
                    {
                        "client_id": client_id,
                        "key": key,
                        "fingerprint": "0" * 64,
                        "state": "done",
                        "status": 201,
                        "headers": {"content-type": "application/json"},
                        "body": body.encode(),
                        "created_at": datetime.now(UTC),
                    }
                    for key, body in bodies.items()
                ],
            )
        command.upgrade(config, "head")
        with make_session_factory(engine)() as session:
            records = {
                record.key: record
                for record in session.execute(select(IdempotencyRecord)).scalars()
            }
        assert set(records) == set(bodies)
        secret = records["secret"]
        assert secret.body is None
        assert secret.headers == {}
        assert secret.not_replayable is not None
        assert "secret" in secret.not_replayable
        assert records["document"].subject_id == inspection_id
        assert records["document"].body == bodies["document"].encode()
        assert records["other"].subject_id is None
        assert records["other"].body == b"not json"

        command.downgrade(config, BEFORE_IDEMPOTENCY_SUBJECTS)
        with engine.connect() as connection:
            keys = connection.execute(text("SELECT key FROM idempotency_records")).scalars()
            assert set(keys) == set(bodies)
    finally:
        engine.dispose()


BEFORE_DOCUMENT_KINDS = "e1"
OLD_REQUESTS = sa.table(
    "document_requests",
    *(sa.column(name, sa.Uuid()) for name in ("id", "inspection_id", "addressee_organisation_id")),
    *(sa.column(name, sa.String()) for name in ("kind", "child_id", "item_number", "title")),
    sa.column("categories", sa.JSON()),
    sa.column("withdrawn", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
)
OLD_DOCUMENTS = sa.table(
    "documents",
    *(
        sa.column(name, sa.Uuid())
        for name in ("id", "inspection_id", "request_id", "organisation_id", "client_id")
    ),
    *(sa.column(name, sa.String()) for name in ("filename", "sha256", "media_type", "object_key")),
    sa.column("size", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
    sa.column("late", sa.Boolean()),
)


def test_documents_sent_before_kinds_are_unspecified_unless_the_request_has_one_kind(
    empty_database_url: str,
) -> None:
    """A case-file document of an unknown kind answers none (NULL); where the request asked
    for a single kind, the document can only have been of it."""
    config = alembic_config(empty_database_url)
    command.upgrade(config, BEFORE_DOCUMENT_KINDS)
    engine = make_engine(empty_database_url)
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    try:
        with make_session_factory(engine)() as session, session.begin():
            council_id = old_organisation(session, "Council", OrganisationKind.LOCAL_AUTHORITY)
            session.flush()
            inspection = Inspection(
                area_name="Area",
                local_authority_id=council_id,
                theme="mental-health",
                notification_at=now,
            )
            session.add(inspection)
            session.flush()
            organisation, inspection_id = council_id, inspection.id
        asked = {
            "several": ("case_file", ["plan", "chronology"]),
            "one": ("case_file", ["pre-sentence-report"]),
            "item": ("information_item", []),
        }
        requests = {name: uuid.uuid4() for name in asked}
        documents = {name: uuid.uuid4() for name in asked}
        with engine.begin() as connection:
            connection.execute(
                OLD_REQUESTS.insert(),
                [
                    {
                        "id": requests[name],
                        "inspection_id": inspection_id,
                        "addressee_organisation_id": organisation,
                        "kind": kind,
                        "child_id": "C1" if kind == "case_file" else None,
                        "item_number": None if kind == "case_file" else "1.1",
                        "title": name,
                        "categories": categories,
                        "withdrawn": False,
                        "created_at": now,
                    }
                    for name, (kind, categories) in asked.items()
                ],
            )
            connection.execute(
                OLD_DOCUMENTS.insert(),
                [
                    {
                        "id": documents[name],
                        "inspection_id": inspection_id,
                        "request_id": requests[name],
                        "organisation_id": organisation,
                        "client_id": organisation,
                        "filename": f"{name}.pdf",
                        "sha256": "0" * 64,
                        "media_type": "application/pdf",
                        "object_key": f"inspections/{inspection_id}/{name}",
                        "size": 1,
                        "created_at": now,
                        "late": False,
                    }
                    for name in asked
                ],
            )
        command.upgrade(config, "head")
        with make_session_factory(engine)() as session:
            rows = session.execute(select(Document.id, Document.document_kind)).tuples().all()
        stored: dict[uuid.UUID, str | None] = dict(rows)
        kinds = {name: stored[documents[name]] for name in asked}
        assert kinds == {"several": None, "one": "pre-sentence-report", "item": None}
        command.downgrade(config, BEFORE_DOCUMENT_KINDS)
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM documents")).scalar_one()
            assert count == len(asked)
    finally:
        engine.dispose()
