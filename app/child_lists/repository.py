"""List versions and contributions: which versions there are, whose, and which are current.

Their rows are stored and read in ``blocks``; no HTTP and no parsing here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, String, Uuid, bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased, defer

from app.child_lists.models import ListVersion
from app.core.database import aware
from app.organisations.models import Organisation


@dataclass(frozen=True)
class Contribution:
    """The current (or a chosen) version of one organisation's contribution to a list, with
    the name of that organisation: the supplier of its rows."""

    version: ListVersion
    organisation_name: str | None

    @property
    def organisation_id(self) -> uuid.UUID:
        return self.version.organisation_id


def _in_supplier_order(found: Iterable[tuple[ListVersion, str | None]]) -> list[Contribution]:
    """Suppliers by name (then id): an order a re-push does not change, so pages stay put."""
    contributions = [Contribution(version, name) for version, name in found]
    return sorted(contributions, key=lambda c: (c.organisation_name or "", str(c.organisation_id)))


def _newer_of_same_contribution() -> ColumnElement[bool]:
    newer = aliased(ListVersion)
    return ~exists().where(
        newer.inspection_id == ListVersion.inspection_id,
        newer.list_key == ListVersion.list_key,
        newer.organisation_id == ListVersion.organisation_id,
        newer.number > ListVersion.number,
    )


def current_contributions(
    session: Session,
    inspection_id: uuid.UUID,
    list_keys: Iterable[str] | None = None,
    organisation_id: uuid.UUID | None = None,
) -> list[Contribution]:
    """The latest version of every organisation's contribution to each list (of the keys;
    of one organisation), in supplier order."""
    query = (
        select(ListVersion, Organisation.name)
        .options(defer(ListVersion.warnings))
        .outerjoin(Organisation, Organisation.id == ListVersion.organisation_id)
        .where(ListVersion.inspection_id == inspection_id, _newer_of_same_contribution())
    )
    if list_keys is not None:
        query = query.where(ListVersion.list_key.in_(list(list_keys)))
    if organisation_id is not None:
        query = query.where(ListVersion.organisation_id == organisation_id)
    return _in_supplier_order(session.execute(query).tuples())


def first_pushes(
    session: Session, inspection_id: uuid.UUID
) -> dict[str, dict[uuid.UUID, datetime]]:
    """When each organisation first contributed to each list: what list milestones are met by."""
    rows = session.execute(
        select(ListVersion.list_key, ListVersion.organisation_id, func.min(ListVersion.created_at))
        .where(ListVersion.inspection_id == inspection_id)
        .group_by(ListVersion.list_key, ListVersion.organisation_id)
    ).all()
    pushed: dict[str, dict[uuid.UUID, datetime]] = {}
    for key, organisation_id, moment in rows:
        pushed.setdefault(key, {})[organisation_id] = aware(moment)
    return pushed


# Every read of a list starts here: built once, so SQLAlchemy neither rebuilds nor re-keys it.
# Parameters carry their types: a column typed by its foreign key may not be typed yet when
# this module is imported.
# The warnings (up to a thousand) are left unread until asked for: pages never show them.
_CONTRIBUTIONS = (
    select(ListVersion, Organisation.name)
    .options(defer(ListVersion.warnings))
    .outerjoin(Organisation, Organisation.id == ListVersion.organisation_id)
    .where(
        ListVersion.inspection_id == bindparam("inspection_id", type_=Uuid()),
        ListVersion.list_key == bindparam("list_key", type_=String()),
        _newer_of_same_contribution(),
    )
)


def contributions(session: Session, inspection_id: uuid.UUID, list_key: str) -> list[Contribution]:
    """The current version of every organisation's contribution to one list, in supplier
    order: one statement, each contribution's latest version found by its unique index."""
    found = session.execute(_CONTRIBUTIONS, {"inspection_id": inspection_id, "list_key": list_key})
    return _in_supplier_order(found.tuples())


_LATEST_VERSION = (
    select(ListVersion)
    .options(defer(ListVersion.warnings))
    .where(
        ListVersion.inspection_id == bindparam("inspection_id", type_=Uuid()),
        ListVersion.list_key == bindparam("list_key", type_=String()),
        ListVersion.organisation_id == bindparam("organisation_id", type_=Uuid()),
    )
    .order_by(ListVersion.number.desc())
    .limit(1)
)


def latest_version(
    session: Session, inspection_id: uuid.UUID, list_key: str, organisation_id: uuid.UUID
) -> ListVersion | None:
    """The current version of one organisation's contribution to a list: one index probe."""
    found = session.execute(
        _LATEST_VERSION,
        {"inspection_id": inspection_id, "list_key": list_key, "organisation_id": organisation_id},
    )
    return found.scalar_one_or_none()


def versions_by_organisation(
    session: Session, inspection_id: uuid.UUID
) -> dict[uuid.UUID, list[ListVersion]]:
    """Every version pushed in an inspection, grouped by who pushed it, oldest first."""
    grouped: dict[uuid.UUID, list[ListVersion]] = {}
    rows = session.execute(
        select(ListVersion)
        .where(ListVersion.inspection_id == inspection_id)
        .order_by(ListVersion.created_at)
    ).scalars()
    for version in rows:
        grouped.setdefault(version.organisation_id, []).append(version)
    return grouped


def _versions_of(
    inspection_id: uuid.UUID, list_key: str, organisation_id: uuid.UUID | None
) -> Select[tuple[ListVersion, str]]:
    # Outer joined: a name may be missing (None), whatever the column's type says.
    query = (
        select(ListVersion, Organisation.name)
        .outerjoin(Organisation, Organisation.id == ListVersion.organisation_id)
        .where(ListVersion.inspection_id == inspection_id, ListVersion.list_key == list_key)
    )
    if organisation_id is not None:
        query = query.where(ListVersion.organisation_id == organisation_id)
    return query


def versions_numbered(
    session: Session,
    inspection_id: uuid.UUID,
    list_key: str,
    number: int,
    organisation_id: uuid.UUID | None = None,
) -> list[Contribution]:
    """The versions numbered so (one per contribution at most), of one supplier or of all."""
    query = _versions_of(inspection_id, list_key, organisation_id)
    found = session.execute(query.where(ListVersion.number == number))
    return _in_supplier_order(found.tuples())


def history(
    session: Session,
    inspection_id: uuid.UUID,
    list_key: str,
    organisation_id: uuid.UUID | None = None,
) -> list[Contribution]:
    """Every version of a list (or of one organisation's contribution to it), newest first."""
    query = _versions_of(inspection_id, list_key, organisation_id)
    found = session.execute(query.order_by(ListVersion.created_at.desc(), ListVersion.id))
    return [Contribution(version, name) for version, name in found.tuples()]
