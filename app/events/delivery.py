"""Delivering events to webhooks: in order per subscription, at least once, signed.

Each subscription keeps a cursor: the position of the last event it is done with (delivered,
or given up on). A worker leases subscriptions (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
workers in several processes never take the same one), delivers each one's next events in
order and moves its cursor after each, checking that it still holds the lease. A killed
worker's lease runs out and another takes the subscription over: the event in flight is
delivered again (receivers dedupe on ``webhook-id``), nothing else is.

A failure is retried with exponential backoff and full jitter, the subscription waiting
meanwhile (order is kept), for up to JTAI_WEBHOOK_RETRY_FOR_SECONDS from the first failure;
then the delivery is marked failed and the cursor moves on. No transaction is open during an
HTTP call, and subscriptions are delivered concurrently, so a slow receiver holds only itself;
and at most JTAI_WEBHOOK_CONCURRENCY_PER_ORGANISATION of one organisation's at once, so that
its slow receivers leave the other slots to other organisations.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import ApiClient
from app.auth.service import principal_for_client
from app.core.config import Settings
from app.core.database import on_postgresql, utcnow
from app.core.errors import NotFound
from app.events.feed import EventReader, Wanted, reader_of, webhook_events
from app.events.models import Event
from app.events.outbox import Position
from app.events.payload import event_id, event_payload
from app.organisations.models import Organisation
from app.webhooks.address import AddressRules, address_rules
from app.webhooks.models import DeliveryOutcome, Webhook, WebhookDelivery
from app.webhooks.sender import Sent, http_client, post, signed_headers

logger = logging.getLogger("jtai.webhooks")
BATCH = 50  # events taken at once for one subscription, then sent one by one
BACKOFF_CAP_SECONDS = 3600.0


@dataclass(frozen=True)
class DeliveryConfig:
    rules: AddressRules
    lease_seconds: float
    retry_base_seconds: float
    retry_for_seconds: float
    concurrency: int
    poll_seconds: float
    per_organisation: int  # of ``concurrency``, at most this many of one organisation's

    @classmethod
    def of(cls, settings: Settings) -> DeliveryConfig:
        return cls(
            address_rules(settings),
            settings.webhook_lease_seconds,
            settings.webhook_retry_base_seconds,
            settings.webhook_retry_for_seconds,
            settings.webhook_concurrency,
            settings.webhook_poll_seconds,
            settings.webhook_concurrency_per_organisation,
        )


@dataclass(frozen=True)
class _Job:
    """One delivery to make, read in a short transaction that is over before it is sent."""

    event: Event
    url: str
    secret: str
    attempts: int
    first_failure_at: datetime | None


class Deliverer:
    """One worker: claims subscriptions and delivers them, several at once."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        config: DeliveryConfig,
        client: httpx.Client | None = None,
        name: str | None = None,
    ) -> None:
        self.factory = factory
        self.config = config
        self.client = client or http_client()
        self.name = name or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.delivered = 0  # by this worker since it started, for logs and benchmarks
        self._count = threading.Lock()

    def claim(self, limit: int) -> list[uuid.UUID]:
        """Lease up to ``limit`` subscriptions that have something to deliver now."""
        return [webhook_id for webhook_id, _ in self.claim_fairly(limit, Counter())]

    def claim_fairly(
        self, limit: int, running: Counter[uuid.UUID]
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """Lease up to ``limit`` subscriptions that have something to deliver now, no more of
        an organisation's than its share less those ``running`` (by organisation) already;
        each with its organisation."""
        now = utcnow()
        with self.factory() as session, session.begin():
            due = (
                select(Webhook.id, Webhook.organisation_id)
                # The claimable conditions again, on the row locked: PostgreSQL checks them
                # anew on a row another worker leased since the snapshot was taken.
                .where(*_claimable(now), Webhook.id.in_(self._fair_share(now, running)))
                .order_by(Webhook.next_attempt_at, Webhook.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            # Two statements, not UPDATE ... WHERE id IN (SELECT ... SKIP LOCKED): PostgreSQL
            # may run such a subquery once per row, each run skipping what the last locked,
            # and so lease more than ``limit``.
            claimed = [(row.id, row.organisation_id) for row in session.execute(due)]
            if claimed:
                session.execute(
                    update(Webhook)
                    .where(Webhook.id.in_([webhook_id for webhook_id, _ in claimed]))
                    .values(lease_owner=self.name, lease_until=self._lease_end())
                )
            return claimed

    def _fair_share(self, now: datetime, running: Counter[uuid.UUID]) -> Select[tuple[uuid.UUID]]:
        """The claimable subscriptions each organisation may still have delivered: its first
        ones (in the order they are due) up to its share less those it has running."""
        share = self.config.per_organisation
        due_order = func.row_number().over(
            partition_by=Webhook.organisation_id,
            order_by=(Webhook.next_attempt_at, Webhook.id),
        )
        ranked = (
            select(Webhook.id, Webhook.organisation_id, due_order.label("place"))
            .where(*_claimable(now))
            .subquery()
        )
        left = {organisation: share - count for organisation, count in running.items() if count}
        allowed = case(left, value=ranked.c.organisation_id, else_=share) if left else share
        return select(ranked.c.id).where(ranked.c.place <= allowed)

    def _lease_end(self) -> datetime:
        return utcnow() + timedelta(seconds=self.config.lease_seconds)

    def deliver(self, webhook_id: uuid.UUID) -> int:
        """Deliver a leased subscription's events in order until it is caught up, fails, or has
        had half its lease; then let the lease go. Returns how many were delivered.

        On an unexpected error the lease is kept until it runs out, so that a subscription
        that cannot be delivered is not taken up again at once, over and over."""
        delivered = 0
        stop_at = time.monotonic() + self.config.lease_seconds / 2
        while time.monotonic() < stop_at:
            jobs = self.next_jobs(webhook_id)
            if not jobs:
                break
            for job in jobs:
                sent = self.send(job)
                if not self.record(webhook_id, job, sent) or not sent.delivered:
                    self.release(webhook_id)
                    return delivered
                delivered += 1
                if time.monotonic() >= stop_at:
                    break
        self.release(webhook_id)
        return delivered

    def next_jobs(self, webhook_id: uuid.UUID) -> list[_Job]:
        """The subscription's next events, in order, if this worker still holds it and its
        owner is active; moves the cursor past events it does not want."""
        with self.factory() as session, session.begin():
            webhook = session.get(Webhook, webhook_id)
            if webhook is None or webhook.lease_owner != self.name or webhook.deleted_at:
                return []
            reader = _reader(session, webhook.owner_client_id)
            if reader is None:
                return []  # the owner is disabled: deliveries wait for it
            return [_job(webhook, event) for event in _next_events(session, webhook, reader)]

    def send(self, job: _Job) -> Sent:
        body = json.dumps(event_payload(job.event), separators=(",", ":"))
        headers = signed_headers(job.secret, event_id(job.event), utcnow(), body)
        return post(self.client, job.url, self.config.rules, headers, body)

    def record(self, webhook_id: uuid.UUID, job: _Job, sent: Sent) -> bool:
        """Write the attempt down and move the cursor or schedule the retry. False when the
        lease was lost meanwhile (another worker has the subscription now)."""
        now = utcnow()
        attempt = job.attempts + 1
        first_failure = job.first_failure_at or now
        gave_up = not sent.delivered and (now - first_failure).total_seconds() >= (
            self.config.retry_for_seconds
        )
        if sent.delivered or gave_up:
            outcome = DeliveryOutcome.DELIVERED if sent.delivered else DeliveryOutcome.FAILED
            retry_at = None
            values = _moved_past(job.event) | {"lease_until": self._lease_end()}
        else:
            outcome = DeliveryOutcome.RETRYING
            retry_at = now + timedelta(seconds=self._backoff(attempt))
            values = {
                "retry_event_id": job.event.id,
                "retry_attempts": attempt,
                "first_failure_at": first_failure,
                "next_attempt_at": retry_at,
            }
        with self.factory() as session, session.begin():
            _without_waiting_for_disk(session)
            session.add(
                WebhookDelivery(
                    webhook_id=webhook_id,
                    event_id=job.event.id,
                    event_type=job.event.event_type,
                    attempt=attempt,
                    status_code=sent.status_code,
                    error=sent.error,
                    attempted_at=now,
                    next_attempt_at=retry_at,
                    outcome=outcome,
                )
            )
            held = session.execute(
                update(Webhook)
                .where(Webhook.id == webhook_id, Webhook.lease_owner == self.name)
                .values(values)
            )
            return bool(held.rowcount)  # type: ignore[attr-defined]

    def _backoff(self, attempt: int) -> float:
        """Full jitter: anywhere up to an exponentially growing ceiling, so receivers coming
        back are not met by every sender at once."""
        ceiling = min(BACKOFF_CAP_SECONDS, self.config.retry_base_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311  (spreading load, not a secret)

    def release(self, webhook_id: uuid.UUID) -> None:
        with self.factory() as session, session.begin():
            session.execute(
                update(Webhook)
                .where(Webhook.id == webhook_id, Webhook.lease_owner == self.name)
                .values(lease_owner=None, lease_until=None)
            )

    def run_once(self) -> int:
        """Claim what is due and deliver it all (tests, benchmarks); how many were delivered."""
        total = 0
        seen: set[uuid.UUID] = set()
        while claimed := self.claim(self.config.concurrency):
            with ThreadPoolExecutor(self.config.concurrency) as pool:
                delivered = sum(pool.map(self._deliver_logged, claimed))
            if not delivered and seen.issuperset(claimed):
                # Claimed again with nothing to send: an event not yet settled (its
                # transaction still running), for a later run.
                break
            seen.update(claimed)
            total += delivered
        return total

    def run(self, stop: threading.Event) -> None:
        """The worker's loop until ``stop``: at most ``concurrency`` subscriptions at once,
        claiming more as soon as one is done; an idle worker looks every poll interval."""
        running: dict[Future[int], uuid.UUID] = {}  # each delivery's organisation
        with ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="webhooks") as pool:
            while not stop.is_set():
                free = max(0, self.config.concurrency - len(running))
                claimed = self._claim_logged(free, Counter(running.values())) if free else []
                for webhook_id, organisation_id in claimed:
                    running[pool.submit(self._deliver_logged, webhook_id)] = organisation_id
                if running:
                    done, _ = wait(
                        running, timeout=self.config.poll_seconds, return_when=FIRST_COMPLETED
                    )
                    for future in done:
                        del running[future]
                    if done or claimed:
                        continue
                stop.wait(self.config.poll_seconds)

    def _claim_logged(
        self, limit: int, running: Counter[uuid.UUID]
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        try:
            return self.claim_fairly(limit, running)
        except Exception:
            logger.exception("claiming webhooks failed")
            return []

    def _deliver_logged(self, webhook_id: uuid.UUID) -> int:
        try:
            delivered = self.deliver(webhook_id)
        except Exception:
            logger.exception("delivering to a webhook failed", extra={"webhook": str(webhook_id)})
            return 0
        with self._count:
            self.delivered += delivered
        return delivered


def _without_waiting_for_disk(session: Session) -> None:
    """An attempt's record need not wait for the disk: were the database to crash before it is
    written out, the attempt is only made again (receivers dedupe on webhook-id). A killed
    worker still repeats no more than the event in flight: the commit itself is not lost."""
    if on_postgresql(session):
        session.execute(text("SET LOCAL synchronous_commit = off"))


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    news = exists().where(Event.id > Webhook.cursor_id)
    owner_active = exists().where(
        ApiClient.id == Webhook.owner_client_id,
        ApiClient.disabled_at.is_(None),
        Organisation.id == ApiClient.organisation_id,
        Organisation.disabled_at.is_(None),
    )
    return (
        Webhook.deleted_at.is_(None),
        or_(Webhook.lease_until.is_(None), Webhook.lease_until < now),
        or_(Webhook.next_attempt_at.is_(None), Webhook.next_attempt_at <= now),
        news,
        owner_active,
    )


def _reader(session: Session, client_id: uuid.UUID) -> EventReader | None:
    """The owner as a feed reader, or None if it (or its organisation) is disabled."""
    try:
        principal = principal_for_client(session, client_id)  # loads client and organisation
    except NotFound:
        return None
    client = session.get(ApiClient, client_id)  # in the session already: no query
    organisation = session.get(Organisation, principal.organisation_id)
    if client is None or client.disabled_at is not None:
        return None
    if organisation is None or organisation.disabled_at is not None:
        return None
    return reader_of(principal)


def _next_events(session: Session, webhook: Webhook, reader: EventReader) -> list[Event]:
    """The next events after the cursor that the owner may read and the webhook wants, with
    this webhook's pings, in order: one statement. Where there are none, the cursor moves past
    everything settled that it saw, so an idle subscription is not claimed again for them."""
    wanted = Wanted(frozenset(webhook.event_types), str(webhook.id))
    batch = webhook_events(session, reader, Position(webhook.cursor_id), BATCH, wanted)
    if batch.done_to is not None:
        webhook.cursor_id = batch.done_to.id
    return batch.events


def _job(webhook: Webhook, event: Event) -> _Job:
    """The event as the next attempt of it: its earlier failures count if it is the one
    being retried."""
    retried = webhook.retry_event_id == event.id
    return _Job(
        event,
        webhook.url,
        webhook.secret,
        webhook.retry_attempts if retried else 0,
        webhook.first_failure_at if retried else None,
    )


def _moved_past(event: Event) -> dict[str, object]:
    return {
        "cursor_id": event.id,
        "retry_event_id": None,
        "retry_attempts": 0,
        "first_failure_at": None,
        "next_attempt_at": None,
    }
