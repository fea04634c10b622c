"""A synthetic print attack on a real LFW photo, through the real liveness service: not live."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from simkyc.liveness.analyzer import Verdict
from simkyc.liveness.challenge import Action
from simkyc.liveness.reasons import LivenessReasonCode as Why
from simkyc.liveness.service import LivenessService
from simkyc.synth.liveness_attacks import print_attack
from simkyc.types import Image

pytestmark = pytest.mark.data

TURNS = (Action.TURN_LEFT, Action.TURN_RIGHT)


@pytest.fixture(scope="session")
def lfw_photo(lfw_dir: Path) -> Image:
    """The first photo of the first person in LFW, RGB."""
    people = sorted(p for p in (lfw_dir / "images_deepfunneled").iterdir() if p.is_dir())
    path = sorted(people[0].glob("*.jpg"))[0]
    return np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_a_print_attack_performing_head_turns_is_not_live(
    lfw_photo: Image, liveness_service: LivenessService
) -> None:
    frames = print_attack(lfw_photo, TURNS, seed=0)
    result = liveness_service.analyzer.analyse(frames, actions=TURNS)
    failed = {c.name for c in result.checks if c.passed is False}
    assert result.verdict is Verdict.SPOOF
    # A card moves like a plane and looks printed: the depth or the passive check says so.
    assert failed & {"depth", "passive"}
    assert {r.code for r in result.reasons} & {Why.DEPTH, Why.PASSIVE}
