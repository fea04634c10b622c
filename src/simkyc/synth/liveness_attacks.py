"""Synthetic presentation attacks, for evaluation: a printed photo and a phone replay, as frames.

Each generator returns about 3 s of 640x480 RGB frames at 15 fps, the same for the same seed.
A flat object (the card, the phone) is a textured rectangle posed in 3-D in front of a pinhole
camera and projected by a homography; the card may also be bent around a vertical cylinder,
which no homography explains, so the depth check is tested against more than a flat plane.
The camera then adds mild blur, sensor noise and JPEG compression.

Angles follow `pose.MeshPoseEstimator`: yaw > 0 when the object's face points to the image's
right (an applicant turning to their left), pitch > 0 when it points up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.liveness.challenge import Action
from simkyc.liveness.media import Frame
from simkyc.types import Image

WIDTH, HEIGHT, FPS, DURATION_S = 640, 480, 15.0, 3.0
FOCAL = 700.0  # pixels: a webcam with a ~50 degree horizontal field of view at 640 px
Texture = NDArray[np.float32]
"""H x W x 4 float32: premultiplied RGB (0-255) and alpha (0-1)."""

# How each action is mimicked with a flat object: (pose field, sign). A photo cannot blink.
SWINGS = {
    Action.TURN_LEFT: ("yaw", 1.0),
    Action.TURN_RIGHT: ("yaw", -1.0),
    Action.LOOK_UP: ("pitch", 1.0),
}


@dataclass(frozen=True)
class Pose:
    """Where a flat object is: angles in degrees, centre and upright height in image pixels,
    and `bend`, the half-arc angle in radians of a bend around a vertical axis (0 = flat)."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    x: float = WIDTH / 2
    y: float = HEIGHT / 2
    height: float = 360.0
    bend: float = 0.0


@dataclass(frozen=True)
class Wobble:
    """A hand's unsteadiness: a sum of two slow sines with random phases, per pose field."""

    amplitude: dict[str, float]
    phases: NDArray[np.float64]
    hertz: NDArray[np.float64]

    @classmethod
    def random(cls, rng: np.random.Generator, amplitude: dict[str, float]) -> Wobble:
        """Random phases and frequencies (0.2-0.9 Hz) for each field in `amplitude`."""
        shape = (len(amplitude), 2)
        return cls(amplitude, rng.uniform(0, 2 * np.pi, shape), rng.uniform(0.2, 0.9, shape))

    def at(self, t: float) -> dict[str, float]:
        """The offset of each field at time t."""
        waves = np.sin(2 * np.pi * self.hertz * t + self.phases).mean(axis=1)
        return {
            name: a * float(w) for (name, a), w in zip(self.amplitude.items(), waves, strict=True)
        }


def print_attack(
    photo_rgb: Image,
    actions_hint: Sequence[Action] = (),
    seed: int = 0,
    *,
    duration_s: float = DURATION_S,
) -> list[Frame]:
    """A printed photo held up to the camera: moved, tilted, bent, zoomed, and swung in turn
    for each action in `actions_hint` (as if performing the challenge), over a background."""
    rng = np.random.default_rng(seed)
    card, scene = _card(photo_rgb, rng), _background(rng)
    base = Pose(height=rng.uniform(330, 400), bend=rng.uniform(0.15, 0.45) * rng.choice([-1, 1]))
    wobble = Wobble.random(
        rng, {"x": 25, "y": 18, "roll": 6, "yaw": 6, "pitch": 6, "height": 35, "bend": 0.12}
    )
    swing = rng.uniform(35, 50)
    frames = []
    for i in range(round(duration_s * FPS)):
        t = i / FPS
        pose = _moved(base, wobble.at(t))
        pose = _swung(pose, actions_hint, t, duration_s, swing)
        texture = _bend(card, pose.bend)
        frames.append(Frame(t, i, _camera(_composite(scene, texture, pose), rng)))
    return frames


