"""The pages (static HTML, JS, CSS shipped in the package) and the sign-in endpoints that turn
a key or token into a cookie session; everything else the pages do goes through /v1."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from simkyc.api import schemas
from simkyc.api.deps import IdempotencyKey, NowDep, ServicesDep, SessionDep
from simkyc.api.locale import LocaleDep
from simkyc.api.schemas import ApplicantIn, ConsentIn, ProofingCreate, ProofingPublic
from simkyc.api.translated import localized
from simkyc.auth.actors import Actor
from simkyc.auth.cookies import (
    COOKIE,
    Kind,
    SessionStore,
    WebSession,
    check_csrf,
    check_origin,
    current,
    store_of,
)
from simkyc.auth.keys import authenticate
from simkyc.auth.models import Role
from simkyc.config import Settings
from simkyc.errors import InvalidCredentials, PermissionDenied
from simkyc.proofing import service as proofing
from simkyc.proofing.models import Purpose
from simkyc.proofing.schemas import Consent
from simkyc.registry import selfservice
from simkyc.web import headers, i18n

STATIC = Path(__file__).parent / "static"
router = APIRouter(prefix="/web", include_in_schema=False)


class SignIn(schemas.Request):
    key: str = Field(min_length=1, max_length=256)


class PortalStart(schemas.Request):
    applicant: ApplicantIn
    consent: ConsentIn


class SessionOut(BaseModel):
    """What the page may know of its session: the CSRF token and who is signed in."""

    csrf: str
    kind: Kind
    proofing_id: str | None = None


class PortalOut(SessionOut):
    session: ProofingPublic


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the pages, their static files and the security headers on `app`."""
    app.state.web_session_ttl_s = settings.web_session_ttl_s
    app.add_middleware(headers.SecurityHeaders)
    app.include_router(router)
    app.include_router(i18n.router)
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")


def _page(name: str, locale: str) -> HTMLResponse:
    """A page in the request's language: `<html lang>` set; its script translates the text."""
    return HTMLResponse(i18n.with_lang((STATIC / name).read_text(encoding="utf-8"), locale),
                        headers={"Vary": "Accept-Language"})


# The pages answer HEAD too (link checkers, uptime probes).
PAGE_METHODS = ["GET", "HEAD"]


@router.api_route("", methods=PAGE_METHODS)
@router.api_route("/", methods=PAGE_METHODS)
def index() -> RedirectResponse:
    return RedirectResponse("/web/agent")


@router.api_route("/agent", methods=PAGE_METHODS)
def agent_page(locale: LocaleDep) -> HTMLResponse:
    """The agent's kiosk."""
    return _page("agent.html", locale)


@router.api_route("/citizen", methods=PAGE_METHODS)
def citizen_page(locale: LocaleDep) -> HTMLResponse:
    """The citizen's portal."""
    return _page("citizen.html", locale)


def _store(request: Request) -> SessionStore:
    store = store_of(request)
    assert store is not None  # install() sets the TTL; the routes run after startup
    return store


def _sign_in(request: Request, response: Response, settings: Settings, *, db: Session,
             token: str, kind: Kind, proofing_id: str | None = None,
             expires_at: float | None = None) -> SessionOut:
    found = _current_or_none(request, db)
    if found is not None:
        _store(request).close(db, found[0])
    sid, session = _store(request).open(db, token=token, kind=kind, now=time.time(),
                                        proofing_id=proofing_id, expires_at=expires_at)
    response.set_cookie(COOKIE, sid, max_age=int(session.expires_at - time.time()), path="/",
                        secure=settings.web_secure_cookie, httponly=True, samesite="strict")
    return _out(session)


def _out(session: WebSession) -> SessionOut:
    return SessionOut(csrf=session.csrf, kind=session.kind, proofing_id=session.proofing_id)


