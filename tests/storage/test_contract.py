"""One contract, two adapters: every test runs against the local folder and a real S3 server."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from botocore.model import OperationModel

from app.storage import (
    EmptyObject,
    InvalidKey,
    InvalidParts,
    LocalStorage,
    NotSupported,
    ObjectNotFound,
    ObjectTooLarge,
    S3Storage,
    Storage,
    StorageError,
    UploadNotFound,
    content_disposition,
)
from app.storage.base import MAX_PART_BYTES, MIN_PART_BYTES, READ_CHUNK_BYTES, KiB
from tests.storage.seaweed import SeaweedS3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK = 64 * KiB
Leftovers = Callable[[], dict[str, list[str]]]


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest) -> Storage:
    adapter: Storage = request.getfixturevalue(f"{request.param}_storage")
    return adapter


@pytest.fixture
def leftovers(storage: Storage, request: pytest.FixtureRequest) -> Leftovers:
    """Everything the store holds, read behind the adapter's back."""
    if isinstance(storage, LocalStorage):
        return lambda: _local_leftovers(storage)
    assert isinstance(storage, S3Storage)
    client: S3Client = request.getfixturevalue("seaweed_client")
    return lambda: _s3_leftovers(client, storage.bucket)


def _s3_leftovers(client: S3Client, bucket: str) -> dict[str, list[str]]:
    objects = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return {
        "objects": sorted(item["Key"] for item in objects),
        "uploads": sorted(item["Key"] for item in uploads),
    }


def _local_leftovers(storage: LocalStorage) -> dict[str, list[str]]:
    files = sorted(str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file())
    return {
        "objects": [name for name in files if not name.startswith(".")],
        "uploads": [name for name in files if name.startswith(".uploads/")],
        "temp": [name for name in files if name.startswith(".tmp/")],
    }


def _nothing(leftovers: Leftovers) -> None:
    assert all(not found for found in leftovers().values()), leftovers()


def _key(name: str = "doc") -> str:
    return f"inspections/{os.urandom(8).hex()}/{name}"


def _data(size: int) -> bytes:
    return os.urandom(size)


def _chunks(data: bytes, size: int = CHUNK) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _read(storage: Storage, key: str) -> bytes:
    return b"".join(storage.open_stream(key))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _min_part(storage: Storage) -> int:
    return storage.min_part_bytes if isinstance(storage, LocalStorage) else MIN_PART_BYTES


# -- streamed puts ---------------------------------------------------------------------------


def test_round_trip_reports_size_and_sha256(storage: Storage) -> None:
    data = _data(300 * KiB + 7)
    key = _key()

    stored = storage.put_stream(key, _chunks(data, 50_000), max_bytes=len(data), content_type="x/y")

    assert (stored.key, stored.size, stored.sha256) == (key, len(data), _sha(data))
    assert _read(storage, key) == data
    assert storage.head(key) == len(data)
    assert storage.sha256_of(key) == (len(data), _sha(data))


def test_large_stream_goes_up_in_parts_and_reads_back_in_chunks(storage: Storage) -> None:
    # Over three S3 parts (5 MiB in the fixture): the S3 adapter sends several at once, and
    # the object must still come back in order.
    data = _data(3 * MIN_PART_BYTES + 3 * KiB)
    key = _key()

    stored = storage.put_stream(
        key, _chunks(data), max_bytes=10 * MIN_PART_BYTES, content_type="a/b"
    )

    assert stored.sha256 == _sha(data)
    chunks = list(storage.open_stream(key))
    assert b"".join(chunks) == data
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= READ_CHUNK_BYTES


@pytest.mark.parametrize("chunks", [[], [b"", b""]], ids=["no-chunks", "empty-chunks"])
def test_empty_object_is_refused(
    storage: Storage, leftovers: Leftovers, chunks: list[bytes]
) -> None:
    with pytest.raises(EmptyObject):
        storage.put_stream(_key(), iter(chunks), max_bytes=100, content_type="text/plain")
    _nothing(leftovers)


@pytest.mark.parametrize(
    "limit", [10 * KiB, MIN_PART_BYTES + 2 * CHUNK], ids=["early", "past-part"]
)
def test_oversize_is_refused_mid_stream_leaving_nothing(
    storage: Storage, leftovers: Leftovers, limit: int
) -> None:
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"x" * CHUNK

    with pytest.raises(ObjectTooLarge) as refused:
        storage.put_stream(_key(), endless(), max_bytes=limit, content_type="text/plain")

    assert refused.value.max_bytes == limit
    assert pulled * CHUNK <= limit + CHUNK  # stopped at the first chunk past the limit
    _nothing(leftovers)


