"""Convert an OpenVINO IR (XML graph + .bin weights) to an ONNX graph run by ONNX Runtime.

Open Model Zoo ships `face-reidentification-retail-0095` only as OpenVINO IR (version 10/11).
Its operations are few and standard, so this reader rebuilds the network as ONNX instead of
adding OpenVINO to the runtime: one inference engine for every model. The reader knows each
operation it supports by (type, opset) and stops at any other with an error that names it:
a graph it does not fully understand is never written.

Constant sub-graphs (weights stored as f16 or i8, then converted, scaled, reshaped, fake-
quantised) are folded in NumPy with OpenVINO's semantics, so the ONNX graph holds float32
weights and only the operations applied to the image remain as nodes.
Reference for the semantics: OpenVINO's operation specifications (docs/ops/*), opset1.

With `int8_kernels=True` an INT8 IR keeps its integers: each activation FakeQuantize becomes
ONNX QuantizeLinear + DequantizeLinear (the scale and zero point its own input_low/high and
levels give) and each int8 weight a DequantizeLinear of the int8 tensor with its per-channel
scale; `simkyc.convert.qdq` then arranges the graph so ONNX Runtime fuses the groups into
its int8 kernels (QLinearConv, QLinearAdd, ...) instead of computing them in float32.

With `ranges` (`simkyc.convert.qdq.ActivationRanges`) a float IR is quantised by us: the
reader puts a QuantizeLinear + DequantizeLinear, over the calibrated range, after each layer
whose output an INT8 IR would quantise (`simkyc.convert.q8`: inputs of convolutions, of pooling, of
PReLU, of element-wise operations between two computed tensors), and quantises the weights of
each convolution between two such tensors per output channel (`qdq.per_channel_int8`); the
rest is the INT8 IR's path. `quantisation_probe` writes the float graph with those tensors as
extra outputs, which is how their ranges are measured (scripts/calibrate_q8.py).
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from simkyc.files import write_atomically

if TYPE_CHECKING:
    from simkyc.convert.q8 import Q8Plan
    from simkyc.convert.qdq import ActivationRanges, Range

__all__ = [
    "INPUT_NAME", "OUTPUT_NAME", "IrFormatError", "convert_openvino_ir", "ir_operations",
    "quantisation_probe",
]

logger = logging.getLogger(__name__)

INPUT_NAME: Final = "chips"
OUTPUT_NAME: Final = "embeddings"
_OPSET: Final = 17
_IR_VERSION: Final = 8

Array: TypeAlias = npt.NDArray[np.generic]

_DTYPES: Final = {
    "f16": np.float16, "f32": np.float32, "f64": np.float64, "i8": np.int8, "u8": np.uint8,
    "i32": np.int32, "i64": np.int64, "u1": np.uint8, "boolean": np.bool_,
}


class IrFormatError(ValueError):
    """The IR is not one this reader can convert faithfully (the message says why)."""


@dataclass(frozen=True)
class _Layer:
    """One <layer> of the IR: its identity, attributes and port ids."""

    ident: str
    name: str
    kind: str
    version: str
    data: dict[str, str]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    input_dims: tuple[tuple[int, ...], ...] = ()  # per input port, as the IR states them

    def describe(self) -> str:
        """`Type/opsetN (layer 'name')` for error messages."""
        return f"{self.kind}/{self.version} (layer {self.name!r}, id {self.ident})"


@dataclass(frozen=True)
class _Dynamic:
    """A tensor computed from the image: its ONNX name."""

    name: str


@dataclass(frozen=True)
class _QuantWeights:
    """Constant int8 weights and the per-output-channel scale multiplied onto them so far.

    Kept apart (in `int8_kernels` mode only) so the ONNX graph can hold the int8 tensor and
    its scale, which ONNX Runtime's int8 kernels take as they are."""

    values: npt.NDArray[np.int8]
    scale: npt.NDArray[np.float32]  # one per output channel (axis 0), or one in all

    def as_float(self) -> Array:
        """The weights as OpenVINO computes them: int8 -> f32 times the scale."""
        shape = (-1,) + (1,) * (self.values.ndim - 1) if self.scale.size > 1 else ()
        folded: Array = (self.values.astype(np.float32) * self.scale.reshape(shape)).astype(
            np.float32
        )
        return folded


_Value: TypeAlias = Array | _Dynamic | _QuantWeights


