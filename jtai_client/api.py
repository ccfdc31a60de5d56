"""An httpx client for the JTAI Exchange API: tokens, retries with backoff, problem details."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from jtai_client.session import CachedToken, Credentials, NotLoggedIn, TokenCache

T = TypeVar("T")

# Generous: a part of a big upload over a slow council link takes minutes, not seconds.
DEFAULT_TIMEOUT = httpx.Timeout(connect=15.0, read=300.0, write=300.0, pool=60.0)
IDEMPOTENCY_NAMESPACE = uuid.UUID("0b7f5c1e-3d2a-4e8b-9f61-7c4a2e9d1b35")
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ApiError(Exception):
    """An answer the API (or the store) gave that is not a success."""

    def __init__(self, status: int, problem: dict[str, Any], method: str, url: str) -> None:
        self.status = status
        self.problem = problem
        self.method = method
        self.url = url
        super().__init__(str(self))

    @property
    def code(self) -> str:
        return str(self.problem.get("code") or self.problem.get("error") or "error")

    def __str__(self) -> str:
        text = self.problem.get("detail") or self.problem.get("title") or "request failed"
        return f"{self.status} {self.code}: {text}"


class _Retryable(Exception):
    def __init__(self, error: ApiError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: clients that failed together do not retry together."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1)) * self.jitter()
        if retry_after is not None:
            # The server knows its load better than we do, within our own ceiling.
            return min(self.max_delay, max(backoff, retry_after))
        return backoff


def retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def idempotency_key(purpose: str, request_id: str, sha256: str, generation: int = 0) -> str:
    """The same file to the same request always sends the same key, so a re-run replays."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{purpose}|{request_id}|{sha256}|{generation}"))


def is_relative(url: str) -> bool:
    """Relative URLs are the API's own; absolute ones (presigned) go to the store."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def _bearer_of(request: httpx.Request) -> str:
    return str(request.headers.get("authorization", "")).removeprefix("Bearer ")


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    # The store answers XML, proxies answer HTML: keep a little of it for the message.
    text = response.text.strip().replace("\n", " ")[:300]
    return {"title": response.reason_phrase or "error", "detail": text or None}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class Body:
    """One attempt's request body; streamed bodies are rebuilt for every attempt."""

    content: Any = None
    files: Any = None
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)


BodyFactory = Callable[[], AbstractContextManager[Body]]


