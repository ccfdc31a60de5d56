"""Background work, in one place: run by the service's own loop, by `jtai jobs run`, or by cron
(`jtai admin sweep-uploads`, `jtai admin purge-expired`).

- Abandoned uploads: one a client never completed holds parts in the store; so does one whose
  API process was killed mid-stream. Both are aborted once older than JTAI_UPLOAD_TTL_SECONDS.
- Idempotency records older than a day are dropped at the same time.
- With JTAI_RETENTION_DAYS set, inspections closed longer ago than that are purged.
- Deadline reminders now due are sent (app.events.reminders), each once.
- Reads still pending are linked into the audit chain (the service also does this every
  JTAI_AUDIT_SEQUENCE_SECONDS; see app/audit/sequencer.py).
- Webhooks: events are delivered by a worker thread (app.events.delivery) polling every
  JTAI_WEBHOOK_POLL_SECONDS; `jtai jobs deliver` runs more workers (PostgreSQL).

Every job is safe to run in several processes at once: aborting twice is harmless, a
purge locks its inspection, and a reminder is sent only by the runner that inserts its key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from app.audit.sequencer import run_sequencer
from app.core.config import Settings
from app.core.database import session_scope
from app.documents.service import SweepResult, sweep_uploads
from app.events.delivery import Deliverer, DeliveryConfig
from app.events.reminders import ReminderPlan, send_due_reminders
from app.idempotency.service import expire_records
from app.retention.service import purge_expired
from app.storage import Storage

logger = logging.getLogger("jtai.jobs")


@dataclass(frozen=True)
class SweepReport:
    uploads: SweepResult
    idempotency_records: int


def sweep(factory: sessionmaker[Session], storage: Storage, ttl_seconds: int) -> SweepReport:
    with session_scope(factory) as session:
        uploads = sweep_uploads(session, storage, ttl_seconds)
        return SweepReport(uploads, expire_records(session))


@dataclass(frozen=True)
class JobsReport:
    sweep: SweepReport | None
    purged: list[str]
    failed: list[str]
    reminders_sent: int | None = None
    audit_reads_linked: int = 0

    def as_json(self) -> dict[str, Any]:
        uploads = self.sweep.uploads if self.sweep else None
        return {
            "expired_uploads": uploads.expired_uploads if uploads else None,
            "orphaned_store_uploads": uploads.orphaned_store_uploads if uploads else None,
            "idempotency_records": self.sweep.idempotency_records if self.sweep else None,
            "purged_inspections": self.purged,
            "reminders_sent": self.reminders_sent,
            "audit_reads_linked": self.audit_reads_linked,
            "failed": self.failed,
        }


def run_once(
    factory: sessionmaker[Session],
    storage: Storage,
    ttl_seconds: int,
    retention_days: int | None,
    reminders: ReminderPlan | None = None,
) -> JobsReport:
    """Every job once; one failing does not keep the others from running."""
    failed: list[str] = []
    report = None
    try:
        report = sweep(factory, storage, ttl_seconds)
    except Exception:
        logger.exception("upload sweep failed")
        failed.append("sweep")
    else:
        if report.uploads.expired_uploads or report.uploads.orphaned_store_uploads:
            logger.info("uploads swept", extra={"report": str(report)})
    purged: list[str] = []
    if retention_days is not None:
        purged, purge_failed = _purge_expired(factory, storage, retention_days)
        failed += purge_failed
    sent = None
    if reminders is not None:
        sent, reminders_failed = _send_reminders(factory, reminders)
        failed += reminders_failed
    linked = 0
    try:
        linked = run_sequencer(factory)
    except Exception:
        logger.exception("linking pending reads into the audit chain failed")
        failed.append("audit sequencer")
    return JobsReport(report, purged, failed, sent, linked)


async def run_periodically(
    factory: sessionmaker[Session],
    storage: Storage,
    ttl_seconds: int,
    every_seconds: float,
    retention_days: int | None = None,
    reminders: ReminderPlan | None = None,
) -> None:
    """The loop the service (or `jtai jobs run --every`) keeps: every job, then a pause.
    Several processes may run it at once."""
    while True:
        await anyio.sleep(every_seconds)
        await to_thread.run_sync(run_once, factory, storage, ttl_seconds, retention_days, reminders)


def _purge_expired(
    factory: sessionmaker[Session], storage: Storage, retention_days: int
) -> tuple[list[str], list[str]]:
    try:
        outcome = purge_expired(factory, storage, retention_days, "sweeper")
    except Exception:
        logger.exception("retention purge failed")
        return [], ["retention"]
    purged = [str(tombstone.inspection_id) for tombstone in outcome.purged]
    if outcome.purged or outcome.failed:
        logger.info("inspections purged", extra={"purged": purged, "failed": outcome.failed})
    return purged, [f"purge {inspection_id}" for inspection_id in outcome.failed]


def _send_reminders(factory: sessionmaker[Session], plan: ReminderPlan) -> tuple[int, list[str]]:
    try:
        outcome = send_due_reminders(factory, plan)
    except Exception:
        logger.exception("deadline reminders failed")
        return 0, ["reminders"]
    if outcome.sent or outcome.failed:
        logger.info("reminders sent", extra={"sent": outcome.sent, "failed": outcome.failed})
    return outcome.sent, [f"reminders {inspection_id}" for inspection_id in outcome.failed]


@contextmanager
def delivering(factory: sessionmaker[Session], settings: Settings) -> Iterator[None]:
    """A webhook delivery worker in a thread of this process while the block runs (none when
    JTAI_WEBHOOK_POLL_SECONDS is 0). Leases make it safe beside workers in other processes."""
    if settings.webhook_poll_seconds <= 0:
        yield
        return
    stop = threading.Event()
    worker = Deliverer(factory, DeliveryConfig.of(settings))
    thread = threading.Thread(target=worker.run, args=(stop,), name="webhooks", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        # An attempt in flight ends within its timeout; if it does not, its lease runs out.
        thread.join(timeout=15)
