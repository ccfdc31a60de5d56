"""What to send: each file under a folder matched to its request, and how a big one is cut.

Files are matched by the manifest, else by the child id that starts their name. A case-file
request covers several kinds of document (its ``categories``: chronology, plan, ...); a file
sent to one names its kind by the manifest's ``document_kind`` column, else by the name, the
kind coming first after the child id (``C1001_plan.pdf``, ``C1001-section-47 minutes.pdf``).
Small files go whole in one streamed POST; files of ``LARGE_FILE_BYTES`` or more go as a
presigned multipart upload, cut into parts of the size the exchange chose (``part_span``).
"""

from __future__ import annotations

import csv
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jtai_client.api import ExchangeClient
from jtai_client.session import ClientConfigError

MiB = 1024 * 1024
LARGE_FILE_BYTES = 16 * MiB
SEPARATORS = "_- ."
HASH_CHUNK = 1 * MiB


@dataclass(frozen=True)
class LocalFile:
    path: Path
    label: str  # as shown: relative to the folder uploaded
    size: int
    mtime_ns: int

    @classmethod
    def at(cls, path: Path, root: Path) -> LocalFile:
        info = path.stat()
        label = path.relative_to(root).as_posix() if path != root else path.name
        return cls(path, label, info.st_size, info.st_mtime_ns)

    @property
    def state_key(self) -> str:
        # A changed file (size or time) is a new file: its old progress must not be reused.
        return f"{self.path.resolve()}|{self.size}|{self.mtime_ns}"


@dataclass(frozen=True)
class Target:
    """Where a file goes: a request, and on a case-file request the kind of document it is."""

    request_id: str
    document_kind: str | None = None


@dataclass(frozen=True)
class Planned:
    file: LocalFile
    request_id: str
    document_kind: str | None = None


