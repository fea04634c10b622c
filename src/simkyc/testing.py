"""Test hooks a test deployment may switch on (SIMKYC_TESTING=true), never production.

The multi-process tests start real `simkyc serve` processes, where a test cannot reach into
the process to swap the challenge book (`services.book`); `testing_challenge_script` makes
every challenge ask for the actions a recorded clip performs. Settings refuse it without the
testing flag, and the process logs a warning at start whenever a hook is on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from simkyc.api.state import Services
from simkyc.liveness.challenge import Action, ChallengeBook

logger = logging.getLogger(__name__)


@dataclass
class ScriptedChallengeBook(ChallengeBook):
    """TEST ONLY: draws `script` instead of random actions. The challenges it makes are
    stored and redeemed in the database like any other."""

    script: tuple[Action, ...] = ()

    def draw(self) -> tuple[Action, ...]:
        return self.script


def install_test_hooks(services: Services) -> None:
    """Apply the testing_* settings (validated to need SIMKYC_TESTING=true) to `services`."""
    settings = services.settings
    if not settings.testing:
        return
    logger.warning("SIMKYC_TESTING is on: test hooks are allowed; never run this in production")
    script = settings.testing_challenge_script
    if script is not None:
        book = services.book
        services.book = ScriptedChallengeBook(
            ttl_s=book.ttl_s, slot_s=book.slot_s, script=tuple(Action(a) for a in script))
        logger.warning("TEST HOOK: every liveness challenge asks for %s", ", ".join(script))
