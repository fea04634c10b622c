"""Dependency aliases: route signatures read like sentences (`db: SessionDep, me: AgentDep`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from simkyc.api.startup import Startup
from simkyc.api.state import Services
from simkyc.auth.actors import Actor
from simkyc.auth.cookies import cookie_bearer
from simkyc.auth.keys import authenticate
from simkyc.auth.models import Role
from simkyc.config import Settings
from simkyc.db.idempotency import MAX_KEY_LENGTH
from simkyc.errors import (
    ImageTooLarge,
    InvalidCredentials,
    ModelsLoading,
    PermissionDenied,
    SimkycError,
)
from simkyc.faces.pipeline import FacePipeline
from simkyc.privacy.keyring import Keyring


async def get_services(request: Request) -> Services:
    """What the app built at startup (waiting for it while the models load)."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is not None:
        return services
    startup: Startup | None = getattr(request.app.state, "startup", None)
    if startup is None:
        raise ModelsLoading("the service has not started.")
    return await startup.services()


ServicesDep = Annotated[Services, Depends(get_services)]


def get_db(services: ServicesDep) -> Iterator[Session]:
    """One database session per request, rolled back if the request fails half-way."""
    with services.sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


def get_keyring(services: ServicesDep) -> Keyring:
    return services.keyring


def get_pipeline(services: ServicesDep) -> FacePipeline:
    return services.pipeline


def get_now(services: ServicesDep) -> datetime:
    """The request's time (the app's clock; tests move it)."""
    return services.clock()


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
KeyringDep = Annotated[Keyring, Depends(get_keyring)]
PipelineDep = Annotated[FacePipeline, Depends(get_pipeline)]
NowDep = Annotated[datetime, Depends(get_now)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=MAX_KEY_LENGTH,
           description="Retrying with the same key returns the first response."),
]


# Declares the bearer scheme in the OpenAPI spec; the checks below give our own errors.
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="An API key (staff) or a citizen token.")


def get_actor(
    request: Request, db: SessionDep, now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Actor:
    """The caller, from `Authorization: Bearer <api key or citizen token>`, or from the web
    pages' cookie session (simkyc.auth.cookies: CSRF-checked)."""
    authorization = request.headers.get("authorization")
    cookie = cookie_bearer(request, db) if authorization is None else None
    if cookie is not None:
        return authenticate(db, token=cookie, now=now)
    if credentials is None or not credentials.credentials.strip():
        raise InvalidCredentials("send 'Authorization: Bearer <api key>'.")
    return authenticate(db, token=credentials.credentials.strip(), now=now)


def role(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting only these roles (the services check the operator too)."""

    def check(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if actor.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise PermissionDenied(f"this needs the role {allowed}.")
        return actor

    return check


ActorDep = Annotated[Actor, Depends(get_actor)]
AgentDep = Annotated[Actor, Depends(role(Role.AGENT))]
ReviewerDep = Annotated[Actor, Depends(role(Role.REVIEWER))]
OperatorStaffDep = Annotated[Actor, Depends(role(Role.AGENT, Role.REVIEWER))]
StaffDep = Annotated[Actor, Depends(role(Role.AGENT, Role.REVIEWER, Role.AUDITOR, Role.ADMIN))]
AuditorDep = Annotated[Actor, Depends(role(Role.AUDITOR, Role.ADMIN))]
AdminDep = Annotated[Actor, Depends(role(Role.ADMIN))]
CitizenDep = Annotated[Actor, Depends(role(Role.CITIZEN))]


async def read_upload(upload: UploadFile, limit: int,
                      too_large: type[SimkycError] = ImageTooLarge) -> bytes:
    """An uploaded file's bytes, refusing more than `limit` without reading it all."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise too_large(f"{upload.filename or 'the upload'} exceeds {limit:,} bytes.")
    return data
