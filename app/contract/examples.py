"""Request and response examples for the main flows: a token, a list pushed and read, the
children selected, a document uploaded by parts, an evaluation written. The values are
invented (no child here exists); tests/core/test_contract.py validates each example against
the models the routes use, so they cannot drift from the contract."""

from __future__ import annotations

from typing import Any

LA = "5f0c6c1e-2b1f-4c55-9a53-1f2d6a7b8c90"
CLIENT = "0b7f9c3a-6d2e-4f1a-8c5b-3e9d7a1f2c44"
INSPECTION = "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
REQUEST = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"
UPLOAD = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
DOCUMENT = "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
AT = "2027-03-25T08:41:07.215000Z"
DUE = "2027-03-25T09:00:00.000000Z"

VERSION = {
    "list_key": "children-in-need",
    "number": 2,
    "created_at": AT,
    "client_id": CLIENT,
    "organisation_id": LA,
    "organisation_name": "Exampleshire County Council",
    "media_type": "text/csv",
    "body_sha256": SHA256,
    "row_count": 2,
    "warning_count": 0,
    "due_at": DUE,
    "late": False,
}
ROW = {
    "row_number": 1,
    "child_id": "AB12",
    "supplier": {
        "organisation_id": LA,
        "organisation_name": "Exampleshire County Council",
        "version": 2,
    },
    "data": {"child_id": "AB12", "gender": "f", "allocated_team": "North"},
}
DOCUMENT_READ = {
    "id": DOCUMENT,
    "inspection_id": INSPECTION,
    "request_id": REQUEST,
    "organisation_id": LA,
    "client_id": CLIENT,
    "filename": "AB12-chronology.pdf",
    "size": 9437184,
    "sha256": SHA256,
    "media_type": "application/pdf",
    "created_at": AT,
    "late": False,
    "document_kind": "chronology",
    "supersedes_id": None,
}

# operation id -> (request example or None, (status, response example) or None)
EXAMPLES: dict[str, tuple[Any, tuple[str, Any] | None]] = {
    "issue_token": (
        {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": "jtai_…"},
        (
            "200",
            {
                "access_token": "eyJhbGciOiJFUzI1NiIs…",
                "token_type": "bearer",
                "expires_in": 900,
                "scope": "documents:read documents:write lists:write themes:read",
            },
        ),
    ),
    "push_list": (
        {"rows": [{"child_id": "AB12", "gender": "f", "allocated_team": "North"}]},
        (
            "201",
            {
                "version": VERSION,
                "report": {
                    "accepted": True,
                    "stored": True,
                    "rows": 2,
                    "errors": 0,
                    "warnings": 0,
                    "problems": [],
                    "problems_total": 0,
                    "sheet": None,
                },
            },
        ),
    ),
    "read_list": (
        None,
        (
            "200",
            {
                "list_key": "children-in-need",
                "contributions": [VERSION],
                "items": [ROW],
                "limit": 50,
                "offset": 0,
                "total": 1,
                "next_offset": None,
            },
        ),
    ),
    "put_selection": (
        {"child_ids": ["AB12", "CD34", "EF56", "GH78", "IJ90"]},
        (
            "200",
            {
                "key": "tracked",
                "child_ids": ["AB12", "CD34", "EF56", "GH78", "IJ90"],
                "version": 1,
                "first_made_at": AT,
                "changed_at": AT,
                "changed_by_client_id": CLIENT,
                "override_reason": None,
                "overrides": [],
                "context_notes": [],
            },
        ),
    ),
    "create_upload": (
        {"filename": "AB12-chronology.pdf", "size": 9437184, "sha256": SHA256},
        (
            "201",
            {
                "id": UPLOAD,
                "part_size": 8388608,
                "parts": [
                    {
                        "part_number": number,
                        "size": size,
                        "method": "PUT",
                        "url": f"/v1/uploads/{UPLOAD}/parts/{number}",
                        "expires_at": "2027-03-25T08:56:07.215000Z",
                    }
                    for number, size in ((1, 8388608), (2, 1048576))
                ],
                "expires_at": "2027-03-25T09:41:07.215000Z",
                "complete_url": f"/v1/uploads/{UPLOAD}/complete",
            },
        ),
    ),
    "upload_part": (
        None,
        ("200", {"part_number": 1, "etag": '"5d41402abc4b2a76b9719d911017c592"'}),
    ),
    "complete_upload": (
        {
            "parts": [
                {"part_number": 1, "etag": '"5d41402abc4b2a76b9719d911017c592"'},
                {"part_number": 2, "etag": '"7d793037a0760186574b0282f2f435e7"'},
            ]
        },
        ("201", DOCUMENT_READ),
    ),
    "put_evaluation": (
        {
            "answers": {"referral_timely": "Yes: the referral was made the same day."},
            "summary": "Risks were understood; the plan is making a difference.",
            "contributing_organisation_ids": ["2d3c4b5a-6978-4a1b-8c2d-3e4f5a6b7c8d"],
        },
        (
            "200",
            {
                "child_id": "AB12",
                "kind": "joint",
                "organisation_id": LA,
                "version": 1,
                "answers": {"referral_timely": "Yes: the referral was made the same day."},
                "summary": "Risks were understood; the plan is making a difference.",
                "contributing_organisation_ids": ["2d3c4b5a-6978-4a1b-8c2d-3e4f5a6b7c8d"],
                "created_at": AT,
                "client_id": CLIENT,
                "due_at": "2027-04-05T22:59:59.000000Z",
                "late": False,
            },
        ),
    ),
}

# Where a request example goes when the operation takes several media types.
REQUEST_MEDIA = {"issue_token": "application/x-www-form-urlencoded"}


def declare_examples(schema: dict[str, Any]) -> None:
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            found = EXAMPLES.get(operation["operationId"])
            if found is None:
                continue
            request, response = found
            if request is not None:
                content = operation["requestBody"]["content"]
                media = REQUEST_MEDIA.get(operation["operationId"], "application/json")
                content[media]["example"] = request
            if response is not None:
                status, body = response
                operation["responses"][status]["content"]["application/json"]["example"] = body