def screen_attack(
    video_frames_rgb: Sequence[Image], seed: int = 0, *, duration_s: float = DURATION_S
) -> list[Frame]:
    """A replay: the frames (taken at 15 fps; looped back and forth if too few) played on a
    phone held close to the camera (its bezel may leave the frame), moving slightly, with
    glare and moire on its screen."""
    rng = np.random.default_rng(seed)
    scene = _background(rng)
    body, screen = _phone(rng)
    base = Pose(yaw=rng.uniform(-8, 8), pitch=rng.uniform(-8, 8), height=rng.uniform(350, 420))
    wobble = Wobble.random(rng, {"x": 20, "y": 15, "roll": 4, "yaw": 8, "pitch": 6, "height": 20})
    interference = _Interference.random(rng)
    frames = []
    for i in range(round(duration_s * FPS)):
        t = i / FPS
        pose = _moved(base, wobble.at(t))
        texture = _on_screen(body, screen, video_frames_rgb[_ping_pong(i, len(video_frames_rgb))])
        image = _composite(scene, texture, pose)
        mask = _warp(screen[..., None], pose)[..., 0]
        unit = _project(screen.shape, pose) @ np.diag([screen.shape[1], screen.shape[0], 1.0])
        image = interference.apply(image, mask, unit, t)
        frames.append(Frame(t, i, _camera(image, rng)))
    return frames


def _moved(base: Pose, offsets: dict[str, float]) -> Pose:
    """The base pose plus the wobble's offsets."""
    return replace(base, **{name: getattr(base, name) + value for name, value in offsets.items()})


