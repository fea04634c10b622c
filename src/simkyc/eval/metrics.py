"""Verification metrics for face matching, in ISO/IEC 19795-1 terms.

Scores are similarities (higher = more alike) and the decision rule is
"match if score >= threshold".  Genuine (mated) scores come from same-person
pairs, impostor (non-mated) scores from different-person pairs, so

* FMR(t)  = fraction of impostor scores >= t  (false match rate),
* FNMR(t) = fraction of genuine scores  <  t  (false non-match rate).

Impostor sets can be large (~29 million float32 scores for every cross-identity
pair of LFW), so every function is vectorised, sorts at most once per call and
never upcasts or copies the impostor array except for that one sort.  Thresholds
are returned as Python floats that are exactly representable in the scores'
dtype, and incoming thresholds are rounded *up* to that dtype before comparing,
so ``score >= threshold`` means the same thing for float32 and float64 scores.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"

#: Errors needed before an error rate is trusted: the "rule of 30" of
#: Doddington et al. (Speech Communication 31, 2000), also in Mansfield & Wayman,
#: "Best Practices in Testing and Reporting Performance of Biometric Devices"
#: (NPL, 2002): with >= 30 errors one is ~90% confident that the true rate is
#: within +-30% of the observed one (binomial, independent trials assumed).
RULE_OF_30_ERRORS = 30


# --------------------------------------------------------------------------- #
# Validation and low-level helpers
# --------------------------------------------------------------------------- #


def _as_scores(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return `values` as a read-only 1-D float32/float64 view, rejecting bad input."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} scores must be real numbers, got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} scores must be a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} scores are empty")
    # min/max propagate NaN and expose +-inf without allocating an n-element mask.
    if not (math.isfinite(arr.min()) and math.isfinite(arr.max())):
        raise ValueError(f"{name} scores contain NaN or infinite values")
    view = arr.view()
    view.flags.writeable = False  # a view: the caller's array is left untouched
    return view


def _check_rate(rate: float, name: str) -> float:
    """Return `rate` as a float after checking it is a probability in [0, 1]."""
    if not 0.0 <= rate <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {rate!r}")
    return float(rate)


def _ceil_to_dtype(threshold: float, dtype: np.dtype[Any]) -> np.floating[Any]:
    """Round `threshold` up to `dtype`, so `x >= result` iff `x >= threshold` for x in dtype."""
    value: np.floating[Any] = dtype.type(threshold)
    # Compare as Python floats: NumPy 1.x would compare float32 vs float in float32.
    if float(value) < threshold:
        value = np.nextafter(value, dtype.type(np.inf))
    return value


def _just_above(score: np.floating[Any]) -> float:
    """Return the smallest value of `score`'s dtype that is greater than `score`."""
    return float(np.nextafter(score, score.dtype.type(np.inf)))


def _allowed_false_matches(fmr: float, n_impostor: int) -> int:
    """Return the largest k with k / n_impostor <= fmr (exactly as `fmr_at` computes it)."""
    k = min(n_impostor, math.floor(fmr * n_impostor))
    # fmr * n can round either way (0.29 * 100 = 28.999...); settle on k / n <= fmr.
    if k < n_impostor and (k + 1) / n_impostor <= fmr:
        k += 1
    if k > 0 and k / n_impostor > fmr:
        k -= 1
    return k


def _sorted_scores(scores: ScoreSet) -> tuple[FloatArray, FloatArray]:
    """Return ascending copies of the genuine and impostor scores (the one sort per call)."""
    return np.sort(scores.genuine), np.sort(scores.impostor)


def _error_counts(gen: FloatArray, imp: FloatArray, threshold: float) -> tuple[int, int]:
    """Return (false non-matches, false matches) at `threshold` for ascending arrays."""
    t = _ceil_to_dtype(threshold, imp.dtype)
    n_fnm = int(np.searchsorted(gen, t, side="left"))
    n_fm = imp.size - int(np.searchsorted(imp, t, side="left"))
    return n_fnm, n_fm


