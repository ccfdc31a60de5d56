"""Pure helpers behind both adapters: key rules, parts and their readers, Content-Disposition."""

from __future__ import annotations

import os

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from app.storage.base import (
    Chunk,
    InvalidKey,
    InvalidParts,
    ObjectTooLarge,
    validate_key,
    validate_part_list,
)
from app.storage.downloads import content_disposition
from app.storage.streams import Meter, PiecesReader, split_into_parts


@pytest.mark.parametrize(
    "key",
    ["inspections/0f8c/4a1e", "a", "a.b-c_d/E.pdf", "inspections/" + "a" * 36 + "/" + "b" * 36],
)
def test_service_keys_are_accepted(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", ["..", "a/..", "../a", "/a", "a\\b", "a/.b", " a", "a b", "é"])
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


def _joined(parts: list[list[Chunk]]) -> list[bytes]:
    return [b"".join(part) for part in parts]


def test_parts_are_exact_sizes_with_a_short_tail() -> None:
    parts = list(split_into_parts([b"ab", b"cdefg", b"", b"h", b"ijk"], 4))
    assert _joined(parts) == [b"abcd", b"efgh", b"ijk"]
    assert list(split_into_parts([], 4)) == []
    assert _joined(list(split_into_parts([b"abcd"], 4))) == [b"abcd"]
    assert _joined(list(split_into_parts([b"abcdefghij"], 4))) == [b"abcd", b"efgh", b"ij"]


def test_parts_view_the_chunks_rather_than_copy_them() -> None:
    chunk = b"abcdefgh"
    (first, second) = split_into_parts([chunk], 4)
    assert all(isinstance(piece, memoryview) and piece.obj is chunk for piece in first + second)


def test_pieces_reader_reads_seeks_and_rereads_like_a_file() -> None:
    source = b"xdefx"
    reader = PiecesReader([b"abc", memoryview(source)[1:4], b"", b"gh"])
    assert len(reader) == 8
    assert bytes(reader.read(2)) == b"ab"
    # Reads are full, across pieces too; one inside a piece is a view of it, not a copy.
    assert bytes(reader.read(3)) == b"cde"
    inside = reader.read(1)
    assert isinstance(inside, memoryview)
    assert inside.obj is source
    assert bytes(inside) == b"f"
    assert reader.tell() == 6
    assert reader.read() == b"gh"
    assert reader.read(4) == b""
    assert reader.seek(0) == 0
    assert reader.read() == b"abcdefgh"
    assert reader.seek(-3, 2) == 5
    assert bytes(reader.read(1)) == b"f"
    assert reader.seek(1, 1) == 7
    assert reader.seek(100) == 8
    assert reader.read(1) == b""
    with pytest.raises(ValueError, match="negative"):
        reader.seek(-1)
    with pytest.raises(ValueError, match="whence"):
        reader.seek(0, 3)


def test_pieces_reader_makes_aws_chunks_s3_accepts() -> None:
    # Over HTTPS botocore wraps a streamed body in aws-chunked encoding, one chunk per read;
    # S3 refuses any chunk but the last under 8 KiB. Pieces as a network delivers them:
    chunks = [os.urandom(size) for size in (1, 65536, 1448, 5, 70000)] * 20
    (part,) = split_into_parts(chunks, 1 << 30)
    wrapper = AwsChunkedWrapper(
        PiecesReader(part),  # type: ignore[arg-type]  # a file-like, as botocore reads it
        checksum_cls=Crc32Checksum,
        checksum_name="x-amz-checksum-crc32",
    )
    encoded = b"".join(iter(lambda: wrapper.read(16384), b""))
    sizes, position = [], 0
    while (size := int(encoded[position : encoded.index(b"\r\n", position)], 16)) > 0:
        sizes.append(size)
        position = encoded.index(b"\r\n", position) + 2 + size + 2
    assert sum(sizes) == sum(len(piece) for piece in part)
    assert min(sizes[:-1]) >= 8192


def test_meter_stops_at_the_first_chunk_past_the_limit() -> None:
    meter = Meter(5)
    fed = meter.feed([b"abc", b"de", b"f", b"never"])
    assert next(fed) == b"abc"
    assert next(fed) == b"de"
    with pytest.raises(ObjectTooLarge):
        next(fed)
    assert meter.size == 6


def test_part_list_rules() -> None:
    validate_part_list([(1, "a"), (3, "b")])
    for bad in ([], [(2, "a"), (1, "b")], [(1, "a"), (1, "b")], [(0, "a")], [(10_001, "a")]):
        with pytest.raises(InvalidParts):
            validate_part_list(bad)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        (
            "Rapport é.pdf",
            "attachment; filename=\"Rapport _.pdf\"; filename*=UTF-8''Rapport%20%C3%A9.pdf",
        ),
        ("../../etc/passwd", "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"),
        ("C:\\Users\\x\\a.doc", "attachment; filename=\"a.doc\"; filename*=UTF-8''a.doc"),
        (
            'a"b\r\nSet-Cookie: c=d;.pdf',
            'attachment; filename="a_bSet-Cookie_ c_d_.pdf"; '
            "filename*=UTF-8''a%27bSet-Cookie%3A%20c%3Dd%3B.pdf",
        ),
        ("", "attachment; filename=\"download\"; filename*=UTF-8''download"),
        ("..", "attachment; filename=\"download\"; filename*=UTF-8''download"),
        ("\u202egpj.exe", "attachment; filename=\"gpj.exe\"; filename*=UTF-8''gpj.exe"),
    ],
)
def test_content_disposition_is_safe(filename: str, expected: str) -> None:
    assert content_disposition(filename) == expected


def test_content_disposition_caps_length() -> None:
    header = content_disposition("a" * 1000 + ".pdf")
    assert len(header) < 400
