"""What every ``jtai client`` command shares: the connection options, opening a client, and
turning failures into one line on stderr and an exit code."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer

from jtai_client.api import ApiError, ExchangeClient, RetryPolicy
from jtai_client.downloads import VerificationFailed, WouldOverwrite
from jtai_client.progress import echo
from jtai_client.session import (
    DEFAULT_BASE_URL,
    ClientConfigError,
    TokenCache,
    default_token_path,
    load_credentials,
)


@dataclass
class ClientDeps:
    """What the commands use to reach the API; tests put a TestClient and a no-op sleep here."""

    http: httpx.Client | None = None
    sleep: Callable[[float], None] = time.sleep


BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="JTAI_BASE_URL",
        help=f"The API (default: the one logged in to, else {DEFAULT_BASE_URL})",
        show_default=False,
    ),
]
CredentialsFile = Annotated[
    Path | None,
    typer.Option(
        "--credentials-file",
        envvar="JTAI_CREDENTIALS_FILE",
        help="JSON with client_id and client_secret, mode 0600 "
        "(else JTAI_CLIENT_ID and JTAI_CLIENT_SECRET)",
        dir_okay=False,
    ),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        envvar="JTAI_TOKEN_FILE",
        help="Where the token is cached (default: ~/.cache/jtai/token.json)",
        dir_okay=False,
    ),
]


@dataclass(frozen=True)
class Connection:
    base_url: str | None
    credentials_file: Path | None
    token_file: Path | None


def deps_of(ctx: typer.Context) -> ClientDeps:
    return ctx.obj if isinstance(ctx.obj, ClientDeps) else ClientDeps()


def warn(message: str) -> None:
    echo(message, err=True)


def open_client(ctx: typer.Context, connection: Connection) -> ExchangeClient:
    deps = deps_of(ctx)
    credentials = load_credentials(connection.credentials_file, os.environ)
    cache = TokenCache(connection.token_file or default_token_path())
    cached = cache.load()
    base_url = connection.base_url or (cached.base_url if cached else DEFAULT_BASE_URL)
    return ExchangeClient(
        base_url,
        deps.http,
        credentials=credentials,
        cache=cache,
        retry=RetryPolicy(sleep=deps.sleep),
        notify=warn,
    )


@contextmanager
def reporting() -> Iterator[None]:
    """Errors as one line on stderr and an exit code, not a traceback."""
    try:
        yield
    except (ClientConfigError, WouldOverwrite) as exc:
        warn(f"error: {exc}")
        raise typer.Exit(2) from None
    except (ApiError, VerificationFailed) as exc:
        warn(f"error: {exc}")
        raise typer.Exit(1) from None
    except httpx.TransportError as exc:
        warn(f"error: cannot reach the exchange: {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    except OSError as exc:
        warn(f"error: {exc}")
        raise typer.Exit(1) from None
