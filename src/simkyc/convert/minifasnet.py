"""Convert Minivision's MiniFASNet anti-spoofing weights (PyTorch state dicts) to ONNX.

Silent-Face-Anti-Spoofing (github.com/minivision-ai/Silent-Face-Anti-Spoofing, Apache-2.0) ships
MiniFASNetV2 and MiniFASNetV1SE as legacy (non-zip, pre-torch-1.6) pickles of their state dicts.
They are read by `torch_pickle` (numpy only, no code from the file runs), and the inference graph
of upstream's src/model_lib/MiniFASNet.py is rebuilt with onnx.helper: BatchNorm folded into the
convolutions and into the embedding layer, PReLU, V1SE's squeeze-and-excitation units, then
linear + BatchNorm1d + classifier. The graph takes the 80x80 BGR 0-255 NCHW patches upstream
feeds its networks and returns the three class logits (class 1 = live).

What runs at inference: upstream trains MultiFTNet (MiniFASNet plus an FTGenerator branch that
regresses the patch's Fourier spectrum) but predicts with the bare MiniFASNet
(src/anti_spoof_predict.py); the released files hold only its weights, prefixed "module." by
DataParallel. Dropout is the identity in eval mode, so it has no node here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from simkyc.convert.torch_pickle import StateDict, read_legacy_state_dict
from simkyc.files import write_atomically

__all__ = [
    "INPUT_NAME",
    "INPUT_SIZE",
    "NUM_CLASSES",
    "OUTPUT_NAME",
    "MiniFASNetFormatError",
    "Variant",
    "build_minifasnet",
    "convert_minifasnet",
]

INPUT_NAME: Final = "patches"
OUTPUT_NAME: Final = "logits"
INPUT_SIZE: Final = 80  # both released models take 80x80 patches ("80x80" in their file names)
NUM_CLASSES: Final = 3  # upstream's classes: 0 and 2 are attack types, 1 is live

_OPSET: Final = 17
_IR_VERSION: Final = 8  # the IR version that goes with opset 17 (ONNX 1.12), for older runtimes

Float64: TypeAlias = npt.NDArray[np.float64]


class MiniFASNetFormatError(ValueError):
    """The weights are not those of the MiniFASNet variant this converter builds."""


# --------------------------------------------------------------------------------------------
# The network (src/model_lib/MiniFASNet.py at upstream commit b6d5f04)
# --------------------------------------------------------------------------------------------


class Variant(StrEnum):
    """The two MiniFASNet architectures upstream released 80x80 weights for."""

    V2 = "MiniFASNetV2"
    V1SE = "MiniFASNetV1SE"


# Upstream's `keep_dict`: the channel widths left after pruning a MobileFaceNet, '1.8M' for
# V1/V1SE and '1.8M_' for V2. The network is a chain of 49 convolutions and entry i is the output
# width of the i-th: conv1, conv2_dw, then expand/depthwise/project for each of 15 bottleneck
# units, then conv_6_sep and conv_6_dw. The stages below walk this list three entries per unit.
_KEEP: Final[Mapping[Variant, tuple[int, ...]]] = {
    Variant.V1SE: (
        32, 32, 103, 103, 64, 13, 13, 64, 26, 26, 64, 13, 13, 64, 52, 52, 64, 231, 231, 128,
        154, 154, 128, 52, 52, 128, 26, 26, 128, 52, 52, 128, 26, 26, 128, 26, 26, 128, 308, 308,
        128, 26, 26, 128, 26, 26, 128, 512, 512,
    ),
    Variant.V2: (
        32, 32, 103, 103, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 231, 231, 128,
        231, 231, 128, 52, 52, 128, 26, 26, 128, 77, 77, 128, 26, 26, 128, 26, 26, 128, 308, 308,
        128, 26, 26, 128, 26, 26, 128, 512, 512,
    ),
}  # fmt: skip

_EMBEDDING: Final = 128  # upstream's embedding_size; with 512 its `linear` layer would be skipped
_CONV6_KERNEL: Final = (INPUT_SIZE + 15) // 16  # utility.get_kernel: 5 for 80x80 input
_BN_EPS: Final = 1e-5  # torch's BatchNorm default; upstream never sets eps
_SE_REDUCTION: Final = 4  # ResidualSE's se_reduct default, the one MiniFASNetSE uses


@dataclass(frozen=True)
class _Stage:
    """A run of bottleneck units (upstream's Depth_Wise, Residual or ResidualSE)."""

    name: str
    units: int
    stride: int

    @property
    def residual(self) -> bool:
        """Stride-1 stages are Residual containers ("<name>.model.<i>", with shortcuts);
        the strided ones are a single Depth_Wise without a shortcut."""
        return self.stride == 1

    def unit_prefix(self, index: int) -> str:
        """The state-dict prefix of the index-th unit."""
        return f"{self.name}.model.{index}" if self.residual else self.name


_STAGES: Final = (
    _Stage("conv_23", 1, 2),
    _Stage("conv_3", 4, 1),
    _Stage("conv_34", 1, 2),
    _Stage("conv_4", 6, 1),
    _Stage("conv_45", 1, 2),
    _Stage("conv_5", 2, 1),
)


class _Weights:
    """The state dict by upstream's module names, each tensor's shape checked when taken."""

    def __init__(self, tensors: StateDict) -> None:
        """Index *tensors*, dropping DataParallel's "module." prefix."""
        self._tensors = {name.removeprefix("module."): array for name, array in tensors.items()}
        self._taken: set[str] = set()

    def take(self, name: str, shape: tuple[int, ...]) -> Float64:
        """The tensor *name*, which must have *shape*, in float64 for folding."""
        array = self._tensors.get(name)
        if array is None:
            raise MiniFASNetFormatError(f"the weights have no {name}")
        if array.shape != shape:
            raise MiniFASNetFormatError(f"{name} has shape {array.shape}, the network {shape}")
        self._taken.add(name)
        return array.astype(np.float64)

    def check_all_taken(self) -> None:
        """Fail on weights the network does not use, as torch's strict load_state_dict does."""
        left = sorted(
            name
            for name in self._tensors
            if name not in self._taken and not name.endswith(".num_batches_tracked")
        )
        if left:
            raise MiniFASNetFormatError(f"weights the network does not have: {left[:5]}")


@dataclass(frozen=True)
class _Value:
    """A tensor in the graph being built: its name, channels and (square) spatial size."""

    name: str
    channels: int
    size: int


class _Graph:
    """Accumulates ONNX nodes and initializers with unique, readable names."""

    def __init__(self) -> None:
        """Start an empty graph."""
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def fresh(self, hint: str) -> str:
        """A new unique tensor name."""
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, array: Float64) -> str:
        """Add *array* as a float32 initializer and return its name."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: int | list[int]) -> str:
        """Add one node with a single output and return the output's name."""
        out = self.fresh(op_type.lower())
        node = helper.make_node(op_type, inputs, [out], name=f"{out}_node")
        node.attribute.extend(helper.make_attribute(key, val) for key, val in attrs.items())
        self.nodes.append(node)
        return out


