"""Liveness fixtures: MiniFASNet weights converted once per session, YuNet, the PAD samples.

Missing models or data fail the run in CI (as tests/conftest.py's require_data does) and skip
the tests that need them elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_files import require

from simkyc.config import Settings
from simkyc.faces.detect import YuNetDetector
from simkyc.faces.pipeline import FacePipeline
from simkyc.liveness.passive import MODELS_SUBDIR, PassiveAntiSpoof
from simkyc.liveness.service import LivenessService
from simkyc.types import BBox, Image

YUNET = Path("yunet") / "face_detection_yunet_2023mar.onnx"
SAMPLES = ("F1", "F2", "T1", "T2")  # upstream images/sample: F = fake (spoof), T = true (live)


@pytest.fixture(scope="session")
def minifasnet_dir(settings: Settings) -> Path:
    """The folder of upstream's .pth files."""
    return require(settings.models_dir / MODELS_SUBDIR, "MiniFASNet weights (SIMKYC_MODELS_DIR)")


@pytest.fixture(scope="session")
def anti_spoof(
    minifasnet_dir: Path, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> PassiveAntiSpoof:
    """The ensemble, converted into a fresh cache, one thread."""
    cache = tmp_path_factory.mktemp("minifasnet-cache")
    return PassiveAntiSpoof.from_settings(
        settings.model_copy(update={"cache_dir": cache, "threads": 1})
    )


@pytest.fixture(scope="session")
def silent_face_faces(settings: Settings) -> dict[str, tuple[Image, BBox]]:
    """Upstream's four sample photos (RGB) with YuNet's box of the largest face in each."""
    folder = require(settings.data_dir / "pad" / "silent-face-samples", "PAD samples")
    detector = YuNetDetector(require(settings.models_dir / YUNET, "YuNet"))
    faces = {}
    for name in SAMPLES:
        bgr = cv2.imread(str(folder / f"image_{name}.jpg"))
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        faces[name] = (rgb, detector.detect(rgb)[0].box)
    return faces


@pytest.fixture(scope="session")
def liveness_service(settings: Settings, pipeline: FacePipeline, minifasnet_dir: Path
                     ) -> LivenessService:
    """The liveness service as the API builds it (MiniFASNet converted into the settings' cache)."""
    return LivenessService.from_settings(settings, pipeline)
