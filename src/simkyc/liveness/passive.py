"""Passive anti-spoofing on one photo: Minivision's MiniFASNet ensemble in ONNX Runtime.

Upstream (Silent-Face-Anti-Spoofing, test.py) crops the face box enlarged 2.7x for MiniFASNetV2
and 4.0x for MiniFASNetV1SE, resizes each crop to 80x80, runs both networks on raw BGR 0-255
pixels and averages their softmax outputs; class 1 is "live". This module does the same, on boxes
from our own detector: upstream used a Caffe RetinaFace run at ~192x192 and passed its box as
integers (x, y, w, h), we pass YuNet's float box as it is, so crops can differ by a pixel or two
and, more so, by how tightly each detector draws the box around the face (on upstream's sample
T2 a box 10% smaller or larger moves the live score from 0.52 to 0.92 or 0.35).

Upstream's test.py also refuses photos that are not exactly 3:4 (width:height), the frame shape
of its Android app; we score any photo. The shape matters when the enlarged box would not fit:
its scale is then capped at (H - 1) / h or (W - 1) / w, so the networks see a differently framed
patch than in training.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.config import Settings
from simkyc.convert.minifasnet import (
    INPUT_NAME,
    INPUT_SIZE,
    MiniFASNetFormatError,
    Variant,
    convert_minifasnet,
)
from simkyc.convert.torch_pickle import TorchFileError
from simkyc.errors import ModelUnavailable
from simkyc.faces.models import cpu_session, verified_file
from simkyc.types import BBox, Image

logger = logging.getLogger(__name__)

MODELS_SUBDIR: Final = "minifasnet"
LIVE_CLASS: Final = 1  # upstream test.py: label 1 is "Real Face", 0 and 2 are attacks
UPSTREAM: Final = "https://github.com/minivision-ai/Silent-Face-Anti-Spoofing"
UPSTREAM_COMMIT: Final = "b6d5f04ad78778917853b25c778acef6d5626d15"
_CONVERTER_VERSION: Final = 1  # part of the cached ONNX file name: bump when the graph changes


@dataclass(frozen=True)
class PatchModel:
    """One network of upstream's ensemble: its weights file, pinned checksum and crop scale."""

    variant: Variant
    filename: str
    sha256: str
    scale: float

    @property
    def url(self) -> str:
        """Where upstream publishes the weights (resources/anti_spoof_models)."""
        return f"{UPSTREAM}/raw/{UPSTREAM_COMMIT}/resources/anti_spoof_models/{self.filename}"

    def locate(self, models_dir: Path, cache_dir: Path) -> Path:
        """The ONNX model, converted once from the verified weights into the cache."""
        source = self._verified_source(models_dir)
        target = cache_dir / f"{self.variant}-{self.sha256[:12]}-v{_CONVERTER_VERSION}.onnx"
        if not target.is_file():
            logger.info("Converting %s to ONNX into %s (once)", source, target)
            try:
                convert_minifasnet(source, target, self.variant)
            except (TorchFileError, MiniFASNetFormatError) as exc:
                raise ModelUnavailable(f"{source} cannot be converted: {exc}") from exc
        return target

    def _verified_source(self, models_dir: Path) -> Path:
        """The .pth file in models_dir/minifasnet, if present with the pinned SHA-256."""
        try:
            return verified_file(models_dir / MODELS_SUBDIR / self.filename, self.sha256)
        except ModelUnavailable as exc:
            raise ModelUnavailable(
                f"{exc.message} MiniFASNet weights (Apache-2.0): {self.url}, SHA-256 {self.sha256}."
            ) from exc


# The two 80x80 models upstream ships in resources/anti_spoof_models; the scale is the first
# field of each file name ("2.7_80x80_...", "4_0_0_80x80_..."), as utility.parse_model_name reads.
ENSEMBLE: Final = (
    PatchModel(
        Variant.V2,
        "2.7_80x80_MiniFASNetV2.pth",
        "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0",
        2.7,
    ),
    PatchModel(
        Variant.V1SE,
        "4_0_0_80x80_MiniFASNetV1SE.pth",
        "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990",
        4.0,
    ),
)


