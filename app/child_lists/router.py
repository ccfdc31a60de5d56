from __future__ import annotations

import tempfile
from dataclasses import asdict
from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from app.audit import chain as audit
from app.child_lists import repository, service
from app.child_lists.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    RowFormatter,
    csv_chunks,
    write_xlsx,
)
from app.child_lists.model import MEDIA_TYPES, IngestResult
from app.child_lists.repository import StoredRow
from app.child_lists.schemas import (
    ChildListRows,
    ChildRead,
    ListPage,
    ListProblem,
    ListRowRead,
    ListVersionRead,
    ListVersionWithReport,
    PushResult,
    ValidationReport,
)
from app.child_lists.templates import build_template
from app.core.deps import DbSession, State
from app.core.edge import BodyKind, edge
from app.core.errors import InvalidContent, ProblemItem, UnsupportedMediaType, error_responses
from app.core.pagination import PageParams, page_params
from app.core.preconditions import version_from_if_match
from app.core.sandbox import SandboxBusy
from app.inspections.access import InspectionAccess, authorize_inspection
from app.schedule.service import Clock
from app.storage import download_headers

router = APIRouter(prefix="/v1/inspections/{inspection_id}", tags=["child lists"])

LIST_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"rows": {"type": "array", "items": {"type": "object"}}},
                    "required": ["rows"],
                }
            },
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _report(result: IngestResult, stored: bool) -> ValidationReport:
    return ValidationReport(
        accepted=result.accepted,
        stored=stored,
        rows=result.row_count,
        errors=result.error_count,
        warnings=result.warning_count,
        problems=[ListProblem.model_validate(asdict(p)) for p in result.problems],
        problems_total=result.problem_count,
    )


def _refuse(result: IngestResult) -> InvalidContent:
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
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Send the list as one of: {', '.join(MEDIA_TYPES)}.",
            code="unsupported_list_format",
        )
    return media_type


@router.put(
    "/lists/{list_key}",
    response_model=PushResult,
    status_code=201,
    responses={
        200: {"model": PushResult, "description": "Dry run: valid, nothing stored"},
        **error_responses(401, 403, 404, 409, 412, 413, 415, 422, 503),
    },
    openapi_extra=LIST_BODY_DOC,
    summary="Push a new version of a child list (JSON, CSV or the Excel workbook)",
)
@edge(body=BodyKind.LIST)
async def push_list(
    list_key: str,
    request: Request,
    response: Response,
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("push_list"),
    dry_run: Annotated[bool, Query(description="Validate only; store nothing")] = False,
    if_match: Annotated[str | None, Header(description="The version number pushed over")] = None,
) -> PushResult:
    inspection = access.inspection
    theme = state.themes.get(inspection.theme)
    spec = service.list_spec(theme, list_key)
    service.check_may_push(access.principal, spec)
    media_type = _media_type(request.headers.get("content-type"))
    clock = Clock.from_settings(state.settings)
    try:
        # A free reader first, the body after: pushes waiting for one hold no body in memory
        # and no thread, and give up with 503 rather than queue without end.
        async with state.list_reader.slot():
            push = service.Push(
                inspection,
                theme,
                spec,
                access.principal,
                await request.body(),
                media_type,
                dry_run,
                version_from_if_match(if_match),
                state.list_reader,
            )
            # Parsing and storing are CPU and database work: off the event loop.
            outcome = await anyio.to_thread.run_sync(
                partial(service.push_list, session, push, clock)
            )
    except SandboxBusy:
        raise service.readers_busy() from None
    if not outcome.result.accepted:
        raise _refuse(outcome.result)
    if outcome.version is None:
        response.status_code = 200
        return PushResult(version=None, report=_report(outcome.result, stored=False))
    audit.record(
        session,
        access.principal,
        "list.pushed",
        "list",
        list_key,
        inspection_id=inspection.id,
        detail={
            "version": outcome.version.number,
            "rows": outcome.version.row_count,
            "sha256": outcome.version.body_sha256,
            "late": outcome.version.late,
        },
    )
    response.headers["ETag"] = f'"{outcome.version.number}"'
    return PushResult(
        version=ListVersionRead.model_validate(outcome.version),
        report=_report(outcome.result, stored=True),
    )


def _row_query(request: Request, sort: str, descending: bool) -> service.RowQuery:
    reserved = {"limit", "offset", "sort", "descending", "version"}
    equals: dict[str, str] = {}
    date_from: dict[str, date] = {}
    date_to: dict[str, date] = {}
    for name, value in request.query_params.items():
        if name in reserved:
            continue
        try:
            if name.endswith("_from"):
                date_from[name.removesuffix("_from")] = date.fromisoformat(value)
            elif name.endswith("_to"):
                date_to[name.removesuffix("_to")] = date.fromisoformat(value)
            else:
                equals[name] = value
        except ValueError:
            problem = ProblemItem(
                field=f"query.{name}", code="invalid_date", message="not a date", value=value[:100]
            )
            raise InvalidContent(
                f"'{name}' needs an ISO date (yyyy-mm-dd).", code="invalid_filter", errors=[problem]
            ) from None
    return service.RowQuery(equals, date_from, date_to, sort, descending)


