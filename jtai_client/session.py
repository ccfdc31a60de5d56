"""Client credentials and the cached access token: where they come from, where they are kept."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ENV_CLIENT_ID = "JTAI_CLIENT_ID"
ENV_CLIENT_SECRET = "JTAI_CLIENT_SECRET"  # noqa: S105 (a variable's name, not a secret)
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# A token this close to its expiry is treated as expired: it could lapse mid-request.
EXPIRY_MARGIN_SECONDS = 30.0


class ClientConfigError(Exception):
    """Something the user must put right before anything is sent."""


class NotLoggedIn(ClientConfigError):
    """No usable token and no credentials to get one."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = field(repr=False)


def _private(path: Path) -> bool:
    if os.name == "nt":  # POSIX modes mean nothing there; ACLs are the user's business.
        return True
    return not path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def credentials_from_file(path: Path) -> Credentials:
    """Read ``{"client_id", "client_secret"}``; refuse a file others could read."""
    try:
        if not _private(path):
            raise ClientConfigError(
                f"{path} can be read or written by group or others; run `chmod 600 {path}`."
            )
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClientConfigError(f"cannot read credentials from {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ClientConfigError(f"{path} must hold a JSON object")
    client_id, secret = data.get("client_id"), data.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
        raise ClientConfigError(f"{path} must have string client_id and client_secret")
    return Credentials(client_id, secret)


def load_credentials(file: Path | None, environ: Mapping[str, str]) -> Credentials | None:
    """Credentials from the named file, else the environment; None when neither has them."""
    if file is not None:
        return credentials_from_file(file)
    client_id, secret = environ.get(ENV_CLIENT_ID), environ.get(ENV_CLIENT_SECRET)
    if client_id and secret:
        return Credentials(client_id, secret)
    if client_id or secret:
        raise ClientConfigError(f"set both {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}")
    return None


@dataclass(frozen=True)
class CachedToken:
    base_url: str
    client_id: str
    access_token: str = field(repr=False)
    expires_at: float  # seconds since the epoch

    def usable(self, now: float) -> bool:
        return self.expires_at - EXPIRY_MARGIN_SECONDS > now


def default_token_path() -> Path:
    return Path.home() / ".cache" / "jtai" / "token.json"


def write_private(path: Path, data: Any) -> None:
    """Write JSON readable by the owner only, atomically: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp already creates the file 0600; say so for readers and odd umasks.
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class TokenCache:
    """One cached token in a 0600 file, shared by the commands between runs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> CachedToken | None:
        try:
            # A token file others can read may have been swapped by them: do not trust it.
            if not _private(self.path):
                return None
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return CachedToken(
                base_url=str(data["base_url"]),
                client_id=str(data["client_id"]),
                access_token=str(data["access_token"]),
                expires_at=float(data["expires_at"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, token: CachedToken) -> None:
        write_private(self.path, asdict(token))
