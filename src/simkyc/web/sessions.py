"""Cookie sessions of the web pages: the browser holds a random id (HttpOnly, SameSite=Strict),
the server the bearer token it stands for, so the API key never reaches the page's script.

State-changing requests must echo the session's CSRF token in `X-CSRF-Token` (the page gets
it from the sign-in response and keeps it in memory). A portal session (a citizen proving
themselves under the portal's agent key) reaches only its own proofing session.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from starlette.requests import Request

from simkyc.errors import InvalidCredentials, PermissionDenied

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


class SessionEnded(InvalidCredentials):
    """The cookie names no live session (signed out, expired, or the server restarted)."""

    code = "SESSION_ENDED"


class Kind(StrEnum):
    """Who the session is for."""

    AGENT = "agent"
    PORTAL = "portal"
    CITIZEN = "citizen"


@dataclass(frozen=True)
class WebSession:
    """One signed-in page: the bearer it stands for (never sent to the browser)."""

    token: str
    csrf: str
    kind: Kind
    expires_at: float
    proofing_id: str | None = None


class SessionStore:
    """Sessions in memory (one process; a restart signs everyone out)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def open(self, *, token: str, kind: Kind, now: float, proofing_id: str | None = None,
             expires_at: float | None = None) -> tuple[str, WebSession]:
        """A new session id (the cookie's value) and its session."""
        sid = secrets.token_urlsafe(32)
        ends = min(now + self.ttl_s, expires_at or float("inf"))
        session = WebSession(token=token, csrf=secrets.token_urlsafe(32), kind=kind,
                             expires_at=ends, proofing_id=proofing_id)
        with self._lock:
            self._drop_expired(now)
            self._sessions[sid] = session
        return sid, session

    def get(self, sid: str, *, now: float) -> WebSession | None:
        with self._lock:
            session = self._sessions.get(sid)
        return session if session is not None and session.expires_at > now else None

    def close(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def _drop_expired(self, now: float) -> None:
        for sid in [s for s, v in self._sessions.items() if v.expires_at <= now]:
            del self._sessions[sid]


def store_of(request: Request) -> SessionStore | None:
    """The app's store, when the web pages are installed."""
    store: SessionStore | None = getattr(request.app.state, "web_sessions", None)
    return store


def current(request: Request) -> tuple[str, WebSession] | None:
    """The cookie's session id and session; None without a cookie; SESSION_ENDED if stale."""
    store, sid = store_of(request), request.cookies.get(COOKIE)
    if store is None or not sid:
        return None
    session = store.get(sid, now=time.time())
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


def cookie_bearer(request: Request) -> str | None:
    """The bearer token of the request's cookie session (CSRF and portal scope checked),
    or None when the request has no session cookie."""
    found = current(request)
    if found is None:
        return None
    session = found[1]
    check_csrf(request, session)
    if session.kind is Kind.PORTAL:
        step = PORTAL_STEPS.fullmatch(request.url.path)
        if step is None or step["id"] != session.proofing_id:
            raise PermissionDenied("the portal reaches only your own proofing session.")
    return session.token