@dataclass
class _Graph:
    """ONNX nodes and initializers under construction, with unique names."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    count: int = 0

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint: str, value: Array) -> str:
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def name_of(self, value: _Value, hint: str) -> str:
        """An ONNX name for an operand: dynamic tensors as they are, constants as float32."""
        if isinstance(value, _Dynamic):
            return value.name
        return self.const(hint, np.asarray(_as_array(value), dtype=np.float32))

    def op(self, kind: str, inputs: list[str], **attrs: Any) -> _Dynamic:
        output = self.fresh(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [output], **attrs))
        return _Dynamic(output)


# --------------------------------------------------------------------------------------------
# Reading the XML
# --------------------------------------------------------------------------------------------


def _parse(xml_text: str) -> tuple[list[_Layer], dict[tuple[str, str], tuple[str, str]]]:
    """Layers in file order, and edges (to layer, to port) -> (from layer, from port)."""
    root = ET.fromstring(xml_text)
    if root.tag != "net" or root.get("version") not in {"10", "11"}:
        raise IrFormatError(
            f"not an OpenVINO IR v10/v11 (<{root.tag} version={root.get('version')!r}>)"
        )
    layers = [_layer(element) for element in root.iterfind("layers/layer")]
    edges: dict[tuple[str, str], tuple[str, str]] = {}
    for edge in root.iterfind("edges/edge"):
        target = (edge.get("to-layer", ""), edge.get("to-port", ""))
        edges[target] = (edge.get("from-layer", ""), edge.get("from-port", ""))
    return layers, edges


def _layer(element: ET.Element) -> _Layer:
    data = element.find("data")
    attrs = dict(data.attrib) if data is not None else {}
    return _Layer(
        ident=element.get("id", ""),
        name=element.get("name", ""),
        kind=element.get("type", ""),
        version=element.get("version", ""),
        data=attrs,
        inputs=tuple(p.get("id", "") for p in element.iterfind("input/port")),
        outputs=tuple(p.get("id", "") for p in element.iterfind("output/port")),
        input_dims=tuple(
            tuple(int(d.text or "-1") for d in p.iterfind("dim"))
            for p in element.iterfind("input/port")
        ),
    )


def _ints(text: str) -> list[int]:
    """ "1, 2" or "1,2" -> [1, 2]; "" -> []."""
    return [int(v) for v in text.replace(" ", "").split(",") if v]


def _topological(
    layers: list[_Layer], edges: dict[tuple[str, str], tuple[str, str]]
) -> list[_Layer]:
    """Layers ordered so every producer comes before its consumers."""
    by_id = {layer.ident: layer for layer in layers}
    done: set[str] = set()
    order: list[_Layer] = []
    for start in layers:
        stack = [(start, False)]
        while stack:
            layer, expanded = stack.pop()
            if layer.ident in done:
                continue
            if expanded:
                done.add(layer.ident)
                order.append(layer)
                continue
            stack.append((layer, True))
            for port in layer.inputs:
                source = edges.get((layer.ident, port))
                if source is None:
                    raise IrFormatError(f"input port {port} of {layer.describe()} is unconnected")
                if source[0] not in done:
                    stack.append((by_id[source[0]], False))
    return order


# --------------------------------------------------------------------------------------------
# Operations: each (type, opset) this reader knows, with OpenVINO's semantics
# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What an operation handler needs: the weights file, the graph, its input's name."""

    weights: bytes
    graph: _Graph
    int8_kernels: bool = False
    q8: Q8Plan | None = None
    inputs: list[onnx.ValueInfoProto] = field(default_factory=list)
    outputs: list[_Dynamic] = field(default_factory=list)


_Handler: TypeAlias = Callable[[_Context, _Layer, list[_Value]], _Value | None]


def _parameter(ctx: _Context, layer: _Layer, _: list[_Value]) -> _Value:
    shape = _ints(layer.data.get("shape", ""))
    if len(shape) != 4 or layer.data.get("element_type") not in {"f32", "f16"}:
        raise IrFormatError(f"{layer.describe()}: expected one float NCHW image input")
    if ctx.inputs:
        raise IrFormatError(f"{layer.describe()}: the IR has more than one input")
    ctx.inputs.append(
        helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", *shape[1:]])
    )
    return _Dynamic(INPUT_NAME)


