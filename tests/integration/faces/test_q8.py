"""`omz-face-reid-0095-q8`: the FP16 IR's own weights quantised by us onto int8 kernels.

Real chips (CASIA-FaceV5 and LFW, the product's detector, mesh landmarks and the model's
alignment) must embed close to the FP16 model; the weights are quantised per output channel,
the same bytes every time; the activation ranges are pinned and bound to the FP16 IR, so a
missing, altered or foreign ranges file is MODEL_UNAVAILABLE; an IR the quantiser does not know
stops the conversion naming the layer, and ranges that do not fit the IR are refused.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import pytest
from faces_helpers import aligned_chips, optimized_op_types
from onnx import numpy_helper

from simkyc.config import Settings
from simkyc.convert.openvino_ir import IrFormatError, convert_openvino_ir
from simkyc.convert.qdq import ActivationRanges, is_per_channel, per_channel_int8
from simkyc.errors import ModelUnavailable
from simkyc.faces.models import sha256_of
from simkyc.faces.pipeline import FaceEncoder
from simkyc.faces.recognizers import (
    BUILTIN,
    OMZ_REID_FP16,
    OMZ_REID_ID,
    OMZ_REID_Q8_ID,
    OMZ_REID_Q8_SPEC,
    load_activation_ranges,
    load_recognizers,
    ranges_path,
)

pytestmark = pytest.mark.data  # the OpenVINO IR files in SIMKYC_MODELS_DIR

# Cosine to FP16, per chip: on the 12 CASIA + LFW chips here and their mirrors measured min
# 0.9891, median 0.9952 (per face, chip and mirror averaged: min 0.9926, median 0.9969; with
# the first calibration's per-tensor ranges: chip min 0.9923, median 0.9950; OMZ's INT8 IR on
# the same chips: min 0.904, median 0.978), 2026-12-05. On the calibration's held-out chips
# (NUAA and ZJU faces, scripts/calibrate_q8.py): per chip min 0.9837, median 0.9929; per face
# min 0.9904, 5th percentile 0.9931, median 0.9955.
MIN_COSINE_Q8 = 0.985
MEDIAN_COSINE_Q8 = 0.993
# The folded int8 graph to the float32 emulation of the same quantisation (plain QDQ, per-
# channel QuantizeLinear, float convolutions; the int8 graph also quantises the input of each
# PReLU before a folded tensor, which the emulation leaves float), per chip on the chips here:
# measured min 0.9912, median 0.9959; a fold that forgets the consumers' s_c: median 0.036.
MIN_COSINE_FOLD_TO_EMULATION = 0.985
MAX_MEDIAN_COSINE_WRONG_FOLD = 0.5

Vectors = npt.NDArray[np.float32]


@pytest.fixture(scope="module")
def photos(east_asian_dir: Path, lfw_dir: Path) -> list[Path]:
    casia = sorted((east_asian_dir / "casia-facev5-40").rglob("*.bmp"))[::25][:6]
    lfw = sorted((lfw_dir / "images_deepfunneled").rglob("*.jpg"))[::700][:6]
    return casia + lfw


def _embed(settings: Settings, model_id: str, photos: list[Path]) -> Vectors:
    """Unit embeddings of the FP16 recognizer's chips and their mirrors, by `model_id`."""
    import onnxruntime as ort

    encoder = FaceEncoder.from_settings(settings.model_copy(update={"recognizer": OMZ_REID_ID}))
    chips = aligned_chips(encoder, photos)
    spec = BUILTIN[model_id]
    session = ort.InferenceSession(str(spec.locate(settings.models_dir, settings.cache_dir)),
                                   providers=["CPUExecutionProvider"])
    tensor = spec.input.tensor(chips, mirrors=True)
    out = np.asarray(session.run(None, {"chips": tensor})[0], np.float32)
    unit: Vectors = out / np.linalg.norm(out, axis=1, keepdims=True)
    return unit


