"""Every access token is decoded here: ours by ``TokenCodec``, a trusted issuer's by its verifier.

``TokenDecoder.decode`` reads the token's ``iss`` unverified only to choose the decoder; each
then verifies everything itself. A trusted issuer's token (a person, signed in with that
issuer) is held to the same rules as ours: an asymmetric algorithm that issuer is configured
for, a ``kid`` among that issuer's keys and a key that fits the algorithm, no ``crit``,
``exp``/``iat``/``iss``/``aud``/``sub`` required. Its claims map to an organisation and roles
(``JTAI_TRUSTED_ISSUERS``); whether the person may act is a database question
(``app.auth.persons``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError

from app.auth.jwks import FileKeys, JwksError, KeySource, UrlKeys, verifying_key
from app.auth.principal import person_id
from app.auth.roles import Role
from app.auth.tokens import REQUIRED_CLAIMS, InvalidToken, TokenClaims, TokenCodec
from app.core.config import ConfigurationError, Settings
from app.core.text import is_hidden, without_hidden
from app.core.trusted_issuers import TrustedIssuer

LEEWAY_SECONDS = 30
MAX_SUBJECT_LENGTH = 255
MAX_NAME_LENGTH = 200
# A person's subject and name are stored and shown in team lists and the audit trail: no
# hidden characters (app.core.text.is_hidden), which would make a name read as another.


@dataclass(frozen=True)
class PersonClaims:
    """A person's verified token: who (issuer and subject) and, mapped, where and as what.

    Unlike ``TokenClaims`` there is no credential generation: a person has no secret with us.
    """

    principal_id: uuid.UUID
    issuer: str
    subject: str
    name: str
    organisation_id: uuid.UUID
    roles: frozenset[Role]
    issued_at: datetime
    expires_at: datetime
    token_id: str


Claims = TokenClaims | PersonClaims


class IssuerVerifier:
    def __init__(self, entry: TrustedIssuer, keys: KeySource, roles: Mapping[str, Role]) -> None:
        self.entry = entry
        self.keys = keys
        self.roles = roles

    def decode(self, token: str, header: Mapping[str, Any]) -> PersonClaims:
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.entry.algorithms:
            raise InvalidToken(f"algorithm {algorithm!r} refused for this issuer")
        if "crit" in header:
            raise InvalidToken("critical header extensions are not supported")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("no key id")
        found = self.keys.key(kid)
        if found is None:
            raise InvalidToken("unknown key id for this issuer")
        try:
            key = verifying_key(found, algorithm)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.entry.audience,
                issuer=self.entry.issuer,
                options={f"require_{claim}": True for claim in REQUIRED_CLAIMS}
                | {"verify_signature": True, "leeway": LEEWAY_SECONDS},
            )
        except (JOSEError, JwksError) as exc:
            raise InvalidToken(str(exc)) from None
        return self._person(claims)

    def _person(self, claims: Mapping[str, Any]) -> PersonClaims:
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
            raise InvalidToken("malformed subject")
        if any(is_hidden(character) for character in subject):
            raise InvalidToken("control or format characters in the subject")
        issued_at, expires_at = _instant(claims, "iat"), _instant(claims, "exp")
        if issued_at.timestamp() > time.time() + LEEWAY_SECONDS:
            raise InvalidToken("issued in the future")
        name = claims.get(self.entry.name_claim)
        name = without_hidden(name).strip() if isinstance(name, str) else ""
        return PersonClaims(
            principal_id=person_id(self.entry.issuer, subject),
            issuer=self.entry.issuer,
            subject=subject,
            name=(name or subject)[:MAX_NAME_LENGTH],
            organisation_id=self._organisation(claims),
            roles=self._roles(claims),
            issued_at=issued_at,
            expires_at=expires_at,
            token_id=str(claims.get("jti", "")),
        )

    def _organisation(self, claims: Mapping[str, Any]) -> uuid.UUID:
        if self.entry.organisation_id is not None:
            return self.entry.organisation_id
        value = claims.get(self.entry.organisation_claim or "")
        mapped = self.entry.organisations.get(value) if isinstance(value, str) else None
        if mapped is None:
            raise InvalidToken(f"organisation claim value {value!r} is not mapped")
        return mapped

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[Role]:
        """Our roles for the values of the roles claim (a string or a list); unmapped ones
        grant nothing."""
        value = claims.get(self.entry.roles_claim)
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return frozenset(
            self.roles[item] for item in values if isinstance(item, str) and item in self.roles
        )


def _instant(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims[name]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidToken(f"malformed {name!r}")
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        # A year past 9999, or beyond the platform's time_t: no real token says that.
        raise InvalidToken(f"{name!r} out of range") from None


# Far above any real token (ours are under 1 KiB; an identity provider's a few KiB), far below
# what costs anything to refuse.
MAX_TOKEN_CHARS = 16 * 1024


@dataclass(frozen=True)
class TokenDecoder:
    """The one decoder of access tokens: ours, or a trusted issuer's; anything else refused."""

    own: TokenCodec
    issuers: Mapping[str, IssuerVerifier]

    def decode(self, token: str) -> Claims:
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("token too long")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.get_unverified_claims(token)
        # Unverified bytes: deep nesting raises RecursionError from the JSON decoder, and a
        # payload that is JSON but not an object has no .get; all of it is a refused token.
        except (JOSEError, RecursionError, ValueError, TypeError) as exc:
            raise InvalidToken(f"unreadable token: {type(exc).__name__}") from None
        issuer = claims.get("iss") if isinstance(claims, dict) else None
        if issuer == self.own.issuer:
            return self.own.decode(token)
        verifier = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if verifier is None:
            raise InvalidToken(f"issuer {issuer!r} is not trusted")
        return verifier.decode(token, header)


def token_decoder(settings: Settings, own: TokenCodec) -> TokenDecoder:
    """The decoder for these settings: our tokens, and the trusted issuers'."""
    return TokenDecoder(own, trusted_issuers(settings))


def trusted_issuers(settings: Settings) -> dict[str, IssuerVerifier]:
    """A verifier per trusted issuer; JWKS files are read now, URLs on first use.

    ``ConfigurationError`` for an unreadable key file or a role we do not have.
    """
    return {
        entry.issuer: IssuerVerifier(entry, _keys(entry, index), _roles(entry, index))
        for index, entry in enumerate(settings.trusted_issuers)
    }


def _keys(entry: TrustedIssuer, index: int) -> KeySource:
    if entry.jwks_url is not None:
        return UrlKeys(entry.jwks_url)
    assert entry.jwks_file is not None  # one of the two: checked with the settings
    try:
        return FileKeys(entry.jwks_file)
    except JwksError as exc:
        raise ConfigurationError(f"JTAI_TRUSTED_ISSUERS[{index}].jwks_file: {exc}") from None


def _roles(entry: TrustedIssuer, index: int) -> dict[str, Role]:
    known = {role.value: role for role in Role}
    for value, role in entry.roles.items():
        if role not in known:
            raise ConfigurationError(
                f"JTAI_TRUSTED_ISSUERS[{index}].roles: {value!r} maps to {role!r}, not a role"
                f" ({', '.join(sorted(known))})"
            )
    return {value: known[role] for value, role in entry.roles.items()}
