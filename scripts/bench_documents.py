"""Benchmark: documents into a real S3 store (SeaweedFS), through the API and around it.

In one run, against the same store:
- boto3 uploading a 1 GiB file straight to the bucket (the baseline);
- the same file streamed through POST /v1/requests/{id}/documents (target: >= 0.8x baseline);
- the same file through the presigned multipart flow: the parts straight to the store (target:
  at store speed), then the completion, where the server reads the object back to verify its
  size and SHA-256 (timed apart);
- `jtai client upload` sending the same file as an agency's script would (hash, parts in
  parallel, completion);
- CPU seconds per GiB of the API server and of the store on the streamed path, and of boto3
  and the store on the direct one (on a small machine these decide the ratio);
- the API server's peak memory growth meanwhile (target: < 64 MiB);
- 50 concurrent 10 MB uploads, every SHA-256 checked afterwards, nothing lost.

Run: .venv/bin/python scripts/bench_documents.py [--size-mib 1024] [--concurrent 50] [--repeats 3]
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import urllib3
from boto3.s3.transfer import TransferConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.bench.common import (
    cpu_seconds,
    demo_world,
    free_port,
    own_cpu_seconds,
    rss_kib,
    scratch_database,
    served,
    token,
)
from tests.storage.seaweed import SeaweedServer

MiB = 1024 * 1024
T = TypeVar("T")
PDF_HEADER = b"%PDF-1.7\n"


def with_cpu(meters: list[Callable[[], float]], run: Callable[[], T]) -> tuple[T, list[float]]:
    """``run()``'s result and the CPU seconds each meter counted meanwhile."""
    before = [meter() for meter in meters]
    result = run()
    return result, [meter() - start for meter, start in zip(meters, before, strict=True)]


def make_file(path: Path, size: int) -> str:
    block = os.urandom(MiB)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        written = 0
        while written < size:
            chunk = (PDF_HEADER + block)[:MiB] if written == 0 else block
            chunk = chunk[: size - written]
            handle.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def boto3_baseline(seaweed: Any, bucket: str, path: Path) -> float:
    client = seaweed.session().client("s3", endpoint_url=seaweed.endpoint_url)
    config = TransferConfig(multipart_chunksize=8 * MiB, max_concurrency=4)
    started = time.perf_counter()
    client.upload_file(str(path), bucket, f"baseline/{uuid.uuid4().hex}", Config=config)
    return time.perf_counter() - started


def streamed(base: str, bearer: str, request_id: str, path: Path) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    with path.open("rb") as handle:
        response = httpx.post(
            f"{base}/v1/requests/{request_id}/documents",
            # A case-file request asks which kind of case file this is (before the file).
            data={"kind": "chronology"},
            files={"file": ("big.pdf", handle, "application/pdf")},
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=3600,
        )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


def presigned(
    base: str, bearer: str, request_id: str, path: Path, digest: str
) -> tuple[float, float]:
    """Seconds to send the parts straight to the store, then to complete (server read-back).

    The parts go with urllib3, four at a time, as boto3's own upload does: the comparison is of
    the path, not of HTTP libraries.
    """
    auth = {"Authorization": f"Bearer {bearer}"}
    started = time.perf_counter()
    plan = httpx.post(
        f"{base}/v1/requests/{request_id}/uploads",
        json={"filename": "big.pdf", "size": path.stat().st_size, "sha256": digest},
        headers=auth,
        timeout=60,
    ).json()
    store = urllib3.PoolManager(maxsize=4)

    def send(part: dict[str, Any]) -> dict[str, Any]:
        with path.open("rb") as handle:
            handle.seek((part["part_number"] - 1) * plan["part_size"])
            body = handle.read(plan["part_size"])
        sent = store.request("PUT", part["url"], body=body, timeout=600)
        if sent.status != 200:
            raise RuntimeError(f"part {part['part_number']} refused: {sent.status}")
        return {"part_number": part["part_number"], "etag": sent.headers["etag"]}

    with ThreadPoolExecutor(max_workers=4) as pool:  # what boto3's baseline uses too
        parts = list(pool.map(send, plan["parts"]))
    sent_at = time.perf_counter()
    done = httpx.post(
        f"{base}{plan['complete_url']}", json={"parts": parts}, headers=auth, timeout=3600
    )
    done.raise_for_status()
    return sent_at - started, time.perf_counter() - sent_at


