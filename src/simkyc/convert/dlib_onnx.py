"""Convert dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`) to ONNX.

dlib runs this network at ~100 ms per face on one CPU core; the same weights in ONNX Runtime run
several times faster. The converter reads dlib's binary serialization directly (no dlib needed)
and rebuilds the network as an ONNX graph that takes raw 150x150 RGB chips and returns dlib's raw
128-D descriptor.

How dlib lays the file out (dlib/dnn/core.h): a network is nested C++ templates, and every wrapper
object writes a version number, then its sub-network, then its own details. So the file opens with
the versions of all layers from the top (the loss) down to the input, and the layer details then
follow bottom-up. Deserialization in dlib is driven by the static C++ type; the file itself does not
name tag/skip layers or their ids (`add_prev_` is written as a bare "add_prev_"). We therefore read
against the known network definition (dlib/examples/dnn_face_recognition_ex.cpp, `anet_type`) and
reject any file whose layer sequence does not match it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypeAlias, assert_never

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from simkyc.files import write_atomically

__all__ = ["INPUT_NAME", "OUTPUT_NAME", "DlibModelFormatError", "convert_dlib_resnet"]

INPUT_NAME: Final = "chips"
OUTPUT_NAME: Final = "embeddings"

_OPSET: Final = 17
_IR_VERSION: Final = 8  # the IR version that goes with opset 17 (ONNX 1.12), for older runtimes

FloatArray: TypeAlias = npt.NDArray[np.float32]
Dims: TypeAlias = tuple[int, int, int, int]


class DlibModelFormatError(ValueError):
    """The file is not a dlib face-recognition ResNet this converter understands."""


# --------------------------------------------------------------------------------------------
# Primitive decoding (dlib/serialize.h, dlib/float_details.h, dlib/dnn/tensor.h)
# --------------------------------------------------------------------------------------------


class _Reader:
    """A cursor over the bytes of a dlib-serialized object, decoding dlib's primitive types."""

    def __init__(self, data: bytes) -> None:
        """Start reading *data* at its first byte."""
        self._data = data
        self._pos = 0

    def error(self, what: str, problem: str) -> DlibModelFormatError:
        """An exception saying what went wrong, on which field, and where in the file."""
        return DlibModelFormatError(f"{problem} while reading {what} (byte offset {self._pos})")

    def take(self, count: int, what: str) -> bytes:
        """The next *count* raw bytes; a truncated file is an error, not a short read."""
        end = self._pos + count
        if end > len(self._data):
            raise self.error(what, f"unexpected end of file (needed {count} bytes)")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def integer(self, what: str, *, max_bytes: int = 8, signed: bool = True) -> int:
        """An integer in dlib's variable-length format (serialize.h, `ser_helper::pack_int`).

        One control byte: the low nibble is the number of magnitude bytes that follow
        (little-endian), 0x80 marks a negative value, bits 0x70 are never set by dlib. `max_bytes`
        is sizeof() of the C++ type, which dlib also enforces on reading.
        """
        control = self.take(1, what)[0]
        size = control & 0x0F
        negative = bool(control & 0x80)
        if control & 0x70 or size > max_bytes or (negative and not signed):
            raise self.error(what, f"invalid integer control byte 0x{control:02x}")
        magnitude = int.from_bytes(self.take(size, what), "little")
        return -magnitude if negative else magnitude

    def real(self, what: str) -> float:
        """A float/double in dlib's portable format (serialize.h + float_details.h).

        The value is mantissa * 2**exponent: an int64 mantissa then an int16 exponent, both as
        `pack_int` integers. (serialize.h's header comment says exponent first; the code, and
        this file, write the mantissa first.) Exponents 32000/32001/32002 mean +inf/-inf/nan.
        """
        mantissa = self.integer(what, max_bytes=8)
        exponent = self.integer(what, max_bytes=2)
        specials = {32000: math.inf, 32001: -math.inf}
        if exponent >= 32000:
            return specials.get(exponent, math.nan)
        return math.ldexp(mantissa, exponent)

    def text(self, what: str) -> str:
        """A std::string: its length as an unsigned long, then the raw characters."""
        size = self.integer(what, signed=False)
        raw = self.take(size, what)
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise self.error(what, "non-ASCII layer name") from None

    def flag(self, what: str) -> bool:
        """A bool, which dlib writes as the character '1' or '0' (serialize.h)."""
        char = self.take(1, what)
        if char not in (b"0", b"1"):
            raise self.error(what, f"invalid bool byte {char!r}")
        return char == b"1"

    def tensor(self, what: str) -> FloatArray:
        """A resizable_tensor (dnn/tensor.h): version 2, four longs (n, k, nr, nc), then raw floats.

        Unlike scalars, version-2 tensors store their data as little-endian IEEE float32, row-major
        in (n, k, nr, nc) order. Version 1 (portable per-element floats) is no longer readable by
        dlib itself, so we reject it too.
        """
        self.version(what, {2})
        dims = self.dims(what)
        count = dims[0] * dims[1] * dims[2] * dims[3]
        raw = self.take(4 * count, what)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(dims)

    def alias(self, what: str) -> Dims:
        """An alias_tensor (dnn/tensor.h): version 1 and its shape; its offset is implicit."""
        self.version(what, {1})
        return self.dims(what)

    def dims(self, what: str) -> Dims:
        """Four non-negative longs: a tensor shape (num_samples, k, nr, nc)."""
        n, k, nr, nc = (self.integer(what) for _ in range(4))
        if min(n, k, nr, nc) < 0:
            raise self.error(what, f"negative tensor dimension in {(n, k, nr, nc)}")
        return n, k, nr, nc

    def version(self, what: str, allowed: set[int]) -> int:
        """An int version number of a dlib object, which must be one we know how to read."""
        found = self.integer(what, max_bytes=4)
        if found not in allowed:
            raise self.error(what, f"unsupported version {found} (expected {sorted(allowed)})")
        return found

    def name(self, what: str, allowed: tuple[str, ...]) -> str:
        """A layer's version string, which names the layer type; it must be one of *allowed*."""
        found = self.text(what)
        if found not in allowed:
            raise self.error(what, f"found layer {found!r} where the network has {allowed}")
        return found

    def pair(self, what: str, *, max_bytes: int = 4) -> tuple[int, int]:
        """Two integers, e.g. a (y, x) stride or padding, which dlib stores as two ints."""
        return self.integer(what, max_bytes=max_bytes), self.integer(what, max_bytes=max_bytes)

    def skip_reals(self, what: str, count: int) -> None:
        """Read and discard *count* floats (training-only multipliers and the like)."""
        for _ in range(count):
            self.real(what)

    def expect_end(self) -> None:
        """Fail if anything follows the network: the file is then not the expected model."""
        if self._pos != len(self._data):
            raise self.error("end of file", f"{len(self._data) - self._pos} unexpected bytes")


