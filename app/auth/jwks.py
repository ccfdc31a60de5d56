"""A trusted issuer's signing keys: a JWKS read from a file at start, or fetched from a URL.

Each key is built from its JWK alone (RSA modulus and exponent, or an EC point on a named
curve), never from PEM text or bytes: nothing here could turn a public key into an HMAC
secret. A token's algorithm must fit the key it names (``verifying_key``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jose.backends.base import Key
from jose.backends.cryptography_backend import CryptographyECKey, CryptographyRSAKey

logger = logging.getLogger("jtai.auth")

MAX_JWKS_BYTES = 64 * 1024
FETCH_TIMEOUT_SECONDS = 5.0
# An unknown kid fetches the set again, but at most this often, whatever kids are sent.
MIN_REFETCH_SECONDS = 60.0
# Known keys are fetched again after this long, so a key the issuer withdrew goes too.
MAX_AGE_SECONDS = 900.0
MIN_RSA_BITS = 2048

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
_CURVES: dict[str, tuple[type[ec.EllipticCurve], int]] = {
    "P-256": (ec.SECP256R1, 32),
    "P-384": (ec.SECP384R1, 48),
    "P-521": (ec.SECP521R1, 66),
}
_CURVE_OF_ALGORITHM = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_PSS_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "PS256": hashes.SHA256,
    "PS384": hashes.SHA384,
    "PS512": hashes.SHA512,
}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class JwksError(Exception):
    """A key set, or a key in it, that cannot be used."""


@dataclass(frozen=True)
class IssuerKey:
    key: PublicKey
    algorithm: str | None  # the JWK's own "alg", when it names one


class KeySource(Protocol):
    def key(self, kid: str) -> IssuerKey | None: ...


def verifying_key(found: IssuerKey, algorithm: str) -> Key:
    """The key that checks a signature made with ``algorithm``; JwksError if it cannot."""
    if found.algorithm is not None and found.algorithm != algorithm:
        raise JwksError(f"the key is for {found.algorithm}, the token says {algorithm}")
    key = found.key
    if algorithm[:2] in ("RS", "PS"):
        if not isinstance(key, rsa.RSAPublicKey):
            raise JwksError(f"{algorithm} needs an RSA key")
        if algorithm in _PSS_HASHES:
            return _PssKey(key, algorithm)
        return CryptographyRSAKey(key, algorithm)
    if algorithm in _CURVE_OF_ALGORITHM:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise JwksError(f"{algorithm} needs an EC key")
        if key.curve.name != _CURVE_OF_ALGORITHM[algorithm]:
            raise JwksError(f"{algorithm} needs curve {_CURVE_OF_ALGORITHM[algorithm]}")
        return CryptographyECKey(key, algorithm)
    raise JwksError(f"algorithm {algorithm!r} refused")


class _PssKey(Key):
    """RSASSA-PSS (RFC 7518 3.5), which python-jose lacks: MGF1 and a salt of the hash's size."""

    def __init__(self, key: rsa.RSAPublicKey, algorithm: str) -> None:
        self._key = key
        self._hash = _PSS_HASHES[algorithm]

    def verify(self, msg: bytes, sig: bytes) -> bool:
        digest = self._hash()
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        try:
            self._key.verify(sig, msg, pss, digest)
        except InvalidSignature:
            return False
        return True


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    if _PRIVATE_MEMBERS & jwk.keys():
        raise JwksError("a published key must not carry private or symmetric material")
    kty = jwk.get("kty")
    if kty == "RSA":
        numbers = rsa.RSAPublicNumbers(_integer(jwk, "e"), _integer(jwk, "n"))
        try:
            rsa_key = numbers.public_key()
        except ValueError:
            raise JwksError("not an RSA public key") from None
        if rsa_key.key_size < MIN_RSA_BITS:
            raise JwksError(f"an RSA key of {rsa_key.key_size} bits is too small")
        return rsa_key
    if kty == "EC":
        curve, size = _CURVES.get(str(jwk.get("crv")), (None, 0))
        if curve is None:
            raise JwksError(f"curve {jwk.get('crv')!r} is not used")
        x, y = _integer(jwk, "x", size), _integer(jwk, "y", size)
        try:
            return ec.EllipticCurvePublicNumbers(x, y, curve()).public_key()
        except ValueError:
            raise JwksError("the point is not on the curve") from None
    raise JwksError(f"key type {kty!r} is not used")


