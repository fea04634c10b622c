"""Test hooks a test deployment may switch on (SIMKYC_TESTING=true), never production.

The multi-process tests start real `simkyc serve` processes, where a test cannot reach into
the process to swap the challenge book; `testing_challenge_script` makes every challenge ask
for the actions a recorded clip performs. Settings refuse it without the testing flag, and
the process logs a warning at start whenever a hook is on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from simkyc.api.state import Services
from simkyc.liveness.challenge import Action, Challenge, ChallengeBook

logger = logging.getLogger(__name__)


@dataclass
class ScriptedChallengeBook(ChallengeBook):
    """TEST ONLY: issues `script` instead of random actions."""

    script: tuple[Action, ...] = ()

    def issue(self, *, session_id: str, now: float) -> Challenge:
        challenge = replace(super().issue(session_id=session_id, now=now), actions=self.script)
        with self._lock:
            self._issued[challenge.nonce] = challenge
        return challenge


def install_test_hooks(services: Services) -> None:
    """Apply the testing_* settings (validated to need SIMKYC_TESTING=true) to `services`."""
    settings = services.settings
    if not settings.testing:
        return
    logger.warning("SIMKYC_TESTING is on: test hooks are allowed; never run this in production")
    script = settings.testing_challenge_script
    if script is not None:
        book = services.liveness.book
        services.liveness.book = ScriptedChallengeBook(
            ttl_s=book.ttl_s, slot_s=book.slot_s, script=tuple(Action(a) for a in script))
        logger.warning("TEST HOOK: every liveness challenge asks for %s", ", ".join(script))
