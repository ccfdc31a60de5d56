"""Requests someone makes: the lead inspector's, of any agency taking part (a clarification, a
missing plan, or one of the theme's items asked only on the lead's request), and CQC's, of
health agencies. Derived requests are ``app.document_requests.service``'s."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.core.errors import Forbidden, InvalidContent, ProblemItem
from app.document_requests import repository
from app.document_requests.models import DocumentRequest, RequestKind
from app.events import audiences as events
from app.inspections import repository as inspections
from app.inspections.context import InspectionContext
from app.organisations import repository as organisations
from app.organisations.kinds import AGENCY_KINDS, OrganisationKind
from app.selections.service import tracked_children
from app.themes.schema.document_requests import InformationItem, InformationSection
from app.themes.schema.theme import Theme


@dataclass(frozen=True)
class Asked:
    """What the caller asks, of whom, by when (``item_number``: a theme item asked on
    request, whose text is its title unless one is given)."""

    organisation_ids: Sequence[uuid.UUID]
    title: str | None
    detail: str | None
    child_id: str | None
    item_number: str | None
    due_at: datetime


def _invalid(field: str, code: str, message: str) -> InvalidContent:
    return InvalidContent(
        message, code=code, errors=[ProblemItem(field=field, code="invalid", message=message)]
    )


def _on_request_item(theme: Theme, number: str) -> tuple[InformationSection, InformationItem]:
    for section in theme.information_sections:
        for item in section.items:
            if item.number == number:
                if not item.on_request:
                    raise _invalid(
                        "body.item_number",
                        "not_on_request",
                        f"item {number} is asked of every addressee already, not on request",
                    )
                return section, item
    raise _invalid("body.item_number", "unknown_item", f"the theme has no item {number}")


def _check_addressees(
    session: Session,
    context: InspectionContext,
    asked: Asked,
    kinds: frozenset[str],
    code: str = "not_an_addressee",
) -> None:
    """Every addressee an agency of one of ``kinds`` taking part in the inspection (422)."""
    for organisation_id in asked.organisation_ids:
        organisation = organisations.organisation(session, organisation_id)
        taking_part = inspections.participant(session, context.inspection.id, organisation_id)
        if organisation is None or taking_part is None or organisation.kind.value not in kinds:
            raise _invalid(
                "body.organisation_ids",
                code,
                f"{organisation_id} is not one of the agencies taking part that this may be "
                f"asked of ({', '.join(sorted(kinds))})",
            )


def _lead_request(
    session: Session, context: InspectionContext, asked: Asked
) -> tuple[RequestKind, str, str | None]:
    """The lead's request: of any agency taking part, or an on-request item of the agencies
    its section names; the child one the lead tracks. Its kind, title and milestone."""
    _check_child(session, context, asked)
    if asked.item_number is None:
        if asked.title is None:
            raise _invalid("body.title", "missing", "a request says what it asks for")
        _check_addressees(session, context, asked, frozenset(k.value for k in AGENCY_KINDS))
        return RequestKind.LEAD, asked.title, None
    section, item = _on_request_item(context.theme, asked.item_number)
    _check_addressees(session, context, asked, frozenset(section.addressed_to))
    milestone = context.theme.milestone_satisfied_by("information_items_provided")
    title = asked.title or f"{item.number} {item.text}"
    return RequestKind.INFORMATION_ITEM, title, milestone.key if milestone else None


def _check_child(session: Session, context: InspectionContext, asked: Asked) -> None:
    """A request about a child is about a tracked one: no inspector asks about a child the
    lead has not chosen (its documents would then be collected, zipped and shown)."""
    if asked.child_id is not None and asked.child_id not in tracked_children(
        session, context.inspection.id
    ):
        raise _invalid("body.child_id", "not_tracked", "the child is not a tracked child")


def _cqc_request(
    session: Session, context: InspectionContext, asked: Asked
) -> tuple[RequestKind, str, str | None]:
    _check_child(session, context, asked)
    if asked.item_number is not None:
        raise Forbidden("Only the lead inspector asks for the theme's items.", code="not_lead")
    if asked.title is None:
        raise _invalid("body.title", "missing", "a request says what it asks for")
    health = frozenset({OrganisationKind.HEALTH.value})
    _check_addressees(session, context, asked, health, code="not_a_health_participant")
    return RequestKind.CQC, asked.title, None


def create_request(session: Session, context: InspectionContext, asked: Asked) -> DocumentRequest:
    """The lead inspector asks agencies taking part for something (or for an item the theme
    asks only on the lead's request, which then counts like the derived items); a CQC
    inspector on the team asks health agencies. Anyone else on the team: 403. Several
    addressees make one request that any of them answers. Audited (not the title or detail:
    they may name a child, and the trail outlives a purge)."""
    principal = context.actor
    if context.is_lead:
        kind, title, milestone = _lead_request(session, context, asked)
    elif principal.organisation_kind is OrganisationKind.CQC:
        kind, title, milestone = _cqc_request(session, context, asked)
    else:
        raise Forbidden(
            "Only the lead inspector, and CQC's inspectors of health agencies, make requests.",
            code="not_lead_or_cqc",
        )
    request = DocumentRequest(
        id=uuid.uuid4(),
        inspection_id=context.inspection.id,
        kind=kind,
        addressee_organisation_id=asked.organisation_ids[0],
        child_id=asked.child_id,
        item_number=asked.item_number,
        title=title,
        detail=asked.detail,
        categories=[],
        milestone_key=milestone,
        due_at=asked.due_at,
        created_by_client_id=principal.client_id,
    )
    session.add(request)
    session.flush()
    repository.set_addressees(session, request, list(dict.fromkeys(asked.organisation_ids)), {})
    session.flush()
    audit.record(
        session,
        principal,
        "request.created",
        "request",
        request.id,
        inspection_id=context.inspection.id,
        child_id=asked.child_id,
        detail={
            "kind": kind.value,
            "item_number": asked.item_number,
            "organisation_ids": [str(org) for org in dict.fromkeys(asked.organisation_ids)],
        },
    )
    events.request_changed(
        session, "request.opened", context.inspection.id, request.id, asked.organisation_ids
    )
    return request
