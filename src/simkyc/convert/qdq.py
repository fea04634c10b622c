"""An INT8 OpenVINO IR as an ONNX QDQ graph that ONNX Runtime runs on its int8 kernels.

OpenVINO's FakeQuantize with 256 levels and the same input and output range is exactly ONNX
QuantizeLinear (scale (high - low) / 255, zero point -low / scale) followed by
DequantizeLinear: `round((clip(x, lo, hi) - lo) / s) * s + lo` = `(clip(round(x / s) + z,
0, 255) - z) * s` when z is an integer. ONNX Runtime fuses `DequantizeLinear -> op ->
QuantizeLinear` groups into its int8 kernels (QLinearConv, QLinearAdd, QLinearMul,
QLinearLeakyRelu, QLinearGlobalAveragePool), but only where the quantised tensor follows the
operation directly. The IR quantises a convolution's *activated* output (Conv -> bias ->
PReLU -> FakeQuantize) and some of its ranges are per channel, which QLinearConv cannot take
as an input; `arrange_for_int8_kernels` rewrites those places:

- the bias Add becomes QLinearConv's int32 bias (scale = input scale x weight scale);
- a PReLU whose negative side the quantisation clips away (slope >= 0 into an unsigned
  range) is dropped, exactly; any other PReLU gets its input quantised over the range that
  PReLU maps onto the quantised one (the one step OpenVINO does not take: OpenVINO applies
  bias and PReLU in float32 before requantising);
- a per-channel range (s_c) feeding depthwise convolutions is folded: the producer's weights
  and bias are divided by s_c (PReLU commutes with a positive scale), the tensor is quantised
  per tensor with scale 1, and each consumer's per-channel weight scale is multiplied by s_c.

Forms this module does not know stop the conversion with IrFormatError naming the layer.

The same arrangement serves a float IR quantised by us (`ActivationRanges`, the
`omz-face-reid-0095-q8` recognizer): the reader places a QuantizeLinear + DequantizeLinear where
an INT8 IR would have its FakeQuantize, over ranges calibrated offline
(`scripts/calibrate_q8.py`), and quantises each convolution's weights per output channel,
symmetric int8 (`per_channel_int8`); from there the graph is the same as an INT8 IR's. Where a
tensor goes from an int8 convolution (past its bias and PReLU) into depthwise convolutions
only, its range may be one per channel (`channel_range_bounds`: one zero point for all
channels, as the fold needs), which the fold above takes like an INT8 IR's per-channel ranges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from simkyc.convert.openvino_ir import IrFormatError

if TYPE_CHECKING:
    from simkyc.convert.openvino_ir import _Dynamic, _Graph

__all__ = [
    "ActivationRanges", "Range", "arrange_for_int8_kernels", "channel_range_bounds",
    "dequantized_weights", "per_channel_int8", "quantize_dequantize", "range_bounds",
]

_LEVELS: Final = 256
# How far -low / scale may sit from an integer (in steps) and still be the IR's zero point;
# the IR's symmetric ranges (low = -high * 128 / 127) give 128 within float32 rounding.
_ZERO_POINT_TOLERANCE: Final = 1e-2

Floats = npt.NDArray[np.float32]
# One calibrated range: (low, high) for the whole tensor, or (lows, highs), one per channel
# (only where the tensor feeds depthwise convolutions, whose weights take the channel scales).
Range = tuple[float, float] | tuple[tuple[float, ...], tuple[float, ...]]


def is_per_channel(bounds: Range) -> bool:
    """Whether a range gives one (low, high) per channel rather than one for the tensor."""
    return isinstance(bounds[0], tuple)


_INT8_MAX: Final = 127


@dataclass(frozen=True)
class ActivationRanges:
    """How to quantise a float IR: each quantised tensor's range, by the IR layer producing it.

    `ranges` maps an IR layer's name to the (low, high) its output is quantised over (per
    tensor, uint8), or to (lows, highs) with one range per channel where the tensor feeds only
    depthwise convolutions (folded into the weights, `arrange_for_int8_kernels`);
    `float_layers` names convolutions kept in float32 (weights and input).
    Computed offline (scripts/calibrate_q8.py) and loaded from package data, never at run time.
    """

    ranges: Mapping[str, Range]
    float_layers: frozenset[str] = field(default_factory=frozenset)


def range_bounds(low: float, high: float) -> tuple[Floats, ...]:
    """A calibrated (low, high) as FakeQuantize bounds that 8-bit QuantizeLinear takes exactly.

    The range is widened to hold zero (zero padding and ReLU-like outputs must be exact) and
    moved by less than one step so that zero falls on a level (an integer zero point)."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high - low <= 0:
        high = low + 1e-6
    scale = (high - low) / (_LEVELS - 1)
    zero = min(max(round(-low / scale), 0), _LEVELS - 1)
    lo = np.asarray(-zero * scale, np.float32)
    hi = np.asarray((_LEVELS - 1 - zero) * scale, np.float32)
    return lo, hi, lo, hi