def test_exact_limit_is_accepted(storage: Storage) -> None:
    data = _data(10 * KiB)
    stored = storage.put_stream(_key(), [data], max_bytes=len(data), content_type="x/y")
    assert stored.size == len(data)


@pytest.mark.parametrize(
    "fail_after",
    [CHUNK, MIN_PART_BYTES + CHUNK, 4 * MIN_PART_BYTES + CHUNK],
    ids=["early", "past-part", "parts-in-flight"],
)
def test_iterator_failure_leaves_nothing(
    storage: Storage, leftovers: Leftovers, fail_after: int
) -> None:
    def disconnecting() -> Iterator[bytes]:
        yield from _chunks(b"y" * fail_after)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError, match="client went away"):
        storage.put_stream(_key(), disconnecting(), max_bytes=10 * MIN_PART_BYTES, content_type="a")
    _nothing(leftovers)


# -- reads, heads, deletes -------------------------------------------------------------------


def test_delete_exists_head(storage: Storage) -> None:
    key = _key()
    assert not storage.exists(key)
    assert storage.head(key) is None
    storage.put_stream(key, [b"hello"], max_bytes=100, content_type="text/plain")
    assert storage.exists(key)
    assert storage.head(key) == 5

    storage.delete(key)

    assert not storage.exists(key)
    assert storage.head(key) is None
    storage.delete(key)  # deleting again is fine


