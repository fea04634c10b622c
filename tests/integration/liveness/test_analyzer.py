"""Each liveness check on real frames: the head-turn video, blinks, no face, two faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_files import require

from simkyc.config import Settings
from simkyc.liveness.analyzer import Verdict
from simkyc.liveness.challenge import Action
from simkyc.liveness.media import Frame
from simkyc.liveness.reasons import LivenessReasonCode as Why
from simkyc.liveness.service import LivenessService

A = Action


@pytest.fixture(scope="module")
def service(headturn: Path) -> LivenessService:
    return LivenessService.from_settings(Settings(population="lfw"))


@pytest.fixture(scope="module")
def turning(service: LivenessService, headturn: Path) -> list[Frame]:
    return service.decode(video=headturn.read_bytes())


# What she does, in order (looked at frame by frame): looks up, turns to her right, looks
# down, turns to her left, looks up again, faces the camera.
@pytest.mark.parametrize("actions", [
    [A.LOOK_UP, A.TURN_RIGHT], [A.TURN_RIGHT, A.TURN_LEFT], [A.LOOK_UP, A.TURN_LEFT],
    [A.TURN_RIGHT, A.TURN_LEFT, A.LOOK_UP], [A.TURN_LEFT, A.LOOK_UP],
])
def test_challenges_she_performed_pass(service: LivenessService, turning: list[Frame],
                                       actions: list[Action]) -> None:
    result = service.analyzer.analyse(turning, actions=actions)
    assert result.verdict is Verdict.LIVE, result.to_dict()
    checks = {c.name: c for c in result.checks}
    assert checks["depth"].passed and checks["depth"].value > 0.3  # a real head has depth
    assert checks["same_person"].passed and checks["passive"].passed


@pytest.mark.parametrize("actions", [
    [A.TURN_LEFT, A.TURN_RIGHT], [A.TURN_LEFT, A.TURN_RIGHT, A.LOOK_UP],
])
def test_challenges_out_of_order_fail(service: LivenessService, turning: list[Frame],
                                      actions: list[Action]) -> None:
    result = service.analyzer.analyse(turning, actions=actions)
    assert result.verdict is Verdict.RETRY
    challenge = next(c for c in result.checks if c.name == "challenge")
    assert challenge.passed is False and challenge.reason.code is Why.NOT_SEEN
    assert A.TURN_RIGHT in challenge.reason.actions


def test_frames_without_a_face_ask_to_retry(service: LivenessService,
                                            turning: list[Frame]) -> None:
    blank = [Frame(f.t, f.index, np.zeros_like(f.pixels)) for f in turning]
    mixed = turning[:10] + blank[10:]
    result = service.analyzer.analyse(mixed, actions=[A.TURN_LEFT, A.LOOK_UP])
    assert result.verdict is Verdict.RETRY
    assert "face_present" in [c.name for c in result.checks if c.passed is False]


def test_two_faces_in_view_ask_to_retry(service: LivenessService, turning: list[Frame]) -> None:
    doubled = []
    for f in turning[:30]:
        half = cv2.resize(f.pixels, (f.pixels.shape[1] // 2, f.pixels.shape[0] // 2))
        canvas = np.zeros_like(f.pixels)
        canvas[90 : 90 + half.shape[0], : half.shape[1]] = half
        canvas[90 : 90 + half.shape[0], half.shape[1] :] = half
        doubled.append(Frame(f.t, f.index, canvas))
    result = service.analyzer.analyse(doubled, actions=None)
    assert result.verdict is not Verdict.LIVE
    assert "single_face" in [c.name for c in result.checks if c.passed is False]


def test_a_blink_is_seen_in_a_real_clip(service: LivenessService, settings: Settings) -> None:
    clip = settings.data_dir / "liveness" / "zju-eyeblink" / "clips" / "2" / "000001M_FNN.mp4"
    require(clip, "the ZJU eye-blink clip (SIMKYC_DATA_DIR)")
    from simkyc.liveness.media import MediaLimits, decode_video

    frames = decode_video(clip.read_bytes(), MediaLimits(sample_fps=30))
    result = service.analyzer.analyse(frames, actions=None)
    assert [a for a, _ in result.actions_seen].count("blink") == 3  # the three tagged blinks
    assert result.verdict is Verdict.LIVE


def test_the_selfies_person_matches(service: LivenessService, turning: list[Frame]) -> None:
    # The reference is the session's selfie (here a frontal frame of the same person), and
    # the check is named for it; the policy decides (no raw threshold passed in).
    pipeline_encoder = service.encoder
    own = pipeline_encoder.sample_pixels(turning[0].pixels, require_quality=False).embedding
    result = service.analyzer.analyse(turning, actions=None, selfie=own)
    check = next(c for c in result.checks if c.name == "matches_selfie")
    assert check.passed and check.threshold == service.analyzer.policy.accept.threshold


def test_a_recording_off_the_prompts_schedule_fails_a_timed_challenge(
    service: LivenessService, turning: list[Frame]
) -> None:
    # She looks up, turns right and turns left, but not one action per 2.5 s prompt: replayed
    # against timed prompts, the same footage no longer answers the challenge.
    actions = [A.LOOK_UP, A.TURN_RIGHT, A.TURN_LEFT]
    assert service.analyzer.analyse(turning, actions=actions).verdict is Verdict.LIVE
    timed = service.analyzer.analyse(turning, actions=actions, slot_s=2.5)
    assert timed.verdict is Verdict.RETRY
    challenge = next(c for c in timed.checks if c.name == "challenge")
    assert challenge.reason.code is Why.NOT_SEEN_TIMED