# --------------------------------------------------------------------------- #
# Score container
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False)
class ScoreSet:
    """Genuine (mated) and impostor (non-mated) similarity scores of one evaluation.

    Both arrays are stored as read-only 1-D views (no copy for float32/float64
    input) and must share a dtype, so that thresholds derived from one compare
    exactly against the other.
    """

    genuine: FloatArray
    impostor: FloatArray

    def __post_init__(self) -> None:
        """Validate the arrays (1-D, non-empty, finite, same float dtype)."""
        genuine = _as_scores(self.genuine, "genuine")
        impostor = _as_scores(self.impostor, "impostor")
        if genuine.dtype != impostor.dtype:
            raise ValueError(
                f"genuine scores are {genuine.dtype} but impostor scores are "
                f"{impostor.dtype}; cast one explicitly (e.g. .astype(np.float32))"
            )
        object.__setattr__(self, "genuine", genuine)
        object.__setattr__(self, "impostor", impostor)


# --------------------------------------------------------------------------- #
# Error rates and thresholds
# --------------------------------------------------------------------------- #


def min_supported_fmr(n_impostor: int, min_errors: int = RULE_OF_30_ERRORS) -> float:
    """Return the lowest FMR that `n_impostor` comparisons can support (rule of 30).

    An FMR target f is only meaningful if ~f * n_impostor >= `min_errors` false
    matches are observed.  We use the rule of 30 (see `RULE_OF_30_ERRORS`),
    i.e. +-30% relative uncertainty at 90% confidence, rather than the rule of 3
    (zero errors in n trials bound the rate below 3/n at 95% confidence), which
    only gives an upper bound, not an estimate.  Impostor pairs built from all
    cross-identity pairs of a dataset are not independent (every image appears in
    thousands of pairs), so even this bound is optimistic.
    """
    if n_impostor <= 0:
        raise ValueError(f"n_impostor must be positive, got {n_impostor}")
    if min_errors <= 0:
        raise ValueError(f"min_errors must be positive, got {min_errors}")
    return min_errors / n_impostor


def fmr_at(impostor: npt.ArrayLike, threshold: float) -> float:
    """Return the false match rate: the fraction of impostor scores >= `threshold`."""
    imp = _as_scores(impostor, "impostor")
    t = _ceil_to_dtype(threshold, imp.dtype)
    return np.count_nonzero(imp >= t) / imp.size


def fnmr_at(genuine: npt.ArrayLike, threshold: float) -> float:
    """Return the false non-match rate: the fraction of genuine scores < `threshold`."""
    gen = _as_scores(genuine, "genuine")
    t = _ceil_to_dtype(threshold, gen.dtype)
    return np.count_nonzero(gen < t) / gen.size


def threshold_at_fmr(impostor: npt.ArrayLike, fmr: float) -> float:
    """Return the lowest threshold whose empirical FMR is <= `fmr`.

    With k the largest integer such that k / n <= fmr, the answer is the
    smallest value of the scores' dtype above the (k+1)-th highest impostor
    score: at most k impostors reach it, and one step lower at least k + 1 do
    (ties included).  If fmr * n < 1 (k = 0) it is therefore
    ``np.nextafter(max(impostor), +inf)``; if fmr = 1 it is ``-inf``.  Targets
    below `min_supported_fmr` (~30 / n) are computable but not statistically
    supported: the threshold then rests on a handful of extreme impostor scores.
    """
    imp = _as_scores(impostor, "impostor")
    k = _allowed_false_matches(_check_rate(fmr, "fmr"), imp.size)
    if k == imp.size:
        return -math.inf
    index = imp.size - 1 - k  # ascending position of the (k+1)-th highest score
    return _just_above(np.partition(imp, index)[index])  # O(n), no full sort


def threshold_at_fnmr(genuine: npt.ArrayLike, fnmr: float) -> float:
    """Return the highest threshold below which at most a fraction `fnmr` of genuine scores
    fall: the (k+1)-th lowest genuine score, k the largest integer with k / n <= fnmr
    (the reject threshold of a two-threshold policy)."""
    gen = _as_scores(genuine, "genuine")
    k = _allowed_false_matches(_check_rate(fnmr, "fnmr"), gen.size)
    if k == gen.size:
        return math.inf
    return float(np.partition(gen, k)[k])


def _threshold_sorted(imp: FloatArray, fmr: float) -> float:
    """Return `threshold_at_fmr` for an already ascending-sorted impostor array."""
    k = _allowed_false_matches(_check_rate(fmr, "fmr"), imp.size)
    return -math.inf if k == imp.size else _just_above(imp[imp.size - 1 - k])


