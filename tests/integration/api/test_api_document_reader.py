"""The proofing flow's document step reads documents with the service's one document reader
(`DocumentReader`, the reader `simkyc eval documents` measures), through the API as an agent
would: a real passport's MRZ, which the card-only path before it could not verify, is read
and verified by the own OCR-B recognizer; a PRC resident ID card drawn as printed is read by
its own labels, and one whose printed sex disagrees with its number goes to review."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest
from api_world import Api, Shots
from settings_for_tests import make_settings
from shared_files import require

from simkyc.config import Settings
from simkyc.documents.mrz import parse_mrz
from simkyc.documents.reading import DocumentReader
from simkyc.eval.document_specimens import Specimen, load_manifest
from simkyc.faces.detect import YuNetDetector
from simkyc.liveness.media import MediaLimits, decode_video
from simkyc.synth.cn_card_specimen import CnCardData, example_card, render_front
from simkyc.synth.specimen import portrait_from_photo
from simkyc.synth.virtual_photo import Shot, photograph

pytestmark = [pytest.mark.data, pytest.mark.slow]

# Iceland's second passport specimen: the card path with RapidOCR + Tesseract read its MRZ
# `invalid` (checked at 987203e, 2026-12-05); the service's reader (the own recognizer, its
# judge) verifies it as transcribed. (Afghanistan's, used first, no longer verifies since the
# judge asks more of a lone reader: it goes to review, which is the safe side.)
REAL_PASSPORT = "isl-passport-td3-2.jpg"
PRC = example_card()


def real_specimen(name: str) -> Specimen:
    """One real specimen of ../shared/data/documents-specimens (evaluation data)."""
    folder = require(make_settings().data_dir / "documents-specimens",
                     "evaluation data (set SIMKYC_DATA_DIR)")
    found = {s.path.name: s for s in load_manifest(folder)}.get(name)
    if found is None or found.mrz_lines is None:
        pytest.fail(f"{name} is not in the specimens' manifest with its MRZ")
    return found


@pytest.fixture
def reader_on(api: Api) -> Iterator[None]:
    """The document reader on for this test (the shared app runs with it off; see
    conftest), built as the service builds it at start."""
    api.services.documents = DocumentReader.from_settings(api.services.settings)
    try:
        yield
    finally:
        api.services.documents = None


@pytest.fixture(scope="module")
def portrait(shots: Shots) -> object:
    """The face of the head-turn video's first frame, cut as a document portrait."""
    first = decode_video(shots.video, MediaLimits())[0].pixels
    detector = YuNetDetector(Settings().models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    return portrait_from_photo(first, detector.detect(first)[0].box)


def _document(api: Api, agent: str, proofing_id: str, image: bytes) -> dict[str, Any]:
    out: dict[str, Any] = api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/document",
                                 agent, files={"image": ("document.jpg", image, "image/jpeg")})
    return out


@pytest.mark.usefixtures("reader_on")
def test_a_real_passports_mrz_is_read_and_verified_in_the_document_step(api: Api) -> None:
    specimen = real_specimen(REAL_PASSPORT)
    mrz = parse_mrz(list(specimen.mrz_lines or ()), today=date(2026, 12, 5))
    assert mrz.valid and mrz.birth_date is not None
    agent = api.staff("agent", api.operator())
    proofing_id = api.start(agent, {
        "document_kind": "passport", "country": mrz.issuing_state,
        "number": mrz.document_number, "name": f"{mrz.given_names} {mrz.surname}",
        "birth_date": mrz.birth_date.isoformat()})
    out = _document(api, agent, proofing_id, specimen.path.read_bytes())
    assert out["mrz"] == "verified"
    fields = {f["field"]: f for f in out["card_text"]}
    assert fields["document_number"] == {"field": "document_number", "status": "match",
                                         "read": mrz.document_number, "source": "mrz"}
    assert (fields["birth_date"]["status"], fields["birth_date"]["source"]) == ("match", "mrz")


def _prc_photo(portrait: object, data: CnCardData, seed: int) -> bytes:
    card = render_front(data, portrait)  # type: ignore[arg-type]
    shot = Shot(turn_deg=4.0, tilt_deg=10.0, glare=False)
    return photograph(card, np.random.default_rng(seed), shot=shot).jpeg


def _prc_typed(data: CnCardData) -> dict[str, Any]:
    return {"document_kind": "cn_resident_id", "number": data.number, "name": data.name,
            "birth_date": data.birth_date.isoformat()}


@pytest.mark.usefixtures("reader_on")
def test_a_prc_card_is_read_by_its_labels_in_the_document_step(
        api: Api, portrait: object) -> None:
    agent = api.staff("agent", api.operator())
    proofing_id = api.start(agent, _prc_typed(PRC))
    out = _document(api, agent, proofing_id, _prc_photo(portrait, PRC, 5))
    fields = {f["field"]: f for f in out["card_text"]}
    assert (fields["name"]["status"], fields["name"]["source"]) == ("match", "cn_card")
    assert fields["document_number"]["status"] == "match"
    assert fields["consistent"]["status"] == "match"
    assert out["mrz"] is None


@pytest.mark.usefixtures("reader_on")
def test_a_prc_card_whose_printed_sex_disagrees_with_its_number_goes_to_review(
        api: Api, portrait: object) -> None:
    agent = api.staff("agent", api.operator())
    proofing_id = api.start(agent, _prc_typed(PRC))
    altered = replace(PRC, sex_printed="\u5973")  # 女 on a man's number
    out = _document(api, agent, proofing_id, _prc_photo(portrait, altered, 6))
    fields = {f["field"]: f for f in out["card_text"]}
    assert fields["consistent"] == {"field": "consistent", "status": "mismatch", "read": None,
                                    "source": "cn_card"}
    assert fields["name"]["status"] == "match"  # the review is for the card, not the name
    assert "\u5973" not in str(out) and "\u7537" not in str(out)
    api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/selfie", agent,
           files={"image": ("selfie.jpg", api.shots.selfie, "image/jpeg")})
    decided = api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
    assert decided["outcome"] == "manual_review"
    assert "document_text_mismatch" in decided["reasons"]


class _SlotWitness(DocumentReader):
    """The service's reader, noting whether its one reading slot was held by the caller
    while the card's text was read (a slot free then would let a worker read more documents
    at once than it has engines, each with ~250 MB of OCR buffers)."""

    held_while_reading: list[bool]

    def text(self, *args: Any, **kwargs: Any) -> Any:
        free = self.slots.acquire(blocking=False)
        if free:
            self.slots.release()
        self.held_while_reading.append(not free)
        return super().text(*args, **kwargs)


def test_the_document_step_reads_within_one_of_the_readers_slots(
        api: Api, portrait: object) -> None:
    built = DocumentReader.from_settings(
        api.services.settings.model_copy(update={"engine_pool": 2}))
    taken = [built.slots.acquire(blocking=False) for _ in range(3)]
    assert taken == [True, True, False]  # one slot per engine
    witness = _SlotWitness(built.ocr, built.own, built.second, built.sure_score,
                           threading.BoundedSemaphore(1))
    object.__setattr__(witness, "held_while_reading", [])
    api.services.documents = witness
    try:
        agent = api.staff("agent", api.operator())
        proofing_id = api.start(agent, _prc_typed(PRC))
        _document(api, agent, proofing_id, _prc_photo(portrait, PRC, 7))
    finally:
        api.services.documents = None
    assert witness.held_while_reading == [True]
    assert witness.slots.acquire(blocking=False)  # and given back
