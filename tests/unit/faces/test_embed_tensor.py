"""The embedder's input tensor is exactly the step-by-step one, built in one copy per chip.

`InputSpec.tensor` writes each uint8 chip straight into the network's layout and channel
order (and its mirror beside it); these tests hold it to the plain chain it replaced (stack,
float32, BGR, (x - mean) * scale, transpose), value for value, so every calibration made with
the old embeddings stays valid. No model weights: a fake session stands for the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from faces_helpers import stepwise_tensor
from numpy.typing import NDArray

from simkyc.faces.embed import InputSpec, Layout, OnnxEmbedder
from simkyc.faces.recognizers import BUILTIN, DLIB_RESNET_ID, OMZ_REID_ID

Chip = NDArray[np.uint8]


def _chips(count: int, size: int, seed: int = 7) -> list[Chip]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(count)]


SPECS = {
    "omz (BGR, NCHW, raw)": BUILTIN[OMZ_REID_ID].input,
    "dlib (RGB, NHWC, raw)": BUILTIN[DLIB_RESNET_ID].input,
    "arcface-style (RGB, NCHW, scaled)": InputSpec(112, ((0.0, 0.0),) * 5),
    "BGR, NHWC, scaled": InputSpec(112, ((0.0, 0.0),) * 5, Layout.NHWC, bgr=True, mean=127.5,
                                   scale=1 / 128),
}


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("count", [1, 3])
def test_the_tensor_is_the_stepwise_one_value_for_value(name: str, count: int) -> None:
    spec = SPECS[name]
    chips = _chips(count, spec.size)
    tensor = spec.tensor(chips)
    expected = stepwise_tensor(spec, chips)
    assert tensor.dtype == np.float32 and tensor.flags.c_contiguous
    assert tensor.shape == expected.shape
    assert np.array_equal(tensor, expected)


@pytest.mark.parametrize("name", SPECS)
def test_mirrors_follow_the_chips_in_the_same_order(name: str) -> None:
    spec = SPECS[name]
    chips = _chips(2, spec.size, seed=11)
    mirrored = [np.ascontiguousarray(chip[:, ::-1]) for chip in chips]
    assert np.array_equal(spec.tensor(chips, mirrors=True), stepwise_tensor(spec, chips + mirrored))


@dataclass
class _LinearNetwork:
    """A fake ONNX Runtime session: a fixed random projection of the input tensor."""

    weights: NDArray[np.float32]
    calls: int = 0

    def run(
        self, _outputs: None, feeds: dict[str, NDArray[np.float32]]
    ) -> list[NDArray[np.float32]]:
        self.calls += 1
        (tensor,) = feeds.values()
        return [tensor.reshape(len(tensor), -1) @ self.weights]


def _unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    return vector / np.linalg.norm(vector)


def test_flip_averaging_pairs_each_chip_with_its_own_mirror() -> None:
    spec = BUILTIN[OMZ_REID_ID].input
    chips = _chips(3, spec.size, seed=5)
    rng = np.random.default_rng(3)
    network = _LinearNetwork(rng.standard_normal((3 * spec.size**2, 8)).astype(np.float32))
    embedder = OnnxEmbedder(model_path=None, spec=spec, flip=True)  # type: ignore[arg-type]
    embedder._session, embedder._input_name = network, "chips"
    embeddings = embedder.embed(chips)
    assert network.calls == 1  # chips and mirrors in one batch
    for chip, embedding in zip(chips, embeddings, strict=True):
        own = network.run(None, {"x": stepwise_tensor(spec, [chip])})[0][0]
        mirror = network.run(None, {"x": stepwise_tensor(spec, [chip[:, ::-1].copy()])})[0][0]
        expected = _unit(_unit(own) + _unit(mirror))
        assert np.allclose(embedding, expected, atol=1e-6)
