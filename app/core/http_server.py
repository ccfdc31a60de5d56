"""How `jtai serve` runs uvicorn: an HTTP/1.1 protocol whose request headers are bounded.

httptools hands uvicorn each header only once it is complete, concatenating its bytes as they
arrive; one endless header therefore grows, and is copied again, with every read, on the event
loop every client shares (a 60 MB header stalled all other clients for seconds). Here the bytes
of a request's head (request line and headers) are counted before the parser sees them, and
past the limit the client gets 431 and the connection ends: the parser never holds more than
the limit, whatever the client sends. A head must also arrive within a time limit (408 after
it), so that senders of a byte now and then cannot hold connections open for ever.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.core.config import Settings, get_settings
from app.core.errors import PROBLEM_MEDIA_TYPE, render_problem

logger = logging.getLogger("jtai.http")

PROTOCOL = f"{__name__}:HeaderLimitedHttpToolsProtocol"
# After a refusal the rest of the client's request is read and dropped for a moment, so the
# close is a clean FIN the client can read the 431 before, not a reset that loses it.
LINGER_SECONDS = 2.0
LINGER_MAX_BYTES = 1024 * 1024


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What `uvicorn.run` needs to bound request heads, for every worker process.

    The protocol is named by its import path, so worker processes import it themselves. h11
    (used when httptools is missing) has its own bound: it answers 400 past it.
    """
    return {"http": PROTOCOL, "h11_max_incomplete_event_size": settings.max_header_bytes}


class HeaderLimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over ``max_header_bytes`` (431)
    or still incomplete after ``header_timeout_seconds`` (408)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.max_header_bytes = settings.max_header_bytes
        self.header_timeout_seconds = settings.header_timeout_seconds
        self._reading_head = True  # a connection starts with a request's head
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._ending = False
        self._discarded_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A connection that never sends its head is let go too (uvicorn times out only the
        # idle time between requests).
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._ending:
            self._discard(data)
            return
        if not self._reading_head:
            # Body bytes. If a pipelined request begins in this same read, its head is counted
            # from the next read on: at most one read (bounded by the loop) goes uncounted.
            super().data_received(data)
            return
        if self._head_timer is None:
            self._start_head_timer()
        allowance = self.max_header_bytes - self._head_bytes
        if len(data) <= allowance:
            self._head_bytes += len(data)
            super().data_received(data)
            return
        # Only what the limit allows reaches the parser; if the head ends within it, the rest
        # is body (or the next request) and is fed on as usual.
        self._head_bytes += allowance
        super().data_received(data[:allowance])
        if self._closed():
            return
        if self._reading_head:
            logger.info("request head refused: too large", extra={"peer": self.client})
            self._end_with(431, "headers_too_large", self._too_large_detail())
            return
        self.data_received(data[allowance:])

    # Parser callbacks mark where a head starts and ends.
    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_head, self._head_bytes = True, 0
        super().on_message_complete()

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout_seconds, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self._reading_head or self._ending or self._closed():
            return
        if self._answering():
            self._start_head_timer()  # the next head may wait while this answer is made
            return
        if self._head_bytes == 0:
            self.transport.close()  # nothing was asked: nothing to answer
            return
        logger.info("request head refused: too slow", extra={"peer": self.client})
        detail = f"The request line and headers took over {self.header_timeout_seconds:g} s."
        self._end_with(408, "headers_timeout", detail)

    def _closed(self) -> bool:
        # The parser may have refused the bytes (400, connection closed) or handed the
        # connection to another protocol.
        return self.parser is None or self.transport.is_closing()

    def _answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _end_with(self, status: int, code: str, detail: str) -> None:
        """Answer with a problem and end the connection, reading (and dropping) what the
        client still sends for a moment, so that it reads the answer rather than a reset."""
        self._ending = True
        self._stop_head_timer()
        if self._answering():
            # A pipelined request is still being answered: this one would land inside it.
            self.transport.close()
            return
        self.transport.write(self._problem(status, code, detail))
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    def _discard(self, data: bytes) -> None:
        self._discarded_bytes += len(data)
        if self._discarded_bytes > LINGER_MAX_BYTES:
            self.transport.close()

    def _too_large_detail(self) -> str:
        return f"The request line and headers exceed {self.max_header_bytes} bytes in total."

    def _problem(self, status: int, code: str, detail: str) -> bytes:
        title = HTTPStatus(status).phrase
        body = render_problem(status, code, title, detail)
        lines = [f"HTTP/1.1 {status} {title}".encode()]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [
            b"content-type: " + PROBLEM_MEDIA_TYPE.encode(),
            b"content-length: " + str(len(body)).encode(),
            b"connection: close",
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body
