"""The API's human sentences follow Accept-Language: document-check sentences, liveness
prompts, error messages; codes, names and every key stay the same. A Chinese name is kept as
typed (张伟), an ID number ending in `x` is accepted as `X`."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest
from api_world import Api, applicant

from simkyc.liveness.challenge import Action

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
CONSENT = {"given": True, "version": "consent-v1"}


def test_document_checks_and_prompts_in_chinese(api: Api) -> None:
    agent = api.staff("agent", api.operator("CN"))
    person = applicant(expiry=date(2020, 1, 1), name="张伟")
    person["number"] = person["number"][:-1] + person["number"][-1].lower()
    created = api.ok("POST", "/v1/proofing-sessions", agent, headers=ZH,
                     json={"applicant": person, "consent": CONSENT})
    checks = {c["name"]: c for c in created["document_checks"]}
    assert checks["document_expiry"]["code"] == "DOCUMENT_EXPIRED"
    assert checks["document_expiry"]["message"] == "证件已过期：请出示有效证件。"
    assert checks["minimum_age"]["message"] == "持证人已达到最低年龄。"
    assert checks["cn_id_number"]["passed"] is True  # the final x read as X
    challenge = api.ok("POST", f"/v1/proofing-sessions/{created['id']}/liveness-challenges",
                       agent, headers={**ZH, "Idempotency-Key": "zh-challenge"})
    prompts = dict(zip(challenge["actions"], challenge["prompts"], strict=True))
    chinese = {"turn_left": "请向左转头", "turn_right": "请向右转头", "blink": "请眨眼",
               "look_up": "请抬头"}
    assert prompts == {a: chinese[a] for a in challenge["actions"]}


def test_the_same_error_in_both_languages(api: Api) -> None:
    agent = api.staff("agent", api.operator("CN"))
    zh = api.call("GET", "/v1/lines/no-such-line", agent, headers=ZH).json()["error"]
    en = api.call("GET", "/v1/lines/no-such-line", agent).json()["error"]
    assert zh["code"] == en["code"] == "NOT_FOUND"
    assert zh["message"] == "未找到该记录。"
    assert en["message"].startswith("No line")
    assert {k for k in zh} == {k for k in en}
    denied = api.call("GET", "/v1/lines/x", "sk_nope", headers=ZH).json()["error"]
    assert denied["code"] == "INVALID_CREDENTIALS"
    assert denied["message"].startswith("密钥、登录码或会话无效")


def test_the_pages_language_comes_from_accept_language(api: Api) -> None:
    zh = api.call("GET", "/web/agent", None, headers=ZH)
    assert '<html lang="zh-CN">' in zh.text and zh.headers["vary"] == "Accept-Language"
    assert '<html lang="en">' in api.call("GET", "/web/citizen", None).text
    offer = api.ok("GET", "/web/i18n", None, headers=ZH)
    assert offer == {"locales": {"en": "English", "zh-CN": "简体中文"}, "preferred": "zh-CN"}
    catalog = api.ok("GET", "/web/i18n/zh-CN", None)
    assert catalog["prompt.blink"] == "请眨眼"
    missing = api.call("GET", "/web/i18n/xx", None, headers=ZH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert missing.headers["cache-control"] == "no-store"


def test_face_review_reasons_follow_accept_language(api: Api,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`/v1/faces/verify`'s review reasons are sentences for an operator: Chinese under
    zh-CN (they were English whatever the header), English otherwise; `reason_codes` and
    `reason_figures` are the same in both."""
    policy = api.services.pipeline.policy
    weak = replace(policy.calibration,
                   points=tuple(replace(p, supported=False) for p in policy.calibration.points))
    monkeypatch.setattr(api.services.pipeline, "policy", replace(policy, calibration=weak))
    agent = api.staff("agent", api.operator("CN"))
    shots = {"document": ("d.jpg", api.shots.selfie, "image/jpeg"),
             "selfie": ("s.jpg", api.shots.selfie, "image/jpeg")}
    zh = api.ok("POST", "/v1/faces/verify", agent, headers=ZH, files=shots)
    en = api.ok("POST", "/v1/faces/verify", agent, files=shots)
    assert zh["decision"] == en["decision"] == "review"
    assert zh["reason_codes"] == en["reason_codes"] == ["fmr_unsupported"]
    assert zh["reason_figures"] == en["reason_figures"] == [
        {"fmr": policy.fmr_target, "pairs": policy.calibration.n_impostor}]
    fmr, pairs = f"{policy.fmr_target:g}", f"{policy.calibration.n_impostor:,}"
    assert en["reasons"] == [f"FMR {fmr} is not supported by the {pairs} impostor pairs of "
                             "the calibration"]
    assert zh["reasons"] == [f"校准所用的 {pairs} 对冒名样本不足以支撑 {fmr} 的误识率（FMR）"]


def test_liveness_reasons_are_said_from_their_codes_in_each_language(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The flow keeps a liveness reply's reasons as codes (`reason_keys`); the route says
    them in the request's language. A replay under the same key, asked in English, says the
    very reply it kept in English: nothing is matched from a sentence."""
    out_of_order = (Action.TURN_LEFT, Action.TURN_RIGHT)  # the video turns right, then left
    monkeypatch.setattr(api.services, "book", replace(api.services.book, script=out_of_order))
    agent = api.staff("agent", api.operator("CN"))
    session = api.start(agent, applicant())
    api.faces(agent, session)
    base = f"/v1/proofing-sessions/{session}"
    nonce = api.ok("POST", f"{base}/liveness-challenges", agent)["nonce"]
    key = {"Idempotency-Key": f"liveness-{uuid.uuid4().hex}"}
    sent = {"data": {"nonce": nonce},
            "files": {"video": ("headturn.avi", api.shots.video, "video/x-msvideo")}}
    zh = api.ok("POST", f"{base}/liveness", agent, headers={**ZH, **key}, **sent)
    en = api.ok("POST", f"{base}/liveness", agent, headers=key, **sent)
    assert zh["verdict"] == en["verdict"] == "retry"
    assert zh["reason_keys"] == en["reason_keys"]
    assert {"id": "liveness.not_seen_timed", "actions": ["turn_right"]} in zh["reason_keys"]
    assert "未按顺序及时检测到：请向右转头" in zh["reasons"]
    assert "not seen in order and on time: Turn your head to your right" in en["reasons"]
    assert len(zh["reasons"]) == len(en["reasons"]) == len(zh["reason_keys"])
