"""All-pairs scores, with failed images counted as non-matches or left out (acquired pairs)."""

from __future__ import annotations

import numpy as np
import pytest

from simkyc.eval.scoring import (
    FAILED_SCORE,
    acquired_pairs,
    all_pairs,
    fusion,
    similarity_matrix,
)


def _set() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two people with two photos each; the second photo of person 0 has no face found."""
    embeddings = np.array([[1, 0], [0, 0], [0.8, 0.6], [0.6, 0.8]], np.float32)
    found = np.array([True, False, True, True])
    identities = np.array([0, 0, 1, 1], np.intp)
    return embeddings, found, identities


def test_all_pairs_count_a_failed_image_as_a_genuine_non_match() -> None:
    embeddings, found, identities = _set()
    scores = all_pairs(similarity_matrix(embeddings, found), identities, found)
    assert sorted(scores.genuine.tolist()) == pytest.approx([FAILED_SCORE, 0.96])


def test_an_impostor_pair_with_a_failed_image_is_no_comparison() -> None:
    """It cannot be a false match, so it must not pad the FMR's denominator: with it the
    accept threshold would hold the FMR target on pairs that were never compared."""
    embeddings, found, identities = _set()
    scores = all_pairs(similarity_matrix(embeddings, found), identities, found)
    assert sorted(scores.impostor.tolist()) == pytest.approx([0.6, 0.8])


def test_fused_probes_leave_out_impostor_pairs_without_a_face() -> None:
    embeddings = np.array([[1, 0], [0, 0], [1, 0], [0, 1], [0, 1], [0.6, 0.8]], np.float32)
    found = np.array([True, False, True, True, True, True])
    identities = np.array([0, 0, 0, 1, 1, 1], np.intp)
    quality = found.astype(np.float32)
    fused = fusion(embeddings, found, quality, identities, 2)
    assert fused is not None
    # Six documents, each against the other person's three windows of two frames (every
    # window holds a face); document 1 (no face) is in no impostor pair: 6 x 3 - 3.
    assert fused.mean_embedding.impostor.size == 15
    assert FAILED_SCORE not in fused.mean_embedding.impostor


def test_acquired_pairs_leave_out_every_pair_with_a_failed_image() -> None:
    embeddings, found, identities = _set()
    scores = acquired_pairs(similarity_matrix(embeddings, found), identities, found)
    assert scores.genuine.tolist() == pytest.approx([0.96])
    assert sorted(scores.impostor.tolist()) == pytest.approx([0.6, 0.8])
    assert FAILED_SCORE not in scores.impostor
