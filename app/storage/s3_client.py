"""Talking to an S3 store through boto3: client settings, the store's errors turned into the
storage layer's own, response bodies as chunks, and the CRC32 checksum header. No state here;
``S3Storage`` (``app.storage.s3``) holds the clients.
"""

from __future__ import annotations

import base64
import contextlib
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.response import StreamingBody

from app.storage.base import (
    READ_CHUNK_BYTES,
    Chunk,
    InvalidParts,
    ObjectNotFound,
    StorageError,
    UploadNotFound,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
_NO_UPLOAD = frozenset({"NoSuchUpload"})
_BAD_PARTS = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall"})


def client_config() -> Config:
    return Config(
        max_pool_connections=64,
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        # Part bodies are not hashed into the signature: that is a SHA-256 pass over every byte
        # on top of the one the exchange computes itself, and it was the largest cost of the
        # streamed upload after the store's own. Over HTTPS (any real deployment) botocore
        # already does this; the bodies stay covered by a CRC32 checksum header, which is signed.
        s3={"addressing_style": "path", "payload_signing_enabled": False},
        signature_version="s3v4",
    )


def probe_config() -> Config:
    # Readiness probes time out within seconds; three retries of 5 s connects would outlast them.
    return client_config().merge(
        Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=5)
    )


def make_client(
    session: boto3.session.Session, endpoint_url: str | None, region: str, config: Config
) -> S3Client:
    return session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def as_storage_errors(key: str) -> Iterator[None]:
    """Turn botocore errors into the storage layer's own, so callers need not know boto.

    No message carries a multipart upload id, ours or one the store echoes back.
    """
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in _NO_UPLOAD:
            raise UploadNotFound(key) from exc
        if code in _BAD_PARTS:
            raise InvalidParts(f"the store refused the part list ({code})") from exc
        if code in _NOT_FOUND:
            raise ObjectNotFound(key) from exc
        raise StorageError(f"object store refused the request for {key!r}: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"object store unreachable for {key!r}: {exc}") from exc


def iter_body(body: StreamingBody) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_CHUNK_BYTES)
    except BotoCoreError as exc:
        raise StorageError(f"object read failed: {exc}") from exc
    finally:
        body.close()


def crc32_checksum(pieces: Iterable[Chunk]) -> str:
    """S3's ``x-amz-checksum-crc32`` value for these bytes: the CRC32, big-endian, base64."""
    crc = 0
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
    return base64.b64encode(crc.to_bytes(4, "big")).decode("ascii")
