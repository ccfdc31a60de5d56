"""Stored objects kept only if the transaction that records them commits.

A document's bytes go to the store before its row is written, and the row becomes real only
when the request's transaction commits, after the endpoint has returned. Had the upload
deleted its object only when its own flush failed, a commit failing later (a lost connection,
a serialisation failure, a hook refusing) would have left an object no row refers to, which
nothing would ever find again. Instead the object's key is registered on the session with
``keep_only_if_committed``: when the transaction commits it is kept; when the transaction
ends any other way (rolled back, or the session closed without committing) it is deleted.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.storage import Storage

logger = logging.getLogger("jtai.documents")

_PENDING = "jtai_objects_pending_commit"


def keep_only_if_committed(session: Session, storage: Storage, key: str) -> None:
    """Delete the object at ``key`` unless the session's current transaction commits.

    A transaction is begun here if none is (so that its end, however it comes, decides).
    """
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_PENDING, []).append((storage, key))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint or subtransaction: the outer one decides
        return
    pending: list[tuple[Storage, str]] = session.info.pop(_PENDING, [])
    for storage, key in pending:
        _delete(storage, key)


def _delete(storage: Storage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception as exc:
        logger.warning(
            "object of an uncommitted document left in the store",
            extra={"key": key, "error": str(exc)},
        )
