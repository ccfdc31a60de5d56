"""A child's access log (subject access): every audited look at the child's data."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.audit.sequencer import chain_all_pending
from app.child_lists.blocks import versions_naming_child
from app.child_lists.models import ListVersion


def child_access_log(
    session: Session, inspection_id: uuid.UUID, child_id: str, *, after_seq: int, limit: int
) -> Sequence[AuditEvent]:
    """Who has seen (or may have seen) a child's data: reads naming the child, and reads or
    exports of whole lists the child is on, which showed the child's row to the reader.
    Reads still pending are linked into the chain first, so the log misses none."""
    chain_all_pending(session)
    lists_with_child = (
        select(ListVersion.list_key)
        .where(ListVersion.id.in_(versions_naming_child(inspection_id, child_id)))
        .distinct()
    )
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.inspection_id == inspection_id,
            AuditEvent.seq > after_seq,
            or_(
                AuditEvent.child_id == child_id,
                (AuditEvent.object_type == "list") & AuditEvent.object_id.in_(lists_with_child),
            ),
        )
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    return session.execute(query).scalars().all()