def test_missing_object_raises_before_streaming(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        storage.open_stream(_key())
    with pytest.raises(ObjectNotFound):
        storage.sha256_of(_key())


def test_a_key_prefix_is_not_an_object(storage: Storage) -> None:
    key = _key()
    storage.put_stream(key, [b"data"], max_bytes=100, content_type="text/plain")
    prefix = key.rsplit("/", 1)[0]
    assert storage.head(prefix) is None
    with pytest.raises(ObjectNotFound):
        storage.open_stream(prefix)
    storage.delete(prefix)
    assert storage.exists(key)


BAD_KEYS = [
    "../escape",
    "inspections/../../escape",
    "/etc/passwd",
    "inspections\\x",
    "inspections/./x",
    "inspections//x",
    "inspections/x/",
    ".tmp/x",
    ".uploads/x",
    "",
    "a\x00b",
    "a\nb",
    "k" * 600,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused(storage: Storage, leftovers: Leftovers, key: str) -> None:
    attempts: list[Callable[[], object]] = [
        lambda: storage.put_stream(key, [b"x"], max_bytes=10, content_type="a/b"),
        lambda: storage.open_stream(key),
        lambda: storage.head(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.sha256_of(key),
        lambda: storage.start_multipart(key, "a/b"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidKey):
            attempt()
    _nothing(leftovers)


def test_ready(storage: Storage) -> None:
    assert storage.ready() is True


# -- multipart through the API (put_part) ----------------------------------------------------


def test_put_part_flow(storage: Storage, leftovers: Leftovers) -> None:
    first, second = _data(_min_part(storage)), _data(1000)
    key = _key()
    upload_id = storage.start_multipart(key, "application/pdf")

    # Out of order, and part 2 sent twice: the later copy wins, as on S3.
    storage.put_part(key, upload_id, 2, [b"stale bytes"])
    etag2 = storage.put_part(key, upload_id, 2, _chunks(second, 300))
    etag1 = storage.put_part(key, upload_id, 1, _chunks(first))
    storage.complete_multipart(key, upload_id, [(1, etag1), (2, etag2)])

    assert storage.sha256_of(key) == (len(first) + len(second), _sha(first + second))
    assert leftovers()["uploads"] == []
    assert storage.list_open_multipart(datetime.now(UTC) + timedelta(days=1)) == []


def test_put_part_limits(storage: Storage, leftovers: Leftovers) -> None:
    key = _key()
    upload_id = storage.start_multipart(key, "application/pdf")

    with pytest.raises(ObjectTooLarge):
        storage.put_part(key, upload_id, 1, _chunks(_data(3 * KiB), KiB), max_bytes=2 * KiB)
    with pytest.raises(EmptyObject):
        storage.put_part(key, upload_id, 1, [])
    with pytest.raises(InvalidParts):
        storage.put_part(key, upload_id, 0, [b"x"])

    storage.abort_multipart(key, upload_id)
    _nothing(leftovers)


def test_complete_refuses_wrong_parts(storage: Storage) -> None:
    key = _key()
    upload_id = storage.start_multipart(key, "application/pdf")
    etag1 = storage.put_part(key, upload_id, 1, [b"a" * 10])
    etag2 = storage.put_part(key, upload_id, 2, [b"b" * 10])

    with pytest.raises(InvalidParts):  # wrong ETag
        storage.complete_multipart(key, upload_id, [(1, '"' + "0" * 32 + '"')])
    with pytest.raises(InvalidParts):  # descending part numbers
        storage.complete_multipart(key, upload_id, [(2, etag2), (1, etag1)])
    with pytest.raises(InvalidParts):  # a non-last part under the minimum size
        storage.complete_multipart(key, upload_id, [(1, etag1), (2, etag2)])
    with pytest.raises(InvalidParts):
        storage.complete_multipart(key, upload_id, [])
    assert not storage.exists(key)

    # The upload survives refused completions; the last part alone is fine, quotes or not.
    storage.complete_multipart(key, upload_id, [(1, etag1.strip('"'))])
    assert _read(storage, key) == b"a" * 10


def test_unknown_upload_is_reported(storage: Storage) -> None:
    key = _key()
    with pytest.raises(UploadNotFound):
        storage.put_part(key, "0" * 32, 1, [b"x"])
    with pytest.raises(UploadNotFound):
        storage.complete_multipart(key, "0" * 32, [(1, '"' + "0" * 32 + '"')])
    with pytest.raises(UploadNotFound):
        storage.list_parts(key, "0" * 32)


def test_errors_never_name_the_stores_upload_id(storage: Storage) -> None:
    key = _key()
    upload_id = storage.start_multipart(key, "application/pdf")
    storage.abort_multipart(key, upload_id)
    failures = [
        lambda: storage.put_part(key, upload_id, 1, [b"x"]),
        lambda: storage.complete_multipart(key, upload_id, [(1, '"' + "0" * 32 + '"')]),
        lambda: storage.list_parts(key, upload_id),
    ]
    for failing in failures:
        with pytest.raises(UploadNotFound) as raised:
            failing()
        assert upload_id not in str(raised.value)
    live = storage.start_multipart(key, "application/pdf")
    # SeaweedFS says NoSuchUpload for an upload with no parts yet, the local store InvalidPart.
    with pytest.raises(StorageError) as refused:
        storage.complete_multipart(key, live, [(1, '"' + "0" * 32 + '"')])
    assert live not in str(refused.value)
    storage.abort_multipart(key, live)


def test_list_parts_gives_each_stored_parts_etag_and_size(storage: Storage) -> None:
    key = _key()
    upload_id = storage.start_multipart(key, "application/pdf")
    assert storage.list_parts(key, upload_id) == []
    storage.put_part(key, upload_id, 2, [b"stale"])
    etag2 = storage.put_part(key, upload_id, 2, _chunks(_data(3000), 1000))
    etag1 = storage.put_part(key, upload_id, 1, [b"a" * 10])

    listed = storage.list_parts(key, upload_id)

    # SeaweedFS still lists the replaced copy of part 2 as well; S3 and the folder do not.
    assert {(1, etag1.strip('"'), 10), (2, etag2.strip('"'), 3000)} <= set(listed)
    assert [part.number for part in listed] == sorted(part.number for part in listed)
    if isinstance(storage, LocalStorage):
        assert len(listed) == 2
    storage.abort_multipart(key, upload_id)


def test_abort_and_list_open_multipart(storage: Storage, leftovers: Leftovers) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    later = datetime.now(UTC) + timedelta(minutes=1)
    kept_key, aborted_key = _key("kept"), _key("aborted")
    kept = storage.start_multipart(kept_key, "text/plain")
    aborted = storage.start_multipart(aborted_key, "text/plain")
    storage.put_part(aborted_key, aborted, 1, [b"some bytes"])

    listed = {(u.key, u.upload_id) for u in storage.list_open_multipart(later)}
    assert listed == {(kept_key, kept), (aborted_key, aborted)}
    assert storage.list_open_multipart(before) == []
    assert all(u.initiated.tzinfo is not None for u in storage.list_open_multipart(later))

    storage.abort_multipart(aborted_key, aborted)
    storage.abort_multipart(aborted_key, aborted)  # twice is fine

    assert [(u.key, u.upload_id) for u in storage.list_open_multipart(later)] == [(kept_key, kept)]
    with pytest.raises(UploadNotFound):
        storage.put_part(aborted_key, aborted, 1, [b"late"])
    storage.abort_multipart(kept_key, kept)
    _nothing(leftovers)


def test_list_open_multipart_needs_aware_time(storage: Storage) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        storage.list_open_multipart(datetime.now())


# -- presigned URLs --------------------------------------------------------------------------


@pytest.mark.s3
def test_presigned_multipart_flow(s3_storage: S3Storage, seaweed_client: S3Client) -> None:
    first, second = _data(MIN_PART_BYTES), _data(700 * KiB)
    key = _key()
    upload_id = s3_storage.start_multipart(key, "application/pdf")

    parts = []
    for number, body in enumerate([first, second], start=1):
        url = s3_storage.presign_part(key, upload_id, number, timedelta(minutes=5), size=len(body))
        response = httpx.put(url, content=body)
        assert response.status_code == 200, response.text
        parts.append((number, response.headers["ETag"]))
    s3_storage.complete_multipart(key, upload_id, parts)

    assert s3_storage.sha256_of(key) == (len(first) + len(second), _sha(first + second))
    assert _s3_leftovers(seaweed_client, s3_storage.bucket) == {"objects": [key], "uploads": []}


@pytest.mark.s3
def test_presigned_part_url_is_bound_to_its_part(s3_storage: S3Storage) -> None:
    key = _key()
    upload_id = s3_storage.start_multipart(key, "application/pdf")
    url = s3_storage.presign_part(key, upload_id, 1, timedelta(minutes=5), size=1)

    tampered = url.replace("partNumber=1", "partNumber=2")
    assert httpx.put(tampered, content=b"x").status_code == 403
    s3_storage.abort_multipart(key, upload_id)


@pytest.mark.s3
def test_presigned_part_url_takes_only_its_planned_size(s3_storage: S3Storage) -> None:
    """The length is signed into the URL, and the real store holds a client to it."""
    key = _key()
    upload_id = s3_storage.start_multipart(key, "application/pdf")
    url = s3_storage.presign_part(key, upload_id, 1, timedelta(minutes=5), size=10)
    assert "content-length" in url.split("X-Amz-SignedHeaders=")[1].split("&")[0]

    for wrong in (b"x" * 11, b"x" * 9, b"x" * (1024 * KiB)):
        assert httpx.put(url, content=wrong).status_code == 403
    chunked = httpx.put(url, content=iter([b"x" * 10]))  # no length declared at all
    assert chunked.status_code == 403
    assert s3_storage.list_parts(key, upload_id) == []

    assert httpx.put(url, content=b"x" * 10).status_code == 200
    assert [(p.number, p.size) for p in s3_storage.list_parts(key, upload_id)] == [(1, 10)]
    s3_storage.abort_multipart(key, upload_id)


@pytest.mark.s3
def test_presigned_part_url_expires(s3_storage: S3Storage) -> None:
    key = _key()
    upload_id = s3_storage.start_multipart(key, "application/pdf")
    url = s3_storage.presign_part(key, upload_id, 1, timedelta(seconds=1), size=4)
    time.sleep(2.1)  # the signature's own clock: the store must refuse it now
    assert httpx.put(url, content=b"late").status_code == 403
    assert s3_storage.list_parts(key, upload_id) == []
    s3_storage.abort_multipart(key, upload_id)


@pytest.mark.s3
def test_presigned_part_size_must_be_a_part_size(s3_storage: S3Storage) -> None:
    key = _key()
    upload_id = s3_storage.start_multipart(key, "application/pdf")
    for size in (0, -1, MAX_PART_BYTES + 1):
        with pytest.raises(InvalidParts):
            s3_storage.presign_part(key, upload_id, 1, timedelta(minutes=5), size=size)
    s3_storage.abort_multipart(key, upload_id)


@pytest.mark.s3
def test_presign_get_downloads_with_safe_filename(s3_storage: S3Storage) -> None:
    data = _data(20 * KiB)
    key = _key()
    s3_storage.put_stream(key, [data], max_bytes=len(data), content_type="application/pdf")
    filename = 'Case notes "final"\r\nSet-Cookie: x=1/..\\Æther.pdf'

    response = httpx.get(s3_storage.presign_get(key, timedelta(minutes=1), filename))

    assert response.status_code == 200
    assert response.content == data
    disposition = response.headers["Content-Disposition"]
    assert disposition == content_disposition(filename)
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert "/" not in disposition


@pytest.mark.s3
def test_presigned_get_expires(s3_storage: S3Storage) -> None:
    key = _key()
    s3_storage.put_stream(key, [b"data"], max_bytes=10, content_type="text/plain")
    with pytest.raises(ValueError, match="at least one second"):
        s3_storage.presign_get(key, timedelta(0), "a.txt")


def test_local_store_has_no_presigned_urls(local_storage: LocalStorage) -> None:
    key = _key()
    upload_id = local_storage.start_multipart(key, "text/plain")
    assert local_storage.supports_presign is False
    with pytest.raises(NotSupported):
        local_storage.presign_part(key, upload_id, 1, timedelta(minutes=5), size=1)
    with pytest.raises(NotSupported):
        local_storage.presign_get(key, timedelta(minutes=5), "a.pdf")


# -- adapter specifics -----------------------------------------------------------------------


def test_local_files_are_private(local_storage: LocalStorage) -> None:
    key = _key()
    local_storage.put_stream(key, [b"secret"], max_bytes=100, content_type="text/plain")
    path = local_storage.root / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, local_storage.root / "inspections"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277], ids=["000", "022", "277"])
def test_local_modes_do_not_follow_the_umask(tmp_path: Path, mask: int) -> None:
    """0700 folders (the root's missing parents too) and 0600 files, part files included."""
    previous = os.umask(mask)
    try:
        storage = LocalStorage(tmp_path / "var" / "objects", min_part_bytes=4 * KiB)
        storage.ensure_bucket()
        storage.put_stream(_key(), [b"secret"], max_bytes=100, content_type="text/plain")
        key = _key()
        upload_id = storage.start_multipart(key, "text/plain")
        storage.put_part(key, upload_id, 1, [b"part"])
    finally:
        os.umask(previous)
    paths = [tmp_path / "var", *(tmp_path / "var").rglob("*")]
    assert len(paths) == 10  # var objects .tmp .uploads <id> meta part inspections <hex> doc
    wrong = {
        str(path): oct(stat.S_IMODE(path.stat().st_mode))
        for path in paths
        if stat.S_IMODE(path.stat().st_mode) != (0o700 if path.is_dir() else 0o600)
    }
    assert wrong == {}


def test_local_refuses_symlink_escape(local_storage: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (local_storage.root / "inspections").symlink_to(outside)
    with pytest.raises(InvalidKey):
        local_storage.put_stream("inspections/x", [b"x"], max_bytes=10, content_type="a/b")
    assert list(outside.iterdir()) == []


def test_local_ready_needs_a_writable_folder(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "not-yet")
    assert storage.ready() is False
    storage.ensure_bucket()
    assert storage.ready() is True
    if os.geteuid() != 0:  # root writes through any mode bits
        storage.root.chmod(0o500)
        try:
            assert storage.ready() is False
        finally:
            storage.root.chmod(0o700)


@pytest.mark.s3
def test_s3_ready_is_false_without_bucket_or_server(seaweed_s3: SeaweedS3) -> None:
    no_bucket = S3Storage(
        bucket="jtai-missing-bucket",
        endpoint_url=seaweed_s3.endpoint_url,
        session=seaweed_s3.session(),
    )
    assert no_bucket.ready() is False
    no_server = S3Storage(
        bucket="jtai-any", endpoint_url="http://127.0.0.1:9", session=seaweed_s3.session()
    )
    assert no_server.ready() is False


MULTIPART = ["CreateMultipartUpload", "UploadPart", "UploadPart", "CompleteMultipartUpload"]
ABORTED = ["CreateMultipartUpload", "UploadPart", "AbortMultipartUpload"]


@pytest.mark.s3
@pytest.mark.parametrize(
    ("size", "fail", "expected"),
    [
        (10 * KiB, False, ["PutObject"]),
        (MIN_PART_BYTES + CHUNK, False, MULTIPART),
        (
            MIN_PART_BYTES + CHUNK,
            True,
            ["CreateMultipartUpload", "UploadPart", "AbortMultipartUpload"],
        ),
    ],
    ids=["small-single-put", "large-multipart", "failure-aborts"],
)
def test_s3_put_stream_requests(
    s3_storage: S3Storage, size: int, fail: bool, expected: list[str]
) -> None:
    calls: list[str] = []

    def record(model: OperationModel, **_: object) -> None:
        calls.append(model.name)

    def source() -> Iterator[bytes]:
        yield from _chunks(b"z" * size)
        if fail:
            raise ConnectionResetError("gone")

    events = s3_storage._client.meta.events  # the adapter's own client, to see its requests
    events.register("before-call.s3", record)
    try:
        with contextlib.suppress(ConnectionResetError):
            s3_storage.put_stream(_key(), source(), max_bytes=2 * size, content_type="a/b")
    finally:
        events.unregister("before-call.s3", record)
    assert calls == expected


@pytest.mark.s3
def test_ensure_bucket_is_idempotent(s3_storage: S3Storage) -> None:
    s3_storage.ensure_bucket()
    s3_storage.ensure_bucket()
    assert s3_storage.ready()
