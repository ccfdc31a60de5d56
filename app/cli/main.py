"""The ``jtai`` command: serve, administer, and try the service with demo data."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import ConfigurationError, Settings, load_settings
from app.core.database import make_engine, make_session_factory, session_scope
from app.core.migrations import upgrade_to_head
from jtai_client.commands import client_app

if TYPE_CHECKING:
    from app.storage import Storage

cli = typer.Typer(help="JTAI Exchange: serve the API and administer it.", no_args_is_help=True)
admin = typer.Typer(help="Operator commands run on the server.", no_args_is_help=True)
audit_cli = typer.Typer(help="The audit chain.", no_args_is_help=True)
jobs_cli = typer.Typer(help="Background work the service also runs itself.", no_args_is_help=True)
cli.add_typer(admin, name="admin")
cli.add_typer(jobs_cli, name="jobs")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(client_app, name="client")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A migrated database and one committed transaction, for commands run on the server."""
    from app.audit import chain  # noqa: F401  (registers the audit commit hook)

    upgrade_to_head(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(1, min=1, help="Worker processes (stateless; share the DB)"),
    demo: bool = typer.Option(False, "--demo", help="Create demo data and print credentials"),
) -> None:
    """Apply migrations, then serve app.main:app."""
    import uvicorn

    from app.auth.issuers import trusted_issuers
    from app.core.http_server import uvicorn_options

    settings = _settings()
    try:
        # Key files and role names now, in one line, rather than in each worker as it starts.
        trusted_issuers(settings)
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    upgrade_to_head(settings.resolved_database_url)
    if demo:
        _print_demo(settings, host, port)
    _say_where(host, port, workers)
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        access_log=False,
        log_level="warning",
        **uvicorn_options(settings),
    )


def _say_where(host: str, port: int, workers: int) -> None:
    """One line on where the service listens (uvicorn's own banner is below the log level)."""
    from app.cli.demo import base_url

    url = base_url(host, port)
    processes = f", {workers} worker processes" if workers > 1 else ""
    typer.echo(f"JTAI Exchange listening on {url} (API docs: {url}/docs{processes}); Ctrl-C stops")


@cli.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Interface the server is (to be) bound to"),
    port: int = typer.Option(8000, help="Port the server listens on"),
) -> None:
    """Create (or refresh) a demo world and print its credentials as JSON (also written to
    demo.json in JTAI_VAR_DIR, readable only by you); the base URL is the server's at
    --host/--port."""
    _print_demo(_settings(), host, port)


def _print_demo(settings: Settings, host: str, port: int) -> None:
    from app.cli.demo import base_url, build_demo, write_world
    from app.cli.demo_activity import play
    from app.composition import inspection_contexts, theme_dirs
    from app.themes.registry import load_themes

    contexts = inspection_contexts(settings, load_themes(theme_dirs(settings)))
    with _session(settings) as session:
        world = build_demo(session, contexts, base_url(host, port))
    if world.pop("new"):
        # Lists, a selection, documents and an evaluation, through the API's use cases.
        play(settings, world)
    written = write_world(settings.var_dir, world)
    typer.echo(json.dumps(world, indent=2))
    typer.echo(f"(also written to {written}, readable only by you)", err=True)


@admin.command("create-operator")
def create_operator(
    name: str = typer.Option(..., "--name", help="Name of the operator client"),
) -> None:
    """Create an operator client and print {"client_id", "client_secret"} once."""
    from app.cli.bootstrap import create_operator_client

    with _session(_settings()) as session:
        credentials = create_operator_client(session, name)
    typer.echo(json.dumps(credentials))


