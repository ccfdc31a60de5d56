"""How the child lists' routes are declared in the OpenAPI contract, and the one rule that
declaration needs at run time: a file sent as bytes is read by what it is."""

from __future__ import annotations

from app.child_lists.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

BINARY = {"type": "string", "format": "binary"}
OCTET_STREAM = "application/octet-stream"
# A workbook is a ZIP: its first bytes tell it from a CSV. Generated clients send every file
# body under one declared type (openapi-python-client: the last binary one), so a file sent as
# bytes or as text/csv is read by what it is.
ZIP_SIGNATURE = b"PK\x03\x04"
LIST_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "JSON rows; or the file: CSV (UTF-8 or Windows-1252, comma or "
        "semicolon) or the Excel workbook. `application/octet-stream` takes either, told apart "
        "by the workbook's ZIP signature.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"rows": {"type": "array", "items": {"type": "object"}}},
                    "required": ["rows"],
                }
            },
            CSV_MEDIA_TYPE: {"schema": BINARY},
            XLSX_MEDIA_TYPE: {"schema": BINARY},
            OCTET_STREAM: {"schema": BINARY},
        },
    }
}
FILE_ANSWER = {"schema": BINARY}


def read_as(media_type: str, body: bytes) -> str:
    if media_type in (CSV_MEDIA_TYPE, OCTET_STREAM):
        return XLSX_MEDIA_TYPE if body.startswith(ZIP_SIGNATURE) else CSV_MEDIA_TYPE
    return media_type
