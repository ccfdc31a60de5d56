"""Download a document to disk, verified against the SHA-256 the exchange recorded."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urljoin

import httpx

from jtai_client.api import ExchangeClient, is_relative
from jtai_client.progress import Bar, Bars

REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 1 << 20
UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:]")


class VerificationFailed(Exception):
    """The bytes received are not the bytes the exchange recorded."""


class WouldOverwrite(Exception):
    """The target file exists and the user did not say it may be replaced."""


def refuse_to_overwrite(target: Path, overwrite: bool) -> None:
    """Checked before anything is fetched: a file already there is kept unless told."""
    if target.exists() and not overwrite:
        raise WouldOverwrite(
            f"{target} exists already: nothing was downloaded. Pass --overwrite to replace "
            "it, or --output to save elsewhere"
        )


def write_new(target: Path, content: bytes, overwrite: bool) -> None:
    """Write a small file whole, not replacing one that appeared meanwhile unless told."""
    with target.open("wb" if overwrite else "xb") as out:
        out.write(content)


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    sha256: str


def safe_name(filename: str, fallback: str) -> str:
    """A file name from the server, made harmless: no folders, no control characters."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = UNSAFE.sub("_", name).lstrip(".").strip()
    return name or fallback


def target_path(output: Path | None, filename: str, document_id: str) -> Path:
    name = safe_name(filename, document_id)
    if output is None:
        return Path.cwd() / name
    return output / name if output.is_dir() else output


def _next_url(response: httpx.Response) -> str:
    location = response.headers["location"]
    # A relative Location is the API's own (keeps the token); an absolute one is the store.
    return location if is_relative(location) else urljoin(str(response.url), location)


def _fetch_once(api: ExchangeClient, url: str, out: IO[bytes], bar: Bar, hops: int = 0) -> str:
    """Write the whole body from the start (a retry starts over); answer its SHA-256."""
    out.seek(0)
    out.truncate()
    digest = hashlib.sha256()
    params = {"redirect": "true"} if hops == 0 else None
    with api.stream(url, params=params) as response:
        if response.status_code in REDIRECTS and "location" in response.headers and hops < 3:
            # Followed here, not by httpx, which would send our Authorization to the store.
            return _fetch_once(api, _next_url(response), out, bar, hops + 1)
        if response.status_code >= 400:
            response.read()
            api.check(response)
        done = 0
        for chunk in response.iter_bytes(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            done += len(chunk)
            bar.update(done)
    return digest.hexdigest()


def download(
    api: ExchangeClient,
    document_id: str,
    output: Path | None,
    bars: Bars,
    overwrite: bool = False,
) -> Downloaded:
    """Stream to a temporary file beside the target, verify, then move it into place; an
    existing file is refused (before a byte is fetched) unless ``overwrite``."""
    metadata = api.document(document_id)
    target = target_path(output, str(metadata.get("filename") or ""), document_id)
    refuse_to_overwrite(target, overwrite)
    url = f"/v1/documents/{document_id}/content"
    bar = bars.bar(target.name, int(metadata["size"]))
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    ) as out:
        temporary = Path(out.name)
        try:
            sha256 = api.retrying(f"GET {url}", lambda: _fetch_once(api, url, out, bar))
            size = out.tell()
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    if sha256 != metadata["sha256"] or size != metadata["size"]:
        temporary.unlink(missing_ok=True)
        raise VerificationFailed(
            f"{document_id}: got {size} bytes with SHA-256 {sha256}, "
            f"expected {metadata['size']} bytes with {metadata['sha256']}"
        )
    if overwrite:
        os.replace(temporary, target)
    else:
        _move_unless_there(temporary, target)
    return Downloaded(target, size, sha256)


def _move_unless_there(temporary: Path, target: Path) -> None:
    """Into place only if no file took the name while the bytes came (a link fails if one did,
    where a rename would replace it)."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise WouldOverwrite(
            f"{target} appeared while downloading: kept as it is; pass --overwrite to replace it"
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
