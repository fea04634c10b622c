"""The project's reader of OpenVINO IR must give OpenVINO's own embeddings on real face chips.

Real photos (East Asian and LFW) go through the product's detector, mesh landmarks and the
model's own alignment template; each 128x128 BGR chip is then embedded by OpenVINO (the
`openvino` package, a dev-only dependency, run in float32) and by the converted graph in
ONNX Runtime. An operation the reader does not know stops the conversion with its name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from faces_helpers import aligned_chips, optimized_op_types
from shared_files import require_module

from simkyc.config import Settings
from simkyc.convert.openvino_ir import IrFormatError, convert_openvino_ir, ir_operations
from simkyc.errors import ModelUnavailable
from simkyc.faces.models import sha256_of
from simkyc.faces.pipeline import FaceEncoder
from simkyc.faces.recognizers import (
    BUILTIN,
    OMZ_REID_ID,
    OMZ_REID_INT8_ID,
    OMZ_REID_INT8_SPEC,
    RecognizerSpec,
    load_recognizers,
)

pytestmark = pytest.mark.data  # the OpenVINO IR files in SIMKYC_MODELS_DIR

MIN_COSINE = 0.9999  # FP16 weights in float32 on both sides: measured 0.99999994
# INT8: both run int8 kernels (u8 x i8, int32 accumulation); ONNX Runtime's QDQ graph also
# quantises each PReLU's input (simkyc.convert.qdq) where OpenVINO applies bias and PReLU in
# float32: measured min 0.9856 / p50 0.9926 over 202 CASIA + LFW chips and mirrors
# (2026-12-05); the float32 emulation of the same IR gave min 0.9965 / p50 0.9982.
MIN_COSINE_INT8 = 0.98

Vectors = npt.NDArray[np.float32]


def _chips(settings: Settings, photos: list[Path]) -> list[npt.NDArray[np.uint8]]:
    """The FP16 recognizer's chips (the INT8 IR takes the same input)."""
    encoder = FaceEncoder.from_settings(settings.model_copy(update={"recognizer": OMZ_REID_ID}))
    return aligned_chips(encoder, photos)


@pytest.fixture(scope="module")
def photos(east_asian_dir: Path, lfw_dir: Path) -> list[Path]:
    casia = sorted((east_asian_dir / "casia-facev5-40").rglob("*.bmp"))[::25][:6]
    lfw = sorted((lfw_dir / "images_deepfunneled").rglob("*.jpg"))[::700][:6]
    return casia + lfw


