"""Building pushes for the engine tests: rows of a list as JSON, CSV or .xlsx bytes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import openpyxl

from app.child_lists.parsing.ingest import ingest
from app.child_lists.parsing.types import IngestContext, IngestResult, Limits, Problem
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme

JSON = "application/json"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TODAY = date(2019, 10, 1)

Row = Mapping[str, Any]


def cin_row(**overrides: Any) -> dict[str, Any]:
    """A mental-health children-in-need row that passes every check on TODAY."""
    row: dict[str, Any] = {
        "child_id": "C1",
        "gender": "a) Male",
        "ethnicity": "a) WBRI",
        "date_of_birth": "15/03/2007",
        "age_years": "12",
        "disability": "b) No",
        "cin_start_date": "01/02/2019",
        "primary_need": "N1 - Abuse or neglect",
        "last_seen_date": "01/09/2019",
        "case_status": "c) Child in need plan",
        "allocated_team": "Team A",
        "allocated_worker": "Worker A",
        "mh_concern": "N",
        "mh_support_need": "N",
    }
    row.update(overrides)
    return row


def headings_of(spec: ListSpec, keys: Iterable[str] | None = None) -> list[str]:
    wanted = [f.key for f in spec.fields] if keys is None else list(keys)
    return [field.heading for key in wanted if (field := spec.field(key)) is not None]


def grid(spec: ListSpec, rows: Sequence[Row]) -> tuple[list[str], list[list[Any]]]:
    """The rows as a heading row (the list's headings) and cells in the list's field order."""
    keys = [f.key for f in spec.fields]
    return headings_of(spec), [[row.get(key) for key in keys] for row in rows]


def to_json(rows: Sequence[Row]) -> bytes:
    return json.dumps({"rows": list(rows)}).encode()


def to_csv(
    headings: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    separator: str = ",",
    encoding: str = "utf-8",
    title: str | None = None,
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    if title is not None:
        writer.writerow([title])
    writer.writerow(headings)
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return buffer.getvalue().encode(encoding)


def to_xlsx(
    headings: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    sheet: str = "Sheet1",
    title: str | None = None,
    sheets_before: Sequence[str] = (),
) -> bytes:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    for index, name in enumerate(sheets_before):
        extra = first if index == 0 else workbook.create_sheet()
        extra.title = name
        extra.append(["Not the list"])
    worksheet = workbook.create_sheet() if sheets_before else first
    worksheet.title = sheet
    if title is not None:
        worksheet.append([title])
    worksheet.append(list(headings))
    for row in rows:
        worksheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(
    body: bytes | Iterable[bytes],
    media_type: str,
    spec: ListSpec,
    theme: Theme,
    *,
    selections: Mapping[str, frozenset[str]] | None = None,
    limits: Limits | None = None,
    today: date = TODAY,
) -> IngestResult:
    context = IngestContext(today=today, selections=selections or {})
    if limits is None:
        return ingest(body, media_type, spec, theme, context)
    return ingest(body, media_type, spec, theme, context, limits=limits)


def with_code(result: IngestResult, code: str) -> list[Problem]:
    return [p for p in result.problems if p.code == code]


def codes(result: IngestResult) -> list[str]:
    return [p.code for p in result.problems]