def _integer(jwk: Mapping[str, Any], member: str, size: int | None = None) -> int:
    value = jwk.get(member)
    if not isinstance(value, str) or not value:
        raise JwksError(f"member {member!r} missing")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise JwksError(f"member {member!r} is not base64url") from None
    if size is not None and len(raw) != size:
        raise JwksError(f"member {member!r} is {len(raw)} bytes, not {size}")
    return int.from_bytes(raw, "big")


def parse_jwks(document: bytes) -> dict[str, IssuerKey]:
    """The usable signing keys of a JWKS by kid; a kid named twice is ambiguous and dropped."""
    try:
        parsed = json.loads(document)
    except (ValueError, UnicodeDecodeError):
        raise JwksError("not JSON") from None
    entries = parsed.get("keys") if isinstance(parsed, dict) else None
    if not isinstance(entries, list):
        raise JwksError("not a JWKS: no 'keys' list")
    keys: dict[str, IssuerKey] = {}
    twice: set[str] = set()
    for entry in entries:
        kid = entry.get("kid") if isinstance(entry, dict) else None
        if not isinstance(kid, str) or not kid or entry.get("use", "sig") != "sig":
            continue
        try:
            found = IssuerKey(public_key_from_jwk(entry), _algorithm(entry))
        except JwksError as exc:
            logger.warning("jwks key skipped", extra={"kid": kid, "reason": str(exc)})
            continue
        if kid in keys:
            twice.add(kid)
        keys[kid] = found
    return {kid: key for kid, key in keys.items() if kid not in twice}


def _algorithm(entry: Mapping[str, Any]) -> str | None:
    algorithm = entry.get("alg")
    return algorithm if isinstance(algorithm, str) else None


class FileKeys:
    """Keys read once, when the service starts."""

    def __init__(self, path: Path) -> None:
        try:
            document = path.read_bytes()
        except OSError as exc:
            raise JwksError(f"cannot read {path}: {exc.strerror}") from None
        self._keys = parse_jwks(document)
        if not self._keys:
            raise JwksError(f"{path} holds no usable signing key")

    def key(self, kid: str) -> IssuerKey | None:
        return self._keys.get(kid)


class UrlKeys:
    """Keys fetched on first use and kept; fetched again for an unknown kid or when old,
    never more often than ``min_interval``. A failed fetch keeps the keys already held."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        max_bytes: int = MAX_JWKS_BYTES,
        min_interval: float = MIN_REFETCH_SECONDS,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._timeout, self._max_bytes = timeout, max_bytes
        self._min_interval, self._max_age, self._clock = min_interval, max_age, clock
        self._keys: dict[str, IssuerKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> IssuerKey | None:
        fetched = self._fetched_at
        fresh = fetched is not None and self._clock() - fetched < self._max_age
        if not (fresh and kid in self._keys):
            self._refresh()
        return self._keys.get(kid)

    def _refresh(self) -> None:
        with self._lock:
            now = self._clock()
            attempted = self._attempted_at
            if attempted is not None and now - attempted < self._min_interval:
                return
            self._attempted_at = now
            self.fetches += 1
            try:
                self._keys = parse_jwks(self._fetch())
            except (httpx.HTTPError, JwksError) as exc:
                logger.warning("jwks fetch failed", extra={"url": self.url, "reason": str(exc)})
                return
            self._fetched_at = now

    def _fetch(self) -> bytes:
        deadline = self._clock() + self._timeout
        body = bytearray()
        # Uncompressed only (the cap counts what is parsed), no redirects (https was checked
        # for this URL, not for wherever it might send us).
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        with (
            httpx.Client(timeout=self._timeout, follow_redirects=False) as client,
            client.stream("GET", self.url, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise JwksError(f"answered {response.status_code}")
            if response.headers.get("content-encoding", "identity") != "identity":
                raise JwksError("answered with a content encoding")
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > self._max_bytes:
                    raise JwksError(f"larger than {self._max_bytes} bytes")
                if self._clock() > deadline:
                    raise JwksError(f"took longer than {self._timeout} s")
        return bytes(body)
