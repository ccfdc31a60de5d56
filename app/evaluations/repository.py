"""Reading evaluations and who may contribute to them; no rules here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from app.evaluations.models import JOINT, Evaluation
from app.inspections.models import InspectionParticipant
from app.organisations.kinds import AGENCY_KINDS
from app.organisations.models import Organisation


def participating_agencies(session: Session, inspection_id: uuid.UUID) -> set[uuid.UUID]:
    """The agencies taking part in the inspection: who may contribute to a joint evaluation."""
    return set(
        session.execute(
            select(Organisation.id)
            .join(InspectionParticipant, InspectionParticipant.organisation_id == Organisation.id)
            .where(InspectionParticipant.inspection_id == inspection_id)
            .where(Organisation.kind.in_(AGENCY_KINDS))
        ).scalars()
    )


def current_version_number(
    session: Session, inspection_id: uuid.UUID, child_id: str, kind: str, writer: uuid.UUID
) -> int:
    """The number of the writer's current evaluation of the child, 0 before the first."""
    number = session.execute(
        select(func.max(Evaluation.version)).where(
            Evaluation.inspection_id == inspection_id,
            Evaluation.child_id == child_id,
            Evaluation.kind == kind,
            Evaluation.organisation_id == writer,
        )
    ).scalar_one_or_none()
    return number or 0


def current_evaluations(
    session: Session, inspection_id: uuid.UUID, child_id: str
) -> list[Evaluation]:
    """The current version of every evaluation of the child, by kind and writer."""
    rows = session.execute(
        select(Evaluation)
        .where(Evaluation.inspection_id == inspection_id, Evaluation.child_id == child_id)
        .order_by(Evaluation.kind, Evaluation.organisation_id, Evaluation.version)
    ).scalars()
    latest = {(row.kind, row.organisation_id): row for row in rows}
    return list(latest.values())


def versions_of_kind(
    session: Session,
    inspection_id: uuid.UUID,
    child_id: str,
    kind: str,
    organisation_id: uuid.UUID | None,
    version: int | None,
) -> Sequence[Evaluation]:
    """The child's evaluations of a kind (by one writer, of one version, if named), oldest
    version first."""
    query = select(Evaluation).where(
        Evaluation.inspection_id == inspection_id,
        Evaluation.child_id == child_id,
        Evaluation.kind == kind,
    )
    if organisation_id is not None:
        query = query.where(Evaluation.organisation_id == organisation_id)
    if version is not None:
        query = query.where(Evaluation.version == version)
    return list(session.execute(query.order_by(Evaluation.version)).scalars())


def first_evaluations(
    session: Session, inspection_id: uuid.UUID, kind: str | None = JOINT
) -> dict[str, datetime]:
    """child -> when its first evaluation of ``kind`` (None: any single-agency) was stored."""
    query = select(Evaluation.child_id, func.min(Evaluation.created_at)).where(
        Evaluation.inspection_id == inspection_id
    )
    query = query.where(Evaluation.kind == kind if kind else Evaluation.kind != JOINT)
    return dict(session.execute(query.group_by(Evaluation.child_id)).tuples().all())


def current_of_inspection(session: Session, inspection_id: uuid.UUID) -> list[Evaluation]:
    """The current version of every evaluation of every child of the inspection, in one
    query (answers not loaded: for overviews)."""
    newest = (
        select(
            Evaluation.child_id,
            Evaluation.kind,
            Evaluation.organisation_id,
            func.max(Evaluation.version).label("version"),
        )
        .where(Evaluation.inspection_id == inspection_id)
        .group_by(Evaluation.child_id, Evaluation.kind, Evaluation.organisation_id)
        .subquery()
    )
    rows = session.execute(
        select(Evaluation)
        .options(defer(Evaluation.answers), defer(Evaluation.summary))
        .join(
            newest,
            (newest.c.child_id == Evaluation.child_id)
            & (newest.c.kind == Evaluation.kind)
            & (newest.c.organisation_id == Evaluation.organisation_id)
            & (newest.c.version == Evaluation.version),
        )
        .where(Evaluation.inspection_id == inspection_id)
    ).scalars()
    return list(rows)