def _both(settings: Settings, spec: RecognizerSpec, photos: list[Path]) -> tuple[Vectors, Vectors]:
    """(ONNX Runtime, OpenVINO) embeddings of the same chips, unit length."""
    ov = require_module("openvino", "OpenVINO (dev extra): the reference")
    onnx_path = spec.locate(settings.models_dir, settings.cache_dir)
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    compiled = ov.Core().compile_model(
        str(settings.models_dir / spec.filename), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    tensor = spec.input.tensor(_chips(settings, photos))
    ours = np.concatenate([session.run(None, {"chips": t[None]})[0] for t in tensor])
    theirs = np.concatenate([compiled(t[None])[0].reshape(1, -1) for t in tensor])
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    return unit(ours.astype(np.float32)), unit(theirs.astype(np.float32))


def test_fp16_gives_openvinos_embeddings(settings: Settings, photos: list[Path]) -> None:
    ours, theirs = _both(settings, BUILTIN[OMZ_REID_ID], photos)
    cosines = np.sum(ours * theirs, axis=1)
    assert len(cosines) == 12
    assert cosines.min() >= MIN_COSINE, cosines


def test_the_int8_ir_is_offered_on_int8_kernels() -> None:
    assert load_recognizers(None)[OMZ_REID_INT8_ID] is OMZ_REID_INT8_SPEC
    assert OMZ_REID_INT8_SPEC.int8_kernels and not BUILTIN[OMZ_REID_ID].int8_kernels


def test_the_int8_recognizer_runs_int8_kernels(settings: Settings, tmp_path: Path) -> None:
    """ONNX Runtime's optimised graph: every large convolution is QLinearConv; the float32
    Conv left are the squeeze-excitation blocks' 1x1-pixel convolutions into Sigmoid."""
    path = OMZ_REID_INT8_SPEC.locate(settings.models_dir, settings.cache_dir)
    kinds = optimized_op_types(path, tmp_path)
    assert kinds.count("QLinearConv") == 64 and kinds.count("Conv") == 16
    assert kinds.count("QLinearLeakyRelu") == 48


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_int8_is_close_to_openvinos_int8_kernels(settings: Settings, photos: list[Path]) -> None:
    ours, theirs = _both(settings, OMZ_REID_INT8_SPEC, photos)
    assert np.sum(ours * theirs, axis=1).min() >= MIN_COSINE_INT8
    assert np.median(np.sum(ours * theirs, axis=1)) >= 0.99


def test_the_model_uses_only_operations_the_reader_knows(settings: Settings) -> None:
    xml = settings.models_dir / OMZ_REID_INT8_SPEC.filename
    kinds = {kind for kind, _ in ir_operations(xml.read_text())}
    assert {"Convolution", "GroupConvolution", "PReLU", "FakeQuantize"} <= kinds


def test_an_unknown_operation_is_named_and_nothing_is_written(
    settings: Settings, tmp_path: Path
) -> None:
    source = settings.models_dir / BUILTIN[OMZ_REID_ID].filename
    changed = tmp_path / "model.xml"
    changed.write_text(source.read_text().replace('type="Sigmoid"', 'type="HSigmoid"', 1))
    target = tmp_path / "model.onnx"
    with pytest.raises(IrFormatError, match=r"HSigmoid/opset1 \(first at .*layer"):
        convert_openvino_ir(changed, source.with_suffix(".bin"), target)
    assert not target.exists() and not list(tmp_path.glob("*.partial"))


def test_an_unknown_opset_version_is_refused(settings: Settings, tmp_path: Path) -> None:
    source = settings.models_dir / BUILTIN[OMZ_REID_ID].filename
    text = source.read_text().replace('type="PReLU" version="opset1"',
                                      'type="PReLU" version="opset99"', 1)
    changed = tmp_path / "model.xml"
    changed.write_text(text)
    with pytest.raises(IrFormatError, match="PReLU/opset99"):
        convert_openvino_ir(changed, source.with_suffix(".bin"), tmp_path / "m.onnx")


def _copy_model(settings: Settings, tmp_path: Path) -> Path:
    """A models folder holding a copy of the FP16 IR."""
    spec = BUILTIN[OMZ_REID_ID]
    xml = tmp_path / "models" / spec.filename
    xml.parent.mkdir(parents=True)
    for suffix in (".xml", ".bin"):
        xml.with_suffix(suffix).write_bytes(
            (settings.models_dir / spec.filename).with_suffix(suffix).read_bytes())
    return xml


def test_a_tampered_weights_file_is_model_unavailable(settings: Settings, tmp_path: Path) -> None:
    xml = _copy_model(settings, tmp_path)
    weights = bytearray(xml.with_suffix(".bin").read_bytes())
    weights[1000] ^= 1
    xml.with_suffix(".bin").write_bytes(bytes(weights))
    with pytest.raises(ModelUnavailable) as raised:
        BUILTIN[OMZ_REID_ID].locate(tmp_path / "models", tmp_path / "cache")
    assert str(xml.with_suffix(".bin")) in raised.value.message
    assert "pinned SHA-256" in raised.value.message and "replace it" in raised.value.message
    assert not (tmp_path / "cache").exists()


def test_a_missing_model_says_where_and_what_to_do(settings: Settings, tmp_path: Path) -> None:
    xml = _copy_model(settings, tmp_path)
    xml.unlink()
    with pytest.raises(ModelUnavailable) as raised:
        BUILTIN[OMZ_REID_ID].locate(tmp_path / "models", tmp_path / "cache")
    assert raised.value.code == "MODEL_UNAVAILABLE"
    assert str(xml) in raised.value.message and "SIMKYC_MODELS_DIR" in raised.value.message


def test_the_pinned_files_convert_once_into_the_cache(settings: Settings, tmp_path: Path) -> None:
    xml = _copy_model(settings, tmp_path)
    first = BUILTIN[OMZ_REID_ID].locate(tmp_path / "models", tmp_path / "cache")
    digest = sha256_of(first)
    assert BUILTIN[OMZ_REID_ID].locate(xml.parents[2], tmp_path / "cache") == first
    assert sha256_of(first) == digest
