"""Decisions, cosine similarity and embedding fusion (the policy is in `faces.policy`)."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from simkyc.types import Embedding


class Decision(StrEnum):
    """The engine's answer; `review` sends the case to a person."""

    MATCH = "match"
    NO_MATCH = "no_match"
    REVIEW = "review"


def cosine(a: Embedding, b: Embedding) -> float:
    """Cosine similarity of two unit-length embeddings."""
    return float(np.dot(a, b))


def fuse(embeddings: list[Embedding]) -> Embedding:
    """Mean of unit embeddings, renormalised: one probe from several live frames."""
    mean = np.mean(np.stack(embeddings), axis=0)
    unit: Embedding = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
    return unit
