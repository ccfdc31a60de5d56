from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from app.child_lists import reading, search, service
from app.child_lists.arriving import peeked
from app.child_lists.contract import (
    FILE_ANSWER,
    LIST_BODY_DOC,
    OCTET_STREAM,
    ZIP_SIGNATURE,
    read_as,
)
from app.child_lists.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    ExportRow,
    RowFormatter,
    csv_chunks,
    write_xlsx,
)
from app.child_lists.filters import row_query
from app.child_lists.parsing.isolated import IsolatedListReader
from app.child_lists.parsing.types import MEDIA_TYPES, ListRead
from app.child_lists.repository import Contribution
from app.child_lists.schemas import (
    ChildFound,
    ChildListRows,
    ChildRead,
    ListPage,
    ListProblem,
    ListVersionRead,
    ListVersionWithReport,
    PushResult,
    ValidationReport,
    list_page_json,
    rows_read,
)
from app.child_lists.templates import build_template
from app.core.deps import AppSettings, DbSession, app_component
from app.core.edge import BodyKind, edge
from app.core.errors import (
    InvalidContent,
    ProblemItem,
    UnsupportedMediaType,
    error_responses,
)
from app.core.pagination import Page, PageParams, page_params
from app.core.preconditions import version_from_if_match
from app.core.sandbox import SandboxBusy
from app.core.threads import blocking_iter
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext
from app.storage import download_headers

ListReaderDep = Annotated[IsolatedListReader, Depends(app_component("list_reader"))]
SupplierQuery = Annotated[
    uuid.UUID | None,
    Query(description="Only this supplier's rows or versions: an organisation id"),
]

router = APIRouter(prefix="/v1/inspections/{inspection_id}", tags=["child lists"])


def _report(result: ListRead, stored: bool) -> ValidationReport:
    return ValidationReport(
        accepted=result.accepted,
        stored=stored,
        rows=result.row_count,
        errors=result.error_count,
        warnings=result.warning_count,
        problems=[ListProblem.model_validate(asdict(p)) for p in result.problems],
        problems_total=result.problem_count,
        sheet=result.sheet,
    )


def _refuse(result: ListRead) -> InvalidContent:
    report = _report(result, stored=False)
    errors = [
        ProblemItem(field=p.field, code=p.code, message=p.message, row=p.row, value=p.value)
        for p in report.problems
        if p.severity == "error"
    ]
    return InvalidContent(
        f"The list has {result.error_count} error(s); nothing was stored.",
        code="invalid_list",
        errors=errors,
        extra={"report": report.model_dump(mode="json")},
    )


def _media_type(content_type: str | None) -> str:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in (*MEDIA_TYPES, OCTET_STREAM):
        raise UnsupportedMediaType(
            f"Send the list as one of: {', '.join((*MEDIA_TYPES, OCTET_STREAM))}.",
            code="unsupported_list_format",
        )
    return media_type


@router.put(
    "/lists/{list_key}",
    response_model=PushResult,
    status_code=201,
    responses={
        200: {"model": PushResult, "description": "Dry run: valid, nothing stored"},
        **error_responses(401, 403, 404, 408, 409, 412, 413, 415, 422, 503),
    },
    openapi_extra=LIST_BODY_DOC,
    summary="Push a new version of your contribution to a child list (JSON, CSV or Excel)",
    description="A list compiled jointly has one contribution per responsible organisation: "
    "a push replaces only the caller's organisation's contribution. Versions, and `If-Match`, "
    "are per contribution.",
)
@edge(body=BodyKind.LIST)
async def push_list(
    list_key: str,
    request: Request,
    response: Response,
    session: DbSession,
    reader: ListReaderDep,
    settings: AppSettings,
    context: InspectionContext = inspection_context("push_list"),
    dry_run: Annotated[bool, Query(description="Validate only; store nothing")] = False,
    if_match: Annotated[str | None, Header(description="The version number pushed over")] = None,
) -> PushResult:
    spec = service.push_target(context, list_key)
    media_type = _media_type(request.headers.get("content-type"))
    try:
        # A free reader first, the body after: pushes waiting for one hold no body in memory
        # and no thread, and give up with 503 rather than queue without end.
        async with reader.slot():
            head, body = await peeked(
                request.stream(), len(ZIP_SIGNATURE), settings.list_body_seconds
            )
            push = service.Push(
                context,
                spec,
                # Passed on to the reader as it arrives, in the thread: never held whole here.
                blocking_iter(body),
                read_as(media_type, head),
                dry_run,
                version_from_if_match(if_match),
                reader,
            )
            # Parsing and storing are CPU and database work: off the event loop.
            outcome = await anyio.to_thread.run_sync(partial(service.push_list, session, push))
    except SandboxBusy:
        raise service.readers_busy() from None
    if not outcome.result.accepted:
        raise _refuse(outcome.result)
    if outcome.version is None:
        response.status_code = 200
        return PushResult(version=None, report=_report(outcome.result, stored=False))
    response.headers["ETag"] = f'"{outcome.version.number}"'
    pushed = Contribution(outcome.version, context.actor.organisation_name)
    return PushResult(
        version=ListVersionRead.of(pushed),
        report=_report(outcome.result, stored=True),
    )


