"""The access policy: one entry per operation, and nothing is reachable without one.

Each entry says which scope the caller's roles must grant (else 403), for operations on an
inspection how the caller must relate to it (an inspection the caller does not take part in
answers 404, exactly as if it did not exist: DESIGN.md section 4), for operations on an
organisation's clients how far the operator reaches (``OperatorReach``), and whether the
operation writes, which a closed inspection refuses (``app.inspections.access.check_open``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.auth.roles import Scope


class Relation(StrEnum):
    """How the caller must stand to the inspection named in the path."""

    # operator, an agency taking part, or an inspector on the team; else 404
    PARTICIPANT = "participant"
    LEAD = "lead"  # the named lead inspector; other participants 403
    LEAD_OR_OPERATOR = "lead_or_operator"


class OperatorReach(StrEnum):
    """For operations on an organisation's API clients: how far the operator may go.

    Each organisation's own administrators (``org_admin``) manage its clients, in their own
    organisation only (another's clients and organisations answer 404). The operator, whose
    credentials must never reach child data (DESIGN.md section 4), never holds a secret that
    does: it makes operators on the platform and each organisation's first administrator, and
    nothing else. Enforced in one place: ``app.organisations.standing``.
    """

    ANYWHERE = "anywhere"  # listing, an emergency disable
    # Creating: the platform's own clients, or the first administrator of an organisation
    # that has never had one; anything else 403.
    FIRST_ADMINISTRATOR = "first_administrator"
    # Rotating a secret: the platform's own clients only (a rotation hands the secret over).
    PLATFORM = "platform"


@dataclass(frozen=True)
class Rule:
    scope: Scope
    relation: Relation | None = None
    summary: str = ""
    # A caller whose roles lack the scope is answered 404, not 403: for records whose very
    # existence must not be disclosed to them (DESIGN.md section 4).
    conceal: bool = False
    # The operation changes something. On a closed inspection its record is final, so an
    # operation that writes is refused there (409 ``inspection_closed``); one that only reads
    # goes on. Said of every entry, never guessed from the HTTP method.
    writes: bool = field(kw_only=True)
    # Set for operations on an organisation's clients (see OperatorReach).
    clients: OperatorReach | None = field(default=None, kw_only=True)


POLICY: dict[str, Rule] = {
    # auth
    "read_me": Rule(Scope.THEMES_READ, summary="any valid token", writes=False),
    # organisations: the operator only
    "create_organisation": Rule(Scope.ORGANISATIONS_MANAGE, writes=True),
    "list_organisations": Rule(Scope.ORGANISATIONS_MANAGE, writes=False),
    "get_organisation": Rule(Scope.ORGANISATIONS_MANAGE, writes=False),
    # their clients: the organisation's administrators; the operator as far as it reaches
    "create_client": Rule(
        Scope.CLIENTS_MANAGE, clients=OperatorReach.FIRST_ADMINISTRATOR, writes=True
    ),
    "list_clients": Rule(Scope.CLIENTS_MANAGE, clients=OperatorReach.ANYWHERE, writes=False),
    "disable_client": Rule(Scope.CLIENTS_MANAGE, clients=OperatorReach.ANYWHERE, writes=True),
    "rotate_client_secret": Rule(Scope.CLIENTS_MANAGE, clients=OperatorReach.PLATFORM, writes=True),
    "list_credential_events": Rule(
        Scope.CLIENTS_MANAGE, clients=OperatorReach.ANYWHERE, writes=False
    ),
    # inspections
    "create_inspection": Rule(Scope.INSPECTIONS_MANAGE, writes=True),
    "list_inspections": Rule(
        Scope.INSPECTIONS_READ, summary="filtered to participation", writes=False
    ),
    "get_inspection": Rule(Scope.INSPECTIONS_READ, Relation.PARTICIPANT, writes=False),
    "add_participant": Rule(Scope.INSPECTIONS_MANAGE, Relation.PARTICIPANT, writes=True),
    "remove_participant": Rule(Scope.INSPECTIONS_MANAGE, Relation.PARTICIPANT, writes=True),
    "set_lead_inspector": Rule(Scope.INSPECTIONS_MANAGE, Relation.PARTICIPANT, writes=True),
    # the team: inspectors read an inspection only while on it; the lead or the operator
    # names them (app/inspections/team.py)
    "list_team": Rule(Scope.INSPECTIONS_READ, Relation.PARTICIPANT, writes=False),
    "get_team_member": Rule(Scope.INSPECTIONS_READ, Relation.PARTICIPANT, writes=False),
    "add_team_member": Rule(Scope.INSPECTIONS_LEAD, Relation.LEAD_OR_OPERATOR, writes=True),
    "remove_team_member": Rule(Scope.INSPECTIONS_LEAD, Relation.LEAD_OR_OPERATOR, writes=True),
    "update_inspection_status": Rule(
        Scope.INSPECTIONS_LEAD, Relation.LEAD_OR_OPERATOR, writes=True
    ),
    # themes and schedule
    "list_themes": Rule(Scope.THEMES_READ, writes=False),
    "get_theme": Rule(Scope.THEMES_READ, writes=False),
    "get_schedule": Rule(Scope.SCHEDULE_READ, Relation.PARTICIPANT, writes=False),
    "get_schedule_calendar": Rule(Scope.SCHEDULE_READ, Relation.PARTICIPANT, writes=False),
    "move_milestone": Rule(Scope.SCHEDULE_WRITE, Relation.LEAD, writes=True),
    # selections
    "put_selection": Rule(Scope.SELECTIONS_WRITE, Relation.LEAD, writes=True),
    "get_selection": Rule(Scope.SELECTIONS_READ, Relation.PARTICIPANT, writes=False),
    # child lists
    "push_list": Rule(Scope.LISTS_WRITE, Relation.PARTICIPANT, writes=True),
    "read_list": Rule(Scope.LISTS_READ, Relation.PARTICIPANT, writes=False),
    "list_versions": Rule(Scope.LIST_VERSIONS_READ, Relation.PARTICIPANT, writes=False),
    "get_list_version": Rule(Scope.LIST_VERSIONS_READ, Relation.PARTICIPANT, writes=False),
    "get_list_template": Rule(Scope.THEMES_READ, Relation.PARTICIPANT, writes=False),
    "get_child": Rule(Scope.CHILDREN_READ, Relation.PARTICIPANT, writes=False),
    "find_children": Rule(
        Scope.INSPECTOR_VIEWS, Relation.PARTICIPANT, summary="inspectors only", writes=False
    ),
    # requests, documents, submissions (requests and documents are found through the
    # caller's visibility in their services: another organisation's answers 404)
    "list_requests": Rule(Scope.REQUESTS_READ, Relation.PARTICIPANT, writes=False),
    # the lead (any agency) or a CQC inspector (health agencies): the service decides which
    "create_request": Rule(Scope.CQC_REQUESTS_WRITE, Relation.PARTICIPANT, writes=True),
    "list_submissions": Rule(Scope.SUBMISSIONS_READ, Relation.PARTICIPANT, writes=False),
    "get_progress": Rule(
        Scope.INSPECTOR_VIEWS, Relation.PARTICIPANT, summary="inspectors only", writes=False
    ),
    "upload_document": Rule(Scope.DOCUMENTS_WRITE, writes=True),
    "create_upload": Rule(Scope.DOCUMENTS_WRITE, writes=True),
    "upload_part": Rule(Scope.DOCUMENTS_WRITE, writes=True),
    "complete_upload": Rule(Scope.DOCUMENTS_WRITE, writes=True),
    "abort_upload": Rule(Scope.DOCUMENTS_WRITE, writes=True),
    # the addressee answers "none held", as it would upload (its service finds the request)
    "record_nil_return": Rule(Scope.DOCUMENTS_WRITE, writes=True),
    "get_document": Rule(Scope.DOCUMENTS_READ, writes=False),
    # inspectors' views (agencies and the operator hold no such scope: 403)
    "download_child_documents": Rule(
        Scope.INSPECTOR_VIEWS, Relation.PARTICIPANT, summary="inspectors only", writes=False
    ),
    "download_document": Rule(Scope.DOCUMENTS_READ, writes=False),
    # audit
    "list_inspection_audit": Rule(Scope.AUDIT_READ, Relation.LEAD_OR_OPERATOR, writes=False),
    "verify_audit_chain": Rule(Scope.AUDIT_VERIFY, writes=False),
    # subject access: who has seen a child's data, for the lead inspector
    "get_child_access_log": Rule(Scope.AUDIT_READ, Relation.LEAD, writes=False),
    # evaluations: the service narrows agencies to the joint evaluation and their own (else
    # 404) and lets only the local authority write the joint one (403)
    "put_evaluation": Rule(Scope.EVALUATIONS_WRITE, Relation.PARTICIPANT, writes=True),
    "get_evaluation": Rule(Scope.EVALUATIONS_READ, Relation.PARTICIPANT, writes=False),
    "list_evaluations": Rule(Scope.EVALUATIONS_READ, Relation.PARTICIPANT, writes=False),
    # tracking records: inspectors only. Agencies (and the operator) hold no tracking scope,
    # and are answered 404 rather than 403 so that they are not even told tracking records
    # exist (DESIGN.md section 4: agencies never see inspector tracking records).
    "put_tracking": Rule(Scope.TRACKING_WRITE, Relation.PARTICIPANT, conceal=True, writes=True),
    "list_tracking": Rule(Scope.TRACKING_READ, Relation.PARTICIPANT, conceal=True, writes=False),
    # meetings: recorded by the agencies the theme's meetings milestone names, changed by the
    # recorder or the local authority (checked in the service), read by every participant
    "create_meeting": Rule(Scope.MEETINGS_WRITE, Relation.PARTICIPANT, writes=True),
    "list_meetings": Rule(Scope.MEETINGS_READ, Relation.PARTICIPANT, writes=False),
    "update_meeting": Rule(Scope.MEETINGS_WRITE, Relation.PARTICIPANT, writes=True),
    "delete_meeting": Rule(Scope.MEETINGS_WRITE, Relation.PARTICIPANT, writes=True),
    # engagement with tracked children, parents and carers
    "put_engagement": Rule(Scope.ENGAGEMENT_WRITE, Relation.PARTICIPANT, writes=True),
    "get_engagement": Rule(Scope.ENGAGEMENT_READ, Relation.PARTICIPANT, writes=False),
    # events: any authenticated caller; the feed narrows each to what it may read
    "list_events": Rule(
        Scope.EVENTS_READ, summary="own events only (app.events.feed)", writes=False
    ),
    # webhooks: the caller's organisation's (another's answers 404, in the service); systems
    # only subscribe
    "create_webhook": Rule(Scope.WEBHOOKS_MANAGE, summary="systems only", writes=True),
    "list_webhooks": Rule(Scope.WEBHOOKS_MANAGE, writes=False),
    "get_webhook": Rule(Scope.WEBHOOKS_MANAGE, writes=False),
    "delete_webhook": Rule(Scope.WEBHOOKS_MANAGE, writes=True),
    "list_webhook_deliveries": Rule(Scope.WEBHOOKS_MANAGE, writes=False),
    "ping_webhook": Rule(Scope.WEBHOOKS_MANAGE, writes=True),
}


def rule_for(operation: str) -> Rule:
    try:
        return POLICY[operation]
    except KeyError:
        raise LookupError(f"operation {operation!r} has no access policy entry") from None
