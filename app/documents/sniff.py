"""What a file really is, from its first bytes, against the allow-list of document types.

The declared Content-Type and the file name's extension are hints at most: a file is taken
only when its own bytes say it is one of the allowed kinds. Container formats that cannot be
told apart by their first bytes (a .docx and any other zip) also need a matching extension.
"""

from __future__ import annotations

from pathlib import PurePosixPath

SNIFF_BYTES = 8192
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"

ZIP_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
OLE2_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".msg": "application/vnd.ms-outlook",
}
SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"{\\rtf", "application/rtf"),
]
EMAIL_HEADERS = (b"from:", b"received:", b"return-path:", b"mime-version:", b"message-id:")


def extension(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def sniff(head: bytes, filename: str) -> str | None:
    """The media type of an allowed document, or None when it is not one."""
    ext = extension(filename)
    if head.startswith(ZIP):
        return ZIP_TYPES.get(ext)
    if head.startswith(OLE2):
        return OLE2_TYPES.get(ext)
    for signature, media_type in SIGNATURES:
        if head.startswith(signature):
            return media_type
    if _is_text(head):
        if ext == ".eml" or head.lstrip().lower().startswith(EMAIL_HEADERS):
            return "message/rfc822"
        return "text/csv" if ext == ".csv" else "text/plain"
    return None


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniffing window is still text.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True
