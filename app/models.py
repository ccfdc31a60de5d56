"""Every domain's tables, imported once so Alembic and tests see the whole schema."""

from app.audit.models import AuditEvent, AuditHead
from app.auth.models import ApiClient
from app.child_lists.models import ListRow, ListVersion
from app.core.database import Base
from app.documents.models import Document, Upload
from app.inspections.models import Inspection, InspectionParticipant
from app.organisations.models import Organisation
from app.requests.models import DocumentRequest
from app.schedule.models import MilestoneOverride
from app.selections.models import Selection

metadata = Base.metadata

__all__ = [
    "ApiClient",
    "AuditEvent",
    "AuditHead",
    "Document",
    "DocumentRequest",
    "Inspection",
    "InspectionParticipant",
    "ListRow",
    "ListVersion",
    "MilestoneOverride",
    "Organisation",
    "Selection",
    "Upload",
    "metadata",
]
