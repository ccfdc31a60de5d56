"""What is asked of whom by when, derived from the theme and the data; no HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.clock import Clock
from app.core.errors import NotFound
from app.deadlines.service import due_at_for
from app.document_requests import repository
from app.document_requests.models import DocumentRequest, RequestKind
from app.events import audiences as events
from app.inspections.context import Change, InspectionContext
from app.inspections.models import Inspection
from app.inspections.service import may_see_agency_object
from app.organisations.models import Organisation
from app.selections.service import tracked_children
from app.themes.schema.document_requests import InformationSection
from app.themes.schema.theme import Theme

REQUEST_NAMESPACE = uuid.UUID("6f1c2b4e-8a0d-4c7e-9b39-2d6f0a51c3e7")


@dataclass(frozen=True)
class Wanted:
    kind: RequestKind
    organisations: tuple[Organisation, ...]  # asked of; any one answers for all
    child_id: str | None
    item_number: str | None
    title: str
    categories: list[str]
    milestone_key: str | None

    def id_in(self, inspection_id: uuid.UUID) -> uuid.UUID:
        """The same request of the same inspection always gets the same id; the same agency
        asked the same thing in another inspection gets another. A partnership item's id is
        the one its first addressee's own request had (the council's, before items asked of
        the partnership became one request), so what it had sent stays with it."""
        parts = [
            str(inspection_id),
            str(self.organisations[0].id),
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
                        (organisation,),
                        child,
                        None,
                        title,
                        categories,
                        milestone,
                    )
                )
    return wanted


def _addressees(
    section: InformationSection, agencies: Sequence[Organisation]
) -> list[Organisation]:
    """The agencies taking part that a section is asked of, in the section's order of kinds
    (the council first where it is named), then by name."""
    order: dict[str, int] = {kind: index for index, kind in enumerate(section.addressed_to)}
    asked = [org for org in agencies if org.kind.value in order]
    return sorted(asked, key=lambda org: (order[org.kind.value], org.name))


def _information_requests(theme: Theme, agencies: Sequence[Organisation]) -> list[Wanted]:
    """One request per item and agency; one per item for the whole partnership where the
    section is asked of several kinds. Items asked only on the lead's request are not
    derived."""
    milestone = _milestone_for(theme, "information_items_provided")
    wanted = []
    for section in theme.information_sections:
        asked = _addressees(section, agencies)
        groups = [tuple(asked)] if section.partnership else [(org,) for org in asked]
        for item in section.items:
            if item.on_request:
                continue
            for group in groups:
                if not group:
                    continue
                wanted.append(
                    Wanted(
                        RequestKind.INFORMATION_ITEM,
                        group,
                        None,
                        item.number,
                        f"{item.number} {item.text}",
                        [],
                        milestone,
                    )
                )
    return wanted


def _context_note_request(
    theme: Theme, inspection: Inspection, agencies: Sequence[Organisation]
) -> list[Wanted]:
    """The council's note on the area's context, where the theme invites one: optional, so
    it belongs to no milestone and is never owed."""
    council = [org for org in agencies if org.id == inspection.local_authority_id]
    if theme.context_note is None or not council:
        return []
    note = theme.context_note
    title = f"{note.title} ({note.reference})"
    return [Wanted(RequestKind.CONTEXT_NOTE, (council[0],), None, None, title, [], None)]


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
    wanted += _context_note_request(theme, inspection, agencies)
    existing = repository.derived_requests(session, inspection.id)
    addressees = repository.addressee_rows(session, inspection.id)
    due = {
        key: due_at_for(session, inspection, theme, key, clock)
        for key in {w.milestone_key for w in wanted if w.milestone_key}
    }
    for request in wanted:
        request_id = request.id_in(inspection.id)
        row = existing.pop(request_id, None)
        opened = row is None or row.withdrawn
        if row is None:
            row = DocumentRequest(id=request_id, inspection_id=inspection.id)
            session.add(row)
        row.kind = request.kind
        organisation_ids = [organisation.id for organisation in request.organisations]
        asked_before = set(addressees.get(request_id, {}))
        repository.set_addressees(session, row, organisation_ids, addressees.get(request_id, {}))
        row.child_id, row.item_number = request.child_id, request.item_number
        row.title, row.categories = request.title, request.categories
        row.milestone_key = request.milestone_key
        row.due_at = due.get(request.milestone_key) if request.milestone_key else None
        row.withdrawn = False
        _tell_opened(session, row, organisation_ids, set() if opened else asked_before)
    for stale in existing.values():
        if not stale.withdrawn:
            asked_of = addressees.get(stale.id, {}).keys()
            events.request_changed(session, "request.withdrawn", inspection.id, stale.id, asked_of)
        stale.withdrawn = True
    session.flush()


def _tell_opened(
    session: Session, row: DocumentRequest, asked_of: list[uuid.UUID], told: set[uuid.UUID]
) -> None:
    """request.opened to whoever is newly asked: all and the team for a new request (or one
    back from withdrawn), only the joining agency for a partnership request it now shares."""
    newly = [organisation for organisation in asked_of if organisation not in told]
    if newly:
        events.request_changed(
            session, "request.opened", row.inspection_id, row.id, newly, inspectors=not told
        )


def visible_requests(
    session: Session, inspection: Inspection, principal: Principal
) -> Sequence[DocumentRequest]:
    """Every request of the inspection; an agency's only those asked of it."""
    addressee_id = principal.organisation_id if principal.is_agency else None
    return repository.requests_of(session, inspection.id, addressee_id)


def addressees_of(
    session: Session, request_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Every organisation each request is asked of, the first addressee first."""
    return repository.addressees_of(session, request_ids)


def other_addressees(
    session: Session, request_id: uuid.UUID, answerer: uuid.UUID
) -> list[uuid.UUID]:
    """The organisations a request is also asked of besides the one answering (partnership
    requests, which any one answers): they see it answered."""
    asked_of = repository.addressees_of(session, [request_id])[request_id]
    return [organisation for organisation in asked_of if organisation != answerer]


def get_request(session: Session, principal: Principal, request_id: uuid.UUID) -> DocumentRequest:
    """A request the caller may see: inspectors of its inspection, or the agency it asks."""
    request = repository.request(session, request_id)
    if request is None:
        raise NotFound("No such request.")
    owner = principal.organisation_id
    if principal.is_agency and not repository.is_addressed_to(session, request.id, owner):
        raise NotFound("No such request.")
    if not may_see_agency_object(session, principal, request.inspection_id, owner):
        raise NotFound("No such request.")
    return request


def requests_about_child(
    session: Session, inspection_id: uuid.UUID, child_id: str
) -> Sequence[DocumentRequest]:
    """Every request naming the child (case-file requests, and CQC's or the lead's about it)."""
    return repository.requests_about_child(session, inspection_id, child_id)
