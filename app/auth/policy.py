"""The access policy: one entry per operation, and nothing is reachable without one.

Each entry says which scope the caller's roles must grant (else 403) and, for operations on
an inspection, how the caller must relate to it: an inspection the caller does not take part
in answers 404, exactly as if it did not exist (DESIGN.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.auth.roles import Scope


class Relation(StrEnum):
    """How the caller must stand to the inspection named in the path."""

    PARTICIPANT = "participant"  # operator, or an organisation taking part; else 404
    LEAD = "lead"  # the named lead inspector; other participants 403
    LEAD_OR_OPERATOR = "lead_or_operator"


@dataclass(frozen=True)
class Rule:
    scope: Scope
    relation: Relation | None = None
    summary: str = ""
    # A caller whose roles lack the scope is answered 404, not 403: for records whose very
    # existence must not be disclosed to them (DESIGN.md section 4).
    conceal: bool = False


POLICY: dict[str, Rule] = {
    # auth
    "read_me": Rule(Scope.THEMES_READ, summary="any valid token"),
    # organisations and clients: the operator only
    "create_organisation": Rule(Scope.ORGANISATIONS_MANAGE),
    "list_organisations": Rule(Scope.ORGANISATIONS_MANAGE),
    "get_organisation": Rule(Scope.ORGANISATIONS_MANAGE),
    "create_client": Rule(Scope.ORGANISATIONS_MANAGE),
    "list_clients": Rule(Scope.ORGANISATIONS_MANAGE),
    "disable_client": Rule(Scope.ORGANISATIONS_MANAGE),
    "rotate_client_secret": Rule(Scope.ORGANISATIONS_MANAGE),
    # inspections
    "create_inspection": Rule(Scope.INSPECTIONS_MANAGE),
    "list_inspections": Rule(Scope.INSPECTIONS_READ, summary="filtered to participation"),
    "get_inspection": Rule(Scope.INSPECTIONS_READ, Relation.PARTICIPANT),
    "add_participant": Rule(Scope.INSPECTIONS_MANAGE, Relation.PARTICIPANT),
    "remove_participant": Rule(Scope.INSPECTIONS_MANAGE, Relation.PARTICIPANT),
    "set_lead_inspector": Rule(Scope.INSPECTIONS_MANAGE, Relation.PARTICIPANT),
    "update_inspection_status": Rule(Scope.INSPECTIONS_LEAD, Relation.LEAD_OR_OPERATOR),
    # themes and schedule
    "list_themes": Rule(Scope.THEMES_READ),
    "get_theme": Rule(Scope.THEMES_READ),
    "get_schedule": Rule(Scope.SCHEDULE_READ, Relation.PARTICIPANT),
    "get_schedule_calendar": Rule(Scope.SCHEDULE_READ, Relation.PARTICIPANT),
    "move_milestone": Rule(Scope.SCHEDULE_WRITE, Relation.LEAD),
    # selections
    "put_selection": Rule(Scope.SELECTIONS_WRITE, Relation.LEAD),
    "get_selection": Rule(Scope.SELECTIONS_READ, Relation.PARTICIPANT),
    # child lists
    "push_list": Rule(Scope.LISTS_WRITE, Relation.PARTICIPANT),
    "read_list": Rule(Scope.LISTS_READ, Relation.PARTICIPANT),
    "list_versions": Rule(Scope.LIST_VERSIONS_READ, Relation.PARTICIPANT),
    "get_list_template": Rule(Scope.THEMES_READ, Relation.PARTICIPANT),
    "get_child": Rule(Scope.CHILDREN_READ, Relation.PARTICIPANT),
    # requests, documents, submissions (requests and documents are found through the
    # caller's visibility in their services: another organisation's answers 404)
    "list_requests": Rule(Scope.REQUESTS_READ, Relation.PARTICIPANT),
    "create_cqc_request": Rule(Scope.CQC_REQUESTS_WRITE, Relation.PARTICIPANT),
    "list_submissions": Rule(Scope.SUBMISSIONS_READ, Relation.PARTICIPANT),
    "upload_document": Rule(Scope.DOCUMENTS_WRITE),
    "create_upload": Rule(Scope.DOCUMENTS_WRITE),
    "upload_part": Rule(Scope.DOCUMENTS_WRITE),
    "complete_upload": Rule(Scope.DOCUMENTS_WRITE),
    "abort_upload": Rule(Scope.DOCUMENTS_WRITE),
    "get_document": Rule(Scope.DOCUMENTS_READ),
    "download_document": Rule(Scope.DOCUMENTS_READ),
    # audit
    "list_inspection_audit": Rule(Scope.AUDIT_READ, Relation.LEAD_OR_OPERATOR),
    "verify_audit_chain": Rule(Scope.AUDIT_VERIFY),
    # subject access: who has seen a child's data, for the lead inspector
    "get_child_access_log": Rule(Scope.AUDIT_READ, Relation.LEAD),
    # evaluations: the service narrows agencies to the joint evaluation and their own (else
    # 404) and lets only the local authority write the joint one (403)
    "put_evaluation": Rule(Scope.EVALUATIONS_WRITE, Relation.PARTICIPANT),
    "get_evaluation": Rule(Scope.EVALUATIONS_READ, Relation.PARTICIPANT),
    "list_evaluations": Rule(Scope.EVALUATIONS_READ, Relation.PARTICIPANT),
    # tracking records: inspectors only. Agencies (and the operator) hold no tracking scope,
    # and are answered 404 rather than 403 so that they are not even told tracking records
    # exist (DESIGN.md section 4: agencies never see inspector tracking records).
    "put_tracking": Rule(Scope.TRACKING_WRITE, Relation.PARTICIPANT, conceal=True),
    "list_tracking": Rule(Scope.TRACKING_READ, Relation.PARTICIPANT, conceal=True),
    # meetings: written by the inspection's local authority (checked in the service), read
    # by every participant
    "create_meeting": Rule(Scope.MEETINGS_WRITE, Relation.PARTICIPANT),
    "list_meetings": Rule(Scope.MEETINGS_READ, Relation.PARTICIPANT),
    "update_meeting": Rule(Scope.MEETINGS_WRITE, Relation.PARTICIPANT),
    "delete_meeting": Rule(Scope.MEETINGS_WRITE, Relation.PARTICIPANT),
    # engagement with tracked children, parents and carers
    "put_engagement": Rule(Scope.ENGAGEMENT_WRITE, Relation.PARTICIPANT),
    "get_engagement": Rule(Scope.ENGAGEMENT_READ, Relation.PARTICIPANT),
}


def rule_for(operation: str) -> Rule:
    try:
        return POLICY[operation]
    except KeyError:
        raise LookupError(f"operation {operation!r} has no access policy entry") from None
