"""Files and folders only the service's own user may read: 0600 and 0700, whatever the umask.

The SQLite database, the signing key and the local object store hold special-category data
and secrets. ``mkdir(mode=...)`` and ``open(..., mode)`` only ever take bits away through the
umask, and ``mkdir(parents=True)`` ignores the mode for the parents it makes, so every folder
and file made here is chmod-ed to the exact mode after it is created.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_GROUP_OR_OTHER = 0o077

logger = logging.getLogger("jtai.files")


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each one 0700; existing ones are left alone."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        path.chmod(PRIVATE_DIR_MODE)


def create_private_file(path: Path) -> None:
    """Create an empty ``path`` 0600 (in private folders) unless it exists already."""
    make_private_dirs(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
    finally:
        os.close(descriptor)


def restrict_to_owner(path: Path) -> None:
    """Take group and other access off an existing file (one an older release left 0644).

    A file the service cannot chmod (another user's) is logged rather than fatal: it still
    opens it, and the operator is told what to fix.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & _GROUP_OR_OTHER == 0:
        return
    try:
        path.chmod(mode & ~_GROUP_OR_OTHER)
    except PermissionError:
        logger.warning("cannot make private", extra={"path": str(path), "mode": oct(mode)})
