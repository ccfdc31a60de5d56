"""``jtai client login|push-list|upload|download|events|webhook-verify``: the typer sub-app.

Exit codes: 0 all done, 1 something failed or was refused, 2 the command cannot start
(credentials, options, files).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from jtai_client import reads
from jtai_client.api import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, ApiError
from jtai_client.downloads import download
from jtai_client.events import Feed, json_line, load_cursor, read_events, save_cursor
from jtai_client.options import (
    BaseUrl,
    ClientDeps,
    Connection,
    CredentialsFile,
    TokenFile,
    open_client,
    reporting,
    warn,
)
from jtai_client.progress import echo, print_table, progress_bars
from jtai_client.session import ClientConfigError
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

__all__ = ["ClientDeps", "client_app"]

client_app = typer.Typer(
    help="Script bulk work against a JTAI Exchange: log in, push lists, upload, download; "
    "fetch a list's template, see the requests asked of you and the tracked children.",
    no_args_is_help=True,
)
client_app.command("template")(reads.template)
client_app.command("requests")(reads.requests)
client_app.command("children")(reads.children)


@client_app.command()
def login(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """Get a token with the client credentials, cache it (0600) and say who you are."""
    with reporting(), open_client(ctx, Connection(base_url, credentials_file, token_file)) as api:
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
            ["row", "column", "value", "severity", "code", "message"],
            [
                [
                    p.get("row"),
                    p.get("column") or p.get("field"),
                    p.get("value"),  # what the file holds there, as the exchange read it
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
    with reporting(), open_client(ctx, Connection(base_url, credentials_file, token_file)) as api:
        media_type = _media_type(file)
        try:
            # Lists are bounded (50 MB) and the server validates the whole body at once.
            result = api.push_list(
                inspection_id, list_key, file.read_bytes(), media_type, dry_run, if_match
            )
        except KeyboardInterrupt:
            _interrupted_push(list_key)
        except ApiError as exc:
            report = exc.problem.get("report")
            if not isinstance(report, dict):
                raise
            _print_report(report, "Refused, nothing stored")
            raise typer.Exit(1) from None
    version = result.get("version")
    verdict = f"Stored as version {version['number']}" if version else "Valid (dry run)"
    _print_report(result["report"], verdict)
    _warn_if_empty(result["report"], file)


def _warn_if_empty(report: dict[str, Any], file: Path) -> None:
    """An empty push is allowed (it says "nothing to add"), but is more often a workbook whose
    list is on another sheet than the one read: say which."""
    if report.get("rows", 0):
        return
    sheet = report.get("sheet")
    where = f"on the sheet '{sheet}' of {file.name}" if sheet else f"in {file.name}"
    hint = (
        " (the exchange reads the sheet named after the list, e.g. List_1, else the first "
        "visible sheet)"
        if sheet
        else ""
    )
    warn(f"warning: no rows found {where}{hint}")


INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C (128 + SIGINT)


def _interrupted_push(list_key: str) -> NoReturn:
    warn(
        f"interrupted: the push of '{list_key}' may or may not have been stored (the exchange "
        "stores a list whole or not at all, never part of one). A push replaces your whole "
        "contribution, so running the same command again is safe; add --if-match N to replace "
        "only your version N."
    )
    raise typer.Exit(INTERRUPTED)


def _interrupted_upload(
    done: list[Outcome], planned: int, command: str, state_path: Path
) -> NoReturn:
    finished = [o for o in done if o.ok]
    echo("")  # past the stopped progress bars
    if finished:
        _print_outcomes(finished, summary=False)
    warn(
        f"interrupted: {len(finished)} of {planned} files were uploaded before it and are "
        f"kept; the parts of a big file already sent are kept too, in {state_path}. Run the "
        f"same command again to resume (nothing is sent twice): {command}"
    )
    raise typer.Exit(INTERRUPTED)


def _print_outcomes(outcomes: list[Outcome], summary: bool = True) -> None:
    """A table of ids (never folded), then each failure on a line of its own: an error
    folded into a narrow table cell is hard to read and cannot be searched for."""
    print_table(
        "Uploads",
        ["file", "request", "result", "document"],
        [[o.file, o.request_id, o.result, o.document_id] for o in outcomes],
        id_columns=("request", "document"),
    )
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        echo(f"failed: {outcome.file}: {outcome.error}")
    if summary:
        echo(f"{len(outcomes) - len(failed)} of {len(outcomes)} files done, {len(failed)} failed")


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
    with reporting(), open_client(ctx, Connection(base_url, credentials_file, token_file)) as api:
        state_path = state or default_state_path(path)
        skip = {state_path.resolve(), *([manifest.resolve()] if manifest else [])}
        matcher = Matcher(api, inspection_id, read_manifest(manifest) if manifest else {})
        planned, outcomes = plan_uploads(matcher, path, skip)
        uploader = Uploader(
            api,
            UploadState(state_path),
            progress_bars(progress),
            large_file_bytes,
            matcher.existing_document,
        )
        try:
            with uploader.bars:  # stopped (not left frozen) however the run ends
                outcomes = uploader.run(planned) + outcomes
        except KeyboardInterrupt:
            again = f"jtai client upload {inspection_id} {path}"
            again += f" --manifest {manifest}" if manifest else ""
            again += f" --state {state}" if state else ""
            _interrupted_upload(uploader.done, len(planned), again, state_path)
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
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a file that is there already")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """Download a document, verify its SHA-256 and only then put it in place (never over an
    existing file, unless --overwrite)."""
    connection = Connection(base_url, credentials_file, token_file)
    with reporting(), open_client(ctx, connection) as api, progress_bars(progress) as bars:
        done = download(api, document_id, output, bars, overwrite)
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

    with reporting(), open_client(ctx, connection) as api:
        cursor = read_events(api, feed, emit, lambda reached: save_cursor(cursor_file, reached))
    warn(f"cursor: {cursor}")


# Kept in a module of its own: it needs no API, only the payload and the secret.
client_app.command("webhook-verify")(webhook_verify)