def _row_query(request: Request, sort: str, descending: bool) -> reading.RowQuery:
    reserved = {"limit", "offset", "sort", "descending", "version", "supplier"}
    return row_query(request.query_params.items(), reserved, sort, descending)


ACCEPT_DOC = (
    "The merged list: the current version of every supplier's contribution, each row with "
    "its supplier (two suppliers naming a child give two rows). `?supplier=<organisation id>` "
    "reads one supplier's; `?version=N` an older version of one contribution (with "
    "`supplier` when several have a version N). "
    "Filters: `?<field>=<value>` for equality, `?<date field>_from=yyyy-mm-dd` and `_to` for "
    "ranges. `Accept: text/csv` or the xlsx media type downloads the whole list, with a "
    "last column naming each row's supplier."
)


@router.get(
    "/lists/{list_key}",
    response_model=ListPage,
    responses={
        200: {
            "content": {CSV_MEDIA_TYPE: FILE_ANSWER, XLSX_MEDIA_TYPE: FILE_ANSWER},
            "description": "A page of rows, or the whole list as a download",
        },
        **error_responses(401, 403, 404, 422),
    },
    summary="Read a list: every supplier's current contribution, merged",
    description=ACCEPT_DOC,
)
def read_list(
    list_key: str,
    request: Request,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    context: InspectionContext = inspection_context("read_list"),
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="A version number")
    ] = None,
    supplier: SupplierQuery = None,
    sort: Annotated[str, Query(max_length=64, description="row_number or a field key")] = (
        "row_number"
    ),
    descending: bool = False,
) -> Any:
    accept = request.headers.get("accept", "")
    if CSV_MEDIA_TYPE in accept or XLSX_MEDIA_TYPE in accept:
        export = reading.export_list(session, context, list_key, version, supplier)
        return _download(context, export, xlsx=XLSX_MEDIA_TYPE in accept)
    query = _row_query(request, sort, descending)
    found = reading.read_page(
        session,
        context,
        list_key,
        version,
        supplier,
        query,
        limit=paging.limit,
        offset=paging.offset,
    )
    following = paging.offset + len(found.rows)
    page = ListPage.model_construct(
        list_key=list_key,
        contributions=[ListVersionRead.of(c) for c in found.contributions],
        items=[],
        limit=paging.limit,
        offset=paging.offset,
        total=found.total,
        next_offset=following if following < found.total else None,
    )
    return Response(list_page_json(page, found.rows), media_type="application/json")


def _download(context: InspectionContext, export: reading.ListExport, *, xlsx: bool) -> Response:
    formatter = RowFormatter(context.theme, export.spec)
    filename = export.spec.key
    if len(export.contributions) == 1:
        filename += f"-v{export.contributions[0].version.number}"
    rows = ((r.row.data, r.contribution.organisation_name or "") for r in export.rows)
    if xlsx:
        sheet = export.spec.workbook_sheet or export.spec.key
        return _xlsx_download(formatter, rows, sheet, filename)
    return StreamingResponse(
        csv_chunks(formatter, rows),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers=download_headers(f"{filename}.csv"),
    )


