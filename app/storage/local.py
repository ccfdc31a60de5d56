"""Objects as files in one folder (JTAI_STORAGE=local): the zero-set-up default.

Layout under the root:
    <key>                          one file per object, mode 0600, folders 0700
    .tmp/                          partial writes, renamed into place only when complete
    .uploads/<upload_id>/          a multipart upload: meta.json and part files
        meta.json                  {"key", "content_type", "initiated"}
        00001.<md5>                part 1, named by its ETag so a re-upload never mixes bytes
Keys never start with ".", so the two dot-folders cannot collide with objects.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from app.core.private_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, make_private_dirs
from app.storage.base import (
    MAX_PART_BYTES,
    MIN_PART_BYTES,
    READ_CHUNK_BYTES,
    Chunk,
    EmptyObject,
    InvalidKey,
    InvalidParts,
    NotSupported,
    ObjectNotFound,
    OpenUpload,
    StoredObject,
    StoredPart,
    UploadNotFound,
    normalise_etag,
    require_aware,
    validate_key,
    validate_part_list,
    validate_part_number,
)
from app.storage.streams import Meter, hash_stream

FILE_MODE = PRIVATE_FILE_MODE
DIR_MODE = PRIVATE_DIR_MODE
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_PART_FILE = re.compile(r"(?P<number>[0-9]{5})\.(?P<etag>[0-9a-f]{32})")
_META = "meta.json"


class LocalStorage:
    """A folder-backed store; see the module docstring for the layout."""

    supports_presign: bool = False

    def __init__(self, root: Path, *, min_part_bytes: int = MIN_PART_BYTES) -> None:
        # min_part_bytes mirrors S3's 5 MiB rule so clients built against the default store
        # also work against S3; tests lower it to keep fixtures small.
        self.root = Path(root).absolute()
        self.min_part_bytes = min_part_bytes

    # -- lifecycle ---------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        for folder in (self.root, self._tmp_dir, self._uploads_dir):
            make_private_dirs(folder)

    def ready(self) -> bool:
        # Never creates the root: a vanished mount must read as "not ready", not be papered over.
        # Writable means a file can really be created, not just that the mode bits look right.
        try:
            with tempfile.TemporaryFile(dir=self.root):
                return True
        except OSError:
            return False

    # -- objects -----------------------------------------------------------------------------

    def put_stream(
        self, key: str, chunks: Iterable[Chunk], *, max_bytes: int, content_type: str
    ) -> StoredObject:
        target = self._object_path(key)
        meter = Meter(max_bytes)
        with self._atomic_file(target) as handle:
            for chunk in meter.feed(chunks):
                handle.write(chunk)
            if meter.size == 0:
                raise EmptyObject()
        return StoredObject(key=key, size=meter.size, sha256=meter.hexdigest())

    def open_stream(self, key: str) -> Iterator[bytes]:
        # Opened here, not inside the generator, so a missing object raises before streaming.
        try:
            handle = self._object_path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        return _read_chunks(handle)

    def head(self, key: str) -> int | None:
        try:
            status = self._object_path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return status.st_size if stat.S_ISREG(status.st_mode) else None

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def delete(self, key: str) -> None:
        path = self._object_path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def sha256_of(self, key: str) -> tuple[int, str]:
        return hash_stream(self.open_stream(key))

    # -- multipart ---------------------------------------------------------------------------

    def start_multipart(self, key: str, content_type: str) -> str:
        validate_key(key)
        upload_id = uuid.uuid4().hex
        folder = self._uploads_dir / upload_id
        make_private_dirs(self._uploads_dir)
        folder.mkdir(mode=DIR_MODE)
        folder.chmod(DIR_MODE)  # mkdir's mode passes through the umask
        meta = {"key": key, "content_type": content_type, "initiated": _now().isoformat()}
        with self._atomic_file(folder / _META) as handle:
            handle.write(json.dumps(meta).encode())
        return upload_id

    def presign_part(
        self, key: str, upload_id: str, part_number: int, expires: timedelta, *, size: int
    ) -> str:
        raise NotSupported("the local store has no presigned URLs; proxy parts via put_part")

    def put_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        chunks: Iterable[Chunk],
        *,
        max_bytes: int = MAX_PART_BYTES,
    ) -> str:
        folder = self._upload_folder(key, upload_id)
        validate_part_number(part_number)
        meter = Meter(max_bytes)
        md5 = hashlib.md5(usedforsecurity=False)  # S3-style ETag, not a security check
        staging = folder / f".part-{uuid.uuid4().hex}"
        with self._atomic_file(staging) as handle:
            for chunk in meter.feed(chunks):
                md5.update(chunk)
                handle.write(chunk)
            if meter.size == 0:
                raise EmptyObject()
        etag = md5.hexdigest()
        self._install_part(folder, staging, part_number, etag)
        return f'"{etag}"'

    def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        folder = self._upload_folder(key, upload_id)
        validate_part_list(parts)
        files = [self._part_file(folder, number, etag) for number, etag in parts]
        for path in files[:-1]:
            if path.stat().st_size < self.min_part_bytes:
                raise InvalidParts(f"every part but the last needs {self.min_part_bytes} bytes")
        with self._atomic_file(self._object_path(key)) as handle:
            for path in files:
                with path.open("rb") as source:
                    shutil.copyfileobj(source, handle, READ_CHUNK_BYTES)
        shutil.rmtree(folder, ignore_errors=True)

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        folder = self._upload_folder(key, upload_id)
        found = []
        for path in folder.iterdir():
            named = _PART_FILE.fullmatch(path.name)
            if named is not None:
                size = path.stat().st_size
                found.append(StoredPart(int(named["number"]), named["etag"], size))
        return sorted(found)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        validate_key(key)
        if not _UPLOAD_ID.fullmatch(upload_id):
            return
        folder = self._uploads_dir / upload_id
        meta = _read_meta(folder)
        if meta is not None and meta.get("key") == key:
            shutil.rmtree(folder, ignore_errors=True)

    def list_open_multipart(self, older_than: datetime) -> list[OpenUpload]:
        require_aware(older_than)
        if not self._uploads_dir.is_dir():
            return []
        found = []
        for folder in sorted(self._uploads_dir.iterdir()):
            upload = _open_upload(folder)
            if upload is not None and upload.initiated < older_than:
                found.append(upload)
        return found

    def presign_get(self, key: str, expires: timedelta, filename: str) -> str:
        raise NotSupported("the local store has no presigned URLs; stream via open_stream")

    # -- helpers -----------------------------------------------------------------------------

    @property
    def _tmp_dir(self) -> Path:
        return self.root / ".tmp"

    @property
    def _uploads_dir(self) -> Path:
        return self.root / ".uploads"

    def _object_path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # Defence in depth: a symlinked folder must not lead outside the root either.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise InvalidKey(f"invalid object key: {key[:80]!r}")
        return path

    def _upload_folder(self, key: str, upload_id: str) -> Path:
        validate_key(key)
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise UploadNotFound(key)
        folder = self._uploads_dir / upload_id
        meta = _read_meta(folder)
        if meta is None or meta.get("key") != key:
            raise UploadNotFound(key)
        return folder

    def _part_file(self, folder: Path, part_number: int, etag: str) -> Path:
        bare = normalise_etag(etag)
        path = folder / f"{part_number:05d}.{bare}"
        if not re.fullmatch(r"[0-9a-f]{32}", bare) or not path.is_file():
            raise InvalidParts(f"part {part_number} with ETag {etag!r} was not uploaded")
        return path

    def _install_part(self, folder: Path, staging: Path, part_number: int, etag: str) -> None:
        final = folder / f"{part_number:05d}.{etag}"
        os.replace(staging, final)
        # A re-uploaded part replaces the earlier one, as on S3.
        for older in folder.glob(f"{part_number:05d}.*"):
            if older != final:
                older.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _atomic_file(self, target: Path) -> Iterator[BinaryIO]:
        """Write to a private temp file, then rename over ``target``; on any error, remove it."""
        make_private_dirs(self._tmp_dir)
        fd, temp_name = tempfile.mkstemp(dir=self._tmp_dir, prefix="put-")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                # mkstemp asks for 0600, which the umask may still cut; os.replace keeps it.
                os.fchmod(handle.fileno(), FILE_MODE)
                yield handle
                handle.flush()
                # Durable before visible: a document must not appear and then lose its bytes.
                os.fsync(handle.fileno())
            make_private_dirs(target.parent)
            os.replace(temp, target)
        except BaseException:
            # BaseException too: a cancelled upload (GeneratorExit, KeyboardInterrupt) is a failure.
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            yield chunk


def _read_meta(folder: Path) -> dict[str, str] | None:
    try:
        loaded = json.loads((folder / _META).read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _open_upload(folder: Path) -> OpenUpload | None:
    meta = _read_meta(folder)
    if meta is None:
        return None
    try:
        initiated = datetime.fromisoformat(meta["initiated"])
        return OpenUpload(key=meta["key"], upload_id=folder.name, initiated=initiated)
    except (KeyError, TypeError, ValueError):
        return None


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse fsync on folders, which is fine.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _now() -> datetime:
    return datetime.now(UTC)
