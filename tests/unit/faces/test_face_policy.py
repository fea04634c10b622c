"""The one face policy: match at or above the accept threshold (whatever the FNMR there),
no_match below the reject threshold, review between; a side its pair counts cannot support
never decides; every comparison is named."""

from __future__ import annotations

import numpy as np
import pytest

from simkyc.config import DetectorKind, Settings
from simkyc.errors import CalibrationMissing
from simkyc.eval.metrics import ScoreSet
from simkyc.eval.policy_eval import policy_shares, reject_points
from simkyc.faces import calibration
from simkyc.faces.calibration import Calibration, CalibrationPoint, RejectPoint
from simkyc.faces.match import Decision
from simkyc.faces.pipeline import face_policy, pipeline_id
from simkyc.faces.policy import Comparison, FacePolicy, automation
from simkyc.faces.recognizers import (
    DLIB_RESNET_ID,
    OMZ_REID_ID,
    OMZ_REID_INT8_ID,
    OMZ_REID_Q8_ID,
)


def _calibration(
    fnmr: float = 0.2, *, accept_ok: bool = True, reject_ok: bool = True
) -> Calibration:
    return Calibration(
        calibration_id="test",
        model_id="m",
        population="p",
        pipeline="yunet",
        points=(CalibrationPoint(fmr=1e-3, threshold=0.5, fnmr=fnmr, supported=accept_ok),),
        n_genuine=10_000,
        n_impostor=100_000,
        date="2026-12-04",
        data="synthetic",
        command="none",
        reject_points=(RejectPoint(fnmr=0.005, threshold=0.3, impostors_below=0.9,
                                   supported=reject_ok),),
    )


def _policy(**kwargs: bool) -> FacePolicy:
    return FacePolicy(_calibration(**kwargs), fmr_target=1e-3, false_reject_target=0.005)


@pytest.mark.parametrize(("score", "expected"), [
    (0.5, Decision.MATCH), (0.9, Decision.MATCH), (0.4999, Decision.REVIEW),
    (0.3, Decision.REVIEW), (0.2999, Decision.NO_MATCH), (-1.0, Decision.NO_MATCH),
])
def test_two_thresholds(score: float, expected: Decision) -> None:
    outcome = _policy().decide(score)
    assert outcome.decision is expected
    assert (outcome.accept_threshold, outcome.reject_threshold) == (0.5, 0.3)
    assert bool(outcome.reasons) == (expected is Decision.REVIEW)


def test_the_fmr_promise_matches_even_when_the_fnmr_there_is_high() -> None:
    # The old policy made every decision `review` when FNMR at the FMR target was > 5%.
    policy = FacePolicy(_calibration(fnmr=0.6), fmr_target=1e-3, false_reject_target=0.005)
    assert policy.decide(0.7).decision is Decision.MATCH


def test_an_unsupported_accept_side_routes_to_review() -> None:
    policy = _policy(accept_ok=False)
    assert policy.decide(0.99).decision is Decision.REVIEW
    assert policy.decide(0.1).decision is Decision.NO_MATCH


def test_an_unsupported_reject_side_routes_to_review() -> None:
    policy = _policy(reject_ok=False)
    assert policy.decide(0.1).decision is Decision.REVIEW
    assert policy.decide(0.99).decision is Decision.MATCH


def test_an_uncalibrated_false_reject_target_never_refuses() -> None:
    policy = FacePolicy(_calibration(), fmr_target=1e-3, false_reject_target=0.02)
    assert policy.decide(-1.0).decision is Decision.REVIEW


def test_an_uncalibrated_fmr_target_is_an_error() -> None:
    policy = FacePolicy(_calibration(), fmr_target=1e-5, false_reject_target=0.005)
    with pytest.raises(CalibrationMissing):
        policy.check()


def test_each_comparison_is_named() -> None:
    a = np.array([1.0, 0.0], np.float32)
    b = np.array([3.0, 0.0], np.float32)  # not unit length: still cosine 1
    outcome = _policy().compare(a, b, comparison=Comparison.TEMPLATE_VS_LIVE)
    assert outcome.comparison is Comparison.TEMPLATE_VS_LIVE
    assert outcome.decision is Decision.MATCH and outcome.score == pytest.approx(1.0)


def test_reject_points_refuse_at_most_the_target_share_of_genuine_pairs() -> None:
    rng = np.random.default_rng(1)
    scores = ScoreSet(rng.normal(0.7, 0.1, 10_000).astype(np.float32),
                      rng.normal(0.1, 0.1, 100_000).astype(np.float32))
    points = {p.fnmr: p for p in reject_points(scores)}
    for target, point in points.items():
        refused = np.count_nonzero(scores.genuine < point.threshold)
        assert refused <= target * 10_000 < refused + 2
        assert point.supported == (10_000 * target >= 30)
    assert points[0.005].impostors_below > 0.99


