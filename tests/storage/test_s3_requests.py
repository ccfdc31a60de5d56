"""The shape of the requests the S3 adapter sends, where SeaweedFS over HTTP cannot show it.

The contract suite runs every behaviour against a real SeaweedFS; it speaks plain HTTP here,
and botocore sends part bodies differently over HTTPS. These tests stop each request just
before it would leave (botocore's own ``before-send`` hook) and look at it.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders

from app.storage.base import Chunk
from app.storage.s3 import S3Storage
from app.storage.s3_client import crc32_checksum


class _EmptyBody:
    def stream(self, **_: Any) -> Any:
        yield b""


def _https_storage(seen: list[AWSPreparedRequest]) -> S3Storage:
    session = boto3.session.Session(
        aws_access_key_id="test-key", aws_secret_access_key="test-secret"
    )
    storage = S3Storage(bucket="b", endpoint_url="https://s3.example.invalid", session=session)

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        seen.append(request)
        headers = HTTPHeaders()
        headers["ETag"] = '"etag-1"'
        return AWSResponse(request.url, 200, headers, _EmptyBody())

    hook: Any = answer  # botocore's stubs type handlers as returning None; before-send may answer
    storage._client.meta.events.register("before-send.s3.UploadPart", hook)
    return storage


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def test_crc32_checksum_is_s3s_encoding() -> None:
    # CRC32 of "123456789" is 0xCBF43926 (the standard check value), sent big-endian base64.
    assert crc32_checksum([b"1234", memoryview(b"56789")]) == "y/Q5Jg=="


def test_parts_over_https_carry_their_crc32_in_a_signed_header_not_aws_chunked() -> None:
    seen: list[AWSPreparedRequest] = []
    storage = _https_storage(seen)
    pieces: list[Chunk] = [b"a" * 70_000, memoryview(b"b" * 9_000)[:5_000]]

    etag = storage._upload_part("inspections/i/k", "upload-1", 1, pieces)

    (request,) = seen
    headers = {name.lower(): _text(value) for name, value in request.headers.items()}
    expected = zlib.crc32(b"a" * 70_000 + b"b" * 5_000).to_bytes(4, "big")
    assert headers["x-amz-checksum-crc32"] == base64.b64encode(expected).decode()
    assert "x-amz-checksum-crc32" in headers["authorization"]  # signed, so it cannot be altered
    assert "aws-chunked" not in headers.get("content-encoding", "")
    assert "x-amz-trailer" not in headers
    assert int(headers["content-length"]) == 75_000
    assert etag == '"etag-1"'
