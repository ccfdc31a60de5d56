"""What is asked of whom by when, derived from the theme and the data; no HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.core.clock import Clock
from app.core.errors import Forbidden, InvalidContent, NotFound, ProblemItem
from app.deadlines.service import due_at_for
from app.document_requests import repository
from app.document_requests.models import DocumentRequest, RequestKind
from app.inspections import repository as inspections
from app.inspections.context import Change, InspectionContext
from app.inspections.models import Inspection
from app.inspections.service import may_see_agency_object
from app.organisations import repository as organisations
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation
from app.selections.service import tracked_children
from app.themes.schema.theme import Theme

REQUEST_NAMESPACE = uuid.UUID("6f1c2b4e-8a0d-4c7e-9b39-2d6f0a51c3e7")


@dataclass(frozen=True)
class Wanted:
    kind: RequestKind
    organisation: Organisation
    child_id: str | None
    item_number: str | None
    title: str
    categories: list[str]
    milestone_key: str | None

    def id_in(self, inspection_id: uuid.UUID) -> uuid.UUID:
        """The same request of the same inspection always gets the same id; the same agency
        asked the same thing in another inspection gets another."""
        parts = [
            str(inspection_id),
            str(self.organisation.id),
            self.kind.value,
            self.child_id or "",
            self.item_number or "",
        ]
        return uuid.uuid5(REQUEST_NAMESPACE, "|".join(parts))


def _milestone_for(theme: Theme, satisfied_kind: str) -> str | None:
    milestone = theme.milestone_satisfied_by(satisfied_kind)
    return milestone.key if milestone else None


def _case_file_requests(
    theme: Theme, agencies: Sequence[Organisation], tracked: Sequence[str]
) -> list[Wanted]:
    milestone = _milestone_for(theme, "documents_for_tracked_children")
    wanted = []
    for child in tracked:
        for organisation in agencies:
            categories = [
                category.key
                for category in theme.case_file_documents
                if organisation.kind.value in category.provided_by
            ]
            if categories:
                title = f"Case-file documents for child {child}"
                wanted.append(
                    Wanted(
                        RequestKind.CASE_FILE,
                        organisation,
                        child,
                        None,
                        title,
                        categories,
                        milestone,
                    )
                )
    return wanted


def _information_requests(theme: Theme, agencies: Sequence[Organisation]) -> list[Wanted]:
    milestone = _milestone_for(theme, "information_items_provided")
    wanted = []
    for section in theme.information_sections:
        for organisation in agencies:
            if organisation.kind.value not in section.addressed_to:
                continue
            for item in section.items:
                wanted.append(
                    Wanted(
                        RequestKind.INFORMATION_ITEM,
                        organisation,
                        None,
                        item.number,
                        f"{item.number} {item.text}",
                        [],
                        milestone,
                    )
                )
    return wanted


def rederive_on_change(session: Session, context: InspectionContext, change: Change) -> None:
    """Listens to every change the derived requests depend on (the tracked children, the
    participants, the schedule for their due times), in that change's transaction. Reads
    never write them."""
    refresh_requests(session, context.inspection, context.theme, context.clock)


def refresh_requests(session: Session, inspection: Inspection, theme: Theme, clock: Clock) -> None:
    """Bring the derived requests in line with the tracked children and the participants."""
    agencies = repository.agencies_taking_part(session, inspection.id)
    wanted = _case_file_requests(theme, agencies, tracked_children(session, inspection.id))
    wanted += _information_requests(theme, agencies)
    existing = repository.derived_requests(session, inspection.id)
    due = {
        key: due_at_for(session, inspection, theme, key, clock)
        for key in {w.milestone_key for w in wanted if w.milestone_key}
    }
    for request in wanted:
        request_id = request.id_in(inspection.id)
        row = existing.pop(request_id, None)
        if row is None:
            row = DocumentRequest(id=request_id, inspection_id=inspection.id)
            session.add(row)
        row.kind, row.addressee_organisation_id = request.kind, request.organisation.id
        row.child_id, row.item_number = request.child_id, request.item_number
        row.title, row.categories = request.title, request.categories
        row.milestone_key = request.milestone_key
        row.due_at = due.get(request.milestone_key) if request.milestone_key else None
        row.withdrawn = False
    for stale in existing.values():
        stale.withdrawn = True
    session.flush()


def visible_requests(
    session: Session, inspection: Inspection, principal: Principal
) -> Sequence[DocumentRequest]:
    """Every request of the inspection; an agency's only those asked of it."""
    addressee_id = principal.organisation_id if principal.is_agency else None
    return repository.requests_of(session, inspection.id, addressee_id)


def create_cqc_request(
    session: Session,
    context: InspectionContext,
    addressee_id: uuid.UUID,
    title: str,
    child_id: str | None,
    due_at: datetime,
) -> DocumentRequest:
    """CQC asks a health agency taking part for documents; audited."""
    inspection, principal = context.inspection, context.actor
    if principal.organisation_kind is not OrganisationKind.CQC:
        raise Forbidden("Only CQC inspectors make these requests.", code="not_cqc")
    addressee = organisations.organisation(session, addressee_id)
    participant = inspections.participant(session, inspection.id, addressee_id)
    if addressee is None or addressee.kind is not OrganisationKind.HEALTH or participant is None:
        message = "addressee must be a health agency taking part in the inspection"
        raise InvalidContent(
            message,
            code="not_a_health_participant",
            errors=[ProblemItem(field="body.organisation_id", code="invalid", message=message)],
        )
    request = DocumentRequest(
        id=uuid.uuid4(),
        inspection_id=inspection.id,
        kind=RequestKind.CQC,
        addressee_organisation_id=addressee_id,
        child_id=child_id,
        title=title,
        categories=[],
        milestone_key=None,
        due_at=due_at,
        created_by_client_id=principal.client_id,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        principal,
        "request.created",
        "request",
        request.id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"organisation_id": str(addressee_id)},
    )
    return request


def get_request(session: Session, principal: Principal, request_id: uuid.UUID) -> DocumentRequest:
    """A request the caller may see: inspectors of its inspection, or the agency it asks."""
    request = repository.request(session, request_id)
    if request is None or not may_see_agency_object(
        session, principal, request.inspection_id, request.addressee_organisation_id
    ):
        raise NotFound("No such request.")
    return request


def requests_about_child(
    session: Session, inspection_id: uuid.UUID, child_id: str
) -> Sequence[DocumentRequest]:
    """Every request naming the child (case-file requests, and CQC's or the lead's about it)."""
    return repository.requests_about_child(session, inspection_id, child_id)
