from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.auth.roles import Role, Scope
from app.organisations.kinds import AGENCY_KINDS, INSPECTORATE_KINDS, OrganisationKind


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: resolved from a verified token and the current client record."""

    client_id: uuid.UUID
    client_name: str
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_kind: OrganisationKind
    roles: frozenset[Role]
    scopes: frozenset[Scope]

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
