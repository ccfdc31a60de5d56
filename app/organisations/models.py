from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime

from sqlalchemy import Enum, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, new_id, utcnow
from app.core.text import without_hidden
from app.organisations.kinds import OrganisationKind


def name_key(name: str) -> str:
    """What makes two organisations' names the same: case, runs of whitespace, invisible
    characters and compatibility forms do not ("Demoshire  police" is "Demoshire Police";
    "Ofsted" with a zero-width space or a soft hyphen, or in full-width letters, is Ofsted)."""
    folded = unicodedata.normalize("NFKC", without_hidden(name))
    return " ".join(folded.split()).casefold()


class Organisation(Base):
    __tablename__ = "organisations"
    # One organisation per name and kind, held by the database too: two registrations racing
    # each other cannot both pass the service's check.
    __table_args__ = (UniqueConstraint("kind", "name_key", name="uq_organisations_kind_name_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(
            OrganisationKind,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def active(self) -> bool:
        return self.disabled_at is None
