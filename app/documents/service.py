"""The documents domain's operations, for its router and for other domains; no HTTP here.

The rules live in the modules named here, one concern each:

- ``access``: who may still write there, asked afresh at every step of an upload;
- ``content``: what a document may be (its name, its sniffed type);
- ``kinds``: which kind of a case-file request a document or nil return answers;
- ``nil_returns``: answering a request, or one kind of it, "none held";
- ``answers``: what each request has had for each kind it covers (received, nil, owed);
- ``streamed``: bytes streamed through the API (a whole file, or one part of an upload);
- ``presigned``: the plan of a presigned multipart upload, and its parts;
- ``completion``: completing an upload into a document, or giving it up;
- ``records`` and ``reads``: a document's row and audit, and reading documents;
- ``bundle``: every current document about one child, as one ZIP streamed from the store;
- ``cleanup``: a stored object kept only if the transaction recording it commits;
- ``sweeper``: abandoned uploads aborted (run by ``app.jobs``).

Every storage call blocks; callers run the synchronous functions in worker threads.
"""

from __future__ import annotations

from app.documents.access import writable_request
from app.documents.answers import AnswerTimes, KindAnswer, answer_times, answered_at, answers_of
from app.documents.bundle import ChildDocuments, child_documents, zip_archive
from app.documents.completion import abort_upload, complete_upload
from app.documents.content import check_filename, sniff_or_refuse
from app.documents.nil_returns import record_nil_return
from app.documents.presigned import (
    NewUpload,
    UploadPlan,
    create_upload,
    part_count,
    planned_part_size,
    start_upload,
)
from app.documents.reads import (
    documents_for,
    download,
    get_document,
    nil_returns_for,
    read_metadata,
)
from app.documents.records import new_object_key, publish
from app.documents.streamed import receive_document, receive_part
from app.documents.sweeper import COMPLETION_GRACE, SweepResult, sweep_uploads

__all__ = [
    "COMPLETION_GRACE",
    "AnswerTimes",
    "ChildDocuments",
    "KindAnswer",
    "NewUpload",
    "SweepResult",
    "UploadPlan",
    "abort_upload",
    "answer_times",
    "answered_at",
    "answers_of",
    "check_filename",
    "child_documents",
    "complete_upload",
    "create_upload",
    "documents_for",
    "download",
    "get_document",
    "new_object_key",
    "nil_returns_for",
    "part_count",
    "planned_part_size",
    "publish",
    "read_metadata",
    "receive_document",
    "receive_part",
    "record_nil_return",
    "sniff_or_refuse",
    "start_upload",
    "sweep_uploads",
    "writable_request",
    "zip_archive",
]
