"""Pushing and reading child lists: the rules around the parser and the store; no HTTP here."""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.child_lists import repository
from app.child_lists.model import (
    BodyTooLargeError,
    IngestContext,
    IngestError,
    IngestResult,
    ListReader,
    UnsupportedMediaTypeError,
)
from app.child_lists.models import ListVersion
from app.core.database import utcnow
from app.core.errors import (
    Conflict,
    Forbidden,
    InvalidContent,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ProblemItem,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from app.core.sandbox import SandboxBusy
from app.deadlines.service import due_at_for
from app.inspections.context import InspectionContext
from app.inspections.models import Inspection, InspectionStatus
from app.inspections.service import get_visible
from app.selections.service import selected_children
from app.themes.schema import ListSpec, Theme

MAX_WARNINGS_KEPT = 1000


def list_spec(theme: Theme, list_key: str) -> ListSpec:
    spec = theme.get_list(list_key)
    if spec is None:
        raise NotFound(f"The theme '{theme.key}' has no list '{list_key}'.")
    return spec


def check_may_push(principal: Principal, spec: ListSpec) -> None:
    if principal.organisation_kind.value not in spec.responsible:
        responsible = ", ".join(spec.responsible)
        raise Forbidden(
            f"Only these organisations provide '{spec.key}': {responsible}.",
            code="not_responsible_for_list",
        )


def push_target(context: InspectionContext, list_key: str) -> ListSpec:
    """The list a push goes to, if the caller's organisation provides it: checked before the
    body is read."""
    spec = list_spec(context.theme, list_key)
    check_may_push(context.actor, spec)
    return spec


@dataclass(frozen=True)
class Push:
    context: InspectionContext
    spec: ListSpec
    body: bytes
    media_type: str
    dry_run: bool
    if_match: int | None
    reader: ListReader

    @property
    def inspection(self) -> Inspection:
        return self.context.inspection

    @property
    def principal(self) -> Principal:
        return self.context.actor


@dataclass(frozen=True)
class PushOutcome:
    result: IngestResult
    version: ListVersion | None


def _check_precondition(session: Session, push: Push) -> int:
    """The next version number; 412 when If-Match names a version that is no longer current."""
    current = repository.current_versions(session, push.inspection.id, [push.spec.key])
    number = current[push.spec.key].number if push.spec.key in current else 0
    if push.if_match is not None and push.if_match != number:
        raise PreconditionFailed(
            f"The current version of '{push.spec.key}' is {number}, not {push.if_match}.",
            code="version_mismatch",
        )
    return number + 1


def _ingest_context(session: Session, push: Push) -> IngestContext:
    return IngestContext(
        today=utcnow().astimezone(push.context.clock.tz).date(),
        selections=selected_children(session, push.inspection.id),
    )


def read_push(push: Push, context: IngestContext) -> IngestResult:
    """Parse and check the body (in a sandboxed worker): no database work."""
    try:
        return push.reader(push.body, push.media_type, push.spec, push.context.theme, context)
    except SandboxBusy:
        raise readers_busy() from None
    except UnsupportedMediaTypeError as exc:
        raise UnsupportedMediaType(exc.message, code=exc.code) from None
    except BodyTooLargeError as exc:
        raise PayloadTooLarge(exc.message, code=exc.code) from None
    except IngestError as exc:
        raise InvalidContent(exc.message, code=exc.code) from None


def readers_busy() -> ServiceUnavailable:
    return ServiceUnavailable(
        "Every list reader is busy; nothing was stored. Retry in a minute.",
        code="list_readers_busy",
        headers={"Retry-After": "60"},
    )


def _check_still_writable(session: Session, push: Push) -> None:
    """The inspection as it is now: the caller may have been removed from it, or it closed,
    while the list was being read."""
    inspection = get_visible(session, push.principal, push.inspection.id)
    session.refresh(inspection, ["status"])
    if inspection.status is InspectionStatus.CLOSED:
        raise Conflict(
            "The inspection is closed; nothing more can be written.", code="inspection_closed"
        )


def push_list(session: Session, push: Push) -> PushOutcome:
    """Check, read, store and audit one push. Reading may take a minute, so the transaction
    that checked the precondition ends before it (no connection held, and on SQLite no
    lock), and the store re-checks everything in a new one."""
    check_may_push(push.principal, push.spec)
    _check_precondition(session, push)
    ingest_context = _ingest_context(session, push)
    session.commit()
    result = read_push(push, ingest_context)
    if push.dry_run or not result.accepted:
        return PushOutcome(result, None)
    _check_still_writable(session, push)
    version = _store(session, push, result)
    audit.record(
        session,
        push.principal,
        "list.pushed",
        "list",
        push.spec.key,
        inspection_id=push.inspection.id,
        detail={
            "version": version.number,
            "rows": version.row_count,
            "sha256": version.body_sha256,
            "late": version.late,
        },
    )
    return PushOutcome(result, version)


def _store(session: Session, push: Push, result: IngestResult) -> ListVersion:
    number = _check_precondition(session, push)
    context = push.context
    due_at = due_at_for(
        session, context.inspection, context.theme, push.spec.milestone, context.clock
    )
    now = utcnow()
    version = ListVersion(
        inspection_id=push.inspection.id,
        list_key=push.spec.key,
        number=number,
        created_at=now,
        client_id=push.principal.client_id,
        organisation_id=push.principal.organisation_id,
        media_type=push.media_type,
        body_sha256=hashlib.sha256(push.body).hexdigest(),
        row_count=result.row_count,
        warning_count=result.warning_count,
        warnings=[asdict(p) for p in result.problems[:MAX_WARNINGS_KEPT]],
        columns=list(result.frame.columns),
        due_at=due_at,
        late=due_at is not None and now > due_at,
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"Another push of '{push.spec.key}' was stored at the same moment; read and retry.",
            code="concurrent_push",
        ) from None
    repository.insert_frame(
        session, version, result.frame, result.row_numbers, push.spec.child_id_field
    )
    return version


def require_version(
    session: Session, inspection: Inspection, spec: ListSpec, number: int | None
) -> ListVersion:
    if number is None:
        version = repository.latest_version(session, inspection.id, spec.key)
    else:
        version = repository.version_by_number(session, inspection.id, spec.key, number)
    if version is None:
        which = "any version" if number is None else f"version {number}"
        raise NotFound(f"'{spec.key}' has no {which} yet.")
    return version


@dataclass(frozen=True)
class RowQuery:
    equals: Mapping[str, str]
    date_from: Mapping[str, date]
    date_to: Mapping[str, date]
    sort: str
    descending: bool


def _column(spec: ListSpec, version: ListVersion, key: str) -> pl.Expr | None:
    """A field's column in the version's blocks; None when the version was pushed without it."""
    if key == "row_number":
        return pl.col(repository.ROW)
    if key == spec.child_id_field:
        return pl.col(repository.CHILD)
    return pl.col(key) if key in version.columns else None


def _selection(spec: ListSpec, version: ListVersion, query: RowQuery) -> repository.RowSelection:
    """Filters compare a field's value as JSON text would show it (dates ISO, "true"); sorting
    uses the typed value, so ages and dates sort as numbers and days, not as text."""

    def compared(key: str, test: Callable[[Any, str], Any], value: str) -> pl.Expr:
        column = _column(spec, version, key)
        # A field this version was pushed without matches nothing, rather than failing.
        return pl.lit(False) if column is None else test(column.cast(pl.String), value)

    conditions = [
        *(compared(key, operator.eq, value) for key, value in query.equals.items()),
        *(compared(key, operator.ge, day.isoformat()) for key, day in query.date_from.items()),
        *(compared(key, operator.le, day.isoformat()) for key, day in query.date_to.items()),
    ]
    sort = _column(spec, version, query.sort)
    if query.sort == "row_number" and not query.descending:
        sort = None  # file order is the stored order
    return repository.RowSelection(conditions, sort, query.descending)


def check_query(spec: ListSpec, query: RowQuery) -> None:
    known = {field.key: field for field in spec.fields}
    unknown = [k for k in (*query.equals, *query.date_from, *query.date_to) if k not in known]
    ranges = (*query.date_from, *query.date_to)
    not_dates = [k for k in ranges if k in known and known[k].type != "date"]
    if query.sort not in {"row_number", *known}:
        unknown.append(query.sort)
    if unknown or not_dates:
        problems = [
            ProblemItem(field=f"query.{k}", code="unknown_field", message="not a field of the list")
            for k in unknown
        ] + [
            ProblemItem(field=f"query.{k}", code="not_a_date", message="ranges need a date field")
            for k in not_dates
        ]
        raise InvalidContent(
            "The filters or sort name fields the list does not have.",
            code="invalid_filter",
            errors=problems,
        )


def page(
    session: Session,
    version: ListVersion,
    spec: ListSpec,
    query: RowQuery,
    limit: int,
    offset: int,
) -> tuple[list[repository.StoredRow], int]:
    check_query(spec, query)
    return repository.page_of_rows(
        session, version, _selection(spec, version, query), limit, offset
    )


def all_rows(session: Session, version: ListVersion) -> Iterator[dict[str, Any]]:
    for row in repository.iter_rows(session, version):
        yield row.data


@dataclass(frozen=True)
class ChildView:
    child_id: str
    selections: list[str]
    lists: dict[str, tuple[ListVersion, list[repository.StoredRow]]]


def child_view(session: Session, context: InspectionContext, child_id: str) -> ChildView:
    """One child across every list; agencies see only children the lead has selected.
    Every look is audited with the child, for the child's access log."""
    inspection, principal = context.inspection, context.actor
    selections = selected_children(session, inspection.id)
    chosen = sorted(key for key, ids in selections.items() if child_id in ids)
    if principal.is_agency and not chosen:
        raise NotFound("No such child among the selected children.")
    versions = repository.current_versions(session, inspection.id)
    by_id = {version.id: version for version in versions.values()}
    found: dict[str, tuple[ListVersion, list[repository.StoredRow]]] = {}
    for row in repository.rows_of(session, list(by_id.values()), [child_id]):
        version = by_id[row.version_id]
        found.setdefault(version.list_key, (version, []))[1].append(row)
    if not found and not chosen:
        raise NotFound("No list of this inspection names that child.")
    audit.record(
        session,
        principal,
        "child.viewed",
        "child",
        child_id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"lists": sorted(found)},
    )
    return ChildView(child_id, chosen, found)


