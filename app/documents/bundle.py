"""Every current document about one child, as one ZIP streamed from the store.

"Current" is the latest version of each kind from each agency: a document no later one
supersedes (``supersedes_id`` runs within one request, organisation and kind). The entries
are named flat (no folders, no path an unzipper could follow), from the agency, the kind and
the uploader's file name, each made safe and told apart from the others. The ZIP is written
as the store streams each object (stored, not compressed: the documents are PDFs, Office
files and images, already compressed), so the server holds one chunk at a time and writes no
temporary file; its length is known before the first byte. Each document is audited as
downloaded, naming the child, so the child's access log lists it.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy.orm import Session
from zipstream import ZIP_STORED, ZipStream

from app.core.errors import NotFound
from app.document_requests.service import requests_about_child
from app.documents.models import Document
from app.documents.reads import documents_for
from app.documents.records import audit_document
from app.inspections.context import InspectionContext
from app.inspections.service import participants
from app.storage import Storage

# Characters no entry name keeps: path separators, what Windows refuses, control characters.
_UNSAFE = re.compile(r'[/\\:*?"<>|\u2044\u2215\u29f8\u29f9]+')
_MAX_STEM_CHARS = 120
_MAX_SUFFIX_CHARS = 16
# File systems bound a name in bytes (255), not characters: 200 emoji are 800 bytes, and an
# extractor that fails one entry may stop there. Room is left for " (NN)" and the suffix.
_MAX_STEM_BYTES = 180


@dataclass(frozen=True)
class Entry:
    document: Document
    name: str  # its name in the ZIP: one flat, safe, unique file name


@dataclass(frozen=True)
class ChildDocuments:
    child_id: str
    entries: list[Entry]


def safe_part(text: str, fallback: str) -> str:
    """One piece of a file name with nothing an unzipper could take for a path or a device."""
    # NFKC, not NFC: fullwidth and other compatibility forms (U+FF0E U+FF0F) fold to the
    # dots and slashes they look like, so that the check below sees what an extractor that
    # maps names to a code page would make of them; other slash look-alikes are in _UNSAFE.
    normal = unicodedata.normalize("NFKC", text)
    printable = "".join(ch for ch in normal if unicodedata.category(ch)[0] != "C")
    cleaned = _UNSAFE.sub("_", printable).strip(" ._")
    return cleaned or fallback


def _at_most_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form fits ``limit`` bytes, whole characters."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _stem_and_suffix(filename: str) -> tuple[str, str]:
    path = PurePosixPath(safe_part(filename, "document"))
    suffix = path.suffix if len(path.suffix) <= _MAX_SUFFIX_CHARS else ""
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    return stem, suffix


def entry_names(labelled: Sequence[tuple[str, str]]) -> list[str]:
    """Flat names for (label, uploader's file name) pairs, unique even on a file system that
    ignores case: a second "a.pdf" becomes "a (2).pdf"."""
    taken: set[str] = set()
    names = []
    for label, filename in labelled:
        stem, suffix = _stem_and_suffix(filename)
        stem = _at_most_bytes(f"{label} - {stem}"[:_MAX_STEM_CHARS], _MAX_STEM_BYTES).rstrip(" .")
        name, copy = f"{stem}{suffix}", 1
        while name.casefold() in taken:
            copy += 1
            name = f"{stem} ({copy}){suffix}"
        taken.add(name.casefold())
        names.append(name)
    return names


def current_documents(documents: Sequence[Document]) -> list[Document]:
    """The documents no later version supersedes."""
    superseded = {d.supersedes_id for d in documents if d.supersedes_id is not None}
    return [d for d in documents if d.id not in superseded]


def child_documents(session: Session, context: InspectionContext, child_id: str) -> ChildDocuments:
    """Every current document of every request about the child, by agency, kind and time,
    each audited as downloaded (for the child's access log). 404 when nothing has been asked
    about that child."""
    inspection = context.inspection
    requests = requests_about_child(session, inspection.id, child_id)
    if not requests:
        raise NotFound("No documents have been asked for about that child.")
    names = {org.id: org.name for _, org in participants(session, [inspection.id])[inspection.id]}
    sent = documents_for(session, [request.id for request in requests])
    found = current_documents([d for request in requests for d in sent[request.id]])
    order = {category.key: i for i, category in enumerate(context.theme.case_file_documents)}
    found.sort(key=lambda d: _sort_key(d, names, order))
    labels = [
        (
            safe_part(names.get(d.organisation_id, "agency"), "agency")
            + " - "
            + safe_part(d.document_kind or "document", "document"),
            d.filename,
        )
        for d in found
    ]
    entries = [Entry(d, name) for d, name in zip(found, entry_names(labels), strict=True)]
    for entry in entries:
        audit_document(session, context.actor, "document.downloaded", entry.document)
    return ChildDocuments(child_id, entries)


def _sort_key(
    document: Document, names: dict[uuid.UUID, str], order: dict[str, int]
) -> tuple[str, int, str, str]:
    kind = document.document_kind
    return (
        names.get(document.organisation_id, ""),
        order.get(kind, len(order)) if kind is not None else len(order) + 1,
        document.created_at.isoformat(),
        str(document.id),
    )


def zip_archive(storage: Storage, bundle: ChildDocuments) -> ZipStream:
    """The ZIP of the bundle, to iterate (each object opened only when its turn comes) and
    whose ``len()`` is the ZIP's size in bytes."""
    archive = ZipStream(compress_type=ZIP_STORED, sized=True)
    for entry in bundle.entries:
        archive.add(
            _opened_late(storage, entry.document.object_key), entry.name, size=entry.document.size
        )
    return archive


def _opened_late(storage: Storage, key: str) -> Iterator[bytes]:
    # A generator: the store is asked for the object only when the ZIP reaches its entry.
    yield from storage.open_stream(key)
