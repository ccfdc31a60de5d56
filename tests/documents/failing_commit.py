"""Make the commit of any transaction that wrote a document fail, as a database could."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app.documents.models import Document

_WROTE = "test_wrote_a_document"


class CommitRefused(Exception):
    pass


@contextmanager
def commits_of_documents_fail(factory: sessionmaker[Session]) -> Iterator[list[str]]:
    """While open, a transaction that inserted a document fails at commit (the list names
    each refusal); its flush, and everything before, went through."""
    refused: list[str] = []

    def noticed(session: Session, _context: Any, _instances: Any) -> None:
        if any(isinstance(instance, Document) for instance in session.new):
            session.info[_WROTE] = True

    def refuse(session: Session) -> None:
        if session.info.pop(_WROTE, False):
            refused.append("document")
            raise CommitRefused("the database refused the commit")

    event.listen(factory, "before_flush", noticed)
    event.listen(factory, "before_commit", refuse)
    try:
        yield refused
    finally:
        event.remove(factory, "before_commit", refuse)
        event.remove(factory, "before_flush", noticed)
