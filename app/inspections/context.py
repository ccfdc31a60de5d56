"""What every use case about one inspection works with, built once per request or command.

Services take an ``InspectionContext`` instead of reaching for the app's state: who acts, on
which inspection, under which theme and clock, and who must hear of a change. The API, the
CLI, the demo and the test factories all build it through ``InspectionContexts`` so that a
change made by any of them has the same consequences.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.clock import Clock
from app.inspections.models import Inspection
from app.themes.registry import ThemeRegistry
from app.themes.schema.theme import Theme


class Change(StrEnum):
    """What about an inspection changed, for what is derived from it (its document requests)."""

    OPENED = "opened"
    PARTICIPANTS = "participants"
    TRACKED_CHILDREN = "tracked_children"
    SCHEDULE = "schedule"


# A listener runs inside the transaction of the change it hears of. Domains above the
# inspections (document requests) listen; the composition root wires them, so lower domains
# announce a change without importing what depends on them.
ChangeListener = Callable[[Session, "InspectionContext", Change], None]


@dataclass(frozen=True)
class InspectionContext:
    principal: Principal | None  # None when the platform itself acts (demo, retention)
    inspection: Inspection
    theme: Theme
    clock: Clock
    listeners: Sequence[ChangeListener] = field(default=(), repr=False)

    @property
    def is_lead(self) -> bool:
        principal = self.principal
        return principal is not None and self.inspection.lead_client_id == principal.client_id

    @property
    def actor(self) -> Principal:
        """Who acts, for changes that record it; the platform itself makes none of those."""
        if self.principal is None:
            raise RuntimeError("this change is made by a client, and none is acting")
        return self.principal

    def changed(self, session: Session, change: Change) -> None:
        """Tell every listener, in this transaction, that ``change`` happened."""
        for listener in self.listeners:
            listener(session, self, change)


@dataclass(frozen=True)
class InspectionContexts:
    """Makes contexts: the themes, the clock and the listeners of this deployment."""

    themes: ThemeRegistry
    clock: Clock
    listeners: Sequence[ChangeListener] = ()

    def known_themes(self) -> Collection[str]:
        return self.themes.keys()

    def theme(self, key: str) -> Theme:
        return self.themes.get(key)

    def for_inspection(
        self, principal: Principal | None, inspection: Inspection
    ) -> InspectionContext:
        return InspectionContext(
            principal, inspection, self.theme(inspection.theme), self.clock, self.listeners
        )
