"""The closed-inspection rule, enforced here alone.

A closed inspection's record is final: only the operator's purge touches it now. Whether an
operation writes is said by its policy entry (``Rule.writes``), not guessed from its HTTP
method; every step that writes to an inspection asks ``check_open`` with its operation: the
dependency that loads an inspection from the path, and the services that find the inspection
another way (a document request, an upload) or check again after a long read.
"""

from __future__ import annotations

from app.auth.policy import rule_for
from app.core.errors import Conflict
from app.inspections.models import Inspection, InspectionStatus


def check_open(operation: str, inspection: Inspection) -> None:
    """409 ``inspection_closed`` when ``operation`` writes and ``inspection`` is closed."""
    if rule_for(operation).writes and inspection.status is InspectionStatus.CLOSED:
        raise Conflict(
            "The inspection is closed; nothing more can be written.", code="inspection_closed"
        )