def test_q8_is_offered_with_the_fp16_files_and_its_ranges() -> None:
    assert load_recognizers(None)[OMZ_REID_Q8_ID] is OMZ_REID_Q8_SPEC
    fp16 = BUILTIN[OMZ_REID_ID]
    assert (OMZ_REID_Q8_SPEC.filename, OMZ_REID_Q8_SPEC.sha256,
            OMZ_REID_Q8_SPEC.weights_sha256) == (fp16.filename, fp16.sha256, fp16.weights_sha256)
    assert OMZ_REID_Q8_SPEC.ranges_file and OMZ_REID_Q8_SPEC.ranges_sha256
    assert "Apache-2.0" in OMZ_REID_Q8_SPEC.licence and "VGGFace2" in OMZ_REID_Q8_SPEC.licence


def test_q8_embeds_real_chips_close_to_fp16(settings: Settings, photos: list[Path]) -> None:
    q8 = _embed(settings, OMZ_REID_Q8_ID, photos)
    fp16 = _embed(settings, OMZ_REID_ID, photos)
    cosines = np.sum(q8 * fp16, axis=1)
    assert len(cosines) == 24  # 12 chips and their mirrors
    assert cosines.min() >= MIN_COSINE_Q8, cosines
    assert np.median(cosines) >= MEDIAN_COSINE_Q8, cosines


def test_q8_runs_int8_kernels(settings: Settings, tmp_path: Path) -> None:
    """ONNX Runtime's optimised graph: the convolutions between two quantised tensors are
    QLinearConv; float32 Conv is left for the layers the ranges file keeps float, the
    squeeze-excitation blocks' 1x1-pixel convolutions and the last one."""
    path = OMZ_REID_Q8_SPEC.locate(settings.models_dir, settings.cache_dir)
    kinds = optimized_op_types(path, tmp_path)
    assert kinds.count("QLinearConv") == 45
    assert kinds.count("QLinearLeakyRelu") == 30 and kinds.count("QLinearAdd") == 11


def _int8_initializers(path: Path) -> dict[str, bytes]:
    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t).tobytes() for t in model.graph.initializer
            if t.data_type == onnx.TensorProto.INT8}


def _ranges() -> ActivationRanges:
    return load_activation_ranges(
        _ranges_path(), sha256=OMZ_REID_Q8_SPEC.ranges_sha256,
        xml_sha256=OMZ_REID_FP16[1], bin_sha256=OMZ_REID_FP16[2])


def _ranges_path() -> Path:
    assert OMZ_REID_Q8_SPEC.ranges_file is not None
    return ranges_path(OMZ_REID_Q8_SPEC.ranges_file)


def test_weights_are_quantised_per_channel_the_same_every_time(
    settings: Settings, tmp_path: Path
) -> None:
    xml = settings.models_dir / OMZ_REID_Q8_SPEC.filename
    for name in ("a.onnx", "b.onnx"):
        convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / name, ranges=_ranges())
    first, second = _int8_initializers(tmp_path / "a.onnx"), _int8_initializers(
        tmp_path / "b.onnx")
    assert len(first) >= 45 and first == second
    weights = np.random.default_rng(0).normal(size=(8, 4, 3, 3)).astype(np.float32)
    weights[3] *= 100  # one loud channel must not coarsen the others
    weights[5] = 0
    values, scale = per_channel_int8(weights)
    assert scale.shape == (8,) and scale[5] == 1
    peaks = np.abs(values.reshape(8, -1)).max(axis=1)
    assert list(peaks) == [127] * 5 + [0] + [127] * 2
    assert np.abs(values * scale[:, None, None, None] - weights).max() <= scale.max() / 2 + 1e-6


def test_a_missing_or_altered_ranges_file_is_model_unavailable(tmp_path: Path) -> None:
    pinned = OMZ_REID_Q8_SPEC.ranges_sha256
    with pytest.raises(ModelUnavailable) as raised:
        load_activation_ranges(tmp_path / "gone.json", sha256=pinned,
                               xml_sha256=OMZ_REID_FP16[1], bin_sha256=OMZ_REID_FP16[2])
    assert raised.value.code == "MODEL_UNAVAILABLE" and "gone.json" in raised.value.message
    altered = tmp_path / "ranges.json"
    payload = json.loads(_ranges_path().read_text())
    payload["ranges"][next(iter(payload["ranges"]))] = [-1000.0, 1000.0]
    altered.write_text(json.dumps(payload))
    with pytest.raises(ModelUnavailable, match="pinned SHA-256"):
        load_activation_ranges(altered, sha256=pinned, xml_sha256=OMZ_REID_FP16[1],
                               bin_sha256=OMZ_REID_FP16[2])


