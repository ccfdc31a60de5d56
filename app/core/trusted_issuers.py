"""``JTAI_TRUSTED_ISSUERS``: identity providers whose tokens stand for people.

Only the shape and the coherence of each entry are checked here (settings sit below every
domain); the auth domain checks the role names against its own table and reads the keys when
the service starts (``app.auth.issuers``).
"""

from __future__ import annotations

import ipaddress
import uuid
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Asymmetric signatures only: an HMAC algorithm would let anyone holding the issuer's public
# key (it is public) sign tokens.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
# Roles that manage the platform or an organisation's credentials stay with client
# credentials: an identity provider's claim never grants them.
ROLES_NEVER_FROM_AN_ISSUER = frozenset({"operator", "org_admin"})
LOOPBACK_NAMES = frozenset({"localhost"})


class TrustedIssuer(BaseModel):
    """One external issuer: where its keys are, whom its tokens are for, how claims map."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(min_length=1, max_length=255, description="the exact `iss`")
    jwks_url: str | None = None
    jwks_file: Path | None = None
    audience: str = Field(min_length=1, max_length=255)
    algorithms: tuple[str, ...] = Field(default=("RS256", "ES256"), min_length=1)
    # Either every person of this issuer belongs to one organisation ...
    organisation_id: uuid.UUID | None = None
    # ... or a claim names it, and this maps the claim's values to organisation ids.
    organisation_claim: str | None = Field(default=None, min_length=1)
    organisations: dict[str, uuid.UUID] = Field(default_factory=dict)
    roles_claim: str = Field(default="roles", min_length=1)
    roles: dict[str, str] = Field(default_factory=dict, description="claim value -> our role")
    name_claim: str = Field(default="name", min_length=1)

    @model_validator(mode="after")
    def _check_coherent(self) -> Self:
        label = f"issuer {self.issuer!r}"
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise ValueError(f"{label}: give exactly one of jwks_url and jwks_file")
        if self.jwks_url is not None:
            _check_jwks_url(label, self.jwks_url)
        refused = sorted(set(self.algorithms) - ASYMMETRIC_ALGORITHMS)
        if refused:
            allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
            raise ValueError(f"{label}: algorithm {refused[0]!r} refused; use {allowed}")
        _check_organisation_mapping(self, label)
        never = sorted(set(self.roles.values()) & ROLES_NEVER_FROM_AN_ISSUER)
        if never:
            raise ValueError(f"{label}: role {never[0]!r} cannot be granted through an issuer")
        return self


def _check_organisation_mapping(entry: TrustedIssuer, label: str) -> None:
    by_claim = entry.organisation_claim is not None or bool(entry.organisations)
    if entry.organisation_id is not None and by_claim:
        raise ValueError(
            f"{label}: give organisation_id, or organisation_claim with organisations, not both"
        )
    if entry.organisation_id is None and not (entry.organisation_claim and entry.organisations):
        raise ValueError(f"{label}: give organisation_id, or organisation_claim with organisations")


def _check_jwks_url(label: str, url: str) -> None:
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{label}: jwks_url must be an absolute https URL")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return
    raise ValueError(f"{label}: jwks_url must use https (http only for a loopback host)")


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
