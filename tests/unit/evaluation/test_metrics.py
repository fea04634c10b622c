"""Tests of the verification metrics: hand-computed cases, ties, edge cases, properties."""

from __future__ import annotations

import json
import math
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simkyc.eval.metrics import (
    ScoreSet,
    det_curve,
    eer,
    fmr_at,
    fnmr_at,
    kfold_accuracy,
    min_supported_fmr,
    summary,
    tar_at_far,
    threshold_at_fmr,
)

FloatArray = npt.NDArray[np.floating[Any]]
FloatType = type[np.floating[Any]]

DTYPES: st.SearchStrategy[FloatType] = st.sampled_from([np.float32, np.float64])


def score_arrays(dtype: FloatType, max_size: int = 40) -> st.SearchStrategy[FloatArray]:
    """Arrays of similarity scores mixing a coarse grid (many ties) and arbitrary floats."""
    width: Literal[32, 64] = 32 if dtype is np.float32 else 64
    elements = st.one_of(st.integers(-4, 4).map(lambda i: i / 4), st.floats(-1, 1, width=width))
    return arrays(dtype, st.integers(1, max_size), elements=elements)


def just_below(threshold: float, dtype: FloatType) -> float:
    """The largest value of `dtype` below `threshold` (which must be representable)."""
    return float(np.nextafter(dtype(threshold), dtype(-np.inf)))


def brute_rates(gen: FloatArray, imp: FloatArray) -> tuple[list[float], list[float], list[float]]:
    """(thresholds, FMR, FNMR) at every distinct score plus one above all, by brute force."""
    values = np.unique(np.concatenate([gen, imp]))
    above = np.nextafter(values[-1], values.dtype.type(np.inf))
    thresholds = [float(v) for v in values] + [float(above)]
    return thresholds, [fmr_at(imp, t) for t in thresholds], [fnmr_at(gen, t) for t in thresholds]