class ExchangeClient:
    """Calls the exchange's API with a bearer token it fetches, caches and renews as needed.

    The caller's side of the exchange, run by agencies' and inspectors' scripts; not the
    server's record of an OAuth client (``app.auth.models.ApiClient``).

    Pass ``http`` to use an existing ``httpx.Client`` (tests pass FastAPI's ``TestClient``).
    """

    def __init__(
        self,
        base_url: str,
        http: httpx.Client | None = None,
        *,
        credentials: Credentials | None = None,
        cache: TokenCache | None = None,
        retry: RetryPolicy | None = None,
        notify: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._credentials = credentials
        self._cache = cache
        self._retry = retry or RetryPolicy()
        self._notify = notify or (lambda message: None)
        self._clock = clock
        self._token: CachedToken | None = None
        # Parts go from several threads at once: one of them renews the token, not each.
        self._token_lock = threading.RLock()

    def __enter__(self) -> ExchangeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def url(self, path_or_url: str) -> str:
        if is_relative(path_or_url):
            return f"{self.base_url}/{path_or_url.lstrip('/')}"
        return path_or_url

    # Tokens -------------------------------------------------------------------------------

    def login(self) -> CachedToken:
        """Exchange the client credentials for a token and cache it."""
        if self._credentials is None:
            raise NotLoggedIn(
                "no client credentials: set JTAI_CLIENT_ID and JTAI_CLIENT_SECRET "
                "or pass --credentials-file"
            )
        credentials = self._credentials
        response = self.request(
            "POST",
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            },
            authorized=False,
        )
        answer = response.json()
        token = CachedToken(
            base_url=self.base_url,
            client_id=credentials.client_id,
            access_token=str(answer["access_token"]),
            expires_at=self._clock() + float(answer["expires_in"]),
        )
        self._token = token
        if self._cache is not None:
            self._cache.save(token)
        return token

    def _fits(self, token: CachedToken | None) -> bool:
        if token is None or token.base_url != self.base_url or not token.usable(self._clock()):
            return False
        # A token cached for another client must not be used with these credentials.
        return self._credentials is None or token.client_id == self._credentials.client_id

    def _renew(self, refused: str) -> None:
        """Log in again, unless another thread already replaced the refused token."""
        with self._token_lock:
            if self._token is None or self._token.access_token == refused:
                self.login()

    def bearer(self) -> str:
        with self._token_lock:
            if not self._fits(self._token) and self._cache is not None:
                self._token = self._cache.load()
            if not self._fits(self._token):
                if self._credentials is None:
                    raise NotLoggedIn(
                        "not logged in, or the token expired: run `jtai client login`"
                    )
                self.login()
            assert self._token is not None
            return self._token.access_token

    # Requests -----------------------------------------------------------------------------

    def retrying(self, what: str, attempt: Callable[[], T]) -> T:
        """Run one attempt until it succeeds, retrying 5xx, 429 and network errors only."""
        for number in range(1, self._retry.attempts + 1):
            last = number == self._retry.attempts
            try:
                return attempt()
            except httpx.TransportError as exc:
                if last:
                    raise
                reason, delay = f"{type(exc).__name__}: {exc}", self._retry.delay(number, None)
            except _Retryable as exc:
                if last:
                    raise exc.error from None
                reason, delay = str(exc.error), self._retry.delay(number, exc.retry_after)
            self._notify(f"{what}: {reason}; retry {number} of {self._retry.attempts - 1}")
            self._retry.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def check(self, response: httpx.Response) -> None:
        """Raise for an unsuccessful answer; the caller has read (or never streamed) the body."""
        if response.status_code < 400:
            return
        error = ApiError(
            response.status_code, _problem(response), response.request.method, str(response.url)
        )
        if retryable_status(response.status_code):
            raise _Retryable(error, _retry_after(response))
        raise error

    def request(
        self,
        method: str,
        url: str,
        *,
        body: BodyFactory | None = None,
        json: Any = None,
        data: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        authorized: bool | None = None,
    ) -> httpx.Response:
        """Send with retries; ``authorized`` defaults to "only to the API's own URLs"."""
        with_token = is_relative(url) if authorized is None else authorized
        extra = dict(headers or {})
        if idempotency_key is not None:
            extra["Idempotency-Key"] = idempotency_key
        factory = body or (lambda: nullcontext(Body(data=data)))

        refused: list[str] = []  # the token a 401 answered, if one did

        def once() -> httpx.Response:
            sent = dict(extra)
            if with_token:
                if refused:
                    self._renew(refused[-1])
                sent["Authorization"] = f"Bearer {self.bearer()}"
            with factory() as one:
                return self._http.request(
                    method,
                    self.url(url),
                    content=one.content,
                    files=one.files,
                    data=one.data,
                    json=json,
                    params=params,
                    headers={**sent, **one.headers},
                )

        def attempt() -> httpx.Response:
            refused.clear()
            response = once()
            if response.status_code == 401 and with_token and self._credentials is not None:
                # The cached token was refused (revoked, or the server's key rotated): renew once.
                refused.append(_bearer_of(response.request))
                response = once()
            self.check(response)
            return response

        return self.retrying(f"{method} {urlsplit(url).path}", attempt)

    def stream(
        self, url: str, params: dict[str, str] | None = None
    ) -> AbstractContextManager[httpx.Response]:
        """A streamed GET (no retries, redirects not followed): the caller retries whole reads."""
        headers = {"Authorization": f"Bearer {self.bearer()}"} if is_relative(url) else {}
        return self._http.stream(
            "GET", self.url(url), params=params, headers=headers, follow_redirects=False
        )

    def get_json(self, url: str, params: dict[str, str] | None = None) -> Any:
        return self.request("GET", url, params=params).json()

    # Endpoints ----------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json("/v1/me")
        return result

    def requests_of(self, inspection_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get_json(f"/v1/inspections/{inspection_id}/requests")
        return result

    def selection(self, inspection_id: str, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json(f"/v1/inspections/{inspection_id}/selections/{key}")
        return result

    def list_template(self, inspection_id: str, list_key: str) -> bytes:
        """The Excel template of a list (small: a workbook of headings)."""
        url = f"/v1/inspections/{inspection_id}/lists/{list_key}/template.xlsx"
        return self.request("GET", url).content

    def document(self, document_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json(f"/v1/documents/{document_id}")
        return result

    def push_list(
        self,
        inspection_id: str,
        list_key: str,
        content: bytes,
        media_type: str,
        dry_run: bool,
        if_match: int | None,
    ) -> dict[str, Any]:
        headers = {"Content-Type": media_type}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        response = self.request(
            "PUT",
            f"/v1/inspections/{inspection_id}/lists/{list_key}",
            body=lambda: nullcontext(Body(content=content)),
            params={"dry_run": "true"} if dry_run else None,
            headers=headers,
        )
        result: dict[str, Any] = response.json()
        return result


def iter_file(path: Any, offset: int, length: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """``length`` bytes of a file from ``offset``, a chunk at a time (never the whole part)."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        left = length
        while left > 0:
            data = handle.read(min(chunk, left))
            if not data:
                raise OSError(f"{path} shrank while being sent")
            left -= len(data)
            yield data
