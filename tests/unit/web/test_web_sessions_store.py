"""The web pages' session store: sessions end at their TTL or the token's expiry, and a
portal session's scope is its own proofing session's steps only."""

from __future__ import annotations

import pytest

from simkyc.web.sessions import PORTAL_STEPS, Kind, SessionStore


def test_a_session_ends_at_its_ttl_or_its_tokens_expiry() -> None:
    store = SessionStore(ttl_s=100.0)
    sid, session = store.open(token="t", kind=Kind.AGENT, now=1000.0)
    assert store.get(sid, now=1099.0) == session
    assert store.get(sid, now=1100.0) is None
    short, _ = store.open(token="c", kind=Kind.CITIZEN, now=1000.0, expires_at=1010.0)
    assert store.get(short, now=1010.0) is None
    other, _ = store.open(token="u", kind=Kind.AGENT, now=1000.0)
    assert session.csrf != store.get(other, now=1000.0).csrf  # type: ignore[union-attr]
    store.close(other)
    assert store.get(other, now=1000.0) is None


@pytest.mark.parametrize(("path", "reached"), [
    ("/v1/proofing-sessions/abc", True),
    ("/v1/proofing-sessions/abc/document", True),
    ("/v1/proofing-sessions/abc/liveness-challenges", True),
    ("/v1/proofing-sessions/abc/conclude", True),
    ("/v1/proofing-sessions/abc/citizen-token", False),
    ("/v1/proofing-sessions/abc/selfie/x", False),
    ("/v1/proofing-sessions", False),
    ("/v1/lines", False),
])
def test_the_portal_scope_is_its_sessions_evidence_steps(path: str, reached: bool) -> None:
    step = PORTAL_STEPS.fullmatch(path)
    assert (step is not None and step["id"] == "abc") is reached