def client_upload(
    base: str, client: dict[str, str], inspection: str, request_id: str, path: Path, scratch: Path
) -> float:
    """Seconds for `jtai client upload` to send the file, hash to completion, as agencies run it."""
    folder = scratch / "client-upload"
    folder.mkdir()
    (folder / path.name).hardlink_to(path)  # the same bytes, not a second GiB on disk
    manifest = scratch / "manifest.csv"
    manifest.write_text(f"file,request_id\n{path.name},{request_id}\n", encoding="utf-8")
    env = {
        **os.environ,
        "JTAI_BASE_URL": base,
        "JTAI_CLIENT_ID": client["client_id"],
        "JTAI_CLIENT_SECRET": client["client_secret"],
        "JTAI_TOKEN_FILE": str(scratch / "token.json"),
    }
    command = [sys.executable, "-m", "app.cli", "client", "upload", inspection, str(folder)]
    options = ["--manifest", str(manifest), "--no-progress", "--state", str(scratch / "state")]
    started = time.perf_counter()
    ran = subprocess.run([*command, *options], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if ran.returncode != 0 or "already uploaded" in ran.stdout:
        raise RuntimeError(f"jtai client upload did not upload:\n{ran.stdout}\n{ran.stderr}")
    return elapsed


async def concurrent_uploads(
    base: str, bearer: str, request_id: str, count: int
) -> tuple[float, int]:
    bodies = [PDF_HEADER + os.urandom(10 * MiB - len(PDF_HEADER)) for _ in range(count)]
    expected = {hashlib.sha256(body).hexdigest() for body in bodies}
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {bearer}"}, limits=limits, timeout=600
    ) as client:
        started = time.perf_counter()
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/v1/requests/{request_id}/documents",
                    files={"file": (f"doc{n}.pdf", body, "application/pdf")},
                )
                for n, body in enumerate(bodies)
            )
        )
        elapsed = time.perf_counter() - started
    stored = {r.json()["sha256"] for r in responses if r.status_code == 201}
    return elapsed, len(expected & stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="baseline and streamed upload runs, interleaved; medians are reported",
    )
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="jtai-bench-"))
    big = scratch / "big.pdf"
    digest = make_file(big, options.size_mib * MiB)
    seaweed_server = SeaweedServer(scratch / "seaweed")
    seaweed = seaweed_server.start()
    bucket = f"jtai-bench-{uuid.uuid4().hex[:8]}"
    baselines: list[float] = []
    streams: list[float] = []
    direct_cpu: list[list[float]] = []  # (boto3's process, the store) per run
    stream_cpu: list[list[float]] = []  # (the API server, the store) per run
    try:
        with scratch_database() as database_url:
            env = {
                "JTAI_DATABASE_URL": database_url,
                "JTAI_VAR_DIR": str(scratch / "var"),
                "JTAI_LOG_LEVEL": "WARNING",
                "JTAI_STORAGE": "s3",
                "JTAI_S3_BUCKET": bucket,
                "JTAI_S3_ENDPOINT_URL": seaweed.endpoint_url,
                "JTAI_S3_REGION": seaweed.region,
                "JTAI_MAX_UPLOAD_BYTES": str(4 * 1024 * MiB),
                "AWS_ACCESS_KEY_ID": seaweed.access_key,
                "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
            }
            world: Any = demo_world(env)
            inspection = world["inspections"]["mental-health"]
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
            with served(command, env, port) as pid:
                council = token(base, world["clients"]["local_authority"])
                requests = httpx.get(
                    f"{base}/v1/inspections/{inspection}/requests",
                    headers={"Authorization": f"Bearer {council}"},
                    timeout=60,
                ).json()
                request_id = requests[0]["id"]
                before = rss_kib(pid)
                store = seaweed_server.pid
                assert store is not None
                # Interleaved, so a slow spell on the machine falls on both sides alike.
                for _ in range(options.repeats):
                    seconds, spent = with_cpu(
                        [own_cpu_seconds, lambda: cpu_seconds(store)],
                        lambda: boto3_baseline(seaweed, bucket, big),
                    )
                    baselines.append(seconds)
                    direct_cpu.append(spent)
                    (seconds, document), spent = with_cpu(
                        [lambda: cpu_seconds(pid), lambda: cpu_seconds(store)],
                        lambda: streamed(base, council, request_id, big),
                    )
                    assert document["sha256"] == digest, "the streamed upload's hash is wrong"
                    streams.append(seconds)
                    stream_cpu.append(spent)
                growth = (rss_kib(pid, "VmHWM") - before) / 1024
                presign_seconds, verify_seconds = presigned(base, council, request_id, big, digest)
                # Another request: the exchange would rightly call this file already sent.
                client_seconds = client_upload(
                    base,
                    world["clients"]["local_authority"],
                    inspection,
                    requests[1]["id"],
                    big,
                    scratch,
                )
                many_seconds, intact = asyncio.run(
                    concurrent_uploads(base, council, request_id, options.concurrent)
                )
    finally:
        seaweed_server.stop()
        # The store's volumes hold several GiB by now: leave nothing behind in /tmp.
        shutil.rmtree(scratch, ignore_errors=True)
    size = options.size_mib
    baseline = statistics.median(baselines)
    stream_seconds = statistics.median(streams)
    ratios = ", ".join(f"{b / s:4.2f}" for b, s in zip(baselines, streams, strict=True))
    print(f"file: {size} MiB; medians of {options.repeats} interleaved runs")
    print(f"boto3 direct       {baseline:7.2f} s  {size / baseline:8.1f} MiB/s")
    print(
        f"streamed via API   {stream_seconds:7.2f} s  {size / stream_seconds:8.1f} MiB/s  "
        f"ratio {baseline / stream_seconds:4.2f}x of direct (target >= 0.8x); "
        f"per run {ratios}"
    )
    print(
        f"presigned parts    {presign_seconds:7.2f} s  {size / presign_seconds:8.1f} MiB/s  "
        f"ratio {baseline / presign_seconds:4.2f}x of direct (target: store speed)"
    )
    whole = presign_seconds + verify_seconds
    print(
        f"  + completion     {verify_seconds:7.2f} s  (server reads the object back for its "
        f"SHA-256); whole flow {baseline / whole:4.2f}x of direct"
    )
    print(
        f"jtai client upload {client_seconds:7.2f} s  (hash, parts, completion); "
        f"{baseline / client_seconds:4.2f}x of direct"
    )
    gib = size / 1024
    boto3_cpu, direct_store = (statistics.median(run[i] for run in direct_cpu) for i in (0, 1))
    server_cpu, stream_store = (statistics.median(run[i] for run in stream_cpu) for i in (0, 1))
    print(
        f"CPU s per GiB      direct: boto3 {boto3_cpu / gib:5.2f}, "
        f"store {direct_store / gib:5.2f}; streamed: API server {server_cpu / gib:5.2f}, "
        f"store {stream_store / gib:5.2f}"
    )
    print(f"server RSS growth  {growth:7.1f} MiB (target < 64 MiB)")
    print(
        f"{options.concurrent} x 10 MB uploads {many_seconds:6.2f} s; "
        f"{intact}/{options.concurrent} stored with the right SHA-256"
    )


if __name__ == "__main__":
    main()
