"""The challenge protocol: random actions, one answer per nonce, expiry, foreign nonces, lockout."""

from __future__ import annotations

import pytest

from simkyc.errors import (
    ChallengeAlreadyUsed,
    ChallengeExpired,
    ChallengeForeign,
    ChallengeUnknown,
    LivenessLocked,
)
from simkyc.liveness.challenge import HEAD_MOVES, Action, AttemptLimiter, ChallengeBook


def test_challenges_are_random_distinct_and_include_a_head_move() -> None:
    book = ChallengeBook(ttl_s=60)
    seen = set()
    for i in range(200):
        challenge = book.issue(session_id=f"s{i}", now=0.0)
        assert 2 <= len(challenge.actions) <= 3
        assert len(set(challenge.actions)) == len(challenge.actions)
        assert set(challenge.actions) & HEAD_MOVES  # the depth check always has motion
        assert len(challenge.prompts()) == len(challenge.actions)
        seen.add(challenge.actions)
    assert len(seen) > 20
    assert len({book.issue(session_id="x", now=0.0).nonce for _ in range(50)}) == 50


def test_a_challenge_is_answered_once() -> None:
    book = ChallengeBook(ttl_s=60)
    challenge = book.issue(session_id="s1", now=100.0)
    assert book.redeem(nonce=challenge.nonce, session_id="s1", now=130.0) == challenge
    with pytest.raises(ChallengeAlreadyUsed) as caught:
        book.redeem(nonce=challenge.nonce, session_id="s1", now=131.0)
    assert caught.value.code == "CHALLENGE_ALREADY_USED"


def test_expired_unknown_and_foreign_nonces_have_their_own_codes() -> None:
    book = ChallengeBook(ttl_s=60)
    challenge = book.issue(session_id="s1", now=0.0)
    with pytest.raises(ChallengeForeign):
        book.redeem(nonce=challenge.nonce, session_id="s2", now=1.0)
    with pytest.raises(ChallengeExpired):
        book.redeem(nonce=challenge.nonce, session_id="s1", now=61.0)
    with pytest.raises(ChallengeUnknown):
        book.redeem(nonce="made-up", session_id="s1", now=1.0)


def test_a_foreign_attempt_does_not_burn_the_owners_challenge() -> None:
    book = ChallengeBook(ttl_s=60)
    challenge = book.issue(session_id="s1", now=0.0)
    with pytest.raises(ChallengeForeign):
        book.redeem(nonce=challenge.nonce, session_id="s2", now=1.0)
    assert book.redeem(nonce=challenge.nonce, session_id="s1", now=2.0).actions == challenge.actions


def test_five_failures_in_three_minutes_lock_out_for_thirty() -> None:
    limiter = AttemptLimiter(max_failures=5, window_s=180, lockout_s=1800)
    keys = ("session-1", "device:abc")
    for t in range(4):
        limiter.record_failure(keys, now=t * 30.0)
        limiter.check(keys, now=t * 30.0)
    limiter.record_failure(keys, now=150.0)
    with pytest.raises(LivenessLocked) as caught:
        limiter.check(("device:abc",), now=151.0)
    assert caught.value.details()["retry_after_s"] == 1799
    limiter.check(("device:abc",), now=150.0 + 1800.0)  # over


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    limiter = AttemptLimiter(max_failures=5, window_s=180, lockout_s=1800)
    for t in range(10):
        limiter.record_failure(("s",), now=t * 50.0)
    limiter.check(("s",), now=500.0)


def test_actions_are_named_in_the_applicants_terms() -> None:
    assert {a.value for a in Action} == {"turn_left", "turn_right", "blink", "look_up"}
