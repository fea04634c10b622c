"""Embed stage: an aligned chip -> a unit-length embedding, through any ONNX recognizer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simkyc.faces.align import Aligner
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

    def tensor(self, chips: list[Image]) -> NDArray[np.float32]:
        """Stack chips (RGB uint8) into the network's input tensor."""
        batch = np.stack(chips).astype(np.float32)
        if self.bgr:
            batch = batch[..., ::-1]
        batch = (batch - np.float32(self.mean)) * np.float32(self.scale)
        if self.layout is Layout.NCHW:
            batch = batch.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(batch)


@dataclass
class OnnxEmbedder:
    """Runs an ONNX recognizer in ONNX Runtime; optional flip averaging (test-time augmentation)."""

    model_path: Path
    spec: InputSpec
    flip: bool = True
    threads: int = 1
    _session: Any = field(default=None, init=False, repr=False)

    def embed(self, chips: list[Image]) -> list[Embedding]:
        """One unit-length embedding per chip (the mean of chip and mirror when flip is on)."""
        batch = list(chips)
        if self.flip:
            batch += [np.ascontiguousarray(chip[:, ::-1]) for chip in chips]
        raw = self._run(self.spec.tensor(batch))
        if self.flip:
            raw = _unit(raw[: len(chips)]) + _unit(raw[len(chips) :])
        return list(_unit(raw))

    def _run(self, tensor: NDArray[np.float32]) -> NDArray[np.float32]:
        """One inference call; the session is created on first use."""
        session = self._ensure_session()
        name = session.get_inputs()[0].name
        output: NDArray[np.float32] = session.run(None, {name: tensor})[0]
        return output.reshape(len(tensor), -1).astype(np.float32)

    def _ensure_session(self) -> Any:
        """Create the ONNX Runtime session with the configured thread count."""
        if self._session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = ort.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        return self._session


def _unit(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (vectors / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
    return unit
