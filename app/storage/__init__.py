"""Document bytes: one ``Storage`` interface, a local-folder and an S3 adapter (DESIGN.md s. 5)."""

from __future__ import annotations

from app.core.config import Settings, StorageKind
from app.storage.base import (
    EmptyObject,
    InvalidKey,
    InvalidParts,
    NotSupported,
    ObjectNotFound,
    ObjectTooLarge,
    OpenUpload,
    Storage,
    StorageError,
    StoredObject,
    StoredPart,
    UploadNotFound,
    validate_key,
)
from app.storage.downloads import content_disposition, download_headers
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage

__all__ = [
    "EmptyObject",
    "InvalidKey",
    "InvalidParts",
    "LocalStorage",
    "NotSupported",
    "ObjectNotFound",
    "ObjectTooLarge",
    "OpenUpload",
    "S3Storage",
    "Storage",
    "StorageError",
    "StoredObject",
    "StoredPart",
    "UploadNotFound",
    "build_storage",
    "content_disposition",
    "download_headers",
    "validate_key",
]


def build_storage(settings: Settings) -> Storage:
    """The adapter the settings ask for. No I/O here: call ``ensure_bucket()`` at start-up."""
    if settings.storage is StorageKind.S3:
        assert settings.s3_bucket  # Settings refuses JTAI_STORAGE=s3 without a bucket
        return S3Storage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            public_endpoint_url=settings.s3_public_endpoint_url,
        )
    return LocalStorage(settings.resolved_storage_dir)
