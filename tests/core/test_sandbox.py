"""The sandbox: work on hostile bytes in worker processes whose death is the request's alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.core.sandbox import Sandbox, SandboxBusy, SandboxFailed, SandboxLimits

HANDLER = "tests.core.sandbox_handlers:make"
GiB = 1024**3


def _sandbox(workers: int = 1, **limits: float) -> Sandbox:
    chosen = {"memory_bytes": GiB, "cpu_seconds": 5, "wall_seconds": 20, "wait_seconds": 20}
    chosen.update(limits)
    return Sandbox(HANDLER, ["an-argument"], workers, SandboxLimits(**chosen))  # type: ignore[arg-type]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    pool = _sandbox()
    yield pool
    pool.close()


def test_a_task_runs_in_a_worker_that_stays(sandbox: Sandbox) -> None:
    first, body = sandbox.run({"do": "echo"}, b"abc")
    second, _ = sandbox.run({"do": "echo"}, b"")
    assert body == b"cba"
    assert first["args"] == ["an-argument"]
    assert first["pid"] == second["pid"]


def test_a_worker_that_aborts_fails_its_task_and_is_replaced(sandbox: Sandbox) -> None:
    before, _ = sandbox.run({"do": "echo"}, b"")
    with pytest.raises(SandboxFailed, match="memory"):
        sandbox.run({"do": "abort"}, b"")
    after, _ = sandbox.run({"do": "echo"}, b"")
    assert after["pid"] != before["pid"]


def test_memory_beyond_the_limit_is_refused_in_the_worker(sandbox: Sandbox) -> None:
    answer, _ = sandbox.run({"do": "allocate", "bytes": 2 * GiB}, b"")
    assert answer == {"status": "failed", "reason": "it needed more memory than allowed"}
    assert "pid" in sandbox.run({"do": "echo"}, b"")[0]


def test_cpu_time_is_limited_per_task() -> None:
    pool = _sandbox(cpu_seconds=1)
    try:
        for _ in range(3):  # the limit moves with each task rather than adding up
            assert "pid" in pool.run({"do": "echo"}, b"")[0]
        with pytest.raises(SandboxFailed, match="processor time"):
            pool.run({"do": "spin"}, b"")
    finally:
        pool.close()


def test_wall_time_is_limited_from_outside() -> None:
    pool = _sandbox(wall_seconds=0.5)
    try:
        with pytest.raises(SandboxFailed, match="longer than the time allowed"):
            pool.run({"do": "sleep", "seconds": 30}, b"")
        assert "pid" in pool.run({"do": "echo"}, b"")[0]
    finally:
        pool.close()


def test_a_bug_in_the_handler_is_reported_and_the_worker_stays(sandbox: Sandbox) -> None:
    before, _ = sandbox.run({"do": "echo"}, b"")
    answer, _ = sandbox.run({"do": "fail"}, b"")
    assert answer["status"] == "failed"
    assert "ValueError: a bug" in answer["trace"]
    assert sandbox.run({"do": "echo"}, b"")[0]["pid"] == before["pid"]


def test_tasks_wait_for_a_free_worker_then_give_up() -> None:
    pool = _sandbox(wait_seconds=0.2)
    busy = threading.Thread(target=pool.run, args=({"do": "sleep", "seconds": 3}, b""))
    try:
        busy.start()
        while pool._idle.qsize():  # the sleeper has taken the only worker
            threading.Event().wait(0.01)
        with pytest.raises(SandboxBusy):
            pool.run({"do": "echo"}, b"")
    finally:
        busy.join()
        pool.close()


def test_a_large_payload_crosses_both_ways(sandbox: Sandbox) -> None:
    payload = bytes(range(256)) * (64 * 1024)  # 16 MiB, more than a pipe holds
    _, body = sandbox.run({"do": "echo"}, payload)
    assert body == payload[::-1]


def test_a_closed_pool_starts_new_workers_when_used_again(sandbox: Sandbox) -> None:
    before, _ = sandbox.run({"do": "echo"}, b"")
    sandbox.close()
    after, _ = sandbox.run({"do": "echo"}, b"")
    assert after["pid"] != before["pid"]


def test_an_answer_streams_in_frames_and_the_worker_stays(sandbox: Sandbox) -> None:
    payload = bytes(range(256)) * (8 * 1024)  # 2 MiB a frame: the worker waits on the reader
    frames = list(sandbox.stream({"do": "stream", "frames": 5}, payload))
    assert [header.get("number") for header, _ in frames] == [None, 0, 1, 2, 3, 4]
    assert all(body == payload for _, body in frames[1:])
    again, _ = sandbox.run({"do": "echo"}, b"")
    assert again["pid"] == frames[0][0]["pid"]


def test_a_stream_left_unread_kills_its_worker_and_frees_the_slot(sandbox: Sandbox) -> None:
    frames = sandbox.stream({"do": "stream", "frames": 50}, b"x" * 1024 * 1024)
    first, _ = next(frames)
    next(frames)
    frames.close()  # the caller failed while storing: the worker is still writing
    after, _ = sandbox.run({"do": "echo"}, b"")  # the one worker's slot is free again
    assert after["pid"] != first["pid"]


def test_a_payload_sent_in_pieces_arrives_whole(sandbox: Sandbox) -> None:
    pieces = [b"", bytes(range(256)) * 4096, b"x", b"", b"yz" * 300_000]  # empties are skipped
    _, body = sandbox.run({"do": "echo"}, iter(pieces))
    assert body == b"".join(pieces)[::-1]
