"""Roles, which organisation kinds may hold them, and the one role-to-scope table."""

from __future__ import annotations

from enum import StrEnum

from app.organisations.kinds import AGENCY_KINDS, INSPECTORATE_KINDS, OrganisationKind


class Role(StrEnum):
    OPERATOR = "operator"
    LEAD_INSPECTOR = "lead_inspector"
    INSPECTOR = "inspector"
    AGENCY = "agency"


ROLE_ORGANISATION_KINDS: dict[Role, frozenset[OrganisationKind]] = {
    Role.OPERATOR: frozenset({OrganisationKind.PLATFORM}),
    # DESIGN.md section 1: the lead inspector is Ofsted's.
    Role.LEAD_INSPECTOR: frozenset({OrganisationKind.OFSTED}),
    Role.INSPECTOR: INSPECTORATE_KINDS,
    Role.AGENCY: AGENCY_KINDS,
}


class Scope(StrEnum):
    """What a token may do at all; objects are still filtered by what the caller may see."""

    ORGANISATIONS_MANAGE = "organisations:manage"
    INSPECTIONS_MANAGE = "inspections:manage"
    INSPECTIONS_READ = "inspections:read"
    INSPECTIONS_LEAD = "inspections:lead"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    THEMES_READ = "themes:read"
    SCHEDULE_READ = "schedule:read"
    SCHEDULE_WRITE = "schedule:write"
    SELECTIONS_READ = "selections:read"
    SELECTIONS_WRITE = "selections:write"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.ORGANISATIONS_MANAGE: "Register organisations and their API clients (operator)",
    Scope.INSPECTIONS_MANAGE: "Open inspections, add participants, name the lead (operator)",
    Scope.INSPECTIONS_READ: "Read the inspections the caller takes part in",
    Scope.INSPECTIONS_LEAD: "Act as the lead inspector of an inspection",
    Scope.AUDIT_READ: "Read an inspection's audit trail",
    Scope.AUDIT_VERIFY: "Verify the whole audit chain (operator)",
    Scope.THEMES_READ: "Read the deep-dive themes",
    Scope.SCHEDULE_READ: "Read an inspection's schedule",
    Scope.SCHEDULE_WRITE: "Move a milestone of an inspection's schedule (lead inspector)",
    Scope.SELECTIONS_READ: "Read which children are selected",
    Scope.SELECTIONS_WRITE: "Select children (lead inspector)",
}

_EVERYONE = {Scope.THEMES_READ}
# What anyone taking part in an inspection may do; objects are still filtered per caller.
_PARTICIPANT = _EVERYONE | {Scope.INSPECTIONS_READ, Scope.SCHEDULE_READ, Scope.SELECTIONS_READ}

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.OPERATOR: frozenset(
        _EVERYONE
        | {
            Scope.ORGANISATIONS_MANAGE,
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
            Scope.SELECTIONS_READ,
            Scope.SELECTIONS_WRITE,
        }
    ),
    Role.INSPECTOR: frozenset(_PARTICIPANT),
    Role.AGENCY: frozenset(_PARTICIPANT),
}


def scopes_for(roles: frozenset[Role]) -> frozenset[Scope]:
    granted: set[Scope] = set()
    for role in roles:
        granted |= ROLE_SCOPES[role]
    return frozenset(granted)


def role_fits_kind(role: Role, kind: OrganisationKind) -> bool:
    return kind in ROLE_ORGANISATION_KINDS[role]
