"""Loading an inspection for a caller: invisible is 404, visible but not allowed is 403."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError

from app.auth.deps import bearer_for, check_scope, principal_of_request
from app.auth.issuers import TokenDecoder
from app.auth.policy import Relation, rule_for
from app.auth.principal import Principal
from app.core.database import release_between_hops
from app.core.deps import DbSession, app_component, component_of
from app.core.errors import Forbidden
from app.inspections import service
from app.inspections.closed import check_open
from app.inspections.context import InspectionContext, InspectionContexts
from app.inspections.models import Inspection

Contexts = Annotated[InspectionContexts, Depends(app_component("contexts"))]


@dataclass(frozen=True)
class InspectionAccess:
    principal: Principal
    inspection: Inspection

    @property
    def is_lead(self) -> bool:
        return self.inspection.lead_client_id == self.principal.client_id


def _check_relation(relation: Relation, access: InspectionAccess) -> None:
    if relation is Relation.LEAD and not access.is_lead:
        raise Forbidden("Only the lead inspector of this inspection may do this.", code="not_lead")
    if relation is Relation.LEAD_OR_OPERATOR and not (
        access.is_lead or access.principal.is_operator
    ):
        raise Forbidden("Only the lead inspector or the operator may do this.", code="not_lead")


def _check_open(access: InspectionAccess, operation: str) -> None:
    check_open(operation, access.inspection)


# Read as text and parsed after the token is checked: a malformed id must not tell a caller
# without a valid token anything before 401 (FastAPI validates a dependency's own parameters
# before calling it). The schema stays a UUID's.
InspectionIdText = Annotated[str, Path(json_schema_extra={"format": "uuid"})]


def _parsed(inspection_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(inspection_id)
    except ValueError:
        problem = {
            "type": "uuid_parsing",
            "loc": ("path", "inspection_id"),
            "msg": "Input should be a valid UUID",
            "input": inspection_id,
        }
        raise RequestValidationError([problem]) from None


def authorize_inspection(operation: str) -> Any:
    """Like ``authorize``, then load the path's inspection through the caller's visibility."""
    return _authorizing(operation, _access_itself)


def inspection_context(operation: str) -> Any:
    """``authorize_inspection``, then the context a use case about that inspection needs
    (built in the same dependency: each one FastAPI solves costs every request)."""
    return _authorizing(operation, _context_of)


def _access_itself(_request: Request, access: InspectionAccess) -> InspectionAccess:
    return access


def _context_of(request: Request, access: InspectionAccess) -> InspectionContext:
    contexts: InspectionContexts = component_of(request, "contexts")
    return contexts.for_inspection(access.principal, access.inspection)


def _authorizing(operation: str, answer: Callable[[Request, InspectionAccess], Any]) -> Any:
    """The dependency a route declares to be governed by ``POLICY[operation]``: who is
    asking, whether the policy lets them, the inspection they may see, then ``answer``."""
    rule = rule_for(operation)
    if rule.relation is None:
        raise LookupError(f"policy entry {operation!r} names no relation to an inspection")
    relation = rule.relation

    # Authentication, the policy's scope and the inspection in one worker-thread hop, not
    # three: every hop is a queue that lengthens the slowest requests under load.
    def load(
        inspection_id: InspectionIdText,
        request: Request,
        session: DbSession,
        authorization: str | None = bearer_for(operation),
    ) -> Any:
        decoder: TokenDecoder = component_of(request, "decoder")
        principal = principal_of_request(request, session, decoder, authorization)
        check_scope(operation, principal)
        visible = service.get_visible(session, principal, _parsed(inspection_id))
        access = InspectionAccess(principal, visible)
        _check_relation(relation, access)
        _check_open(access, operation)
        answered = answer(request, access)
        release_between_hops(session)  # the route runs in another thread
        return answered

    load.__policy_operation__ = operation  # type: ignore[attr-defined]
    return Depends(load)
