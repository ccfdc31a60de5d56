"""Inspectors' Annex B tracking records: one per inspector per tracked child, versioned."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.models import ApiClient
from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import Conflict, InvalidContent, ProblemItem
from app.core.preconditions import check_version
from app.inspections.context import InspectionContext
from app.organisations.models import Organisation
from app.selections.service import require_tracked_child
from app.themes.schema.theme import Theme
from app.tracking import repository
from app.tracking.models import TrackingRecord
from app.tracking.schemas import TrackingWrite


def _header_problems(theme: Theme, header: dict[str, Any]) -> Iterator[ProblemItem]:
    fields = {spec.key: spec for spec in theme.tracking.header_fields}
    for key, value in header.items():
        spec = fields.get(key)
        where = f"body.header.{key}"[:200]
        if spec is None:
            yield ProblemItem(field=where, code="unknown_field", message="no such header field")
        elif value is not None and spec.type == "integer" and not isinstance(value, int):
            yield ProblemItem(field=where, code="not_an_integer", message="give a whole number")
        elif value is not None and spec.type == "text" and not isinstance(value, str):
            yield ProblemItem(field=where, code="not_text", message="give text")


def _summary_problems(theme: Theme, body: TrackingWrite) -> Iterator[ProblemItem]:
    questions = {question.key for question in theme.tracking.questions}
    own = {criterion.number for criterion in theme.esn_criteria}
    framework = theme.framework_esn_range
    for key, summary in body.summaries.items():
        where = f"body.summaries.{key}"[:200]
        if key not in questions:
            yield ProblemItem(field=where, code="unknown_question", message="no such question")
            continue
        for index, number in enumerate(summary.esn):
            if number not in own and number not in framework:
                yield ProblemItem(
                    field=f"{where}.esn.{index}",
                    code="unknown_esn",
                    message=f"ESN {number} is neither the theme's nor the framework's "
                    f"({framework.first}-{framework.last})",
                    value=str(number),
                )


def check_body(theme: Theme, body: TrackingWrite) -> None:
    """422 naming each unknown header field, question and ESN number."""
    problems = [*_header_problems(theme, body.header), *_summary_problems(theme, body)]
    if problems:
        raise InvalidContent(
            "The tracking record does not fit the theme's Annex B.",
            code="invalid_tracking_record",
            errors=problems,
        )


def save_record(
    session: Session,
    inspection_id: uuid.UUID,
    child_id: str,
    principal: Principal,
    body: TrackingWrite,
    if_match: int | None,
) -> TrackingRecord:
    """The caller's next version: the record is keyed by the caller, never anyone else's."""
    current = repository.latest_version(session, inspection_id, child_id, principal.client_id)
    check_version(current or 0, if_match, "caller's tracking record")
    record = TrackingRecord(
        inspection_id=inspection_id,
        child_id=child_id,
        inspector_client_id=principal.client_id,
        organisation_id=principal.organisation_id,
        version=(current or 0) + 1,
        header=dict(body.header),
        summaries={key: value.model_dump() for key, value in body.summaries.items()},
        created_at=utcnow(),
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "Another version was stored at the same moment; read it and retry.",
            code="concurrent_write",
        ) from None
    return record


def write_record(
    session: Session,
    context: InspectionContext,
    child_id: str,
    body: TrackingWrite,
    if_match: int | None,
) -> TrackingRecord:
    """The calling inspector's next Annex B record of a tracked child, checked and audited."""
    inspection, principal = context.inspection, context.actor
    require_tracked_child(session, inspection.id, child_id)
    check_body(context.theme, body)
    record = save_record(session, inspection.id, child_id, principal, body, if_match)
    audit.record(
        session,
        principal,
        "tracking.written",
        "tracking_record",
        record.id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"version": record.version},
    )
    return record


def read_records(
    session: Session, context: InspectionContext, child_id: str
) -> list[tuple[TrackingRecord, ApiClient, Organisation]]:
    """Every inspector's current record of a tracked child, with its author; audited."""
    inspection = context.inspection
    require_tracked_child(session, inspection.id, child_id)
    rows = repository.current_records(session, inspection.id, child_id)
    audit.record(
        session,
        context.principal,
        "tracking.listed",
        "child",
        child_id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"records": [str(record.id) for record, _, _ in rows]},
    )
    return rows