# --------------------------------------------------------------------------------------------
# Layers, as read from the file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Conv:
    """A convolution; `weight` is (out, in, rows, cols), dlib's filter layout and ONNX's OIHW."""

    weight: FloatArray
    bias: FloatArray
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class _Affine:
    """Per-channel y = gamma * x + beta (dlib's inference form of batch normalization)."""

    gamma: FloatArray
    beta: FloatArray


@dataclass(frozen=True)
class _Relu:
    """max(x, 0)."""


@dataclass(frozen=True)
class _Pool:
    """Max or average pooling; a (0, 0) window means the whole input (`*_pool_everything`)."""

    op: Literal["MaxPool", "AveragePool"]
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class _Dense:
    """A fully connected layer; `weight` is (inputs, outputs): dlib computes x @ W."""

    weight: FloatArray
    bias: FloatArray | None


@dataclass(frozen=True)
class _Tag:
    """`tagN`: remembers the output of the layer below it."""

    ident: int


@dataclass(frozen=True)
class _Skip:
    """`skipN`: continues from the output remembered by the nearest `tagN` below."""

    ident: int


@dataclass(frozen=True)
class _AddPrev:
    """`add_prevN`: adds the output remembered by `tagN`, zero-padding the smaller tensor."""

    ident: int


_Layer: TypeAlias = _Conv | _Affine | _Relu | _Pool | _Dense | _Tag | _Skip | _AddPrev


@dataclass(frozen=True)
class _InputSpec:
    """input_rgb_image_sized: the chip size and the per-channel (R, G, B) means."""

    means: tuple[float, float, float]
    rows: int
    cols: int


