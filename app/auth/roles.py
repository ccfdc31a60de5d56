"""Roles, which organisation kinds may hold them, and the one role-to-scope table."""

from __future__ import annotations

from enum import StrEnum

from app.organisations.kinds import AGENCY_KINDS, INSPECTORATE_KINDS, OrganisationKind


class Role(StrEnum):
    OPERATOR = "operator"
    LEAD_INSPECTOR = "lead_inspector"
    INSPECTOR = "inspector"
    AGENCY = "agency"
    # An organisation's own administrator: manages its clients, reads no inspection.
    ORG_ADMIN = "org_admin"


ROLE_ORGANISATION_KINDS: dict[Role, frozenset[OrganisationKind]] = {
    Role.OPERATOR: frozenset({OrganisationKind.PLATFORM}),
    # DESIGN.md section 1: the lead inspector is Ofsted's.
    Role.LEAD_INSPECTOR: frozenset({OrganisationKind.OFSTED}),
    Role.INSPECTOR: INSPECTORATE_KINDS,
    Role.AGENCY: AGENCY_KINDS,
    Role.ORG_ADMIN: frozenset(OrganisationKind) - {OrganisationKind.PLATFORM},
}


class Scope(StrEnum):
    """What a token may do at all; objects are still filtered by what the caller may see."""

    ORGANISATIONS_MANAGE = "organisations:manage"
    CLIENTS_MANAGE = "clients:manage"
    INSPECTIONS_MANAGE = "inspections:manage"
    INSPECTIONS_READ = "inspections:read"
    INSPECTIONS_LEAD = "inspections:lead"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    THEMES_READ = "themes:read"
    SCHEDULE_READ = "schedule:read"
    SCHEDULE_WRITE = "schedule:write"
    SELECTIONS_READ = "selections:read"
    LISTS_WRITE = "lists:write"
    LISTS_READ = "lists:read"
    LIST_VERSIONS_READ = "lists:versions"
    CHILDREN_READ = "children:read"
    INSPECTOR_VIEWS = "inspector:views"
    REQUESTS_READ = "requests:read"
    CQC_REQUESTS_WRITE = "requests:cqc"
    DOCUMENTS_WRITE = "documents:write"
    DOCUMENTS_READ = "documents:read"
    SUBMISSIONS_READ = "submissions:read"
    SELECTIONS_WRITE = "selections:write"
    EVALUATIONS_READ = "evaluations:read"
    EVALUATIONS_WRITE = "evaluations:write"
    TRACKING_READ = "tracking:read"
    TRACKING_WRITE = "tracking:write"
    MEETINGS_READ = "meetings:read"
    MEETINGS_WRITE = "meetings:write"
    ENGAGEMENT_READ = "engagement:read"
    ENGAGEMENT_WRITE = "engagement:write"
    WEBHOOKS_MANAGE = "webhooks:manage"
    EVENTS_READ = "events:read"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.ORGANISATIONS_MANAGE: "Register organisations (operator)",
    Scope.CLIENTS_MANAGE: (
        "Create, rotate and disable an organisation's API clients (its administrators; the "
        "operator where it has none, and disables anywhere)"
    ),
    Scope.INSPECTIONS_MANAGE: "Open inspections, add participants, name the lead (operator)",
    Scope.INSPECTIONS_READ: "Read the inspections the caller takes part in",
    Scope.INSPECTIONS_LEAD: "Act as the lead inspector of an inspection",
    Scope.AUDIT_READ: "Read an inspection's audit trail",
    Scope.AUDIT_VERIFY: "Verify the whole audit chain (operator)",
    Scope.THEMES_READ: "Read the deep-dive themes",
    Scope.SCHEDULE_READ: "Read an inspection's schedule",
    Scope.SCHEDULE_WRITE: "Move a milestone of an inspection's schedule (lead inspector)",
    Scope.SELECTIONS_READ: "Read which children are selected",
    Scope.LISTS_WRITE: "Push child lists (the agencies the theme names)",
    Scope.LISTS_READ: "Read and export child lists (inspectors)",
    Scope.LIST_VERSIONS_READ: "Read the history of a list and its validation reports",
    Scope.CHILDREN_READ: "Read one child across the lists (agencies: selected children only)",
    Scope.INSPECTOR_VIEWS: (
        "The inspector front end's views: progress, a child's documents as one ZIP, finding "
        "children across the lists (inspectors only)"
    ),
    Scope.REQUESTS_READ: "Read what is asked of whom (agencies: what is asked of them)",
    Scope.CQC_REQUESTS_WRITE: "Ask agencies for documents (the lead: any; CQC: health agencies)",
    Scope.DOCUMENTS_WRITE: "Upload documents against requests addressed to the caller",
    Scope.DOCUMENTS_READ: "Read documents (agencies: their own)",
    Scope.SUBMISSIONS_READ: "Read who has sent what (agencies: their own row)",
    Scope.SELECTIONS_WRITE: "Select children (lead inspector)",
    Scope.EVALUATIONS_READ: "Read evaluations (agencies: the joint one and their own)",
    Scope.EVALUATIONS_WRITE: "Write the joint (local authority) or own evaluation (agencies)",
    Scope.TRACKING_READ: "Read inspectors' Annex B tracking records (inspectors only)",
    Scope.TRACKING_WRITE: "Write one's own Annex B tracking record (inspectors only)",
    Scope.MEETINGS_READ: "Read the multi-agency meetings of the fieldwork week",
    Scope.MEETINGS_WRITE: "Record the multi-agency meetings (the agencies the theme names)",
    Scope.ENGAGEMENT_READ: "Read whether children, parents and carers agreed to meet",
    Scope.ENGAGEMENT_WRITE: "Record engagement and consent arrangements (agencies)",
    Scope.WEBHOOKS_MANAGE: (
        "Subscribe the organisation's systems to its events, signed webhooks (every "
        "organisation's roles; not the operator, which hears of no inspection)"
    ),
    Scope.EVENTS_READ: "Read one's own feed of events (each sees only what it may read)",
}