def tar_at_far(scores: ScoreSet, far: float) -> float:
    """Return the true accept rate (1 - FNMR) at the threshold where FMR <= `far`."""
    threshold = threshold_at_fmr(scores.impostor, far)
    return 1.0 - fnmr_at(scores.genuine, threshold)


# --------------------------------------------------------------------------- #
# Equal error rate
# --------------------------------------------------------------------------- #


def eer(scores: ScoreSet) -> tuple[float, float]:
    """Return (equal error rate, its threshold), see `_eer_sorted` for the convention."""
    return _eer_sorted(*_sorted_scores(scores))


def _eer_sorted(gen: FloatArray, imp: FloatArray) -> tuple[float, float]:
    """Return (EER, threshold) from ascending arrays, interpolating at the crossing.

    Candidate thresholds are the distinct values of the merged scores plus one
    value above them all.  d(t) = FNMR(t) - FMR(t) strictly increases over them
    from -1 to +1, so there is a unique adjacent pair t_lo < t_hi with
    d(t_lo) < 0 <= d(t_hi) (see `_eer_bracket`).  The EER is where the segment
    joining the operating points (FMR, FNMR) at t_lo and t_hi meets the line
    FMR = FNMR, and the threshold is interpolated linearly with the same
    weight.  Any deterministic threshold in (t_lo, t_hi] yields the t_hi
    operating point; the interpolated EER is what a random mix of the two rules
    achieves (the usual convention, e.g. bob.measure).  If d(t_hi) = 0 the EER
    is exact and t_hi is returned as is.
    """
    ng, ni = gen.size, imp.size
    t_lo, t_hi = _eer_bracket(gen, imp)
    (fnm_lo, fm_lo), (fnm_hi, fm_hi) = (_error_counts(gen, imp, t) for t in (t_lo, t_hi))
    d_lo = fnm_lo / ng - fm_lo / ni
    d_hi = fnm_hi / ng - fm_hi / ni
    if d_hi == 0.0:
        return fm_hi / ni, t_hi
    weight = -d_lo / (d_hi - d_lo)
    rate = fm_lo / ni + weight * (fm_hi / ni - fm_lo / ni)
    threshold = t_lo + weight * (t_hi - t_lo)
    return rate, min(max(threshold, t_lo), t_hi)  # guard against rounding


def _eer_bracket(gen: FloatArray, imp: FloatArray) -> tuple[float, float]:
    """Return the adjacent candidate thresholds t_lo < t_hi where FNMR - FMR turns >= 0.

    Equivalent to walking the merged sorted scores, but found by bisection on
    each sorted array (O(log^2 n)) instead of materialising a 29M-element merge.
    """
    ng, ni = gen.size, imp.size

    def crossed(t: float) -> bool:
        """Return FNMR(t) >= FMR(t), decided exactly in integers."""
        n_fnm, n_fm = _error_counts(gen, imp, float(t))
        return n_fnm * ni >= n_fm * ng

    splits = [(a, bisect.bisect_left(a, True, key=crossed)) for a in (gen, imp)]
    above_all = _just_above(max(gen[-1], imp[-1]))  # FMR 0, FNMR 1: always crossed
    t_hi = min([float(a[i]) for a, i in splits if i < a.size] + [above_all])
    # The lowest score of all has FNMR 0 and FMR 1, so at least one list is non-empty.
    t_lo = max(float(a[i - 1]) for a, i in splits if i > 0)
    return t_lo, t_hi


# --------------------------------------------------------------------------- #
# DET curve
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False)
class DetCurve:
    """A sampled DET curve: FMR and FNMR at increasing thresholds, plus the EER."""

    fmr: npt.NDArray[np.float64]
    fnmr: npt.NDArray[np.float64]
    thresholds: FloatArray
    eer: float
    eer_threshold: float


def _log_ranks(n: int, count: int) -> npt.NDArray[np.intp]:
    """Return up to `count` distinct integer ranks in [1, n], spaced log-uniformly."""
    ranks: npt.NDArray[np.intp] = np.rint(np.geomspace(1, n, num=count)).astype(np.intp)
    return np.unique(ranks)


