"""What satisfies a milestone, looked up from the data each time the schedule is read.

Each ``satisfied_by`` kind of a theme file maps to one check here. A check answers when the
milestone's condition first became true (and what made it so), or None while it is not.
Kinds whose data arrives with later capabilities answer None until they are wired in here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.child_lists import repository
from app.document_requests.models import RequestKind
from app.documents.service import answer_times
from app.engagement.repository import confirmations
from app.evaluations.models import JOINT
from app.evaluations.repository import first_evaluations
from app.inspections.models import Inspection
from app.inspections.repository import participants
from app.meetings.repository import recorded
from app.schedule.repository import first_cqc_request
from app.selections import repository as selections
from app.selections.service import tracked_children
from app.themes.schema.schedule import EvaluationsForTrackedChildren, SatisfiedBy
from app.themes.schema.theme import Theme


@dataclass(frozen=True)
class Evidence:
    met_at: datetime
    description: str


@dataclass(frozen=True)
class CheckContext:
    session: Session
    inspection: Inspection
    theme: Theme
    due_at: datetime
    now: datetime


Check = Callable[[CheckContext, SatisfiedBy], Evidence | None]


def _fieldwork_started(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    # Nothing is submitted for a date like the start of fieldwork: it is met when it arrives.
    if context.now >= context.due_at:
        return Evidence(context.due_at, "the date has arrived")
    return None


def _not_yet_recorded(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    return None


def _lists_pushed(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    """Met when every list has its contributions: from each organisation taking part whose
    kind the theme names responsible for the list (an organisation with nothing to add pushes
    an empty list, which says so), at the time the last of them first pushed. A list compiled
    jointly is not in while one of its compilers has sent nothing. A list whose responsible
    kinds no participant has (which a theme should not ask for) is in at its first push."""
    wanted = condition.lists_used()
    pushed = repository.first_pushes(context.session, context.inspection.id)
    inspection_id = context.inspection.id
    members = [org for _, org in participants(context.session, [inspection_id])[inspection_id]]
    times = []
    for key in wanted:
        spec = context.theme.get_list(key)
        kinds = set(spec.responsible) if spec is not None else set()
        expected = {org.id for org in members if org.kind.value in kinds}
        by_supplier = pushed.get(key, {})
        if not by_supplier or any(org not in by_supplier for org in expected):
            return None
        times += [by_supplier[org] for org in expected] or [min(by_supplier.values())]
    return Evidence(max(times), f"lists pushed: {', '.join(wanted)}")


def _selection_made(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    key = condition.selection_used()
    selection = key and selections.selection(context.session, context.inspection.id, key)
    if not selection:
        return None
    return Evidence(selection.first_made_at, f"{key} selection made")


def _every_tracked_child(
    context: CheckContext, times: dict[str, datetime], what: str
) -> Evidence | None:
    """Met when each tracked child has ``what``; at the time the last of them got it."""
    children = tracked_children(context.session, context.inspection.id)
    if not children or any(child not in times for child in children):
        return None
    return Evidence(max(times[c] for c in children), f"{what} for {len(children)} tracked children")


def _evaluations(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    assert isinstance(condition, EvaluationsForTrackedChildren)
    joint = condition.evaluation == "joint"
    # A later version does not move the milestone: the first version met it.
    times = first_evaluations(context.session, context.inspection.id, JOINT if joint else None)
    return _every_tracked_child(
        context, times, "joint evaluations" if joint else "single-agency evaluations"
    )


def _engagement(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    times = confirmations(context.session, context.inspection.id)
    return _every_tracked_child(context, times, "arrangements confirmed in writing")


def _meetings(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    count, first = recorded(context.session, context.inspection.id)
    if first is None:
        return None
    return Evidence(first, f"{count} meeting(s) recorded")


def _all_answered(context: CheckContext, kind: RequestKind, what: str) -> Evidence | None:
    """Met when every live request of the kind is answered, each kind it covers by a
    document or a nil return ("none held" answers as an upload does)."""
    times = answer_times(context.session, context.inspection.id, kind)
    if times is None:
        return None
    moments = [moment for moment in times.answered.values() if moment is not None]
    if len(moments) < len(times.answered):
        return None
    nil = f", {times.nil_returned} of them 'none held'" if times.nil_returned else ""
    return Evidence(max(moments), f"{len(moments)} {what} answered{nil}")


def _case_files(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    return _all_answered(context, RequestKind.CASE_FILE, "case-file requests")


def _information_items(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    return _all_answered(context, RequestKind.INFORMATION_ITEM, "information requests")


def _cqc_request(context: CheckContext, condition: SatisfiedBy) -> Evidence | None:
    first = first_cqc_request(context.session, context.inspection.id)
    return Evidence(first, "CQC asked a health agency for documents") if first else None


CHECKS: dict[str, Check] = {
    "none": _fieldwork_started,
    "lists_pushed": _lists_pushed,
    "selection_made": _selection_made,
    "evaluations_for_tracked_children": _evaluations,
    "engagement_for_tracked_children": _engagement,
    "meetings_recorded": _meetings,
    "documents_for_tracked_children": _case_files,
    "information_items_provided": _information_items,
    "cqc_requests_made": _cqc_request,
}


def check_for(kind: str) -> Check:
    return CHECKS.get(kind, _not_yet_recorded)
