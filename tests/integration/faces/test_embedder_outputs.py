"""The pipeline's embedder gives the embeddings every calibration was made with, on real chips.

Speed work on the embed stage (how the input tensor is built, batching chips with their
mirrors, session options) must not move an embedding beyond float noise, or the calibrated
thresholds would no longer mean what their provenance says. The reference is computed the
plain way: the chain of NumPy steps the tensor used to be built with, the chip and its mirror
each run alone in a session without graph rewrites (ONNX Runtime's basic level), and for the
OMZ model also OpenVINO's own execution of the IR (when the dev extra is installed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from faces_helpers import aligned_chips, stepwise_tensor
from shared_files import require_module

from simkyc.config import Settings
from simkyc.faces.embed import InputSpec
from simkyc.faces.pipeline import FaceEncoder
from simkyc.faces.recognizers import BUILTIN, DLIB_RESNET_ID, OMZ_REID_ID

pytestmark = pytest.mark.data  # model weights and real photos

MIN_COSINE = 0.99999  # float noise: what a calibration entry tolerates unchanged

Vectors = npt.NDArray[np.float32]
Chip = npt.NDArray[np.uint8]
Network = Callable[[npt.NDArray[np.float32]], Vectors]  # one tensor in, one embedding out


@pytest.fixture(scope="module")
def photos(east_asian_dir: Path, lfw_dir: Path) -> list[Path]:
    casia = sorted((east_asian_dir / "casia-facev5-40").rglob("*.bmp"))[::25][:6]
    lfw = sorted((lfw_dir / "images_deepfunneled").rglob("*.jpg"))[::700][:6]
    return casia + lfw


def _encoder_and_chips(
    settings: Settings, recognizer: str, photos: list[Path]
) -> tuple[FaceEncoder, list[Chip]]:
    """The pipeline's encoder for `recognizer` and its aligned chips of `photos`."""
    encoder = FaceEncoder.from_settings(settings.model_copy(update={"recognizer": recognizer}))
    return encoder, aligned_chips(encoder, photos)


def _unit(vectors: Vectors) -> Vectors:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _flip_averaged(run_one: Network, spec: InputSpec, chips: list[Chip]) -> Vectors:
    """mean(unit(f(chip)), unit(f(mirror))), renormalised, each run alone."""
    rows = []
    for chip in chips:
        own = run_one(stepwise_tensor(spec, [chip]))
        mirror = run_one(stepwise_tensor(spec, [np.ascontiguousarray(chip[:, ::-1])]))
        rows.append(_unit(_unit(own) + _unit(mirror)))
    return np.stack(rows).astype(np.float32)


def _plain_onnx(path: Path) -> Network:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run_one(tensor: npt.NDArray[np.float32]) -> Vectors:
        output: Vectors = session.run(None, {name: tensor})[0].reshape(-1)
        return output

    return run_one


@pytest.mark.parametrize("recognizer", [OMZ_REID_ID, DLIB_RESNET_ID])
def test_the_embedder_gives_the_plain_embeddings(
    settings: Settings, photos: list[Path], recognizer: str
) -> None:
    encoder, chips = _encoder_and_chips(settings, recognizer, photos)
    assert encoder.embedder.flip  # the default pipeline averages each chip with its mirror
    ours = np.stack([encoder.embedder.embed([chip])[0] for chip in chips])
    reference = _flip_averaged(_plain_onnx(encoder.embedder.model_path), encoder.embedder.spec,
                               chips)
    cosines = np.sum(ours * reference, axis=1)
    assert len(cosines) == 12
    assert cosines.min() >= MIN_COSINE, cosines


def test_the_default_embeddings_are_openvinos_own(settings: Settings, photos: list[Path]) -> None:
    """Independent of the converted file: OpenVINO runs the IR itself, in float32."""
    ov = require_module("openvino", "OpenVINO (dev extra): the reference")
    spec = BUILTIN[OMZ_REID_ID]
    encoder, chips = _encoder_and_chips(settings, OMZ_REID_ID, photos)
    compiled = ov.Core().compile_model(
        str(settings.models_dir / spec.filename), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    reference = _flip_averaged(lambda tensor: compiled(tensor)[0].reshape(-1), spec.input, chips)
    ours = np.stack([encoder.embedder.embed([chip])[0] for chip in chips])
    assert np.sum(ours * reference, axis=1).min() >= MIN_COSINE
