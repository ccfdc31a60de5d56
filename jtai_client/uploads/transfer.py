"""Sending: small files streamed whole, big ones in parts several at a time, resumed.

Each finished part and file is written to the state file at once. An upload from an earlier
run that has since expired (its parts refused) starts again, once, under a new key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import httpx

from jtai_client.api import ApiError, Body, ExchangeClient, idempotency_key, iter_file
from jtai_client.progress import Bar, Bars
from jtai_client.uploads.plan import LARGE_FILE_BYTES, Outcome, Planned, part_span, sha256_of
from jtai_client.uploads.state import FileState, UploadState

# Parts on their way at once: one TCP stream seldom fills a link with any latency in it, and
# each part in flight costs only its socket buffers (parts are read from disk as they go).
PARTS_AT_ONCE = 4


class _Counted:
    """A read-only file that reports how far it has been read (for the progress bar)."""

    def __init__(self, handle: BinaryIO, on_position: Callable[[int], None]) -> None:
        self._handle, self._on_position = handle, on_position

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._on_position(self._handle.tell())
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:
        # httpx sizes the multipart body from this, so it never has to read the file to know.
        return self._handle.fileno()


def send_small(api: ExchangeClient, item: Planned, entry: FileState, bar: Bar) -> dict[str, Any]:
    @contextmanager
    def body() -> Iterator[Body]:
        with item.file.path.open("rb") as handle:
            # Streamed from disk by httpx in chunks, never read whole.
            counted = _Counted(handle, bar.update)
            yield Body(
                files={"file": (item.file.path.name, counted, "application/octet-stream")},
                # A form field before the file, as the exchange reads it.
                data={"kind": item.document_kind} if item.document_kind else None,
            )

    response = api.request(
        "POST",
        f"/v1/requests/{item.request_id}/documents",
        body=body,
        idempotency_key=idempotency_key(_purpose("document", item), item.request_id, entry.sha256),
    )
    result: dict[str, Any] = response.json()
    return result


def _purpose(what: str, item: Planned) -> str:
    # The kind is part of the key: the same bytes sent again as another kind (a name
    # corrected after a refusal) are another request, not a replay of the refused one.
    return f"{what}:{item.document_kind}" if item.document_kind else what


def _start_upload(api: ExchangeClient, item: Planned, entry: FileState) -> None:
    body: dict[str, Any] = {
        "filename": item.file.path.name,
        "size": item.file.size,
        "sha256": entry.sha256,
    }
    if item.document_kind:
        body["kind"] = item.document_kind
    response = api.request(
        "POST",
        f"/v1/requests/{item.request_id}/uploads",
        json=body,
        idempotency_key=idempotency_key(
            _purpose("upload", item), item.request_id, entry.sha256, entry.generation
        ),
    )
    created = response.json()
    # `id` since the contract's issue 18; `upload_id` from servers before it.
    entry.upload_id = str(created.get("id", created.get("upload_id")))
    entry.part_size = int(created["part_size"])
    entry.part_urls = {str(part["part_number"]): str(part["url"]) for part in created["parts"]}
    entry.complete_url = str(created["complete_url"])


def _etag(response: Any) -> str:
    # The API's own part endpoint answers JSON; a store answers with an ETag header.
    if "json" in response.headers.get("content-type", ""):
        return str(response.json()["etag"])
    etag = response.headers.get("etag")
    if not etag:
        raise ApiError(response.status_code, {"title": "the store sent no ETag"}, "PUT", "")
    return str(etag)


def _part_span(item: Planned, entry: FileState, number: int) -> tuple[int, int]:
    """(offset, length) of a part in the file, cut as the exchange said when it started."""
    assert entry.part_size is not None
    return part_span(item.file.size, entry.part_size, number)


class _PartsProgress:
    """One file's bar while several of its parts are on their way at once."""

    def __init__(self, bar: Bar, already_sent: int) -> None:
        self._bar = bar
        self._total = already_sent
        self._sent_by_part: dict[int, int] = {}
        self._lock = threading.Lock()

    def sent(self, number: int, count: int) -> None:
        """``count`` bytes of part ``number`` sent so far; a retried part counts from 0 again."""
        with self._lock:
            # A running total: summing every part's count on each block would cost a file
            # of 10,000 parts some 10^9 additions.
            self._total += count - self._sent_by_part.get(number, 0)
            self._sent_by_part[number] = count
            self._bar.update(self._total)


