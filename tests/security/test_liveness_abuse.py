"""Liveness that an attacker cannot steer (issue 11): one open challenge per session, issuing
counts as an attempt (no free re-rolls until a pre-recorded clip fits), limits per session,
per person and per device, the lock checked before a clip is decoded, and 429 with
Retry-After. Each test failed on the code before the fix (the challenge book in memory)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from api_world import Api, applicant

GARBAGE_CLIP = {"video": ("clip.avi", b"not a video at all", "video/x-msvideo")}


@pytest.fixture
def agent(api: Api) -> str:
    return api.staff("agent", api.operator())


def limit(api: Api) -> int:
    return api.services.settings.lockout_failures


def challenge(api: Api, agent: str, proofing_id: str, device: str | None = None
              ) -> httpx.Response:
    data = {"device_id": device} if device else None
    return api.call("POST", f"/v1/proofing-sessions/{proofing_id}/liveness-challenges", agent,
                    data=data)


def locked(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "LIVENESS_LOCKED"
    assert int(response.headers["Retry-After"]) >= 1


def used_up(api: Api, agent: str, person: dict[str, Any]) -> tuple[str, str]:
    """A session whose allowance of challenges is spent; its last challenge's nonce."""
    proofing_id = api.start(agent, person)
    nonce = ""
    for _ in range(limit(api)):
        issued = challenge(api, agent, proofing_id)
        assert issued.status_code == 201, issued.text
        nonce = issued.json()["nonce"]
    return proofing_id, nonce


def test_issuing_a_challenge_closes_the_previous_one(api: Api, agent: str) -> None:
    proofing_id = api.start(agent, applicant())
    first = challenge(api, agent, proofing_id).json()["nonce"]
    challenge(api, agent, proofing_id)
    answer = api.call("POST", f"/v1/proofing-sessions/{proofing_id}/liveness", agent,
                      data={"nonce": first}, files=GARBAGE_CLIP)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "CHALLENGE_SUPERSEDED"


def test_challenges_cannot_be_rerolled_for_free(api: Api, agent: str) -> None:
    proofing_id, _ = used_up(api, agent, applicant())
    locked(challenge(api, agent, proofing_id))


def test_a_new_session_for_the_same_person_is_still_locked(api: Api, agent: str) -> None:
    person = applicant()
    proofing_id, _ = used_up(api, agent, person)
    locked(challenge(api, agent, proofing_id))
    again = api.start(agent, person)
    locked(challenge(api, agent, again))
    other_agent = api.staff("agent", api.operator())  # another shop: the same person
    locked(challenge(api, other_agent, api.start(other_agent, person)))


def test_a_device_is_limited_across_sessions_and_persons(api: Api, agent: str) -> None:
    device = f"phone-{uuid.uuid4().hex}"
    for _ in range(limit(api)):
        issued = challenge(api, agent, api.start(agent, applicant()), device)
        assert issued.status_code == 201, issued.text
    locked(challenge(api, agent, api.start(agent, applicant()), device))
    assert challenge(api, agent, api.start(agent, applicant())).status_code == 201


def test_a_locked_session_is_refused_before_its_clip_is_decoded(api: Api, agent: str) -> None:
    proofing_id, nonce = used_up(api, agent, applicant())
    locked(challenge(api, agent, proofing_id))
    answer = api.call("POST", f"/v1/proofing-sessions/{proofing_id}/liveness", agent,
                      data={"nonce": nonce}, files=GARBAGE_CLIP)
    locked(answer)  # decoding first would have said INVALID_MEDIA (400)
