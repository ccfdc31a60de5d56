"""Our access tokens, signed and decoded: ES256, required claims, no surprises.

The only place that signs tokens; ``app.auth.issuers.TokenDecoder`` hands ours here to decode,
and a trusted issuer's to that issuer's verifier.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jose import jwt
from jose.exceptions import JOSEError

from app.auth.keys import SigningKey

ALGORITHM = "ES256"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
# Ours, so python-jose cannot be told to require it: ``_claims_from`` does.
GENERATION_CLAIM = "cgen"
_GENERATION = re.compile(r"[0-9a-f]{16}")


class InvalidToken(Exception):
    """Any reason at all to refuse a token; the reason is logged, never shown in detail."""


@dataclass(frozen=True)
class TokenClaims:
    """One of our tokens: a system (client credentials), its client id as subject."""

    subject: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    token_id: str
    scopes: frozenset[str]
    # Which client secret the token was issued under (see secrets.credential_generation).
    credential_generation: str

    @property
    def principal_id(self) -> uuid.UUID:
        return self.subject


@dataclass(frozen=True)
class TokenCodec:
    key: SigningKey
    issuer: str
    audience: str
    ttl_seconds: int

    def issue(
        self,
        client_id: uuid.UUID,
        scopes: list[str],
        *,
        credential_generation: str,
        now: datetime | None = None,
    ) -> str:
        if not _GENERATION.fullmatch(credential_generation):
            raise ValueError("a credential generation is 16 lower-case hex digits")
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(client_id),
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int((issued + timedelta(seconds=self.ttl_seconds)).timestamp()),
            "jti": uuid.uuid4().hex,
            "scope": " ".join(sorted(scopes)),
            GENERATION_CLAIM: credential_generation,
        }
        return jwt.encode(
            claims, self.key.private_pem, algorithm=ALGORITHM, headers={"kid": self.key.kid}
        )

    def decode(self, token: str) -> TokenClaims:
        self._check_header(token)
        try:
            claims = jwt.decode(
                token,
                self.key.public_pem,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={f"require_{claim}": True for claim in REQUIRED_CLAIMS}
                | {"verify_signature": True, "verify_aud": True, "verify_iss": True},
            )
        except JOSEError as exc:
            raise InvalidToken(str(exc)) from None
        return _claims_from(claims)

    def _check_header(self, token: str) -> None:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise InvalidToken(f"unreadable header: {exc}") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} refused")
        if header.get("kid") != self.key.kid:
            raise InvalidToken("unknown key id")
        if "crit" in header:
            raise InvalidToken("critical header extensions are not supported")


def _claims_from(claims: dict[str, object]) -> TokenClaims:
    try:
        subject = uuid.UUID(str(claims["sub"]))
        issued_at = datetime.fromtimestamp(int(str(claims["iat"])), UTC)
        expires_at = datetime.fromtimestamp(int(str(claims["exp"])), UTC)
    except (KeyError, ValueError) as exc:
        raise InvalidToken(f"malformed claims: {exc}") from None
    generation = claims.get(GENERATION_CLAIM)
    if not isinstance(generation, str) or not _GENERATION.fullmatch(generation):
        raise InvalidToken(f"missing or malformed {GENERATION_CLAIM!r} claim")
    scopes = frozenset(str(claims.get("scope", "")).split())
    return TokenClaims(
        subject, issued_at, expires_at, str(claims.get("jti", "")), scopes, generation
    )
