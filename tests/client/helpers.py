"""Driving ``jtai client`` in-process: a TestClient behind a transport that records and breaks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jtai_client.commands import ClientDeps, client_app
from tests.factories import Actor

BASE_URL = "http://testserver"
Fault = Callable[[httpx.Request], httpx.Response | None]


class Wire(httpx.BaseTransport):
    """Passes requests to the app, recording them; ``fault`` may answer or raise instead."""

    def __init__(self, inner: httpx.BaseTransport, fault: Fault | None = None) -> None:
        self.inner = inner
        self.fault = fault
        self.seen: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.fault is not None and (answer := self.fault(request)) is not None:
            return answer
        return self.inner.handle_request(request)

    def calls(self, method: str, path_part: str) -> list[httpx.Request]:
        return [r for r in self.seen if r.method == method and path_part in r.url.path]


def wired(client: TestClient, fault: Fault | None = None) -> tuple[httpx.Client, Wire]:
    wire = Wire(client._transport, fault)
    return httpx.Client(transport=wire, base_url=BASE_URL), wire


def env_for(actor: Actor) -> dict[str, str]:
    return {"JTAI_CLIENT_ID": str(actor.client_id), "JTAI_CLIENT_SECRET": actor.secret}


class Cli:
    """``jtai client`` with a TestClient, a throwaway token file and no real sleeping."""

    def __init__(self, client: TestClient, token_file: Path) -> None:
        self.client = client
        self.token_file = token_file
        self.sleeps: list[float] = []

    def run(
        self,
        *args: str,
        actor: Actor | None = None,
        http: httpx.Client | None = None,
        env: dict[str, str] | None = None,
    ) -> Any:
        deps = ClientDeps(http=http or self.client, sleep=self.sleeps.append)
        environment = {"JTAI_CLIENT_ID": None, "JTAI_CLIENT_SECRET": None, **(env or {})}
        if actor is not None:
            environment |= env_for(actor)
        return CliRunner().invoke(
            client_app,
            [*args, "--base-url", BASE_URL, "--token-file", str(self.token_file)],
            obj=deps,
            env=environment,
            catch_exceptions=True,
        )
