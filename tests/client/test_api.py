"""The client against a fake API and store: where the token goes, backoff, matching names."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from jtai_client.api import ExchangeClient, RetryPolicy, idempotency_key
from jtai_client.downloads import download, safe_name
from jtai_client.progress import progress_bars
from jtai_client.session import CachedToken, Credentials, TokenCache
from jtai_client.uploads.plan import (
    LocalFile,
    Planned,
    case_file_requests,
    child_request,
    kind_in_name,
)
from jtai_client.uploads.state import UploadState
from jtai_client.uploads.transfer import Uploader, _PartsProgress, run_at_most

API = "http://api.test"
STORE = "http://store.test"
TOKEN = "token-123"
DATA = b"%PDF-1.7\n" + bytes(range(256)) * 100
SHA = hashlib.sha256(DATA).hexdigest()


class FakeExchange:
    """Just enough of the API and a store with presigned URLs (absolute ones)."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.parts: dict[int, bytes] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if request.url.host == "store.test":
            return self._store(request)
        if path == "/v1/requests/r1/uploads":
            parts = [
                {"part_number": n, "url": f"{STORE}/bucket/key?partNumber={n}&X-Amz-Signature=s"}
                for n in (1, 2)
            ]
            return httpx.Response(
                201,
                json={
                    "id": "u1",
                    "part_size": 16_000,
                    "parts": parts,
                    "expires_at": "2030-01-01T00:00:00Z",
                    "complete_url": "/v1/uploads/u1/complete",
                },
            )
        if path == "/v1/uploads/u1/complete":
            etags = [p["etag"] for p in json.loads(request.content)["parts"]]
            assert etags == ['"e1"', '"e2"']
            return httpx.Response(201, json={"id": "d1", "sha256": SHA})
        if path == "/v1/documents/d1":
            return httpx.Response(
                200,
                json={"id": "d1", "sha256": SHA, "size": len(DATA), "filename": "../../etc/passwd"},
            )
        if path == "/v1/documents/d1/content":
            assert request.url.params["redirect"] == "true"
            return httpx.Response(
                307, headers={"Location": f"{STORE}/bucket/key?X-Amz-Signature=g"}
            )
        return httpx.Response(404, json={"code": "not_found"})

    def _store(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            number = int(request.url.params["partNumber"])
            self.parts[number] = request.read()
            return httpx.Response(200, headers={"ETag": f'"e{number}"'})
        return httpx.Response(200, content=b"".join(self.parts[n] for n in sorted(self.parts)))

    def to(self, host: str) -> list[httpx.Request]:
        return [r for r in self.seen if r.url.host == host]


@pytest.fixture
def exchange() -> FakeExchange:
    return FakeExchange()


@pytest.fixture
def api(exchange: FakeExchange, tmp_path: Path) -> ExchangeClient:
    cache = TokenCache(tmp_path / "token.json")
    cache.save(CachedToken(API, "c1", TOKEN, time.time() + 600))
    http = httpx.Client(transport=httpx.MockTransport(exchange))
    return ExchangeClient(API, http, cache=cache, retry=RetryPolicy(sleep=lambda _: None))


def test_presigned_parts_and_redirects_never_get_the_token(
    api: ExchangeClient, exchange: FakeExchange, tmp_path: Path
) -> None:
    source = tmp_path / "scan.pdf"
    source.write_bytes(DATA)
    item = Planned(LocalFile.at(source, tmp_path), "r1")
    uploader = Uploader(api, UploadState(tmp_path / "state.json"), progress_bars(False), 1000)
    (outcome,) = uploader.run([item])
    assert outcome.ok, outcome.error
    assert outcome.document_id == "d1"
    assert b"".join(exchange.parts[n] for n in (1, 2)) == DATA
    assert len(exchange.parts[1]) == 16_000

    out = tmp_path / "out"
    out.mkdir()
    done = download(api, "d1", out, progress_bars(False))
    assert done.path == out / "passwd"  # the server's name, never its folders
    assert done.path.read_bytes() == DATA

    store = exchange.to("store.test")
    assert [r.method for r in store] == ["PUT", "PUT", "GET"]
    assert all("authorization" not in r.headers for r in store)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in exchange.to("api.test"))
    assert all(r.headers["content-length"] for r in store if r.method == "PUT")


def test_retries_stop_after_five_attempts(exchange: FakeExchange, tmp_path: Path) -> None:
    sleeps: list[float] = []

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.Client(transport=httpx.MockTransport(down))
    cache = TokenCache(tmp_path / "token.json")
    cache.save(CachedToken(API, "c1", TOKEN, time.time() + 600))
    api = ExchangeClient(API, http, cache=cache, retry=RetryPolicy(sleep=sleeps.append))
    with pytest.raises(httpx.ConnectError):
        api.me()
    assert len(sleeps) == 4
    assert all(0 <= s <= RetryPolicy().max_delay for s in sleeps)


def test_backoff_grows_exponentially_within_its_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=5.0, jitter=lambda: 1.0)
    assert [policy.delay(n, None) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, 3.0) == 3.0
    assert policy.delay(1, 999.0) == 5.0


