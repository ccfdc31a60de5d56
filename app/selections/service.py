"""The lead inspector's selections, checked against the lists and the theme's scope."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.core.database import utcnow
from app.core.errors import InvalidContent, NotFound, ProblemItem
from app.events import audiences as events
from app.inspections.context import Change, InspectionContext
from app.selections import repository
from app.selections.checks import Finding, find_problems
from app.selections.models import Selection
from app.themes.schema.selections import SelectionSpec
from app.themes.schema.theme import Theme


def selection_spec(theme: Theme, key: str) -> SelectionSpec:
    spec = theme.selections.get(key)
    if spec is None:
        raise NotFound(f"The theme '{theme.key}' has no '{key}' selection.")
    return spec


def tracked_children(session: Session, inspection_id: uuid.UUID) -> list[str]:
    """The children the lead tracks: what case files, evaluations and engagement are about."""
    selection = repository.selection(session, inspection_id, "tracked")
    return list(selection.child_ids) if selection else []


def require_tracked_child(session: Session, inspection_id: uuid.UUID, child_id: str) -> None:
    """Evaluations, tracking and engagement exist only for the children the lead tracks."""
    if child_id not in tracked_children(session, inspection_id):
        raise NotFound("No such child among the tracked children.")


@dataclass(frozen=True)
class SelectionView:
    """A selection as its reader may see it: the lead's reasons are for inspectors only (a
    reason may speak of a child from what other agencies supplied)."""

    key: str
    child_ids: list[str]
    version: int
    first_made_at: datetime
    changed_at: datetime
    changed_by_client_id: uuid.UUID
    override_reason: str | None
    overrides: list[dict[str, Any]]


def _view(context: InspectionContext, selection: Selection) -> SelectionView:
    inspector = context.principal is not None and context.principal.is_inspector
    return SelectionView(
        key=selection.key,
        child_ids=list(selection.child_ids),
        version=selection.version,
        first_made_at=selection.first_made_at,
        changed_at=selection.changed_at,
        changed_by_client_id=selection.changed_by_client_id,
        override_reason=selection.override_reason if inspector else None,
        overrides=list(selection.overrides or []) if inspector else [],
    )


def _departure(spec: SelectionSpec, finding: Finding) -> dict[str, Any]:
    """A judgement rule broken, as the lead is shown it and as the selection records it."""
    return {
        "rule": finding.rule,
        "code": finding.code,
        "message": finding.message,
        "child_ids": list(finding.child_ids),
        "paragraphs": list(spec.rules.held(finding.rule).paragraphs),
    }


def _errors(finding: Finding) -> list[ProblemItem]:
    if not finding.places:
        return [ProblemItem(field="body.child_ids", code=finding.code, message=finding.message)]
    return [
        ProblemItem(
            field=f"body.child_ids.{index}",
            code=finding.code,
            message=finding.message,
            value=child[:100],
        )
        for index, child in finding.places
    ]


def check_selection(
    session: Session,
    context: InspectionContext,
    spec: SelectionSpec,
    child_ids: Sequence[str],
    override_reason: str | None,
) -> list[dict[str, Any]]:
    """The judgement rules the choice departs from, once the lead has given a reason for them.

    422 ``invalid_selection`` names each child breaking a rule no reason lifts (and lists any
    judgement rules broken too, in ``warnings``); 422 ``needs_override`` lists in ``warnings``
    the judgement rules broken when no reason is given.
    """
    found = find_problems(session, context.inspection.id, context.theme, spec, child_ids)
    hard = [f for f in found if spec.rules.held(f.rule).severity == "error"]
    judged = [_departure(spec, f) for f in found if f not in hard]
    if hard:
        raise InvalidContent(
            "The selection breaks rules that protect the data; no reason overrides them.",
            code="invalid_selection",
            errors=[item for finding in hard for item in _errors(finding)],
            extra={"warnings": judged} if judged else None,
        )
    if judged and override_reason is None:
        raise InvalidContent(
            "The selection departs from the guidance where the lead may decide: confirm it "
            "with an override_reason, or change it.",
            code="needs_override",
            extra={"warnings": judged},
        )
    return judged


def choose_children(
    session: Session,
    context: InspectionContext,
    key: str,
    child_ids: Sequence[str],
    override_reason: str | None = None,
) -> SelectionView:
    """The lead's choice of children for a selection: checked against the theme's rules and
    the lists (a departure the theme leaves to judgement taken only with a reason), stored,
    the document requests re-derived, audited."""
    spec = selection_spec(context.theme, key)
    overrides = check_selection(session, context, spec, child_ids, override_reason)
    selection = record_selection(
        session, context, key, child_ids, override_reason=override_reason, overrides=overrides
    )
    return _view(context, selection)


def record_selection(
    session: Session,
    context: InspectionContext,
    key: str,
    child_ids: Sequence[str],
    *,
    override_reason: str | None = None,
    overrides: Sequence[Mapping[str, Any]] = (),
) -> Selection:
    """Store a selection already checked, with everything that follows from it."""
    inspection = context.inspection
    selection = repository.selection(session, inspection.id, key)
    previous = list(selection.child_ids) if selection else []
    now = utcnow()
    if selection is None:
        selection = Selection(inspection_id=inspection.id, key=key, first_made_at=now, version=0)
        session.add(selection)
    selection.child_ids = list(child_ids)
    selection.version += 1
    selection.changed_at, selection.changed_by_client_id = now, context.actor.client_id
    selection.override_reason = override_reason
    selection.overrides = [dict(departure) for departure in overrides]
    session.flush()
    context.changed(session, Change.TRACKED_CHILDREN)  # case files are asked for tracked children
    audit.record(
        session,
        context.principal,
        "selection.changed",
        "selection",
        key,
        inspection_id=inspection.id,
        detail=_audit_detail(selection, previous),
    )
    events.selection_changed(session, inspection.id, key)
    return selection


def _audit_detail(selection: Selection, previous: Sequence[str]) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "version": selection.version,
        "added": sorted(set(selection.child_ids) - set(previous)),
        "removed": sorted(set(previous) - set(selection.child_ids)),
    }
    if selection.override_reason is not None:
        # The reason is kept with the selection and purged with it; the audit trail outlives a
        # purge and cannot be edited, and a reason may well speak of a child, so it records
        # only that a reason was given, how long, and the rules it overrode.
        detail["override_reason_length"] = len(selection.override_reason)
        detail["overridden_rules"] = sorted({o["rule"] for o in selection.overrides})
    return detail


def read_selection(session: Session, context: InspectionContext, key: str) -> SelectionView:
    selection_spec(context.theme, key)
    selection = repository.selection(session, context.inspection.id, key)
    if selection is None:
        raise NotFound(f"No '{key}' selection has been made yet.")
    return _view(context, selection)
