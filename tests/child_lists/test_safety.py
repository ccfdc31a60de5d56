"""Bodies refused before any row is read: zip bombs, XML entities, size and row limits."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from app.child_lists.parsing.types import BodyTooLargeError, Limits, UnreadableFileError
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme
from tests.child_lists.helpers import CSV, JSON, XLSX, cin_row, grid, run, to_csv, to_json, to_xlsx


def _workbook(cin: ListSpec) -> bytes:
    return to_xlsx(*grid(cin, [cin_row()]))


def _with_member(body: bytes, name: str, data: bytes, replace: bool = False) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if not (replace and info.filename == name):
                target.writestr(info.filename, source.read(info.filename))
        target.writestr(name, data)
    return out.getvalue()


def _declare_size(body: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size a member declares, in its local and central headers."""
    patched = bytearray(body)
    encoded = name.encode()
    local = zipfile.ZipFile(io.BytesIO(body)).getinfo(name).header_offset
    struct.pack_into("<I", patched, local + 22, size)
    central = body.index(b"PK\x01\x02")
    while body[central + 46 : central + 46 + len(encoded)] != encoded:
        central = body.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", patched, central + 24, size)
    return bytes(patched)


def test_the_fixture_workbook_is_fine(mh: Theme, cin: ListSpec) -> None:
    assert run(_workbook(cin), XLSX, cin, mh).accepted


def test_member_compressed_beyond_the_ratio(mh: Theme, cin: ListSpec) -> None:
    body = _with_member(_workbook(cin), "xl/media/image1.bin", bytes(20 * 1024**2))

    with pytest.raises(BodyTooLargeError) as raised:
        run(body, XLSX, cin, mh)
    assert raised.value.code == "zip_bomb"
    assert "compressed more than 100:1" in raised.value.message


def test_total_uncompressed_size(mh: Theme, cin: ListSpec) -> None:
    body = _with_member(_workbook(cin), "xl/media/image1.bin", b"0123456789" * 200_000)
    limits = Limits(max_body_bytes=50_000, ratio_floor_bytes=2**40)

    with pytest.raises(BodyTooLargeError) as raised:
        run(body, XLSX, cin, mh, limits=limits)
    assert raised.value.code == "zip_bomb"
    assert "1,000,000 bytes" in raised.value.message


def test_member_larger_than_it_declares(mh: Theme, cin: ListSpec) -> None:
    name = "xl/worksheets/sheet9.xml"
    body = _with_member(_workbook(cin), name, b"<a/>" * 50_000)
    body = _declare_size(body, name, 1_000)

    with pytest.raises(BodyTooLargeError) as raised:
        run(body, XLSX, cin, mh)
    assert raised.value.code == "zip_bomb"
    assert "declares" in raised.value.message


@pytest.mark.parametrize(
    ("member", "insert"),
    [
        ("xl/workbook.xml", b'<!DOCTYPE workbook [<!ENTITY lol "lol">]>'),
        ("xl/worksheets/sheet1.xml", b'<!ENTITY xxe SYSTEM "file:///etc/passwd">'),
        ("[Content_Types].xml", b"<!DOCTYPE Types>"),
    ],
)
def test_document_type_and_entity_declarations(
    mh: Theme, cin: ListSpec, member: str, insert: bytes
) -> None:
    original = zipfile.ZipFile(io.BytesIO(_workbook(cin))).read(member)
    declaration_end = original.find(b"?>") + 2 if b"?>" in original else 0
    tampered = original[:declaration_end] + insert + original[declaration_end:]
    body = _with_member(_workbook(cin), member, tampered, replace=True)

    with pytest.raises(UnreadableFileError) as raised:
        run(body, XLSX, cin, mh)
    assert raised.value.code == "xml_entities"
    assert member in raised.value.message


@pytest.mark.parametrize("body", [b"not a zip", b"PK\x03\x04broken", b""])
def test_not_a_workbook(mh: Theme, cin: ListSpec, body: bytes) -> None:
    with pytest.raises(UnreadableFileError) as raised:
        run(body, XLSX, cin, mh)
    assert raised.value.code == "invalid_xlsx"


def test_a_zip_that_is_not_a_workbook(mh: Theme, cin: ListSpec) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")

    with pytest.raises(UnreadableFileError) as raised:
        run(out.getvalue(), XLSX, cin, mh)
    assert raised.value.code == "invalid_xlsx"


def _rows(count: int) -> list[dict[str, str]]:
    return [cin_row(child_id=f"C{i}") for i in range(count)]


def test_too_many_rows(mh: Theme, cin: ListSpec) -> None:
    limits = Limits(max_rows=3)
    headings, cells = grid(cin, _rows(4))
    for body, media_type in [
        (to_json(_rows(4)), JSON),
        (to_csv(headings, cells), CSV),
        (to_xlsx(headings, cells, title="List 6"), XLSX),
    ]:
        with pytest.raises(BodyTooLargeError) as raised:
            run(body, media_type, cin, mh, limits=limits)
        assert raised.value.code == "too_many_rows"
        assert "3 rows" in raised.value.message


def test_blank_rows_do_not_count_towards_the_limit(mh: Theme, cin: ListSpec) -> None:
    limits = Limits(max_rows=3)
    headings, cells = grid(cin, _rows(3))
    blank = [None] * len(headings)
    spaced = [cells[0], blank, blank, cells[1], blank, blank, blank, cells[2], blank]
    for body, media_type in [(to_csv(headings, spaced), CSV), (to_xlsx(headings, spaced), XLSX)]:
        result = run(body, media_type, cin, mh, limits=limits)
        assert result.row_numbers == [2, 5, 9]
        assert result.accepted, result.problems


def test_body_too_large(mh: Theme, cin: ListSpec) -> None:
    body = to_json(_rows(2))
    for sent in (body, [body[:50], body[50:]]):
        with pytest.raises(BodyTooLargeError) as raised:
            run(sent, JSON, cin, mh, limits=Limits(max_body_bytes=100))
        assert raised.value.code == "body_too_large"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'{"rows": {}}',
        b'{"rows": [1, 2]}',
        b'{"rows": [{"child_id": ["C1"]}]}',
        b"\xff\xfe",
    ],
)
def test_unreadable_json(mh: Theme, cin: ListSpec, body: bytes) -> None:
    with pytest.raises(UnreadableFileError) as raised:
        run(body, JSON, cin, mh)
    assert raised.value.code == "invalid_json"


def test_nested_json_value_is_located(mh: Theme, cin: ListSpec) -> None:
    body = to_json([cin_row(), {**cin_row(), "gender": {"code": "M"}}])

    with pytest.raises(UnreadableFileError) as raised:
        run(body, JSON, cin, mh)
    assert "rows[1].gender" in raised.value.message


def test_old_or_protected_workbooks_get_a_hint(mh: Theme, cin: ListSpec) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)

    with pytest.raises(UnreadableFileError) as raised:
        run(ole, XLSX, cin, mh)
    assert "password" in raised.value.message
