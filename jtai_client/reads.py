"""``jtai client template|requests|children``: what an agency otherwise needed curl for.

The template of a list to fill in, the requests asked of the caller's organisation (with what
each still owes), and the inspection's tracked children with the caller's case-file request
about each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from jtai_client.api import ApiError, ExchangeClient
from jtai_client.downloads import refuse_to_overwrite, write_new
from jtai_client.options import (
    BaseUrl,
    Connection,
    CredentialsFile,
    TokenFile,
    open_client,
    reporting,
)
from jtai_client.progress import echo, print_table

InspectionId = Annotated[str, typer.Argument(help="The inspection")]


def template(
    ctx: typer.Context,
    inspection_id: InspectionId,
    list_key: Annotated[str, typer.Argument(help="e.g. children-in-need, child-protection")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File or folder (default: LIST_KEY.xlsx here)"),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a file that is there already")
    ] = False,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """Save the Excel template of one of the inspection's lists, to fill in and push."""
    name = f"{list_key}.xlsx"
    target = output / name if output is not None and output.is_dir() else output or Path(name)
    connection = Connection(base_url, credentials_file, token_file)
    with reporting(), open_client(ctx, connection) as api:
        refuse_to_overwrite(target, overwrite)
        content = api.list_template(inspection_id, list_key)
        write_new(target, content, overwrite)
    echo(f"{target} ({len(content)} bytes): the template of '{list_key}'")


def _owed(request: dict[str, Any]) -> str:
    owed = [a for a in request.get("answers") or [] if a.get("status") == "owed"]
    return ", ".join(str(a.get("document_kind") or "the request") for a in owed)


def _mine(
    api: ExchangeClient, requests: list[dict[str, Any]], inspectors_see_all: bool = True
) -> list[dict[str, Any]]:
    """Those asked of the caller's organisation (an agency is shown only those anyway); an
    inspector, whom nothing is asked of, every request of the inspection unless not wanted."""
    me = api.me()
    organisation = str(me["organisation"]["id"])
    if inspectors_see_all and "agency" not in me.get("roles", []):
        return requests
    return [r for r in requests if organisation in map(str, r["addressee_organisation_ids"])]


def _short_time(value: Any) -> str | None:
    """``2030-03-12T23:59:59Z`` as ``2030-03-12 23:59``: fits a column without folding."""
    return str(value)[:16].replace("T", " ") if value else None


def _request_row(request: dict[str, Any]) -> list[Any]:
    """Ids and times that must not fold, then what is asked, in words that may wrap."""
    owed = _owed(request)
    asked = f"{request['title']} [{request['kind']}]" + (f"; owed: {owed}" if owed else "")
    return [
        request["id"],
        request.get("child_id"),
        _short_time(request.get("due_at")),
        request["state"],
        asked,
    ]


def requests(
    ctx: typer.Context,
    inspection_id: InspectionId,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only those still owing something")
    ] = False,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """The requests asked of you: what, about which child, by when, and what is still owed."""
    connection = Connection(base_url, credentials_file, token_file)
    with reporting(), open_client(ctx, connection) as api:
        asked = _mine(api, api.requests_of(inspection_id))
    if open_only:
        asked = [r for r in asked if _owed(r)]
    print_table(
        "Requests",
        ["request", "child", "due (UTC)", "state", "asked (and still owed)"],
        [_request_row(r) for r in asked],
        id_columns=("request",),
        whole_columns=("due (UTC)",),
    )
    echo(f"{len(asked)} requests; upload with: jtai client upload {inspection_id} FOLDER")


def children(
    ctx: typer.Context,
    inspection_id: InspectionId,
    base_url: BaseUrl = None,
    credentials_file: CredentialsFile = None,
    token_file: TokenFile = None,
) -> None:
    """The tracked children, each with your case-file request about the child (if any) and the
    kinds of document it still owes."""
    connection = Connection(base_url, credentials_file, token_file)
    with reporting(), open_client(ctx, connection) as api:
        try:
            tracked = [str(c) for c in api.selection(inspection_id, "tracked")["child_ids"]]
        except ApiError as exc:
            if exc.status != 404:
                raise
            tracked = []  # the lead has not chosen them yet
        # Only the caller's own: an inspector's children have no request of theirs.
        asked = _mine(api, api.requests_of(inspection_id), inspectors_see_all=False)
    case_files = {str(r["child_id"]): r for r in asked if r["kind"] == "case_file"}
    rows = []
    for child in tracked:
        request = case_files.get(child) or {}
        rows.append([child, request.get("id"), request.get("state"), _owed(request) or None])
    print_table(
        "Tracked children",
        ["child", "case-file request", "state", "owed"],
        rows,
        id_columns=("case-file request",),
    )
    echo(f"{len(tracked)} tracked children" if tracked else "No children are tracked yet.")
