"""Embed stage: an aligned chip -> a unit-length embedding, through any ONNX recognizer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simkyc.faces.align import Aligner
from simkyc.faces.models import cpu_session
from simkyc.types import Embedding, Image


class Layout(StrEnum):
    """Tensor layout the network expects."""

    NCHW = "NCHW"
    NHWC = "NHWC"


@dataclass(frozen=True)
class InputSpec:
    """How a chip becomes the network's input: size, template, layout, x' = (x - mean) * scale."""

    size: int
    template: tuple[tuple[float, float], ...]
    layout: Layout = Layout.NCHW
    bgr: bool = False
    mean: float = 127.5
    scale: float = 1 / 127.5
    # Where a detector's own (coarser) points fall, when they differ from the mesh's.
    detector_template: tuple[tuple[float, float], ...] | None = None

    def aligner(self, *, detector_points: bool = False) -> Aligner:
        """The aligner that cuts chips for this input from mesh or detector landmarks."""
        template = self.detector_template if detector_points else None
        return Aligner(np.array(template or self.template, dtype=np.float32), self.size)

    def tensor(self, chips: list[Image], *, mirrors: bool = False) -> NDArray[np.float32]:
        """The network's input for `chips` (RGB uint8, one size), followed by each chip's
        mirror image when `mirrors` is set: rows [chips..., mirrored chips...].

        Each chip is copied once, straight from uint8 into the float32 buffer in the network's
        layout and channel order (the transpose, BGR reversal and mirroring are strides of
        that one copy), and `(x - mean) * scale` runs in place only when it is not the
        identity. The values are exactly those of stacking, converting, reversing and
        transposing step by step (tests/unit/faces/test_embed_tensor.py), at a tenth of the
        time: that chain cost ~0.65 ms per chip and mirror, one core, in allocations and
        strided copies (2026-12-05, bench/embed.py)."""
        count = len(chips)
        height, width, channels = chips[0].shape
        rows = 2 * count if mirrors else count
        if self.layout is Layout.NCHW:
            out = np.empty((rows, channels, height, width), np.float32)
            pixels = out.transpose(0, 2, 3, 1)  # the same buffer seen as NHWC
        else:
            out = np.empty((rows, height, width, channels), np.float32)
            pixels = out
        for index, chip in enumerate(chips):
            source = chip[..., ::-1] if self.bgr else chip
            pixels[index] = source
            if mirrors:
                pixels[count + index] = source[:, ::-1]
        if self.mean != 0.0 or self.scale != 1.0:
            out -= np.float32(self.mean)
            out *= np.float32(self.scale)
        return out


@dataclass
class OnnxEmbedder:
    """Runs an ONNX recognizer in ONNX Runtime; optional flip averaging (test-time augmentation)."""

    model_path: Path
    spec: InputSpec
    flip: bool = True
    threads: int = 1
    _session: Any = field(default=None, init=False, repr=False)
    _input_name: str = field(default="", init=False, repr=False)

    def embed(self, chips: list[Image]) -> list[Embedding]:
        """One unit-length embedding per chip (the mean of chip and mirror when flip is on).

        The chips and their mirrors go to the network as one batch, in one call."""
        raw = self.infer(self.spec.tensor(chips, mirrors=self.flip))
        if self.flip:
            raw = _unit(raw[: len(chips)]) + _unit(raw[len(chips) :])
        return list(_unit(raw))

    def infer(self, tensor: NDArray[np.float32]) -> NDArray[np.float32]:
        """The network's raw outputs, one row per row of a ready input tensor (one inference
        call; the session is created on first use)."""
        session = self._ensure_session()
        output: NDArray[np.float32] = session.run(None, {self._input_name: tensor})[0]
        return output.reshape(len(tensor), -1).astype(np.float32, copy=False)

    def _ensure_session(self) -> Any:
        """Create the ONNX Runtime session with the configured thread count."""
        if self._session is None:
            session = cpu_session(self.model_path, self.threads)
            self._input_name = session.get_inputs()[0].name
            self._session = session
        return self._session


def _unit(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (vectors / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
    return unit
