"""The council's notes on the area's context (MH para 36, DA para 16), for the inspectors.

The director of children's services may advise the lead of particular contextual issues when
the lists are sent; the lead takes them into account when selecting children, so the notes
are listed on the selection view. They are documents sent to the council's derived
``context_note`` request; other agencies never see them (no agency sees another's documents).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.document_requests.models import DocumentRequest, RequestKind
from app.documents.models import Document


def context_notes(
    session: Session, principal: Principal, inspection_id: uuid.UUID
) -> Sequence[Document]:
    """Every note sent, oldest first, for an inspector; nothing for anyone else."""
    if not principal.is_inspector:
        return []
    return (
        session.execute(
            select(Document)
            .join(DocumentRequest, Document.request_id == DocumentRequest.id)
            .where(
                DocumentRequest.inspection_id == inspection_id,
                DocumentRequest.kind == RequestKind.CONTEXT_NOTE,
            )
            .order_by(Document.created_at, Document.id)
        )
        .scalars()
        .all()
    )
