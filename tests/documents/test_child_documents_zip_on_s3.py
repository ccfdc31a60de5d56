"""A child's documents as one ZIP, streamed from a real S3 store (SeaweedFS)."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.documents.test_child_documents_zip import opened, sha, zip_url
from tests.documents.test_documents_on_s3 import s3_app, s3_client
from tests.factories import PDF, Factory, World

__all__ = ["s3_app", "s3_client"]  # the fixtures, shared with the other S3 document tests

pytestmark = pytest.mark.commits  # an app of its own, on S3, reads what the factory wrote


def test_the_zip_streams_each_object_from_s3(
    s3_client: TestClient, s3_app: FastAPI, world: World
) -> None:
    factory = Factory(s3_app)
    factory.selection(world.inspection_id, "tracked", ["C1"])
    asked = s3_client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.lead.headers
    ).json()
    request_id = uuid.UUID(next(r["id"] for r in asked if r["kind"] == "case_file"))
    big = PDF + b"B" * (6 * 1024 * 1024)  # more than one 5 MiB part in the store
    small = PDF + b"plan"
    chronology = factory.document(world.agency, request_id, big, "chronology")
    plan = factory.document(world.agency, request_id, small, "plan")

    response = s3_client.get(zip_url(world), headers=world.inspector.headers)

    assert response.status_code == 200, response.text
    assert int(response.headers["content-length"]) == len(response.content)
    entries = opened(response.content)
    assert sorted(sha(data) for data in entries.values()) == sorted([sha(big), sha(small)])
    log = s3_client.get(
        f"/v1/inspections/{world.inspection_id}/children/C1/access-log",
        headers=world.lead.headers,
    ).json()["items"]
    downloaded = {i["object_id"] for i in log if i["action"] == "document.downloaded"}
    assert downloaded == {str(chronology), str(plan)}
