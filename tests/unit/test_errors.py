"""The error tree's machine-readable details."""

from __future__ import annotations

import pytest

from simkyc.errors import LivenessLocked, TooManyAttempts, TryLater


@pytest.mark.parametrize("kind", [LivenessLocked, TooManyAttempts])
@pytest.mark.parametrize(("retry_after", "seconds"), [(0.2, 1), (1799.4, 1799), (1800.0, 1800)])
def test_a_wait_is_whole_seconds_and_never_zero(kind: type[TryLater], retry_after: float,
                                                seconds: int) -> None:
    """The API's Retry-After header is at least 1 s; the body's `retry_after_s` agrees with
    it at the end of a lockout (LIVENESS_LOCKED said 0 there)."""
    assert kind("wait.", retry_after=retry_after).details() == {"retry_after_s": seconds}
