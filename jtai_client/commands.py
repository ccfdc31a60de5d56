"""``jtai client login|push-list|upload|download|events|webhook-verify``: the typer sub-app.

Exit codes: 0 all done, 1 something failed or was refused, 2 the command cannot start
(credentials, options, files).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from jtai_client.api import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, ApiError, ExchangeClient, RetryPolicy
from jtai_client.downloads import VerificationFailed, download
from jtai_client.events import Feed, json_line, load_cursor, read_events, save_cursor
from jtai_client.progress import echo, print_table, progress_bars
from jtai_client.session import (
    DEFAULT_BASE_URL,
    ClientConfigError,
    TokenCache,
    default_token_path,
    load_credentials,
)
from jtai_client.uploads.plan import (
    LARGE_FILE_BYTES,
    Matcher,
    Outcome,
    plan_uploads,
    read_manifest,
)
from jtai_client.uploads.state import UploadState, default_state_path
from jtai_client.uploads.transfer import Uploader
from jtai_client.webhook_verify import webhook_verify

client_app = typer.Typer(
    help="Script bulk work against a JTAI Exchange: log in, push lists, upload, download.",
    no_args_is_help=True,
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


def _deps(ctx: typer.Context) -> ClientDeps:
    return ctx.obj if isinstance(ctx.obj, ClientDeps) else ClientDeps()


def _warn(message: str) -> None:
    echo(message, err=True)


def _open(ctx: typer.Context, connection: Connection) -> ExchangeClient:
    deps = _deps(ctx)
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
        notify=_warn,
    )


@contextmanager
def _reporting() -> Iterator[None]:
    """Errors as one line on stderr and an exit code, not a traceback."""
    try:
        yield
    except ClientConfigError as exc:
        _warn(f"error: {exc}")
        raise typer.Exit(2) from None
    except (ApiError, VerificationFailed) as exc:
        _warn(f"error: {exc}")
        raise typer.Exit(1) from None
    except httpx.TransportError as exc:
        _warn(f"error: cannot reach the exchange: {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    except OSError as exc:
        _warn(f"error: {exc}")
        raise typer.Exit(1) from None


@client_app.command()
def login(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """Get a token with the client credentials, cache it (0600) and say who you are."""
    with _reporting(), _open(ctx, Connection(base_url, credentials_file, token_file)) as api:
        token = api.login()
        me = api.me()
    organisation = me["organisation"]
    until = datetime.fromtimestamp(token.expires_at, UTC).isoformat(timespec="seconds")
    echo(
        f"Logged in to {api.base_url} as {me['client_name']} ({me['client_id']}) of "
        f"{organisation['name']} ({organisation['kind']}); roles: {', '.join(me['roles'])}; "
        f"token valid until {until}"
    )


def _media_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CSV_MEDIA_TYPE
    if suffix == ".xlsx":
        return XLSX_MEDIA_TYPE
    raise ClientConfigError(f"{path}: send a .csv or .xlsx file")


def _print_report(report: dict[str, Any], verdict: str) -> None:
    problems = report.get("problems") or []
    if problems:
        print_table(
            "Validation report",
            ["row", "column", "severity", "code", "message"],
            [
                [
                    p.get("row"),
                    p.get("column") or p.get("field"),
                    p.get("severity"),
                    p["code"],
                    p["message"],
                ]
                for p in problems
            ],
        )
    shown = "" if len(problems) >= report.get("problems_total", 0) else " (first ones shown)"
    echo(
        f"{verdict}: {report.get('rows', 0)} rows, {report.get('errors', 0)} errors, "
        f"{report.get('warnings', 0)} warnings{shown}"
    )


@client_app.command("push-list")
def push_list(
    ctx: typer.Context,
    inspection_id: Annotated[str, typer.Argument(help="The inspection")],
    list_key: Annotated[str, typer.Argument(help="e.g. children-in-need, child-protection")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .xlsx")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only")] = False,
    if_match: Annotated[
        int | None, typer.Option("--if-match", help="Refuse unless this is the current version")
    ] = None,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """Push a CSV or Excel list and print its validation report; exit 1 when refused."""
    with _reporting(), _open(ctx, Connection(base_url, credentials_file, token_file)) as api:
        media_type = _media_type(file)
        try:
            # Lists are bounded (50 MB) and the server validates the whole body at once.
            result = api.push_list(
                inspection_id, list_key, file.read_bytes(), media_type, dry_run, if_match
            )
        except ApiError as exc:
            report = exc.problem.get("report")
            if not isinstance(report, dict):
                raise
            _print_report(report, "Refused, nothing stored")
            raise typer.Exit(1) from None
    version = result.get("version")
    verdict = f"Stored as version {version['number']}" if version else "Valid (dry run)"
    _print_report(result["report"], verdict)


def _print_outcomes(outcomes: list[Outcome]) -> None:
    print_table(
        "Uploads",
        ["file", "request", "result", "document / error"],
        [[o.file, o.request_id, o.result, o.error or o.document_id] for o in outcomes],
    )
    failed = sum(not o.ok for o in outcomes)
    echo(f"{len(outcomes) - failed} of {len(outcomes)} files done, {failed} failed")


@client_app.command()
def upload(
    ctx: typer.Context,
    inspection_id: Annotated[str, typer.Argument(help="The inspection")],
    path: Annotated[Path, typer.Argument(exists=True, help="A file or a folder")],
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest",
            exists=True,
            dir_okay=False,
            help="CSV: file,request_id[,document_kind]",
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            dir_okay=False,
            help="Resume state file (default: .jtai-upload-state.json under PATH)",
        ),
    ] = None,
    large_file_bytes: Annotated[
        int, typer.Option("--large-file-bytes", min=1, hidden=True)
    ] = LARGE_FILE_BYTES,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """Upload a file or a folder, each file to its request; re-runs resume and never duplicate.

    Files are matched by the manifest, else by the child id that starts the name
    (C1001_plan.pdf goes to your case-file request for child C1001). A case file names its
    kind (one of the request's categories) first after the child id, as "plan" does there,
    or in the manifest's document_kind column.
    """
    with _reporting(), _open(ctx, Connection(base_url, credentials_file, token_file)) as api:
        state_path = state or default_state_path(path)
        skip = {state_path.resolve(), *([manifest.resolve()] if manifest else [])}
        matcher = Matcher(api, inspection_id, read_manifest(manifest) if manifest else {})
        planned, outcomes = plan_uploads(matcher, path, skip)
        with progress_bars(progress) as bars:
            uploader = Uploader(
                api, UploadState(state_path), bars, large_file_bytes, matcher.existing_document
            )
            outcomes = uploader.run(planned) + outcomes
    _print_outcomes(outcomes)
    if not all(o.ok for o in outcomes):
        raise typer.Exit(1)


@client_app.command("download")
def download_command(
    ctx: typer.Context,
    document_id: Annotated[str, typer.Argument(help="The document")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File or folder (default: the document's name here)"),
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """Download a document, verify its SHA-256 and only then put it in place."""
    connection = Connection(base_url, credentials_file, token_file)
    with _reporting(), _open(ctx, connection) as api, progress_bars(progress) as bars:
        done = download(api, document_id, output, bars)
    echo(f"{done.path} ({done.size} bytes, SHA-256 {done.sha256} verified)")


@client_app.command("events")
def events_command(
    ctx: typer.Context,
    after: Annotated[
        str | None,
        typer.Option("--after", help="Resume after this cursor (default: the cursor file's)"),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep waiting for new events (long-polling)")
    ] = False,
    cursor_file: Annotated[
        Path | None,
        typer.Option(
            "--cursor-file", dir_okay=False, help="Read the cursor from and save it to this file"
        ),
    ] = None,
    max_requests: Annotated[int | None, typer.Option("--max-requests", min=1, hidden=True)] = None,
    wait: Annotated[int, typer.Option("--wait", min=0, max=30, hidden=True)] = 30,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """Print the caller's events, oldest first, one JSON object a line on stdout."""
    connection = Connection(base_url, credentials_file, token_file)
    start = after if after is not None else load_cursor(cursor_file)
    feed = Feed(after=start, follow=follow, max_requests=max_requests, wait=wait)

    def emit(item: dict[str, Any]) -> None:
        # Flushed a line at a time: a pipe's reader acts on each event as it comes.
        print(json_line(item), flush=True)

    with _reporting(), _open(ctx, connection) as api:
        cursor = read_events(api, feed, emit, lambda reached: save_cursor(cursor_file, reached))
    _warn(f"cursor: {cursor}")


# Kept in a module of its own: it needs no API, only the payload and the secret.
client_app.command("webhook-verify")(webhook_verify)