# --------------------------------------------------------------------------- #
# ScoreSet and validation
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("genuine", "impostor", "message"),
    [
        ([], [0.1], "genuine scores are empty"),
        ([0.1], [], "impostor scores are empty"),
        ([0.1, math.nan], [0.1], "NaN or infinite"),
        ([0.1], [0.2, -math.inf], "NaN or infinite"),
        ([[0.1, 0.2]], [0.1], "1-D"),
        (["a"], [0.1], "real numbers"),
    ],
)
def test_scoreset_rejects_bad_input(genuine: object, impostor: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScoreSet(np.asarray(genuine), np.asarray(impostor))


def test_scoreset_rejects_mixed_dtypes() -> None:
    with pytest.raises(ValueError, match="cast one explicitly"):
        ScoreSet(np.zeros(2, np.float64), np.zeros(2, np.float32))


def test_scoreset_keeps_read_only_views_without_copying() -> None:
    impostor = np.linspace(-1, 1, 11, dtype=np.float32)
    scores = ScoreSet(np.array([0.5, 0.9], np.float32), impostor)
    assert np.shares_memory(scores.impostor, impostor)
    assert not scores.impostor.flags.writeable
    assert impostor.flags.writeable  # the caller's array is untouched


def test_integer_scores_are_promoted_to_float64() -> None:
    assert ScoreSet(np.array([1, 2]), np.array([0, 1])).genuine.dtype == np.float64


@pytest.mark.parametrize("fmr", [-0.1, 1.1, math.nan])
def test_threshold_at_fmr_rejects_rates_outside_unit_interval(fmr: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        threshold_at_fmr(np.array([0.1, 0.2]), fmr)


def test_min_supported_fmr_is_rule_of_30() -> None:
    assert min_supported_fmr(30_000) == pytest.approx(1e-3)
    assert min_supported_fmr(30_000, min_errors=3) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="positive"):
        min_supported_fmr(0)


# --------------------------------------------------------------------------- #
# Thresholds and error rates: exact hand-computed cases
# --------------------------------------------------------------------------- #

TENTHS = np.arange(1, 11) / 10  # impostor scores 0.1 .. 1.0


@pytest.mark.parametrize(
    ("fmr", "above"),
    [
        (0.1, 0.9),  # one false match allowed: just above the 2nd highest score
        (0.25, 0.8),  # floor(2.5) = 2 allowed
        (0.05, 1.0),  # fmr * n < 1: just above the maximum
        (0.0, 1.0),
        (0.95, 0.1),  # 9 allowed: just above the minimum
    ],
)
def test_threshold_at_fmr_hand_cases(fmr: float, above: float) -> None:
    assert threshold_at_fmr(TENTHS, fmr) == np.nextafter(above, np.inf)


def test_threshold_at_fmr_of_one_accepts_everything() -> None:
    assert threshold_at_fmr(TENTHS, 1.0) == -math.inf
    assert fmr_at(TENTHS, -math.inf) == 1.0


def test_threshold_at_fmr_with_ties_goes_above_the_tied_block() -> None:
    # A threshold of 0.5 would give FMR 3/4 > 1/2, so it must exceed 0.5.
    impostor = np.array([0.5, 0.5, 0.5, 0.2])
    threshold = threshold_at_fmr(impostor, 0.5)
    assert threshold == np.nextafter(0.5, np.inf)
    assert fmr_at(impostor, threshold) == 0.0


def test_threshold_at_fmr_counts_exactly_when_fmr_times_n_rounds_down() -> None:
    # 0.29 * 100 == 28.999999999999996 in floating point; 29 false matches are allowed.
    impostor = np.arange(100) / 100
    threshold = threshold_at_fmr(impostor, 0.29)
    assert threshold == np.nextafter(0.70, np.inf)
    assert fmr_at(impostor, threshold) == 0.29


def test_threshold_at_fmr_hits_every_rate_boundary_exactly() -> None:
    # Exhaustive over small n: k / n * n rounds below k for e.g. (k, n) = (15, 22).
    for n in range(1, 61):
        impostor = np.arange(n, dtype=np.float64)
        for k in range(n + 1):
            assert fmr_at(impostor, threshold_at_fmr(impostor, k / n)) == k / n


def test_float32_threshold_is_representable_and_above_the_max() -> None:
    impostor = np.array([0.1, 0.2, 0.3], np.float32)
    threshold = threshold_at_fmr(impostor, 0.0)
    assert float(np.float32(threshold)) == threshold
    assert threshold == float(np.nextafter(np.float32(0.3), np.float32(np.inf)))
    assert fmr_at(impostor, threshold) == 0.0


def test_float32_comparisons_are_exact_for_unrepresentable_thresholds() -> None:
    score = np.float32(0.1)
    threshold = float(np.nextafter(float(score), np.inf))  # rounds to `score` in float32
    assert fmr_at(np.array([score]), threshold) == 0.0
    assert fnmr_at(np.array([score]), threshold) == 1.0


def test_fnmr_at_counts_scores_strictly_below() -> None:
    genuine = np.array([0.2, 0.4, 0.6, 0.8])
    assert fnmr_at(genuine, 0.5) == 0.5
    assert fnmr_at(genuine, 0.4) == 0.25


def test_tar_at_far_hand_cases() -> None:
    scores = ScoreSet(np.array([0.6, 0.7, 0.8, 0.9]), np.array([0.1, 0.2, 0.3, 0.65]))
    assert tar_at_far(scores, 0.25) == 1.0  # threshold just above 0.3
    assert tar_at_far(scores, 0.2) == 0.75  # threshold just above 0.65


# --------------------------------------------------------------------------- #
# Equal error rate
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("genuine", "impostor", "expected_eer", "expected_threshold"),
    [
        # FNMR = FMR = 1/4 exactly at 0.65: no interpolation.
        ([0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.65], 0.25, 0.65),
        # (FMR, FNMR) = (1/2, 1/3) at 0.6 and (0, 1/3) at 0.7: crossing 1/3 of the way.
        ([0.5, 0.7, 0.9], [0.1, 0.6], 1 / 3, 0.6 + 0.1 / 3),
        ([0.8, 0.9], [0.1, 0.2], 0.0, 0.8),  # perfect separation
        ([0.1], [0.9], 1.0, 0.9),  # perfectly wrong
    ],
)
def test_eer_hand_cases(
    genuine: list[float], impostor: list[float], expected_eer: float, expected_threshold: float
) -> None:
    rate, threshold = eer(ScoreSet(np.array(genuine), np.array(impostor)))
    assert rate == pytest.approx(expected_eer, abs=1e-15)
    assert threshold == pytest.approx(expected_threshold, abs=1e-15)


