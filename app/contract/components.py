"""Components and document members FastAPI cannot derive: where the service runs, the members
some problems carry beside the standard ones, and the token request's form."""

from __future__ import annotations

import json
from typing import Any

from app.auth.schemas import TokenRequest

SERVERS = [
    {"url": "/", "description": "The server that serves this document"},
    {"url": "http://127.0.0.1:8000", "description": "Local: scripts/run.sh"},
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# Members a problem carries beyond RFC 9457's and ours, each for one family of errors. Every
# one is optional: a client reads the one its `code` announces.
PROBLEM_MEMBERS: dict[str, dict[str, Any]] = {
    "report": {
        **_ref("ValidationReport"),
        "description": "422 `invalid_list`: the whole validation report (rows, headings as "
        "in the file, fields, codes, messages, values); nothing was stored",
    },
    "warnings": {
        "type": "array",
        "items": _ref("RuleDeparture"),
        "description": "422 `needs_override` and `invalid_selection`: the guidance's "
        "judgement rules the selection departs from",
    },
    "current_version": {
        "type": "integer",
        "description": "412 `version_mismatch` on a list push: the contribution's current "
        "version, to send in `If-Match`",
    },
    "supplier_organisation_id": {
        "type": "string",
        "format": "uuid",
        "description": "412 `version_mismatch`: whose contribution it is",
    },
    "error": {
        "type": "string",
        "description": "Token requests: the RFC 6749 error (`invalid_request`, "
        "`invalid_client`, `unsupported_grant_type`, `invalid_scope`)",
    },
    "error_description": {"type": "string", "description": "Token requests: why"},
}


def declare_components(schema: dict[str, Any]) -> None:
    schema["servers"] = SERVERS
    components = schema["components"]["schemas"]
    components["Problem"]["properties"].update(PROBLEM_MEMBERS)
    components["TokenRequest"] = TokenRequest.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for name, definition in components["TokenRequest"].pop("$defs", {}).items():
        components.setdefault(name, definition)
    _drop_unreferenced(schema)


def _drop_unreferenced(schema: dict[str, Any]) -> None:
    """FastAPI's own form schemas (``Body_<operation>``) that a route declared another way."""
    components = schema["components"]["schemas"]
    for name in [n for n in components if n.startswith("Body_")]:
        rest = {k: v for k, v in components.items() if k != name}
        text = json.dumps([schema["paths"], rest])
        if f'"#/components/schemas/{name}"' not in text:
            del components[name]