def test_ranges_made_for_another_model_never_serve(tmp_path: Path) -> None:
    """Even pinned (an operator re-pinning a file by hand), ranges recorded for other IR bytes
    are refused: stale ranges would quantise the wrong tensors' scales silently."""
    foreign = tmp_path / "ranges.json"
    payload = json.loads(_ranges_path().read_text())
    payload["fp16_bin_sha256"] = "0" * 64
    foreign.write_text(json.dumps(payload))
    with pytest.raises(ModelUnavailable, match="made for another model") as raised:
        load_activation_ranges(foreign, sha256=sha256_of(foreign),
                               xml_sha256=OMZ_REID_FP16[1], bin_sha256=OMZ_REID_FP16[2])
    assert "calibrate_q8.py" in raised.value.message


def test_the_spec_refuses_a_missing_ranges_file(settings: Settings, tmp_path: Path) -> None:
    spec = dataclasses.replace(OMZ_REID_Q8_SPEC, ranges_file="no-such-ranges.json")
    with pytest.raises(ModelUnavailable) as raised:
        spec.locate(settings.models_dir, tmp_path / "cache")
    assert "no-such-ranges.json" in raised.value.message
    assert not (tmp_path / "cache").exists()


def test_an_operation_the_quantiser_does_not_know_is_named(
    settings: Settings, tmp_path: Path
) -> None:
    """Subtract is an operation the IR reader converts, but not one the q8 plan knows how to
    quantise around: the conversion stops naming it, and nothing is written."""
    source = settings.models_dir / OMZ_REID_Q8_SPEC.filename
    changed = tmp_path / "model.xml"
    changed.write_text(source.read_text().replace('type="Add"', 'type="Subtract"', 1))
    target = tmp_path / "model.onnx"
    with pytest.raises(IrFormatError, match=r"q8 quantiser .* Subtract/opset1 \(layer"):
        convert_openvino_ir(changed, source.with_suffix(".bin"), target, ranges=_ranges())
    assert not target.exists() and not list(tmp_path.glob("*.partial"))


def test_an_already_quantised_ir_is_refused(settings: Settings, tmp_path: Path) -> None:
    from simkyc.faces.recognizers import OMZ_REID_INT8_SPEC

    xml = settings.models_dir / OMZ_REID_INT8_SPEC.filename
    with pytest.raises(IrFormatError, match="FakeQuantize"):
        convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "m.onnx", ranges=_ranges())


def test_ranges_that_do_not_fit_the_ir_are_refused(settings: Settings, tmp_path: Path) -> None:
    ranges = _ranges()
    xml = settings.models_dir / OMZ_REID_Q8_SPEC.filename
    short = dict(ranges.ranges)
    dropped = next(iter(short))
    del short[dropped]
    with pytest.raises(IrFormatError, match=f"no range for .*'{dropped}'"):
        convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "m.onnx",
                            ranges=ActivationRanges(short, ranges.float_layers))
    extra = {**ranges.ranges, "not-a-layer": (0.0, 1.0)}
    with pytest.raises(IrFormatError, match=r"does not quantise .*not-a-layer"):
        convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "m.onnx",
                            ranges=ActivationRanges(extra, ranges.float_layers))
    with pytest.raises(IrFormatError, match="float_layers names no convolution"):
        convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "m.onnx",
                            ranges=ActivationRanges(ranges.ranges, frozenset({"nope"})))


def test_a_tampered_fp16_ir_is_model_unavailable_for_q8(settings: Settings, tmp_path: Path) -> None:
    """q8 reads the FP16 IR's own pinned files: altered weights never get quantised."""
    xml = tmp_path / "models" / OMZ_REID_Q8_SPEC.filename
    xml.parent.mkdir(parents=True)
    for suffix in (".xml", ".bin"):
        xml.with_suffix(suffix).write_bytes(
            (settings.models_dir / OMZ_REID_Q8_SPEC.filename).with_suffix(suffix).read_bytes())
    weights = bytearray(xml.with_suffix(".bin").read_bytes())
    weights[5000] ^= 1
    xml.with_suffix(".bin").write_bytes(bytes(weights))
    with pytest.raises(ModelUnavailable) as raised:
        OMZ_REID_Q8_SPEC.locate(tmp_path / "models", tmp_path / "cache")
    assert raised.value.code == "MODEL_UNAVAILABLE"
    assert str(xml.with_suffix(".bin")) in raised.value.message
    assert not (tmp_path / "cache").exists()