@admin.command("create-admin")
def create_admin(
    organisation: uuid.UUID = typer.Option(..., "--organisation", help="Id of the organisation"),
    name: str = typer.Option(..., "--name", help="Name of the administrator client"),
) -> None:
    """Create an administrator (org_admin) of an organisation, who manages its clients from
    then on; print {"client_id", "client_secret"} once."""
    from app.cli.bootstrap import create_admin_client
    from app.core.errors import AppError

    with _session(_settings()) as session:
        try:
            credentials = create_admin_client(session, organisation, name)
        except AppError as exc:
            typer.echo(f"refused: {exc.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(json.dumps(credentials))


@admin.command("sweep-uploads")
def sweep_uploads() -> None:
    """Abort uploads abandoned for longer than JTAI_UPLOAD_TTL_SECONDS (run it from cron)."""
    from app.jobs.runner import sweep
    from app.storage import build_storage

    settings = _settings()
    upgrade_to_head(settings.resolved_database_url)
    storage = build_storage(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        report = sweep(make_session_factory(engine), storage, settings.upload_ttl_seconds)
    finally:
        engine.dispose()
    typer.echo(
        json.dumps(
            {
                "expired_uploads": report.uploads.expired_uploads,
                "orphaned_store_uploads": report.uploads.orphaned_store_uploads,
                "idempotency_records": report.idempotency_records,
            }
        )
    )


@contextmanager
def _purge_context(settings: Settings) -> Iterator[tuple[sessionmaker[Session], Storage]]:
    """A session factory and the store: a purge commits several transactions of its own."""
    from app.audit import chain  # noqa: F401  (registers the audit commit hook)
    from app.storage import build_storage

    upgrade_to_head(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        yield make_session_factory(engine), build_storage(settings)
    finally:
        engine.dispose()


@admin.command("purge")
def purge(
    inspection: uuid.UUID = typer.Option(..., "--inspection", help="Id of the inspection"),
    force_open: bool = typer.Option(
        False, "--force-open", help="Purge (and close) an inspection that is not closed yet"
    ),
) -> None:
    """Delete a closed inspection's child data and documents; print the tombstone as JSON.

    Safe to run again: a finished purge is only printed, a half-done one is finished.
    """
    from app.retention.service import PurgeRefused, purge_inspection, tombstone_json

    with _purge_context(_settings()) as (factory, storage):
        try:
            tombstone = purge_inspection(factory, storage, inspection, "cli", force_open=force_open)
        except PurgeRefused as exc:
            typer.echo(f"purge refused: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(json.dumps(tombstone_json(tombstone), indent=2))


@admin.command("purge-expired")
def purge_expired() -> None:
    """Purge every inspection closed more than JTAI_RETENTION_DAYS ago (run it from cron)."""
    from app.retention.service import purge_expired as purge_all
    from app.retention.service import tombstone_json

    settings = _settings()
    if settings.retention_days is None:
        typer.echo("JTAI_RETENTION_DAYS is not set: nothing is ever expired", err=True)
        raise typer.Exit(2)
    with _purge_context(settings) as (factory, storage):
        outcome = purge_all(factory, storage, settings.retention_days, "cli")
    purged = [tombstone_json(tombstone) for tombstone in outcome.purged]
    typer.echo(json.dumps({"purged": purged, "failed": outcome.failed}, indent=2))
    if outcome.failed:
        raise typer.Exit(1)


@jobs_cli.command("run")
def run_jobs(
    every: float = typer.Option(
        0, "--every", min=0, help="Seconds between runs; 0 runs every job once and exits"
    ),
) -> None:
    """Sweep abandoned uploads, expire idempotency records, send the deadline reminders due
    and, with JTAI_RETENTION_DAYS, purge expired inspections: once (print a JSON report), or
    in a loop as the service does."""
    import anyio

    from app.composition import inspection_contexts, theme_dirs
    from app.events.reminders import ReminderPlan
    from app.jobs.runner import run_once, run_periodically
    from app.themes.registry import load_themes

    settings = _settings()
    contexts = inspection_contexts(settings, load_themes(theme_dirs(settings)))
    reminders = ReminderPlan.from_settings(settings, contexts)
    with _purge_context(settings) as (factory, storage):
        args = (factory, storage, settings.upload_ttl_seconds)
        if every > 0:
            anyio.run(run_periodically, *args, every, settings.retention_days, reminders)
        report = run_once(*args, settings.retention_days, reminders)
    typer.echo(json.dumps(report.as_json()))
    if report.failed:
        raise typer.Exit(1)


@jobs_cli.command("deliver")
def deliver(
    once: bool = typer.Option(
        False, "--once", help="Deliver what is due now, print how many, and exit"
    ),
) -> None:
    """Deliver events to webhooks: a worker beside the one in `jtai serve`, until stopped
    (several may run against one PostgreSQL; each event goes once per subscription)."""
    import threading

    from app.events.delivery import Deliverer, DeliveryConfig

    settings = _settings()
    with _purge_context(settings) as (factory, _storage):
        worker = Deliverer(factory, DeliveryConfig.of(settings))
        if once:
            typer.echo(json.dumps({"delivered": worker.run_once()}))
            return
        stop = threading.Event()
        try:
            worker.run(stop)
        except KeyboardInterrupt:
            stop.set()


@audit_cli.command("anchor")
def anchor() -> None:
    """Write the audit chain's head down and print it: keep the line somewhere else too."""
    from app.audit.service import take_anchor

    with _session(_settings()) as session:
        taken = take_anchor(session)
        line = {"seq": taken.seq, "hash": taken.hash, "created_at": taken.created_at.isoformat()}
    typer.echo(json.dumps(line))


@audit_cli.command("verify")
def verify(
    full: bool = typer.Option(
        False, "--full", help="Recompute the whole chain and check every anchor."
    ),
) -> None:
    """Check the audit chain from the last anchor (the anchored row, then every link after
    it); exit 1 and name the first broken row if it is broken."""
    from app.audit.service import verify_chain

    with _session(_settings()) as session:
        result = verify_chain(session, full=full)
    typer.echo(json.dumps(result.__dict__))
    if not result.valid:
        raise typer.Exit(1)


def main() -> None:
    try:
        cli()
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
