"""The documents domain's operations, for its router and for other domains; no HTTP here.

The rules live in the modules named here, one concern each:

- ``access``: who may still write there, asked afresh at every step of an upload;
- ``content``: what a document may be (its name, its sniffed type);
- ``streamed``: bytes streamed through the API (a whole file, or one part of an upload);
- ``presigned``: the plan of a presigned multipart upload, and its parts;
- ``completion``: completing an upload into a document, or giving it up;
- ``records`` and ``reads``: a document's row and audit, and reading documents;
- ``cleanup``: a stored object kept only if the transaction recording it commits;
- ``sweeper``: abandoned uploads aborted (run by ``app.jobs``).

Every storage call blocks; callers run the synchronous functions in worker threads.
"""

from __future__ import annotations

from app.documents.access import writable_request
from app.documents.completion import abort_upload, complete_upload
from app.documents.content import check_filename, sniff_or_refuse
from app.documents.presigned import (
    NewUpload,
    UploadPlan,
    create_upload,
    part_count,
    planned_part_size,
    start_upload,
)
from app.documents.reads import documents_for, download, get_document, read_metadata
from app.documents.records import new_object_key, publish
from app.documents.streamed import receive_document, receive_part
from app.documents.sweeper import COMPLETION_GRACE, SweepResult, sweep_uploads

__all__ = [
    "COMPLETION_GRACE",
    "NewUpload",
    "SweepResult",
    "UploadPlan",
    "abort_upload",
    "check_filename",
    "complete_upload",
    "create_upload",
    "documents_for",
    "download",
    "get_document",
    "new_object_key",
    "part_count",
    "planned_part_size",
    "publish",
    "read_metadata",
    "receive_document",
    "receive_part",
    "sniff_or_refuse",
    "start_upload",
    "sweep_uploads",
    "writable_request",
]
