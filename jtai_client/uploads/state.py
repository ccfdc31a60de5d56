"""The resumable state file: per file, its upload, the parts already sent and its document.

Saved after every step, so a re-run (after Ctrl-C, a crash or a lost connection) resumes
where the last one stopped instead of sending anything twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jtai_client.session import ClientConfigError, write_private

STATE_FILE_NAME = ".jtai-upload-state.json"


@dataclass
class FileState:
    request_id: str
    sha256: str
    generation: int = 0  # bumped when an upload has to start again (expired, refused)
    upload_id: str | None = None
    part_size: int | None = None
    part_urls: dict[str, str] = field(default_factory=dict)
    complete_url: str | None = None
    etags: dict[str, str] = field(default_factory=dict)
    document_id: str | None = None

    def restart(self) -> None:
        self.generation += 1
        self.upload_id, self.part_size, self.complete_url = None, None, None
        self.part_urls, self.etags = {}, {}


class UploadState:
    """Completed parts and files, saved after each step so a re-run picks up where it stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, FileState] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.files = {key: FileState(**value) for key, value in data["files"].items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ClientConfigError(f"unreadable upload state {path}: {exc}") from None

    def get(self, key: str) -> FileState | None:
        return self.files.get(key)

    def put(self, key: str, entry: FileState) -> None:
        self.files[key] = entry
        self.save()

    def save(self) -> None:
        # Private: presigned part URLs in here are credentials for a while.
        write_private(
            self.path,
            {"version": 1, "files": {key: asdict(value) for key, value in self.files.items()}},
        )


def default_state_path(root: Path) -> Path:
    return (root if root.is_dir() else root.parent) / STATE_FILE_NAME
