"""Reading and verifying the audit chain; no HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from app.audit import repository
from app.audit.chain import compute_hash
from app.audit.links import GENESIS_HASH, link_hash
from app.audit.models import AuditAnchor, AuditEvent
from app.audit.redaction import AuditView, whole, without_children
from app.audit.repository import AuditFilter as AuditFilter  # what the router filters by
from app.audit.sequencer import chain_all_pending
from app.core.database import utcnow
from app.core.errors import Forbidden

VERIFY_BATCH = 10_000  # rows fetched at a time from the stream


def read_inspection_audit(
    session: Session,
    criteria: AuditFilter,
    *,
    blind_to_children: bool,
    after_seq: int,
    limit: int,
) -> list[AuditView]:
    """The inspection's audit rows as the reader may see them: the operator, blind to
    children, sees them without any.

    The operator may not look for a child (403): even a count of rows found would tell
    whether the child is known. Its search by object ID skips the rows about a child, for
    the same reason. Reads still pending are linked first, so the trail shows every one.
    """
    chain_all_pending(session)
    if not blind_to_children:
        rows = repository.matching_events(session, criteria, after_seq=after_seq, limit=limit)
        return [whole(row) for row in rows]
    if criteria.child_id is not None:
        raise Forbidden(
            "The operator cannot search the audit trail for a child.",
            code="child_data_not_available",
        )
    blind = replace(criteria, without_children=True)
    rows = repository.matching_events(session, blind, after_seq=after_seq, limit=limit)
    return [without_children(row) for row in rows]


def events_concerning_organisation(
    session: Session,
    organisation_id: uuid.UUID,
    actions: Sequence[str],
    *,
    limit: int,
    offset: int,
) -> tuple[Sequence[AuditEvent], int]:
    chain_all_pending(session)
    return repository.page_concerning_organisation(
        session, organisation_id, actions, limit=limit, offset=offset
    )


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    events_checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str | None = None
    # The seq the links were recomputed from: 0 from the genesis, else the last anchor's.
    from_seq: int = 0


def verify_chain(session: Session, *, full: bool = False) -> VerifyResult:
    """Link the reads still pending (so the verdict covers every one written down), then
    check the chain.

    By default from the last anchor: the anchored row must still hold the anchored hash (and
    its content that hash), and only the links after it are recomputed, so the time taken
    follows the events since the anchor, not the whole chain. A row changed before the anchor
    is left to ``full``, which recomputes every link from the genesis and checks every anchor.
    """
    chain_all_pending(session)
    anchor = None if full else repository.last_anchor(session)
    if anchor is None or anchor.seq == 0:
        return _verify_from_genesis(session)
    row = repository.event(session, anchor.seq)
    if row is None or row.hash != anchor.hash or compute_hash(row) != row.hash:
        problem = f"the anchor taken at {anchor.created_at.isoformat()} no longer matches"
        before = row.prev_hash if row is not None else ""
        return VerifyResult(False, 0, anchor.seq - 1, before, anchor.seq, problem, anchor.seq)
    return _verify_links(session, anchor.seq, anchor.hash)


def _verify_from_genesis(session: Session) -> VerifyResult:
    """Recompute every link, then check the chain still holds every anchor written down."""
    result = _verify_links(session, 0, GENESIS_HASH)
    if not result.valid:
        return result
    for anchor in repository.anchors(session):
        if anchor.seq == 0:
            matches = anchor.hash == GENESIS_HASH
        else:
            row = repository.event(session, anchor.seq)
            matches = row is not None and row.hash == anchor.hash
        if not matches:
            problem = f"the anchor taken at {anchor.created_at.isoformat()} no longer matches"
            return replace(result, valid=False, first_broken_seq=anchor.seq, problem=problem)
    return result


def _verify_links(session: Session, from_seq: int, from_hash: str) -> VerifyResult:
    """Recompute every link after ``from_seq`` (whose hash is ``from_hash``) in order, reading
    the rows as a stream; report the first row whose hash or link is wrong."""
    previous_hash, previous_seq, checked = from_hash, from_seq, 0
    while True:
        for row in repository.stream_after(session, previous_seq, VERIFY_BATCH):
            problem = _link_problem(row, previous_seq, previous_hash)
            if problem is not None:
                return VerifyResult(
                    False, checked, previous_seq, previous_hash, row["seq"], problem, from_seq
                )
            previous_hash, previous_seq = row["hash"], row["seq"]
            checked += 1
        ending = _ending_problem(session, previous_seq, previous_hash)
        if ending == _WRITTEN_MEANWHILE:
            continue  # rows committed while the stream ran: read on from where it ended
        if ending is not None:
            return VerifyResult(
                False, checked, previous_seq, previous_hash, previous_seq + 1, ending, from_seq
            )
        return VerifyResult(True, checked, previous_seq, previous_hash, from_seq=from_seq)


_WRITTEN_MEANWHILE = "written meanwhile"


def _ending_problem(session: Session, last_seq: int, last_hash: str) -> str | None:
    """The chain must end where its head says: rows deleted from the end leave every link
    intact, and only the head (moved in the same transaction as every row) tells."""
    head = repository.head(session)
    if head is None or (head.seq == last_seq and head.hash == last_hash):
        return None
    if head.seq > last_seq and repository.events_after(session, last_seq, 1):
        return _WRITTEN_MEANWHILE  # rows committed while this read: read on
    return f"the chain ends at {last_seq} but its head is at {head.seq}: rows are missing"


def _link_problem(row: Mapping[Any, Any], previous_seq: int, previous_hash: str) -> str | None:
    if row["seq"] != previous_seq + 1:
        return f"sequence jumps from {previous_seq} to {row['seq']}"
    if row["prev_hash"] != previous_hash:
        return "prev_hash does not match the previous row's hash"
    if link_hash(row) != row["hash"]:
        return "the row's content does not match its hash"
    return None


def take_anchor(session: Session) -> AuditAnchor:
    """Write the chain's current head down, to be kept outside the database as well; the
    reads still pending are linked first, so the anchor covers them."""
    chain_all_pending(session)
    head = repository.head(session)
    anchor = AuditAnchor(
        seq=head.seq if head else 0, hash=head.hash if head else GENESIS_HASH, created_at=utcnow()
    )
    session.add(anchor)
    session.flush()
    return anchor
