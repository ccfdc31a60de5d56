"""What makes two POSTs "the same request" for an Idempotency-Key.

The method, path and query, and the body, hashed as it passes to the app (or, for a retry,
as it is read to be compared): no body is buffered or kept, so a streamed upload stays
streamed. A multipart form is hashed as a form: a client retrying chooses a new boundary for
the same form, so its fingerprint is every part's name, file name and the SHA-256 of its
bytes, in order. Any other body is hashed as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import Scope


def request_line(scope: Scope) -> bytes:
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope['method']} {scope['path']}?{query}".encode()


def _framed(value: bytes) -> bytes:
    # Length-prefixed, so ("ab", "c") and ("a", "bc") never hash alike.
    return len(value).to_bytes(8, "big") + value


@dataclass
class _Part:
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    disposition: bytes = b""
    content: hashlib._Hash = field(default_factory=hashlib.sha256)


class BodyDigest:
    """Feed a body chunk by chunk; ``hexdigest`` once it has all been fed, else None.

    A multipart body that cannot be parsed has no fingerprint either: the app refuses it
    too, and an answer to a request that cannot be recognised again is not worth keeping.
    """

    def __init__(self, scope: Scope, content_type: str | None) -> None:
        self._digest = hashlib.sha256(request_line(scope))
        self._part = _Part()
        self._parts = 0
        self._broken = False
        self._ended = False  # the closing boundary was seen
        self.complete = False  # the body was fed to its end
        media_type, options = parse_options_header(content_type or "")
        boundary = options.get(b"boundary") if media_type == b"multipart/form-data" else None
        self._parser = (
            MultipartParser(
                boundary,
                {
                    "on_part_begin": self._on_part_begin,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                    "on_end": self._on_end,
                },
            )
            if boundary
            else None
        )

    def feed(self, chunk: bytes, more_body: bool) -> None:
        if self._parser is None:
            self._digest.update(chunk)
        elif not self._broken:
            try:
                self._parser.write(chunk)
            except MultipartParseError:
                self._broken = True
        self.complete = not more_body

    def hexdigest(self) -> str | None:
        if not self.complete or self._broken:
            return None
        if self._parser is not None and not self._ended:
            return None  # a form cut off before its closing boundary
        digest = self._digest.copy()
        digest.update(_framed(str(self._parts).encode()))
        return digest.hexdigest()

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._part.header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._part.header_value += data[start:end]

    def _on_header_end(self) -> None:
        part = self._part
        if bytes(part.header_field).lower() == b"content-disposition":
            part.disposition = bytes(part.header_value)
        part.header_field.clear()
        part.header_value.clear()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._part.content.update(memoryview(data)[start:end])

    def _on_part_end(self) -> None:
        _, options = parse_options_header(self._part.disposition)
        for value in (
            options.get(b"name", b""),
            options.get(b"filename", b"\x00none"),  # no file name differs from an empty one
            self._part.content.digest(),
        ):
            self._digest.update(_framed(value))
        self._parts += 1

    def _on_end(self) -> None:
        self._ended = True
