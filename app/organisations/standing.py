"""The client rule, enforced here alone: who may act on an organisation's API clients.

Each operation on an organisation's clients says in its policy entry how far the operator
reaches (``app.auth.policy.OperatorReach``); its use case asks here before it changes
anything. An organisation's own administrators (``org_admin``) act in their organisation
only: another organisation and its clients answer 404, as if they did not exist. The operator
sees every organisation's clients and may disable any, but never holds a secret that reads
child data (DESIGN.md section 4): it creates operators on the platform and an organisation's
first administrator, and rotates only the platform's secrets. Otherwise it could mint an
inspector or an agency's system in an organisation of its own making, take over a client by
rotating its secret, or disable an administrator to appoint another (hence "first": once an
organisation has had an administrator, a new one is made by that organisation's other
administrators or by ``jtai admin create-admin`` on the server). Refusals are 403
``organisation_has_administrator`` where the organisation has had one, else
``operator_cannot_mint_access``. The platform itself (``actor`` None: the jtai command on the
server, the demo) is bound by none of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.orm import Session

from app.auth.models import ApiClient
from app.auth.policy import OperatorReach, rule_for
from app.auth.principal import Principal
from app.auth.roles import Role
from app.core.errors import Forbidden, NotFound
from app.organisations import repository
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation


def organisation_for(
    session: Session,
    actor: Principal | None,
    operation: str,
    organisation_id: uuid.UUID,
    *,
    roles: Collection[Role] = (),
) -> Organisation:
    """The organisation whose clients ``operation`` concerns (making one with ``roles``), if
    ``actor`` may act on them."""
    reach = _reach(operation)
    organisation = repository.organisation(session, organisation_id)
    if organisation is None or not _stands_in(actor, organisation.id):
        raise NotFound("No such organisation.")
    _check_reach(session, actor, reach, organisation, frozenset(roles))
    return organisation


def client_for(
    session: Session, actor: Principal | None, operation: str, client_id: uuid.UUID
) -> ApiClient:
    """The client ``operation`` concerns, if ``actor`` may act on its organisation's clients."""
    reach = _reach(operation)
    client = repository.client(session, client_id)
    if client is None or not _stands_in(actor, client.organisation_id):
        raise NotFound("No such client.")
    organisation = repository.organisation(session, client.organisation_id)
    assert organisation is not None  # a foreign key with ON DELETE RESTRICT
    _check_reach(session, actor, reach, organisation, frozenset())
    return client


def _reach(operation: str) -> OperatorReach:
    reach = rule_for(operation).clients
    if reach is None:
        raise LookupError(f"policy entry {operation!r} does not say how far the operator reaches")
    return reach


def _stands_in(actor: Principal | None, organisation_id: uuid.UUID) -> bool:
    """Whether the caller may know of the organisation's clients at all."""
    if actor is None or actor.is_operator:
        return True
    return Role.ORG_ADMIN in actor.roles and actor.organisation_id == organisation_id


def _check_reach(
    session: Session,
    actor: Principal | None,
    reach: OperatorReach,
    organisation: Organisation,
    roles: frozenset[Role],
) -> None:
    if actor is None or not actor.is_operator or reach is OperatorReach.ANYWHERE:
        return
    if organisation.kind is OrganisationKind.PLATFORM:
        return  # the operator's own organisation: roles must fit it, checked when made
    had_administrator = repository.has_had_administrator(session, organisation.id)
    first_administrator = reach is OperatorReach.FIRST_ADMINISTRATOR and roles == {Role.ORG_ADMIN}
    if first_administrator and not had_administrator:
        return
    if had_administrator:
        raise Forbidden(
            "The organisation has had its own administrator, who manages its clients; the "
            "operator may only disable them.",
            code="organisation_has_administrator",
        )
    raise Forbidden(
        "The operator never holds credentials that read child data: it makes an "
        "organisation's first administrator, who makes the organisation's clients.",
        code="operator_cannot_mint_access",
    )