@settings(max_examples=300, deadline=None)
@given(st.data())
@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_eer_lies_between_the_error_curves(data: st.DataObject) -> None:
    dtype = data.draw(DTYPES)
    gen, imp = data.draw(score_arrays(dtype)), data.draw(score_arrays(dtype))
    rate, threshold = eer(ScoreSet(gen, imp))
    thresholds, fmrs, fnmrs = brute_rates(gen, imp)
    lower = max(min(a, b) for a, b in zip(fmrs, fnmrs, strict=True))
    upper = min(max(a, b) for a, b in zip(fmrs, fnmrs, strict=True))
    assert lower - 1e-12 <= rate <= upper + 1e-12
    # The threshold sits between the last candidate with FNMR < FMR and the next one.
    hi = next(i for i, (a, b) in enumerate(zip(fmrs, fnmrs, strict=True)) if b >= a)
    assert thresholds[hi - 1] <= threshold <= thresholds[hi]
    d_lo, d_hi = fnmrs[hi - 1] - fmrs[hi - 1], fnmrs[hi] - fmrs[hi]
    weight = -d_lo / (d_hi - d_lo)
    assert rate == pytest.approx(fmrs[hi - 1] + weight * (fmrs[hi] - fmrs[hi - 1]), abs=1e-12)


# --------------------------------------------------------------------------- #
# Threshold properties
# --------------------------------------------------------------------------- #


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_threshold_at_fmr_is_the_lowest_admissible_threshold(data: st.DataObject) -> None:
    dtype = data.draw(DTYPES)
    imp = data.draw(score_arrays(dtype))
    # Half the time hit a rate boundary k / n exactly, where rounding bites.
    k = data.draw(st.integers(0, imp.size))
    fmr = data.draw(st.one_of(st.floats(0, 1), st.just(k / imp.size)))
    threshold = threshold_at_fmr(imp, fmr)
    assert fmr_at(imp, threshold) <= fmr
    if threshold == -math.inf:
        assert fmr == 1.0
        return
    assert float(dtype(threshold)) == threshold  # exact in the scores' dtype
    assert fmr_at(imp, just_below(threshold, dtype)) > fmr
    next_lower_score = float(imp[imp < threshold].max())
    assert fmr_at(imp, next_lower_score) > fmr


# --------------------------------------------------------------------------- #
# DET curve
# --------------------------------------------------------------------------- #


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_det_curve_is_monotone_and_exact(data: st.DataObject) -> None:
    dtype = data.draw(DTYPES)
    gen, imp = data.draw(score_arrays(dtype)), data.draw(score_arrays(dtype))
    n_points = data.draw(st.integers(4, 30))
    curve = det_curve(ScoreSet(gen, imp), n_points=n_points)
    assert curve.thresholds.size <= n_points + 1
    assert np.all(np.diff(curve.thresholds) > 0)
    assert np.all(np.diff(curve.fmr) <= 0) and np.all(np.diff(curve.fnmr) >= 0)
    assert (curve.fmr[0], curve.fnmr[-1], curve.fmr[-1]) == (1.0, 1.0, 0.0)
    for t, fmr, fnmr in zip(curve.thresholds, curve.fmr, curve.fnmr, strict=True):
        assert (fmr, fnmr) == (fmr_at(imp, float(t)), fnmr_at(gen, float(t)))
    assert (curve.eer, curve.eer_threshold) == eer(ScoreSet(gen, imp))


