"""An INT8 OpenVINO IR read onto ONNX Runtime's int8 kernels (simkyc.convert.qdq).

A tiny IR is built here in the form Open Model Zoo's INT8 models take: int8 weights scaled per
output channel, an activation FakeQuantize per tensor (symmetric and unsigned) and per channel
(into a depthwise convolution), PReLU with a positive and a negative slope. Its QDQ graph must
give the float32 emulation's outputs to within the quantisation, run on QLinearConv (not a
float fallback), and every FakeQuantize form the mapping does not cover must stop the
conversion with the layer's name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import pytest

from simkyc.convert.openvino_ir import IrFormatError, convert_openvino_ir

_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.int8): "i8", np.dtype(np.int64): "i64"}


@dataclass
class TinyIr:
    """Writes an OpenVINO IR v11 (XML + .bin) layer by layer."""

    layers: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)
    weights: bytearray = field(default_factory=bytearray)

    def const(self, value: npt.ArrayLike, dtype: type = np.float32) -> int:
        array = np.asarray(value, dtype)
        offset = len(self.weights)
        self.weights += array.tobytes()
        shape = ",".join(str(d) for d in array.shape)
        return self._layer("Const", [], element_type=_TYPES[array.dtype], shape=shape,
                           offset=str(offset), size=str(array.nbytes))

    def op(self, kind: str, inputs: list[int], **data: str) -> int:
        return self._layer(kind, inputs, **data)

    def _layer(self, kind: str, inputs: list[int], **data: str) -> int:
        ident = len(self.layers)
        attrs = " ".join(f'{k.replace("_dash_", "-")}="{v}"' for k, v in data.items())
        ports = "".join(f'<port id="{i}"/>' for i in range(len(inputs)))
        self.layers.append(
            f'<layer id="{ident}" name="l{ident}" type="{kind}" version="opset1">'
            f"<data {attrs}/><input>{ports}</input>"
            f'<output><port id="{len(inputs)}"/></output></layer>'
        )
        for port, source in enumerate(inputs):
            out_port = self._out_port(source)
            self.edges.append(f'<edge from-layer="{source}" from-port="{out_port}" '
                              f'to-layer="{ident}" to-port="{port}"/>')
        return ident

    def _out_port(self, ident: int) -> int:
        return self.layers[ident].count("<port id=") - 1

    def write(self, folder: Path) -> Path:
        xml = folder / "tiny.xml"
        xml.write_text(f'<?xml version="1.0"?><net name="tiny" version="11"><layers>'
                       f'{"".join(self.layers)}</layers><edges>{"".join(self.edges)}</edges></net>')
        xml.with_suffix(".bin").write_bytes(bytes(self.weights))
        return xml


def _fq(ir: TinyIr, x: int, lo: npt.ArrayLike, hi: npt.ArrayLike, *, levels: int = 256,
        out: tuple[npt.ArrayLike, npt.ArrayLike] | None = None) -> int:
    out_lo, out_hi = out if out is not None else (lo, hi)
    bounds = [ir.const(v) for v in (lo, hi, out_lo, out_hi)]
    return ir.op("FakeQuantize", [x, *bounds], levels=str(levels), auto_broadcast="numpy")


def _int8_weights(ir: TinyIr, rng: np.random.Generator, shape: tuple[int, ...]) -> int:
    values = ir.const(rng.integers(-127, 128, shape), np.int8)
    scale = ir.const(rng.uniform(0.002, 0.01, (shape[0], 1, 1, 1)))
    return ir.op("Multiply", [ir.op("Convert", [values], destination_type="f32"), scale],
                 auto_broadcast="numpy")


def _conv_block(ir: TinyIr, x: int, rng: np.random.Generator, weights: int, *, slope: float,
                channels: int, group: bool = False) -> int:
    conv_data = {"strides": "1,1", "dilations": "1,1", "pads_begin": "1,1", "pads_end": "1,1",
                 "auto_pad": "explicit"}
    conv = ir.op("GroupConvolution" if group else "Convolution", [x, weights], **conv_data)
    biased = ir.op("Add", [conv, ir.const(rng.uniform(-0.2, 0.2, (1, channels, 1, 1)))],
                   auto_broadcast="numpy")
    return ir.op("PReLU", [biased, ir.const([slope])])


def tiny_int8_ir(folder: Path, **fq_change: object) -> Path:
    """image -> FQ -> conv 3x3 -> PReLU(0.25) -> FQ per channel -> depthwise 3x3 ->
    PReLU(-0.5) -> FQ unsigned -> conv 3x3 -> FQ -> output; `fq_change` alters the first FQ."""
    rng = np.random.default_rng(7)
    ir = TinyIr()
    image = ir.op("Parameter", [], shape="1,3,8,8", element_type="f32")
    step = 1 / 64  # symmetric: low = -128 steps, high = 127 steps
    first = _fq(ir, image, fq_change.get("lo", -128 * step), fq_change.get("hi", 127 * step),
                **{k: v for k, v in fq_change.items() if k in {"levels", "out"}})  # type: ignore[arg-type]
    a = _conv_block(ir, first, rng, _int8_weights(ir, rng, (6, 3, 3, 3)), slope=0.25,
                    channels=6)
    steps = rng.uniform(0.005, 0.02, (1, 6, 1, 1))
    a = _fq(ir, a, -128 * steps, 127 * steps)
    depthwise = ir.op("Reshape", [_int8_weights(ir, rng, (6, 1, 3, 3)),
                                  ir.const([6, 1, 1, 3, 3], np.int64)], special_zero="false")
    b = _conv_block(ir, a, rng, depthwise, slope=-0.5, channels=6, group=True)
    b = _fq(ir, b, 0.0, 0.4)
    c = ir.op("Convolution", [b, _int8_weights(ir, rng, (4, 6, 3, 3))], strides="1,1",
              dilations="1,1", pads_begin="1,1", pads_end="1,1", auto_pad="explicit")
    c = _fq(ir, c, -128 * 0.002, 127 * 0.002)
    ir.op("Result", [c])
    return ir.write(folder)


def _session(path: Path, optimized: Path | None = None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    if optimized is not None:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(optimized)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run(path: Path, images: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    output: npt.NDArray[np.float32] = _session(path).run(None, {"chips": images})[0]
    return output


@pytest.fixture
def converted(tmp_path: Path) -> tuple[Path, Path]:
    """(QDQ graph, float32 emulation) of the same tiny IR."""
    xml = tiny_int8_ir(tmp_path)
    qdq, emulated = tmp_path / "qdq.onnx", tmp_path / "float.onnx"
    convert_openvino_ir(xml, xml.with_suffix(".bin"), qdq, int8_kernels=True)
    convert_openvino_ir(xml, xml.with_suffix(".bin"), emulated)
    return qdq, emulated


def test_the_int8_graph_gives_the_emulations_outputs(converted: tuple[Path, Path]) -> None:
    qdq, emulated = converted
    images = np.random.default_rng(3).uniform(-2, 2, (4, 3, 8, 8)).astype(np.float32)
    ours, reference = _run(qdq, images), _run(emulated, images)
    step = 0.002  # the output FakeQuantize's step
    assert np.any(reference != 0)
    # Same grid; the one step OpenVINO does not take (PReLU's input quantised) moves a few.
    assert np.mean(np.abs(ours - reference)) <= 0.5 * step
    cosine = np.sum(ours * reference) / np.linalg.norm(ours) / np.linalg.norm(reference)
    assert cosine >= 0.999  # measured 0.99995


def test_onnx_runtime_fuses_every_convolution_into_qlinearconv(
    converted: tuple[Path, Path], tmp_path: Path
) -> None:
    qdq, _ = converted
    optimized = tmp_path / "optimized.onnx"
    _session(qdq, optimized)
    kinds = [node.op_type for node in onnx.load(str(optimized)).graph.node]
    assert kinds.count("QLinearConv") == 3
    assert "Conv" not in kinds  # no float fallback
    assert "QLinearLeakyRelu" in kinds  # PReLU on int8 too


def test_per_channel_ranges_fold_into_the_depthwise_weights(converted: tuple[Path, Path]) -> None:
    """QLinearConv takes one input scale: the per-channel FQ becomes scale 1 per tensor."""
    qdq, _ = converted
    model = onnx.load(str(qdq))
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    quantize = [n for n in model.graph.node if n.op_type == "QuantizeLinear"]
    assert all(consts[n.input[1]].size == 1 for n in quantize)


@pytest.mark.parametrize(("change", "message"), [
    ({"levels": 255}, "levels=255"),
    ({"out": (-1.0, 1.0)}, "output range differs"),
    ({"lo": -1.0, "hi": 1.0}, "integer zero point"),
    ({"lo": np.full((1, 3, 8, 8), -2.0), "hi": np.full((1, 3, 8, 8), 2.0)}, "per-element"),
])
def test_an_unsupported_fakequantize_is_named(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    xml = tiny_int8_ir(tmp_path, **change)
    target = tmp_path / "qdq.onnx"
    with pytest.raises(IrFormatError, match=rf"FakeQuantize/opset1 \(layer 'l\d+'.*{message}"):
        convert_openvino_ir(xml, xml.with_suffix(".bin"), target, int8_kernels=True)
    assert not target.exists()


def test_weights_quantised_in_the_graph_are_folded_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The older POT form (float weights -> FakeQuantize -> Convolution) converts correctly,
    in float32 for that convolution, and the log names the layer."""
    ir = TinyIr()
    image = ir.op("Parameter", [], shape="1,3,8,8", element_type="f32")
    x = _fq(ir, image, -128 / 64, 127 / 64)
    weights = ir.const(np.random.default_rng(2).uniform(-1, 1, (4, 3, 3, 3)))
    w = _fq(ir, weights, -1.0, 1.0, levels=255)
    y = ir.op("Convolution", [x, w], strides="1,1", dilations="1,1", pads_begin="0,0",
              pads_end="0,0", auto_pad="explicit")
    ir.op("Result", [_fq(ir, y, -128 * 0.05, 127 * 0.05)])
    xml = ir.write(tmp_path)
    with caplog.at_level(logging.WARNING, logger="simkyc.convert.openvino_ir"):
        convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "q.onnx", int8_kernels=True)
    assert f"FakeQuantize/opset1 (layer 'l{w}'" in caplog.text
    convert_openvino_ir(xml, xml.with_suffix(".bin"), tmp_path / "f.onnx")
    images = np.random.default_rng(4).uniform(-2, 2, (2, 3, 8, 8)).astype(np.float32)
    assert np.allclose(_run(tmp_path / "q.onnx", images), _run(tmp_path / "f.onnx", images),
                       atol=0.05 + 1e-6)


