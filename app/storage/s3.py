"""Objects in an S3-compatible bucket (JTAI_STORAGE=s3): AWS S3, MinIO, Ceph, SeaweedFS.

Credentials come the usual AWS way (environment, shared config, instance role) unless a
``boto3.session.Session`` is passed in. boto3 clients are thread-safe, so one instance serves
all worker threads; sessions are not, which is why the clients are built once here.
"""

from __future__ import annotations

import base64
import itertools
import logging
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from app.storage.base import (
    MAX_PART_BYTES,
    Chunk,
    EmptyObject,
    MiB,
    ObjectNotFound,
    OpenUpload,
    StorageError,
    StoredObject,
    StoredPart,
    UploadNotFound,
    normalise_etag,
    require_aware,
    validate_key,
    validate_part_list,
    validate_part_number,
    validate_part_size,
)
from app.storage.downloads import content_disposition
from app.storage.s3_client import (
    as_storage_errors,
    client_config,
    crc32_checksum,
    error_code,
    iter_body,
    make_client,
    probe_config,
)
from app.storage.streams import Meter, PiecesReader, hash_stream, split_into_parts

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

logger = logging.getLogger(__name__)

DEFAULT_PART_BYTES = 6 * MiB
# A streamed upload keeps this many parts on their way to the store while it reads the next:
# one at a time left the store waiting on us and us on it (measured 0.5x of boto3's own
# upload, which sends four); each costs a part's memory, so few.
PARTS_IN_FLIGHT = 2
# put_part spools a proxied part to disk past this size rather than holding it in memory.
SPOOL_MEMORY_BYTES = 8 * MiB

_NO_BUCKET = frozenset({"404", "NoSuchBucket", "NotFound"})
_BUCKET_OURS = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


