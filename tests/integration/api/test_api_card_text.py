"""The card's text (OCR) against the typed data through the API: a typed name that is not
the card's sends the session to manual review with its reason; matching data does not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from api_world import Api, Shots

from simkyc.config import Settings
from simkyc.documents.reading import DocumentReader
from simkyc.faces.detect import YuNetDetector
from simkyc.liveness.media import MediaLimits, decode_video
from simkyc.synth.specimen import (
    DocumentKind,
    SpecimenData,
    portrait_from_photo,
    random_specimen,
    render_card,
)
from simkyc.synth.virtual_photo import Shot, photograph


@pytest.fixture(scope="module")
def portrait(shots: Shots) -> object:
    """The face of the head-turn video's first frame, cut as a document portrait."""
    first = decode_video(shots.video, MediaLimits())[0].pixels
    detector = YuNetDetector(Settings().models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    return portrait_from_photo(first, detector.detect(first)[0].box)


@pytest.fixture
def ocr(api: Api) -> Iterator[None]:
    """The document reader on for this test (the shared app runs with it off; see
    conftest), built as the service builds it."""
    api.services.documents = DocumentReader.from_settings(api.services.settings)
    try:
        yield
    finally:
        api.services.documents = None


def _card(portrait: object, seed: int) -> tuple[SpecimenData, bytes]:
    rng = np.random.default_rng(seed)
    data = random_specimen(rng, DocumentKind.CN_RESIDENT_ID)
    card = render_card(data, portrait)  # type: ignore[arg-type]
    return data, photograph(card, rng, shot=Shot(turn_deg=5.0, tilt_deg=12.0, glare=False)).jpeg


def _submit(api: Api, agent: str, proofing_id: str, card: bytes) -> dict[str, Any]:
    base = f"/v1/proofing-sessions/{proofing_id}"
    out: dict[str, Any] = api.ok("POST", f"{base}/document", agent,
                                 files={"image": ("card.jpg", card, "image/jpeg")})
    api.ok("POST", f"{base}/selfie", agent,
           files={"image": ("selfie.jpg", api.shots.selfie, "image/jpeg")})
    return out


def _typed(data: SpecimenData, name: str) -> dict[str, Any]:
    return {"number": data.number, "name": name, "birth_date": data.birth_date.isoformat(),
            "expiry": data.expiry_date.isoformat()}


@pytest.mark.usefixtures("ocr")
def test_a_typed_name_that_is_not_the_cards_goes_to_manual_review(
    api: Api, portrait: object
) -> None:
    agent = api.staff("agent", api.operator())
    data, card = _card(portrait, 41)
    proofing_id = api.start(agent, _typed(data, "ZHANG San"))
    submitted = _submit(api, agent, proofing_id, card)
    fields = {f["field"]: f for f in submitted["card_text"]}
    assert fields["name"]["status"] == "mismatch"
    assert fields["name"]["read"] is not None
    assert fields["document_number"]["status"] == "match"
    decided = api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
    assert decided["outcome"] == "manual_review"
    assert "document_text_mismatch" in decided["reasons"]
    assert "document_invalid" not in decided["reasons"]


@pytest.mark.usefixtures("ocr")
def test_typed_data_that_matches_the_card_raises_no_text_reason(
    api: Api, portrait: object
) -> None:
    agent = api.staff("agent", api.operator())
    data, card = _card(portrait, 42)
    proofing_id = api.start(agent, _typed(data, f"{data.surname} {data.given_names}"))
    submitted = _submit(api, agent, proofing_id, card)
    assert {f["status"] for f in submitted["card_text"]} == {"match"}
    held = api.ok("GET", f"/v1/proofing-sessions/{proofing_id}", agent)
    assert held["outcome"] == "pending"
    decided = api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
    assert "document_text_mismatch" not in decided["reasons"]
    assert "document_invalid" not in decided["reasons"]
