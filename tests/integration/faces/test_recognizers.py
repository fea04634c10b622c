"""Any ONNX recognizer in the 112x112 ArcFace format is a configuration: a tiny one built here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from simkyc.config import Settings
from simkyc.errors import CalibrationMissing, ModelUnavailable
from simkyc.faces.models import sha256_of
from simkyc.faces.pipeline import FaceEncoder, FacePipeline
from simkyc.faces.recognizers import BUILTIN, load_recognizers


def _tiny_arcface(path: Path) -> None:
    """A 112x112x3 -> 64 network (strided conv, ReLU, linear), with fixed random weights."""
    rng = np.random.default_rng(7)
    conv = numpy_helper.from_array(rng.normal(size=(8, 3, 8, 8)).astype(np.float32), "conv_w")
    dense = numpy_helper.from_array(rng.normal(size=(8 * 14 * 14, 64)).astype(np.float32), "fc_w")
    nodes = [
        helper.make_node("Conv", ["data", "conv_w"], ["c"], strides=[8, 8]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"]),
        helper.make_node("MatMul", ["f", "fc_w"], ["fc1"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-arcface",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", 64])],
        initializer=[conv, dense],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


@pytest.fixture()
def tiny_settings(tmp_path: Path, settings: Settings) -> Settings:
    model = tmp_path / "models" / "tiny" / "tiny.onnx"
    model.parent.mkdir(parents=True)
    _tiny_arcface(model)
    spec_file = tmp_path / "recognizers.json"
    spec_file.write_text(
        json.dumps(
            [
                {
                    "model_id": "tiny-arcface",
                    "filename": "tiny/tiny.onnx",
                    "sha256": sha256_of(model),
                    "template": "arcface-112",
                    "layout": "NCHW",
                    "mean": 127.5,
                    "scale": 1 / 127.5,
                }
            ]
        )
    )
    return settings.model_copy(
        update={
            "recognizer": "tiny-arcface",
            "recognizers_file": spec_file,
            "models_dir": tmp_path / "models",
        }
    )


def test_an_onnx_recognizer_runs_from_configuration(
    tiny_settings: Settings, examples: Path, settings: Settings
) -> None:
    yunet = settings.models_dir / "yunet"
    (tiny_settings.models_dir / "yunet").symlink_to(yunet)
    encoder = FaceEncoder.from_settings(tiny_settings)
    assert encoder.aligner.size == 112
    sample = encoder.sample((examples / "obama.jpg").read_bytes())
    assert sample.embedding.shape == (64,)
    assert np.linalg.norm(sample.embedding) == pytest.approx(1.0, abs=1e-5)
    again = encoder.sample((examples / "obama.jpg").read_bytes())
    assert float(sample.embedding @ again.embedding) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.data  # YuNet and the recognizers in SIMKYC_MODELS_DIR
def test_an_uncalibrated_recognizer_cannot_decide(
    tiny_settings: Settings, settings: Settings
) -> None:
    (tiny_settings.models_dir / "yunet").symlink_to(settings.models_dir / "yunet")
    with pytest.raises(CalibrationMissing, match="tiny-arcface"):
        FacePipeline.from_settings(tiny_settings)


def test_a_model_file_with_the_wrong_checksum_is_refused(tiny_settings: Settings) -> None:
    model = tiny_settings.models_dir / "tiny" / "tiny.onnx"
    model.write_bytes(model.read_bytes() + b"tampered")
    spec = load_recognizers(tiny_settings.recognizers_file)["tiny-arcface"]
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        spec.locate(tiny_settings.models_dir, tiny_settings.cache_dir)


def test_sface_is_configured_with_a_pinned_checksum(tmp_path: Path) -> None:
    sface = BUILTIN["sface-2021dec"]
    assert sface.sha256 is not None and len(sface.sha256) == 64
    assert sface.input.size == 112
    with pytest.raises(ModelUnavailable, match="missing"):
        sface.locate(tmp_path, tmp_path)


def test_a_broken_recognizers_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "recognizers.json"
    broken.write_text('[{"filename": "x.onnx"}]')
    with pytest.raises(ModelUnavailable, match="invalid"):
        load_recognizers(broken)