def channel_range_bounds(
    lows: tuple[float, ...], highs: tuple[float, ...]
) -> tuple[Floats, ...]:
    """Per-channel calibrated ranges as FakeQuantize bounds [1, C, 1, 1] sharing one zero point.

    The fold into depthwise convolutions quantises the tensor with scale 1 and one zero point,
    so every channel's range must put zero on the same level z: each channel gets the smallest
    scale s_c = max(high_c / (255 - z), -low_c / z) that holds its range, and z is the level
    (1..254, or 0 when no channel goes below zero) minimising the sum of log s_c (the
    resolution lost over all channels). Deterministic: the same ranges give the same bytes."""
    low = np.minimum(np.asarray(lows, np.float64), 0.0)
    high = np.maximum(np.asarray(highs, np.float64), 0.0)
    if low.shape != high.shape or low.ndim != 1 or low.size == 0:
        raise IrFormatError(
            f"per-channel ranges need as many lows as highs ({low.size} vs {high.size})")
    high = np.where(high - low <= 0, low + 1e-6, high)
    top = _LEVELS - 1
    if np.all(low == 0):
        zero, scale = 0, high / top
    else:
        levels = np.arange(1, top)[:, None]
        scales = np.maximum(high[None, :] / (top - levels), -low[None, :] / levels)
        best = int(np.argmin(np.sum(np.log(scales), axis=1)))
        zero, scale = best + 1, scales[best]
    shape = (1, len(scale), 1, 1)
    lo = (-zero * scale).astype(np.float32).reshape(shape)
    hi = ((top - zero) * scale).astype(np.float32).reshape(shape)
    return lo, hi, lo, hi


def per_channel_int8(weights: Floats) -> tuple[npt.NDArray[np.int8], Floats]:
    """Weights [O, ...] as symmetric int8 with one scale per output channel (axis 0).

    scale_o = max |w_o| / 127, q = round(w / scale_o) (half to even) in [-127, 127]: pure
    NumPy on the pinned weights, so the same file gives the same bytes every time. A channel
    of zeros gets scale 1 (its values are zero whatever the scale)."""
    flat = np.asarray(weights, np.float32).reshape(len(weights), -1)
    peak = np.max(np.abs(flat), axis=1)
    scale = np.where(peak > 0, peak / np.float32(_INT8_MAX), np.float32(1)).astype(np.float32)
    values = np.clip(np.round(flat / scale[:, None]), -_INT8_MAX, _INT8_MAX).astype(np.int8)
    return values.reshape(weights.shape), scale


def _fq_params(where: str, levels: int, bounds: tuple[Floats, ...]) -> tuple[Floats, Floats]:
    """The FakeQuantize's (scale, zero point) as arrays, or IrFormatError for other forms."""
    lo, hi, out_lo, out_hi = bounds
    if levels != _LEVELS:
        raise IrFormatError(
            f"{where}: FakeQuantize with levels={levels}; only {_LEVELS} levels map onto "
            "8-bit QuantizeLinear"
        )
    if not (np.allclose(lo, out_lo, rtol=1e-6, atol=0) and np.allclose(hi, out_hi, rtol=1e-6,
                                                                         atol=0)):
        raise IrFormatError(
            f"{where}: a FakeQuantize whose output range differs from its input range "
            "(requantising) is not supported with int8 kernels"
        )
    lo_b, hi_b = np.broadcast_arrays(lo, hi)
    if lo_b.size > 1 and (lo_b.ndim != 4 or lo_b.size != lo_b.shape[1]):
        raise IrFormatError(
            f"{where}: per-element FakeQuantize ranges of shape {lo_b.shape} are not supported; "
            "only one range or one per channel ([1, C, 1, 1])"
        )
    scale = ((hi_b - lo_b) / np.float32(_LEVELS - 1)).astype(np.float32).reshape(-1)
    if np.any(scale <= 0):
        raise IrFormatError(f"{where}: a FakeQuantize with an empty range is not supported")
    zero = -lo_b.reshape(-1) / scale
    rounded = np.round(zero)
    if np.any(np.abs(zero - rounded) > _ZERO_POINT_TOLERANCE) or np.any(
        (rounded < 0) | (rounded > _LEVELS - 1)
    ):
        raise IrFormatError(
            f"{where}: FakeQuantize range [{lo_b.min()}, {hi_b.max()}] puts zero between two "
            "levels; int8 kernels need an integer zero point in 0..255"
        )
    return scale, rounded.astype(np.float32)


