"""Builders for the objects tests need, made through the services the API itself uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.principal import Principal
from app.auth.roles import Role, scopes_for
from app.auth.secrets import credential_generation
from app.child_lists import blocks, repository
from app.child_lists.models import ListVersion
from app.core.database import session_scope
from app.document_requests.models import DocumentRequest, DocumentRequestAddressee, RequestKind
from app.documents.service import (
    NewUpload,
    create_upload,
    new_object_key,
    publish,
    record_nil_return,
)
from app.engagement.models import Engagement
from app.engagement.schemas import EngagementWrite
from app.engagement.service import write_engagement
from app.evaluations.schemas import EvaluationWrite
from app.evaluations.service import write_evaluation
from app.inspections import service as inspections
from app.inspections import team as inspections_team
from app.inspections.context import InspectionContext
from app.inspections.models import Inspection
from app.meetings.schemas import MeetingWrite
from app.meetings.service import create_meeting
from app.organisations.kinds import OrganisationKind
from app.organisations.service import create_organisation, get_organisation
from app.selections.service import record_selection

LONDON = ZoneInfo("Europe/London")
# Who "the lead" is for a selection made in an inspection that has no lead yet.
_STAND_IN = Principal(
    client_id=uuid.UUID(int=1),
    client_name="test lead",
    organisation_id=uuid.UUID(int=2),
    organisation_name="Ofsted",
    organisation_kind=OrganisationKind.OFSTED,
    roles=frozenset({Role.LEAD_INSPECTOR}),
    scopes=frozenset(),
)
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@dataclass(frozen=True)
class Actor:
    client_id: uuid.UUID
    secret: str
    organisation_id: uuid.UUID
    kind: OrganisationKind
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class World:
    """One inspection with everyone the access matrix needs."""

    inspection_id: uuid.UUID
    operator: Actor
    lead: Actor
    inspector: Actor  # CQC's, on the inspection's team
    off_team_inspector: Actor  # CQC's too, not on the team: sees nothing of the inspection
    outside_inspector: Actor  # HMICFRS's, which does not take part
    agency: Actor
    other_area_agency: Actor
    other_inspection_id: uuid.UUID
    # The local authority's own administrator (org_admin): it manages the council's clients,
    # so the operator may no longer create or rotate them.
    org_admin: Actor


class Factory:
    def __init__(self, app: FastAPI) -> None:
        self.state = app.state.jtai

    def organisation(self, kind: OrganisationKind, name: str | None = None) -> uuid.UUID:
        with session_scope(self.state.session_factory) as session:
            label = name or f"{kind.value} {uuid.uuid4().hex[:6]}"
            return create_organisation(session, None, label, kind).id

    def actor(
        self, kind: OrganisationKind, roles: list[Role], organisation_id: uuid.UUID | None = None
    ) -> Actor:
        organisation_id = organisation_id or self.organisation(kind)
        with session_scope(self.state.session_factory) as session:
            issued = auth_service.create_client(
                session, get_organisation(session, organisation_id), "test client", roles
            )
            client_id, secret = issued.client.id, issued.secret
            generation = credential_generation(issued.client.secret_hash)
        scopes = [s.value for s in scopes_for(frozenset(roles))]
        token = self.state.tokens.issue(client_id, scopes, credential_generation=generation)
        return Actor(client_id, secret, organisation_id, kind, token)

    def inspection(
        self,
        local_authority_id: uuid.UUID,
        theme: str = "mental-health",
        notification_at: datetime | None = None,
        participants: list[uuid.UUID] | None = None,
        lead_client_id: uuid.UUID | None = None,
        team: list[uuid.UUID] | None = None,
    ) -> uuid.UUID:
        when = notification_at or datetime(2027, 3, 22, 9, 0, tzinfo=LONDON)
        request = inspections.NewInspection(
            "Testshire", local_authority_id, theme, when, tuple(team or ())
        )
        with session_scope(self.state.session_factory) as session:
            context = inspections.open_inspection(session, self.state.contexts, None, request)
            for organisation_id in participants or []:
                inspections.add_participant(session, context, organisation_id)
            if lead_client_id is not None:
                inspections.set_lead(session, context, lead_client_id)
            return context.inspection.id

    def _context(
        self, session: Session, inspection_id: uuid.UUID, actor: Actor | None = None
    ) -> InspectionContext:
        """The context the API would give the actor (None: the platform itself)."""
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        principal = auth_service.principal_for_client(session, actor.client_id) if actor else None
        return self.state.contexts.for_inspection(principal, inspection)

    def world(self, theme: str = "mental-health", notification_at: datetime | None = None) -> World:
        operator = self.actor(OrganisationKind.PLATFORM, [Role.OPERATOR])
        ofsted = self.organisation(OrganisationKind.OFSTED)
        lead = self.actor(OrganisationKind.OFSTED, [Role.LEAD_INSPECTOR], ofsted)
        inspector = self.actor(OrganisationKind.CQC, [Role.INSPECTOR])
        off_team = self.actor(OrganisationKind.CQC, [Role.INSPECTOR], inspector.organisation_id)
        outside = self.actor(OrganisationKind.HMICFRS, [Role.INSPECTOR])
        agency = self.actor(OrganisationKind.LOCAL_AUTHORITY, [Role.AGENCY])
        other_agency = self.actor(OrganisationKind.LOCAL_AUTHORITY, [Role.AGENCY])
        inspection_id = self.inspection(
            agency.organisation_id,
            theme,
            notification_at,
            participants=[inspector.organisation_id],
            lead_client_id=lead.client_id,
            team=[inspector.client_id],
        )
        other_inspection = self.inspection(
            other_agency.organisation_id, theme, team=[outside.client_id]
        )
        org_admin = self.actor(
            OrganisationKind.LOCAL_AUTHORITY, [Role.ORG_ADMIN], agency.organisation_id
        )
        return World(
            inspection_id,
            operator,
            lead,
            inspector,
            off_team,
            outside,
            agency,
            other_agency,
            other_inspection,
            org_admin,
        )

    def add_participant(self, inspection_id: uuid.UUID, organisation_id: uuid.UUID) -> None:
        with session_scope(self.state.session_factory) as session:
            context = self._context(session, inspection_id)
            inspections.add_participant(session, context, organisation_id)

    def stored_list(
        self,
        inspection_id: uuid.UUID,
        list_key: str,
        rows: list[dict[str, Any]],
        organisation_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A list version as if pushed, for tests of what reads lists (not of pushing): the
        next version of the organisation's contribution (by default the local authority's)."""
        frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
        with session_scope(self.state.session_factory) as session:
            if organisation_id is None:
                inspection = session.get(Inspection, inspection_id)
                assert inspection is not None
                organisation_id = inspection.local_authority_id
            latest = repository.latest_version(session, inspection_id, list_key, organisation_id)
            version = ListVersion(
                inspection_id=inspection_id,
                list_key=list_key,
                number=1 + (latest.number if latest is not None else 0),
                client_id=uuid.uuid4(),
                organisation_id=organisation_id,
                media_type="application/json",
                body_sha256="0" * 64,
                row_count=len(rows),
                warning_count=0,
                warnings=[],
                columns=list(frame.columns),
                due_at=None,
                late=False,
            )
            session.add(version)
            session.flush()
            blocks.insert_frame(session, version, frame, range(1, len(rows) + 1), "child_id")
            return version.id

    def selection(self, inspection_id: uuid.UUID, key: str, child_ids: list[str]) -> None:
        """A selection as if the lead made it, without the list checks (for tests of what
        reads it): stored, its requests derived and audited as the API's would be."""
        with session_scope(self.state.session_factory) as session:
            context = self._context(session, inspection_id)
            lead = context.inspection.lead_client_id
            principal = auth_service.principal_for_client(session, lead) if lead else _STAND_IN
            acting = replace(context, principal=principal)
            record_selection(session, acting, key, child_ids)

    def actor_in(self, world: World, kind: str) -> Actor:
        """An agency client of the given kind taking part in the world's inspection."""
        actor = self.actor(OrganisationKind(kind), [Role.AGENCY])
        self.add_participant(world.inspection_id, actor.organisation_id)
        return actor

    def document_request(self, inspection_id: uuid.UUID, organisation_id: uuid.UUID) -> uuid.UUID:
        """A request addressed to an organisation, as the derivation would make it."""
        with session_scope(self.state.session_factory) as session:
            request = DocumentRequest(
                id=uuid.uuid4(),
                inspection_id=inspection_id,
                kind=RequestKind.INFORMATION_ITEM,
                addressee_organisation_id=organisation_id,
                item_number="1.1",
                title="1.1 Organisational structures",
                categories=[],
                due_at=None,
            )
            session.add(request)
            session.flush()
            session.add(
                DocumentRequestAddressee(request_id=request.id, organisation_id=organisation_id)
            )
            return request.id

    def document(
        self,
        actor: Actor,
        request_id: uuid.UUID,
        content: bytes = PDF,
        kind: str | None = None,
    ) -> uuid.UUID:
        """A document as if uploaded by the actor (of ``kind``, on a case-file request): bytes
        really stored, the upload audited."""
        with session_scope(self.state.session_factory) as session:
            request = session.get(DocumentRequest, request_id)
            assert request is not None
            key = new_object_key(request.inspection_id)
            stored = self.state.storage.put_stream(
                key, [content], max_bytes=1 << 30, content_type="application/pdf"
            )
            principal = auth_service.principal_for_client(session, actor.client_id)
            return publish(
                session, request, principal, stored, "report.pdf", "application/pdf", kind
            ).id

    def upload(self, actor: Actor, request_id: uuid.UUID, kind: str | None = None) -> uuid.UUID:
        """An open presigned upload started by the actor."""
        with session_scope(self.state.session_factory) as session:
            request = session.get(DocumentRequest, request_id)
            assert request is not None
            principal = auth_service.principal_for_client(session, actor.client_id)
            wanted = NewUpload("scan.pdf", 13, "0" * 64, kind)
            return create_upload(session, self.state.storage, request, principal, wanted, 3600).id

    def nil_return(
        self, actor: Actor, request_id: uuid.UUID, reason: str, kind: str | None = None
    ) -> uuid.UUID:
        """A nil return ("none held") as if the actor recorded it through the API."""
        with session_scope(self.state.session_factory) as session:
            principal = auth_service.principal_for_client(session, actor.client_id)
            return record_nil_return(session, principal, request_id, reason, kind).id

    def evaluation(
        self, actor: Actor, inspection_id: uuid.UUID, child_id: str, kind: str = "joint"
    ) -> uuid.UUID:
        """A first version of an evaluation as if the actor wrote it (every question answered)."""
        with session_scope(self.state.session_factory) as session:
            inspection = session.get(Inspection, inspection_id)
            assert inspection is not None
            questions = self.state.themes.get(inspection.theme).evaluation.questions
            body = EvaluationWrite(
                answers=dict.fromkeys(questions, "Seen and answered."),
                contributing_organisation_ids=[actor.organisation_id] if kind == "joint" else [],
            )
            context = self._context(session, inspection_id, actor)
            return write_evaluation(session, context, child_id, kind, body, None).id

    def meeting(self, actor: Actor, inspection_id: uuid.UUID, **fields: Any) -> uuid.UUID:
        """A meeting as if the local authority's actor recorded it."""
        body = MeetingWrite.model_validate(
            {
                "kind": "strategy-discussion",
                "starts_at": datetime(2027, 4, 5, 10, 0, tzinfo=LONDON),
                "ends_at": datetime(2027, 4, 5, 11, 0, tzinfo=LONDON),
                "place": "Town hall",
                "organisation_ids": [actor.organisation_id],
            }
            | fields
        )
        with session_scope(self.state.session_factory) as session:
            context = self._context(session, inspection_id, actor)
            return create_meeting(session, context, body).id

    def engagement(self, actor: Actor, inspection_id: uuid.UUID, child_id: str) -> None:
        """An engagement record of a tracked child, confirmed in writing now."""
        body = EngagementWrite(child_agreed=True, confirmed_in_writing_at=datetime.now(LONDON))
        with session_scope(self.state.session_factory) as session:
            context = self._context(session, inspection_id, actor)
            current = session.get(Engagement, (inspection_id, child_id))
            based_on = current.version if current is not None else None  # as a careful client
            write_engagement(session, context, child_id, body, based_on)

    def team_member(self, inspection_id: uuid.UUID, actor: Actor) -> None:
        """Name ``actor`` to the inspection's team, as the operator would."""
        self.team_member_id(inspection_id, actor.client_id)

    def team_member_id(self, inspection_id: uuid.UUID, principal_id: uuid.UUID) -> None:
        """Name a principal (a system or a person) to the inspection's team."""
        with session_scope(self.state.session_factory) as session:
            context = self._context(session, inspection_id)
            inspections_team.add_team_member(session, context, principal_id)
