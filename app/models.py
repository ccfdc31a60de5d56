"""Every domain's tables, imported once so Alembic and tests see the whole schema."""

from app.audit.models import AuditAnchor, AuditEvent, AuditHead, PendingRead
from app.auth.models import ApiClient
from app.child_lists.models import ListBlock, ListVersion
from app.core.database import Base
from app.deadlines.models import MilestoneOverride
from app.document_requests.models import DocumentRequest, DocumentRequestAddressee
from app.documents.models import Document, NilReturn, Upload
from app.engagement.models import Engagement
from app.evaluations.models import Evaluation
from app.events.models import Event, EventRecipient
from app.idempotency.models import IdempotencyRecord
from app.inspections.models import Inspection, InspectionParticipant, InspectionTeamMember
from app.meetings.models import Meeting
from app.organisations.models import Organisation
from app.retention.models import PurgeTombstone
from app.selections.models import Selection
from app.tracking.models import TrackingRecord
from app.webhooks.models import Webhook, WebhookDelivery

metadata = Base.metadata

__all__ = [
    "ApiClient",
    "AuditAnchor",
    "AuditEvent",
    "AuditHead",
    "Document",
    "DocumentRequest",
    "DocumentRequestAddressee",
    "Engagement",
    "Evaluation",
    "Event",
    "EventRecipient",
    "IdempotencyRecord",
    "Inspection",
    "InspectionParticipant",
    "InspectionTeamMember",
    "ListBlock",
    "ListVersion",
    "Meeting",
    "MilestoneOverride",
    "NilReturn",
    "Organisation",
    "PendingRead",
    "PurgeTombstone",
    "Selection",
    "TrackingRecord",
    "Upload",
    "Webhook",
    "WebhookDelivery",
    "metadata",
]