def _swung(pose: Pose, actions: Sequence[Action], t: float, duration: float, angle: float) -> Pose:
    """Add the swing of the action whose slot holds t: the movable actions share the clip
    after a 0.3 s lead-in, each a smooth out-and-back of `angle` degrees."""
    movable = [a for a in actions if a in SWINGS]
    if not movable:
        return pose
    slot = (duration - 0.5) / len(movable)
    k = int((t - 0.3) // slot)
    if not 0 <= k < len(movable):
        return pose
    field, sign = SWINGS[movable[k]]
    bump = np.sin(np.pi * ((t - 0.3) - k * slot) / slot) ** 2
    return replace(pose, **{field: getattr(pose, field) + sign * angle * float(bump)})


def _rotation(pose: Pose) -> NDArray[np.float64]:
    """Object-to-camera rotation: yaw about the vertical axis, then pitch, then roll in the
    image plane (x right, y down, z away from the camera)."""
    y, p, r = np.radians([pose.yaw, pose.pitch, pose.roll])
    yaw = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
    pitch = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    roll = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    rotation: NDArray[np.float64] = roll @ pitch @ yaw
    return rotation


def _project(shape: tuple[int, ...], pose: Pose) -> NDArray[np.float64]:
    """The homography from texture pixels to image pixels: the texture as a plane at the
    focal distance (so its upright height is `pose.height`), rotated, then projected."""
    h, w = shape[:2]
    k = pose.height / h
    corners = np.array([[-w, -h, 0], [w, -h, 0], [w, h, 0], [-w, h, 0]]) * (k / 2)
    placed = corners @ _rotation(pose).T + [0.0, 0.0, FOCAL]
    image = FOCAL * placed[:, :2] / placed[:, 2:] + [pose.x, pose.y]
    source = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return np.asarray(cv2.getPerspectiveTransform(source, image.astype(np.float32)), np.float64)


def _warp(texture: NDArray[np.float32], pose: Pose) -> NDArray[np.float32]:
    """The texture projected into a 640x480 image, zero outside it."""
    warped = cv2.warpPerspective(
        texture,
        _project(texture.shape, pose),
        (WIDTH, HEIGHT),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
    )
    return np.asarray(warped, np.float32).reshape(HEIGHT, WIDTH, -1)


def _composite(scene: NDArray[np.float32], texture: Texture, pose: Pose) -> NDArray[np.float32]:
    """The posed texture over the scene (alpha blending, premultiplied)."""
    warped = _warp(texture, pose)
    return np.asarray(scene * (1 - warped[..., 3:]) + warped[..., :3], np.float32)


def _bend(card: Texture, bend: float, distance: float = 4.0) -> Texture:
    """The card bent around a vertical cylinder, seen from `distance` half-widths away.

    Arc length u along the card (in half-widths) lands at u' = R sin(u / R), R = 1 / bend,
    at depth z = R (1 - cos(u / R)); farther points shrink vertically by D / (D + z), and
    light falls off where the surface turns away.
    """
    if abs(bend) < 1e-3:
        return card
    h, w = card.shape[:2]
    radius = 1.0 / bend
    xs = (np.arange(w, dtype=np.float64) + 0.5 - w / 2) / (w / 2)
    inside = np.abs(xs) <= abs(radius * np.sin(1.0 / radius))
    u = radius * np.arcsin(np.clip(xs / radius, -1, 1))
    depth = radius * (1 - np.cos(u / radius))
    ys = np.arange(h, dtype=np.float64) + 0.5 - h / 2
    map_y = h / 2 + ys[:, None] * ((distance + depth) / distance)[None, :] - 0.5
    map_x = np.where(inside, u * (w / 2) + w / 2 - 0.5, -10.0)
    remapped = cv2.remap(
        card,
        np.broadcast_to(map_x, (h, w)).astype(np.float32),
        map_y.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    bent = np.asarray(remapped, np.float32)
    shade = (0.75 + 0.25 * np.cos(u / radius)).astype(np.float32)
    bent[..., :3] *= shade[None, :, None]
    return bent


def _card(photo: Image, rng: np.random.Generator) -> Texture:
    """The photo printed on a card: upscaled to ~500 px, white margin, a print's duller
    tones and a faint paper grain."""
    scale = 500 / max(photo.shape[:2])
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    printed = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    grey = printed.mean(axis=2, keepdims=True)
    printed = 12 + 0.88 * (0.85 * printed + 0.15 * grey)
    margin = round(0.05 * max(size))
    card = np.pad(printed, ((margin, margin), (margin, margin), (0, 0)), constant_values=235)
    card += rng.normal(0, 2.0, card.shape[:2])[..., None].astype(np.float32)
    alpha = np.ones((*card.shape[:2], 1), np.float32)
    return np.concatenate([np.clip(card, 0, 255), alpha], axis=2)


def _phone(rng: np.random.Generator) -> tuple[Texture, NDArray[np.float32]]:
    """A landscape phone: a dark body with rounded corners and a bezel, and its screen mask."""
    sw, sh, bezel = 768, 432, int(rng.integers(18, 34))
    h, w = sh + 2 * bezel, sw + 2 * bezel
    shape = np.zeros((h, w), np.uint8)
    radius = 2 * bezel
    cv2.rectangle(shape, (radius, 0), (w - 1 - radius, h - 1), (1,), -1)
    cv2.rectangle(shape, (0, radius), (w - 1, h - 1 - radius), (1,), -1)
    for cx, cy in (
        (radius, radius),
        (w - 1 - radius, radius),
        (radius, h - 1 - radius),
        (w - 1 - radius, h - 1 - radius),
    ):
        cv2.circle(shape, (cx, cy), radius, (1,), -1)
    alpha = shape.astype(np.float32)[..., None]
    colour = rng.uniform(15, 45) * np.ones(3, np.float32)
    body = np.concatenate([alpha * colour, alpha], axis=2).astype(np.float32)
    screen = np.zeros((h, w), np.float32)
    screen[bezel : bezel + sh, bezel : bezel + sw] = 1.0
    return body, screen


def _on_screen(body: Texture, screen: NDArray[np.float32], frame: Image) -> Texture:
    """The video frame letterboxed into the phone's screen, with a screen's tone and tint."""
    rows, cols = np.flatnonzero(screen.any(axis=1)), np.flatnonzero(screen.any(axis=0))
    sh, sw = len(rows), len(cols)
    scale = min(sw / frame.shape[1], sh / frame.shape[0])
    size = (round(frame.shape[1] * scale), round(frame.shape[0] * scale))
    content = np.zeros((sh, sw, 3), np.float32)
    top, left = (sh - size[1]) // 2, (sw - size[0]) // 2
    content[top : top + size[1], left : left + size[0]] = cv2.resize(frame, size)
    content = (18 + 0.86 * content) * np.array([0.96, 1.0, 1.06], np.float32)
    texture = body.copy()
    texture[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1, :3] = np.clip(content, 0, 255)
    return texture


@dataclass(frozen=True)
class _Interference:
    """What a camera sees on a screen besides the picture: moire (a fine sinusoidal
    interference of the screen's pixel grid with the sensor's) and glare (a bright blob
    reflected off the glass, drifting as the phone moves)."""

    period_px: float
    angle: float
    depth: float
    glare: float
    glare_sigma: float
    glare_path: NDArray[np.float64]

    @classmethod
    def random(cls, rng: np.random.Generator) -> _Interference:
        """Moire of 3-8 px period and 5-12% depth; glare adding 80-150 grey levels."""
        return cls(
            rng.uniform(3, 8),
            rng.uniform(0, np.pi),
            rng.uniform(0.05, 0.12),
            rng.uniform(80, 150),
            rng.uniform(40, 90),
            rng.uniform(0.15, 0.85, (2, 2)),
        )

    def apply(
        self,
        image: NDArray[np.float32],
        mask: NDArray[np.float32],
        homography: NDArray[np.float64],
        t: float,
    ) -> NDArray[np.float32]:
        """Both effects, inside the screen's mask; `homography` maps the phone's texture
        in fractions of its width and height (0-1) to the image."""
        ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        along = xs * np.cos(self.angle) + ys * np.sin(self.angle)
        beat = 0.5 + 0.5 * np.sin(2 * np.pi * ys / (HEIGHT / 1.7) + 3 * t)  # slow beat envelope
        moire = 1 + self.depth * beat * np.sin(2 * np.pi * along / self.period_px)
        gx, gy = self._glare_centre(homography, t)
        blob = np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * self.glare_sigma**2))
        lit = image * moire[..., None] + (self.glare * blob)[..., None]
        return np.asarray(image + (lit - image) * mask[..., None], np.float32)

    def _glare_centre(self, homography: NDArray[np.float64], t: float) -> tuple[float, float]:
        """Where the reflection is: sliding across the phone over 3 s."""
        start, end = self.glare_path
        u, v = start + (end - start) * min(t / DURATION_S, 1.0)
        point = np.array([[[u, v]]], np.float32)
        x, y = cv2.perspectiveTransform(point, homography)[0, 0]
        return float(x), float(y)


