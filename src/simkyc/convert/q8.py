"""Where a float OpenVINO IR is quantised for ONNX Runtime's int8 kernels (the q8 recognizer).

`plan_q8` reads the IR's graph and decides which layers' outputs get a QuantizeLinear +
DequantizeLinear (where an INT8 IR would have its FakeQuantize) and which convolutions get
int8 weights; `simkyc.convert.openvino_ir` builds the graph from that plan, with the ranges
computed offline (scripts/calibrate_q8.py), and `simkyc.convert.qdq` arranges it for ONNX
Runtime's fusions. A tensor from an int8 convolution into depthwise convolutions only may take
one range per channel (`Q8Plan.per_channel`, folded into both convolutions' weights by
`qdq.arrange_for_int8_kernels`); its PReLU's input then gets no range of its own. An operation
the plan does not know, and ranges that do not fit the IR (per-channel ones included), stop it
with IrFormatError naming them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from simkyc.convert.openvino_ir import IrFormatError, _Layer, _parse, _topological
from simkyc.convert.qdq import Range, is_per_channel

__all__ = ["Q8Plan", "plan_q8"]


@dataclass(frozen=True)
class Q8Plan:
    """Where a float IR is quantised: layers (by id) whose output gets a QDQ, with its range
    (None when probing), and the convolutions whose weights become int8."""

    quantised: dict[str, tuple[str, Range | None]]
    int8_convs: frozenset[str]
    probing: bool  # no ranges: expose the tensors instead of quantising them
    # Quantised tensors (by layer name) that may take one range per channel: made by an int8
    # convolution (past its bias and PReLU) and read only by int8 depthwise convolutions, so
    # the channel scales fold into both convolutions' weights (qdq.arrange_for_int8_kernels).
    per_channel: frozenset[str] = frozenset()
    # For each of those that is a PReLU's output: the PReLU's input (the convolution's output
    # past its bias). With one range per channel after the PReLU, that input is not quantised
    # on its own (no range): the int8 path quantises it per channel from the PReLU's range
    # (qdq: Conv -> bias -> PReLU -> QuantizeLinear, as in an INT8 IR).
    pre_activation: Mapping[str, str] = field(default_factory=dict)


# The operations whose quantisation `plan_q8` knows; any other in the IR stops the plan
# (an IR already quantised, with FakeQuantize, among them).
_Q8_KNOWN: Final = frozenset({
    "Parameter", "Const", "Convert", "Add", "Multiply", "Convolution", "GroupConvolution",
    "PReLU", "Sigmoid", "AvgPool", "Result",
})
_CONVOLUTIONS: Final = frozenset({"Convolution", "GroupConvolution"})


def plan_q8(
    xml_text: str,
    float_layers: frozenset[str],
    ranges: Mapping[str, Range] | None,
) -> Q8Plan:
    """Which layers' outputs are quantised and which convolutions run on int8 weights.

    A computed tensor is quantised where it enters a convolution (data input) that is not
    float32, a pooling, a PReLU whose own output is quantised (unless the tensor is a float32
    convolution's output: then the PReLU runs in float32 too), or an Add / Multiply of two
    computed tensors (residual sums, squeeze-excitation scaling): the places an INT8 IR has its
    FakeQuantize. A convolution gets int8 weights when its input is quantised and its output,
    after at most a constant bias Add, is too (so QLinearConv can take the group). One that
    cannot (into Sigmoid, into a float32 PReLU) is float32 too, input included: quantising the
    input of a float32 convolution would cost fidelity for no speed; that can make others
    float32 in turn, so the plan is repeated until no convolution changes. Float32 are then
    `float_layers` and those (the squeeze-excitation blocks, the last convolution)."""
    layers, edges = _parse(xml_text)
    unknown = [lay for lay in layers if lay.kind not in _Q8_KNOWN]
    if unknown:
        raise IrFormatError(
            f"the q8 quantiser does not know how to quantise {unknown[0].describe()} "
            f"({len(unknown)} such layer(s)); no ONNX graph was written"
        )
    convolutions = [lay for lay in layers if lay.kind in _CONVOLUTIONS]
    missing = sorted(float_layers - {lay.name for lay in convolutions})
    if missing:
        raise IrFormatError(f"float_layers names no convolution of this IR: {missing}")
    graph = _Wiring.of(layers, edges)
    floats = set(float_layers)
    while True:
        quantised = graph.quantised(frozenset(floats))
        int8_convs = frozenset(
            lay.ident for lay in convolutions
            if lay.name not in floats and graph.source(lay) in quantised
            and graph.output_after_bias(lay) in quantised
        )
        wasted = {lay.name for lay in convolutions if lay.name not in floats
                  and lay.ident not in int8_convs and graph.source(lay) in quantised}
        if not wasted:
            break
        floats |= wasted
    foldable = graph.per_channel(quantised, int8_convs)
    pre_activation = {ident: graph.source(graph.by_id[ident]) for ident in foldable
                      if graph.by_id[ident].kind == "PReLU"
                      and len(graph.consumers[graph.source(graph.by_id[ident])]) == 1}
    for ident, before in pre_activation.items():
        bounds = None if ranges is None else ranges.get(graph.by_id[ident].name)
        if bounds is not None and is_per_channel(bounds):
            quantised.discard(before)
    name = {ident: lay.name for ident, lay in graph.by_id.items()}
    return Q8Plan(_ranges_for(graph.by_id, quantised, ranges, foldable),
                  int8_convs if ranges is not None else frozenset(), ranges is None,
                  frozenset(name[ident] for ident in foldable),
                  {name[k]: name[v] for k, v in pre_activation.items()})


@dataclass(frozen=True)
class _Wiring:
    """The IR's layers with who feeds whom, and which are computed from the image."""

    order: list[_Layer]
    edges: dict[tuple[str, str], tuple[str, str]]
    by_id: dict[str, _Layer]
    consumers: dict[str, list[tuple[_Layer, str]]]
    dynamic: set[str]

    @classmethod
    def of(cls, layers: list[_Layer], edges: dict[tuple[str, str], tuple[str, str]]) -> _Wiring:
        by_id = {lay.ident: lay for lay in layers}
        consumers: dict[str, list[tuple[_Layer, str]]] = {}
        for (to_layer, to_port), (from_layer, _) in edges.items():
            consumers.setdefault(from_layer, []).append((by_id[to_layer], to_port))
        order = _topological(layers, edges)
        return cls(order, edges, by_id, consumers, _dynamic_layers(order, edges))

    def source(self, layer: _Layer) -> str:
        """The layer feeding `layer`'s first (data) input."""
        return self.edges[(layer.ident, layer.inputs[0])][0]

    def output_after_bias(self, conv: _Layer) -> str:
        """The convolution's output layer, past a bias Add (with a constant) if it has one."""
        users = self.consumers.get(conv.ident, [])
        if len(users) == 1 and users[0][0].kind == "Add":
            add = users[0][0]
            if sum(self.edges[(add.ident, port)][0] in self.dynamic for port in add.inputs) == 1:
                return add.ident
        return conv.ident

    def per_channel(self, quantised: set[str], int8_convs: frozenset[str]) -> set[str]:
        """The quantised tensors whose channel ranges can fold (see `Q8Plan.per_channel`)."""
        out = set()
        for ident in quantised:
            users = self.consumers.get(ident, [])
            if users and all(_is_int8_depthwise(user, port, int8_convs)
                             for user, port in users) and self._made_by_int8(ident, int8_convs):
                out.add(ident)
        return out

    def _made_by_int8(self, ident: str, int8_convs: frozenset[str]) -> bool:
        """Whether the tensor is an int8 convolution's output, past its bias and PReLU."""
        layer = self.by_id[ident]
        if layer.kind == "PReLU":
            layer = self.by_id[self.source(layer)]
        return any(conv.ident in int8_convs and self.output_after_bias(conv) == layer.ident
                   for conv in self.order if conv.kind in _CONVOLUTIONS)

    def quantised(self, floats: frozenset[str]) -> set[str]:
        """The layers whose output is quantised, with the convolutions `floats` in float32."""
        # A float convolution's own output (past its bias) stays float into its PReLU.
        float_outputs = {self.output_after_bias(lay) for lay in self.order if lay.name in floats}
        quantised: set[str] = set()
        for layer in reversed(self.order):  # consumers first (PReLU's rule)
            if layer.ident in self.dynamic and any(
                self._quantises_input(user, port, floats, quantised)
                and not (user.kind == "PReLU" and layer.ident in float_outputs)
                for user, port in self.consumers.get(layer.ident, [])
            ):
                quantised.add(layer.ident)
        return quantised

    def _quantises_input(
        self, user: _Layer, port: str, floats: frozenset[str], quantised: set[str]
    ) -> bool:
        """Whether `user` takes the tensor on `port` quantised (see `plan_q8`)."""
        if user.kind in _CONVOLUTIONS:
            return port == user.inputs[0] and user.name not in floats
        if user.kind == "AvgPool":
            return True
        if user.kind == "PReLU":
            return port == user.inputs[0] and user.ident in quantised
        if user.kind in {"Add", "Multiply"}:
            return all(self.edges[(user.ident, p)][0] in self.dynamic for p in user.inputs)
        return False


def _is_int8_depthwise(user: _Layer, port: str, int8_convs: frozenset[str]) -> bool:
    """An int8 group convolution with one input and one output channel per group, read on
    its data input (weights [G, 1, 1, kh, kw] in the IR)."""
    if user.kind != "GroupConvolution" or user.ident not in int8_convs:
        return False
    dims = user.input_dims[1] if len(user.input_dims) > 1 else ()
    return port == user.inputs[0] and len(dims) == 5 and dims[1] == 1 and dims[2] == 1


def _dynamic_layers(
    order: list[_Layer], edges: dict[tuple[str, str], tuple[str, str]]
) -> set[str]:
    """Layers computed from the image (the rest are constants folded at conversion)."""
    dynamic: set[str] = set()
    for layer in order:
        if layer.kind == "Parameter" or any(
            edges[(layer.ident, port)][0] in dynamic for port in layer.inputs
        ):
            dynamic.add(layer.ident)
    return dynamic


def _ranges_for(
    by_id: dict[str, _Layer],
    quantised: set[str],
    ranges: Mapping[str, Range] | None,
    foldable: set[str],
) -> dict[str, tuple[str, Range | None]]:
    """Each quantised layer's name and range; a ranges file that does not fit stops here
    (a layer without a range, a range for a layer not quantised, one range per channel where
    they cannot fold or for another number of channels)."""
    names = {by_id[ident].name: ident for ident in quantised}
    if len(names) != len(quantised):
        raise IrFormatError("two quantised layers share a name; ranges cannot be keyed by it")
    if ranges is None:
        return {ident: (name, None) for name, ident in names.items()}
    missing, extra = sorted(set(names) - set(ranges)), sorted(set(ranges) - set(names))
    if missing or extra:
        raise IrFormatError(
            f"the activation ranges do not fit this IR: no range for {missing[:5]} "
            f"({len(missing)} in all), ranges for layers it does not quantise {extra[:5]} "
            f"({len(extra)} in all); recompute them for this IR (scripts/calibrate_q8.py)"
        )
    for name, ident in names.items():
        low, high = ranges[name]
        if not isinstance(low, tuple):
            continue
        channels = by_id[ident].input_dims[0][1] if by_id[ident].input_dims else -1
        if ident not in foldable:
            raise IrFormatError(
                f"the activation ranges give {name!r} one range per channel, but its tensor "
                "does not go from an int8 convolution into int8 depthwise convolutions only; "
                "recompute them for this IR (scripts/calibrate_q8.py)"
            )
        if not isinstance(high, tuple) or len(low) != len(high) or len(low) != channels:
            raise IrFormatError(
                f"the activation ranges for {name!r} have {len(low)} lows and "
                f"{len(high) if isinstance(high, tuple) else 1} highs for {channels} channels; "
                "recompute them for this IR (scripts/calibrate_q8.py)"
            )
    return {ident: (name, ranges[name]) for name, ident in names.items()}
