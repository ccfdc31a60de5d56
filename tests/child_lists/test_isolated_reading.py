"""Spreadsheets and bodies built to exhaust a parser: refused by what they declare before any
parser reads them, and where a parser still dies, only its worker process dies with it."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from app.core.config import Settings
from app.core.database import session_scope
from app.inspections.models import Inspection, InspectionStatus
from app.main import create_app
from tests.factories import Factory, World
from tests.list_rows import cin_row, push_json

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MiB = 1024 * 1024


def _put(client: TestClient, world: World, content: bytes, media_type: str, **params: Any) -> Any:
    return client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        content=content,
        params=params,
        headers={**world.agency.headers, "Content-Type": media_type},
    )


def _still_serving(client: TestClient, world: World) -> None:
    assert client.get("/healthz").status_code == 200
    assert push_json(client, world, "children-in-need", [cin_row("C1")]).status_code == 201


def _whole_grid_workbook() -> bytes:
    """The reported 4.8 KB file: one heading and one cell in Excel's last row and column."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "Child unique ID"
    sheet["XFD1048576"] = "x"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rewrite_sheet(workbook: bytes, sheet_xml: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, sheet_xml if info.filename.endswith("sheet1.xml") else data)
    return out.getvalue()


def _cells_without_references(rows: int, columns: int) -> bytes:
    """Cells with no ``r`` follow the one before, so no reference says how wide the sheet is:
    the declared-size check cannot see it, and calamine still allocates rows x columns."""
    cells = b'<c t="inlineStr"><is><t>x</t></is></c>' * columns
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Child unique ID</t></is></c>'
        b'</row><row r="%d">%s</row></sheetData></worksheet>' % (rows, cells)
    )
    return _rewrite_sheet(_whole_grid_workbook(), sheet)


def test_a_sheet_declaring_the_whole_grid_is_refused_unread(
    client: TestClient, world: World
) -> None:
    response = _put(client, world, _whole_grid_workbook(), XLSX, dry_run="true")
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "sheet_too_large"
    assert "'Sheet'" in problem["detail"]
    assert "A1:XFD1048576" in problem["detail"]
    _still_serving(client, world)


def test_a_cell_placed_far_beyond_the_list_is_refused(client: TestClient, world: World) -> None:
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Child unique ID</t></is></c>'
        b'<c r="zz1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'
    )
    response = _put(client, world, _rewrite_sheet(_whole_grid_workbook(), sheet), XLSX)
    assert response.status_code == 422
    assert response.json()["code"] == "sheet_too_large"
    assert "zz1" in response.json()["detail"]


def test_a_parser_that_dies_takes_only_its_worker(client: TestClient, world: World) -> None:
    response = _put(client, world, _cells_without_references(400_000, 16_000), XLSX)
    assert response.status_code == 422
    assert response.json()["code"] == "file_too_costly"
    assert "memory" in response.json()["detail"]
    _still_serving(client, world)


@pytest.mark.commits
def test_a_worker_over_its_memory_limit_is_a_problem_not_a_dead_server(
    settings: Settings, world: World
) -> None:
    # Enough for a worker to start and read a small list (about 1 GiB of address space, most
    # of it polars' reservations), far too little for 150,000 rows of 80 columns (about 1.7).
    tight = create_app(settings.model_copy(update={"parse_memory_bytes": 1200 * MiB}))
    heading = ",".join(["Child unique ID", *(f"x{i}" for i in range(80))]).encode()
    cells = b"," + b",".join([b"ab"] * 80) + b"\n"
    body = heading + b"\n" + b"".join(b"C%d%s" % (i, cells) for i in range(150_000))
    with TestClient(tight) as client:
        response = _put(client, world, body, "text/csv", dry_run="true")
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "file_too_costly"
        assert "memory" in response.json()["detail"]
        _still_serving(client, world)
    tight.state.jtai.list_reader.close()
    tight.state.jtai.engine.dispose()


@pytest.mark.commits
def test_a_worker_over_its_time_is_killed(settings: Settings, world: World) -> None:
    hurried = create_app(settings.model_copy(update={"parse_wall_seconds": 0.001}))
    with TestClient(hurried) as client:
        response = push_json(client, world, "children-in-need", [cin_row("C1")])
        assert response.status_code == 422
        assert response.json()["code"] == "file_too_costly"
        assert "time" in response.json()["detail"]
    hurried.state.jtai.list_reader.close()
    hurried.state.jtai.engine.dispose()


def _peak_rss_growth(work: Any) -> tuple[Any, int]:
    """What ``work`` returns and how far this process's peak RSS rose above its RSS before."""

    def status(field: str) -> int:
        with open("/proc/self/status") as lines:
            line = next(x for x in lines if x.startswith(field))
        return int(line.split()[1]) * 1024

    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets VmHWM, the peak, to the current RSS
    before = status("VmRSS:")
    result = work()
    return result, status("VmHWM:") - before


@pytest.fixture
def serving_meanwhile(client: TestClient) -> Iterator[list[float]]:
    """Times of /healthz answers given by the app while a test's request is under way."""
    answered: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            if client.get("/healthz").status_code == 200:
                answered.append(time.monotonic())

    poller = threading.Thread(target=poll)
    poller.start()
    yield answered
    stop.set()
    poller.join()


