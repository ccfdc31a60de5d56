"""Organisation kinds (DESIGN.md section 7) and the families they fall into."""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    PLATFORM = "platform"
    LOCAL_AUTHORITY = "local_authority"
    HEALTH = "health"
    POLICE = "police"
    YOUTH_OFFENDING = "youth_offending"
    PROBATION = "probation"
    SCHOOL = "school"
    OTHER_AGENCY = "other_agency"
    OFSTED = "ofsted"
    CQC = "cqc"
    HMICFRS = "hmicfrs"
    HMI_PROBATION = "hmi_probation"


AGENCY_KINDS = frozenset(
    {
        OrganisationKind.LOCAL_AUTHORITY,
        OrganisationKind.HEALTH,
        OrganisationKind.POLICE,
        OrganisationKind.YOUTH_OFFENDING,
        OrganisationKind.PROBATION,
        OrganisationKind.SCHOOL,
        OrganisationKind.OTHER_AGENCY,
    }
)
INSPECTORATE_KINDS = frozenset(
    {
        OrganisationKind.OFSTED,
        OrganisationKind.CQC,
        OrganisationKind.HMICFRS,
        OrganisationKind.HMI_PROBATION,
    }
)
