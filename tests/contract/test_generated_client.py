"""A client generated from the committed contract works whole: openapi-python-client (a dev
dependency) writes it from ``openapi/openapi.json`` with no warning, and an inspection is
driven with nothing but that client over a real HTTP server: a token, a CSV pushed, a page
read with a filter, the tracked children chosen, a document uploaded in parts and read back,
a joint evaluation written and read.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pkgutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.themes.registry import builtin_themes
from scripts.export_openapi import generate
from tests.child_lists.helpers import headings_of, to_csv, to_xlsx
from tests.factories import Actor, Factory, World
from tests.list_rows import cin_row

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "jtai_exchange_client"
TRACKED = ["GC1", "GC2", "GC3", "GC4", "GC5"]
# Two parts: the store's smallest part (8 MiB) and what is left.
PDF = b"%PDF-1.7\n" + b"% padding to make two parts\n" * 320_000 + b"%%EOF\n"

pytestmark = pytest.mark.commits


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client, generated as an integrator would, then imported."""
    where = tmp_path_factory.mktemp("generated")
    tools = Path(sys.executable).parent  # the generator's own post-hook (ruff) is found here
    run = subprocess.run(
        [
            str(tools / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "openapi" / "openapi.json"),
            "--config",
            str(ROOT / "openapi" / "openapi-python-client.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
        timeout=120,
        check=False,
    )
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    assert "warning" not in said.lower(), said
    assert "error" not in said.lower(), said
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The test app behind uvicorn on a free loopback port: real HTTP, real sockets."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not come up"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(timeout=20)


def api(generated: ModuleType, name: str) -> Any:
    """One generated operation module, e.g. ``api(g, "auth.issue_token")``."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def model(generated: ModuleType, name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


class Session:
    """A caller's generated client, its token fetched through the generated token call."""

    def __init__(self, generated: ModuleType, base_url: str, actor: Actor) -> None:
        token_request = model(generated, "TokenRequest")(
            grant_type=model(generated, "GrantType").CLIENT_CREDENTIALS,
            client_id=str(actor.client_id),
            client_secret=actor.secret,
        )
        anonymous = generated.Client(base_url=base_url)
        token = api(generated, "auth.issue_token").sync(client=anonymous, body=token_request)
        assert isinstance(token, model(generated, "TokenResponse")), token
        self.client = generated.AuthenticatedClient(
            base_url=base_url, token=token.access_token, timeout=httpx.Timeout(60)
        )


def _cin_file(*, xlsx: bool = False) -> bytes:
    spec = builtin_themes().get("mental-health").get_list("children-in-need")
    assert spec is not None
    rows = [cin_row(child, allocated_team="North") for child in TRACKED]
    rows.append(cin_row("GC9", allocated_team="South"))
    keys = [field.key for field in spec.fields]
    cells = [[row.get(key) for key in keys] for row in rows]
    return (to_xlsx if xlsx else to_csv)(headings_of(spec), cells)


def test_every_generated_operation_imports(generated: ModuleType) -> None:
    api_package = importlib.import_module(f"{PACKAGE}.api")
    names = [
        module.name
        for module in pkgutil.walk_packages(api_package.__path__, f"{PACKAGE}.api.")
        if not module.ispkg
    ]
    for name in names:
        assert callable(importlib.import_module(name).sync_detailed), name
    assert len(names) == len([op for item in generate()["paths"].values() for op in item.values()])


def test_a_generated_client_drives_an_inspection(
    generated: ModuleType, server: str, world: World, factory: Factory
) -> None:
    g, inspection = generated, world.inspection_id
    council, lead = Session(g, server, world.agency), Session(g, server, world.lead)
    types = importlib.import_module(f"{PACKAGE}.types")
    list_key = model(g, "ListKey").CHILDREN_IN_NEED

    # Files answered are bytes (or text), not problems decoded from them.
    template = api(g, "child_lists.get_list_template").sync(
        inspection, list_key, client=council.client
    )
    assert isinstance(template, types.File), template
    assert template.payload.read().startswith(b"PK\x03\x04")
    calendar = api(g, "schedule.get_schedule_calendar").sync(inspection, client=council.client)
    assert isinstance(calendar, str), calendar
    assert calendar.startswith("BEGIN:VCALENDAR")

    # The generated function sends every file body under one type: the workbook is told
    # from a CSV by its first bytes (dry run: validated, nothing stored).
    workbook = types.File(payload=io.BytesIO(_cin_file(xlsx=True)), file_name="cin.xlsx")
    checked = api(g, "child_lists.push_list").sync(
        inspection, list_key, client=council.client, body=workbook, dry_run=True
    )
    assert isinstance(checked, model(g, "PushResult")), checked
    assert (checked.report.accepted, checked.report.stored, checked.version) == (True, False, None)
    csv_file = types.File(payload=io.BytesIO(_cin_file()), file_name="cin.csv")
    pushed = api(g, "child_lists.push_list").sync(
        inspection, list_key, client=council.client, body=csv_file
    )
    assert isinstance(pushed, model(g, "PushResult")), pushed
    assert (pushed.report.stored, pushed.report.rows, pushed.version.media_type) == (
        True,
        6,
        "text/csv",
    )

    page = api(g, "child_lists.read_list").sync(
        inspection, list_key, client=lead.client, allocated_team="South"
    )
    assert isinstance(page, model(g, "ListPage")), page
    assert [row.child_id for row in page.items] == ["GC9"]

    chosen = model(g, "SelectionUpdate")(child_ids=TRACKED)
    selected = api(g, "selections.put_selection").sync(
        inspection, model(g, "SelectionKey").TRACKED, client=lead.client, body=chosen
    )
    assert isinstance(selected, model(g, "SelectionRead")), selected
    assert selected.child_ids == TRACKED

    request_id = factory.document_request(inspection, world.agency.organisation_id)
    document = _upload_by_parts(g, council, request_id)
    downloaded = api(g, "documents.download_document").sync(document.id, client=lead.client)
    assert isinstance(downloaded, types.File), downloaded
    assert downloaded.payload.read() == PDF

    # The small-file way: one multipart form, streamed.
    form = model(g, "UploadDocumentBody")(
        file=types.File(payload=io.BytesIO(b"%PDF-1.7\n%%EOF\n"), file_name="GC2-plan.pdf")
    )
    streamed = api(g, "documents.upload_document").sync(
        factory.document_request(inspection, world.agency.organisation_id),
        client=council.client,
        body=form,
        idempotency_key="streamed-gc2",
    )
    assert isinstance(streamed, model(g, "DocumentRead")), streamed
    assert streamed.filename == "GC2-plan.pdf"

    _evaluate(g, council, lead, world)


def _upload_by_parts(g: ModuleType, council: Session, request_id: Any) -> Any:
    wanted = model(g, "UploadCreate")(
        filename="GC1-chronology.pdf", size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest()
    )
    upload = api(g, "documents.create_upload").sync(
        request_id, client=council.client, body=wanted, idempotency_key="upload-gc1"
    )
    assert isinstance(upload, model(g, "UploadRead")), upload
    assert len(upload.parts) == 2
    done = []
    for part in upload.parts:
        start = (part.part_number - 1) * upload.part_size
        chunk = g.types.File(payload=io.BytesIO(PDF[start : start + part.size]))
        stored = api(g, "documents.upload_part").sync(
            upload.id, part.part_number, client=council.client, body=chunk
        )
        assert isinstance(stored, model(g, "PartStored")), stored
        done.append(model(g, "PartDone")(part_number=stored.part_number, etag=stored.etag))
    document = api(g, "documents.complete_upload").sync(
        upload.id, client=council.client, body=model(g, "UploadComplete")(parts=done)
    )
    assert isinstance(document, model(g, "DocumentRead")), document
    assert (document.size, document.media_type) == (len(PDF), "application/pdf")
    return document


def _evaluate(g: ModuleType, council: Session, lead: Session, world: World) -> None:
    questions = builtin_themes().get("mental-health").evaluation.questions
    answers = model(g, "EvaluationWriteAnswers").from_dict(dict.fromkeys(questions, "Seen."))
    body = model(g, "EvaluationWrite")(
        answers=answers, contributing_organisation_ids=[world.agency.organisation_id]
    )
    joint = model(g, "EvaluationKind").JOINT
    written = api(g, "evaluations.put_evaluation").sync(
        world.inspection_id, TRACKED[0], joint, client=council.client, body=body
    )
    assert isinstance(written, model(g, "EvaluationRead")), written
    read = api(g, "evaluations.get_evaluation").sync(
        world.inspection_id, TRACKED[0], joint, client=lead.client
    )
    assert isinstance(read, model(g, "EvaluationRead")), read
    assert (read.version, read.answers.to_dict()) == (1, dict.fromkeys(questions, "Seen."))