ACCEPT_DOC = (
    "Filters: `?<field>=<value>` for equality, `?<date field>_from=yyyy-mm-dd` and `_to` for "
    "ranges. `Accept: text/csv` or the xlsx media type downloads the whole list."
)


@router.get(
    "/lists/{list_key}",
    response_model=ListPage,
    responses={
        200: {
            "content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}},
            "description": "A page of rows, or the whole list as a download",
        },
        **error_responses(401, 403, 404, 422),
    },
    summary="Read the current (or an older) version of a list",
    description=ACCEPT_DOC,
)
def read_list(
    list_key: str,
    request: Request,
    session: DbSession,
    state: State,
    paging: Annotated[PageParams, Depends(page_params)],
    access: InspectionAccess = authorize_inspection("read_list"),
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="A version number")
    ] = None,
    sort: Annotated[str, Query(max_length=64, description="row_number or a field key")] = (
        "row_number"
    ),
    descending: bool = False,
) -> Any:
    inspection = access.inspection
    theme = state.themes.get(inspection.theme)
    spec = service.list_spec(theme, list_key)
    found = service.require_version(session, inspection, spec, version)
    accept = request.headers.get("accept", "")
    audit_detail = {"version": found.number}
    if CSV_MEDIA_TYPE in accept or XLSX_MEDIA_TYPE in accept:
        audit.record(
            session,
            access.principal,
            "list.exported",
            "list",
            list_key,
            inspection_id=inspection.id,
            detail=audit_detail | {"rows": found.row_count},
        )
        rows = list(service.all_rows(session, found))
        formatter = RowFormatter(theme, spec)
        filename = f"{list_key}-v{found.number}"
        if XLSX_MEDIA_TYPE in accept:
            return _xlsx_download(formatter, rows, spec.workbook_sheet or list_key, filename)
        return StreamingResponse(
            csv_chunks(formatter, rows),
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers=download_headers(f"{filename}.csv"),
        )
    query = _row_query(request, sort, descending)
    items, total = service.page(session, found, spec, query, paging.limit, paging.offset)
    audit.record(
        session,
        access.principal,
        "list.read",
        "list",
        list_key,
        inspection_id=inspection.id,
        detail=audit_detail | {"rows": len(items)},
    )
    following = paging.offset + len(items)
    page = ListPage.model_construct(
        list_key=list_key,
        version=ListVersionRead.model_validate(found),
        items=[_row(r) for r in items],
        limit=paging.limit,
        offset=paging.offset,
        total=total,
        next_offset=following if following < total else None,
    )
    # The rows were validated when pushed: serialise straight to bytes, the hot path of reads.
    return Response(page.model_dump_json(), media_type="application/json")


def _row(row: StoredRow) -> ListRowRead:
    return ListRowRead.model_construct(
        row_number=row.row_number, child_id=row.child_id, data=row.data
    )


def _xlsx_download(
    formatter: RowFormatter, rows: list[dict[str, Any]], sheet: str, filename: str
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
    summary="Every version of a list, newest first, with its warnings",
)
def list_versions(
    list_key: str,
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("list_versions"),
) -> list[ListVersionWithReport]:
    theme = state.themes.get(access.inspection.theme)
    spec = service.list_spec(theme, list_key)
    if access.principal.is_agency:
        # An agency sees the history of the lists it provides, not of others.
        service.check_may_push(access.principal, spec)
    return [
        ListVersionWithReport.model_validate(version)
        for version in repository.history(session, access.inspection.id, list_key)
    ]


@router.get(
    "/lists/{list_key}/template.xlsx",
    response_class=Response,
    responses={
        200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The Excel template"},
        **error_responses(401, 403, 404),
    },
    summary="The Excel template for a list of the inspection's theme",
)
def get_list_template(
    list_key: str,
    state: State,
    access: InspectionAccess = authorize_inspection("get_list_template"),
) -> Response:
    theme = state.themes.get(access.inspection.theme)
    spec = service.list_spec(theme, list_key)
    return Response(
        build_template(theme, spec),
        media_type=XLSX_MEDIA_TYPE,
        headers=download_headers(f"{list_key}-template.xlsx"),
    )


@router.get(
    "/children/{child_id}",
    response_model=ChildRead,
    responses=error_responses(401, 403, 404),
    summary="One child across every list of the inspection",
)
def get_child(
    child_id: str,
    session: DbSession,
    access: InspectionAccess = authorize_inspection("get_child"),
) -> ChildRead:
    view = service.child_view(session, access.inspection, access.principal, child_id)
    audit.record(
        session,
        access.principal,
        "child.viewed",
        "child",
        child_id,
        inspection_id=access.inspection.id,
        child_id=child_id,
        detail={"lists": sorted(view.lists)},
    )
    return ChildRead(
        child_id=child_id,
        selections=view.selections,
        lists=[
            ChildListRows(
                list_key=key,
                version=version.number,
                rows=[_row(r) for r in rows],
            )
            for key, (version, rows) in sorted(view.lists.items())
        ],
    )
