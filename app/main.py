"""The FastAPI application: ``app.main:app`` for servers, ``create_app`` for tests and tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from app.audit import chain as _audit_chain  # noqa: F401  (registers the commit hook)
from app.audit.router import router as audit_router
from app.audit.sequencer import sequence_periodically
from app.auth.router import router as auth_router
from app.child_lists.router import router as child_lists_router
from app.composition import AppState, build_state
from app.contract import enrich_contract
from app.core.config import Settings, get_settings
from app.core.database import utcnow
from app.core.deps import commit_in_endpoint_threads
from app.core.edge import RouteMatchMiddleware, body_limits
from app.core.errors import install_error_handlers
from app.core.heap import freeze_startup_objects
from app.core.input_guard import InputGuardMiddleware
from app.core.logging import configure_logging
from app.core.middleware import BodyLimitMiddleware, RequestContextMiddleware
from app.core.openapi import build_openapi, operation_id
from app.deadlines.working_days import load_calendar
from app.documents.router import router as documents_router
from app.engagement.router import router as engagement_router
from app.evaluations.router import router as evaluations_router
from app.events.reminders import ReminderPlan
from app.events.router import router as events_router
from app.health.router import router as health_router
from app.idempotency.middleware import IdempotencyMiddleware
from app.inspections.router import router as inspections_router
from app.jobs.runner import delivering, run_periodically
from app.meetings.router import router as meetings_router
from app.organisations.router import router as organisations_router
from app.progress.router import router as progress_router
from app.schedule.router import router as schedule_router
from app.selections.router import router as selections_router
from app.submissions.router import router as submissions_router
from app.themes.router import router as themes_router
from app.tracking.router import router as tracking_router
from app.webhooks.router import router as webhooks_router

DESCRIPTION = """
Information exchange for joint targeted area inspections (JTAI) of children's services:
child-level lists, case-file documents, case selection, evaluations and the schedule that binds
them. Every error is `application/problem+json` with a stable `code`.
"""

TAGS = [
    {"name": "auth", "description": "Tokens (OAuth2 client credentials) and identity"},
    {"name": "organisations", "description": "Organisations and API clients (operator)"},
    {"name": "inspections", "description": "Inspections, participants and the lead"},
    {"name": "themes", "description": "Deep-dive themes as data: lists, fields, milestones"},
    {"name": "schedule", "description": "Milestones in working days and their live states"},
    {"name": "child lists", "description": "Annex A lists: push, validate, read, export"},
    {"name": "selections", "description": "The lead inspector's choice of children"},
    {"name": "requests", "description": "What is asked of whom by when; who has sent what"},
    {"name": "documents", "description": "Case-file documents: streamed and presigned uploads"},
    {
        "name": "evaluations",
        "description": "Joint and single-agency evaluations of tracked children",
    },
    {"name": "tracking", "description": "Inspectors' Annex B tracking records (inspectors only)"},
    {"name": "meetings", "description": "Multi-agency meetings of the fieldwork week"},
    {"name": "engagement", "description": "Children, parents and carers agreeing to meet"},
    {"name": "webhooks", "description": "Signed webhooks: the organisation's events pushed"},
    {"name": "audit", "description": "The append-only, verifiable audit chain"},
    {"name": "events", "description": "What changed that the caller must act on or know of"},
    {"name": "health", "description": "Liveness and readiness"},
]


# Every router the app serves; the access-policy test walks these.
ROUTERS = (
    auth_router,
    organisations_router,
    inspections_router,
    themes_router,
    schedule_router,
    child_lists_router,
    selections_router,
    submissions_router,
    progress_router,
    documents_router,
    evaluations_router,
    tracking_router,
    meetings_router,
    engagement_router,
    events_router,
    webhooks_router,
    audit_router,
    health_router,
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: AppState = app.state.jtai
    await anyio.to_thread.run_sync(load_calendar, utcnow().date())
    with delivering(state.session_factory, state.settings):
        async with anyio.create_task_group() as tasks:
            if state.settings.sweep_interval_seconds > 0:
                tasks.start_soon(
                    run_periodically,
                    state.session_factory,
                    state.storage,
                    state.settings.upload_ttl_seconds,
                    state.settings.sweep_interval_seconds,
                    state.settings.retention_days,
                    ReminderPlan.from_settings(state.settings, state.contexts),
                )
            if state.settings.audit_sequence_seconds > 0:
                tasks.start_soon(
                    sequence_periodically,
                    state.session_factory,
                    state.settings.audit_sequence_seconds,
                )
            freeze_startup_objects()
            yield
            tasks.cancel_scope.cancel()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        lifespan=_lifespan,
        title="JTAI Exchange",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
    )
    app.state.jtai = build_state(settings)
    install_error_handlers(app)
    for router in ROUTERS:
        commit_in_endpoint_threads(router.routes)
        app.include_router(router)
    # Outermost last. What each needs to know of a request's route, its route declares
    # (``app.core.edge``); RouteMatchMiddleware finds that route once for all of them.
    app.add_middleware(IdempotencyMiddleware, state_getter=lambda: app.state.jtai)
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(BodyLimitMiddleware, limits=body_limits(settings))
    app.add_middleware(RouteMatchMiddleware, router=app.router)
    app.add_middleware(RequestContextMiddleware)
    themes = app.state.jtai.themes
    app.openapi = lambda: build_openapi(  # type: ignore[method-assign]
        app, lambda schema: enrich_contract(schema, themes)
    )
    return app


def __getattr__(name: str) -> FastAPI:
    # `app.main:app` is built on first use, so importing this module stays side-effect free.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
