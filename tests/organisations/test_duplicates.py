"""One organisation per kind and name: the same body registered twice is 409, whatever the
case or spacing of its name, and nothing is written by the refused registration."""

from __future__ import annotations

import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.core.database import session_scope
from app.core.errors import Conflict
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation
from app.organisations.service import create_organisation
from tests.conftest import Reader
from tests.factories import World


def _register(client: TestClient, world: World, name: str, kind: str) -> object:
    return client.post(
        "/v1/organisations",
        json={"name": name, "kind": kind},
        headers=world.operator.headers,
    )


def test_the_same_name_and_kind_is_409_naming_the_first(
    client: TestClient, world: World, db: Reader
) -> None:
    first = _register(client, world, "Exampleshire Police", "police")
    assert first.status_code == 201, first.text
    again = _register(client, world, "  exampleshire   POLICE ", "police")
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    body = again.json()
    assert body["code"] == "organisation_exists"
    assert body["existing_organisation_id"] == first.json()["id"]
    named = db.all(select(Organisation).where(Organisation.name_key == "exampleshire police"))
    assert len(named) == 1


# "Exampleshire Police" in full-width letters
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in "Exampleshire") + " Police"


@pytest.mark.parametrize(
    "look_alike",
    ["Exampleshire Police\u200b", "Example\u00adshire Police", FULL_WIDTH],
)
def test_a_look_alike_name_is_the_same_organisation(
    client: TestClient, world: World, look_alike: str
) -> None:
    """Invisible characters and full-width letters do not make another organisation (the
    attacker's pass registered "Ofsted" again with a zero-width space)."""
    assert _register(client, world, "Exampleshire Police", "police").status_code == 201
    assert _register(client, world, look_alike, "police").status_code == 409


def test_the_same_name_of_another_kind_is_another_organisation(
    client: TestClient, world: World
) -> None:
    assert _register(client, world, "Exampleshire", "police").status_code == 201
    assert _register(client, world, "Exampleshire", "local_authority").status_code == 201
    assert _register(client, world, "Exampleshire North", "police").status_code == 201


@pytest.mark.commits
def test_racing_registrations_make_one_organisation(app: FastAPI, engine: Engine) -> None:
    """Both check before either writes: the database's constraint refuses the second.
    (``engine``: so the tables are emptied after this test's real commits.)"""
    factory = app.state.jtai.session_factory
    both_checked = threading.Barrier(2)
    outcomes: list[str] = []

    def register() -> None:
        try:
            with session_scope(factory) as session:
                # Each sees no such organisation yet; then both write.
                both_checked.wait(timeout=10)
                create_organisation(session, None, "Racing Council", OrganisationKind.POLICE)
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # SQLite may refuse the second writer (locked)
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("created") == 1, outcomes
    with session_scope(factory) as session:
        count = session.execute(
            select(func.count()).where(Organisation.name_key == "racing council")
        ).scalar_one()
    assert count == 1