# --------------------------------------------------------------------------------------------
# The network definition (dlib/examples/dnn_face_recognition_ex.cpp), listed bottom-up
# --------------------------------------------------------------------------------------------

# A slot is (layer kind, tag id); the id only matters for tag, skip and add_prev.
_Slot: TypeAlias = tuple[str, int]


def _block() -> list[_Slot]:
    """`block`: affine<con<relu<affine<con<SUBNET>>>>>; the lower con carries the stride."""
    return [("con", 0), ("affine", 0), ("relu", 0), ("con", 0), ("affine", 0)]


def _ares() -> list[_Slot]:
    """`ares`: relu<add_prev1<block<tag1<SUBNET>>>>, the identity residual unit."""
    return [("tag", 1), *_block(), ("add_prev", 1), ("relu", 0)]


def _ares_down() -> list[_Slot]:
    """`ares_down`: relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<tag1<SUBNET>>>>>>>>.

    The shortcut is a 2x2 average pool of the unit's input, added to the strided block's output.
    """
    return [
        ("tag", 1),
        *_block(),
        ("tag", 2),
        ("skip", 1),
        ("avg_pool", 0),
        ("add_prev", 2),
        ("relu", 0),
    ]


def _blueprint() -> list[_Slot]:
    """Every layer of `anet_type` from the one above the input to the fc under the loss."""
    stem = [("con", 0), ("affine", 0), ("relu", 0), ("max_pool", 0)]
    level4 = 3 * _ares()
    level3 = _ares_down() + 3 * _ares()
    level2 = _ares_down() + 2 * _ares()
    level1 = _ares_down() + 2 * _ares()
    level0 = _ares_down()
    return [*stem, *level4, *level3, *level2, *level1, *level0, ("avg_pool", 0), ("fc", 0)]


def _wrapper_versions(kind: str, *, bottom: bool) -> set[int]:
    """Versions dlib accepts for the object wrapping a layer of *kind* (dnn/core.h)."""
    if kind in ("tag", "skip"):
        return {1}  # add_tag_layer / add_skip_layer
    return {2, 3} if bottom else {1, 2}  # add_layer over the input layer / over a sub-network


# --------------------------------------------------------------------------------------------
# Layer details (dlib/dnn/layers.h, input.h, loss.h)
# --------------------------------------------------------------------------------------------


def _read_loss(reader: _Reader) -> None:
    """Skip loss_metric_ (loss.h): "loss_metric_2" adds margin and distance threshold."""
    version = reader.name("loss layer", ("loss_metric_", "loss_metric_2"))
    if version == "loss_metric_2":
        reader.skip_reals("loss_metric_ margin/dist_thresh", 2)


def _read_input(reader: _Reader) -> _InputSpec:
    """input_rgb_image_sized (input.h): three float channel means, then NR and NC as size_t."""
    reader.name("input layer", ("input_rgb_image_sized",))
    red, green, blue = (reader.real("input channel mean") for _ in range(3))
    rows = reader.integer("input rows", signed=False)
    cols = reader.integer("input columns", signed=False)
    if not all(math.isfinite(m) for m in (red, green, blue)) or min(rows, cols) <= 0:
        raise reader.error("input layer", "invalid means or chip size")
    return _InputSpec((red, green, blue), rows, cols)


def _read_con(reader: _Reader, _ident: int) -> _Conv:
    """con_ (layers.h): params, num_filters, nr, nc, strides, paddings, two alias shapes, four
    multipliers and, from "con_5", use_bias. Filters sit at offset 0 of params, biases after."""
    version = reader.name("con_ layer", ("con_4", "con_5"))
    params = reader.tensor("con_ params").ravel()
    filters, rows, cols = (reader.integer("con_ shape") for _ in range(3))
    stride, padding = reader.pair("con_ stride"), reader.pair("con_ padding")
    weight_dims = reader.alias("con_ filters")
    reader.alias("con_ biases")
    reader.skip_reals("con_ multipliers", 4)
    use_bias = reader.flag("con_ use_bias") if version == "con_5" else True
    n_weights = math.prod(weight_dims)
    if (
        weight_dims[0] != filters
        or weight_dims[2:] != (rows, cols)
        or min(stride) < 1
        or params.size != n_weights + (filters if use_bias else 0)
        or not 0 <= min(padding) <= max(padding) < min(rows, cols)
    ):
        raise reader.error("con_ layer", "inconsistent convolution shapes")
    bias = params[n_weights:] if use_bias else np.zeros(filters, np.float32)
    return _Conv(params[:n_weights].reshape(weight_dims), bias, stride, padding)


