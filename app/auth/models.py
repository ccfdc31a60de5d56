from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.principal import PrincipalKind
from app.core.database import Base, UTCDateTime, new_id, utcnow
from app.organisations.models import Organisation


class ApiClient(Base):
    """A principal of one organisation: a program holding client credentials (a system), or a
    person signed in with a trusted identity provider (``issuer`` and ``subject``, no secret).
    """

    __tablename__ = "api_clients"
    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_api_clients_issuer_subject"),
        # A system has a secret and no issuer; a person an issuer and subject and no secret.
        CheckConstraint(
            "(issuer IS NULL AND subject IS NULL AND secret_hash IS NOT NULL)"
            " OR (issuer IS NOT NULL AND subject IS NOT NULL AND secret_hash IS NULL)",
            name="system_or_person",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    # SHA-256 of a 256-bit random secret: a slow hash adds nothing at that entropy. None for a
    # person, who never obtains a token from us.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # A person: the identity provider's exact `iss` and the person's `sub` there.
    issuer: Mapped[str | None] = mapped_column(String(255), default=None)
    subject: Mapped[str | None] = mapped_column(String(255), default=None)

    organisation: Mapped[Organisation] = relationship(lazy="raise")

    @property
    def kind(self) -> PrincipalKind:
        """A person (signed in with a trusted issuer) or a system (client credentials)."""
        return PrincipalKind.PERSON if self.issuer is not None else PrincipalKind.SYSTEM