@dataclass(frozen=True)
class ListPageResult:
    spec: ListSpec
    version: ListVersion
    rows: list[repository.StoredRow]
    total: int


def read_page(
    session: Session,
    context: InspectionContext,
    list_key: str,
    number: int | None,
    query: RowQuery,
    *,
    limit: int,
    offset: int,
) -> ListPageResult:
    """A page of a list version's rows, filtered and sorted; the read is audited."""
    spec = list_spec(context.theme, list_key)
    version = require_version(session, context.inspection, spec, number)
    rows, total = page(session, version, spec, query, limit, offset)
    audit.record(
        session,
        context.principal,
        "list.read",
        "list",
        list_key,
        inspection_id=context.inspection.id,
        detail={"version": version.number, "rows": len(rows)},
    )
    return ListPageResult(spec, version, rows, total)


@dataclass(frozen=True)
class ListExport:
    spec: ListSpec
    version: ListVersion
    rows: list[dict[str, Any]]


def export_list(
    session: Session, context: InspectionContext, list_key: str, number: int | None
) -> ListExport:
    """Every row of a list version, for a download; the export is audited."""
    spec = list_spec(context.theme, list_key)
    version = require_version(session, context.inspection, spec, number)
    audit.record(
        session,
        context.principal,
        "list.exported",
        "list",
        list_key,
        inspection_id=context.inspection.id,
        detail={"version": version.number, "rows": version.row_count},
    )
    return ListExport(spec, version, list(all_rows(session, version)))


def list_history(session: Session, context: InspectionContext, list_key: str) -> list[ListVersion]:
    """Every version of a list, newest first; an agency sees only lists it provides."""
    spec = list_spec(context.theme, list_key)
    if context.actor.is_agency:
        check_may_push(context.actor, spec)
    return list(repository.history(session, context.inspection.id, list_key))