def _read_affine(reader: _Reader, _ident: int) -> _Affine:
    """affine_ (layers.h): params = [gamma | beta], their alias shapes, the mode (0 = CONV_MODE,
    one value per channel), and, from "affine_2", a `disabled` flag (then it is the identity)."""
    version = reader.name("affine_ layer", ("affine_", "affine_2"))
    params = reader.tensor("affine_ params").ravel()
    gamma_dims, beta_dims = reader.alias("affine_ gamma"), reader.alias("affine_ beta")
    mode = reader.integer("affine_ mode", max_bytes=4)
    disabled = reader.flag("affine_ disabled") if version == "affine_2" else False
    channels = gamma_dims[1]
    if (
        mode != 0
        or gamma_dims != (1, channels, 1, 1)
        or beta_dims != gamma_dims
        or params.size != 2 * channels
    ):
        raise reader.error("affine_ layer", "not a per-channel (CONV_MODE) affine layer")
    if disabled:
        return _Affine(np.ones(channels, np.float32), np.zeros(channels, np.float32))
    return _Affine(params[:channels], params[channels:])


def _read_relu(reader: _Reader, _ident: int) -> _Relu:
    """relu_ (layers.h) has no state: only its name."""
    reader.name("relu_ layer", ("relu_",))
    return _Relu()


def _read_pool(reader: _Reader, op: Literal["MaxPool", "AveragePool"]) -> _Pool:
    """max_pool_/avg_pool_ (layers.h, "*_pool_2"): nr, nc (longs), then strides and paddings
    (ints). Padding defaults to 0 for strided pools, which is what this network uses."""
    name = "max_pool_2" if op == "MaxPool" else "avg_pool_2"
    reader.name("pooling layer", (name,))
    window = reader.pair("pool window", max_bytes=8)
    stride, padding = reader.pair("pool stride"), reader.pair("pool padding")
    whole = window == (0, 0) and padding == (0, 0)
    if min(stride) < 1 or not (whole or 0 <= min(padding) <= max(padding) < min(window)):
        raise reader.error("pooling layer", f"invalid window {window}/{stride}/{padding}")
    return _Pool(op, window, stride, padding)


def _read_add_prev(reader: _Reader, ident: int) -> _AddPrev:
    """add_prev_ (layers.h) writes only its name; the tag id comes from the network type."""
    reader.name("add_prev_ layer", ("add_prev_",))
    return _AddPrev(ident)


def _read_fc(reader: _Reader, _ident: int) -> _Dense:
    """fc_ (layers.h, "fc_2"/"fc_3"): outputs, inputs, params, weight/bias alias shapes, the
    bias mode (1 = FC_NO_BIAS), four multipliers and, from "fc_3", use_bias. Weights are
    (inputs, outputs) at offset 0 of params, the bias row (if any) after them."""
    version = reader.name("fc_ layer", ("fc_2", "fc_3"))
    outputs = reader.integer("fc_ num_outputs", signed=False)
    inputs = reader.integer("fc_ num_inputs", signed=False)
    params = reader.tensor("fc_ params").ravel()
    weight_dims = reader.alias("fc_ weights")
    reader.alias("fc_ biases")
    bias_mode = reader.integer("fc_ bias mode", max_bytes=4)
    reader.skip_reals("fc_ multipliers", 4)
    use_bias = reader.flag("fc_ use_bias") if version == "fc_3" else True
    has_bias = bias_mode == 0 and use_bias
    n_weights = inputs * outputs
    if (
        bias_mode not in (0, 1)
        or weight_dims != (inputs, outputs, 1, 1)
        or params.size != n_weights + (outputs if has_bias else 0)
    ):
        raise reader.error("fc_ layer", "inconsistent fully connected shapes")
    bias = params[n_weights:] if has_bias else None
    return _Dense(params[:n_weights].reshape(inputs, outputs), bias)