def _background(rng: np.random.Generator) -> NDArray[np.float32]:
    """An out-of-focus room: a vertical colour gradient and a few rectangles (doors,
    shelves, furniture)."""
    top, bottom = rng.uniform(40, 220, (2, 3))
    weights = np.linspace(0, 1, HEIGHT)[:, None, None]
    scene = np.broadcast_to(top * (1 - weights) + bottom * weights, (HEIGHT, WIDTH, 3)).copy()
    for _ in range(int(rng.integers(3, 8))):
        x0, y0 = int(rng.integers(0, WIDTH - 40)), int(rng.integers(0, HEIGHT - 40))
        x1, y1 = x0 + int(rng.integers(40, 260)), y0 + int(rng.integers(40, 300))
        cv2.rectangle(scene, (x0, y0), (x1, y1), rng.uniform(20, 235, 3).tolist(), -1)
    return np.asarray(cv2.GaussianBlur(scene.astype(np.float32), (0, 0), 4.0), np.float32)


def _camera(image: NDArray[np.float32], rng: np.random.Generator) -> Image:
    """A webcam's defocus (Gaussian blur), sensor noise and JPEG compression; each frame draws
    its own amounts, as autofocus and exposure wander."""
    blurred = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.1))
    noisy = blurred + rng.normal(0, rng.uniform(1.5, 3.5), image.shape).astype(np.float32)
    bgr = cv2.cvtColor(np.clip(noisy, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    quality = int(rng.integers(70, 91))
    _, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _ping_pong(i: int, count: int) -> int:
    """Frame i of a clip of `count` frames played forwards, backwards, forwards..."""
    if count <= 1:
        return 0
    k = i % (2 * count - 2)
    return k if k < count else 2 * count - 2 - k