def test_det_curve_resolves_down_to_one_impostor_and_one_genuine() -> None:
    rng = np.random.default_rng(0)
    gen = rng.normal(0.5, 0.2, 500).astype(np.float32)
    imp = rng.normal(0.0, 0.2, 50_000).astype(np.float32)
    curve = det_curve(ScoreSet(gen, imp), n_points=100)
    assert curve.fmr[curve.fmr > 0].min() == 1 / imp.size
    assert curve.fnmr[curve.fnmr > 0].min() == 1 / gen.size
    assert curve.thresholds.dtype == np.float32
    # Log-uniform sampling: no decade of FMR in [1/n, 1] is left without points.
    decades = np.floor(np.log10(curve.fmr[curve.fmr > 0]))
    assert set(range(-4, 1)) <= set(decades.astype(int).tolist())


# --------------------------------------------------------------------------- #
# k-fold accuracy
# --------------------------------------------------------------------------- #


def between(lower: float, upper: float) -> float:
    """A threshold t with lower < t <= upper: the midpoint, or `upper` if none fits."""
    middle = (lower + upper) / 2
    return middle if lower < middle else upper


def brute_kfold(
    s: FloatArray, y: npt.NDArray[np.bool_], folds: npt.NDArray[np.int64]
) -> tuple[list[float], list[float]]:
    """Per-fold (accuracies, thresholds) by trying every candidate threshold directly."""
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        values = np.unique(s[train]).astype(np.float64).tolist()
        candidates = [-math.inf, *map(between, values[:-1], values[1:]), math.inf]
        train_acc = [np.mean((s[train].astype(np.float64) >= c) == y[train]) for c in candidates]
        best = candidates[int(np.argmax(train_acc))]
        thresholds.append(best)
        accuracies.append(float(np.mean((s[test].astype(np.float64) >= best) == y[test])))
    return accuracies, thresholds


def test_kfold_hand_case() -> None:
    # Fold 0 is misjudged on its impostor 0.6, fold 2 on its genuine 0.4 (worked by hand).
    scores = np.array([0.9, 0.6, 0.7, 0.2, 0.4, 0.1])
    same = np.array([True, False, True, False, True, False])
    result = kfold_accuracy(scores, same, np.array([0, 0, 1, 1, 2, 2]))
    assert result.accuracies == (0.5, 1.0, 0.5)
    assert result.thresholds == pytest.approx((0.3, 0.25, 0.65))  # fold 1: tie, lowest wins
    assert result.mean == pytest.approx(2 / 3)
    assert result.std == pytest.approx(math.sqrt(1 / 12))  # ddof=1
    assert result.standard_error == pytest.approx(1 / 6)  # std / sqrt(3)


@settings(max_examples=200, deadline=None)
@given(st.data())
@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_kfold_matches_brute_force(data: st.DataObject) -> None:
    dtype = data.draw(DTYPES)
    s = data.draw(score_arrays(dtype, max_size=40))
    y = data.draw(arrays(np.bool_, s.size))
    folds = data.draw(arrays(np.int64, s.size, elements=st.integers(0, 4)))
    assume(np.unique(folds).size >= 2)
    result = kfold_accuracy(s, y, folds)
    accuracies, thresholds = brute_kfold(s, y, folds)
    assert result.accuracies == tuple(accuracies)
    assert result.thresholds == tuple(thresholds)
    assert result.mean == pytest.approx(np.mean(accuracies), abs=1e-15)
    assert result.std == pytest.approx(np.std(accuracies, ddof=1), abs=1e-15)
    assert result.standard_error == pytest.approx(result.std / math.sqrt(len(accuracies)))