_DETAIL_READERS: Final[dict[str, Callable[[_Reader, int], _Layer]]] = {
    "con": _read_con,
    "affine": _read_affine,
    "relu": _read_relu,
    "max_pool": lambda reader, _ident: _read_pool(reader, "MaxPool"),
    "avg_pool": lambda reader, _ident: _read_pool(reader, "AveragePool"),
    "add_prev": _read_add_prev,
    "fc": _read_fc,
}


def _skip_add_layer_state(reader: _Reader, version: int, *, bottom: bool) -> None:
    """Skip what add_layer writes after the details (core.h): three bools and the cached
    training tensors; over the input layer also grad_final and (v3) the sample expansion factor,
    elsewhere params_grad (v2)."""
    for what in ("this_layer_setup_called", "gradient_input_is_stale", "output_disabled"):
        reader.flag(what)
    reader.tensor("x_grad")
    reader.tensor("cached_output")
    if bottom:
        reader.tensor("grad_final")
        if version >= 3:
            reader.integer("sample_expansion_factor", max_bytes=4, signed=False)
    elif version >= 2:
        reader.tensor("params_grad")


def _read_network(data: bytes) -> tuple[_InputSpec, list[_Layer]]:
    """Parse the whole file in dlib's order: loss, all wrapper versions top-down, the input
    layer, then each layer's details bottom-up (core.h serializes the sub-network first)."""
    reader = _Reader(data)
    reader.version("add_loss_layer", {1})
    _read_loss(reader)
    slots = _blueprint()
    versions = [0] * len(slots)
    for index in reversed(range(len(slots))):
        kind = slots[index][0]
        allowed = _wrapper_versions(kind, bottom=index == 0)
        versions[index] = reader.version(f"layer {index} ({kind}) wrapper", allowed)
    spec = _read_input(reader)
    layers: list[_Layer] = []
    for index, ((kind, ident), version) in enumerate(zip(slots, versions, strict=True)):
        if kind in ("tag", "skip"):
            layers.append(_Tag(ident) if kind == "tag" else _Skip(ident))
            continue
        layers.append(_DETAIL_READERS[kind](reader, ident))
        _skip_add_layer_state(reader, version, bottom=index == 0)
    reader.expect_end()
    return spec, layers


def _fold_affines(layers: list[_Layer]) -> list[_Layer]:
    """Merge every affine_ into the con_ directly beneath it: gamma*(W*x+b)+beta becomes
    (gamma*W)*x + (gamma*b+beta). Exact up to float rounding; computed in float64."""
    folded: list[_Layer] = []
    for layer in layers:
        below = folded[-1] if folded else None
        if isinstance(layer, _Affine) and isinstance(below, _Conv):
            gamma = layer.gamma.astype(np.float64)
            weight = below.weight * gamma[:, None, None, None]
            bias = below.bias * gamma + layer.beta
            folded[-1] = _Conv(
                weight.astype(np.float32), bias.astype(np.float32), below.stride, below.padding
            )
        else:
            folded.append(layer)
    return folded


# --------------------------------------------------------------------------------------------
# ONNX graph
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """A tensor in the graph being built, with its per-sample shape (channels, rows, cols)."""

    name: str
    shape: tuple[int, int, int]


