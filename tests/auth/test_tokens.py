"""The token endpoint, and the decoder against what attackers send."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jose import jwt

from app.auth.keys import generate_private_pem, signing_key_from_pem
from app.auth.roles import Role
from app.auth.secrets import credential_generation, hash_client_secret
from app.organisations.kinds import OrganisationKind
from tests.factories import Actor, Factory, World


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(app: FastAPI, actor: Actor, **overrides: Any) -> dict[str, Any]:
    codec = app.state.jtai.tokens
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": codec.issuer,
        "aud": codec.audience,
        "sub": str(actor.client_id),
        "iat": now,
        "exp": now + 300,
        "scope": "themes:read inspections:read",
        "cgen": credential_generation(hash_client_secret(actor.secret)),
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(app: FastAPI, claims: dict[str, Any], **headers: Any) -> str:
    key = app.state.jtai.tokens.key
    return jwt.encode(
        claims, key.private_pem, algorithm="ES256", headers={"kid": key.kid, **headers}
    )


@pytest.fixture
def agency(factory: Factory) -> Actor:
    return factory.actor(OrganisationKind.LOCAL_AUTHORITY, [Role.AGENCY])


def _me(client: TestClient, token: str) -> Any:
    return client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_form_credentials_give_a_working_token(client: TestClient, agency: Actor) -> None:
    response = client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(agency.client_id),
            "client_secret": agency.secret,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"
    me = _me(client, body["access_token"])
    assert me.status_code == 200
    assert me.json()["client_id"] == str(agency.client_id)
    assert me.json()["organisation"]["kind"] == "local_authority"
    assert me.json()["roles"] == ["agency"]


def test_basic_credentials_give_a_token(client: TestClient, agency: Actor) -> None:
    response = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(str(agency.client_id), agency.secret),
    )
    assert response.status_code == 200
    assert _me(client, response.json()["access_token"]).status_code == 200


@pytest.mark.parametrize("use_basic", [False, True])
def test_wrong_secret_is_invalid_client(client: TestClient, agency: Actor, use_basic: bool) -> None:
    if use_basic:
        response = client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(str(agency.client_id), agency.secret + "x"),
        )
    else:
        response = client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": str(agency.client_id),
                "client_secret": "jtai_wrong",
            },
        )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "www-authenticate" in response.headers


def test_unknown_client_is_invalid_client(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "8d0e1f0c-6f5a-4a0b-9b8e-3f1d2c4b5a69",
            "client_secret": "anything",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, "invalid_request"),
        ({"grant_type": "client_credentials", "client_id": "x"}, "invalid_request"),
    ],
)
def test_malformed_token_requests_are_400(
    client: TestClient, data: dict[str, str], error: str
) -> None:
    response = client.post("/v1/auth/token", data=data)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["code"] == error


def test_scope_outside_the_roles_is_invalid_scope(client: TestClient, agency: Actor) -> None:
    response = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "scope": "organisations:manage"},
        auth=(str(agency.client_id), agency.secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_disabled_client_loses_token_and_access_at_once(
    client: TestClient, factory: Factory, agency: Actor
) -> None:
    operator = factory.actor(OrganisationKind.PLATFORM, [Role.OPERATOR])
    assert _me(client, agency.token).status_code == 200
    disabled = client.post(f"/v1/clients/{agency.client_id}/disable", headers=operator.headers)
    assert disabled.status_code == 200
    assert disabled.json()["disabled_at"] is not None
    assert _me(client, agency.token).status_code == 401
    response = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(str(agency.client_id), agency.secret),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_rotated_secret_ends_old_secret_and_tokens(
    client: TestClient, factory: Factory, agency: Actor
) -> None:
    # The agency's own administrator rotates: the operator never holds its secrets.
    admin = factory.actor(agency.kind, [Role.ORG_ADMIN], agency.organisation_id)
    old_token = _sign(client.app, _claims(client.app, agency, iat=int(time.time()) - 5))  # type: ignore[arg-type]
    rotated = client.post(f"/v1/clients/{agency.client_id}/secret", headers=admin.headers)
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != agency.secret
    assert _me(client, old_token).status_code == 401
    old = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(str(agency.client_id), agency.secret),
    )
    assert old.status_code == 401
    new = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(str(agency.client_id), new_secret),
    )
    assert new.status_code == 200


def _token(client: TestClient, client_id: str, secret: str) -> str:
    response = client.post(
        "/v1/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.json()
    token: str = response.json()["access_token"]
    return token


def test_a_token_from_the_same_second_as_a_rotation_ends_with_it(
    client: TestClient, factory: Factory, agency: Actor
) -> None:
    """Tokens carry whole seconds, so only the secret's generation can tell these apart."""
    # The agency's own administrator rotates: the operator never holds its secrets.
    admin = factory.actor(agency.kind, [Role.ORG_ADMIN], agency.organisation_id)
    client_id, secret = str(agency.client_id), agency.secret
    for attempt in range(10):
        old_token = _token(client, client_id, secret)
        assert _me(client, old_token).status_code == 200, attempt
        rotated = client.post(f"/v1/clients/{client_id}/secret", headers=admin.headers)
        assert rotated.status_code == 200, attempt
        refused = _me(client, old_token)
        assert refused.status_code == 401, attempt
        assert refused.json()["code"] == "invalid_token"
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        secret = rotated.json()["client_secret"]
        assert _me(client, _token(client, client_id, secret)).status_code == 200, attempt


