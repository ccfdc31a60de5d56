"""The ES256 signing key: from a setting, or generated once under ./var/ and shared by workers."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.core.config import Settings
from app.core.private_files import PRIVATE_FILE_MODE, make_private_dirs, restrict_to_owner


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str
    public_pem: str
    public_jwk: dict[str, str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_numbers_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }


def _thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint, so the kid names the key and not a counter."""
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def signing_key_from_pem(pem: str) -> SigningKey:
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise ValueError("the signing key must be an EC P-256 private key (ES256)")
    public_key = private_key.public_key()
    jwk = _public_numbers_jwk(public_key)
    kid = _thumbprint(jwk)
    public_pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return SigningKey(
        kid=kid,
        private_pem=pem,
        public_pem=public_pem,
        public_jwk=jwk | {"kid": kid, "use": "sig", "alg": "ES256"},
    )


def generate_private_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _create_key_file(path: Path) -> None:
    """Write a new key with mode 0600; if another process won the race, keep theirs."""
    make_private_dirs(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(generate_private_pem())
        os.chmod(temporary, PRIVATE_FILE_MODE)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def load_signing_key(settings: Settings) -> SigningKey:
    if settings.signing_key is not None:
        return signing_key_from_pem(settings.signing_key.get_secret_value())
    path = settings.resolved_signing_key_file
    if not path.exists():
        _create_key_file(path)
    restrict_to_owner(path)
    return signing_key_from_pem(path.read_text())


def jwks_document(keys: list[SigningKey]) -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in keys]}
