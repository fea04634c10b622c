"""Embed every image of a data set once (in worker processes), for all-pairs scoring."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from simkyc import __version__
from simkyc.config import Settings
from simkyc.errors import SimkycError
from simkyc.eval.datasets import FaceDataset
from simkyc.faces.detect import central_face
from simkyc.faces.pipeline import FaceEncoder, pipeline_id

# The settings an embedding depends on besides recognizer and pipeline id.
_SHAPING_SETTINGS = {"models_dir", "work_max_side", "detect_max_side", "min_detection_score",
                     "ambiguity_ratio", "threads"}

# One encoder per worker process, built by the pool's initializer (sessions cannot be pickled).
_encoder: FaceEncoder | None = None


@dataclass(frozen=True)
class EmbeddedSet:
    """Embeddings (zero rows where no face was found), quality scores and failure counts."""

    embeddings: NDArray[np.float32]
    found: NDArray[np.bool_]
    quality: NDArray[np.float32]
    failures: dict[str, int]


def _init(settings: Settings) -> None:
    global _encoder  # noqa: PLW0603 - per-process state of a process pool, set once
    _encoder = FaceEncoder.from_settings(settings)


def _embed_one(path: Path) -> tuple[NDArray[np.float32] | None, float, str]:
    """Embedding, quality score and error code ('' when fine) of one image."""
    assert _encoder is not None
    try:
        pixels = _encoder.decoder.decode(path.read_bytes()).pixels
        face = central_face(_encoder.detector.detect(pixels), pixels.shape[1], pixels.shape[0])
        sample = _encoder.sample_face(pixels, face, require_quality=False)
    except SimkycError as error:
        return None, 0.0, error.code
    return sample.embedding, sample.quality.score(), ""


def _cache_file(settings: Settings, dataset: FaceDataset) -> Path:
    """Embeddings depend on the images, the model, the pipeline and the settings that shape
    detection and alignment: key the cache by all (and by the package version, so a release
    that changes a stage does not reuse embeddings made by the previous one)."""
    shaping = settings.model_dump_json(include=_SHAPING_SETTINGS)
    parts = [__version__, shaping, *map(str, dataset.images)]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]
    name = f"{dataset.name}-{settings.recognizer}-{pipeline_id(settings)}-{key}.npz"
    return settings.cache_dir / "eval" / name


def embed_dataset(
    settings: Settings, dataset: FaceDataset, workers: int, progress: Iterator[None] | None = None
) -> EmbeddedSet:
    """Embed all images (cached on disk: embeddings only, never images)."""
    cache = _cache_file(settings, dataset)
    if cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        failures = dict(
            zip(stored["failure_codes"].tolist(), stored["failure_counts"].tolist(), strict=True)
        )
        return EmbeddedSet(stored["embeddings"], stored["found"], stored["quality"], failures)
    result = _embed_all(settings, dataset, workers, progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        cache,
        embeddings=result.embeddings,
        found=result.found,
        quality=result.quality,
        failure_codes=np.array(list(result.failures), dtype=str),
        failure_counts=np.array(list(result.failures.values()), dtype=np.int64),
    )
    return result


def _embed_all(
    settings: Settings, dataset: FaceDataset, workers: int, progress: Iterator[None] | None
) -> EmbeddedSet:
    """Run the encoder over every image in `workers` processes."""
    rows: list[NDArray[np.float32] | None] = []
    quality: list[float] = []
    codes: Counter[str] = Counter()
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(settings,)) as pool:
        for embedding, score, code in pool.map(_embed_one, dataset.images, chunksize=16):
            rows.append(embedding)
            quality.append(score)
            if code:
                codes[code] += 1
            if progress is not None:
                next(progress, None)
    width = next((len(r) for r in rows if r is not None), 128)
    matrix = np.stack([r if r is not None else np.zeros(width, np.float32) for r in rows])
    found = np.array([r is not None for r in rows], np.bool_)
    return EmbeddedSet(matrix.astype(np.float32), found, np.array(quality, np.float32), dict(codes))
