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


def credential_generation(stored_hash: str) -> str:
    """A short digest of the stored secret hash, carried in each token as its ``cgen`` claim.

    Each rotation stores a new hash and so makes a new generation: a token names the secret it
    was issued under, and is refused once that secret is gone, even within the same second.
    Derived rather than the hash itself, so a token reveals nothing of the stored hash.
    """
    return hashlib.sha256(b"jtai credential generation\0" + stored_hash.encode()).hexdigest()[:16]