def det_curve(scores: ScoreSet, n_points: int = 1000) -> DetCurve:
    """Return the DET curve at <= n_points + 1 thresholds, log-spaced in FMR and in FNMR.

    Half the thresholds are impostor order statistics of log-spaced rank r
    (FMR ~ r / n_impostor, r = 1 .. n_impostor), half are genuine order
    statistics (FNMR ~ r / n_genuine), so the curve is resolved on log axes
    down to FMR = 1 / n_impostor and FNMR = 1 / n_genuine at the cost of one
    sort; a last threshold above every score closes the curve at (0, 1).
    """
    if n_points < 4:
        raise ValueError(f"n_points must be >= 4, got {n_points}")
    gen, imp = _sorted_scores(scores)
    half = n_points // 2
    above_all = np.nextafter(max(gen[-1], imp[-1]), imp.dtype.type(np.inf))
    thresholds = np.unique(
        np.concatenate(
            [
                imp[imp.size - _log_ranks(imp.size, half)],  # r-th highest impostor
                gen[_log_ranks(gen.size, half) - 1],  # r-th lowest genuine
                np.array([above_all], dtype=imp.dtype),
            ]
        )
    )
    # Thresholds keep the scores' dtype, so searchsorted never upcasts `imp`.
    fmr = (imp.size - np.searchsorted(imp, thresholds, side="left")) / imp.size
    fnmr = np.searchsorted(gen, thresholds, side="left") / gen.size
    eer_rate, eer_threshold = _eer_sorted(gen, imp)
    return DetCurve(fmr, fnmr, thresholds, eer_rate, eer_threshold)


# --------------------------------------------------------------------------- #
# LFW-style k-fold accuracy
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class KFoldResult:
    """Mean held-out accuracy over k folds, its spread, and the per-fold thresholds.

    `std` is the sample standard deviation of the k fold accuracies (ddof=1) and
    `standard_error` = std / sqrt(k), the "standard error of the mean" that the
    LFW protocol asks to report next to the mean.
    """

    mean: float
    std: float
    standard_error: float
    thresholds: tuple[float, ...]
    accuracies: tuple[float, ...]


def _as_pairs(
    scores: npt.ArrayLike, same: npt.ArrayLike, fold_ids: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.bool_], npt.NDArray[np.integer[Any]], int]:
    """Validate pair scores, labels and fold ids; return folds as codes 0..k-1 and k."""
    s = _as_scores(scores, "pair")
    y = np.asarray(same)
    if y.dtype != np.bool_:
        if y.dtype.kind not in "iu" or not np.isin(y, (0, 1)).all():
            raise ValueError("same must be boolean (or 0/1) labels")
        y = y.astype(np.bool_)
    folds = np.asarray(fold_ids)
    if y.shape != s.shape or folds.shape != s.shape:
        raise ValueError(
            f"scores, same and fold_ids must have the same length, got "
            f"{s.shape}, {y.shape} and {folds.shape}"
        )
    fold_values = np.unique(folds)
    if fold_values.size < 2:
        raise ValueError("k-fold accuracy needs at least 2 distinct fold ids")
    # Compact codes (uint8 for LFW's 10 folds) make the per-fold masks cheap; searchsorted
    # is much faster than np.unique(return_inverse=True) on 29M ids.
    codes = np.searchsorted(fold_values, folds).astype(np.min_scalar_type(fold_values.size))
    return s, y, codes, int(fold_values.size)


def _best_threshold(s: FloatArray, same: npt.NDArray[np.bool_]) -> float:
    """Return the threshold maximising accuracy on ascending scores `s` (ties: lowest).

    Rules only differ between distinct scores, so the candidates are -inf
    (accept all), the midpoints between consecutive distinct scores and +inf
    (reject all); each is scored in O(1) from cumulative counts.  Midpoints
    rather than the scores themselves keep the rule away from the training
    samples, as a max-margin choice would (when two float64 scores are
    adjacent floats, the upper one is used instead).
    """
    n = s.size
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # first index of each value
    same_upto = np.cumsum(same, dtype=np.min_scalar_type(n))  # compact dtype for 29M
    same_before = same_upto[starts].astype(np.int64) - same[starts]
    n_same = int(same_upto[-1])
    # Rule j accepts the groups j..end: correct = same at/above + different below.
    correct = np.append((n_same - same_before) + (starts - same_before), n - n_same)
    best = int(np.argmax(correct))  # first maximum, i.e. the lowest threshold
    if best == 0:
        return -math.inf
    if best == starts.size:
        return math.inf
    lower, upper = float(s[starts[best] - 1]), float(s[starts[best]])
    middle = 0.5 * lower + 0.5 * upper  # halves first: no overflow
    # Adjacent float64 scores have no float strictly between them: fall back to `upper`.
    return middle if lower < middle <= upper else upper


