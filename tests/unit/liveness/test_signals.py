"""Challenge matching: order only, and order plus the prompts' time slots."""

from __future__ import annotations

from simkyc.liveness.challenge import Action
from simkyc.liveness.signals import Event, performed_in_order

A = Action


def _seen(*pairs: tuple[Action, float]) -> list[Event]:
    return [Event(action, t, t + 0.3, 1.0) for action, t in pairs]


def test_order_is_required() -> None:
    seen = _seen((A.TURN_LEFT, 0.5), (A.LOOK_UP, 3.0))
    assert performed_in_order(seen, [A.TURN_LEFT, A.LOOK_UP], (0.0, 6.0))[0]
    done, matched = performed_in_order(seen, [A.LOOK_UP, A.TURN_LEFT], (0.0, 6.0))
    assert not done and matched[1] is None


def test_timed_prompts_require_each_action_in_its_slot() -> None:
    on_time = _seen((A.TURN_LEFT, 0.8), (A.LOOK_UP, 3.1))
    assert performed_in_order(on_time, [A.TURN_LEFT, A.LOOK_UP], (0.0, 6.0), slot_s=2.5)[0]
    rushed = _seen((A.TURN_LEFT, 0.5), (A.LOOK_UP, 1.0))  # both before the second prompt
    assert performed_in_order(rushed, [A.TURN_LEFT, A.LOOK_UP], (0.0, 6.0))[0]
    assert not performed_in_order(rushed, [A.TURN_LEFT, A.LOOK_UP], (0.0, 6.0), slot_s=2.5)[0]
    late = _seen((A.TURN_LEFT, 3.5), (A.LOOK_UP, 4.0))  # the first action missed its slot
    assert not performed_in_order(late, [A.TURN_LEFT, A.LOOK_UP], (0.0, 6.0), slot_s=2.5)[0]


def test_reaction_grace_after_a_slot() -> None:
    slow = _seen((A.TURN_RIGHT, 2.9), (A.BLINK, 5.4))  # 0.4 s into the next slot each
    assert performed_in_order(slow, [A.TURN_RIGHT, A.BLINK], (0.0, 8.0), slot_s=2.5)[0]
