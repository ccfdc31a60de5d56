"""A small demo world: one area, its agencies, the inspectorates and an inspection per theme.

Every client is made as the platform itself (no actor), which the operator's limits do not
bind, so the council and Ofsted can have their own administrators from the start.

Running it again reuses the organisations and inspections and rotates the demo clients'
secrets, because a secret is only ever shown when it is made.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import ApiClient
from app.auth.roles import Role
from app.cli.bootstrap import platform_organisation
from app.inspections import service as inspections
from app.inspections.context import InspectionContexts
from app.inspections.models import Inspection
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation
from app.organisations.service import create_organisation, issue_client, rotate_client_secret

AREA = "Demoshire"
DEMO_TEAM = ("ofsted_inspector", "cqc_inspector", "police_inspector", "probation_inspector")
ORGANISATIONS: list[tuple[str, OrganisationKind]] = [
    ("Demoshire County Council", OrganisationKind.LOCAL_AUTHORITY),
    ("Demoshire Integrated Care Board", OrganisationKind.HEALTH),
    ("Demoshire Police", OrganisationKind.POLICE),
    ("Demoshire Youth Offending Service", OrganisationKind.YOUTH_OFFENDING),
    ("Demoshire Probation Delivery Unit", OrganisationKind.PROBATION),
    ("Ofsted", OrganisationKind.OFSTED),
    ("Care Quality Commission", OrganisationKind.CQC),
    ("HMICFRS", OrganisationKind.HMICFRS),
    ("HMI Probation", OrganisationKind.HMI_PROBATION),
]
CLIENTS: list[tuple[str, str, list[Role]]] = [
    ("operator", "JTAI Exchange platform", [Role.OPERATOR]),
    ("lead_inspector", "Ofsted", [Role.LEAD_INSPECTOR, Role.INSPECTOR]),
    ("ofsted_inspector", "Ofsted", [Role.INSPECTOR]),
    ("cqc_inspector", "Care Quality Commission", [Role.INSPECTOR]),
    ("police_inspector", "HMICFRS", [Role.INSPECTOR]),
    ("probation_inspector", "HMI Probation", [Role.INSPECTOR]),
    ("local_authority", "Demoshire County Council", [Role.AGENCY]),
    ("health", "Demoshire Integrated Care Board", [Role.AGENCY]),
    ("police", "Demoshire Police", [Role.AGENCY]),
    ("youth_offending", "Demoshire Youth Offending Service", [Role.AGENCY]),
    ("probation", "Demoshire Probation Delivery Unit", [Role.AGENCY]),
    # The council's and Ofsted's own administrators: they manage those organisations'
    # clients, and the operator no longer may (it may still disable one in an emergency).
    ("local_authority_admin", "Demoshire County Council", [Role.ORG_ADMIN]),
    ("ofsted_admin", "Ofsted", [Role.ORG_ADMIN]),
]
LONDON = ZoneInfo("Europe/London")


def _organisation(session: Session, name: str, kind: OrganisationKind) -> Organisation:
    found = session.execute(
        select(Organisation).where(Organisation.name == name, Organisation.kind == kind)
    ).scalar_one_or_none()
    return found or create_organisation(session, None, name, kind)


def _client(
    session: Session, organisation: Organisation, name: str, roles: list[Role]
) -> dict[str, str]:
    client_name = f"demo {name}"
    existing = session.execute(
        select(ApiClient).where(
            ApiClient.organisation_id == organisation.id, ApiClient.name == client_name
        )
    ).scalar_one_or_none()
    # As the platform itself (actor None), which no organisation's administrator binds.
    if existing is None:
        issued = issue_client(session, None, organisation.id, client_name, roles)
    else:
        issued = rotate_client_secret(session, None, existing.id)
    return {"client_id": str(issued.client.id), "client_secret": issued.secret}


def _next_weekday(today: date, weekday: int) -> datetime:
    days = (weekday - today.weekday()) % 7 or 7
    return datetime.combine(today + timedelta(days=days), time(9, 0), tzinfo=LONDON)


def _inspection(
    session: Session,
    contexts: InspectionContexts,
    theme: str,
    authority: Organisation,
    participants: list[Organisation],
    lead: str,
    team: list[uuid.UUID],
) -> tuple[Inspection, bool]:
    found = session.execute(
        select(Inspection).where(
            Inspection.theme == theme, Inspection.local_authority_id == authority.id
        )
    ).scalar_one_or_none()
    if found is not None:
        return found, False
    notification = _next_weekday(date.today(), contexts.theme(theme).notification.weekday_index)
    request = inspections.NewInspection(
        f"{AREA} ({theme})", authority.id, theme, notification, tuple(team)
    )
    # The same use cases as the API's, so the inspection gets everything the API would give it.
    context = inspections.open_inspection(session, contexts, None, request)
    for organisation in participants:
        if context.theme.out_of_scope_reason(organisation.kind.value) is None:
            inspections.add_participant(session, context, organisation.id)
    inspections.set_lead(session, context, uuid.UUID(lead))
    return context.inspection, True


def base_url(host: str, port: int) -> str:
    """Where a client on this machine reaches a server bound to ``host``: a wildcard bind is
    reached on loopback."""
    reachable = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    if ":" in reachable:  # an IPv6 address
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"


def build_demo(session: Session, contexts: InspectionContexts, url: str) -> dict[str, Any]:
    platform = platform_organisation(session)
    organisations = {name: _organisation(session, name, kind) for name, kind in ORGANISATIONS}
    organisations[platform.name] = platform
    credentials = {
        key: _client(session, organisations[org_name], key, roles)
        for key, org_name, roles in CLIENTS
    }
    authority = organisations["Demoshire County Council"]
    others = [o for o in organisations.values() if o.kind not in {OrganisationKind.PLATFORM}]
    lead = credentials["lead_inspector"]["client_id"]
    # Every demo inspector is on both teams; another inspector of theirs would see neither.
    team = [uuid.UUID(credentials[key]["client_id"]) for key in DEMO_TEAM]
    made = {
        theme: _inspection(session, contexts, theme, authority, others, lead, team)
        for theme in ("mental-health", "domestic-abuse")
    }
    return {
        "base_url": url,
        "token_url": "/v1/auth/token",
        "inspections": {theme: str(inspection.id) for theme, (inspection, _) in made.items()},
        "new": any(created for _, created in made.values()),
        "clients": credentials,
    }


def write_world(var_dir: Path, world: dict[str, Any]) -> Path:
    """The demo world as a file a shell can read (``python3 -c``), mode 0600 from its
    creation: it holds secrets. Replaced whole on each run."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "demo.json"
    partial = var_dir / "demo.json.tmp"
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as output:
        json.dump(world, output, indent=2)
    partial.replace(path)
    return path