class _Graph:
    """Accumulates ONNX nodes and initializers with unique, readable names."""

    def __init__(self) -> None:
        """Start an empty graph."""
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _fresh(self, hint: str) -> str:
        """A new unique tensor name."""
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, array: npt.NDArray[np.generic]) -> str:
        """Add *array* as an initializer and return its name."""
        name = self._fresh(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(
        self,
        op_type: str,
        inputs: list[str],
        output: str | None = None,
        **attrs: int | float | str | list[int],
    ) -> str:
        """Add one node with a single output and return the output's name."""
        out = output or self._fresh(op_type.lower())
        node = helper.make_node(op_type, inputs, [out], name=f"{out}_node")
        node.attribute.extend(helper.make_attribute(key, val) for key, val in attrs.items())
        self.nodes.append(node)
        return out


def _spatial(size: int, window: int, stride: int, pad: int) -> int:
    """dlib's (and ONNX's floor-mode) output extent: 1 + (size + 2*pad - window) // stride."""
    if size + 2 * pad < window:
        raise DlibModelFormatError(f"window {window} does not fit an input of {size} pixels")
    return 1 + (size + 2 * pad - window) // stride


def _emit_input(graph: _Graph, spec: _InputSpec) -> _Value:
    """NHWC 0..255 chips -> NCHW (x - mean) / 256, as dlib's input_rgb_image_sized::to_tensor
    does (input.h; the /256 is hard-coded there, not stored in the file)."""
    nchw = graph.op("Transpose", [INPUT_NAME], perm=[0, 3, 1, 2])
    means = np.array(spec.means, dtype=np.float32).reshape(1, 3, 1, 1)
    centred = graph.op("Sub", [nchw, graph.const("means", means)])
    scaled = graph.op("Mul", [centred, graph.const("scale", np.array(1 / 256, np.float32))])
    return _Value(scaled, (3, spec.rows, spec.cols))


def _emit_conv(graph: _Graph, value: _Value, conv: _Conv) -> _Value:
    """A Conv node; dlib pads symmetrically by `padding` (0 for its strided convolutions)."""
    out_ch, in_ch, k_rows, k_cols = conv.weight.shape
    channels, rows, cols = value.shape
    if in_ch != channels:
        raise DlibModelFormatError(f"convolution expects {in_ch} channels, gets {channels}")
    (s_y, s_x), (p_y, p_x) = conv.stride, conv.padding
    inputs = [value.name, graph.const("conv_w", conv.weight), graph.const("conv_b", conv.bias)]
    name = graph.op(
        "Conv", inputs, kernel_shape=[k_rows, k_cols], strides=[s_y, s_x], pads=[p_y, p_x, p_y, p_x]
    )
    shape = (out_ch, _spatial(rows, k_rows, s_y, p_y), _spatial(cols, k_cols, s_x, p_x))
    return _Value(name, shape)


def _emit_affine(graph: _Graph, value: _Value, affine: _Affine) -> _Value:
    """An affine_ with no convolution right beneath it: a broadcast Mul and Add."""
    if affine.gamma.size != value.shape[0]:
        raise DlibModelFormatError("affine layer and its input disagree on channels")
    gamma = graph.const("gamma", affine.gamma.reshape(1, -1, 1, 1))
    beta = graph.const("beta", affine.beta.reshape(1, -1, 1, 1))
    return _Value(graph.op("Add", [graph.op("Mul", [value.name, gamma]), beta]), value.shape)


def _emit_pool(graph: _Graph, value: _Value, pool: _Pool) -> _Value:
    """A pooling node; a (0, 0) window pools over everything (avg_pool_everything)."""
    channels, rows, cols = value.shape
    if pool.window == (0, 0):
        return _Value(graph.op(f"Global{pool.op}", [value.name]), (channels, 1, 1))
    (k_y, k_x), (s_y, s_x), (p_y, p_x) = pool.window, pool.stride, pool.padding
    name = graph.op(
        pool.op,
        [value.name],
        kernel_shape=[k_y, k_x],
        strides=[s_y, s_x],
        pads=[p_y, p_x, p_y, p_x],
    )
    return _Value(name, (channels, _spatial(rows, k_y, s_y, p_y), _spatial(cols, k_x, s_x, p_x)))


def _zero_pad(graph: _Graph, value: _Value, shape: tuple[int, int, int]) -> str:
    """*value* padded with zeros after its last channel/row/column up to *shape*."""
    if value.shape == shape:
        return value.name
    extra = [target - have for target, have in zip(shape, value.shape, strict=True)]
    pads = np.array([0, 0, 0, 0, 0, *extra], dtype=np.int64)  # begins (N,C,H,W), then ends
    return graph.op("Pad", [value.name, graph.const("pads", pads)], mode="constant")


def _emit_add(graph: _Graph, lhs: _Value, rhs: _Value) -> _Value:
    """add_prev_: the output takes the larger extent of each dimension and the smaller tensor
    counts as zero outside itself (layers.h add_prev_::forward, cpu_dlib.cpp tt::add). This
    matters here: e.g. 128x8x8 -> conv 3x3/2 gives 256x3x3 but the 2x2/2 pool shortcut 128x4x4."""
    shape = (
        max(lhs.shape[0], rhs.shape[0]),
        max(lhs.shape[1], rhs.shape[1]),
        max(lhs.shape[2], rhs.shape[2]),
    )
    total = graph.op("Add", [_zero_pad(graph, lhs, shape), _zero_pad(graph, rhs, shape)])
    return _Value(total, shape)


def _emit_dense(graph: _Graph, value: _Value, dense: _Dense) -> _Value:
    """fc_: flatten (k, nr, nc) per sample, as dlib does, then x @ W (+ b)."""
    inputs, outputs = dense.weight.shape
    if inputs != math.prod(value.shape):
        raise DlibModelFormatError(f"fc layer expects {inputs} inputs, gets {value.shape}")
    flat = graph.op("Flatten", [value.name], axis=1)
    name = graph.op("MatMul", [flat, graph.const("fc_w", dense.weight)])
    if dense.bias is not None:
        name = graph.op("Add", [name, graph.const("fc_b", dense.bias)])
    return _Value(name, (outputs, 1, 1))


def _emit_link(
    graph: _Graph, layer: _Tag | _Skip | _AddPrev, value: _Value, tags: dict[int, _Value]
) -> _Value:
    """tag/skip/add_prev. *tags* maps an id to the nearest tagged output below: core.h's
    `layer<tag>(sub)` searches downwards, so a later tag with the same id shadows earlier ones."""
    if isinstance(layer, _Tag):
        tags[layer.ident] = value
        return value
    if layer.ident not in tags:
        raise DlibModelFormatError(f"layer refers to tag{layer.ident} with no such tag below")
    tagged = tags[layer.ident]
    return tagged if isinstance(layer, _Skip) else _emit_add(graph, value, tagged)


def _emit_layer(graph: _Graph, layer: _Layer, value: _Value, tags: dict[int, _Value]) -> _Value:
    """Emit one layer on top of *value*, the output of the layer beneath it."""
    match layer:
        case _Tag() | _Skip() | _AddPrev():
            return _emit_link(graph, layer, value, tags)
        case _Conv():
            return _emit_conv(graph, value, layer)
        case _Affine():
            return _emit_affine(graph, value, layer)
        case _Relu():
            return _Value(graph.op("Relu", [value.name]), value.shape)
        case _Pool():
            return _emit_pool(graph, value, layer)
        case _Dense():
            return _emit_dense(graph, value, layer)
        case _:
            assert_never(layer)


def _build_model(spec: _InputSpec, layers: list[_Layer]) -> onnx.ModelProto:
    """The ONNX model: "chips" [N, rows, cols, 3] float 0..255 -> "embeddings" [N, 128]."""
    graph = _Graph()
    value = _emit_input(graph, spec)
    tags: dict[int, _Value] = {}
    for layer in _fold_affines(layers):
        value = _emit_layer(graph, layer, value, tags)
    graph.op("Identity", [value.name], output=OUTPUT_NAME)
    chips = helper.make_tensor_value_info(
        INPUT_NAME, TensorProto.FLOAT, ["N", spec.rows, spec.cols, 3]
    )
    embeddings = helper.make_tensor_value_info(
        OUTPUT_NAME, TensorProto.FLOAT, ["N", value.shape[0]]
    )
    onnx_graph = helper.make_graph(
        graph.nodes, "dlib_face_recognition_resnet", [chips], [embeddings], graph.initializers
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", _OPSET)],
        ir_version=_IR_VERSION,
        producer_name="simkyc.convert.dlib_onnx",
    )
    onnx.checker.check_model(model)
    return model


def convert_dlib_resnet(dat_path: Path, onnx_path: Path) -> None:
    """Convert dlib's face-recognition ResNet at *dat_path* into an ONNX model at *onnx_path*.

    The model takes raw RGB chips (float32 [N, 150, 150, 3], values 0..255, the same 150x150
    chips dlib's compute_face_descriptor takes) and returns dlib's raw 128-D descriptors.
    Raises DlibModelFormatError if the file is not that network. The output is written to a
    temporary file first and renamed, so a failed conversion never leaves a partial model.
    """
    spec, layers = _read_network(Path(dat_path).read_bytes())
    model = _build_model(spec, layers)
    write_atomically(Path(onnx_path), lambda path: onnx.save_model(model, os.fspath(path)))
