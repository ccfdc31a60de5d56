"""Pushing and reading child lists: the rules around the parser and the store; no HTTP here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.child_lists import blocks, repository
from app.child_lists.models import ListVersion
from app.child_lists.parsing.types import (
    BodyTooLargeError,
    IngestContext,
    IngestError,
    ListRead,
    ListReader,
    UnsupportedMediaTypeError,
)
from app.core.database import utcnow
from app.core.errors import (
    Conflict,
    Forbidden,
    InvalidContent,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from app.core.sandbox import SandboxBusy
from app.deadlines.service import due_at_for
from app.events import audiences as events
from app.inspections.closed import check_open
from app.inspections.context import InspectionContext
from app.inspections.models import Inspection
from app.inspections.service import get_visible
from app.selections.repository import selected_children
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme

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
    body: Iterable[bytes]  # read once, by the reader, as it arrives
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
    result: ListRead
    version: ListVersion | None


def _check_precondition(session: Session, push: Push) -> int:
    """The next version number of the caller's own contribution to the list; 412 when
    If-Match names another than its current version (a push replaces only that contribution,
    so only its versions are what a push is based on)."""
    principal = push.principal
    current = repository.latest_version(
        session, push.inspection.id, push.spec.key, principal.organisation_id
    )
    number = current.number if current is not None else 0
    if push.if_match is not None and push.if_match != number:
        raise PreconditionFailed(
            f"The current version of {principal.organisation_name}'s contribution to "
            f"'{push.spec.key}' is {number}, not {push.if_match}.",
            code="version_mismatch",
            extra={
                "current_version": number,
                "supplier_organisation_id": str(principal.organisation_id),
            },
        )
    return number + 1


def _ingest_context(session: Session, push: Push) -> IngestContext:
    return IngestContext(
        today=utcnow().astimezone(push.context.clock.tz).date(),
        selections=selected_children(session, push.inspection.id),
    )


class _Hashed:
    """The body on its way to the reader, hashed as it passes (the version keeps its SHA-256)."""

    def __init__(self, body: Iterable[bytes]) -> None:
        # Bytes given whole (a test, a script) are one chunk, not a byte at a time.
        self._body = [body] if isinstance(body, bytes) else body
        self._digest = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._digest.update(chunk)
            yield chunk

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def read_push(push: Push, body: Iterable[bytes], context: IngestContext) -> ListRead:
    """Parse and check the body (in a sandboxed worker): no database work. The accepted rows
    follow as blocks while they are stored (not for a dry run)."""
    with _reading_refused():
        return push.reader(
            body, push.media_type, push.spec, push.context.theme, context, not push.dry_run
        )


@contextmanager
def _reading_refused() -> Iterator[None]:
    """The reader's refusals as the answers they are."""
    try:
        yield
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
    check_open("push_list", inspection)


def push_list(session: Session, push: Push) -> PushOutcome:
    """Check, read, store and audit one push: a new version of the caller's organisation's
    contribution to the list, replacing only that contribution. Reading may take a minute,
    so the transaction that checked the precondition ends before it (no connection held, and
    on SQLite no lock), and the store re-checks everything in a new one."""
    check_may_push(push.principal, push.spec)
    _check_precondition(session, push)
    ingest_context = _ingest_context(session, push)
    session.commit()
    body = _Hashed(push.body)
    result = read_push(push, body, ingest_context)
    try:
        if push.dry_run or not result.accepted:
            return PushOutcome(result, None)
        _check_still_writable(session, push)
        version = _store(session, push, result, body.hexdigest())
    finally:
        result.close()  # blocks not stored (a failure meanwhile) are abandoned, not left queued
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
    events.list_pushed(
        session, push.inspection.id, push.spec.key, version.number, push.principal.organisation_id
    )
    return PushOutcome(result, version)


def _store(session: Session, push: Push, result: ListRead, sha256: str) -> ListVersion:
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
        body_sha256=sha256,
        row_count=result.row_count,
        warning_count=result.warning_count,
        warnings=[asdict(p) for p in result.problems[:MAX_WARNINGS_KEPT]],
        columns=result.columns,
        due_at=due_at,
        late=due_at is not None and now > due_at,
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"Another push of your organisation's '{push.spec.key}' was stored at the same "
            "moment; read and retry.",
            code="concurrent_push",
        ) from None
    # The rows arrive block by block while the reader encodes the next: stored as they come.
    with _reading_refused():
        blocks.insert_blocks(session, version, result.blocks)
    return version