def _send_part(
    api: ExchangeClient,
    item: Planned,
    entry: FileState,
    number: int,
    progress: _PartsProgress,
    stop: threading.Event,
) -> str:
    offset, length = _part_span(item, entry, number)

    def counted() -> Iterator[bytes]:
        done = 0
        for chunk in iter_file(item.file.path, offset, length):
            if stop.is_set():
                raise Interrupted(f"part {number} of {item.file.label} not finished")
            done += len(chunk)
            progress.sent(number, done)
            yield chunk

    @contextmanager
    def body() -> Iterator[Body]:
        # An explicit length: stores refuse chunked uploads to presigned URLs.
        yield Body(content=counted(), headers={"Content-Length": str(length)})

    # Absolute (presigned) URLs carry their own signature and never get the bearer token.
    response = api.request("PUT", entry.part_urls[str(number)], body=body)
    return _etag(response)


def _complete(api: ExchangeClient, item: Planned, entry: FileState) -> dict[str, Any]:
    assert entry.complete_url is not None
    parts = [
        {"part_number": int(number), "etag": etag}
        for number, etag in sorted(entry.etags.items(), key=lambda pair: int(pair[0]))
    ]
    response = api.request(
        "POST",
        entry.complete_url,
        json={"parts": parts},
        idempotency_key=idempotency_key(
            f"complete:{entry.upload_id}", item.request_id, entry.sha256, entry.generation
        ),
    )
    result: dict[str, Any] = response.json()
    return result


def _send_parts(
    api: ExchangeClient, item: Planned, entry: FileState, state: UploadState, bar: Bar
) -> None:
    # Parts sent in an earlier run are skipped; the rest go PARTS_AT_ONCE at a time.
    todo = sorted(int(n) for n in entry.part_urls if n not in entry.etags)
    unsent = sum(_part_span(item, entry, number)[1] for number in todo)
    progress = _PartsProgress(bar, already_sent=item.file.size - unsent)
    saving = threading.Lock()

    def send(number: int, stop: threading.Event) -> None:
        etag = _send_part(api, item, entry, number, progress, stop)
        with saving:  # each finished part is on disk at once, for a resume after a crash
            entry.etags[str(number)] = etag
            state.put(item.file.state_key, entry)

    run_at_most(PARTS_AT_ONCE, send, todo)
    bar.update(item.file.size)


def _wait_for_first_failure(futures: list[Future[None]]) -> None:
    """``wait(FIRST_EXCEPTION)`` in short waits, so Ctrl-C is noticed at once.

    The signal may reach a worker thread; Python then raises KeyboardInterrupt in the main
    thread only when that thread next runs, which a wait without a timeout can put off until
    a part has finished (minutes on a slow link).
    """
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
        if any(not future.cancelled() and future.exception() is not None for future in done):
            return


class Interrupted(Exception):
    """The run was interrupted (Ctrl-C): a part still on its way gives up at its next block."""


