from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Header
from fastapi.responses import JSONResponse

from app.auth import service
from app.auth.deps import Tokens, authorize
from app.auth.keys import jwks_document
from app.auth.principal import Principal
from app.auth.schemas import Jwks, MeRead, OrganisationSummary, TokenResponse
from app.core.deps import DbSession
from app.core.edge import edge
from app.core.errors import AppError, error_responses

router = APIRouter(tags=["auth"])
FORM = "application/x-www-form-urlencoded"


class OAuthError(AppError):
    """RFC 6749 section 5.2 errors, carried as problem+json with ``error`` members."""

    title = "Token request refused"

    def __init__(self, error: str, description: str, status: int = 400, basic: bool = False):
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            scheme = 'Basic realm="jtai"' if basic else 'Bearer realm="jtai"'
            headers["WWW-Authenticate"] = scheme
        super().__init__(
            description,
            code=error,
            headers=headers,
            extra={"error": error, "error_description": description},
        )
        self.status = status


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_request", "Malformed HTTP Basic credentials.") from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise OAuthError("invalid_request", "Malformed HTTP Basic credentials.")
    # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def _credentials(
    authorization: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str, str, bool]:
    basic = _basic_credentials(authorization)
    if basic is not None and client_id and client_id != basic[0]:
        raise OAuthError("invalid_request", "Use one way of sending client credentials.")
    if basic is not None:
        return basic[0], basic[1], True
    if not client_id or not client_secret:
        raise OAuthError("invalid_request", "client_id and client_secret are required.")
    return client_id, client_secret, False


@router.post(
    "/v1/auth/token",
    response_model=TokenResponse,
    responses=error_responses(400, 401, 409),
    summary="Exchange client credentials for an access token",
    openapi_extra={
        "security": [],
        "requestBody": {
            "required": True,
            "content": {FORM: {"schema": {"$ref": "#/components/schemas/TokenRequest"}}},
        },
    },
)
@edge(
    not_replayable="The first answer to this key held an access token, which is never kept "
    "for replay; ask for a new token."
)
def issue_token(
    session: DbSession,
    tokens: Tokens,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only client_credentials is supported.")
    identifier, secret, basic = _credentials(authorization, client_id, client_secret)
    try:
        authenticated = service.authenticate_client(session, identifier, secret)
    except service.InvalidClient:
        raise OAuthError(
            "invalid_client", "Client authentication failed.", status=401, basic=basic
        ) from None
    principal = authenticated.principal
    granted = sorted(s.value for s in principal.scopes)
    if scope:
        asked = set(scope.split())
        if not asked <= set(granted):
            raise OAuthError("invalid_scope", "A requested scope is not granted to this client.")
        granted = sorted(asked)
    token = tokens.issue(
        principal.client_id, granted, credential_generation=authenticated.credential_generation
    )
    body = TokenResponse(access_token=token, expires_in=tokens.ttl_seconds, scope=" ".join(granted))
    return JSONResponse(
        body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )


@router.get(
    "/v1/me",
    response_model=MeRead,
    responses=error_responses(401, 403),
    summary="Who the token is: client or person, organisation and roles",
)
def read_me(principal: Principal = authorize("read_me")) -> MeRead:
    return MeRead(
        client_id=principal.client_id,
        client_name=principal.client_name,
        kind=principal.kind,
        organisation=OrganisationSummary(
            id=principal.organisation_id,
            name=principal.organisation_name,
            kind=principal.organisation_kind,
        ),
        roles=sorted(principal.roles),
        scopes=sorted(principal.scopes),
    )


@router.get(
    "/.well-known/jwks.json",
    response_model=Jwks,
    summary="Public keys that verify access tokens",
    openapi_extra={"security": []},
)
def read_jwks(tokens: Tokens) -> Jwks:
    return Jwks.model_validate(jwks_document([tokens.key]))
