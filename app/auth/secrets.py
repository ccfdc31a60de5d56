"""Client secrets: 256 random bits, kept only as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "jtai_"  # noqa: S105  (a marker that makes leaked secrets greppable)


def generate_client_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_client_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_client_secret(secret), stored_hash)