# Every role reads its own events: the feed filters each to what the caller may read.
_EVERYONE = {Scope.THEMES_READ, Scope.EVENTS_READ}
# Every role of an organisation may have its events pushed to its own systems; what each
# webhook hears is still what its subscribing client may read (app.events.feed).
_SUBSCRIBER = _EVERYONE | {Scope.WEBHOOKS_MANAGE}
# What anyone taking part in an inspection may do; objects are still filtered per caller.
_PARTICIPANT = _SUBSCRIBER | {
    Scope.INSPECTIONS_READ,
    Scope.SCHEDULE_READ,
    Scope.SELECTIONS_READ,
    Scope.LIST_VERSIONS_READ,
    Scope.CHILDREN_READ,
    Scope.REQUESTS_READ,
    Scope.DOCUMENTS_READ,
    Scope.SUBMISSIONS_READ,
    Scope.EVALUATIONS_READ,
    Scope.MEETINGS_READ,
    Scope.ENGAGEMENT_READ,
}
# Tracking records are the inspectors' own working notes: no other role holds these scopes.
_INSPECTOR = _PARTICIPANT | {
    Scope.LISTS_READ,
    Scope.INSPECTOR_VIEWS,
    Scope.CQC_REQUESTS_WRITE,
    Scope.TRACKING_READ,
    Scope.TRACKING_WRITE,
}

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.OPERATOR: frozenset(
        _EVERYONE
        | {
            Scope.ORGANISATIONS_MANAGE,
            Scope.CLIENTS_MANAGE,
            Scope.INSPECTIONS_MANAGE,
            Scope.INSPECTIONS_READ,
            Scope.INSPECTIONS_LEAD,
            Scope.AUDIT_READ,
            Scope.AUDIT_VERIFY,
            Scope.SCHEDULE_READ,
        }
    ),
    Role.LEAD_INSPECTOR: frozenset(
        _EVERYONE
        | {
            Scope.INSPECTIONS_READ,
            Scope.INSPECTIONS_LEAD,
            Scope.AUDIT_READ,
            Scope.SCHEDULE_READ,
            Scope.SCHEDULE_WRITE,
            Scope.SELECTIONS_WRITE,
        }
        | _INSPECTOR
    ),
    Role.INSPECTOR: frozenset(_INSPECTOR),
    Role.AGENCY: frozenset(
        _PARTICIPANT
        | {
            Scope.LISTS_WRITE,
            Scope.DOCUMENTS_WRITE,
            Scope.EVALUATIONS_WRITE,
            Scope.MEETINGS_WRITE,
            Scope.ENGAGEMENT_WRITE,
        }
    ),
    # No scope that reads an inspection: an administrator manages credentials, not cases.
    Role.ORG_ADMIN: frozenset(_SUBSCRIBER | {Scope.CLIENTS_MANAGE}),
}


def scopes_for(roles: frozenset[Role]) -> frozenset[Scope]:
    granted: set[Scope] = set()
    for role in roles:
        granted |= ROLE_SCOPES[role]
    return frozenset(granted)


def role_fits_kind(role: Role, kind: OrganisationKind) -> bool:
    return kind in ROLE_ORGANISATION_KINDS[role]