@pytest.mark.parametrize(
    ("body", "media_type", "code"),
    [
        pytest.param(
            ",".join(["Child unique ID", *(f"x{i}" for i in range(300_000))]).encode(),
            "text/csv",
            "too_many_columns",
            id="csv-300k-columns",
        ),
        pytest.param(
            b'{"rows": [' + b",".join([b"{}"] * 16_000_000) + b"]}",
            "application/json",
            "too_many_rows",
            id="json-16M-empty-rows",
        ),
        pytest.param(
            b'{"rows": [{' + b",".join(b'"k%d": 1' % i for i in range(200_000)) + b"}]}",
            "application/json",
            "too_many_columns",
            id="json-200k-keys",
        ),
        pytest.param(
            b'{"rows": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "application/json",
            "invalid_json",
            id="json-nested-100k-deep",
        ),
    ],
)
def test_a_push_costs_what_it_holds_not_what_it_declares(
    client: TestClient,
    world: World,
    serving_meanwhile: list[float],
    body: bytes,
    media_type: str,
    code: str,
) -> None:
    started, cpu_before = time.monotonic(), time.process_time()
    response, growth = _peak_rss_growth(lambda: _put(client, world, body, media_type))
    cpu = time.process_time() - cpu_before
    assert 400 <= response.status_code < 500
    assert response.json()["code"] == code
    # A ceiling, not a benchmark: before these checks the same bodies cost 14 s to minutes of
    # CPU. CPU time, not wall time, so that a busy machine does not fail it.
    assert cpu < 5, f"refusing cost {cpu:.1f} s of CPU"
    assert growth < 100 * MiB, f"peak RSS rose {growth / MiB:.0f} MiB"
    assert any(t > started for t in serving_meanwhile), "no other request was answered"


@pytest.mark.commits
def test_pushes_waiting_for_a_reader_give_up_with_503_and_others_are_served(
    settings: Settings, world: World
) -> None:
    app = create_app(settings.model_copy(update={"parse_workers": 1, "parse_wait_seconds": 0.3}))
    reader = app.state.jtai.list_reader
    with TestClient(app) as client:
        assert client.portal is not None
        with client.portal.wrap_async_context_manager(reader.slot()):  # the one reader, busy
            response = push_json(client, world, "children-in-need", [cin_row("C1")])
            assert client.get("/healthz").status_code == 200
            assert client.get("/v1/me", headers=world.lead.headers).status_code == 200
        assert response.status_code == 503
        assert response.json()["code"] == "list_readers_busy"
        assert response.headers["retry-after"] == "60"
        assert push_json(client, world, "children-in-need", [cin_row("C1")]).status_code == 201
    reader.close()
    app.state.jtai.engine.dispose()


class _WatchingReader:
    """The app's reader, noting how many database connections are out while it reads."""

    def __init__(self, reader: Any, engine: Any) -> None:
        self.reader, self.engine, self.connections_out = reader, engine, []

    def slot(self) -> Any:
        return self.reader.slot()

    def __call__(self, *args: Any) -> Any:
        self.connections_out.append(self.engine.pool.checkedout())
        return self.reader(*args)


@pytest.mark.commits
def test_no_database_connection_is_held_while_a_list_is_read(
    settings: Settings, world: World
) -> None:
    app = create_app(settings)
    watching = _WatchingReader(app.state.jtai.list_reader, app.state.jtai.engine)
    app.state.jtai.list_reader = watching
    with TestClient(app) as client:
        assert push_json(client, world, "children-in-need", [cin_row("C1")]).status_code == 201
    assert watching.connections_out == [0]
    watching.reader.close()
    app.state.jtai.engine.dispose()


@pytest.mark.commits
def test_a_push_stored_after_the_inspection_closed_while_it_was_read_is_409(
    settings: Settings, world: World, factory: Factory
) -> None:
    app = create_app(settings)

    class ClosingReader(_WatchingReader):
        def __call__(self, *args: Any) -> Any:
            with session_scope(factory.state.session_factory) as session:  # closed meanwhile
                inspection = session.get(Inspection, world.inspection_id)
                assert inspection is not None
                inspection.status = InspectionStatus.CLOSED
            return self.reader(*args)

    app.state.jtai.list_reader = ClosingReader(app.state.jtai.list_reader, None)
    with TestClient(app) as client:
        response = push_json(client, world, "children-in-need", [cin_row("C1")])
    assert response.status_code == 409
    assert response.json()["code"] == "inspection_closed"
    app.state.jtai.engine.dispose()


@pytest.mark.parametrize(
    "body",
    [b'{"rows": [{"child_id": "C\\ud800X"}]}', b'{"rows": [{"child_id": "C1", "n\\udfff": 1}]}'],
    ids=["in-a-value", "in-a-key"],
)
def test_a_lone_surrogate_is_named_not_a_failure(
    client: TestClient, world: World, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    response = _put(client, world, body, "application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_json"
    assert "surrogate" in response.json()["detail"]
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