def _const(ctx: _Context, layer: _Layer, _: list[_Value]) -> _Value:
    kind = layer.data.get("element_type", "")
    if kind not in _DTYPES or kind == "u1":
        raise IrFormatError(f"{layer.describe()}: element type {kind!r} is not supported")
    offset, size = int(layer.data["offset"]), int(layer.data["size"])
    if offset + size > len(ctx.weights):
        raise IrFormatError(f"{layer.describe()}: weights beyond the end of the .bin file")
    values = np.frombuffer(ctx.weights[offset : offset + size], dtype=_DTYPES[kind])
    shape = _ints(layer.data.get("shape", ""))
    if int(np.prod(shape)) != values.size:
        raise IrFormatError(f"{layer.describe()}: {values.size} values for shape {shape}")
    return values.reshape(shape).copy()


def _convert(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
    target = layer.data.get("destination_type", "")
    if target != "f32":
        raise IrFormatError(f"{layer.describe()}: conversion to {target!r} is not supported")
    (value,) = args
    if isinstance(value, _Dynamic):
        return ctx.graph.op("Cast", [value.name], to=TensorProto.FLOAT)
    array = _as_array(value)
    if ctx.int8_kernels and array.dtype == np.int8:
        return _QuantWeights(array.astype(np.int8), np.ones(1, np.float32))
    return array.astype(np.float32)


def _binary(onnx_kind: str, fold: Callable[[Array, Array], Array]) -> _Handler:
    """Add / Subtract / Multiply with NumPy broadcasting (`auto_broadcast="numpy"`)."""

    def handler(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
        if layer.data.get("auto_broadcast", "numpy") != "numpy":
            raise IrFormatError(f"{layer.describe()}: only numpy broadcasting is supported")
        lhs, rhs = args
        scaled = _scaled_weights(onnx_kind, lhs, rhs)
        if scaled is not None:
            return scaled
        if not isinstance(lhs, _Dynamic) and not isinstance(rhs, _Dynamic):
            return fold(np.asarray(_as_array(lhs), np.float32),
                        np.asarray(_as_array(rhs), np.float32))
        names = [ctx.graph.name_of(v, layer.kind.lower()) for v in (lhs, rhs)]
        return ctx.graph.op(onnx_kind, names)

    return handler


def _as_array(value: _Value) -> Array:
    """A constant operand as a NumPy array (int8 weights with their scale folded in)."""
    if isinstance(value, _QuantWeights):
        return value.as_float()
    if isinstance(value, _Dynamic):
        raise TypeError(f"{value.name} is not a constant")
    return value


def _scaled_weights(kind: str, lhs: _Value, rhs: _Value) -> _QuantWeights | None:
    """int8 weights times a per-output-channel (or single) scale stay int8 + scale."""
    if kind != "Mul":
        return None
    for weights, other in ((lhs, rhs), (rhs, lhs)):
        if not isinstance(weights, _QuantWeights) or isinstance(other, _Dynamic | _QuantWeights):
            continue
        factor = np.asarray(other, np.float32)
        per_channel = factor.ndim == weights.values.ndim and factor.shape[0] == len(weights.values)
        if factor.size == 1 or (per_channel and factor.size == factor.shape[0]):
            return _QuantWeights(weights.values, (weights.scale * factor.reshape(-1)).astype(
                np.float32))
    return None


def _reshape(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
    value, shape = args
    if isinstance(shape, _Dynamic):
        raise IrFormatError(f"{layer.describe()}: a computed target shape is not supported")
    target = [int(v) for v in np.asarray(shape).reshape(-1)]
    special_zero = layer.data.get("special_zero", "false") == "true"
    if isinstance(value, _Dynamic):
        if 0 in target and not special_zero:
            raise IrFormatError(f"{layer.describe()}: a zero dimension is not supported")
        shape_name = ctx.graph.const("shape", np.array(target, np.int64))
        return ctx.graph.op("Reshape", [value.name, shape_name])
    array = value.values if isinstance(value, _QuantWeights) else np.asarray(value)
    if special_zero:
        target = [array.shape[i] if v == 0 else v for i, v in enumerate(target)]
    if isinstance(value, _QuantWeights):
        # Only a reshape that keeps the output channels first keeps the scale per channel.
        reshaped = array.reshape(target)
        if value.scale.size == 1 or np.prod(reshaped.shape[:2]) == len(array):
            return _QuantWeights(reshaped.astype(np.int8), value.scale)
        return value.as_float().reshape(target)
    return array.reshape(target)


def _fake_quantize(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
    """y = round((clip(x, lo, hi) - lo) / (hi - lo) * (L - 1)) / (L - 1) * (oh - ol) + ol.

    Both NumPy and ONNX Round round half to even, as OpenVINO's reference does."""
    if layer.data.get("auto_broadcast", "numpy") != "numpy":
        raise IrFormatError(f"{layer.describe()}: only numpy broadcasting is supported")
    value, *bounds = args
    if any(isinstance(b, _Dynamic) for b in bounds):
        raise IrFormatError(f"{layer.describe()}: computed quantisation ranges are not supported")
    lo, hi, out_lo, out_hi = (np.asarray(_as_array(b), np.float32) for b in bounds)
    if np.any(hi < lo):
        raise IrFormatError(f"{layer.describe()}: input_high below input_low is not supported")
    if ctx.int8_kernels and isinstance(value, _Dynamic):
        from simkyc.convert.qdq import quantize_dequantize

        return quantize_dequantize(ctx.graph, layer.describe(), value.name, int(
            layer.data["levels"]), (lo, hi, out_lo, out_hi))
    if isinstance(value, _QuantWeights):
        value = value.as_float()
    if ctx.int8_kernels:
        # Weights quantised in the graph (the older POT form): folded exactly as OpenVINO
        # computes them, but the convolution they feed then runs in float32.
        logger.warning("%s: a FakeQuantize on constants is folded in float32; the operation it "
                       "feeds does not run on int8 kernels", layer.describe())
    steps = np.float32(int(layer.data["levels"]) - 1)
    width = hi - lo
    gain = np.where(width > 0, steps / np.where(width > 0, width, 1), 0).astype(np.float32)
    step_out = ((out_hi - out_lo) / steps).astype(np.float32)
    if not isinstance(value, _Dynamic):
        clipped = np.minimum(np.maximum(np.asarray(value, np.float32), lo), hi)
        folded: Array = (np.round((clipped - lo) * gain) * step_out + out_lo).astype(np.float32)
        return folded
    g = ctx.graph
    x = g.op("Min", [g.op("Max", [value.name, g.const("fq_lo", lo)]).name, g.const("fq_hi", hi)])
    shifted = g.op("Mul", [g.op("Sub", [x.name, g.const("fq_lo", lo)]).name,
                           g.const("fq_gain", gain)])
    levels = g.op("Round", [shifted.name])
    scaled = g.op("Mul", [levels.name, g.const("fq_step", step_out)])
    return g.op("Add", [scaled.name, g.const("fq_out_lo", out_lo)])


def _conv_attrs(layer: _Layer) -> dict[str, object]:
    """strides / dilations / pads of Convolution, GroupConvolution (explicit or valid)."""
    pad = layer.data.get("auto_pad", "explicit")
    if pad not in {"explicit", "notset", "valid"}:
        raise IrFormatError(f"{layer.describe()}: auto_pad={pad!r} is not supported")
    begins = _ints(layer.data.get("pads_begin", "0,0"))
    ends = _ints(layer.data.get("pads_end", "0,0"))
    if pad == "valid":
        begins, ends = [0] * len(begins), [0] * len(ends)
    return {
        "strides": _ints(layer.data["strides"]),
        "dilations": _ints(layer.data.get("dilations", "1,1")),
        "pads": begins + ends,
    }


def _dynamic_input(layer: _Layer, value: _Value) -> _Dynamic:
    if not isinstance(value, _Dynamic):
        raise IrFormatError(f"{layer.describe()}: a constant input is not supported")
    return value


def _constant_weights(layer: _Layer, value: _Value) -> Array:
    if isinstance(value, _Dynamic):
        raise IrFormatError(f"{layer.describe()}: computed weights are not supported")
    return np.asarray(_as_array(value), np.float32)


def _weights_name(
    ctx: _Context, layer: _Layer, value: _Value, merged_shape: tuple[int, ...]
) -> str:
    """The convolution's weights in ONNX: float32, or int8 behind a DequantizeLinear."""
    if ctx.q8 is not None and layer.ident in ctx.q8.int8_convs:
        from simkyc.convert.qdq import per_channel_int8

        floats = np.asarray(_as_array(value), np.float32).reshape(merged_shape)
        value = _QuantWeights(*per_channel_int8(floats))
    if isinstance(value, _QuantWeights):
        from simkyc.convert.qdq import dequantized_weights

        return dequantized_weights(ctx.graph, value.values.reshape(merged_shape), value.scale)
    return ctx.graph.const("conv_w", np.asarray(_as_array(value), np.float32).reshape(
        merged_shape))


def _convolution(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
    value, weights = _dynamic_input(layer, args[0]), _constant_weights(layer, args[1])
    if weights.ndim != 4:
        raise IrFormatError(f"{layer.describe()}: only 2-D convolutions are supported")
    w = _weights_name(ctx, layer, args[1], weights.shape)
    return ctx.graph.op("Conv", [value.name, w], kernel_shape=list(weights.shape[2:]),
                        **_conv_attrs(layer))


def _group_convolution(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
    """OpenVINO's weights are [G, O/G, I/G, kh, kw]; ONNX wants [O, I/G, kh, kw] + group."""
    value, weights = _dynamic_input(layer, args[0]), _constant_weights(layer, args[1])
    if weights.ndim != 5:
        raise IrFormatError(f"{layer.describe()}: only 2-D group convolutions are supported")
    groups = weights.shape[0]
    merged = weights.reshape(groups * weights.shape[1], *weights.shape[2:])
    w = _weights_name(ctx, layer, args[1], merged.shape)
    return ctx.graph.op("Conv", [value.name, w], kernel_shape=list(merged.shape[2:]),
                        group=groups, **_conv_attrs(layer))


def _prelu(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
    """PReLU: x for x >= 0, slope * x below.

    One slope shared by every channel (all of face-reidentification-retail-0095's 48) is ONNX's
    LeakyRelu(alpha=slope), for any slope, negative or above 1 alike. ONNX Runtime fuses
    LeakyRelu into the convolution before it and keeps the tensor in its blocked (NCHWc)
    layout; the element-wise form this reader wrote before (max(x, slope * x), or
    x + (slope - 1) * min(x, 0)) cost three extra passes per activation plus a layout reorder
    out of and back into each convolution: 45 -> 22 ms of kernel time for a batch of two chips
    in ONNX Runtime's profiler, one thread (on real chips: outputs within 2.4e-6, cosine
    >= 0.9999999).

    A 1-D slope of C values applies along the channel axis (axis 1), not the last one; ONNX
    Runtime's broadcasting PRelu kernel was slow, so that case keeps the element-wise form."""
    value, slope_value = _dynamic_input(layer, args[0]), _constant_weights(layer, args[1])
    slope = np.asarray(slope_value, np.float32)
    g = ctx.graph
    if slope.size == 1 or np.all(slope == slope.flat[0]):
        return g.op("LeakyRelu", [value.name], alpha=float(slope.flat[0]))
    if slope.ndim == 1:
        slope = slope.reshape(-1, 1, 1)
    if np.all(slope <= 1):
        scaled = g.op("Mul", [value.name, g.const("slope", slope)])
        return g.op("Max", [value.name, scaled.name])
    negative = g.op("Min", [value.name, g.const("zero", np.zeros((), np.float32))])
    excess = g.op("Mul", [negative.name, g.const("slope_minus_1", slope - np.float32(1))])
    return g.op("Add", [value.name, excess.name])


def _sigmoid(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
    return ctx.graph.op("Sigmoid", [_dynamic_input(layer, args[0]).name])


def _avg_pool(ctx: _Context, layer: _Layer, args: list[_Value]) -> _Value:
    value = _dynamic_input(layer, args[0])
    rounding = layer.data.get("rounding_type", "floor")
    pad = layer.data.get("auto_pad", "explicit")
    if rounding not in {"floor", "ceil"} or pad not in {"explicit", "notset", "valid"}:
        raise IrFormatError(
            f"{layer.describe()}: rounding_type={rounding!r} auto_pad={pad!r} not supported"
        )
    begins = _ints(layer.data.get("pads_begin", "0,0"))
    ends = _ints(layer.data.get("pads_end", "0,0"))
    if pad == "valid":
        begins, ends = [0] * len(begins), [0] * len(ends)
    kernel = _ints(layer.data["kernel"])
    spatial = list(layer.input_dims[0][2:]) if layer.input_dims else []
    if kernel == spatial and not any(begins + ends):
        # The squeeze-excitation pools: one window over the whole map. GlobalAveragePool is
        # the same value and runs faster in ONNX Runtime.
        return ctx.graph.op("GlobalAveragePool", [value.name])
    return ctx.graph.op(
        "AveragePool",
        [value.name],
        kernel_shape=_ints(layer.data["kernel"]),
        strides=_ints(layer.data["strides"]),
        pads=begins + ends,
        count_include_pad=0 if layer.data.get("exclude-pad", "false") == "true" else 1,
        ceil_mode=1 if rounding == "ceil" else 0,
    )


def _result(ctx: _Context, layer: _Layer, args: list[_Value]) -> None:
    ctx.outputs.append(_dynamic_input(layer, args[0]))


_HANDLERS: Final[dict[tuple[str, str], _Handler]] = {
    ("Parameter", "opset1"): _parameter,
    ("Const", "opset1"): _const,
    ("Convert", "opset1"): _convert,
    ("Add", "opset1"): _binary("Add", np.add),
    ("Subtract", "opset1"): _binary("Sub", np.subtract),
    ("Multiply", "opset1"): _binary("Mul", np.multiply),
    ("Reshape", "opset1"): _reshape,
    ("FakeQuantize", "opset1"): _fake_quantize,
    ("Convolution", "opset1"): _convolution,
    ("GroupConvolution", "opset1"): _group_convolution,
    ("PReLU", "opset1"): _prelu,
    ("Sigmoid", "opset1"): _sigmoid,
    ("AvgPool", "opset1"): _avg_pool,
    ("Result", "opset1"): _result,
}


def ir_operations(xml_text: str) -> set[tuple[str, str]]:
    """The (type, opset) pairs an IR uses."""
    layers, _ = _parse(xml_text)
    return {(layer.kind, layer.version) for layer in layers}


def _check_known(layers: list[_Layer]) -> None:
    """Every operation is one this reader knows, or an error naming those it does not."""
    unknown = sorted({f"{lay.kind}/{lay.version}" for lay in layers
                      if (lay.kind, lay.version) not in _HANDLERS})
    if unknown:
        first = next(lay for lay in layers if (lay.kind, lay.version) not in _HANDLERS)
        raise IrFormatError(
            f"the IR uses operation(s) this reader does not know: {', '.join(unknown)} "
            f"(first at {first.describe()}); no ONNX graph was written"
        )


def _build(
    xml_text: str, weights: bytes, name: str, int8_kernels: bool, q8: Q8Plan | None = None
) -> onnx.ModelProto:
    layers, edges = _parse(xml_text)
    _check_known(layers)
    ctx = _Context(weights, _Graph(), int8_kernels or (q8 is not None and not q8.probing), q8)
    values: dict[tuple[str, str], _Value] = {}
    probes: list[onnx.ValueInfoProto] = []
    for layer in _topological(layers, edges):
        args = [values[edges[(layer.ident, port)]] for port in layer.inputs]
        result = _HANDLERS[(layer.kind, layer.version)](ctx, layer, args)
        if q8 is not None and layer.ident in q8.quantised and isinstance(result, _Dynamic):
            result = _quantise_output(ctx, layer, result, q8.quantised[layer.ident], probes)
        if result is not None:
            for port in layer.outputs:
                values[(layer.ident, port)] = result
    if len(ctx.inputs) != 1 or len(ctx.outputs) != 1:
        raise IrFormatError("expected exactly one image input and one embedding output")
    flat = ctx.graph.op("Flatten", [ctx.outputs[0].name], axis=1)
    ctx.graph.nodes.append(helper.make_node("Identity", [flat.name], [OUTPUT_NAME]))
    if ctx.int8_kernels:
        from simkyc.convert.qdq import arrange_for_int8_kernels

        ctx.graph.nodes, ctx.graph.initializers = arrange_for_int8_kernels(
            ctx.graph.nodes, ctx.graph.initializers)
        if q8 is not None:
            _check_per_channel_folded(ctx.graph, q8)
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", None])
    graph = helper.make_graph(
        ctx.graph.nodes, name, ctx.inputs, [output, *probes], ctx.graph.initializers
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET)],
        ir_version=_IR_VERSION,
        producer_name="simkyc.convert.openvino_ir",
    )
    onnx.checker.check_model(model)
    return model


def _check_per_channel_folded(graph: _Graph, q8: Q8Plan) -> None:
    """A per-channel range the int8 path could not fold (its tensor feeds something other than
    int8 depthwise convolutions, or its producer is no int8 convolution) would leave a
    convolution silently in float32: stop instead, naming the layer."""
    from simkyc.convert.qdq import is_per_channel

    per_channel = {name for name, bounds in q8.quantised.values()
                   if bounds is not None and is_per_channel(bounds)}
    scales = {t.name: t for t in graph.initializers}
    for node in graph.nodes:
        if node.op_type == "QuantizeLinear" and numpy_helper.to_array(
                scales[node.input[1]]).size > 1:
            names = sorted(per_channel) or ["?"]
            raise IrFormatError(
                "a per-channel activation range could not be folded into depthwise "
                f"convolutions (ranges per channel for {names[:5]}): per-channel ranges are "
                "only for a tensor from an int8 convolution into int8 depthwise convolutions "
                "with as many channels; recompute them (scripts/calibrate_q8.py)"
            )


def convert_openvino_ir(
    xml_path: Path,
    bin_path: Path,
    onnx_path: Path,
    *,
    int8_kernels: bool = False,
    ranges: ActivationRanges | None = None,
) -> None:
    """Write the IR at `xml_path` + `bin_path` as an ONNX model at `onnx_path`.

    The model takes "chips" float32 [N, C, H, W] exactly as the IR's input (no preprocessing
    added) and returns "embeddings" [N, D]. Raises IrFormatError, naming the operation, for
    anything the reader does not know. Written to a temporary file and renamed: a failed
    conversion never leaves a partial model. `int8_kernels`: an INT8 IR's FakeQuantize and
    int8 weights as QDQ for ONNX Runtime's int8 kernels (see the module docstring); without
    it they are emulated in float32. `ranges`: a float IR quantised by us over these
    calibrated activation ranges (module docstring); a layer to quantise without a range, a
    range for a layer the plan does not quantise (a ranges file made for another IR) and an
    operation the quantiser does not know each stop with IrFormatError naming it.
    """
    from simkyc.convert.q8 import plan_q8

    xml_text = Path(xml_path).read_text()
    plan = None if ranges is None else plan_q8(xml_text, ranges.float_layers, ranges.ranges)
    model = _build(xml_text, Path(bin_path).read_bytes(), Path(xml_path).stem, int8_kernels,
                   plan)
    write_atomically(Path(onnx_path), lambda path: onnx.save_model(model, os.fspath(path)))


def quantisation_probe(
    xml_path: Path, bin_path: Path, onnx_path: Path, *, float_layers: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """Write the float IR as ONNX with every tensor the q8 plan quantises as an extra output.

    Each extra output is named after the IR layer producing it; returns those names, in graph
    order. Nothing is quantised: this is what the offline calibration runs over its chips."""
    from simkyc.convert.q8 import plan_q8

    xml_text = Path(xml_path).read_text()
    plan = plan_q8(xml_text, float_layers, None)
    model = _build(xml_text, Path(bin_path).read_bytes(), Path(xml_path).stem, False, plan)
    write_atomically(Path(onnx_path), lambda path: onnx.save_model(model, os.fspath(path)))
    return tuple(v.name for v in model.graph.output[1:])


def _quantise_output(
    ctx: _Context,
    layer: _Layer,
    value: _Dynamic,
    planned: tuple[str, Range | None],
    probes: list[onnx.ValueInfoProto],
) -> _Dynamic:
    """The layer's output behind its QDQ, or (probing) exposed as an output named after it."""
    name, bounds = planned
    if bounds is None:
        ctx.graph.nodes.append(helper.make_node("Identity", [value.name], [name]))
        probes.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                    ["N", None, None, None]))
        return value
    from simkyc.convert.qdq import channel_range_bounds, quantize_dequantize, range_bounds

    low, high = bounds
    if isinstance(low, tuple) and isinstance(high, tuple):
        levels = channel_range_bounds(low, high)
    else:
        assert isinstance(low, float) and isinstance(high, float)
        levels = range_bounds(low, high)
    return quantize_dequantize(ctx.graph, layer.describe(), value.name, 256, levels)
