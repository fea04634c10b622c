"""Helpers the face tests share: the embedder's input built by the plain chain of steps, and
the pipeline's aligned chips of real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from simkyc.faces.detect import central_face
from simkyc.faces.embed import InputSpec, Layout
from simkyc.faces.pipeline import FaceEncoder

Chip = NDArray[np.uint8]


def stepwise_tensor(spec: InputSpec, chips: list[Chip]) -> NDArray[np.float32]:
    """The chain `InputSpec.tensor` replaced (simkyc before 2026-12-05): stack, convert,
    reverse the channels, scale, transpose, one step at a time."""
    batch = np.stack(chips).astype(np.float32)
    if spec.bgr:
        batch = batch[..., ::-1]
    batch = (batch - np.float32(spec.mean)) * np.float32(spec.scale)
    if spec.layout is Layout.NCHW:
        batch = batch.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch)


def aligned_chips(encoder: FaceEncoder, photos: list[Path]) -> list[Chip]:
    """Each photo's central face as the encoder aligns it (mesh points where it uses them)."""
    chips = []
    for photo in photos:
        pixels = encoder.decoder.decode(photo.read_bytes()).pixels
        face = central_face(encoder.detector.detect(pixels), pixels.shape[1], pixels.shape[0])
        chips.append(encoder.align_face(pixels, face))
    return chips


def optimized_op_types(model: Path, folder: Path) -> list[str]:
    """The operator types of `model` as ONNX Runtime optimises it for the CPU (which int8
    kernels it fused), read from the optimised graph it writes into `folder`."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(folder / "optimized.onnx")
    ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return [n.op_type for n in onnx.load(str(folder / "optimized.onnx")).graph.node]
