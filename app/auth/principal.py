from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.auth.roles import Role, Scope
from app.organisations.kinds import AGENCY_KINDS, INSPECTORATE_KINDS, OrganisationKind

# Fixed for ever: a person's principal id follows from the issuer and subject alone, so it is
# the same on every server and can be known before the person's first request.
PERSON_NAMESPACE = uuid.UUID("f865fffd-236e-450f-b9ce-c70306dc90a4")


def person_id(issuer: str, subject: str) -> uuid.UUID:
    """The principal id of the person ``subject`` of the trusted issuer ``issuer``."""
    return uuid.uuid5(PERSON_NAMESPACE, f"{issuer}\n{subject}")


class PrincipalKind(StrEnum):
    """A system holds client credentials; a person signed in with a trusted issuer."""

    SYSTEM = "system"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: resolved from a verified token and the current client record.

    ``client_id`` is the principal's id for a person too (the row made on first use), so
    audit, idempotency and teams name people and systems the same way.
    """

    client_id: uuid.UUID
    client_name: str
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_kind: OrganisationKind
    roles: frozenset[Role]
    scopes: frozenset[Scope]
    kind: PrincipalKind = PrincipalKind.SYSTEM

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles

    @property
    def is_inspector(self) -> bool:
        return self.organisation_kind in INSPECTORATE_KINDS and bool(
            self.roles & {Role.INSPECTOR, Role.LEAD_INSPECTOR}
        )

    @property
    def is_agency(self) -> bool:
        return self.organisation_kind in AGENCY_KINDS and Role.AGENCY in self.roles
