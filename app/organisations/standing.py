"""The client rule, enforced here alone: who may act on an organisation's API clients.

Each operation on an organisation's clients says in its policy entry how far the operator
reaches (``app.auth.policy.OperatorReach``); its use case asks here before it changes
anything. An organisation's own administrators (``org_admin``) act in their organisation
only: another organisation and its clients answer 404, as if they did not exist. The operator
sees every organisation's clients, but where an operation reaches only organisations without
an administrator, one that has an active administrator answers 403
``organisation_has_administrator``: otherwise the operator could mint itself an inspector's
or an agency's credentials there, a second administrator to do it for it, or take over an
existing client by rotating its secret (DESIGN.md section 4: the operator cannot mint
itself credentials that read child data). The platform itself (``actor`` None: the jtai
command on the server, the demo) is bound by neither.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.auth.models import ApiClient
from app.auth.policy import OperatorReach, rule_for
from app.auth.principal import Principal
from app.auth.roles import Role
from app.core.errors import Forbidden, NotFound
from app.organisations import repository
from app.organisations.models import Organisation


def organisation_for(
    session: Session, actor: Principal | None, operation: str, organisation_id: uuid.UUID
) -> Organisation:
    """The organisation whose clients ``operation`` concerns, if ``actor`` may act on them."""
    reach = _reach(operation)
    organisation = repository.organisation(session, organisation_id)
    if organisation is None or not _stands_in(actor, organisation.id):
        raise NotFound("No such organisation.")
    _check_reach(session, actor, reach, organisation.id)
    return organisation


def client_for(
    session: Session, actor: Principal | None, operation: str, client_id: uuid.UUID
) -> ApiClient:
    """The client ``operation`` concerns, if ``actor`` may act on its organisation's clients."""
    reach = _reach(operation)
    client = repository.client(session, client_id)
    if client is None or not _stands_in(actor, client.organisation_id):
        raise NotFound("No such client.")
    _check_reach(session, actor, reach, client.organisation_id)
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
    session: Session, actor: Principal | None, reach: OperatorReach, organisation_id: uuid.UUID
) -> None:
    if actor is None or not actor.is_operator or reach is OperatorReach.ANYWHERE:
        return
    if repository.has_active_administrator(session, organisation_id):
        raise Forbidden(
            "The organisation has its own administrator, who manages its clients; the "
            "operator may only disable them.",
            code="organisation_has_administrator",
        )