def _qparams(graph: _Graph, scale: Floats, zero: Floats) -> tuple[list[str], dict[str, int]]:
    """Initializer names for (scale, uint8 zero point) and the `axis` attribute if per channel."""
    if scale.size == 1:
        return [graph.const("q_scale", np.asarray(scale[0], np.float32)),
                graph.const("q_zero", np.asarray(zero[0], np.uint8))], {}
    return [graph.const("q_scale", scale), graph.const("q_zero", zero.astype(np.uint8))], {
        "axis": 1}


def quantize_dequantize(
    graph: _Graph, where: str, name: str, levels: int, bounds: tuple[Floats, ...]
) -> _Dynamic:
    """One activation FakeQuantize as QuantizeLinear -> DequantizeLinear (uint8)."""
    scale, zero = _fq_params(where, levels, bounds)
    params, axis = _qparams(graph, scale, zero)
    quantized = graph.op("QuantizeLinear", [name, *params], **axis)
    return graph.op("DequantizeLinear", [quantized.name, *params], **axis)


def dequantized_weights(
    graph: _Graph, values: npt.NDArray[np.int8], scale: Floats
) -> str:
    """int8 weights [O, ...] and their scale (one, or one per O) behind a DequantizeLinear."""
    weights = graph.const("w_int8", values.astype(np.int8))
    if scale.size == 1:
        inputs = [graph.const("w_scale", np.asarray(scale[0], np.float32)),
                  graph.const("w_zero", np.asarray(0, np.int8))]
        return graph.op("DequantizeLinear", [weights, *inputs]).name
    inputs = [graph.const("w_scale", scale.astype(np.float32)),
              graph.const("w_zero", np.zeros(len(scale), np.int8))]
    return graph.op("DequantizeLinear", [weights, *inputs], axis=0).name


# --------------------------------------------------------------------------------------------
# Arranging the graph so ONNX Runtime's QDQ fusions apply
# --------------------------------------------------------------------------------------------


@dataclass
class _Net:
    """The graph being arranged: nodes, constants, who produces and who consumes each tensor."""

    nodes: list[onnx.NodeProto]
    consts: dict[str, npt.NDArray[np.generic]]
    before: dict[int, list[onnx.NodeProto]]  # new nodes to place before / after a node
    added: dict[int, list[onnx.NodeProto]]
    dropped: set[int]
    count: int = 0

    def producer(self, name: str) -> onnx.NodeProto | None:
        return next((n for n in self.nodes if name in n.output), None)

    def consumers(self, name: str) -> list[onnx.NodeProto]:
        return [n for n in self.nodes if name in n.input and id(n) not in self.dropped]

    def const(self, hint: str, value: npt.NDArray[np.generic]) -> str:
        self.count += 1
        name = f"int8_{hint}_{self.count}"
        self.consts[name] = value
        return name


@dataclass(frozen=True)
class _Chain:
    """Conv [-> bias Add] [-> LeakyRelu] -> QuantizeLinear, each the only user of the last."""

    conv: onnx.NodeProto
    bias_add: onnx.NodeProto | None
    bias: Floats | None
    activation: onnx.NodeProto | None
    quantize: onnx.NodeProto


def _single_consumer(net: _Net, name: str, kind: str) -> onnx.NodeProto | None:
    users = net.consumers(name)
    return users[0] if len(users) == 1 and users[0].op_type == kind else None


def _chain(net: _Net, conv: onnx.NodeProto, channels: int) -> _Chain | None:
    """The conv's chain up to its quantisation, or None where it does not have that form."""
    current = conv.output[0]
    add = _single_consumer(net, current, "Add")
    bias = None
    if add is not None:
        other = add.input[1] if add.input[0] == current else add.input[0]
        value = net.consts.get(other)
        if value is None or value.size not in {1, channels}:
            return None
        bias = np.broadcast_to(np.asarray(value, np.float32).reshape(-1), (channels,)).copy()
        current = add.output[0]
    activation = _single_consumer(net, current, "LeakyRelu")
    if activation is not None:
        current = activation.output[0]
    quantize = _single_consumer(net, current, "QuantizeLinear")
    if quantize is None:
        return None
    return _Chain(conv, add, bias, activation, quantize)


