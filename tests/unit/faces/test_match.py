"""Decisions: the review band, and `review` whenever the calibration cannot back a decision."""

from __future__ import annotations

import pytest

from simkyc.errors import CalibrationMissing
from simkyc.faces import calibration
from simkyc.faces.calibration import Calibration, CalibrationPoint
from simkyc.faces.match import Decision, MatchPolicy


def _calibration(fnmr: float, supported: bool = True) -> Calibration:
    return Calibration(
        calibration_id="test",
        model_id="m",
        population="p",
        pipeline="yunet",
        points=(CalibrationPoint(fmr=1e-3, threshold=0.5, fnmr=fnmr, supported=supported),),
        n_genuine=1000,
        n_impostor=100_000,
        date="2026-11-22",
        data="synthetic",
        command="none",
    )


def test_decisions_around_the_threshold() -> None:
    policy = MatchPolicy(_calibration(0.02), fmr_target=1e-3, fnmr_target=0.05, band=0.05)
    assert policy.decide(0.56)[0] is Decision.MATCH
    assert policy.decide(0.44)[0] is Decision.NO_MATCH
    decision, reasons = policy.decide(0.52)
    assert decision is Decision.REVIEW
    assert "within 0.05 of the threshold" in reasons[0]


@pytest.mark.parametrize("score", [0.99, 0.0])
def test_a_calibration_missing_the_fnmr_target_never_decides(score: float) -> None:
    policy = MatchPolicy(_calibration(0.20), fmr_target=1e-3, fnmr_target=0.05, band=0.05)
    decision, reasons = policy.decide(score)
    assert decision is Decision.REVIEW
    assert "exceeds the target" in reasons[0]


def test_an_unsupported_fmr_never_decides() -> None:
    policy = MatchPolicy(_calibration(0.01, supported=False), 1e-3, 0.05, 0.05)
    assert policy.decide(0.99)[0] is Decision.REVIEW


def test_an_uncalibrated_fmr_target_is_an_error() -> None:
    policy = MatchPolicy(_calibration(0.01), fmr_target=1e-5, fnmr_target=0.05, band=0.05)
    with pytest.raises(CalibrationMissing):
        policy.decide(0.9)


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
            model_id="dlib-resnet-v1",
            population="atlantis",
            pipeline="yunet+flip",
        )
