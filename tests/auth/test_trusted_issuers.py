"""People behind front ends: tokens of trusted issuers (JTAI_TRUSTED_ISSUERS), end to end.

A local identity provider signs with keys made here; one issuer's JWKS is served from a
loopback HTTP server, another's read from a file. The issuers are added to the test app's
settings for these tests only (``people``), and the decoder rebuilt from them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.issuers import token_decoder
from app.auth.models import ApiClient
from app.auth.principal import person_id
from app.auth.roles import Role
from app.auth.service import principal_for_token
from app.core.config import Settings
from app.core.database import session_scope
from app.idempotency.models import IdempotencyRecord
from app.organisations.kinds import OrganisationKind
from tests.auth.identity_provider import (
    IdpKey,
    JwksServer,
    b64,
    jwks,
    person_claims,
    serving,
    unsigned,
)
from tests.conftest import Reader
from tests.factories import Factory, World
from tests.list_rows import cin_row

URL_ISSUER = "https://idp.cqc.example/realms/inspectors"
FILE_ISSUER = "https://login.cqc.example"
AUDIENCE = "jtai-inspector-app"
ALICE = "alice@cqc.example"


@dataclass(frozen=True)
class Keys:
    rsa: IdpKey
    ec: IdpKey
    ec384: IdpKey  # published, but the issuer allows no ES384
    file: IdpKey  # the file issuer's only key


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        IdpKey.rsa("rsa-1"),
        IdpKey.ec("ec-1"),
        IdpKey.ec("ec-384", ec.SECP384R1()),
        IdpKey.ec("file-1"),
    )


@pytest.fixture(scope="module")
def jwks_server(keys: Keys) -> Iterator[JwksServer]:
    with serving(JwksServer()) as server:
        yield server


@pytest.fixture
def idp(jwks_server: JwksServer, keys: Keys) -> JwksServer:
    jwks_server.document = jwks(keys.rsa, keys.ec, keys.ec384)
    jwks_server.status, jwks_server.requests = 200, 0
    return jwks_server


@dataclass(frozen=True)
class People:
    keys: Keys
    world: World

    def token(
        self,
        key: IdpKey | None = None,
        algorithm: str = "RS256",
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        claims = person_claims(URL_ISSUER, AUDIENCE, **claims)
        return (key or self.keys.rsa).sign(claims, algorithm, **(header or {}))

    def headers(self, token: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token(**claims)}"}


def trusted_issuers(world: World, jwks_url: str, jwks_file: Path) -> list[dict[str, Any]]:
    cqc = str(world.inspector.organisation_id)
    return [
        {
            "issuer": URL_ISSUER,
            "jwks_url": jwks_url,
            "audience": AUDIENCE,
            "algorithms": ["RS256", "PS256", "ES256"],
            "organisation_claim": "org",
            "organisations": {
                "cqc": cqc,
                "hmicfrs": str(world.outside_inspector.organisation_id),
                "ghost": str(uuid.uuid4()),
            },
            "roles": {"jtai-inspector": "inspector", "jtai-lead": "lead_inspector"},
        },
        {
            "issuer": FILE_ISSUER,
            "jwks_file": str(jwks_file),
            "audience": AUDIENCE,
            "organisation_id": cqc,
            "roles_claim": "groups",
            "roles": {"inspectors": "inspector"},
            "name_claim": "preferred_username",
        },
    ]


@pytest.fixture
def people(
    app: FastAPI,
    world: World,
    keys: Keys,
    idp: JwksServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> People:
    """The test app trusting two issuers, for this test only."""
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_bytes(jwks(keys.file))
    state = app.state.jtai
    settings = Settings(
        **state.settings.model_dump(exclude={"trusted_issuers"}),
        trusted_issuers=trusted_issuers(world, idp.url, jwks_file),
    )
    monkeypatch.setattr(state, "settings", settings)
    monkeypatch.setattr(state, "decoder", token_decoder(settings, state.tokens))
    return People(keys, world)


def _me(client: TestClient, headers: dict[str, str]) -> Any:
    return client.get("/v1/me", headers=headers)


def _team(world: World, principal: uuid.UUID) -> str:
    return f"/v1/inspections/{world.inspection_id}/team/{principal}"


def test_a_person_on_the_team_reads_the_inspection_and_is_audited_by_a_stable_id(
    client: TestClient, people: People, world: World, factory: Factory, db: Reader
) -> None:
    alice = person_id(URL_ISSUER, ALICE)
    me = _me(client, people.headers()).json()
    assert me["client_id"] == str(alice)
    assert me["kind"] == "person"
    assert me["client_name"] == "Alice Inspector"
    assert me["organisation"]["id"] == str(world.inspector.organisation_id)
    assert me["roles"] == ["inspector"]
    named = client.put(_team(world, alice), headers=world.lead.headers)
    assert named.status_code == 200, named.json()
    inspection = f"/v1/inspections/{world.inspection_id}"
    read = client.get(inspection, headers=people.headers())
    assert read.status_code == 200, read.json()
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1")])
    listed = client.get(f"{inspection}/lists/children-in-need", headers=people.headers())
    assert listed.status_code == 200
    actions = [
        e.action for e in db.chained(select(AuditEvent).where(AuditEvent.client_id == alice))
    ]
    assert actions == ["client.person_registered", "list.read"]
    added = db.all(select(AuditEvent).where(AuditEvent.action == "inspection.team_member_added"))
    assert added[-1].object_id == str(alice)
    rows = db.all(select(ApiClient).where(ApiClient.subject == ALICE))
    assert [(row.id, row.issuer, row.secret_hash) for row in rows] == [(alice, URL_ISSUER, None)]


def test_a_person_of_the_same_organisation_off_the_team_gets_404(
    client: TestClient, people: People, world: World, factory: Factory
) -> None:
    inspection = f"/v1/inspections/{world.inspection_id}"
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1")])
    paths = [inspection, f"{inspection}/lists/children-in-need", f"{inspection}/schedule"]
    alice, bob = people.headers(), people.headers(sub="bob@cqc.example")
    team_alice = _team(world, person_id(URL_ISSUER, ALICE))
    # A person is a principal from their first request on: the lead can name them after it.
    assert client.put(team_alice, headers=world.lead.headers).status_code == 404
    assert _me(client, alice).status_code == 200
    assert _me(client, bob).status_code == 200
    assert client.put(team_alice, headers=world.lead.headers).status_code == 200
    assert [client.get(path, headers=alice).status_code for path in paths] == [200] * 3
    assert [client.get(path, headers=bob).status_code for path in paths] == [404] * 3
    assert client.get("/v1/inspections", headers=bob).json()["items"] == []
    assert client.delete(team_alice, headers=world.lead.headers).status_code == 204
    assert [client.get(path, headers=alice).status_code for path in paths] == [404] * 3


@pytest.mark.parametrize(
    ("key", "algorithm"), [("rsa", "RS256"), ("rsa", "PS256"), ("ec", "ES256")]
)
def test_every_algorithm_the_issuer_allows(
    client: TestClient, people: People, key: str, algorithm: str
) -> None:
    token = people.token(getattr(people.keys, key), algorithm)
    assert _me(client, people.headers(token)).status_code == 200


def test_keys_from_a_file_and_claims_named_by_the_issuer(
    client: TestClient, people: People, world: World
) -> None:
    claims = person_claims(
        FILE_ISSUER, AUDIENCE, sub="bob", preferred_username="Bob", groups="inspectors"
    )
    token = people.keys.file.sign(claims, "ES256")
    me = _me(client, people.headers(token))
    assert me.status_code == 200, me.json()
    assert me.json()["client_id"] == str(person_id(FILE_ISSUER, "bob"))
    assert (me.json()["client_name"], me.json()["roles"]) == ("Bob", ["inspector"])
    assert me.json()["organisation"]["id"] == str(world.inspector.organisation_id)


def _hostile(people: People, our_issuer: str) -> dict[str, str]:
    keys = people.keys
    good = person_claims(URL_ISSUER, AUDIENCE)
    now = int(time.time())
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    hs_input = unsigned(good, hs_header).rsplit(".", 1)[0].encode()

    def hs256(secret: bytes) -> bytes:
        return hmac.new(secret, hs_input, hashlib.sha256).digest()

    valid = people.token()
    head, _, signature = valid.split(".")
    tampered = unsigned(good | {"roles": ["jtai-lead"]}, {}).split(".")[1]
    return {
        "unlisted issuer": people.token(iss="https://idp.evil.example"),
        "wrong audience": people.token(aud="someone-else"),
        "signed by another key": IdpKey.rsa("rsa-1").sign(good, "RS256"),
        "alg none": unsigned(good, {"alg": "none", "typ": "JWT", "kid": "rsa-1"}),
        "HS256 with the public key's PEM": unsigned(good, hs_header, hs256(keys.rsa.public_pem)),
        "HS256 with the JWK's bytes": unsigned(
            good, hs_header, hs256(json.dumps(keys.rsa.jwk).encode())
        ),
        "no exp": people.token(exp=None),
        "no iat": people.token(iat=None),
        "no sub": people.token(sub=None),
        "sub not text": people.token(sub=12345),
        "sub with a NUL": people.token(sub="alice\x00"),
        "sub too long": people.token(sub="a" * 256),
        "no aud": people.token(aud=None),
        "expired": people.token(iat=now - 1000, exp=now - 100),
        "issued in the future": people.token(iat=now + 3600, exp=now + 7200),
        "unknown kid": people.token(header={"kid": "rsa-2"}),
        "no kid": unsigned(good, {"alg": "RS256", "typ": "JWT"}),
        "crit header": people.token(header={"crit": ["exp"]}),
        "tampered payload": f"{head}.{tampered}.{signature}",
        "RS256 naming an EC key": people.token(header={"kid": "ec-1"}),
        "ES384, not allowed for this issuer": people.token(keys.ec384, "ES384"),
        "ES256 over a P-384 key": people.token(keys.ec384, "ES256"),
        "the file issuer, signed with the URL issuer's key": keys.rsa.sign(
            person_claims(FILE_ISSUER, AUDIENCE, groups="inspectors"), "RS256"
        ),
        "our issuer, the person's key": people.token(iss=our_issuer),
        "an organisation not mapped": people.token(org="nowhere"),
        "an organisation that does not exist": people.token(org="ghost"),
        "a role the organisation cannot hold": people.token(roles=["jtai-lead"]),
        "garbage": "not.a.token",
    }


def test_hostile_person_tokens_are_refused(
    client: TestClient, app: FastAPI, people: People
) -> None:
    assert _me(client, people.headers()).status_code == 200
    for name, token in _hostile(people, app.state.jtai.tokens.issuer).items():
        response = _me(client, people.headers(token))
        assert response.status_code == 401, name
        assert response.json()["code"] == "invalid_token", name
        # The reason is logged, never shown.
        assert response.json()["detail"] == "The access token is invalid or expired.", name


def test_roles_the_issuer_does_not_map_are_403_on_a_lead_operation(
    client: TestClient, people: People, world: World
) -> None:
    tracked = f"/v1/inspections/{world.inspection_id}/selections/tracked"
    body = {"child_ids": ["C1", "C2", "C3", "C4", "C5"]}
    for roles in (["jtai-inspector"], ["jtai-admin", "something-else"], None):
        headers = people.headers(roles=roles)
        refused = client.put(tracked, json=body, headers=headers)
        assert refused.status_code == 403, roles
        assert refused.json()["code"] == "insufficient_scope", roles
    assert _me(client, people.headers(roles=None)).status_code == 403


def test_a_person_can_be_disabled_and_never_holds_a_secret(
    client: TestClient, people: People, world: World, factory: Factory
) -> None:
    alice = str(person_id(URL_ISSUER, ALICE))
    assert _me(client, people.headers()).status_code == 200
    for secret in ("", "jtai_anything"):
        token = client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": alice, "client_secret": secret},
        )
        assert token.status_code in (400, 401)
    basic = client.post(
        "/v1/auth/token", data={"grant_type": "client_credentials"}, auth=(alice, "x")
    )
    assert (basic.status_code, basic.json()["error"]) == (401, "invalid_client")
    cqc = world.inspector.organisation_id
    admin = factory.actor(OrganisationKind.CQC, [Role.ORG_ADMIN], cqc).headers
    rotated = client.post(f"/v1/clients/{alice}/secret", headers=admin)
    assert (rotated.status_code, rotated.json()["code"]) == (409, "person_has_no_secret")
    # The operator may disable anyone, in an emergency.
    disabled = client.post(f"/v1/clients/{alice}/disable", headers=world.operator.headers)
    assert disabled.status_code == 200
    assert _me(client, people.headers()).status_code == 401


def test_a_disabled_organisation_locks_its_people_out(
    client: TestClient, people: People, world: World, app: FastAPI
) -> None:
    from app.core.database import utcnow
    from app.organisations.models import Organisation

    assert _me(client, people.headers()).status_code == 200
    with session_scope(app.state.jtai.session_factory) as session:
        organisation = session.get(Organisation, world.inspector.organisation_id)
        assert organisation is not None
        organisation.disabled_at = utcnow()
    assert _me(client, people.headers()).status_code == 401


def test_a_name_is_kept_without_control_characters(client: TestClient, people: People) -> None:
    me = _me(client, people.headers(name="Alice\x00 \x1b[31mInspector\n"))
    assert me.status_code == 200
    assert me.json()["client_name"] == "Alice [31mInspector"
    unnamed = _me(client, people.headers(sub="carol", name=["not", "text"]))
    assert unnamed.json()["client_name"] == "carol"


def test_client_listings_show_people_apart_from_systems(
    client: TestClient, people: People, world: World
) -> None:
    assert _me(client, people.headers()).status_code == 200
    listed = client.get(
        f"/v1/organisations/{world.inspector.organisation_id}/clients",
        headers=world.operator.headers,
    ).json()
    (person,) = [entry for entry in listed if entry["kind"] == "person"]
    assert person["client_id"] == str(person_id(URL_ISSUER, ALICE))
    assert (person["issuer"], person["subject"]) == (URL_ISSUER, ALICE)
    assert person["secret_rotated_at"] is None
    systems = {entry["client_id"]: entry for entry in listed if entry["kind"] == "system"}
    system = systems[str(world.inspector.client_id)]
    assert (system["issuer"], system["subject"], system["name"]) == (None, None, "test client")


def test_the_row_follows_the_latest_token_and_changes_of_role_are_audited(
    client: TestClient, people: People, db: Reader
) -> None:
    alice = person_id(URL_ISSUER, ALICE)
    assert _me(client, people.headers()).status_code == 200
    renamed = people.headers(name="Alice Smith", roles=["jtai-inspector", "unmapped"])
    assert _me(client, renamed).json()["client_name"] == "Alice Smith"
    moved = people.headers(org="hmicfrs")
    assert _me(client, moved).json()["organisation"]["kind"] == "hmicfrs"
    (row,) = db.all(select(ApiClient).where(ApiClient.id == alice))
    assert (row.name, row.roles) == ("Alice Inspector", ["inspector"])
    changes = db.all(select(AuditEvent).where(AuditEvent.action == "client.person_changed"))
    assert [event.detail["organisation_id"] for event in changes] == [str(row.organisation_id)]


def test_a_persons_keyed_post_is_kept_under_the_persons_id(
    client: TestClient, people: People, db: Reader
) -> None:
    headers = people.headers() | {"Idempotency-Key": "person-once"}
    body = {"name": "Police", "kind": "police"}
    first = client.post("/v1/organisations", json=body, headers=headers)
    assert first.status_code == 403
    again = client.post("/v1/organisations", json=body, headers=headers)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (403, "true")
    (record,) = db.all(select(IdempotencyRecord))
    assert record.client_id == person_id(URL_ISSUER, ALICE)


def test_keys_are_fetched_once_and_for_unknown_kids_at_most_once_a_minute(
    client: TestClient, people: People, idp: JwksServer
) -> None:
    assert idp.requests == 0  # nothing fetched before a token needs it
    for _ in range(3):
        assert _me(client, people.headers()).status_code == 200
    assert idp.requests == 1
    for kid in ("rsa-2", "rsa-3", "rsa-4"):
        assert _me(client, people.headers(people.token(header={"kid": kid}))).status_code == 401
    assert idp.requests == 1


def test_an_unreachable_issuer_refuses_its_people_only(
    client: TestClient, people: People, idp: JwksServer, world: World
) -> None:
    idp.status = 503
    assert _me(client, people.headers()).status_code == 401
    assert _me(client, world.inspector.headers).status_code == 200


@pytest.mark.commits
def test_two_first_requests_at_once_make_one_person(app: FastAPI, people: People) -> None:
    """The second waits on the first's insert (PostgreSQL) or write lock (SQLite), then finds
    the person there: neither fails."""
    state = app.state.jtai
    claims = state.decoder.decode(people.token())
    first_done, let_first_commit = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}

    def first() -> None:
        with session_scope(state.session_factory) as session:
            outcomes["first"] = principal_for_token(session, claims)
            first_done.set()
            let_first_commit.wait(10)

    def second() -> None:
        first_done.wait(10)
        try:
            with session_scope(state.session_factory) as session:
                outcomes["second"] = principal_for_token(session, claims)
        except Exception as exc:
            outcomes["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_done.wait(10)
    time.sleep(0.3)  # the second is now waiting on the first
    let_first_commit.set()
    for thread in threads:
        thread.join(30)
    assert outcomes["first"] == outcomes["second"]
    with session_scope(state.session_factory) as session:
        rows = session.execute(select(ApiClient.id).where(ApiClient.issuer == URL_ISSUER))
        assert rows.scalars().all() == [claims.principal_id]
        registered = session.execute(
            select(AuditEvent.client_id).where(AuditEvent.action == "client.person_registered")
        )
        assert registered.scalars().all() == [claims.principal_id]


def test_a_person_named_for_one_organisation_is_not_on_the_team_for_another(
    client: TestClient, people: People, world: World, factory: Factory
) -> None:
    """The identity provider moves Alice from CQC to HMICFRS, which also takes part: her
    place on the team was CQC's, and does not follow her."""
    inspection = f"/v1/inspections/{world.inspection_id}"
    assert _me(client, people.headers()).status_code == 200
    named = client.put(_team(world, person_id(URL_ISSUER, ALICE)), headers=world.lead.headers)
    assert named.status_code == 200
    assert client.get(inspection, headers=people.headers()).status_code == 200
    factory.add_participant(world.inspection_id, world.outside_inspector.organisation_id)
    moved = people.headers(org="hmicfrs")
    assert _me(client, moved).json()["organisation"]["id"] == str(
        world.outside_inspector.organisation_id
    )
    assert client.get(inspection, headers=moved).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [b"[" * 3000 + b"]" * 3000, b'{"iss": ' + b"[" * 3000 + b"]" * 3000 + b"}", b"[]", b"7"],
    ids=["nested-array", "nested-issuer", "array", "number"],
)
def test_an_unreadable_token_is_401_not_500(client: TestClient, payload: bytes) -> None:
    """Unverified bytes: the JSON decoder's recursion limit must not become a 500."""
    header = b64(json.dumps({"alg": "RS256", "kid": "k"}).encode())
    token = f"{header}.{b64(payload)}.{b64(b'sig')}"
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    keyed = client.post(
        "/v1/organisations",
        json={"name": "x", "kind": "police"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k-1"},
    )
    assert keyed.status_code == 401


def test_a_far_future_expiry_is_401_not_500(client: TestClient, people: People) -> None:
    response = _me(client, people.headers(exp=10**12))
    assert response.status_code == 401


def test_bidirectional_overrides_are_taken_out_of_a_persons_name(
    client: TestClient, people: People
) -> None:
    me = _me(client, people.headers(name="Lead \u202e rotcepsnI")).json()
    assert me["client_name"] == "Lead  rotcepsnI"
