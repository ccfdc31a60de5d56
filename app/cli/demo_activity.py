"""Demo activity on the mental-health inspection, made through the same use-case functions the
API's routes call (no HTTP, no test client), as each demo client, so that what a newcomer
explores was checked, derived and audited exactly as a real agency's would be."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.audit import chain  # noqa: F401  (registers the audit commit hook)
from app.auth.principal import Principal
from app.auth.service import principal_for_client
from app.child_lists import service as child_lists
from app.composition import AppState, build_state
from app.core.config import Settings
from app.core.database import session_scope
from app.document_requests.asking import Asked, create_request
from app.document_requests.models import RequestKind
from app.document_requests.service import visible_requests
from app.documents.access import writable_request
from app.documents.cleanup import keep_only_if_committed
from app.documents.content import sniff_or_refuse
from app.documents.records import new_object_key, publish
from app.documents.service import record_nil_return
from app.evaluations.schemas import EvaluationWrite
from app.evaluations.service import write_evaluation
from app.inspections.context import InspectionContext
from app.inspections.service import get_visible, participants
from app.organisations.kinds import OrganisationKind
from app.selections.service import choose_children
from app.themes.registry import builtin_themes

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _follow_ups() -> tuple[str, ...]:
    spec = builtin_themes().get("mental-health").get_list("children-in-need")
    assert spec is not None
    return spec.required_when_equals("mh_concern", "Y")


def child_row(number: int, today: date) -> dict[str, Any]:
    age = 10 + number % 6
    born = today.replace(year=today.year - age) - timedelta(days=40 + number)
    return {
        "child_id": f"DEMO{number:03d}",
        "gender": "F" if number % 2 else "M",
        "ethnicity": "WBRI",
        "date_of_birth": born.isoformat(),
        "age_years": age,
        "disability": "N",
        "cin_start_date": (today - timedelta(days=150)).isoformat(),
        "primary_need": "N1",
        "last_seen_date": (today - timedelta(days=7)).isoformat(),
        "case_status": "CIN",
        "allocated_team": "Demoshire North",
        "allocated_worker": "A. Worker",
        "mh_concern": "Y",
        "mh_support_need": "N",
    } | dict.fromkeys(_follow_ups(), "N")


@dataclass(frozen=True)
class _Actor:
    """A demo client acting: each step in a transaction of its own, as a request would be."""

    state: AppState
    client_id: uuid.UUID
    inspection_id: uuid.UUID

    @contextmanager
    def acting(self) -> Iterator[tuple[Session, Principal]]:
        with session_scope(self.state.session_factory) as session:
            yield session, principal_for_client(session, self.client_id)

    @contextmanager
    def on_inspection(self) -> Iterator[tuple[Session, InspectionContext]]:
        """The context a route about the inspection would hand its use case."""
        with self.acting() as (session, principal):
            inspection = get_visible(session, principal, self.inspection_id)
            yield session, self.state.contexts.for_inspection(principal, inspection)

    def push(self, list_key: str, rows: list[dict[str, Any]]) -> None:
        with self.on_inspection() as (session, context):
            spec = child_lists.push_target(context, list_key)
            body = json.dumps({"rows": rows}).encode()
            push = child_lists.Push(
                context, spec, [body], "application/json", False, None, self.state.list_reader
            )
            outcome = child_lists.push_list(session, push)
            if outcome.version is None:
                problems = [p.message for p in outcome.result.problems[:5]]
                raise RuntimeError(f"demo list '{list_key}' was refused: {problems}")


def _send_document(council: _Actor, request_id: uuid.UUID, filename: str, kind: str) -> None:
    """As ``POST /v1/requests/{id}/documents`` does: checked, stored, then published."""
    with council.acting() as (session, principal):
        request = writable_request(session, principal, request_id, "upload_document")
        media_type = sniff_or_refuse(PDF, filename)
        storage = council.state.storage
        stored = storage.put_stream(
            new_object_key(request.inspection_id),
            [PDF],
            max_bytes=council.state.settings.max_upload_bytes,
            content_type=media_type,
        )
        keep_only_if_committed(session, storage, stored.key)
        publish(session, request, principal, stored, filename, media_type, "chronology")


def _answer_case_files(council: _Actor) -> None:
    """Per tracked child: the chronology sent, and "none held" for the return home
    interview (the child was never missing); the other kinds are left owed."""
    with council.on_inspection() as (session, context):
        asked = visible_requests(session, context.inspection, context.actor)
        case_files = [(r.id, r.child_id) for r in asked if r.kind is RequestKind.CASE_FILE]
    for request_id, child in case_files:
        _send_document(council, request_id, f"{child}_chronology.pdf", "chronology")
        reason = f"{child} has never been reported missing: no return home interview is held."
        with council.acting() as (session, principal):
            record_nil_return(session, principal, request_id, reason, "return-home-interview")


def _health_ids(lead: _Actor) -> list[uuid.UUID]:
    with lead.acting() as (session, _):
        taking_part = participants(session, [lead.inspection_id]).get(lead.inspection_id, [])
        return [o.id for _, o in taking_part if o.kind is OrganisationKind.HEALTH]


def _evaluate_and_ask(council: _Actor, lead: _Actor, child: str) -> None:
    """The joint evaluation of one tracked child (health contributing), and the lead's
    request to health for a plan the case file lacks (it stays owed in the demo)."""
    health_ids = _health_ids(lead)
    questions = builtin_themes().get("mental-health").evaluation.questions
    joint = EvaluationWrite(
        answers=dict.fromkeys(questions, "Demo answer."),
        contributing_organisation_ids=health_ids,
    )
    with council.on_inspection() as (session, context):
        write_evaluation(session, context, child, "joint", joint, None)
    due = datetime.combine(date.today() + timedelta(days=7), time(17), UTC)
    missing = f"{child}'s CAMHS care plan, missing from the case file"
    with lead.on_inspection() as (session, context):
        create_request(session, context, Asked(health_ids[:1], missing, None, child, None, due))


def _play(state: AppState, world: dict[str, Any]) -> None:
    inspection_id = uuid.UUID(world["inspections"]["mental-health"])

    def actor(key: str) -> _Actor:
        return _Actor(state, uuid.UUID(world["clients"][key]["client_id"]), inspection_id)

    council, health, lead = actor("local_authority"), actor("health"), actor("lead_inspector")
    rows = [child_row(n, date.today()) for n in range(1, 9)]
    council.push("children-in-need", rows)
    # Children in need is compiled jointly: health adds its own contribution, so the merged
    # list shows DEMO001 twice (once per supplier) and a child only health knows.
    camhs = {"allocated_team": "Demoshire CAMHS", "allocated_worker": "C. Clinician"}
    health.push("children-in-need", [child_row(n, date.today()) | camhs for n in (1, 9)])
    tracked = [row["child_id"] for row in rows[:5]]
    with lead.on_inspection() as (session, context):
        choose_children(session, context, "tracked", tracked, None)
    _answer_case_files(council)
    _evaluate_and_ask(council, lead, tracked[0])


def play(settings: Settings, world: dict[str, Any]) -> None:
    """Lists (one compiled jointly by the council and health), a tracked selection,
    documents and nil returns, an evaluation and a request of the lead's."""
    state = build_state(settings)
    try:
        _play(state, world)
    finally:
        state.list_reader.close()  # its worker processes, not the served app's
        state.engine.dispose()
