"""The challenge protocol: a random sequence of actions, a nonce, an expiry, one answer."""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from enum import StrEnum

from simkyc.errors import (
    ChallengeAlreadyUsed,
    ChallengeExpired,
    ChallengeForeign,
    ChallengeUnknown,
    LivenessLocked,
)


class Action(StrEnum):
    """What the applicant is asked to do, in their own terms (their left, not the image's)."""

    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    BLINK = "blink"
    LOOK_UP = "look_up"


PROMPTS = {
    Action.TURN_LEFT: "Turn your head to your left",
    Action.TURN_RIGHT: "Turn your head to your right",
    Action.BLINK: "Blink",
    Action.LOOK_UP: "Look up",
}


@dataclass(frozen=True)
class Challenge:
    """An issued challenge; `used` once it has been answered."""

    nonce: str
    session_id: str
    actions: tuple[Action, ...]
    issued_at: float
    expires_at: float
    slot_s: float | None = None  # prompts shown one every slot_s seconds from the start
    used: bool = False

    def prompts(self) -> list[str]:
        """What to show the applicant, one at a time."""
        return [PROMPTS[action] for action in self.actions]


# Head moves give the depth check the motion it needs; a blink alone would not.
HEAD_MOVES = frozenset({Action.TURN_LEFT, Action.TURN_RIGHT, Action.LOOK_UP})


def random_actions(rng: secrets.SystemRandom, low: int = 2, high: int = 3) -> tuple[Action, ...]:
    """2-3 distinct actions in random order, at least one a head move (distinct: a repeat
    proves nothing more)."""
    while True:
        actions = tuple(rng.sample(list(Action), rng.randint(low, high)))
        if HEAD_MOVES & set(actions):
            return actions


@dataclass
class ChallengeBook:
    """Issues and redeems challenges; in memory, thread-safe (the registry persists later)."""

    ttl_s: float = 60.0
    slot_s: float | None = 2.5
    _issued: dict[str, Challenge] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: secrets.SystemRandom = field(default_factory=secrets.SystemRandom)

    def issue(self, *, session_id: str, now: float) -> Challenge:
        """A fresh challenge for this proofing session."""
        challenge = Challenge(
            nonce=secrets.token_urlsafe(24),
            session_id=session_id,
            actions=random_actions(self._rng),
            issued_at=now,
            expires_at=now + self.ttl_s,
            slot_s=self.slot_s,
        )
        with self._lock:
            self._forget_expired(now)
            self._issued[challenge.nonce] = challenge
        return challenge

    def redeem(self, *, nonce: str, session_id: str, now: float) -> Challenge:
        """Mark the challenge answered; each misuse has its own error."""
        with self._lock:
            challenge = self._issued.get(nonce)
            if challenge is None:
                raise ChallengeUnknown("This challenge was never issued; request a new one.")
            if challenge.session_id != session_id:
                raise ChallengeForeign("This challenge belongs to another proofing session.")
            if challenge.used:
                raise ChallengeAlreadyUsed(
                    "This challenge was already answered; request a new one."
                )
            if now > challenge.expires_at:
                raise ChallengeExpired(
                    f"The challenge expired {now - challenge.expires_at:.0f} s ago; "
                    "request a new one."
                )
            self._issued[nonce] = replace(challenge, used=True)
            return challenge

    def _forget_expired(self, now: float) -> None:
        """Drop challenges long past expiry (kept a while so replays get the right error)."""
        stale = [n for n, c in self._issued.items() if now > c.expires_at + 10 * self.ttl_s]
        for nonce in stale:
            del self._issued[nonce]


@dataclass
class AttemptLimiter:
    """After `max_failures` failures within `window_s` for a key, lock it for `lockout_s`."""

    max_failures: int = 5
    window_s: float = 180.0
    lockout_s: float = 1800.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, keys: tuple[str, ...], now: float) -> None:
        """Raise LivenessLocked if any key (proofing session, device) is locked."""
        with self._lock:
            until = max((self._locked_until.get(k, 0.0) for k in keys), default=0.0)
        if now < until:
            raise LivenessLocked(
                f"Too many failed attempts; try again in {(until - now) / 60:.0f} minutes.",
                retry_after=until - now,
            )

    def record_failure(self, keys: tuple[str, ...], now: float) -> None:
        """Count a failed attempt against every key."""
        with self._lock:
            for key in keys:
                recent = self._failures.setdefault(key, deque())
                recent.append(now)
                while recent and recent[0] < now - self.window_s:
                    recent.popleft()
                if len(recent) >= self.max_failures:
                    self._locked_until[key] = now + self.lockout_s
                    recent.clear()