def _xlsx_download(
    formatter: RowFormatter, rows: Iterable[ExportRow], sheet: str, filename: str
) -> FileResponse:
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    handle.close()
    path = Path(handle.name)
    write_xlsx(formatter, rows, sheet, path)
    return FileResponse(
        path,
        media_type=XLSX_MEDIA_TYPE,
        headers=download_headers(f"{filename}.xlsx"),
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get(
    "/lists/{list_key}/versions",
    response_model=list[ListVersionWithReport],
    responses=error_responses(401, 403, 404),
    summary="Every version of a list, newest first, with its supplier and warnings",
    description="Agencies see only their own organisation's pushes; inspectors every "
    "supplier's (`?supplier=` for one).",
)
def list_versions(
    list_key: str,
    session: DbSession,
    context: InspectionContext = inspection_context("list_versions"),
    supplier: SupplierQuery = None,
) -> list[ListVersionWithReport]:
    return [
        ListVersionWithReport.of(contribution)
        for contribution in reading.list_history(session, context, list_key, supplier)
    ]


@router.get(
    "/lists/{list_key}/versions/{number}",
    response_model=ListVersionWithReport,
    responses=error_responses(401, 403, 404, 422),
    summary="One version of a contribution to a list, with its warnings",
    description="For an agency, a version of its own contribution; for inspectors, of the "
    "supplier named (`?supplier=`, needed when several suppliers have a version N).",
)
def get_list_version(
    list_key: str,
    number: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    session: DbSession,
    context: InspectionContext = inspection_context("get_list_version"),
    supplier: SupplierQuery = None,
) -> ListVersionWithReport:
    found = reading.list_version(session, context, list_key, number, supplier)
    return ListVersionWithReport.of(found)


@router.get(
    "/lists/{list_key}/template.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {XLSX_MEDIA_TYPE: FILE_ANSWER, OCTET_STREAM: FILE_ANSWER},
            "description": "The Excel template",
        },
        **error_responses(401, 403, 404),
    },
    summary="The Excel template for a list of the inspection's theme",
)
def get_list_template(
    list_key: str,
    context: InspectionContext = inspection_context("get_list_template"),
) -> Response:
    spec = service.list_spec(context.theme, list_key)
    return Response(
        build_template(context.theme, spec),
        media_type=XLSX_MEDIA_TYPE,
        headers=download_headers(f"{list_key}-template.xlsx"),
    )


@router.get(
    "/children",
    response_model=Page[ChildFound],
    responses=error_responses(401, 403, 404, 422),
    summary="Find children across every current list (inspectors)",
    description="`q`: the start of a child ID (as stored, case and all); filters as a list's "
    "read has them (`?<field>=<value>`, `?<date field>_from=` / `_to=`) keep children with a "
    "row meeting all of them in a list that has those fields. Each child found names the "
    "selections it is in and the lists, suppliers and versions it appears in, not its rows.",
)
def find_children(
    request: Request,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    context: InspectionContext = inspection_context("find_children"),
    q: Annotated[
        str, Query(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$", description="ID prefix")
    ] = "",
) -> Page[ChildFound]:
    query = row_query(request.query_params.items(), {"q", "limit", "offset"})
    found = search.find_children(
        session, context, q, query, limit=paging.limit, offset=paging.offset
    )
    return Page[ChildFound].build([ChildFound.of(c) for c in found.children], paging, found.total)


@router.get(
    "/children/{child_id}",
    response_model=ChildRead,
    responses=error_responses(401, 403, 404),
    summary="One child across every list of the inspection",
)
def get_child(
    child_id: str,
    session: DbSession,
    context: InspectionContext = inspection_context("get_child"),
) -> ChildRead:
    view = reading.child_view(session, context, child_id)
    return ChildRead(
        child_id=child_id,
        selections=view.selections,
        lists=[
            ChildListRows(list_key=key, rows=rows_read(rows))
            for key, rows in sorted(view.lists.items())
        ],
    )