def test_per_channel_ranges_share_one_zero_point_and_hold_every_channel() -> None:
    """The fold into depthwise convolutions quantises the tensor with scale 1 and one zero
    point: each channel's bounds must put zero on the same level and still hold its range."""
    from simkyc.convert.qdq import _fq_params, channel_range_bounds

    lows = (-0.5, -2.0, 0.0, -0.01, 0.0)
    highs = (4.0, 3.0, 10.0, 0.2, 0.0)  # the last channel is dead
    bounds = channel_range_bounds(lows, highs)
    lo, hi = bounds[0].reshape(-1), bounds[1].reshape(-1)
    assert bounds[0].shape == (1, 5, 1, 1)
    assert np.all(lo <= np.minimum(lows, 0) + 1e-7) and np.all(hi >= np.maximum(highs, 0) - 1e-7)
    scale, zero = _fq_params("test", 256, bounds)
    assert np.all(zero == zero[0]) and 0 < zero[0] < 255 and np.all(scale > 0)
    positive = channel_range_bounds((0.0, 0.0), (1.0, 2.0))
    assert np.all(positive[0] == 0) and np.allclose(positive[1].reshape(-1), [1.0, 2.0])
    with pytest.raises(IrFormatError, match="as many lows as highs"):
        channel_range_bounds((0.0,), (1.0, 2.0))
