"""The request's bearer token, decoded at most once per request.

Two places need a request's token claims: the Idempotency-Key middleware, before the app runs
(is this a caller a stored answer may go to?), and the authentication dependency. The first to
ask decodes the token with the one decoder (``TokenDecoder.decode``: ours by ``TokenCodec``,
ES256 only, our key, the required claims; a trusted issuer's, a person's, as strictly by that
issuer's verifier); what it found, the claims or the refusal, stays in the request's scope,
and the second is handed that. Whether the client or person may still act (enabled, a
client's secret not rotated since) is a database question each asks in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Scope

from app.auth.issuers import Claims, TokenDecoder
from app.auth.tokens import InvalidToken

_DECODED = "jtai.token"


@dataclass(frozen=True)
class _Decoded:
    token: str
    claims: Claims | None
    refusal: str = ""


def bearer_token(authorization: str | None) -> str | None:
    """The token an ``Authorization: Bearer <token>`` header carries; None for any other."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_claims(scope: Scope, decoder: TokenDecoder, token: str) -> Claims:
    """The claims of ``token``, decoded once per request; ``InvalidToken`` if it is refused.

    May fetch a trusted issuer's keys (rarely, and briefly): call it off the event loop.
    """
    decoded = scope.get(_DECODED)
    if not isinstance(decoded, _Decoded) or decoded.token != token:
        try:
            decoded = _Decoded(token, decoder.decode(token))
        except InvalidToken as exc:
            decoded = _Decoded(token, None, str(exc))
        scope[_DECODED] = decoded
    if decoded.claims is None:
        raise InvalidToken(decoded.refusal)
    return decoded.claims