def test_idempotency_keys_are_stable_per_request_and_content() -> None:
    assert idempotency_key("document", "r1", SHA) == idempotency_key("document", "r1", SHA)
    assert idempotency_key("document", "r1", SHA) != idempotency_key("document", "r2", SHA)
    assert idempotency_key("upload", "r1", SHA) != idempotency_key("upload", "r1", SHA, 1)


def test_child_ids_in_names_pick_the_callers_case_file_request() -> None:
    requests: list[dict[str, Any]] = [
        {"id": "a", "kind": "case_file", "child_id": "C1", "addressee_organisation_id": "me"},
        {"id": "b", "kind": "case_file", "child_id": "C10", "addressee_organisation_id": "me"},
        {"id": "c", "kind": "case_file", "child_id": "C2", "addressee_organisation_id": "other"},
        {
            "id": "d",
            "kind": "information_item",
            "child_id": None,
            "addressee_organisation_id": "me",
        },
    ]
    mine = case_file_requests(requests, "me")
    assert child_request("C10_plan.pdf", mine) == "b"
    assert child_request("c1 notes.pdf", mine) == "a"
    assert child_request("C1.pdf", mine) == "a"
    assert child_request("C2_plan.pdf", mine) is None
    assert child_request("C1001_plan.pdf", mine) is None


def test_the_kind_comes_first_after_the_child_id() -> None:
    kinds = ["section-47", "plan", "multi-agency-meeting-minutes", "chronology"]
    assert kind_in_name("C1_plan.pdf", kinds, "C1") == "plan"
    assert kind_in_name("c1-Section-47 minutes.docx", kinds, "C1") == "section-47"
    assert (
        kind_in_name("C1 multi-agency-meeting-minutes.pdf", kinds, "C1")
        == "multi-agency-meeting-minutes"
    )
    assert kind_in_name("chronology.pdf", kinds) == "chronology"  # a manifest's name
    assert kind_in_name("C1_planning.pdf", kinds, "C1") is None  # a word, not the kind
    assert kind_in_name("C1_notes on the plan.pdf", kinds, "C1") is None


def test_safe_names() -> None:
    assert safe_name("..\\..\\evil.exe", "id") == "evil.exe"
    assert safe_name("a\x00b.pdf", "id") == "a_b.pdf"
    assert safe_name("..", "id") == "id"


def test_parallel_parts_raise_the_failure_that_came_first() -> None:
    second_failed = threading.Event()

    def work(item: int, stop: threading.Event) -> None:
        if item == 1:  # fails later than item 2, though it was given first
            assert second_failed.wait(10)
            raise ValueError("item 1, later")
        second_failed.set()
        raise KeyError("item 2, first")

    with pytest.raises(KeyError, match="item 2"):
        run_at_most(2, work, [1, 2])


def test_ctrl_c_stops_the_parts_in_flight_and_starts_no_more() -> None:
    started: list[int] = []
    saw_stop: dict[int, bool] = {}
    both_running = threading.Barrier(2, timeout=10)

    def work(item: int, stop: threading.Event) -> None:
        started.append(item)
        both_running.wait()
        if item == 1:
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C
        saw_stop[item] = stop.wait(10)

    # A suite started in the background inherits SIGINT ignored; Ctrl-C in a terminal is
    # Python's default handler, so install it for the length of the test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_at_most(2, work, [1, 2, 3, 4])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert sorted(started) == [1, 2]
    assert saw_stop == {1: True, 2: True}


def test_a_refused_token_is_renewed_once_for_all_threads(tmp_path: Path) -> None:
    threads = 4
    logins: list[str] = []
    all_refused = threading.Barrier(threads, timeout=10)

    def api_side(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/token":
            logins.append("login")
            return httpx.Response(200, json={"access_token": "new", "expires_in": 900})
        if request.headers["authorization"] == "Bearer revoked":
            all_refused.wait()  # every thread has sent the revoked token before any renews
            return httpx.Response(401, json={"code": "invalid_token"})
        return httpx.Response(200, json={"client_id": "c1"})

    cache = TokenCache(tmp_path / "token.json")
    cache.save(CachedToken(API, "c1", "revoked", time.time() + 600))
    api = ExchangeClient(
        API,
        httpx.Client(transport=httpx.MockTransport(api_side)),
        credentials=Credentials("c1", "secret"),
        cache=cache,
        retry=RetryPolicy(sleep=lambda _: None),
    )
    with ThreadPoolExecutor(max_workers=threads) as pool:
        answers = list(pool.map(lambda _: api.me(), range(threads)))
    assert [answer["client_id"] for answer in answers] == ["c1"] * threads
    assert logins == ["login"]


def test_progress_over_parts_in_flight_counts_a_retried_part_once() -> None:
    shown: list[int] = []

    class Bar:
        def update(self, completed: int) -> None:
            shown.append(completed)

    progress = _PartsProgress(Bar(), already_sent=100)  # a part sent in an earlier run
    progress.sent(2, 30)
    progress.sent(3, 10)
    progress.sent(2, 5)  # part 2 failed and started again
    progress.sent(2, 50)
    progress.sent(3, 50)
    assert shown == [130, 140, 115, 160, 200]