def crop_box(box: BBox, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Left, top, right, bottom (inclusive) of the box enlarged *scale* times inside the image.

    Upstream's CropImage._get_new_box (src/generate_patches.py), expression for expression so
    the float rounding and the final int() truncation agree: the scale is capped so the crop
    fits, the crop is centred on the box, then shifted back inside the image.
    """
    if box.width <= 0 or box.height <= 0 or width < 2 or height < 2:
        raise ValueError(f"cannot crop a {box.width}x{box.height} box from {width}x{height}")
    scale = min((height - 1) / box.height, (width - 1) / box.width, scale)
    centre_x, centre_y = box.width / 2 + box.x, box.height / 2 + box.y
    left, right = _fit(centre_x, box.width * scale, width)
    top, bottom = _fit(centre_y, box.height * scale, height)
    return int(left), int(top), int(right), int(bottom)


def _fit(centre: float, extent: float, size: int) -> tuple[float, float]:
    """An interval of *extent* around *centre*, shifted to lie within [0, size - 1]."""
    low, high = centre - extent / 2, centre + extent / 2
    if low < 0:
        high -= low
        low = 0
    if high > size - 1:
        low -= high - size + 1
        high = size - 1
    return low, high


def crop_patch(image: Image, box: BBox, scale: float, size: int = INPUT_SIZE) -> Image:
    """The enlarged box cut from *image* and resized to size x size (cv2's bilinear default)."""
    left, top, right, bottom = crop_box(box, scale, image.shape[1], image.shape[0])
    resized = cv2.resize(image[top : bottom + 1, left : right + 1], (size, size))
    return np.asarray(resized, dtype=np.uint8)


def patch_tensor(patches: list[Image]) -> NDArray[np.float32]:
    """RGB uint8 patches as the networks' input: BGR, float 0-255, NCHW.

    Upstream's ToTensor (src/data_io/functional.py, to_tensor) was edited to return
    `img.float()`; the usual `.div(255)` is commented out, so pixels stay in 0-255.
    """
    batch = np.stack(patches)[..., ::-1].astype(np.float32)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def softmax(logits: NDArray[np.float32]) -> NDArray[np.float64]:
    """Row-wise softmax, computed in float64."""
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    probabilities: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
    return probabilities


@dataclass(frozen=True)
class ModelScore:
    """One network's softmax over upstream's three classes, on its own crop of the face."""

    variant: Variant
    scale: float
    probabilities: tuple[float, ...]

    @property
    def live(self) -> float:
        """The probability of class 1 (live)."""
        return self.probabilities[LIVE_CLASS]


@dataclass(frozen=True)
class PassiveScore:
    """Upstream's ensemble score: softmaxes summed over the models, divided by their number."""

    live: float
    models: tuple[ModelScore, ...]

    @property
    def upstream_says_live(self) -> bool:
        """Upstream test.py's verdict: class 1 has the largest summed probability.

        With three classes this can hold when `live` is below 0.5; a deployment should compare
        `live` with a calibrated threshold instead.
        """
        summed = np.sum([model.probabilities for model in self.models], axis=0)
        return int(np.argmax(summed)) == LIVE_CLASS


@dataclass(frozen=True)
class PatchNet:
    """A converted network and the scale of the face box it looks at."""

    variant: Variant
    onnx_path: Path
    scale: float


@dataclass
class PassiveAntiSpoof:
    """Scores a face as live or spoof from one photo; ONNX Runtime sessions open on first use."""

    nets: tuple[PatchNet, ...]
    threads: int = 1
    _sessions: dict[Path, Any] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> PassiveAntiSpoof:
        """The upstream ensemble from settings.models_dir/minifasnet, converted into the cache.

        Raises ModelUnavailable if a weights file is missing or not the pinned one.
        """
        nets = tuple(
            PatchNet(
                model.variant, model.locate(settings.models_dir, settings.cache_dir), model.scale
            )
            for model in ENSEMBLE
        )
        return cls(nets, threads=settings.threads)

    def score(self, image_rgb: Image, box: BBox) -> PassiveScore:
        """Every network's probabilities for the face in *box*, and their mean live probability."""
        scores = tuple(self._score_one(net, image_rgb, box) for net in self.nets)
        live = sum(score.live for score in scores) / len(scores)
        return PassiveScore(live=live, models=scores)

    def _score_one(self, net: PatchNet, image_rgb: Image, box: BBox) -> ModelScore:
        """One network on its crop of the face."""
        tensor = patch_tensor([crop_patch(image_rgb, box, net.scale)])
        logits = self._session(net.onnx_path).run(None, {INPUT_NAME: tensor})[0]
        probabilities = softmax(logits)[0]
        return ModelScore(net.variant, net.scale, tuple(float(p) for p in probabilities))

    def _session(self, path: Path) -> Any:
        """The ONNX Runtime session for *path*, created on first use with the configured threads."""
        if path not in self._sessions:
            self._sessions[path] = cpu_session(path, self.threads)
        return self._sessions[path]
