"""How `jtai serve` runs uvicorn: an HTTP/1.1 protocol whose request headers are bounded.

httptools hands uvicorn each header only once it is complete, concatenating its bytes as they
arrive; one endless header therefore grows, and is copied again, with every read, on the event
loop every client shares (a 60 MB header stalled all other clients for seconds). Here the bytes
of a request's head (request line and headers) are counted before the parser sees them, and
past the limit the client gets 431 and the connection ends: the parser never holds more than
the limit, whatever the client sends or however slowly.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.core.config import Settings, get_settings
from app.core.errors import PROBLEM_MEDIA_TYPE

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
    """uvicorn's httptools protocol, refusing a request head over ``max_header_bytes``."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_header_bytes = get_settings().max_header_bytes
        self._reading_head = True  # a connection starts with a request's head
        self._head_bytes = 0
        self._refused = False
        self._discarded_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._discard(data)
            return
        if not self._reading_head:
            # Body bytes. If a pipelined request begins in this same read, its head is counted
            # from the next read on: at most one read (bounded by the loop) goes uncounted.
            super().data_received(data)
            return
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
            self._refuse_head()
            return
        self.data_received(data[allowance:])

    # Parser callbacks mark where a head starts and ends.
    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_head, self._head_bytes = True, 0
        super().on_message_complete()

    def _closed(self) -> bool:
        # The parser may have refused the bytes (400, connection closed) or handed the
        # connection to another protocol.
        return self.parser is None or self.transport.is_closing()

    def _refuse_head(self) -> None:
        self._refused = True
        logger.info(
            "request head refused",
            extra={"max_header_bytes": self.max_header_bytes, "peer": self.client},
        )
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request is still being answered: a 431 would land inside its response.
            self.transport.close()
            return
        self.transport.write(self._response_431())
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    def _discard(self, data: bytes) -> None:
        self._discarded_bytes += len(data)
        if self._discarded_bytes > LINGER_MAX_BYTES:
            self.transport.close()

    def _response_431(self) -> bytes:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Request header fields too large",
                "status": 431,
                "code": "headers_too_large",
                "detail": (
                    f"The request line and headers exceed {self.max_header_bytes} bytes in total."
                ),
            }
        ).encode()
        lines = [b"HTTP/1.1 431 Request Header Fields Too Large"]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [
            b"content-type: " + PROBLEM_MEDIA_TYPE.encode(),
            b"content-length: " + str(len(body)).encode(),
            b"connection: close",
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body