@dataclass
class Outcome:
    file: str
    request_id: str | None
    result: str
    document_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def find_files(root: Path, skip: set[Path]) -> list[Path]:
    """The file itself, or every non-hidden file under the folder, in a stable order."""
    if root.is_file():
        return [root]
    found = []
    for path in sorted(root.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
        if path.is_file() and not hidden and path.resolve() not in skip:
            found.append(path)
    return found


def read_manifest(path: Path) -> dict[str, Target]:
    """``file,request_id`` rows, and optionally ``document_kind`` (the kind of a case file):
    the file as written (relative to the folder, or a bare name)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ClientConfigError(f"cannot read manifest {path}: {exc}") from None
    mapping: dict[str, Target] = {}
    for number, row in enumerate(rows, start=2):
        name, request_id = (row.get("file") or "").strip(), (row.get("request_id") or "").strip()
        try:
            uuid.UUID(request_id)
        except ValueError:
            raise ClientConfigError(
                f"manifest {path} row {number}: needs columns file,request_id with a request id"
            ) from None
        kind = (row.get("document_kind") or row.get("kind") or "").strip() or None
        mapping[name.replace("\\", "/")] = Target(request_id, kind)
    return mapping


def case_file_requests(requests: list[dict[str, Any]], organisation_id: str) -> dict[str, str]:
    """Child id (case-folded) to the open case-file request addressed to the caller."""
    return {
        str(r["child_id"]).casefold(): str(r["id"])
        for r in requests
        if r.get("kind") == "case_file"
        and r.get("child_id")
        and r.get("state") != "withdrawn"
        and r.get("addressee_organisation_id") == organisation_id
    }


def child_request(name: str, by_child: dict[str, str]) -> str | None:
    """``C1001_plan.pdf`` names child C1001; the longest child id that prefixes it wins."""
    folded = name.casefold()
    matches = [
        child
        for child in by_child
        if folded.startswith(child)
        and len(folded) > len(child)
        and folded[len(child)] in SEPARATORS
    ]
    return by_child[max(matches, key=len)] if matches else None


def child_in_name(name: str) -> str | None:
    """The child ID a name starts with, as it is read when no request matches: up to the
    first separator (``X999_plan.pdf``: X999); None when nothing precedes one."""
    stem = name
    for index, character in enumerate(name):
        if character in SEPARATORS:
            stem = name[:index]
            break
    return stem or None


def unmatched(name: str) -> str:
    """Why a file found no request, and the way round it: the manifest."""
    child = child_in_name(name)
    read = (
        f"child ID '{child}' read from the name matches none of your case-file requests "
        "(is the child tracked, and the ID as in your lists?)"
        if child
        else "no child ID at the start of the name"
    )
    return (
        f"{read}; name the file's request in a --manifest CSV "
        "(file,request_id[,document_kind]); `jtai client requests` lists them"
    )


def kind_in_name(name: str, kinds: list[str], child_id: str | None = None) -> str | None:
    """The kind that starts the name, after the child id if it starts with one: the longest
    of ``kinds`` followed by a separator (``C1001_section-47 minutes.pdf``: section-47)."""
    folded = name.casefold()
    if child_id is not None and folded.startswith(child_id.casefold()):
        folded = folded[len(child_id) :].lstrip(SEPARATORS)
    matches = [
        kind
        for kind in kinds
        if folded.startswith(kind.casefold())
        and (len(folded) == len(kind) or folded[len(kind)] in SEPARATORS)
    ]
    return max(matches, key=len) if matches else None


@dataclass
class Matcher:
    """Manifest first, then the child id in the name (requests fetched once, only if needed)."""

    api: ExchangeClient
    inspection_id: str
    manifest: dict[str, Target]
    _requests: list[dict[str, Any]] | None = field(default=None, init=False)
    _by_child: dict[str, str] | None = field(default=None, init=False)

    def target_for(self, file: LocalFile) -> Target | None:
        """The file's request and, on a case-file request, its kind (None if not found)."""
        name = file.path.name
        for written in (file.label, name):
            if written in self.manifest:
                target = self.manifest[written]
                break
        else:
            request_id = child_request(name, self.by_child())
            if request_id is None:
                return None
            target = Target(request_id)
        kinds = self.kinds_of(target.request_id)
        if target.document_kind is not None or not kinds:
            return target
        child = (self.request(target.request_id) or {}).get("child_id")
        kind = kind_in_name(name, kinds, str(child) if child else None)
        return Target(target.request_id, kind)

    def request(self, request_id: str) -> dict[str, Any] | None:
        return next((r for r in self.requests() if str(r.get("id")) == request_id), None)

    def kinds_of(self, request_id: str) -> list[str]:
        request = self.request(request_id)
        return [str(k) for k in (request or {}).get("categories") or []]

    def requests(self) -> list[dict[str, Any]]:
        if self._requests is None:
            self._requests = self.api.requests_of(self.inspection_id)
        return self._requests

    def by_child(self) -> dict[str, str]:
        if self._by_child is None:
            organisation = str(self.api.me()["organisation"]["id"])
            self._by_child = case_file_requests(self.requests(), organisation)
        return self._by_child

    def existing_document(self, request_id: str, sha256: str) -> str | None:
        """A document with these bytes already sent against the request (by any earlier run)."""
        for request in self.requests():
            if str(request.get("id")) == request_id:
                for document in request.get("documents") or []:
                    if document.get("sha256") == sha256:
                        return str(document["id"])
        return None


def plan_uploads(
    matcher: Matcher, root: Path, skip: set[Path]
) -> tuple[list[Planned], list[Outcome]]:
    """Each file with its request (and kind); files without one, case files of no kind
    found, and manifest rows without a file fail."""
    planned: list[Planned] = []
    failed: list[Outcome] = []
    seen: set[str] = set()
    base = root if root.is_dir() else root.parent
    for path in find_files(root, skip):
        file = LocalFile.at(path, base)
        seen.update({file.label, path.name})
        target = matcher.target_for(file)
        if target is None:
            failed.append(Outcome(file.label, None, "no request", error=unmatched(path.name)))
        elif target.document_kind is None and (kinds := matcher.kinds_of(target.request_id)):
            error = (
                "no document kind: start the name with one after the child id, or give a "
                f"manifest document_kind; one of: {', '.join(kinds)}"
            )
            failed.append(Outcome(file.label, target.request_id, "no kind", error=error))
        else:
            planned.append(Planned(file, target.request_id, target.document_kind))
    if root.is_dir():
        for name, target in matcher.manifest.items():
            if name not in seen:
                failed.append(Outcome(name, target.request_id, "missing", error="file not found"))
    return planned, failed


def part_span(file_size: int, part_size: int, number: int) -> tuple[int, int]:
    """(offset, length) of part ``number`` (from 1) of a file cut into ``part_size`` parts."""
    offset = (number - 1) * part_size
    return offset, min(part_size, file_size - offset)


def sha256_of(path: Path, on_position: Callable[[int], None]) -> str:
    """The file's SHA-256: what the state file and the idempotency keys know its bytes by."""
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            on_position(done)
    return digest.hexdigest()