def test_kfold_threshold_between_adjacent_float64_scores() -> None:
    # No float lies strictly between 1.0 and its successor: the threshold must be the successor.
    low, high = 1.0, float(np.nextafter(1.0, 2.0))
    result = kfold_accuracy(np.array([low, high, low, high]), [False, True] * 2, [0, 0, 1, 1])
    assert result.thresholds == (high, high)
    assert result.accuracies == (1.0, 1.0)


def test_kfold_accepts_zero_one_labels() -> None:
    scores, folds = np.array([0.9, 0.1, 0.8, 0.2]), np.array([0, 0, 1, 1])
    as_int = kfold_accuracy(scores, np.array([1, 0, 1, 0]), folds)
    assert as_int == kfold_accuracy(scores, np.array([True, False, True, False]), folds)
    assert as_int.mean == 1.0


@pytest.mark.parametrize(
    ("same", "folds", "message"),
    [
        ([True, False], [0, 0], "at least 2"),
        ([True, False], [0, 1, 1], "same length"),
        ([2, 0], [0, 1], "boolean"),
    ],
)
def test_kfold_rejects_bad_input(same: list[int], folds: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kfold_accuracy(np.array([0.9, 0.1]), np.array(same), np.array(folds))


# --------------------------------------------------------------------------- #
# Summary
# --------------------------------------------------------------------------- #


def test_summary_agrees_with_the_individual_functions() -> None:
    rng = np.random.default_rng(1)
    scores = ScoreSet(
        rng.normal(0.5, 0.2, 300).astype(np.float32),
        rng.normal(0.0, 0.2, 3_000).astype(np.float32),
    )
    result = summary(scores, fmrs=(0.1, 0.01))
    assert (result.n_genuine, result.n_impostor) == (300, 3_000)
    assert (result.eer, result.eer_threshold) == eer(scores)
    assert result.min_supported_fmr == pytest.approx(0.01)
    for point, target in zip(result.operating_points, (0.1, 0.01), strict=True):
        assert point.target_fmr == target
        assert point.threshold == threshold_at_fmr(scores.impostor, target)
        assert point.fmr == fmr_at(scores.impostor, point.threshold) <= target
        assert point.fnmr == fnmr_at(scores.genuine, point.threshold)
        assert point.tar == tar_at_far(scores, target)
    assert [p.supported for p in result.operating_points] == [True, True]
    assert not summary(scores, fmrs=(1e-3,)).operating_points[0].supported


def test_summary_to_dict_is_plain_json() -> None:
    scores = ScoreSet(np.array([0.6, 0.7, 0.8, 0.9]), np.array([0.1, 0.2, 0.3, 0.65]))
    as_dict = summary(scores).to_dict()
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    points = as_dict["operating_points"]
    assert isinstance(points, list) and len(points) == 3
    for point in points:
        assert isinstance(point, dict)
        assert all(type(v) in (int, float, bool) for v in point.values())
    assert all(type(v) in (int, float, bool, list) for v in as_dict.values())
    assert as_dict["eer"] == 0.25


def test_summary_rejects_target_of_one() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        summary(ScoreSet(np.array([0.9]), np.array([0.1])), fmrs=(1.0,))


def test_threshold_at_fnmr_refuses_at_most_the_target_share() -> None:
    from simkyc.eval.metrics import threshold_at_fnmr

    genuine = np.arange(1, 201, dtype=np.float32) / 200  # 200 distinct scores
    threshold = threshold_at_fnmr(genuine, 0.005)  # k = 1 score may fall below
    assert np.count_nonzero(genuine < threshold) == 1
    assert threshold_at_fnmr(genuine, 0.0) == genuine.min()
    assert threshold_at_fnmr(genuine, 1.0) == float("inf")