def _run(path: Path, tensor: Vectors) -> Vectors:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = np.asarray(session.run(None, {"chips": tensor})[0], np.float32)
    unit: Vectors = out / np.linalg.norm(out, axis=1, keepdims=True)
    return unit


def test_per_channel_ranges_fold_into_the_depthwise_convolutions(
    settings: Settings, photos: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ranges one per channel (tensors into depthwise convolutions) run on int8 kernels
    through the fold (the producer's weights and bias divided by s_c, the consumer's weight
    scales multiplied by s_c): the graph ONNX Runtime runs must compute what the plain QDQ
    graph of the same quantisation computes in float32 (per-channel QuantizeLinear, float
    convolutions); a fold that forgot the consumer's s_c would not."""
    from simkyc.convert import openvino_ir, qdq

    ranges = _ranges()
    per_channel = [k for k, v in ranges.ranges.items() if is_per_channel(v)]
    assert len(per_channel) >= 10
    xml = settings.models_dir / OMZ_REID_Q8_SPEC.filename
    encoder = FaceEncoder.from_settings(settings.model_copy(update={"recognizer": OMZ_REID_ID}))
    tensor = OMZ_REID_Q8_SPEC.input.tensor(aligned_chips(encoder, photos), mirrors=True)
    convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "folded.onnx", ranges=ranges)
    folded = _run(tmp_path / "folded.onnx", tensor)
    with monkeypatch.context() as patch:  # the same quantisation, emulated in float32
        patch.setattr(qdq, "arrange_for_int8_kernels", lambda nodes, inits: (nodes, inits))
        patch.setattr(openvino_ir, "_check_per_channel_folded", lambda graph, plan: None)
        convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "emulated.onnx",
                            ranges=ranges)
    emulated = _run(tmp_path / "emulated.onnx", tensor)
    agreement = np.sum(folded * emulated, axis=1)
    assert agreement.min() >= MIN_COSINE_FOLD_TO_EMULATION, agreement
    fold = qdq._fold_per_channel
    with monkeypatch.context() as patch:  # the consumers keep their own weight scales
        patch.setattr(qdq, "_fold_per_channel", lambda net, chain, scale, zero: fold(
            net, chain, np.ones_like(scale), zero))
        convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "wrong.onnx",
                            ranges=ranges)
    wrong = np.sum(_run(tmp_path / "wrong.onnx", tensor) * emulated, axis=1)
    assert np.median(wrong) < MAX_MEDIAN_COSINE_WRONG_FOLD, wrong


def test_per_channel_ranges_where_they_cannot_fold_are_refused(
    settings: Settings, tmp_path: Path
) -> None:
    """One range per channel for a tensor that does not go from an int8 convolution into
    depthwise convolutions only, or with the wrong number of channels, stops the conversion
    naming the layer: never a convolution silently left in float32."""
    from simkyc.convert.q8 import plan_q8

    ranges = _ranges()
    xml = settings.models_dir / OMZ_REID_Q8_SPEC.filename
    plan = plan_q8(xml.read_text(), ranges.float_layers, None)
    per_channel = next(k for k, v in ranges.ranges.items() if is_per_channel(v))
    other = next(k for k in ranges.ranges if k not in plan.per_channel)
    lows, highs = ranges.ranges[per_channel]
    assert isinstance(lows, tuple) and isinstance(highs, tuple)
    for name, value, message in (
        (other, (lows, highs), "does not go from an int8 convolution into int8 depthwise"),
        (per_channel, (lows[:-1], highs[:-1]), f"have {len(lows) - 1} lows"),
    ):
        changed = ActivationRanges({**ranges.ranges, name: value}, ranges.float_layers)
        with pytest.raises(IrFormatError, match=f"{re.escape(repr(name))}.*{re.escape(message)}"):
            convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "m.onnx",
                                ranges=changed)
    assert not (tmp_path / "m.onnx").exists()
