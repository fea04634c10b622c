"""Where model files come from: packages on PyPI, the configured models folder, a cache."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

from simkyc.errors import ModelUnavailable


def dlib_model_file(name: str) -> Path:
    """A file shipped by `face_recognition_models`, located without importing it.

    Importing the package runs `pkg_resources`, which recent setuptools no longer provides.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("The face_recognition_models package is not installed.")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise ModelUnavailable(f"{name} is missing from face_recognition_models.")
    return path


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_file(path: Path, sha256: str | None) -> Path:
    """`path` if it exists and matches its pinned SHA-256 (when one is pinned)."""
    if not path.is_file():
        raise ModelUnavailable(
            f"Model file {path} is missing: put it there (or point SIMKYC_MODELS_DIR at the "
            "folder holding it); the README's Models section says where each file comes from."
        )
    if sha256 is not None and (actual := sha256_of(path)) != sha256:
        raise ModelUnavailable(
            f"Model file {path} does not match its pinned SHA-256 (expected {sha256}, found "
            f"{actual}): replace it with the file the README's Models section names."
        )
    return path


def cpu_session(model: Path | bytes, threads: int) -> Any:
    """An ONNX Runtime session on the CPU (a file, or a serialised graph): `threads` for one
    operator, one for running operators side by side, every graph optimisation (its NCHWc
    layout is what makes the convolutions fast). onnxruntime is imported here, on first use."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