def _dq_params(net: _Net, node: onnx.NodeProto) -> tuple[Floats, Floats]:
    """(scale, zero point) of a QuantizeLinear / DequantizeLinear, flat, as float32."""
    return (np.asarray(net.consts[node.input[1]], np.float32).reshape(-1),
            np.asarray(net.consts[node.input[2]], np.float32).reshape(-1))


def arrange_for_int8_kernels(
    nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto]
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Rewrite each quantised convolution so ONNX Runtime can fuse it (module docstring)."""
    consts = {t.name: numpy_helper.to_array(t) for t in initializers}
    net = _Net(list(nodes), consts, defaultdict(list), defaultdict(list), set())
    for node in list(net.nodes):
        if node.op_type == "Conv":
            _arrange_conv(net, node)
    ordered: list[onnx.NodeProto] = []
    for node in net.nodes:
        ordered.extend(net.before[id(node)])
        if id(node) not in net.dropped:
            ordered.append(node)
        ordered.extend(net.added[id(node)])
    used = {name for node in ordered for name in node.input}
    tensors = [numpy_helper.from_array(np.asarray(v), k) for k, v in net.consts.items()
               if k in used]
    return ordered, tensors


def _weights_dq(net: _Net, conv: onnx.NodeProto) -> onnx.NodeProto | None:
    node = net.producer(conv.input[1])
    if node is None or node.op_type != "DequantizeLinear" or node.input[0] not in net.consts:
        return None
    return node


def _arrange_conv(net: _Net, conv: onnx.NodeProto) -> None:
    """Bias, activation and output quantisation of one convolution, as module docstring."""
    x_dq, w_dq = net.producer(conv.input[0]), _weights_dq(net, conv)
    if x_dq is None or x_dq.op_type != "DequantizeLinear" or w_dq is None:
        return
    x_scale, _ = _dq_params(net, x_dq)
    weights = net.consts[w_dq.input[0]]
    channels = len(weights)
    chain = _chain(net, conv, channels)
    if x_scale.size != 1 or chain is None:
        # Not a form QLinearConv takes (here the squeeze-excitation convolutions into
        # Sigmoid, 1x1 pixels): float32, with the weights dequantised once, not every run.
        conv.input[1] = _float_weights(net, w_dq)
        return
    out_scale, out_zero = _dq_params(net, chain.quantize)
    unit = np.ones(channels, np.float32)
    if out_scale.size > 1:
        if not _fold_per_channel(net, chain, out_scale, out_zero):
            return
        unit, out_scale, out_zero = out_scale, np.ones(1, np.float32), out_zero[:1]
    w_scale, _ = _dq_params(net, w_dq)
    w_scale_eff = (np.broadcast_to(w_scale, (channels,)) / unit).astype(np.float32)
    w_dq.input[1] = net.const("w_scale", w_scale_eff)
    w_dq.input[2] = net.const("w_zero", np.zeros(channels, np.int8))
    _set_axis(w_dq, 0)
    if chain.bias is not None:
        _bias_into_conv(net, chain, chain.bias / unit, (x_scale[0] * w_scale_eff))
    _activation(net, chain, float(out_scale[0]), float(out_zero[0]))


def _bias_into_conv(net: _Net, chain: _Chain, bias: Floats, scale: Floats) -> None:
    """The bias Add as QLinearConv's int32 bias (scale = input scale x weight scale)."""
    conv = chain.conv
    name = f"{conv.output[0]}_bias"
    # A channel whose weights are all but zero (scale ~1e-17 in this network) would put its
    # bias beyond int32 (NumPy's cast is then undefined): clip; that channel's output is its
    # bias either way, off by at most the clipped remainder (~5e-6 here).
    limit = np.iinfo(np.int32).max
    quantized = np.clip(np.round(bias.astype(np.float64) / scale), -limit, limit).astype(np.int32)
    net.before[id(conv)].append(helper.make_node(
        "DequantizeLinear",
        [net.const("bias_int32", quantized), net.const("bias_scale", scale.astype(np.float32)),
         net.const("bias_zero", np.zeros(len(bias), np.int32))],
        [name], axis=0))
    if len(conv.input) == 2:
        conv.input.append(name)
    conv.input[2] = name
    if chain.bias_add is not None:
        net.dropped.add(id(chain.bias_add))


