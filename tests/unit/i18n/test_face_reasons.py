"""The face policy's review reasons are data (a code and its figures), said from the catalogs
in every language: each branch of the policy renders in English and Chinese with its code and
its figures, and a code with no catalog entry (or with other placeholders than its figures)
fails here, not silently in a reply."""

from __future__ import annotations

import json
import re

import pytest

from simkyc.faces.calibration import Calibration, CalibrationPoint, RejectPoint
from simkyc.faces.policy import FacePolicy
from simkyc.faces.reasons import FIGURES, WITHHELD_SCORE, ReviewCode, ReviewReason
from simkyc.i18n import catalogs
from simkyc.i18n.catalog import Catalogs
from simkyc.i18n.messages import face_reason, localized_face_reasons

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _policy(*, accept_supported: bool = True, reject: RejectPoint | None = None) -> FacePolicy:
    calibration = Calibration(
        calibration_id="test", model_id="m", population="p", pipeline="x",
        points=(CalibrationPoint(1e-3, 0.5, 0.1, accept_supported),), n_genuine=1234,
        n_impostor=56789, date="2026-12-04", data="synthetic", command="-",
        reject_points=() if reject is None else (reject,))
    return FacePolicy(calibration, fmr_target=1e-3, false_reject_target=0.01)


# Every review branch of FacePolicy.decide: the policy, a score that lands there, the code,
# the figures as numbers, and the English sentence the catalog says.
BRANCHES = [
    (_policy(accept_supported=False), 0.9, ReviewCode.FMR_UNSUPPORTED,
     {"fmr": 1e-3, "pairs": 56789},
     "FMR 0.001 is not supported by the 56,789 impostor pairs of the calibration"),
    (_policy(), 0.2, ReviewCode.NO_REJECT_THRESHOLD, {"target": 0.01},
     "no reject threshold calibrated at 0.01"),
    (_policy(reject=RejectPoint(0.01, 0.3, 0.5, False)), 0.2, ReviewCode.REJECT_UNSUPPORTED,
     {"rate": 0.01, "pairs": 1234},
     "a false-reject rate of 0.01 is not supported by the 1,234 genuine pairs of the "
     "calibration"),
    (_policy(reject=RejectPoint(0.01, 0.3, 0.5, True)), 0.4123, ReviewCode.BETWEEN,
     {"score": 0.4123, "reject": 0.3, "accept": 0.5},
     "score 0.412 lies between the reject threshold 0.300 and the accept threshold 0.500"),
]
CHINESE = {
    ReviewCode.FMR_UNSUPPORTED: "校准所用的 56,789 对冒名样本不足以支撑 0.001 的误识率（FMR）",
    ReviewCode.NO_REJECT_THRESHOLD: "没有在 0.01 处校准的拒绝阈值",
    ReviewCode.REJECT_UNSUPPORTED: "校准所用的 1,234 对同人样本不足以支撑 0.01 的拒识率",
    ReviewCode.BETWEEN: "分数 0.412 介于拒绝阈值 0.300 与接受阈值 0.500 之间",
}


@pytest.mark.parametrize(("policy", "score", "code", "figures", "english"), BRANCHES)
def test_every_review_branch_gives_its_code_and_figures_said_in_both_languages(
        policy: FacePolicy, score: float, code: ReviewCode, figures: dict[str, float],
        english: str) -> None:
    (reason,) = policy.decide(score).reasons
    assert reason.code is code and reason.values() == figures
    assert face_reason(catalogs(), "en", reason) == english
    zh = face_reason(catalogs(), "zh-CN", reason)
    assert zh == CHINESE[code]
    assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[a-z]{3,}", zh), zh


def test_the_branches_above_cover_every_code() -> None:
    assert {code for _, _, code, _, _ in BRANCHES} == set(ReviewCode) == set(CHINESE)


@pytest.mark.parametrize("code", list(ReviewCode))
def test_every_code_has_a_sentence_with_its_figures_in_every_catalog(code: ReviewCode) -> None:
    """A code the policy can give with no `face_reason.<code>` entry, or an entry whose
    placeholders are not the code's figures, would be said as its fallback: it fails here."""
    for tag in catalogs().locales:
        template = catalogs().messages[tag].get(f"face_reason.{code.value}")
        assert template is not None, (tag, code)
        assert sorted(_PLACEHOLDER.findall(template)) == sorted(FIGURES[code]), (tag, code)


def test_a_reason_is_built_with_exactly_its_codes_figures() -> None:
    with pytest.raises(ValueError, match="names"):
        ReviewReason.of(ReviewCode.BETWEEN, score=0.4)
    with pytest.raises(ValueError, match="names"):
        ReviewReason.of(ReviewCode.NO_REJECT_THRESHOLD, target=0.01, extra=1.0)


def test_a_code_no_catalog_has_is_said_as_its_code_and_figures() -> None:
    """The fallback never hides a reason: the code and its figures, never an empty string."""
    reason = ReviewReason.of(ReviewCode.NO_REJECT_THRESHOLD, target=0.005)
    empty = Catalogs(messages={"en": {}, "zh-CN": {}})
    assert face_reason(empty, "zh-CN", reason) == "no_reject_threshold (target=0.005)"


def test_the_reply_has_codes_and_figures_that_do_not_change_with_the_language() -> None:
    """`/v1/faces/verify` and `simkyc verify --json`: `reasons` in the reader's language,
    `reason_codes` and `reason_figures` the same in every language (and JSON-ready)."""
    policy, score = BRANCHES[3][0], BRANCHES[3][1]
    reasons = policy.decide(score).reasons
    reply = {"decision": "review", "reasons": [r.to_dict() for r in reasons]}
    zh = localized_face_reasons(catalogs(), "zh-CN", reply, reasons)
    en = localized_face_reasons(catalogs(), "en", reply, reasons)
    assert zh["reason_codes"] == en["reason_codes"] == ["between"]
    assert zh["reason_figures"] == en["reason_figures"] == [
        {"score": 0.4123, "reject": 0.3, "accept": 0.5}]
    assert zh["reasons"] == [CHINESE[ReviewCode.BETWEEN]]
    assert en["reasons"] == [BRANCHES[3][4]]
    assert json.loads(json.dumps(en)) == en


@pytest.mark.parametrize("code", sorted(WITHHELD_SCORE))
def test_a_reason_naming_the_score_can_be_said_without_it(code: ReviewCode) -> None:
    """An agent's reply leaves the score out (api/routes/faces.py): its sentence names every
    other figure and no score, in every language."""
    for tag in catalogs().locales:
        template = catalogs().messages[tag].get(f"face_reason.{code.value}.withheld")
        assert template is not None, (tag, code)
        expected = sorted(name for name in FIGURES[code] if name != "score")
        assert sorted(_PLACEHOLDER.findall(template)) == expected, (tag, code)
    reason = ReviewReason.of(ReviewCode.BETWEEN, score=0.4123, reject=0.3, accept=0.5)
    assert face_reason(catalogs(), "en", reason.without("score")) == (
        "the score lies between the reject threshold 0.300 and the accept threshold 0.500 "
        "(the score itself is shown to administrators only)")
    assert face_reason(catalogs(), "zh-CN", reason.without("score")) == (
        "分数介于拒绝阈值 0.300 与接受阈值 0.500 之间（分数本身只向管理员显示）")
