"""Reading the ``file`` field of a multipart body as it arrives, never holding it whole.

FastAPI's UploadFile would spool the entire file before our code runs; here the body is fed
to python-multipart's streaming parser chunk by chunk, and the file's bytes are handed on as
they are parsed, so they can be hashed and stored while the client is still sending.

Short text fields the endpoint knows (``TEXT_FIELDS``: the document's kind) are read when
they come before the file, as a browser and HTTP libraries send a form's fields; anything
after the file is not read, since the file is stored as it arrives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.storage.base import Chunk

FILE_FIELD = b"file"
MAX_FILENAME = 255
# Text fields read before the file, and the most bytes each may hold.
TEXT_FIELDS = frozenset({b"document_kind", b"kind"})
MAX_TEXT_FIELD = 256


class MultipartError(ValueError):
    """The body is not the multipart form the endpoint expects."""


def boundary_of(content_type: str | None) -> bytes:
    media_type, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise MultipartError("send multipart/form-data with a boundary")
    return boundary


@dataclass
class _State:
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    in_file: bool = False
    filename: str | None = None
    file_done: bool = False
    pending: list[Chunk] = field(default_factory=list)
    text_field: bytes | None = None  # the known text field being read
    fields: dict[bytes, bytearray] = field(default_factory=dict)


class FileFieldParser:
    """Feed body chunks; collect the bytes of the ``file`` field's data as they appear."""

    def __init__(self, boundary: bytes) -> None:
        self.state = _State()
        self._parser = MultipartParser(
            boundary,
            {
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )

    def feed(self, chunk: bytes) -> list[Chunk]:
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            # A bare CR in a part's header (say, in its file name) ends up here: the client's
            # fault, answered as such, never a server error.
            raise MultipartError(f"the form is malformed: {exc}") from None
        out, self.state.pending = self.state.pending, []
        return out

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.state.header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.state.header_value += data[start:end]

    def _on_header_end(self) -> None:
        state = self.state
        state.headers[bytes(state.header_field).lower()] = bytes(state.header_value)
        state.header_field.clear()
        state.header_value.clear()

    def _on_headers_finished(self) -> None:
        state = self.state
        _, options = parse_options_header(state.headers.get(b"content-disposition", b""))
        state.headers = {}
        name = options.get(b"name")
        if name == FILE_FIELD and state.filename is None:
            raw = options.get(b"filename", b"")
            state.filename = raw.decode("utf-8", "replace")[-MAX_FILENAME:] or "unnamed"
            state.in_file = True
        elif name in TEXT_FIELDS and state.filename is None and b"filename" not in options:
            if name in state.fields:
                raise MultipartError(f"the form names '{name.decode()}' twice")
            state.text_field = name
            state.fields[name] = bytearray()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.state.text_field is not None:
            value = self.state.fields[self.state.text_field]
            value += data[start:end]
            if len(value) > MAX_TEXT_FIELD:
                name = self.state.text_field.decode()
                raise MultipartError(f"the form field '{name}' is over {MAX_TEXT_FIELD} bytes")
        if self.state.in_file:
            # A view of the body chunk, not a copy; only a mutable buffer (which its owner
            # may refill) is copied, so a piece can be held until its part is stored.
            piece = memoryview(data)[start:end]
            self.state.pending.append(piece if isinstance(data, bytes) else bytes(piece))

    def _on_part_end(self) -> None:
        self.state.text_field = None
        if self.state.in_file:
            self.state.in_file = False
            self.state.file_done = True


@dataclass
class FileStream:
    filename: str
    head: bytes  # the first bytes, for sniffing before anything is stored
    rest: AsyncIterator[Chunk]
    fields: dict[str, str] = field(default_factory=dict)  # known text fields before the file


async def open_file_field(
    body: AsyncIterator[bytes], boundary: bytes, head_size: int
) -> FileStream:
    """Read until the file's headers and first ``head_size`` bytes (or its end) are in."""
    parser = FileFieldParser(boundary)
    head = bytearray()
    async for chunk in body:
        for data in parser.feed(chunk):
            head += data
        if parser.state.filename is not None and (len(head) >= head_size or parser.state.file_done):
            break
    if parser.state.filename is None:
        raise MultipartError("the form has no 'file' field")

    async def rest() -> AsyncIterator[Chunk]:
        if parser.state.file_done:
            return
        async for chunk in body:
            for data in parser.feed(chunk):
                yield data
            if parser.state.file_done:
                return
        raise MultipartError("the body ended before the file did")

    return FileStream(parser.state.filename, bytes(head), rest(), _text(parser.state.fields))


def _text(fields: dict[bytes, bytearray]) -> dict[str, str]:
    try:
        return {name.decode(): value.decode("utf-8") for name, value in fields.items()}
    except UnicodeDecodeError:
        raise MultipartError("a form field is not UTF-8") from None
