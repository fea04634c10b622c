"""`/v1/faces/verify` tells an agent the decision, never the score: with the score, an agent
holding both images could edit a face call by call toward the document's portrait (a
hill-climbing attack). Administrators still see it."""

from __future__ import annotations

import json
import re

import pytest

from simkyc.api.routes.faces import verification_reply
from simkyc.faces.pipeline import VerificationResult
from simkyc.faces.policy import Decision
from simkyc.faces.pose import HeadPose
from simkyc.faces.quality import QualityReport
from simkyc.faces.reasons import ReviewCode, ReviewReason

QUALITY = QualityReport(eye_distance=60.0, sharpness=150.0, brightness=120.0, contrast=40.0,
                        pose=HeadPose(2.0, 1.0, 0.5), detector_score=0.93, findings=())


def _between(score: float = 0.61734) -> VerificationResult:
    return VerificationResult(
        decision=Decision.REVIEW, score=score, threshold=0.670282, reject_threshold=0.113482,
        fmr_target=1e-3, model_id="omz-face-reid-0095-q8", calibration_id="c",
        reasons=(ReviewReason.of(ReviewCode.BETWEEN, score=score, reject=0.113482,
                                 accept=0.670282),),
        document_quality=QUALITY, selfie_quality=QUALITY, frames_used=1,
        timings_ms={"embed": 8.0})


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_an_agent_is_not_told_the_score(locale: str) -> None:
    reply = verification_reply(_between(), locale, with_score=False)
    assert reply["score"] is None
    assert reply["decision"] == "review" and reply["reason_codes"] == ["between"]
    assert reply["reason_figures"] == [{"reject": 0.113482, "accept": 0.670282}]
    text = json.dumps(reply, ensure_ascii=False)
    assert not re.search(r"0\.617", text), text  # nowhere: not in a figure, not in a sentence
    assert "0.113" in reply["reasons"][0] and "0.670" in reply["reasons"][0]


def test_replies_differing_only_in_score_are_the_same_for_an_agent() -> None:
    near, nearer = (verification_reply(_between(s), "en", with_score=False)
                    for s in (0.41, 0.66))
    assert near == nearer


def test_an_administrator_is_told_the_score() -> None:
    reply = verification_reply(_between(), "en", with_score=True)
    assert reply["score"] == 0.61734
    assert reply["reason_figures"] == [{"score": 0.61734, "reject": 0.113482, "accept": 0.670282}]
    assert "0.617" in reply["reasons"][0]