def _hostile_tokens(app: FastAPI, actor: Actor) -> dict[str, str]:
    key = app.state.jtai.tokens.key
    good = _claims(app, actor)
    header_none = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": key.kid}).encode())
    payload = _b64(json.dumps(good).encode())
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    hs_signature = hmac.new(
        key.public_pem.encode(), f"{hs_header}.{payload}".encode(), hashlib.sha256
    ).digest()
    valid = _sign(app, good)
    head, _, signature = valid.split(".")
    tampered_claims = dict(good, sub="00000000-0000-0000-0000-000000000001")
    other_key = signing_key_from_pem(generate_private_pem())
    return {
        "alg none": f"{header_none}.{payload}.",
        "HS256 signed with the public key": f"{hs_header}.{payload}.{_b64(hs_signature)}",
        "wrong audience": _sign(app, _claims(app, actor, aud="someone-else")),
        "wrong issuer": _sign(app, _claims(app, actor, iss="https://evil.example")),
        "expired": _sign(
            app, _claims(app, actor, iat=int(time.time()) - 1000, exp=int(time.time()) - 10)
        ),
        "no exp": _sign(app, _claims(app, actor, exp=None)),
        "no aud": _sign(app, _claims(app, actor, aud=None)),
        "no iat": _sign(app, _claims(app, actor, iat=None)),
        "no sub": _sign(app, _claims(app, actor, sub=None)),
        "no credential generation": _sign(app, _claims(app, actor, cgen=None)),
        "another credential generation": _sign(app, _claims(app, actor, cgen="0" * 16)),
        "credential generation not text": _sign(app, _claims(app, actor, cgen=12345)),
        "tampered payload": f"{head}.{_b64(json.dumps(tampered_claims).encode())}.{signature}",
        "another key, same kid": jwt.encode(
            good, other_key.private_pem, algorithm="ES256", headers={"kid": key.kid}
        ),
        "unknown kid": jwt.encode(
            good, key.private_pem, algorithm="ES256", headers={"kid": "not-our-key"}
        ),
        "crit header": _sign(app, good, crit=["exp"]),
        "unknown client": _sign(
            app, _claims(app, actor, sub="8d0e1f0c-6f5a-4a0b-9b8e-3f1d2c4b5a69")
        ),
        "garbage": "not.a.token",
    }


def test_hostile_tokens_are_refused(client: TestClient, app: FastAPI, agency: Actor) -> None:
    assert _me(client, _sign(app, _claims(app, agency))).status_code == 200
    for name, token in _hostile_tokens(app, agency).items():
        response = _me(client, token)
        assert response.status_code == 401, name
        assert response.json()["code"] == "invalid_token", name
        assert "invalid_token" in response.headers["www-authenticate"], name


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "bearer  ", "Token abc"])
def test_missing_or_malformed_authorization_is_401(client: TestClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_jwks_publishes_the_verifying_key(client: TestClient, app: FastAPI) -> None:
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert [key["kid"] for key in keys] == [app.state.jtai.tokens.key.kid]
    assert keys[0]["alg"] == "ES256"
    assert "d" not in keys[0]


@pytest.mark.parametrize("path", ["progress", "lists/children-in-need", "schedule"])
def test_a_malformed_inspection_id_is_judged_after_the_token(
    client: TestClient, world: World, path: str
) -> None:
    url = f"/v1/inspections/not-a-uuid/{path}"
    assert client.get(url).status_code == 401
    refused = client.get(url, headers={"Authorization": "Bearer garbage"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    malformed = client.get(url, headers=world.lead.headers)
    assert malformed.status_code == 422
    assert malformed.json()["code"] == "validation_error"
    assert [e["field"] for e in malformed.json()["errors"]] == ["path.inspection_id"]
