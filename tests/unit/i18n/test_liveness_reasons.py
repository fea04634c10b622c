"""A liveness check's reason is data (a code, and the challenge's missed actions), said from
the catalogs in every language: no English sentence is matched to recover its meaning, and a
code with no catalog entry fails here."""

from __future__ import annotations

import re
from functools import partial

import pytest

from simkyc.api.routes.proofing import _reasons
from simkyc.i18n import catalogs
from simkyc.i18n.messages import liveness_reason
from simkyc.liveness.analyzer import CheckResult, LivenessResult, Verdict, _challenge
from simkyc.liveness.challenge import Action
from simkyc.liveness.reasons import LivenessReason, LivenessReasonCode
from simkyc.proofing.schemas import LivenessOut

_WITH_ACTIONS = {LivenessReasonCode.NOT_SEEN, LivenessReasonCode.NOT_SEEN_TIMED}


@pytest.mark.parametrize("code", list(LivenessReasonCode))
def test_every_code_has_a_sentence_in_every_catalog(code: LivenessReasonCode) -> None:
    """A code a check can give with no `liveness.<code>` entry (or with the wrong
    placeholders) would be said as its bare code: it fails here."""
    wanted = ["actions"] if code in _WITH_ACTIONS else []
    for tag in catalogs().locales:
        template = catalogs().messages[tag].get(f"liveness.{code.value}")
        assert template is not None, (tag, code)
        assert re.findall(r"\{(\w+)\}", template) == wanted, (tag, code)
        reason = LivenessReason(code, (Action.BLINK,) if wanted else ())
        assert liveness_reason(catalogs(), tag, reason) != code.value


@pytest.mark.parametrize(("slot_s", "code", "en", "zh"), [
    (2.5, LivenessReasonCode.NOT_SEEN_TIMED,
     "not seen in order and on time: Turn your head to your left; Blink",
     "未按顺序及时检测到：请向左转头；请眨眼"),
    (None, LivenessReasonCode.NOT_SEEN, "not seen in order: Turn your head to your left; Blink",
     "未按顺序检测到：请向左转头；请眨眼"),
])
def test_the_challenge_gives_the_missed_actions_said_in_both_languages(
        slot_s: float | None, code: LivenessReasonCode, en: str, zh: str) -> None:
    reason = _challenge([], [Action.TURN_LEFT, Action.BLINK], 5.0, slot_s).reason
    assert reason == LivenessReason(code, (Action.TURN_LEFT, Action.BLINK))
    assert liveness_reason(catalogs(), "en", reason) == en
    assert liveness_reason(catalogs(), "zh-CN", reason) == zh


def test_a_reasons_key_is_what_the_pages_keep_and_reads_back() -> None:
    """`reason_keys`: the catalog id and, for the challenge, the missed actions."""
    missed = LivenessReason(LivenessReasonCode.NOT_SEEN, (Action.TURN_LEFT, Action.BLINK))
    fixed = LivenessReason(LivenessReasonCode.SINGLE_FACE)
    assert missed.key() == {"id": "liveness.not_seen", "actions": ["turn_left", "blink"]}
    assert fixed.key() == {"id": "liveness.single_face"}
    assert [LivenessReason.from_key(r.key()) for r in (missed, fixed)] == [missed, fixed]


@pytest.mark.parametrize("stored", [
    None, {}, {"id": 3}, {"id": "liveness.nope"}, {"id": "finding.x"},
    {"id": "liveness.not_seen", "actions": ["dance"]},
    {"id": "liveness.not_seen", "actions": "blink"},
])
def test_a_stored_key_that_is_not_a_reason_reads_back_as_none(
        stored: dict[str, object] | None) -> None:
    assert LivenessReason.from_key(stored) is None


def _out(reasons: list[str], keys: list[dict[str, object] | None]) -> LivenessOut:
    return LivenessOut(verdict="retry", reasons=reasons, frames_analysed=20, actions_seen=[],
                       reason_keys=keys)


def test_the_api_says_the_flows_reasons_in_the_readers_language() -> None:
    """The flow keeps codes only; the route says them (and keeps the keys for the pages)."""
    keys: list[dict[str, object] | None] = [
        {"id": "liveness.not_seen", "actions": ["turn_right"]}, {"id": "liveness.passive"}]
    zh = _reasons(_out([], keys), "zh-CN")
    en = _reasons(_out([], keys), "en")
    assert zh.reasons == ["未按顺序检测到：请向右转头", "画面看起来像照片或屏幕"]
    assert en.reasons == ["not seen in order: Turn your head to your right",
                          "the image looks like a photo or a screen"]
    assert zh.reason_keys == en.reason_keys == keys


def test_a_reply_kept_before_reasons_were_codes_is_answered_as_it_was() -> None:
    """An idempotent replay of a reply stored with English sentences and no keys: no
    sentence is parsed back; the reply is answered as stored, not dropped or a 500."""
    old = _out(["not seen in order: blink"], [])
    assert _reasons(old, "zh-CN") == old


def test_a_results_json_is_language_free_unless_told_how_to_say_its_reasons() -> None:
    """`to_dict()` gives each failed check's reason as its key; the CLI passes the English
    sentence (`simkyc liveness check --json`); a passed check has no reason."""
    failed = LivenessReason(LivenessReasonCode.PASSIVE)
    result = LivenessResult(
        Verdict.SPOOF,
        (CheckResult("face_present", True, 1.0, 0.9,
                     LivenessReason(LivenessReasonCode.FACE_PRESENT)),
         CheckResult("passive", False, 0.1, 0.37, failed, Verdict.SPOOF)),
        (failed,), 20, (), {})
    keys = result.to_dict()
    assert keys["reasons"] == [{"id": "liveness.passive"}]
    assert keys["checks"] == {
        "face_present": {"passed": True, "value": 1.0, "threshold": 0.9, "reason": None,
                         "fails_as": "retry"},
        "passive": {"passed": False, "value": 0.1, "threshold": 0.37,
                    "reason": {"id": "liveness.passive"}, "fails_as": "spoof"}}
    english = result.to_dict(say=partial(liveness_reason, catalogs(), "en"))
    assert english["reasons"] == ["the image looks like a photo or a screen"]
