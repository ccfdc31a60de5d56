"""What a file really is, from its first bytes, against the allow-list of document types.

The declared Content-Type and the file name's extension are hints at most: a file is taken
only when its own bytes say it is one of the allowed kinds. Container formats that cannot be
told apart by their first bytes (a .docx and any other zip) also need a matching extension.

Downloads keep the name a file was sent with, so inspectors open it by that name: a name that
ends in an extension that runs code (``.hta``, ``.html``, ``.svg``...) is refused whatever the
bytes are (``case.html`` starting with ``%PDF-`` would open in a browser), and so is text that
starts like a web page (a browser sniffing it would run it). File names with control
characters or bidirectional overrides (which disguise an extension) are refused too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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

# Extensions that a browser or the operating system opens by running something.
_ACTIVE_GROUPS = (
    "html htm xhtml xht shtml mht mhtml svg svgz xml xsl xslt hta htc",  # pages, with script
    "js mjs cjs jse vbs vbe vb wsf wsh wsc ws sct ps1 psm1 psd1 ps1xml psc1 bat cmd",  # scripts
    "sh bash zsh csh ksh command desktop php phtml php3 php4 php5 phar asp aspx jsp cgi",
    "pl py pyw rb jar jnlp class swf xbap application appref-ms gadget chm hlp",
    "com exe dll scr pif cpl msc msi msp mst ocx sys drv xll",  # programs and installers
    "lnk url scf inf reg settingcontent-ms library-ms search-ms",  # shortcuts and settings
    "iso img vhd vhdx dmg pkg app apk deb rpm",  # images that carry programs past warnings
    "docm dotm xlsm xltm xlam pptm potm ppam ppsm sldm",  # Office files with macros
)
ACTIVE_EXTENSIONS = frozenset(f".{ext}" for group in _ACTIVE_GROUPS for ext in group.split())
# The starts of text a browser takes for a page (WHATWG MIME sniffing, plus the tags that
# carry script). Each is refused when followed by a space, ">" or "/".
_ACTIVE_TAG_NAMES = (
    "!doctype html head body script iframe frameset frame object embed applet svg math xml "
    "style title meta link base form img a b p br h1 div font table"
)
ACTIVE_TAGS = tuple(f"<{tag}".encode() for tag in _ACTIVE_TAG_NAMES.split())
ACTIVE_STARTS = (b"<!--", b"<?php", b"<?xml-stylesheet")
# Inside an XML document: markup that a browser renders with scripts.
ACTIVE_XML = (b"<svg", b"<html", b"<script", b"/1999/xhtml", b"<?xml-stylesheet", b"<xsl:")
TAG_END = frozenset(b" \t\r\n\x0c>/")
UTF8_BOM = b"\xef\xbb\xbf"
# Bidirectional embeddings, overrides and isolates: "photo\u202egpj.exe" shows as "photoexe.jpg".
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Finding:
    """Why a file is refused: a stable code, a message for people, and what was matched."""

    code: str
    message: str
    value: str


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


# What each sniffed type may be called: a name is what the inspector's computer opens a file
# by, so a PDF called "a.one" or text called "a.rdp" would open in something that runs it.
# Zip and OLE containers are told apart by their extension already (ZIP_TYPES, OLE2_TYPES).
_TEXT = (".txt", ".text", ".log", ".md", ".tsv")
EXTENSIONS_FOR_TYPE: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/tiff": (".tif", ".tiff"),
    "application/rtf": (".rtf",),
    "text/plain": _TEXT,
    "text/csv": (".csv",),
    "message/rfc822": (".eml", *_TEXT),
}


def extension_mismatch(media_type: str, filename: str) -> Finding | None:
    """A refusal when the name does not end in an extension of what the bytes are."""
    allowed = EXTENSIONS_FOR_TYPE.get(media_type)
    endings = _extensions(filename)  # every ending the name may be opened by
    if allowed is None or (endings and endings <= set(allowed)):
        return None
    shown = extension(filename) or "(none)"
    return Finding(
        "extension_mismatch",
        f"The file is {media_type} and its name ends in '{shown}'; name it with one of "
        f"{', '.join(allowed)} (rule: the extension must fit the content).",
        shown,
    )


MAX_FILENAME_BYTES = 255


def filename_problem(filename: str) -> str | None:
    """Why a file name cannot be kept as it is, or None when it can."""
    # File systems bound a name at 255 bytes; the presigned path already bounds it at 255
    # characters, and every path should say the same.
    if len(filename.encode("utf-8", errors="surrogatepass")) > MAX_FILENAME_BYTES:
        return f"The file name is longer than {MAX_FILENAME_BYTES} bytes."
    for character in filename:
        if unicodedata.category(character) == "Cc":
            return f"The file name holds a control character (U+{ord(character):04X})."
    if BIDI_CONTROLS.search(filename):
        return "The file name holds a bidirectional override, which can disguise its extension."
    return None


def _extensions(filename: str) -> set[str]:
    """Every extension the name can end in, as Windows, a browser or a download shows it.

    Windows drops trailing dots and spaces ("a.hta." runs as "a.hta") and reads "a.hta:x" as
    a stream of "a.hta"; downloads drop invisible format characters ("a.h\u200bta").
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", filename))[-1]
    visible = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    found = set()
    for name in {base, visible, base.split(":", 1)[0], visible.split(":", 1)[0]}:
        trimmed = name.rstrip(" .\t")
        if "." in trimmed:
            found.add("." + trimmed.rsplit(".", 1)[1].lower())
    return found


def active_extension(filename: str) -> Finding | None:
    """A refusal when the name ends in an extension that runs code when opened."""
    for ext in sorted(_extensions(filename) & ACTIVE_EXTENSIONS):
        return Finding(
            "blocked_file_extension",
            f"Files ending in '{ext}' can run code when opened; the exchange takes no active "
            "content (rule: file extension).",
            ext,
        )
    return None


def active_content(head: bytes) -> Finding | None:
    """A refusal when text starts like a web page, or is XML carrying one."""
    start = head.removeprefix(UTF8_BOM).lstrip(b" \t\r\n\x0c")[:64].lower()
    matched = next((tag for tag in ACTIVE_TAGS if _starts_with_tag(start, tag)), None)
    matched = matched or next((mark for mark in ACTIVE_STARTS if start.startswith(mark)), None)
    if matched is None and start.startswith(b"<?xml"):
        lowered = head.lower()
        matched = next((mark for mark in ACTIVE_XML if mark in lowered), None)
    if matched is None:
        return None
    shown = matched.decode("ascii", "replace")
    return Finding(
        "active_content",
        f"The file's text holds '{shown}', markup that a browser would run; the exchange "
        "takes no active content (rule: file content).",
        shown,
    )


def _starts_with_tag(start: bytes, tag: bytes) -> bool:
    return start.startswith(tag) and len(start) > len(tag) and start[len(tag)] in TAG_END


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniffing window is still text.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True
