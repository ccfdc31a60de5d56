"""Storage fixtures other test folders can reuse.

The root conftest lists this module in ``pytest_plugins``, so every folder has them.

One server and one bucket serve the whole run (a new bucket costs SeaweedFS a volume, and a new
boto3 client ~0.1 s); ``s3_storage`` empties the bucket after every test instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from app.storage import LocalStorage, S3Storage
from app.storage.base import MIN_PART_BYTES, KiB
from tests.storage.seaweed import SeaweedError, SeaweedS3, SeaweedServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One SeaweedFS S3 server for the whole run; fails (never skips) if it cannot start."""
    try:
        server = SeaweedServer(tmp_path_factory.mktemp("seaweed"))
        credentials = server.start()
    except SeaweedError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield credentials
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seaweed_client(seaweed_s3: SeaweedS3) -> S3Client:
    """A plain boto3 client on the test server, for looking behind an adapter's back."""
    return seaweed_s3.session().client("s3", endpoint_url=seaweed_s3.endpoint_url)


@pytest.fixture(scope="session")
def _s3_session_storage(seaweed_s3: SeaweedS3) -> S3Storage:
    storage = S3Storage(
        bucket=f"jtai-test-{uuid.uuid4().hex[:12]}",
        endpoint_url=seaweed_s3.endpoint_url,
        region=seaweed_s3.region,
        # The S3 minimum, so tests reach the multipart path with the least data.
        part_bytes=MIN_PART_BYTES,
        session=seaweed_s3.session(),
    )
    storage.ensure_bucket()
    return storage


@pytest.fixture
def s3_storage(_s3_session_storage: S3Storage, seaweed_client: S3Client) -> Iterator[S3Storage]:
    """An S3Storage on the run's bucket, emptied (objects and open uploads) after the test."""
    yield _s3_session_storage
    empty_bucket(seaweed_client, _s3_session_storage.bucket)


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    """A LocalStorage in a fresh folder, with a small minimum part size to keep tests light."""
    storage = LocalStorage(tmp_path / "objects", min_part_bytes=4 * KiB)
    storage.ensure_bucket()
    return storage


def empty_bucket(client: S3Client, bucket: str) -> None:
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    for listing in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in listing.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
