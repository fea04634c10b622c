"""Cookie sessions of the web pages: the browser holds a random id (HttpOnly, SameSite=Strict),
the server the bearer token it stands for, so the API key never reaches the page's script.
The server side is a database row (simkyc.auth.cookie_store): every process serves every session.

State-changing requests must echo the session's CSRF token in `X-CSRF-Token` (the page gets
it from the sign-in response and keeps it in memory). A portal session (a citizen proving
themselves under the portal's agent key) reaches only its own proofing session.
"""

from __future__ import annotations

import hmac
import re
import time
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from starlette.requests import Request

from simkyc.auth.cookie_store import Kind, SessionStore, WebSession
from simkyc.errors import InvalidCredentials, PermissionDenied
from simkyc.privacy.keyring import Keyring

__all__ = ["COOKIE", "Kind", "SessionStore", "WebSession", "cookie_bearer", "current"]

COOKIE = "simkyc_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a portal session may call: its own proofing session's evidence steps and decision.
PORTAL_STEPS = re.compile(
    r"/v1/proofing-sessions/(?P<id>[^/]+)(/(document|selfie|liveness-challenges|liveness|"
    r"conclude))?")


class CsrfRejected(PermissionDenied):
    """A state-changing request from a cookie session without its CSRF token."""

    code = "CSRF_TOKEN_INVALID"
    status = 403


class SessionEnded(InvalidCredentials):
    """The cookie names no live session (signed out or expired)."""

    code = "SESSION_ENDED"
    status = 401


def store_of(request: Request) -> SessionStore | None:
    """The sessions' store, when the web pages are installed (and the app has started)."""
    ttl_s: float | None = getattr(request.app.state, "web_session_ttl_s", None)
    services = getattr(request.app.state, "services", None)  # the app's Services, once started
    keyring: Keyring | None = getattr(services, "keyring", None)
    if ttl_s is None or keyring is None:
        return None
    return SessionStore(keyring=keyring, ttl_s=ttl_s)


def current(request: Request, db: Session) -> tuple[str, WebSession] | None:
    """The cookie's session id and session; None without a cookie; SESSION_ENDED if stale."""
    store, sid = store_of(request), request.cookies.get(COOKIE)
    if store is None or not sid:
        return None
    session = store.get(db, sid, now=time.time())
    if session is None:
        raise SessionEnded("your sign-in has ended; please sign in again.")
    return sid, session


def check_csrf(request: Request, session: WebSession) -> None:
    """Unsafe methods must carry the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfRejected("the page's security token is missing or stale; reload the page.")


def check_origin(request: Request) -> None:
    """A sign-in comes from our own pages: a browser's Origin header, when sent, names this
    host (no login CSRF from another site's form)."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfRejected("sign in from this service's own pages.")


def cookie_bearer(request: Request, db: Session) -> str | None:
    """The bearer token of the request's cookie session (CSRF and portal scope checked),
    or None when the request has no session cookie."""
    found = current(request, db)
    if found is None:
        return None
    session = found[1]
    check_csrf(request, session)
    if session.kind is Kind.PORTAL:
        step = PORTAL_STEPS.fullmatch(request.url.path)
        if step is None or step["id"] != session.proofing_id:
            raise PermissionDenied("the portal reaches only your own proofing session.")
    return session.token
