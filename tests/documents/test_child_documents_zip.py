"""A child's documents as one ZIP (issue 16, "views an inspector front end needs"): the latest
document of each kind from each agency, streamed from the store, each audited in the child's
access log."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from app.documents.bundle import ChildDocuments, Entry, entry_names, zip_archive
from app.documents.models import Document
from tests.factories import PDF, Factory, World


def zip_url(world: World, child_id: str = "C1") -> str:
    return f"/v1/inspections/{world.inspection_id}/children/{child_id}/documents.zip"


def case_files(
    client: TestClient, factory: Factory, world: World, children: list[str]
) -> dict[tuple[str, str], uuid.UUID]:
    """Request ids by (addressee organisation id, child) once the children are tracked."""
    factory.selection(world.inspection_id, "tracked", children)
    asked = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.lead.headers
    ).json()
    return {
        (r["addressee_organisation_id"], r["child_id"]): uuid.UUID(r["id"])
        for r in asked
        if r["kind"] == "case_file"
    }


def opened(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_zip_holds_the_latest_of_each_kind_from_each_agency_and_is_logged(
    client: TestClient, factory: Factory, world: World
) -> None:
    health = factory.actor_in(world, "health")
    asked = case_files(client, factory, world, ["C1", "C2"])
    council_c1 = asked[(str(world.agency.organisation_id), "C1")]
    health_c1 = asked[(str(health.organisation_id), "C1")]
    old = factory.document(world.agency, council_c1, PDF + b"old chronology", "chronology")
    new = factory.document(world.agency, council_c1, PDF + b"new chronology", "chronology")
    plan = factory.document(world.agency, council_c1, PDF + b"council plan", "plan")
    theirs = factory.document(health, health_c1, PDF + b"health plan", "plan")
    other_child = asked[(str(world.agency.organisation_id), "C2")]
    factory.document(world.agency, other_child, PDF + b"not C1", "plan")

    response = client.get(zip_url(world), headers=world.inspector.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert int(response.headers["content-length"]) == len(response.content)
    assert "C1-documents.zip" in response.headers["content-disposition"]
    entries = opened(response.content)
    assert all("/" not in name and "\\" not in name for name in entries)
    # Every entry is "report.pdf" as uploaded: told apart by agency and kind.
    hashes = sorted(sha(data) for data in entries.values())
    wanted = [PDF + b"new chronology", PDF + b"council plan", PDF + b"health plan"]
    assert hashes == sorted(sha(data) for data in wanted)
    assert sha(PDF + b"old chronology") not in hashes
    assert any(name.endswith("chronology - report.pdf") for name in entries)

    log = client.get(
        f"/v1/inspections/{world.inspection_id}/children/C1/access-log",
        headers=world.lead.headers,
    ).json()["items"]
    downloads = {
        item["object_id"]
        for item in log
        if item["action"] == "document.downloaded"
        and item["client_id"] == str(world.inspector.client_id)
    }
    assert downloads == {str(new), str(plan), str(theirs)}
    assert str(old) not in downloads


def test_a_tracked_child_without_documents_is_an_empty_zip_and_strangers_are_404(
    client: TestClient, factory: Factory, world: World
) -> None:
    case_files(client, factory, world, ["C1"])
    empty = client.get(zip_url(world), headers=world.lead.headers)
    assert empty.status_code == 200
    assert opened(empty.content) == {}
    nobody = client.get(zip_url(world, "NOBODY"), headers=world.lead.headers)
    assert nobody.status_code == 404
    assert client.get(zip_url(world), headers=world.agency.headers).status_code == 403


def test_entry_names_are_flat_safe_and_distinct() -> None:
    names = entry_names(
        [
            ("Council - plan", "report.pdf"),
            ("Council - plan", "REPORT.pdf"),
            ("Council - plan", "report.pdf"),
            ("Council - plan", "../../etc/passwd.pdf"),
            ("Council - plan", "C:\\Windows\\evil.pdf"),
            ("Council - plan", "\x00\u202e.pdf"),
        ]
    )
    assert names[:3] == [
        "Council - plan - report.pdf",
        "Council - plan - REPORT (2).pdf",
        "Council - plan - report (3).pdf",
    ]
    assert len({name.casefold() for name in names}) == len(names)
    for name in names:
        assert not set(name) & set("/\\:")
        assert not name.startswith(".")
        assert all(ch.isprintable() for ch in name)


class CountingStore:
    """Hands out each object's chunks and says which objects have been opened so far."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.opened: list[str] = []

    def open_stream(self, key: str) -> Iterator[bytes]:
        self.opened.append(key)
        data = self.objects[key]
        for start in range(0, len(data), 1024):
            yield data[start : start + 1024]


def _entry(key: str, data: bytes, name: str) -> Entry:
    document = Document(object_key=key, size=len(data), sha256=sha(data), filename=name)
    return Entry(document, name)


def test_objects_are_read_one_after_the_other_as_the_zip_is_written() -> None:
    objects = {"k1": b"a" * 5000, "k2": b"b" * 5000}
    store = CountingStore(objects)
    bundle = ChildDocuments("C1", [_entry(k, v, f"{k}.txt") for k, v in objects.items()])
    archive: Any = zip_archive(store, bundle)  # type: ignore[arg-type]
    chunks = iter(archive)
    first = next(chunks)
    assert store.opened == []  # the header of the first entry comes before any read
    written = bytearray()
    for chunk in chunks:
        written += chunk
        if store.opened == ["k1"]:
            assert len(written) < 5000 + 1024  # not the whole archive ahead of the reads
    assert store.opened == ["k1", "k2"]
    with zipfile.ZipFile(io.BytesIO(b"".join([first, bytes(written)]))) as unzipped:
        assert unzipped.read("k1.txt") == objects["k1"]
        assert unzipped.read("k2.txt") == objects["k2"]
    assert len(archive) == len(first) + len(written)


def test_entry_names_fit_a_file_system_and_fold_look_alike_slashes() -> None:
    """The attacker's pass: 200 emoji made a 364-byte name that unzip fails (and Python's
    extractall stops at); fullwidth dots and slashes become ../ on a code-page extractor."""
    emoji, lookalike = entry_names(
        [
            ("Council - plan", "\U0001f600" * 200 + ".pdf"),
            ("Police - x", "\uff0e\uff0e\uff0f\uff0e\uff0e\uff0fa\u2215b.pdf"),
        ]
    )
    assert len(emoji.encode()) <= 255
    assert emoji.endswith(".pdf")
    assert "/" not in lookalike
    assert ".." not in lookalike
    assert "\u2215" not in lookalike