def _accuracy(s: FloatArray, same: npt.NDArray[np.bool_], threshold: float) -> float:
    """Return the fraction of pairs whose decision (score >= threshold) matches `same`."""
    accept = s >= _ceil_to_dtype(threshold, s.dtype)
    return np.count_nonzero(accept == same) / s.size


def kfold_accuracy(
    scores: npt.ArrayLike, same: npt.ArrayLike, fold_ids: npt.ArrayLike
) -> KFoldResult:
    """Return LFW View 2 accuracy: threshold fitted on k-1 folds, tested on the held-out one.

    For each fold the threshold maximising accuracy on the other folds is
    found exactly over all distinct training scores (one global sort, then
    cumulative counts).  LFW's README asks for the mean and the standard error
    of the mean over the 10 folds, with sigma computed with a divisor of 9
    (ddof=1), see `KFoldResult`.  Many code bases (e.g. FaceNet's) print
    np.std with ddof=0 as "+-"; compare like with like.
    """
    s, y, codes, k = _as_pairs(scores, same, fold_ids)
    order = np.argsort(s)  # ties need no stable order: only group boundaries matter
    s, y, codes = s[order], y[order], codes[order]
    del order
    accuracies: list[float] = []
    thresholds: list[float] = []
    for fold in range(k):  # k iterations (10 for LFW), each one vectorised
        train = codes != fold
        thresholds.append(_best_threshold(s[train], y[train]))
        held_out = np.logical_not(train, out=train)  # reuses the mask's memory
        accuracies.append(_accuracy(s[held_out], y[held_out], thresholds[-1]))
    acc = np.array(accuracies)
    std = float(acc.std(ddof=1))
    return KFoldResult(
        float(acc.mean()), std, std / math.sqrt(acc.size), tuple(thresholds), tuple(accuracies)
    )


# --------------------------------------------------------------------------- #
# Summary
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class OperatingPoint:
    """Error rates at the threshold chosen for one target FMR."""

    target_fmr: float
    threshold: float
    fmr: float  # achieved FMR, <= target_fmr
    fnmr: float
    tar: float
    supported: bool  # target_fmr >= min_supported_fmr(n_impostor)


@dataclass(frozen=True)
class VerificationSummary:
    """Headline verification figures of one score set (EER and FNMR at target FMRs)."""

    n_genuine: int
    n_impostor: int
    eer: float
    eer_threshold: float
    min_supported_fmr: float
    operating_points: tuple[OperatingPoint, ...]

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the summary as JSON-ready plain Python types (lists, not tuples)."""
        points: list[JSONValue] = [dataclasses.asdict(p) for p in self.operating_points]
        return {
            "n_genuine": self.n_genuine,
            "n_impostor": self.n_impostor,
            "eer": self.eer,
            "eer_threshold": self.eer_threshold,
            "min_supported_fmr": self.min_supported_fmr,
            "operating_points": points,
        }


def _operating_point(
    gen: FloatArray, imp: FloatArray, target: float, floor: float
) -> OperatingPoint:
    """Return the operating point for `target` FMR from ascending score arrays."""
    if not 0.0 <= target < 1.0:  # 1 would give threshold -inf, which JSON cannot hold
        raise ValueError(f"target FMRs must be in [0, 1), got {target!r}")
    threshold = _threshold_sorted(imp, target)
    n_fnm, n_fm = _error_counts(gen, imp, threshold)
    fnmr = n_fnm / gen.size
    return OperatingPoint(
        float(target), threshold, n_fm / imp.size, fnmr, 1.0 - fnmr, bool(target >= floor)
    )


def summary(scores: ScoreSet, fmrs: Sequence[float] = (1e-2, 1e-3, 1e-4)) -> VerificationSummary:
    """Return EER and, per target FMR, threshold, FNMR, TAR and statistical support."""
    gen, imp = _sorted_scores(scores)  # one sort serves the EER and every target
    eer_rate, eer_threshold = _eer_sorted(gen, imp)
    floor = min_supported_fmr(imp.size)
    points = tuple(_operating_point(gen, imp, f, floor) for f in fmrs)
    return VerificationSummary(int(gen.size), int(imp.size), eer_rate, eer_threshold, floor, points)
