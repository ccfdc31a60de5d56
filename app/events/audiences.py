"""Every event a domain writes, with who hears of it and where they read it: one place to
check the audiences against the access policy (app/auth/policy.py, app/auth/roles.py).

Each function is called by the one service function of its use case, in its transaction.
Readers still hear only of inspections they may read (app.events.feed): an audience here
only narrows further. A resource URL is the path a recipient GETs to read what changed;
resource ids are UUIDs, numbers or a theme's keys, never a child id, file name or free text
(a resource whose natural id is a child's points at the inspection-level resource).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from app.events.outbox import Audience, emit

ORG_ADMIN = "org_admin"  # app.auth.roles.Role.ORG_ADMIN, which sits above this layer

# Everyone taking part reads these (selections, schedule, meetings, the inspection itself:
# scopes every participant holds), so every participant and the team's inspectors hear.
_PARTICIPANTS = Audience(inspectors=True, participants=True)
# Only inspectors read the inspectors' views (progress: evaluations of every agency).
_INSPECTORS = Audience(inspectors=True)


def _inspection(inspection_id: uuid.UUID) -> str:
    return f"/v1/inspections/{inspection_id}"


def list_pushed(
    session: Session, inspection_id: uuid.UUID, list_key: str, number: int, supplier: uuid.UUID
) -> None:
    """Inspectors read every list; the supplying agency reads its own versions (another
    agency's list is not its business, and may name its children)."""
    emit(
        session,
        "list.pushed",
        inspection_id=inspection_id,
        resource_type="list_version",
        resource_id=number,
        url=f"{_inspection(inspection_id)}/lists/{list_key}/versions/{number}",
        audience=Audience(organisations=(supplier,), inspectors=True),
    )


def selection_changed(session: Session, inspection_id: uuid.UUID, selection_key: str) -> None:
    """Every participant holds selections:read (agencies read the selection to know whose
    case files are asked of them); the URL names the selection, not its children."""
    emit(
        session,
        "selection.changed",
        inspection_id=inspection_id,
        resource_type="selection",
        resource_id=selection_key,
        url=f"{_inspection(inspection_id)}/selections/{selection_key}",
        audience=_PARTICIPANTS,
    )


def request_changed(
    session: Session,
    event_type: str,
    inspection_id: uuid.UUID,
    request_id: uuid.UUID,
    addressees: Iterable[uuid.UUID],
    *,
    inspectors: bool = True,
) -> None:
    """request.opened / request.withdrawn: an agency reads only the requests asked of it,
    inspectors on the team read all. So a police agency never hears of a health request.
    (``inspectors`` False: an agency joined a request the team already knows of.)"""
    emit(
        session,
        event_type,
        inspection_id=inspection_id,
        resource_type="request",
        resource_id=request_id,
        url=f"{_inspection(inspection_id)}/requests",
        audience=Audience(organisations=tuple(addressees), inspectors=inspectors),
    )


def document_received(
    session: Session,
    inspection_id: uuid.UUID,
    request_id: uuid.UUID,
    document_id: uuid.UUID,
    other_addressees: Iterable[uuid.UUID],
) -> None:
    """Inspectors read the document itself. The request's other addressees (a partnership
    request, which any one answers) may not read another agency's document, but see the
    request answered: they hear of it as the request, which they can read."""
    emit(
        session,
        "document.received",
        inspection_id=inspection_id,
        resource_type="document",
        resource_id=document_id,
        url=f"/v1/documents/{document_id}",
        audience=_INSPECTORS,
    )
    others = tuple(other_addressees)
    if others:
        emit(
            session,
            "document.received",
            inspection_id=inspection_id,
            resource_type="request",
            resource_id=request_id,
            url=f"{_inspection(inspection_id)}/requests",
            audience=Audience(organisations=others),
        )


def nil_return_received(
    session: Session,
    inspection_id: uuid.UUID,
    request_id: uuid.UUID,
    other_addressees: Iterable[uuid.UUID],
) -> None:
    """A nil return is read with its request (no path of its own): inspectors, and the
    request's other addressees, who see it answered. Never the reason (free text)."""
    emit(
        session,
        "nil_return.received",
        inspection_id=inspection_id,
        resource_type="request",
        resource_id=request_id,
        url=f"{_inspection(inspection_id)}/requests",
        audience=Audience(organisations=tuple(other_addressees), inspectors=True),
    )


def evaluation_saved(session: Session, inspection_id: uuid.UUID, evaluation_id: uuid.UUID) -> None:
    """Inspectors only: an evaluation's path names a child, so the event points at the
    inspectors' progress view of the inspection instead, which only inspectors read."""
    emit(
        session,
        "evaluation.saved",
        inspection_id=inspection_id,
        resource_type="evaluation",
        resource_id=evaluation_id,
        url=f"{_inspection(inspection_id)}/progress",
        audience=_INSPECTORS,
    )


def meeting_changed(session: Session, inspection_id: uuid.UUID, meeting_id: uuid.UUID) -> None:
    """Created, changed or deleted: every participant reads the meetings (meetings:read)."""
    emit(
        session,
        "meeting.changed",
        inspection_id=inspection_id,
        resource_type="meeting",
        resource_id=meeting_id,
        url=f"{_inspection(inspection_id)}/meetings",
        audience=_PARTICIPANTS,
    )


def milestone_moved(session: Session, inspection_id: uuid.UUID, milestone_key: str) -> None:
    """Every participant reads the schedule (schedule:read); its deadlines are theirs."""
    emit(
        session,
        "milestone.moved",
        inspection_id=inspection_id,
        resource_type="milestone",
        resource_id=milestone_key,
        url=f"{_inspection(inspection_id)}/schedule",
        audience=_PARTICIPANTS,
    )


def inspection_status_changed(session: Session, inspection_id: uuid.UUID) -> None:
    """Every participant reads the inspection (inspections:read)."""
    emit(
        session,
        "inspection.status_changed",
        inspection_id=inspection_id,
        resource_type="inspection",
        resource_id=inspection_id,
        url=_inspection(inspection_id),
        audience=_PARTICIPANTS,
    )


def credential_changed(session: Session, organisation_id: uuid.UUID, client_id: uuid.UUID) -> None:
    """A client created, rotated or disabled: the organisation's administrators only, who
    read its credential events; about no inspection."""
    emit(
        session,
        "credential.changed",
        inspection_id=None,
        resource_type="client",
        resource_id=client_id,
        url=f"/v1/organisations/{organisation_id}/credential-events",
        audience=Audience(organisations=(organisation_id,), required_role=ORG_ADMIN),
    )