def test_policy_shares_count_what_decide_decides() -> None:
    rng = np.random.default_rng(2)
    scores = ScoreSet(rng.uniform(0, 1, 2_000).astype(np.float32),
                      rng.uniform(-0.5, 0.6, 5_000).astype(np.float32))
    policy = _policy()
    shares = policy_shares(scores, policy.calibration, fmr_target=1e-3,
                           false_reject_target=0.005)
    for kind, values in (("genuine", scores.genuine), ("impostor", scores.impostor)):
        decided = [policy.decide(float(v)).decision for v in values]
        counts = {d: decided.count(d) / len(values) for d in Decision}
        names = ("matched", "review", "refused") if kind == "genuine" else (
            "accepted", "review", "refused")
        got = [getattr(shares, f"{kind}_{n}") for n in names]
        assert got == pytest.approx(
            [counts[Decision.MATCH], counts[Decision.REVIEW], counts[Decision.NO_MATCH]])


def test_automation_reports_what_the_calibration_backs() -> None:
    summary = automation(_calibration(fnmr=0.2), fmr_target=1e-3, false_reject_target=0.005)
    assert summary["genuine_matched_automatically"] == pytest.approx(0.8)
    assert summary["impostors_refused_automatically"] == 0.9
    unsupported = automation(_calibration(reject_ok=False), fmr_target=1e-3,
                             false_reject_target=0.005)
    assert unsupported["impostors_refused_automatically"] == 0.0


def test_shipped_table_has_provenance_for_every_entry() -> None:
    table = calibration.load_table()
    assert table
    for entry in table:
        assert entry.command.startswith("SIMKYC_") and "simkyc eval faces" in entry.command
        assert entry.date and entry.data and entry.n_impostor > 0
        fmrs = {point.fmr for point in entry.points}
        assert {1e-3, 1e-4} <= fmrs
        for point in entry.points:
            assert -1.0 <= point.threshold <= 1.0 and 0.0 <= point.fnmr <= 1.0


def test_unknown_population_is_a_clear_error() -> None:
    with pytest.raises(CalibrationMissing, match="atlantis"):
        calibration.find(
            calibration.load_table(),
            model_id="omz-face-reid-0095",
            population="atlantis",
            pipeline="yunet+mesh+flip",
        )


@pytest.mark.parametrize("recognizer", [OMZ_REID_Q8_ID, OMZ_REID_ID, DLIB_RESNET_ID])
@pytest.mark.parametrize("population", ["east-asian", "lfw", "casia", "kpop"])
@pytest.mark.parametrize("detector", list(DetectorKind))
@pytest.mark.parametrize("mesh", [True, False])
@pytest.mark.parametrize("flip", [True, False])
def test_every_pipeline_option_of_each_recognizer_is_calibrated(
    recognizer: str, population: str, detector: DetectorKind, mesh: bool, flip: bool
) -> None:
    """Each documented pipeline setting starts with the default recognizer (q8), with FP16 in
    float32 and with dlib (options; MediaPipe without flip was dlib's last uncalibrated
    combination): none is refused
    with CALIBRATION_MISSING (the table alone decides; no weights are needed)."""
    settings = Settings(recognizer=recognizer, population=population, detector=detector,
                        mesh_landmarks=mesh, flip_tta=flip)
    policy = face_policy(settings)
    assert policy.calibration.model_id == recognizer
    assert policy.calibration.pipeline == pipeline_id(settings)


@pytest.mark.parametrize("population", ["east-asian", "lfw", "casia", "kpop"])
def test_the_int8_ir_is_calibrated_for_the_default_pipeline(population: str) -> None:
    """`omz-face-reid-0095-int8` (the FP16-INT8 IR on int8 kernels) has its own entries,
    measured on its own embeddings, for the default pipeline."""
    settings = Settings(recognizer=OMZ_REID_INT8_ID, population=population)
    policy = face_policy(settings)
    assert policy.calibration.model_id == OMZ_REID_INT8_ID
    assert policy.calibration.pipeline == pipeline_id(settings) == "yunet+mesh+flip"
    assert f"SIMKYC_RECOGNIZER={OMZ_REID_INT8_ID}" in policy.calibration.command


@pytest.mark.parametrize(("detector", "mesh", "flip"), [
    (DetectorKind.YUNET, True, False), (DetectorKind.YUNET, False, True),
    (DetectorKind.MEDIAPIPE, True, True),
])
def test_the_int8_ir_refuses_its_uncalibrated_pipelines(
    detector: DetectorKind, mesh: bool, flip: bool
) -> None:
    """Only the default pipeline was calibrated with the INT8 IR: any other one is refused
    with CALIBRATION_MISSING rather than decided on another model's thresholds."""
    settings = Settings(recognizer=OMZ_REID_INT8_ID, detector=detector, mesh_landmarks=mesh,
                        flip_tta=flip)
    with pytest.raises(CalibrationMissing):
        face_policy(settings)