def _alpha(activation: onnx.NodeProto) -> float:
    return next((a.f for a in activation.attribute if a.name == "alpha"), 0.01)


def _pre_activation_range(alpha: float, low: float, high: float) -> tuple[float, float]:
    """The inputs y that PReLU(alpha) maps into [low, high]: [0, high] and the negative
    side's preimage."""
    if high <= 0:
        raise IrFormatError(f"a PReLU into a range [{low}, {high}] with no positive side")
    y_low = low / alpha if alpha > 0 else (high / alpha if alpha < 0 else 0.0)
    return min(y_low, 0.0), high


def _float_weights(net: _Net, w_dq: onnx.NodeProto) -> str:
    """The weights a DequantizeLinear of constants gives, as one float32 constant."""
    values = net.consts[w_dq.input[0]].astype(np.float32)
    scale, _ = _dq_params(net, w_dq)
    shape = (-1,) + (1,) * (values.ndim - 1) if scale.size > 1 else ()
    return net.const("w_float", (values * scale.reshape(shape)).astype(np.float32))


def _set_axis(node: onnx.NodeProto, axis: int) -> None:
    del node.attribute[:]
    node.attribute.append(helper.make_attribute("axis", axis))


def _activation(net: _Net, chain: _Chain, scale: float, zero: float) -> None:
    """Connect the conv's output to its quantisation, through PReLU where it matters."""
    conv_out, activation = chain.conv.output[0], chain.activation
    low, high = (0 - zero) * scale, (_LEVELS - 1 - zero) * scale
    if activation is None:
        chain.quantize.input[0] = conv_out
        return
    alpha = _alpha(activation)
    if alpha >= 0 and low >= 0:
        # The quantisation clips everything below zero: PReLU's negative side never shows.
        chain.quantize.input[0] = conv_out
        net.dropped.add(id(activation))
        return
    y_low, _ = _pre_activation_range(alpha, low, high)
    pre_scale = np.float32((high - y_low) / (_LEVELS - 1))
    pre_zero = np.uint8(min(max(round(-y_low / float(pre_scale)), 0), _LEVELS - 1))
    params = [net.const("pre_scale", np.asarray(pre_scale)),
              net.const("pre_zero", np.asarray(pre_zero))]
    quantized, dequantized = f"{conv_out}_q", f"{conv_out}_dq"
    net.added[id(chain.conv)] += [
        helper.make_node("QuantizeLinear", [conv_out, *params], [quantized]),
        helper.make_node("DequantizeLinear", [quantized, *params], [dequantized]),
    ]
    activation.input[0] = dequantized


def _fold_per_channel(net: _Net, chain: _Chain, scale: Floats, zero: Floats) -> bool:
    """Per-channel ranges into depthwise convolutions: scale 1 per tensor, s_c in the weights.

    Returns False (nothing changed) where a consumer is not a depthwise convolution."""
    if np.any(zero != zero[0]):
        return False
    q = chain.quantize
    dqs = net.consumers(q.output[0])
    targets: list[onnx.NodeProto] = []
    for dq in dqs:
        users = net.consumers(dq.output[0]) if dq.op_type == "DequantizeLinear" else []
        if not users or not all(_is_depthwise(net, u, len(scale)) for u in users):
            return False
        targets += users
    one = net.const("unit_scale", np.asarray(np.float32(1)))
    zp = net.const("unit_zero", np.asarray(np.uint8(zero[0])))
    for node in [q, *dqs]:
        node.input[1], node.input[2] = one, zp
        del node.attribute[:]
    for user in targets:
        w_dq = _weights_dq(net, user)
        assert w_dq is not None
        w_scale, _ = _dq_params(net, w_dq)
        w_dq.input[1] = net.const("w_scale", (np.broadcast_to(w_scale, scale.shape) * scale)
                                  .astype(np.float32))
        w_dq.input[2] = net.const("w_zero", np.zeros(len(scale), np.int8))
        _set_axis(w_dq, 0)
    return True


def _is_depthwise(net: _Net, node: onnx.NodeProto, channels: int) -> bool:
    """A Conv with one group per channel and int8 weights [C, 1, kh, kw] behind a DQ."""
    if node.op_type != "Conv" or node.input[0] == "":
        return False
    group = next((a.i for a in node.attribute if a.name == "group"), 1)
    w_dq = _weights_dq(net, node)
    if w_dq is None:
        return False
    shape = net.consts[w_dq.input[0]].shape
    return group == channels and shape[0] == channels and shape[1] == 1
