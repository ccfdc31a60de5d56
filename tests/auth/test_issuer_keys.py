"""Trusted issuers' settings and keys: refused at start when incoherent, strict per key."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from app.auth.issuers import token_decoder
from app.auth.jwks import (
    MAX_JWKS_BYTES,
    IssuerKey,
    JwksError,
    UrlKeys,
    parse_jwks,
    public_key_from_jwk,
    verifying_key,
)
from app.auth.keys import generate_private_pem, signing_key_from_pem
from app.auth.tokens import TokenCodec
from app.core.config import ConfigurationError, Settings, load_settings
from tests.auth.identity_provider import IdpKey, JwksServer, jwks, serving

ORGANISATION = str(uuid.uuid4())


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "issuer": "https://idp.example",
        "jwks_url": "https://idp.example/jwks",
        "audience": "jtai",
        "organisation_id": ORGANISATION,
    }
    entry.update(overrides)
    return {key: value for key, value in entry.items() if value is not None}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("[{", "JTAI_TRUSTED_ISSUERS: not valid JSON"),
        ([_entry(algorithms=["HS256"])], "algorithm 'HS256' refused"),
        ([_entry(algorithms=["RS256", "none"])], "algorithm 'none' refused"),
        ([_entry(algorithms=[])], "JTAI_TRUSTED_ISSUERS[0].algorithms"),
        ([_entry(jwks_file="/etc/jwks.json")], "exactly one of jwks_url and jwks_file"),
        ([_entry(jwks_url=None)], "exactly one of jwks_url and jwks_file"),
        ([_entry(jwks_url="http://idp.example/jwks")], "must use https"),
        ([_entry(jwks_url="file:///etc/passwd")], "must be an absolute https URL"),
        ([_entry(organisation_id=None)], "give organisation_id, or organisation_claim"),
        ([_entry(organisation_claim="org")], "not both"),
        ([_entry(organisation_id=None, organisation_claim="org")], "organisation_claim with"),
        ([_entry(roles={"admins": "operator"})], "role 'operator' cannot be granted"),
        ([_entry(roles={"admins": "org_admin"})], "role 'org_admin' cannot be granted"),
        ([_entry(issuer="jtai-exchange")], "is our own (JTAI_TOKEN_ISSUER)"),
        ([_entry(), _entry()], "listed twice"),
        ([_entry(surprise=1)], "JTAI_TRUSTED_ISSUERS[0].surprise"),
    ],
)
def test_an_incoherent_issuer_stops_the_service_with_one_line(
    monkeypatch: pytest.MonkeyPatch, entries: Any, message: str
) -> None:
    value = entries if isinstance(entries, str) else json.dumps(entries)
    monkeypatch.setenv("JTAI_TRUSTED_ISSUERS", value)
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    assert str(refused.value).startswith("JTAI_TRUSTED_ISSUERS")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_coherent_issuer_is_read_with_its_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    http_loopback = _entry(jwks_url="http://127.0.0.1:8080/jwks")
    monkeypatch.setenv("JTAI_TRUSTED_ISSUERS", json.dumps([http_loopback]))
    (entry,) = load_settings().trusted_issuers
    assert entry.algorithms == ("RS256", "ES256")
    assert (entry.roles_claim, entry.name_claim) == ("roles", "name")


def _decoder_for(tmp_path: Path, **overrides: Any) -> None:
    settings = Settings(var_dir=tmp_path, trusted_issuers=[_entry(**overrides)])
    codec = TokenCodec(signing_key_from_pem(generate_private_pem()), "jtai-exchange", "jtai", 60)
    token_decoder(settings, codec)


def test_keys_and_roles_are_checked_when_the_service_starts(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(ConfigurationError, match=r"TRUSTED_ISSUERS\[0\]\.jwks_file: cannot read"):
        _decoder_for(tmp_path, jwks_url=None, jwks_file=str(missing))
    symmetric = tmp_path / "symmetric.json"
    symmetric.write_text(json.dumps({"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}))
    with pytest.raises(ConfigurationError, match="no usable signing key"):
        _decoder_for(tmp_path, jwks_url=None, jwks_file=str(symmetric))
    with pytest.raises(ConfigurationError, match=r"\.roles: 'x' maps to 'superuser', not a role"):
        _decoder_for(tmp_path, roles={"x": "superuser"})


@pytest.fixture(scope="module")
def rsa_key() -> IdpKey:
    return IdpKey.rsa("rsa")


def test_a_key_fits_only_its_algorithms(rsa_key: IdpKey) -> None:
    rsa = IssuerKey(public_key_from_jwk(rsa_key.jwk), None)
    p256 = IssuerKey(public_key_from_jwk(IdpKey.ec("p256").jwk), None)
    p384 = IssuerKey(public_key_from_jwk(IdpKey.ec("p384", ec.SECP384R1()).jwk), None)
    for algorithm in ("RS256", "RS512", "PS256", "PS384"):
        verifying_key(rsa, algorithm)
    verifying_key(p256, "ES256")
    verifying_key(p384, "ES384")
    refused = [
        (rsa, "ES256"),
        (rsa, "HS256"),
        (rsa, "none"),
        (p256, "RS256"),
        (p256, "ES384"),
        (p384, "ES256"),
        (p256, "HS256"),
        (IssuerKey(rsa.key, "RS256"), "PS256"),  # the JWK names its own algorithm
    ]
    for key, algorithm in refused:
        with pytest.raises(JwksError):
            verifying_key(key, algorithm)


def test_a_key_set_keeps_only_public_signing_keys_named_once(rsa_key: IdpKey) -> None:
    good = IdpKey.ec("good").jwk
    off_curve = IdpKey.ec("off-curve").jwk | {"y": good["x"]}
    document = {
        "keys": [
            good,
            rsa_key.jwk | {"use": "enc", "kid": "for-encryption"},
            IdpKey.rsa("small", bits=1024).jwk,
            rsa_key.jwk | {"kid": "private", "d": "AQAB"},
            {"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"},
            off_curve,
            rsa_key.jwk | {"kid": "twice"},
            IdpKey.ec("twice").jwk,
            {"kid": "no type"},
            "not an object",
        ]
    }
    assert list(parse_jwks(json.dumps(document).encode())) == ["good"]
    for garbage in (b"[]", b"{}", b"not json", b'{"keys": {}}'):
        with pytest.raises(JwksError):
            parse_jwks(garbage)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with serving(JwksServer()) as server:
        yield server


def test_an_unknown_kid_fetches_again_at_most_once_a_minute(jwks_server: JwksServer) -> None:
    first, second = IdpKey.ec("first"), IdpKey.ec("second")
    jwks_server.document = jwks(first)
    clock = Clock()
    keys = UrlKeys(jwks_server.url, clock=clock)
    assert keys.key("first") is not None
    jwks_server.document = jwks(first, second)  # the issuer adds a key
    assert keys.key("second") is None  # just fetched: not again yet
    clock.now += 59
    assert keys.key("second") is None
    assert jwks_server.requests == 1
    clock.now += 2
    assert keys.key("second") is not None
    assert jwks_server.requests == 2


def test_old_keys_are_fetched_again_and_kept_if_the_issuer_is_down(
    jwks_server: JwksServer,
) -> None:
    first = IdpKey.ec("first")
    jwks_server.document = jwks(first)
    clock = Clock()
    keys = UrlKeys(jwks_server.url, clock=clock, max_age=600)
    assert keys.key("first") is not None
    clock.now += 601
    jwks_server.status = 503
    assert keys.key("first") is not None  # kept: the fetch failed
    assert jwks_server.requests == 2
    jwks_server.status, jwks_server.document = 200, jwks(IdpKey.ec("replacement"))
    clock.now += 61
    assert keys.key("first") is None  # withdrawn by the issuer
    assert keys.key("replacement") is not None


@pytest.mark.parametrize(
    ("status", "headers", "document"),
    [
        (200, {}, b'{"keys": [], "padding": "' + b"x" * MAX_JWKS_BYTES + b'"}'),
        (302, {"Location": "https://elsewhere.example/jwks"}, b""),
        (404, {}, b"{}"),
        (200, {"Content-Encoding": "gzip"}, b"\x1f\x8b"),
        (200, {}, b"<html>"),
    ],
    ids=["too large", "a redirect", "not found", "compressed", "not JSON"],
)
def test_a_bad_answer_gives_no_keys(
    jwks_server: JwksServer, status: int, headers: dict[str, str], document: bytes
) -> None:
    jwks_server.status, jwks_server.headers, jwks_server.document = status, headers, document
    keys = UrlKeys(jwks_server.url)
    assert keys.key("any") is None
    assert jwks_server.requests == 1


def test_a_slow_or_absent_issuer_is_given_up_on(jwks_server: JwksServer) -> None:
    jwks_server.document, jwks_server.delay = jwks(IdpKey.ec("late")), 3.0
    started = time.monotonic()
    assert UrlKeys(jwks_server.url, timeout=0.5).key("late") is None
    assert time.monotonic() - started < 2
    nobody = UrlKeys("http://127.0.0.1:9/jwks", timeout=0.5)  # nothing listens on port 9
    assert nobody.key("any") is None
