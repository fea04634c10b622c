"""Synthetic presentation attacks: generated, deterministic, the right shape (that one is
not live: tests/integration/liveness/test_synthetic_attacks.py)."""

from __future__ import annotations

import numpy as np
import pytest

from simkyc.liveness.challenge import Action
from simkyc.liveness.media import Frame
from simkyc.synth.liveness_attacks import FPS, HEIGHT, WIDTH, print_attack, screen_attack
from simkyc.types import Image

pytestmark = pytest.mark.slow  # each renders 3 s clips: 5-20 s (pytest --durations)

TURNS = (Action.TURN_LEFT, Action.TURN_RIGHT)


def _pattern(height: int, width: int, seed: int) -> Image:
    """A smooth colour pattern standing in for a photo or a video frame."""
    ys, xs = np.mgrid[0:height, 0:width]
    phase = np.random.default_rng(seed).uniform(0, 6, 3)
    channels = [127 + 100 * np.sin(xs / (9 + 4 * k) + ys / 13 + phase[k]) for k in range(3)]
    return np.ascontiguousarray(np.stack(channels, axis=2).astype(np.uint8))


def _pixels(frames: list[Frame]) -> np.ndarray:
    return np.stack([f.pixels for f in frames])


def _assert_clip(frames: list[Frame]) -> None:
    assert len(frames) == round(3.0 * FPS)
    for i, frame in enumerate(frames):
        assert frame.pixels.shape == (HEIGHT, WIDTH, 3)
        assert frame.pixels.dtype == np.uint8
        assert frame.index == i
        assert frame.t == pytest.approx(i / FPS)


def test_print_attack_is_a_3s_clip_of_640x480_rgb_frames() -> None:
    _assert_clip(print_attack(_pattern(250, 250, 0), TURNS, seed=1))


def test_screen_attack_is_a_3s_clip_of_640x480_rgb_frames() -> None:
    _assert_clip(screen_attack([_pattern(240, 320, k) for k in range(10)], seed=1))


def test_print_attack_is_deterministic_given_the_seed() -> None:
    photo = _pattern(250, 250, 0)
    first = _pixels(print_attack(photo, TURNS, seed=7))
    assert np.array_equal(first, _pixels(print_attack(photo, TURNS, seed=7)))
    assert not np.array_equal(first, _pixels(print_attack(photo, TURNS, seed=8)))


def test_screen_attack_is_deterministic_given_the_seed() -> None:
    video = [_pattern(240, 320, k) for k in range(5)]
    first = _pixels(screen_attack(video, seed=7))
    assert np.array_equal(first, _pixels(screen_attack(video, seed=7)))
    assert not np.array_equal(first, _pixels(screen_attack(video, seed=8)))


def test_the_card_moves_and_the_clip_shows_it() -> None:
    frames = _pixels(print_attack(_pattern(250, 250, 0), TURNS, seed=2)).astype(np.float32)
    assert np.abs(np.diff(frames, axis=0)).mean() > 2.0  # not a still image
