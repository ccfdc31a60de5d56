"""The object store as a request dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import app_component
from app.storage.base import Storage

StorageDep = Annotated[Storage, Depends(app_component("storage"))]
