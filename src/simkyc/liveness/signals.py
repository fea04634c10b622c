"""Signals over time from the tracked meshes: head pose, eye aperture, and action events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simkyc.liveness.challenge import Action
from simkyc.liveness.pose import MeshPoseEstimator
from simkyc.liveness.tracking import Mesh, TrackedFrame

# Face-mesh indices of each eye: corners (outer, inner) and two upper/lower lid pairs, the
# six points of the eye aspect ratio (Soukupova & Cech, 2016) on MediaPipe's topology.
RIGHT_EYE = (33, 133, 160, 144, 158, 153)
LEFT_EYE = (263, 362, 387, 373, 385, 380)


def eye_aperture(mesh: Mesh) -> float:
    """Mean eye aspect ratio of both eyes: lid distance over eye width (~0.3 open, <0.15 shut)."""
    ratios = []
    for outer, inner, up1, down1, up2, down2 in (RIGHT_EYE, LEFT_EYE):
        width = np.linalg.norm(mesh[outer, :2] - mesh[inner, :2])
        lids = np.linalg.norm(mesh[up1, :2] - mesh[down1, :2]) + np.linalg.norm(
            mesh[up2, :2] - mesh[down2, :2]
        )
        ratios.append(lids / (2 * max(float(width), 1e-6)))
    return float(np.mean(ratios))


@dataclass(frozen=True)
class Series:
    """Per-frame signals of the frames where a face was tracked."""

    t: NDArray[np.float64]
    index: NDArray[np.intp]
    yaw: NDArray[np.float64]
    pitch: NDArray[np.float64]
    roll: NDArray[np.float64]
    aperture: NDArray[np.float64]


def series(tracked: Sequence[TrackedFrame], estimator: MeshPoseEstimator) -> Series:
    """Pose and eye aperture for each frame with a face."""
    rows = [
        (f.t, f.index, estimator.pose(f.mesh), eye_aperture(f.mesh))
        for f in tracked
        if f.mesh is not None
    ]
    return Series(
        t=np.array([r[0] for r in rows], np.float64),
        index=np.array([r[1] for r in rows], np.intp),
        yaw=np.array([r[2].yaw for r in rows], np.float64),
        pitch=np.array([r[2].pitch for r in rows], np.float64),
        roll=np.array([r[2].roll for r in rows], np.float64),
        aperture=np.array([r[3] for r in rows], np.float64),
    )


@dataclass(frozen=True)
class Event:
    """An action seen in the clip: when it started and ended, and its strength."""

    action: Action
    start: float
    end: float
    peak: float


@dataclass(frozen=True)
class EventThresholds:
    """Degrees of head turn / look up, and the eye-closure ratio of a blink."""

    turn_deg: float = 25.0
    look_up_deg: float = 20.0
    blink_ratio: float = 0.7
    blink_max_s: float = 0.6
    # One frame suffices at the 15 fps the service samples (a blink lasts 0.1-0.4 s); measured
    # on the ZJU clips: P 0.96 / R 0.96 at 15 fps (2 frames: R 0.87), P 0.94 / R 0.99 at 30.
    blink_min_frames: int = 1
    blink_max_motion_deg: float = 12.0


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def pose_events(s: Series, limits: EventThresholds) -> list[Event]:
    """Head turns and looks up: runs of frames beyond the angle threshold."""
    events = []
    for action, signal, threshold in (
        (Action.TURN_LEFT, s.yaw, limits.turn_deg),
        (Action.TURN_RIGHT, -s.yaw, limits.turn_deg),
        (Action.LOOK_UP, s.pitch, limits.look_up_deg),
    ):
        for first, last in _runs(signal >= threshold):
            events.append(
                Event(
                    action,
                    float(s.t[first]),
                    float(s.t[last]),
                    float(signal[first : last + 1].max()),
                )
            )
    return events


def blink_events(s: Series, limits: EventThresholds) -> list[Event]:
    """Blinks: the eye aperture dips below `blink_ratio` x its open level for at least
    `blink_min_frames` frames and at most `blink_max_s`, while the head holds still (turning
    and looking down also narrow the eyes in the image). Dips a frame apart are one blink."""
    if len(s.aperture) < 3:
        return []
    open_level = float(np.percentile(s.aperture, 80))
    events = []
    for first, last in _merged(_runs(s.aperture < limits.blink_ratio * open_level), gap=2):
        lo, hi = max(first - 1, 0), min(last + 1, len(s.t) - 1)
        duration = float(s.t[hi] - s.t[lo])
        motion = max(np.ptp(s.yaw[lo : hi + 1]), np.ptp(s.pitch[lo : hi + 1]))
        if (last - first + 1 >= limits.blink_min_frames and duration <= limits.blink_max_s
                and motion <= limits.blink_max_motion_deg):
            depth = 1.0 - float(s.aperture[first : last + 1].min()) / open_level
            events.append(Event(Action.BLINK, float(s.t[first]), float(s.t[last]), depth))
    return events


def _merged(runs: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    """Runs closer than `gap` frames joined (one blink whose dip flickers)."""
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if merged and first - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def events(s: Series, limits: EventThresholds) -> list[Event]:
    """All action events, in order of start time."""
    return sorted(pose_events(s, limits) + blink_events(s, limits), key=lambda e: e.start)


# With timed prompts, an action may start this long after its slot ends (reaction time).
SLOT_GRACE_S = 0.75


def performed_in_order(
    seen: Sequence[Event], actions: Sequence[Action], window: tuple[float, float],
    slot_s: float | None = None,
) -> tuple[bool, list[Event | None]]:
    """Were the actions performed in this order within the window? Greedy: each action's
    first event starting after the previous action's start (a prompt follows the last).

    With `slot_s`, prompts were shown one every `slot_s` seconds from the clip's start, and
    action k must also start within its own slot (plus a reaction grace): a replayed
    recording would have to match the random order and the timing.
    """
    matched: list[Event | None] = []
    after = window[0] - 1e-9
    for k, action in enumerate(actions):
        low, high = after, window[1]
        if slot_s is not None:
            low = max(after, window[0] + k * slot_s - 1e-9)
            high = min(high, window[0] + (k + 1) * slot_s + SLOT_GRACE_S)
        event = next(
            (e for e in seen if e.action is action and low < e.start <= high),
            None,
        )
        matched.append(event)
        if event is None:
            return False, matched + [None] * (len(actions) - len(matched))
        after = event.start
    return True, matched