def _bn_fold(weights: _Weights, name: str, channels: int) -> tuple[Float64, Float64]:
    """BatchNorm in eval mode as y = scale * x + shift, per channel."""
    gamma, beta, mean, var = (
        weights.take(f"{name}.{part}", (channels,))
        for part in ("weight", "bias", "running_mean", "running_var")
    )
    scale = gamma / np.sqrt(var + _BN_EPS)
    return scale, beta - mean * scale


def _conv_bn(
    graph: _Graph,
    weights: _Weights,
    x: _Value,
    names: tuple[str, str],
    out: int,
    *,
    kernel: int = 1,
    stride: int = 1,
    depthwise: bool = False,
) -> _Value:
    """A bias-free Conv2d followed by BatchNorm2d, folded into one Conv node.

    Depthwise convolutions (upstream's groups=in_channels) keep the channel count. Padding is
    (kernel - 1) / 2 for the 3x3 convolutions and none for 1x1 and conv_6_dw's 5x5 (upstream's
    padding arguments), which is what `kernel == 3` decides below.
    """
    conv_name, bn_name = names
    if depthwise and out != x.channels:
        raise MiniFASNetFormatError(f"{conv_name}: depthwise from {x.channels} to {out} channels")
    groups = x.channels if depthwise else 1
    kernel_w = weights.take(f"{conv_name}.weight", (out, x.channels // groups, kernel, kernel))
    scale, shift = _bn_fold(weights, bn_name, out)
    pad = 1 if kernel == 3 else 0
    name = graph.op(
        "Conv",
        [x.name, graph.const("w", kernel_w * scale[:, None, None, None]), graph.const("b", shift)],
        kernel_shape=[kernel, kernel],
        strides=[stride, stride],
        pads=[pad] * 4,
        group=groups,
    )
    return _Value(name, out, (x.size + 2 * pad - kernel) // stride + 1)


def _prelu(graph: _Graph, weights: _Weights, x: _Value, name: str) -> _Value:
    """PReLU with one slope per channel, broadcast over (C, H, W)."""
    slope = weights.take(f"{name}.weight", (x.channels,)).reshape(-1, 1, 1)
    return _Value(graph.op("PRelu", [x.name, graph.const("slope", slope)]), x.channels, x.size)


def _conv_block(
    graph: _Graph, weights: _Weights, x: _Value, prefix: str, out: int, **conv: Any
) -> _Value:
    """Upstream's Conv_block: conv, BatchNorm, PReLU."""
    y = _conv_bn(graph, weights, x, (f"{prefix}.conv", f"{prefix}.bn"), out, **conv)
    return _prelu(graph, weights, y, f"{prefix}.prelu")


def _linear_block(
    graph: _Graph, weights: _Weights, x: _Value, prefix: str, out: int, **conv: Any
) -> _Value:
    """Upstream's Linear_block: conv and BatchNorm, no activation."""
    return _conv_bn(graph, weights, x, (f"{prefix}.conv", f"{prefix}.bn"), out, **conv)


def _squeeze_excite(graph: _Graph, weights: _Weights, x: _Value, prefix: str) -> _Value:
    """Upstream's SEModule: x * sigmoid(BN(fc2(relu(BN(fc1(avgpool(x))))))), 1x1 convs as fc."""
    pooled = _Value(graph.op("GlobalAveragePool", [x.name]), x.channels, 1)
    names = (f"{prefix}.fc1", f"{prefix}.bn1"), (f"{prefix}.fc2", f"{prefix}.bn2")
    hidden = _conv_bn(graph, weights, pooled, names[0], x.channels // _SE_REDUCTION)
    hidden = _Value(graph.op("Relu", [hidden.name]), hidden.channels, 1)
    gate = graph.op("Sigmoid", [_conv_bn(graph, weights, hidden, names[1], x.channels).name])
    return _Value(graph.op("Mul", [x.name, gate]), x.channels, x.size)


def _unit(
    graph: _Graph,
    weights: _Weights,
    x: _Value,
    *,
    prefix: str,
    widths: tuple[int, ...],
    stage: _Stage,
    se: bool,
) -> _Value:
    """Upstream's Depth_Wise(_SE): 1x1 expand, 3x3 depthwise, 1x1 project, [SE], [+ input]."""
    expand, depthwise, project = widths
    y = _conv_block(graph, weights, x, f"{prefix}.conv", expand)
    y = _conv_block(
        graph,
        weights,
        y,
        f"{prefix}.conv_dw",
        depthwise,
        kernel=3,
        stride=stage.stride,
        depthwise=True,
    )
    y = _linear_block(graph, weights, y, f"{prefix}.project", project)
    if se:  # Depth_Wise_SE applies its SE module only on the residual path, before the sum
        y = _squeeze_excite(graph, weights, y, f"{prefix}.se_module")
    if not stage.residual:
        return y
    if (y.channels, y.size) != (x.channels, x.size):
        raise MiniFASNetFormatError(f"{prefix}: the shortcut and the unit's output differ in shape")
    return _Value(graph.op("Add", [x.name, y.name]), y.channels, y.size)


def _head(graph: _Graph, weights: _Weights, x: _Value) -> str:
    """Flatten, linear 512 -> 128 with BatchNorm1d folded in, then the bias-free classifier."""
    if x.size != 1:
        raise MiniFASNetFormatError(f"conv_6_dw leaves {x.size}x{x.size} maps, the head needs 1x1")
    flat = graph.op("Flatten", [x.name], axis=1)
    linear = weights.take("linear.weight", (_EMBEDDING, x.channels))
    scale, shift = _bn_fold(weights, "bn", _EMBEDDING)
    embedding = graph.op(
        "Gemm",
        [flat, graph.const("linear_w", linear * scale[:, None]), graph.const("linear_b", shift)],
        transB=1,
    )
    classifier = weights.take("prob.weight", (NUM_CLASSES, _EMBEDDING))
    return graph.op("MatMul", [embedding, graph.const("prob_w", classifier.T)])


def _backbone(graph: _Graph, weights: _Weights, variant: Variant) -> _Value:
    """conv1 .. conv_6_dw: the 49 convolutions of the keep list, with SE units for V1SE."""
    keep = _KEEP[variant]
    x = _Value(INPUT_NAME, 3, INPUT_SIZE)
    x = _conv_block(graph, weights, x, "conv1", keep[0], kernel=3, stride=2)
    x = _conv_block(graph, weights, x, "conv2_dw", keep[1], kernel=3, depthwise=True)
    index = 2
    for stage in _STAGES:
        for unit in range(stage.units):
            # MiniFASNetSE puts an SE module on the last unit of each Residual stage.
            se = variant is Variant.V1SE and stage.residual and unit == stage.units - 1
            widths = keep[index : index + 3]
            x = _unit(
                graph, weights, x, prefix=stage.unit_prefix(unit), widths=widths, stage=stage, se=se
            )
            index += 3
    x = _conv_block(graph, weights, x, "conv_6_sep", keep[index])
    return _linear_block(
        graph, weights, x, "conv_6_dw", keep[index + 1], kernel=_CONV6_KERNEL, depthwise=True
    )


def build_minifasnet(tensors: StateDict, variant: Variant) -> onnx.ModelProto:
    """The ONNX model: "patches" [N, 3, 80, 80] BGR 0..255 -> "logits" [N, 3].

    Raises MiniFASNetFormatError if the weights are not exactly those of *variant*.
    """
    graph = _Graph()
    weights = _Weights(tensors)
    logits = _head(graph, weights, _backbone(graph, weights, variant))
    weights.check_all_taken()
    graph.nodes.append(helper.make_node("Identity", [logits], [OUTPUT_NAME], name="logits_node"))
    inputs = [
        helper.make_tensor_value_info(
            INPUT_NAME, TensorProto.FLOAT, ["N", 3, INPUT_SIZE, INPUT_SIZE]
        )
    ]
    outputs = [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", NUM_CLASSES])]
    onnx_graph = helper.make_graph(graph.nodes, str(variant), inputs, outputs, graph.initializers)
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", _OPSET)],
        ir_version=_IR_VERSION,
        producer_name="simkyc.convert.minifasnet",
    )
    onnx.checker.check_model(model)
    return model


def convert_minifasnet(pth_path: Path, onnx_path: Path, variant: Variant) -> None:
    """Convert upstream's *variant* weights at *pth_path* into an ONNX model at *onnx_path*.

    Raises TorchFileError (UnsafePickleError for a pickle naming foreign globals) if the file is
    not a legacy state dict, MiniFASNetFormatError if it is not that network. The model is
    written to a temporary file first and renamed, so a failed conversion leaves no partial model.
    """
    model = build_minifasnet(read_legacy_state_dict(Path(pth_path).read_bytes()), variant)
    write_atomically(Path(onnx_path), lambda path: onnx.save_model(model, os.fspath(path)))
