"""A local identity provider for tests: keys made here, its JWKS served on loopback or in a file."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jose import jwt

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int, size: int | None = None) -> str:
    return b64(value.to_bytes(size or (value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class IdpKey:
    """A key of the identity provider: the private half signs, the JWK is published."""

    kid: str
    private: PrivateKey

    @classmethod
    def rsa(cls, kid: str, bits: int = 2048) -> IdpKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits))

    @classmethod
    def ec(cls, kid: str, curve: ec.EllipticCurve | None = None) -> IdpKey:
        return cls(kid, ec.generate_private_key(curve or ec.SECP256R1()))

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def jwk(self) -> dict[str, str]:
        if isinstance(self.private, rsa.RSAPrivateKey):
            numbers = self.private.public_key().public_numbers()
            return {"kty": "RSA", "kid": self.kid, "n": _uint(numbers.n), "e": _uint(numbers.e)}
        point = self.private.public_key().public_numbers()
        size = (self.private.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return {
            "kty": "EC",
            "kid": self.kid,
            "crv": crv[self.private.curve.name],
            "x": _uint(point.x, size),
            "y": _uint(point.y, size),
        }

    def sign(self, claims: dict[str, Any], algorithm: str, **header: Any) -> str:
        headers = {"kid": self.kid, **header}
        if algorithm.startswith("PS"):
            return self._sign_pss(claims, algorithm, headers)
        return jwt.encode(claims, self.private_pem, algorithm=algorithm, headers=headers)

    def _sign_pss(self, claims: dict[str, Any], algorithm: str, header: dict[str, Any]) -> str:
        """python-jose cannot sign PSS: by hand, as RFC 7518 3.5 says."""
        assert isinstance(self.private, rsa.RSAPrivateKey)
        digest = {"PS256": hashes.SHA256, "PS384": hashes.SHA384, "PS512": hashes.SHA512}
        chosen = digest[algorithm]()
        signing_input = ".".join(
            b64(json.dumps(part).encode())
            for part in ({"alg": algorithm, "typ": "JWT", **header}, claims)
        )
        pss = padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
        signature = self.private.sign(signing_input.encode(), pss, chosen)
        return f"{signing_input}.{b64(signature)}"


def jwks(*keys: IdpKey) -> bytes:
    return json.dumps({"keys": [key.jwk for key in keys]}).encode()


def unsigned(claims: dict[str, Any], header: dict[str, Any], signature: bytes = b"") -> str:
    parts = [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode())]
    return ".".join([*parts, b64(signature)])


def person_claims(issuer: str, audience: str, **overrides: Any) -> dict[str, Any]:
    """A person's token claims; an override of None leaves that claim out."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": "alice@cqc.example",
        "iat": now,
        "exp": now + 300,
        "name": "Alice Inspector",
        "org": "cqc",
        "roles": ["jtai-inspector"],
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


@dataclass
class JwksServer:
    """An HTTP server on 127.0.0.1 answering every GET with ``document``, counting them."""

    document: bytes = b'{"keys": []}'
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    delay: float = 0.0  # seconds before answering
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks.json"


@contextmanager
def serving(server: JwksServer) -> Iterator[JwksServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests += 1
            time.sleep(server.delay)
            self.send_response(server.status)
            headers = {"Content-Type": "application/json"} | server.headers
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(server.document)))
            self.end_headers()
            self.wfile.write(server.document)

        def log_message(self, format: str, *args: Any) -> None:
            return

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    http.daemon_threads, http.block_on_close = True, False  # a slow answer holds nothing up
    server.port = http.server_address[1]
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()
        thread.join()
