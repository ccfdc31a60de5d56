"""Token -> Principal, and the per-operation authorisation dependency."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from sqlalchemy.orm import Session

from app.auth import service
from app.auth.bearer import bearer_token, token_claims
from app.auth.issuers import TokenDecoder
from app.auth.policy import rule_for
from app.auth.principal import Principal
from app.auth.roles import SCOPE_DESCRIPTIONS
from app.auth.tokens import InvalidToken, TokenCodec
from app.core.database import release_between_hops
from app.core.deps import DbSession, app_component, component_of
from app.core.errors import Forbidden, NotFound, Unauthenticated

logger = logging.getLogger("jtai.auth")

Tokens = Annotated[TokenCodec, Depends(app_component("tokens"))]

oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/v1/auth/token",
            scopes={scope.value: text for scope, text in SCOPE_DESCRIPTIONS.items()},
        )
    ),
    scheme_name="ClientCredentials",
    description="OAuth2 client credentials; send the access token as `Authorization: Bearer`.",
    auto_error=False,
)


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    token = bearer_token(authorization)
    if token is None:
        raise Unauthenticated("The Authorization header must use the Bearer scheme.")
    return token


def principal_of_request(
    request: Request, session: Session, decoder: TokenDecoder, authorization: str | None
) -> Principal:
    """Who sent the request's access token, now (401 when nobody may act with it)."""
    token = _bearer_token(authorization)
    try:
        claims = token_claims(request.scope, decoder, token)
        principal = service.principal_for_token(session, claims)
    except InvalidToken as exc:
        logger.info("token refused", extra={"reason": str(exc)})
        raise Unauthenticated(
            "The access token is invalid or expired.",
            code="invalid_token",
            headers={"WWW-Authenticate": 'Bearer realm="jtai", error="invalid_token"'},
        ) from None
    request.state.client_id = str(principal.client_id)
    return principal


def check_scope(operation: str, principal: Principal) -> None:
    """``POLICY[operation]``'s scope: 403, or 404 where the policy conceals the operation."""
    rule = rule_for(operation)
    if rule.scope not in principal.scopes:
        if rule.conceal:
            raise NotFound()
        raise Forbidden(
            f"The caller's roles do not allow '{operation}'.", code="insufficient_scope"
        )


def bearer_for(operation: str) -> Any:
    """The Authorization header, declared with the scope ``POLICY[operation]`` needs, for a
    dependency that authenticates itself (see ``principal_of_request``)."""
    return Security(oauth2_scheme, scopes=[rule_for(operation).scope.value])


def authenticate(
    request: Request,
    session: DbSession,
    authorization: str | None = Security(oauth2_scheme),
) -> Principal:
    # The decoder from the request, as the inspection routes' dependency takes it: a
    # dependency of its own would be one more for FastAPI to solve on every request.
    decoder: TokenDecoder = component_of(request, "decoder")
    principal = principal_of_request(request, session, decoder, authorization)
    release_between_hops(session)
    return principal


def authorize(operation: str) -> Any:
    """The dependency a route declares to be governed by ``POLICY[operation]``."""
    rule = rule_for(operation)

    # async: it only compares sets, and a sync dependency would cost a hop to a worker thread.
    async def check_scope_of(
        security_scopes: SecurityScopes, principal: Principal = Security(authenticate)
    ) -> Principal:
        check_scope(operation, principal)
        return principal

    check_scope_of.__policy_operation__ = operation  # type: ignore[attr-defined]
    return Security(check_scope_of, scopes=[rule.scope.value])
