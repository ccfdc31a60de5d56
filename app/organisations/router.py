from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import DbSession
from app.core.edge import edge
from app.core.errors import error_responses
from app.core.pagination import Page, PageParams, page_params
from app.organisations import service
from app.organisations.kinds import OrganisationKind
from app.organisations.schemas import (
    ClientCreate,
    ClientCredentials,
    ClientRead,
    CredentialEventRead,
    OrganisationCreate,
    OrganisationRead,
)

router = APIRouter(prefix="/v1", tags=["organisations"])
COMMON_ERRORS = error_responses(401, 403)
CREDENTIALS_NOT_KEPT = (
    "The first answer to this key held a client secret, which is shown once and never kept "
    "for replay; rotate the client's secret if it was lost."
)


@router.post(
    "/organisations",
    status_code=201,
    response_model=OrganisationRead,
    responses=error_responses(401, 403, 409, 422),
    summary="Register an organisation",
    description="One organisation per kind and name: a name differing only in case or spacing "
    "from one of the same kind is 409 `organisation_exists`, with `existing_organisation_id`.",
)
def create_organisation(
    body: OrganisationCreate,
    session: DbSession,
    principal: Principal = authorize("create_organisation"),
) -> OrganisationRead:
    organisation = service.create_organisation(session, principal, body.name, body.kind)
    return OrganisationRead.model_validate(organisation)


@router.get(
    "/organisations",
    response_model=Page[OrganisationRead],
    responses=COMMON_ERRORS,
    summary="List organisations",
)
def list_organisations(
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    kind: Annotated[OrganisationKind | None, Query(description="Only this kind")] = None,
    principal: Principal = authorize("list_organisations"),
) -> Page[OrganisationRead]:
    rows, total = service.list_organisations(
        session, kind=kind, limit=paging.limit, offset=paging.offset
    )
    return Page.build([OrganisationRead.model_validate(row) for row in rows], paging, total)


@router.get(
    "/organisations/{organisation_id}",
    response_model=OrganisationRead,
    responses=error_responses(401, 403, 404),
    summary="Get an organisation",
)
def get_organisation(
    organisation_id: uuid.UUID,
    session: DbSession,
    principal: Principal = authorize("get_organisation"),
) -> OrganisationRead:
    return OrganisationRead.model_validate(service.get_organisation(session, organisation_id))


@router.post(
    "/organisations/{organisation_id}/clients",
    status_code=201,
    response_model=ClientCredentials,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Create an API client; its secret is shown once",
    description=(
        "The organisation's administrators (`org_admin`) create its clients. The operator "
        "may only where the organisation has no active administrator (its first one, or a "
        "legacy organisation): else 403 `organisation_has_administrator`. Another "
        "organisation answers an administrator 404."
    ),
)
@edge(not_replayable=CREDENTIALS_NOT_KEPT)
def create_client(
    organisation_id: uuid.UUID,
    body: ClientCreate,
    session: DbSession,
    principal: Principal = authorize("create_client"),
) -> ClientCredentials:
    issued = service.issue_client(session, principal, organisation_id, body.name, body.roles)
    return ClientCredentials(client_id=issued.client.id, client_secret=issued.secret)


@router.get(
    "/organisations/{organisation_id}/clients",
    response_model=list[ClientRead],
    responses=error_responses(401, 403, 404),
    summary="List an organisation's API clients",
)
def list_clients(
    organisation_id: uuid.UUID,
    session: DbSession,
    principal: Principal = authorize("list_clients"),
) -> list[ClientRead]:
    clients = service.list_clients(session, principal, organisation_id)
    return [ClientRead.model_validate(client) for client in clients]


@router.post(
    "/clients/{client_id}/disable",
    response_model=ClientRead,
    responses=error_responses(401, 403, 404),
    summary="Disable an API client; its tokens stop working at once",
    description=(
        "By the organisation's administrators, or by the operator in an emergency (in any "
        "organisation); listed to the organisation's administrators either way."
    ),
)
def disable_client(
    client_id: uuid.UUID,
    session: DbSession,
    principal: Principal = authorize("disable_client"),
) -> ClientRead:
    client = service.disable_client(session, principal, client_id)
    return ClientRead.model_validate(client)


@router.post(
    "/clients/{client_id}/secret",
    response_model=ClientCredentials,
    responses=error_responses(401, 403, 404, 409),
    summary="Rotate a client's secret; earlier tokens stop working",
    description=(
        "By the organisation's administrators (their own secrets too), or by the operator "
        "where the organisation has no active administrator (else 403 "
        "`organisation_has_administrator`)."
    ),
)
@edge(not_replayable=CREDENTIALS_NOT_KEPT)
def rotate_client_secret(
    client_id: uuid.UUID,
    session: DbSession,
    principal: Principal = authorize("rotate_client_secret"),
) -> ClientCredentials:
    issued = service.rotate_client_secret(session, principal, client_id)
    return ClientCredentials(client_id=issued.client.id, client_secret=issued.secret)


@router.get(
    "/organisations/{organisation_id}/credential-events",
    response_model=Page[CredentialEventRead],
    responses=error_responses(401, 403, 404, 422),
    summary="Every change to the organisation's credentials, and who made it; oldest first",
    description=(
        "Clients created, secrets rotated and clients disabled, whether by the "
        "organisation's administrators or by the operator; never a secret."
    ),
)
def list_credential_events(
    organisation_id: uuid.UUID,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    principal: Principal = authorize("list_credential_events"),
) -> Page[CredentialEventRead]:
    rows, total = service.list_credential_events(
        session, principal, organisation_id, limit=paging.limit, offset=paging.offset
    )
    return Page.build([CredentialEventRead.from_audit(row) for row in rows], paging, total)
