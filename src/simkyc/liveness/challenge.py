"""The challenge protocol: a random sequence of actions, a nonce, an expiry, one answer
(stored and redeemed by simkyc.liveness.store)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum


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
    """An issued challenge (whether it was answered is the store's: simkyc.liveness.store)."""

    nonce: str
    session_id: str
    actions: tuple[Action, ...]
    issued_at: float
    expires_at: float
    slot_s: float | None = None  # prompts shown one every slot_s seconds from the start

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
    """How challenges are made: random actions, a nonce, a lifetime, the prompts' timing.
    Stateless: issued challenges, answers and lockouts live in the database
    (simkyc.liveness.store), so every process of the service shares them."""

    ttl_s: float = 60.0
    slot_s: float | None = 2.5
    _rng: secrets.SystemRandom = field(default_factory=secrets.SystemRandom)

    def draw(self) -> tuple[Action, ...]:
        """The actions of a new challenge (random; a test subclass may script them)."""
        return random_actions(self._rng)

    def new(self, *, session_id: str, now: float) -> Challenge:
        """A fresh challenge for this proofing session (not yet stored)."""
        return Challenge(
            nonce=secrets.token_urlsafe(24),
            session_id=session_id,
            actions=self.draw(),
            issued_at=now,
            expires_at=now + self.ttl_s,
            slot_s=self.slot_s,
        )