def run_at_most(
    at_once: int, work: Callable[[int, threading.Event], None], items: list[int]
) -> None:
    """Call ``work(item, stop)`` on every item, ``at_once`` at a time, in threads.

    At the first failure no further item starts; those already running finish (whatever they
    record is kept for a resume) and then the failure that came first is raised. On Ctrl-C
    ``stop`` is set as well, so running items give up instead of keeping the user waiting.
    """
    stop = threading.Event()
    # No item starts before every item is handed to the pool: a Ctrl-C arriving while the
    # pool was still starting its threads left one it had not yet listed (so not waited for)
    # and items queued behind the futures it had not yet returned (so not cancelled).
    submitted = threading.Event()
    failures: list[BaseException] = []
    noting = threading.Lock()

    def one(item: int) -> None:
        submitted.wait()
        if stop.is_set():
            return
        try:
            work(item, stop)
        except BaseException as exc:
            with noting:  # in the order they happen, not the order the items were given
                failures.append(exc)
            raise

    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="jtai-part") as pool:
        futures: list[Future[None]] = []
        interrupted = True
        try:
            for item in items:
                futures.append(pool.submit(one, item))
            submitted.set()
            _wait_for_first_failure(futures)
            interrupted = False
        finally:  # a failure, or Ctrl-C: start nothing more...
            if interrupted:  # ...and on Ctrl-C, stop what is running too
                stop.set()
            submitted.set()
            for future in futures:
                future.cancel()
    if failures:
        raise failures[0]


def send_large(
    api: ExchangeClient, item: Planned, entry: FileState, state: UploadState, bar: Bar
) -> dict[str, Any]:
    if entry.upload_id is None:
        _start_upload(api, item, entry)
        state.put(item.file.state_key, entry)
    try:
        _send_parts(api, item, entry, state, bar)
    except ApiError as exc:
        # An upload from an earlier run (resumed, or replayed by its idempotency key) may have
        # expired (409) or its presigned URLs lapsed (403): start again once, under a new key.
        if exc.status not in (403, 404, 409):
            raise
        entry.restart()
        _start_upload(api, item, entry)
        state.put(item.file.state_key, entry)
        _send_parts(api, item, entry, state, bar)
    return _complete(api, item, entry)


@dataclass
class Uploader:
    api: ExchangeClient
    state: UploadState
    bars: Bars
    large_file_bytes: int = LARGE_FILE_BYTES
    existing: Callable[[str, str], str | None] = lambda request_id, sha256: None
    # What this run has finished, so far: told to the user if it is interrupted.
    done: list[Outcome] = field(default_factory=list)

    def run(self, items: list[Planned]) -> list[Outcome]:
        for item in items:
            self.done.append(self.one(item))
        return list(self.done)

    def one(self, item: Planned) -> Outcome:
        outcome = Outcome(item.file.label, item.request_id, "uploaded")
        try:
            outcome.document_id, outcome.result = self._upload(item)
        except (ApiError, OSError) as exc:
            outcome.result, outcome.error = "failed", str(exc)
        except httpx.TransportError as exc:  # still failing after the last retry
            outcome.result, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
        return outcome

    def _entry(self, item: Planned) -> FileState:
        entry = self.state.get(item.file.state_key)
        if entry is not None and entry.request_id == item.request_id:
            return entry
        bar = self.bars.bar(f"hash {item.file.label}", item.file.size)
        return FileState(item.request_id, sha256_of(item.file.path, bar.update))

    def _upload(self, item: Planned) -> tuple[str, str]:
        entry = self._entry(item)
        if entry.document_id is not None:
            return entry.document_id, "already uploaded"
        # Without (or with a lost) state file, the exchange itself says what it already has.
        if (known := self.existing(item.request_id, entry.sha256)) is not None:
            entry.document_id = known
            self.state.put(item.file.state_key, entry)
            return known, "already uploaded"
        bar = self.bars.bar(item.file.label, item.file.size)
        if item.file.size < self.large_file_bytes:
            document = send_small(self.api, item, entry, bar)
        else:
            document = send_large(self.api, item, entry, self.state, bar)
        if document.get("sha256") not in (None, entry.sha256):
            # The file changed while it was read: do not mark it done.
            raise ApiError(422, {"title": "the server stored different bytes"}, "POST", "")
        entry.document_id = str(document["id"])
        self.state.put(item.file.state_key, entry)
        return entry.document_id, "uploaded"
