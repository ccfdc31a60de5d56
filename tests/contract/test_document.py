"""What the committed contract promises beyond FastAPI's derivation (app/contract): every
operation described from the access policy, Idempotency-Key on every POST, the themes' closed
sets as enums, a filter parameter per theme field, binary bodies and answers, the Problem's
extra members, examples that fit the models, and one form for every instant answered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.auth.policy import POLICY
from app.auth.schemas import TokenRequest, TokenResponse
from app.child_lists.schemas import ListPage, PushResult
from app.contract.access import roles_granting
from app.contract.examples import EXAMPLES
from app.core.moments import utc_text
from app.documents.schemas import (
    DocumentRead,
    PartStored,
    UploadComplete,
    UploadCreate,
    UploadRead,
)
from app.evaluations.schemas import EvaluationRead, EvaluationWrite
from app.selections.schemas import SelectionRead, SelectionUpdate
from app.themes.registry import builtin_themes
from scripts.export_openapi import generate
from tests.factories import World
from tests.worlds import Exchange

BINARY = {"type": "string", "format": "binary"}
WIRE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
LOOKS_LIKE_AN_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return generate()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, path_item in document["paths"].items():
        for method, operation in path_item.items():
            yield path, method, operation


def _by_id(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return next(op for _, _, op in _operations(document) if op["operationId"] == operation_id)


def test_every_operation_says_what_who_changes_and_errors(document: dict[str, Any]) -> None:
    for _, _, operation in _operations(document):
        text = operation["description"]
        for part in ("**Who may call**", "**Changes**", "**Errors**"):
            assert part in text, (operation["operationId"], part)
    # Written from the policy: the roles named are those whose scopes grant the operation.
    push = _by_id(document, "push_list")["description"]
    assert roles_granting(POLICY["push_list"].scope) == ["agency"]
    assert "`lists:write` (`agency`)" in push
    assert "409 `inspection_closed`" in push
    tracking = _by_id(document, "list_tracking")["description"]
    assert "404, not 403" in tracking


def test_every_post_declares_the_idempotency_key(document: dict[str, Any]) -> None:
    posts = [op for _, method, op in _operations(document) if method == "post"]
    assert len(posts) >= 10
    for operation in posts:
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "Idempotency-Key" in headers, operation["operationId"]
    for _, method, operation in _operations(document):
        if method != "post":
            names = [p["name"] for p in operation.get("parameters", [])]
            assert "Idempotency-Key" not in names, operation["operationId"]


def test_closed_sets_are_enums_from_the_themes(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    themes = builtin_themes().all()
    assert set(schemas["ListKey"]["enum"]) == {s.key for t in themes for s in t.lists}
    assert set(schemas["SelectionKey"]["enum"]) == {"shortlist", "tracked"}
    assert "joint" in schemas["EvaluationKind"]["enum"]
    assert "health" in schemas["EvaluationKind"]["enum"]
    read = _by_id(document, "read_list")
    (list_key,) = [p for p in read["parameters"] if p["name"] == "list_key"]
    assert list_key["schema"] == {"$ref": "#/components/schemas/ListKey"}
    token = schemas["TokenRequest"]
    assert set(token["required"]) == {"grant_type", "client_id", "client_secret"}
    assert schemas["GrantType"]["enum"] == ["client_credentials"]
    assert not [name for name in schemas if name.startswith("Body_")]


def test_list_filters_are_one_parameter_per_theme_field(document: dict[str, Any]) -> None:
    fields = {f.key: f.type for t in builtin_themes().all() for s in t.lists for f in s.fields}
    for operation_id in ("read_list", "find_children"):
        names = {p["name"] for p in _by_id(document, operation_id)["parameters"]}
        assert set(fields) <= names, operation_id
        dates = {key for key, kind in fields.items() if kind == "date"}
        assert {f"{key}_from" for key in dates} | {f"{key}_to" for key in dates} <= names


def test_files_are_binary_both_ways(document: dict[str, Any]) -> None:
    def answer(operation_id: str) -> dict[str, Any]:
        content: dict[str, Any] = _by_id(document, operation_id)["responses"]["200"]["content"]
        return content

    for operation_id in ("download_document", "get_list_template", "download_child_documents"):
        assert answer(operation_id)["application/octet-stream"]["schema"] == BINARY
    assert answer("get_list_template")[
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]["schema"] == (BINARY)
    assert answer("download_child_documents")["application/zip"]["schema"] == BINARY
    part = _by_id(document, "upload_part")["requestBody"]
    assert part["content"]["application/octet-stream"]["schema"] == BINARY
    push = _by_id(document, "push_list")["requestBody"]["content"]
    for media_type in ("text/csv", "application/octet-stream"):
        assert push[media_type]["schema"] == BINARY


def test_every_answer_declares_its_schema(document: dict[str, Any]) -> None:
    """Else generators parse nothing (openapi-python-client answers None)."""
    for _, _, operation in _operations(document):
        for status, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                assert media.get("schema"), (operation["operationId"], status, media_type)


def test_the_problem_declares_the_list_report(document: dict[str, Any]) -> None:
    members = document["components"]["schemas"]["Problem"]["properties"]
    assert members["report"]["$ref"] == "#/components/schemas/ValidationReport"
    assert "report" not in document["components"]["schemas"]["Problem"]["required"]
    assert document["servers"]


# What each example is checked against: (request model, response model).
MODELS: dict[str, tuple[type[BaseModel] | None, type[BaseModel]]] = {
    "issue_token": (TokenRequest, TokenResponse),
    "push_list": (None, PushResult),
    "read_list": (None, ListPage),
    "put_selection": (SelectionUpdate, SelectionRead),
    "create_upload": (UploadCreate, UploadRead),
    "upload_part": (None, PartStored),
    "complete_upload": (UploadComplete, DocumentRead),
    "put_evaluation": (EvaluationWrite, EvaluationRead),
}


@pytest.mark.parametrize("operation_id", sorted(MODELS))
def test_examples_fit_the_models(document: dict[str, Any], operation_id: str) -> None:
    request, response = EXAMPLES[operation_id]
    request_model, response_model = MODELS[operation_id]
    if request_model is not None:
        request_model.model_validate(request)
    assert response is not None
    status, body = response
    # An example is also answered as the API answers it: instants in the one form.
    read = response_model.model_validate(body)
    assert read.model_dump(mode="json") == body
    content = _by_id(document, operation_id)["responses"][status]["content"]
    assert content["application/json"]["example"] == body


def _instants(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _instants(item)
    elif isinstance(value, list):
        for item in value:
            yield from _instants(item)
    elif isinstance(value, str) and LOOKS_LIKE_AN_INSTANT.match(value):
        yield value


def test_every_instant_answered_is_utc_with_microseconds(
    client: TestClient, ex: Exchange, world: World
) -> None:
    base = ex.base
    answers = [
        client.get(path, headers=world.lead.headers).json()
        for path in (
            base,
            f"{base}/schedule",
            f"{base}/team",
            f"{base}/selections/tracked",
            f"{base}/submissions",
            f"{base}/progress",
            f"{base}/requests",
        )
    ]
    answers.append(client.get("/v1/organisations", headers=world.operator.headers).json())
    found = [instant for answer in answers for instant in _instants(answer)]
    assert len(found) > 20
    assert [i for i in found if not WIRE.match(i)] == []


def test_the_one_form_is_utc_whatever_the_zone() -> None:
    summer = datetime(2027, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert utc_text(summer) == "2027-07-01T08:00:00.000000Z"