class S3Storage:
    """An S3 bucket behind the ``Storage`` interface."""

    supports_presign: bool = True

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        public_endpoint_url: str | None = None,
        part_bytes: int = DEFAULT_PART_BYTES,
        session: boto3.session.Session | None = None,
    ) -> None:
        # part_bytes below 5 MiB only works for single-part objects: S3 refuses smaller
        # non-last parts at completion (EntityTooSmall).
        self.bucket = bucket
        self.region = region
        self.part_bytes = part_bytes
        session = session or boto3.session.Session()
        self._client: S3Client = make_client(session, endpoint_url, region, client_config())
        self._part_senders = ThreadPoolExecutor(thread_name_prefix="s3-parts")
        self._probe: S3Client = make_client(session, endpoint_url, region, probe_config())
        # Presigned URLs embed the host they were signed for, so sign with the address clients
        # can reach (e.g. a public name in front of a private endpoint).
        public = public_endpoint_url or endpoint_url
        self._presigner: S3Client = make_client(session, public, region, client_config())

    # -- lifecycle ---------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if error_code(exc) not in _NO_BUCKET:
                raise StorageError(f"bucket {self.bucket!r} is not usable: {exc}") from exc
        self._create_bucket()

    def ready(self) -> bool:
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError):
            return False
        return True

    # -- objects -----------------------------------------------------------------------------

    def put_stream(
        self, key: str, chunks: Iterable[Chunk], *, max_bytes: int, content_type: str
    ) -> StoredObject:
        validate_key(key)
        meter = Meter(max_bytes)
        parts = split_into_parts(meter.feed(chunks), self.part_bytes)
        first = next(parts, None)
        if first is None:
            raise EmptyObject()
        if meter.size < self.part_bytes:
            # Only the last part is short: the whole object fits one request, and the meter
            # has seen every byte, so its digest lets the store verify the body.
            self._put_single(key, first, content_type, meter.digest())
        else:
            self._put_multipart(key, itertools.chain([first], parts), content_type)
        return StoredObject(key=key, size=meter.size, sha256=meter.hexdigest())

    def open_stream(self, key: str) -> Iterator[bytes]:
        validate_key(key)
        with as_storage_errors(key):
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return iter_body(body)

    def head(self, key: str) -> int | None:
        validate_key(key)
        try:
            with as_storage_errors(key):
                return self._client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except ObjectNotFound:
            return None

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def delete(self, key: str) -> None:
        validate_key(key)
        with as_storage_errors(key):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def sha256_of(self, key: str) -> tuple[int, str]:
        return hash_stream(self.open_stream(key))

    # -- multipart ---------------------------------------------------------------------------

    def start_multipart(self, key: str, content_type: str) -> str:
        validate_key(key)
        with as_storage_errors(key):
            created = self._client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        return created["UploadId"]

    def presign_part(
        self, key: str, upload_id: str, part_number: int, expires: timedelta, *, size: int
    ) -> str:
        validate_key(key)
        validate_part_number(part_number)
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
            # Signed (X-Amz-SignedHeaders=content-length;host): the store refuses a body of
            # any other length, so a URL planned for 10 bytes cannot take 64 MiB.
            "ContentLength": validate_part_size(size),
        }
        return self._presign("upload_part", params, expires)

    def put_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        chunks: Iterable[Chunk],
        *,
        max_bytes: int = MAX_PART_BYTES,
    ) -> str:
        validate_key(key)
        validate_part_number(part_number)
        # UploadPart needs a length up front; spooling keeps a large part off the heap.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
            size = _spool(chunks, spool, max_bytes)
            with as_storage_errors(key):
                uploaded = self._client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=part_number,
                    Body=spool,
                    ContentLength=size,
                )
        return uploaded["ETag"]

    def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        validate_key(key)
        validate_part_list(parts)
        listed: list[CompletedPartTypeDef] = [
            {"PartNumber": number, "ETag": etag} for number, etag in parts
        ]
        with as_storage_errors(key):
            self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        validate_key(key)
        found = []
        with as_storage_errors(key):
            pages = self._client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            for page in pages:
                for part in page.get("Parts", []):
                    etag = normalise_etag(part["ETag"])
                    found.append(StoredPart(part["PartNumber"], etag, part["Size"]))
        return sorted(found)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        validate_key(key)
        try:
            with as_storage_errors(key):
                self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except UploadNotFound:
            return

    def list_open_multipart(self, older_than: datetime) -> list[OpenUpload]:
        require_aware(older_than)
        found = []
        with as_storage_errors(self.bucket):
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    opened = OpenUpload(
                        key=upload["Key"],
                        upload_id=upload["UploadId"],
                        initiated=upload["Initiated"],
                    )
                    if opened.initiated < older_than:
                        found.append(opened)
        return found

    def presign_get(self, key: str, expires: timedelta, filename: str) -> str:
        validate_key(key)
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename),
        }
        return self._presign("get_object", params, expires)

    # -- helpers -----------------------------------------------------------------------------

    def _create_bucket(self) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        # us-east-1 is the one region that refuses an explicit LocationConstraint.
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._client.create_bucket(**kwargs)
        except ClientError as exc:
            # Another process created it between our HEAD and PUT: that is success.
            if error_code(exc) not in _BUCKET_OURS:
                raise StorageError(f"cannot create bucket {self.bucket!r}: {exc}") from exc

    def _put_single(self, key: str, pieces: list[Chunk], content_type: str, sha256: bytes) -> None:
        with as_storage_errors(key):
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=PiecesReader(pieces),  # type: ignore[arg-type]  # a file-like, as boto3 reads
                ContentType=content_type,
                ChecksumSHA256=base64.b64encode(sha256).decode("ascii"),
            )

    def _put_multipart(self, key: str, parts: Iterator[list[Chunk]], content_type: str) -> None:
        upload_id = self.start_multipart(key, content_type)
        sending: deque[tuple[int, Future[str]]] = deque()
        done: list[tuple[int, str]] = []
        try:
            for number, body in enumerate(parts, start=1):
                if len(sending) == PARTS_IN_FLIGHT:
                    finished, future = sending.popleft()
                    done.append((finished, future.result()))
                upload = self._part_senders.submit(self._upload_part, key, upload_id, number, body)
                sending.append((number, upload))
            done += [(number, future.result()) for number, future in sending]
            self.complete_multipart(key, upload_id, done)
        except BaseException:
            # Any failure, the client's iterator included, must not leave billed parts behind;
            # parts still being sent finish first, or the abort could race them.
            wait([future for _, future in sending])
            self._abort_quietly(key, upload_id)
            raise

    def _upload_part(self, key: str, upload_id: str, number: int, pieces: list[Chunk]) -> str:
        with as_storage_errors(key):
            uploaded = self._client.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=PiecesReader(pieces),  # type: ignore[arg-type]  # a file-like, as boto3 reads
                # Given, not left to botocore: it would read the body once more for it, and over
                # HTTPS send it aws-chunked with the checksum in a trailer instead of a header.
                ChecksumCRC32=crc32_checksum(pieces),
            )
        return uploaded["ETag"]

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        # The original error matters more; a failed abort is left to the upload sweeper.
        try:
            self.abort_multipart(key, upload_id)
        except Exception:
            logger.warning("could not abort multipart upload %s for %s", upload_id, key)

    def _presign(self, method: str, params: dict[str, Any], expires: timedelta) -> str:
        seconds = int(expires.total_seconds())
        if seconds < 1:
            raise ValueError("expires must be at least one second")
        return self._presigner.generate_presigned_url(
            method, Params=params, ExpiresIn=seconds, HttpMethod=_HTTP_METHODS[method]
        )


_HTTP_METHODS = {"upload_part": "PUT", "get_object": "GET"}


def _spool(chunks: Iterable[Chunk], spool: IO[bytes], max_bytes: int) -> int:
    meter = Meter(max_bytes)
    for chunk in meter.feed(chunks):
        spool.write(chunk)
    if meter.size == 0:
        raise EmptyObject()
    spool.seek(0)
    return meter.size
