"""How a stored file is offered for download: headers that make a browser save it, never show
or run it, whatever name the uploader gave it. Used by every API answer that carries a file and
by the S3 adapter's presigned downloads.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_ASCII_FALLBACK = re.compile(r"[^A-Za-z0-9 ._()+-]")
_MAX_FILENAME_CHARS = 150


def content_disposition(filename: str) -> str:
    """An ``attachment`` header value that cannot inject headers or paths (RFC 6266/8187).

    The quoted ``filename`` is a plain-ASCII fallback; ``filename*`` carries the UTF-8 name.
    """
    name = _clean_filename(filename)
    fallback = _ASCII_FALLBACK.sub("_", name).strip(" .") or "download"
    encoded = quote(name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def download_headers(filename: str) -> dict[str, str]:
    """Headers for every file the API answers with: saved, never shown or run in a browser.

    ``attachment`` makes browsers save the file; ``nosniff`` stops them from guessing a type
    that runs; ``sandbox`` takes script and same-origin rights from anything still rendered;
    ``no-store`` keeps child data out of caches.
    """
    return {
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "no-store",
    }


def _clean_filename(filename: str) -> str:
    # Keep only the last path segment and drop control/format characters (CR, LF, NUL, bidi).
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", filename))[-1]
    printable = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    cleaned = printable.replace('"', "'").strip(" .")
    return cleaned[:_MAX_FILENAME_CHARS] or "download"