def _current_or_none(request: Request, db: Session) -> tuple[str, WebSession] | None:
    """The session, or None when there is none or it ended."""
    try:
        return current(request, db)
    except InvalidCredentials:
        return None


@router.post("/session")
def sign_in(body: SignIn, request: Request, response: Response, *, db: SessionDep,
            now: NowDep, services: ServicesDep) -> SessionOut:
    """An agent's API key or a citizen's token becomes an HttpOnly cookie session."""
    check_origin(request)
    actor = authenticate(db, token=body.key.strip(), now=now)
    kinds = {Role.AGENT: Kind.AGENT, Role.CITIZEN: Kind.CITIZEN}
    if actor.role not in kinds:
        raise PermissionDenied("these pages are for agents and citizens.")
    return _sign_in(request, response, services.settings, db=db, token=body.key.strip(),
                    kind=kinds[actor.role])


@router.get("/session")
def get_session(request: Request, db: SessionDep) -> SessionOut:
    """The page's session after a reload (the CSRF token lives in the page's memory only)."""
    found = current(request, db)
    if found is None:
        raise InvalidCredentials("not signed in.")
    return _out(found[1])


@router.post("/session/end", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(request: Request, response: Response, db: SessionDep) -> None:
    """Forget the session (CSRF-checked like every state change)."""
    found = _current_or_none(request, db)
    if found is not None:
        check_csrf(request, found[1])
        _store(request).close(db, found[0])
    response.delete_cookie(COOKIE, path="/")


def _portal_actor(services: ServicesDep, db: SessionDep, now: NowDep) -> tuple[Actor, str]:
    key = services.settings.web_portal_key
    if key is None:
        raise PermissionDenied("this service has no online portal; sign in with the token "
                               "a shop gave you.")
    token = key.get_secret_value()
    return authenticate(db, token=token, now=now), token


@router.post("/portal/sessions", status_code=status.HTTP_201_CREATED)
def portal_start(body: PortalStart, request: Request, response: Response, *, db: SessionDep,
                 now: NowDep, services: ServicesDep, locale: LocaleDep,
                 key: IdempotencyKey = None) -> PortalOut:
    """A citizen starts proving themselves: a self-service session under the portal's key,
    and a portal cookie session that reaches only that proofing session."""
    check_origin(request)
    actor, token = _portal_actor(services, db, now)
    create = ProofingCreate(purpose=Purpose.SELF_SERVICE, applicant=body.applicant,
                            consent=body.consent)
    started = services.flow().start(
        db, actor=actor, purpose=create.purpose, typed=create.typed_document(),
        consent=Consent(create.consent.given, create.consent.version, now), now=now, key=key,
        request=create.model_dump(mode="json"))
    opened = localized(ProofingPublic.of(started.view, started.checks, reader=actor.role), locale)
    out = _sign_in(request, response, services.settings, db=db, token=token,
                   kind=Kind.PORTAL, proofing_id=opened.id)
    return PortalOut(**out.model_dump(), session=opened)


@router.post("/portal/finish")
def portal_finish(request: Request, response: Response, *, db: SessionDep, now: NowDep,
                  services: ServicesDep) -> SessionOut:
    """The approved self-service session becomes a citizen session (the token stays on the
    server); a session still pending or in review is refused with the API's error."""
    found = current(request, db)
    if found is None or found[1].kind is not Kind.PORTAL or found[1].proofing_id is None:
        raise PermissionDenied("prove yourself first.")
    check_csrf(request, found[1])
    actor, _ = _portal_actor(services, db, now)
    proofing.get_session(db, actor=actor, proofing_id=found[1].proofing_id)
    issued = selfservice.issue_citizen_token(
        db, proofing_id=found[1].proofing_id, ttl_s=services.settings.citizen_token_ttl_s,
        now=now)
    ends = issued.expires_at.timestamp() if issued.expires_at else None
    return _sign_in(request, response, services.settings, db=db, token=issued.token,
                    kind=Kind.CITIZEN, expires_at=ends)
