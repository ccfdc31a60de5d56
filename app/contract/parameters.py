"""Parameters the routes read by hand, declared: the ``Idempotency-Key`` every POST takes, the
list filters (one per theme field, as ``app.child_lists.filters`` reads them) and the closed
sets of keys the themes define, as enums. Themes are data: everything here is derived from
the registry the app was built with, so a theme added as data shows up with no code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.organisations.kinds import AGENCY_KINDS
from app.themes.registry import ThemeRegistry
from app.themes.schema.lists import FieldSpec

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key with the same request replays the first "
    "answer (24 hours, per client); with a different request 422 `idempotency_key_reused`; "
    "while the first is still running 409 `idempotency_request_in_progress`.",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
    "example": "push-children-in-need-2027-03-22",
}

# The operations whose query names every other parameter a filter (``row_query``).
FILTERED = {"read_list", "find_children"}


def declare_idempotency(schema: dict[str, Any]) -> None:
    for path_item in schema["paths"].values():
        operation = path_item.get("post")
        if operation is not None:
            operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))


def closed_sets(themes: ThemeRegistry) -> dict[str, dict[str, Any]]:
    """Each enum's component, by the path parameter it types."""
    every = themes.all()
    sets = {
        "ThemeKey": ("the deep-dive themes", sorted(themes.keys())),
        "ListKey": ("a list of any theme", sorted({s.key for t in every for s in t.lists})),
        "SelectionKey": (
            "a selection of any theme",
            sorted({key for t in every for key in t.selections}),
        ),
        "MilestoneKey": (
            "a milestone of any theme",
            sorted({m.key for t in every for m in t.milestones}),
        ),
        "EvaluationKind": (
            "`joint` (the partnership's) or an agency's kind (its single-agency one)",
            ["joint", *sorted(kind.value for kind in AGENCY_KINDS)],
        ),
    }
    return {
        name: {
            "type": "string",
            "enum": values,
            "description": f"One of {what}; the inspection's own theme says which apply "
            "(another answers 404).",
        }
        for name, (what, values) in sets.items()
    }


# Where each enum types an input: path parameters by name (``kind`` only under evaluations),
# and request bodies' fields. Never a response: a server with an extra theme would answer a
# key a generated client's enum cannot read.
PATH_PARAMETERS = {
    "theme": "ThemeKey",
    "list_key": "ListKey",
    "selection_key": "SelectionKey",
    "milestone_key": "MilestoneKey",
}
BODY_FIELDS = {("InspectionCreate", "theme"): "ThemeKey"}


def declare_closed_sets(schema: dict[str, Any], themes: ThemeRegistry) -> None:
    components = schema["components"]["schemas"]
    components.update(closed_sets(themes))
    for path, path_item in schema["paths"].items():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                name = PATH_PARAMETERS.get(parameter["name"])
                if parameter["name"] == "kind" and "/evaluations/" in path:
                    name = "EvaluationKind"
                if parameter["in"] == "path" and name is not None:
                    parameter["schema"] = {"$ref": f"#/components/schemas/{name}"}
    for (model, field), name in BODY_FIELDS.items():
        components[model]["properties"][field] = {"$ref": f"#/components/schemas/{name}"}


def _fields(themes: ThemeRegistry) -> dict[str, tuple[FieldSpec, list[str]]]:
    """Every field of every list, once: its first spec and the lists that have it."""
    found: dict[str, tuple[FieldSpec, list[str]]] = {}
    for theme in themes.all():
        for spec in theme.lists:
            for field in spec.fields:
                lists = found.setdefault(field.key, (field, []))[1]
                if spec.key not in lists:
                    lists.append(spec.key)
    return dict(sorted(found.items()))


def filter_parameters(themes: ThemeRegistry) -> Iterator[dict[str, Any]]:
    for key, (field, lists) in _fields(themes).items():
        where = f"`{field.heading}` (lists: {', '.join(sorted(lists))})"
        yield _query(key, {"type": "string"}, f"Rows whose {where} equals this value")
        if field.type == "date":
            day = {"type": "string", "format": "date"}
            yield _query(f"{key}_from", day, f"Rows whose {where} is on or after this day")
            yield _query(f"{key}_to", day, f"Rows whose {where} is on or before this day")


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def declare_filters(schema: dict[str, Any], themes: ThemeRegistry) -> None:
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            if operation["operationId"] not in FILTERED:
                continue
            parameters = operation.setdefault("parameters", [])
            taken = {p["name"] for p in parameters}
            # A field named as one of the operation's own parameters stays that parameter.
            parameters.extend(p for p in filter_parameters(themes) if p["name"] not in taken)
