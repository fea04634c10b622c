"""The challenge protocol against its database store: random actions, one answer per nonce,
expiry, foreign nonces, one open challenge per session, attempts and lockout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from simkyc.errors import (
    ChallengeAlreadyUsed,
    ChallengeExpired,
    ChallengeForeign,
    ChallengeSuperseded,
    ChallengeUnknown,
)
from simkyc.liveness import store
from simkyc.liveness.challenge import HEAD_MOVES, Action, ChallengeBook
from simkyc.liveness.store import LivenessChallenge, LockoutRule
from simkyc.tables import metadata

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RULE = LockoutRule(max_attempts=5, window_s=180, lockout_s=1800)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def db() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_challenges_are_random_distinct_and_include_a_head_move() -> None:
    book = ChallengeBook(ttl_s=60)
    seen = set()
    for i in range(200):
        challenge = book.new(session_id=f"s{i}", now=0.0)
        assert 2 <= len(challenge.actions) <= 3
        assert len(set(challenge.actions)) == len(challenge.actions)
        assert set(challenge.actions) & HEAD_MOVES  # the depth check always has motion
        assert len(challenge.prompts()) == len(challenge.actions)
        seen.add(challenge.actions)
    assert len(seen) > 20
    assert len({book.new(session_id="x", now=0.0).nonce for _ in range(50)}) == 50


def test_a_challenge_is_answered_once_and_its_nonce_is_not_stored(db: Session) -> None:
    challenge = store.issue(db, book=ChallengeBook(ttl_s=60), proofing_id="s1", now=at(100))
    assert challenge.nonce not in {row.nonce_sha256 for row in db.query(LivenessChallenge)}
    redeemed = store.redeem(db, nonce=challenge.nonce, proofing_id="s1", now=at(130))
    assert redeemed.actions == challenge.actions
    with pytest.raises(ChallengeAlreadyUsed) as caught:
        store.redeem(db, nonce=challenge.nonce, proofing_id="s1", now=at(131))
    assert caught.value.code == "CHALLENGE_ALREADY_USED"


def test_expired_unknown_and_foreign_nonces_have_their_own_codes(db: Session) -> None:
    challenge = store.issue(db, book=ChallengeBook(ttl_s=60), proofing_id="s1", now=at(0))
    with pytest.raises(ChallengeForeign):
        store.redeem(db, nonce=challenge.nonce, proofing_id="s2", now=at(1))
    with pytest.raises(ChallengeExpired):
        store.redeem(db, nonce=challenge.nonce, proofing_id="s1", now=at(61))
    with pytest.raises(ChallengeUnknown):
        store.redeem(db, nonce="made-up", proofing_id="s1", now=at(1))


def test_a_foreign_attempt_does_not_burn_the_owners_challenge(db: Session) -> None:
    challenge = store.issue(db, book=ChallengeBook(ttl_s=60), proofing_id="s1", now=at(0))
    with pytest.raises(ChallengeForeign):
        store.redeem(db, nonce=challenge.nonce, proofing_id="s2", now=at(1))
    redeemed = store.redeem(db, nonce=challenge.nonce, proofing_id="s1", now=at(2))
    assert redeemed.actions == challenge.actions


def test_issuing_a_new_challenge_closes_the_open_one(db: Session) -> None:
    book = ChallengeBook(ttl_s=60)
    first = store.issue(db, book=book, proofing_id="s1", now=at(0))
    second = store.issue(db, book=book, proofing_id="s1", now=at(1))
    with pytest.raises(ChallengeSuperseded):
        store.redeem(db, nonce=first.nonce, proofing_id="s1", now=at(2))
    store.redeem(db, nonce=second.nonce, proofing_id="s1", now=at(2))


def test_the_sixth_attempt_in_three_minutes_locks_out_for_thirty(db: Session) -> None:
    keys = ("session:1", "device:abc")
    for t in range(5):
        assert store.gate(db, keys=keys, rule=RULE, now=at(t * 30), adding=1) is None
        store.count_attempt(db, keys=keys, now=at(t * 30))
    # The fifth challenge can still be answered; a sixth cannot be issued.
    assert store.gate(db, keys=keys, rule=RULE, now=at(150), adding=0) is None
    refused = store.gate(db, keys=keys, rule=RULE, now=at(150), adding=1)
    assert refused is not None and refused.details()["retry_after_s"] == 1800
    locked = store.gate(db, keys=("device:abc",), rule=RULE, now=at(151), adding=0)
    assert locked is not None and locked.details()["retry_after_s"] == 1799
    assert store.gate(db, keys=("device:abc",), rule=RULE, now=at(150 + 1800), adding=1) is None


def test_attempts_spread_beyond_the_window_do_not_lock(db: Session) -> None:
    for t in range(10):
        assert store.gate(db, keys=("s",), rule=RULE, now=at(t * 50), adding=1) is None
        store.count_attempt(db, keys=("s",), now=at(t * 50))


def test_purge_drops_what_can_no_longer_matter(db: Session) -> None:
    store.issue(db, book=ChallengeBook(ttl_s=60), proofing_id="s1", now=at(0))
    store.count_attempt(db, keys=("s",), now=at(0))
    assert store.purge(db, now=at(3600), keep_s=600) == 2


def test_actions_are_named_in_the_applicants_terms() -> None:
    assert {a.value for a in Action} == {"turn_left", "turn_right", "blink", "look_up"}
