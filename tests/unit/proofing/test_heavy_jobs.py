"""A worker runs at most as many heavy jobs at once as its engine pool has members (one per
core): the card's OCR counts as one, though it uses no member. Outside the pool, two clips
and an OCR ran together on a 2-core worker and its peak was their sum (919 MB)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any, cast

import pytest

from simkyc.config import Settings
from simkyc.documents.crosscheck import Typed
from simkyc.documents.reading import DocumentReader
from simkyc.liveness.challenge import ChallengeBook
from simkyc.privacy.keyring import Keyring
from simkyc.proofing.engines import EnginePool, Engines
from simkyc.proofing.flow import ProofingFlow


def test_the_card_ocr_holds_an_engine_while_it_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    decoder = SimpleNamespace(decode=lambda image: SimpleNamespace(pixels="pixels"))
    encoder = SimpleNamespace(decoder=decoder)
    pool = EnginePool([cast(Engines, SimpleNamespace(pipeline=SimpleNamespace(encoder=encoder)))])
    found = SimpleNamespace(sample="sample", card="card")
    monkeypatch.setattr("simkyc.documents.portrait.extract_portrait",
                        lambda pixels, encoder: found)
    free_while_reading: list[int] = []

    def text(*_: Any, **__: Any) -> str:
        free_while_reading.append(pool.idle())
        return "text"

    flow = ProofingFlow(settings=Settings(), keyring=cast(Keyring, None), engines=pool,
                        book=ChallengeBook(),
                        documents=cast(DocumentReader, SimpleNamespace(text=text)))
    read = flow._read_document(b"card", Typed(number="1"), card=True, today=date(2026, 1, 1))
    assert read == ("sample", "text")
    assert free_while_reading == [0]  # the one member was checked out: no other job ran
    assert pool.idle() == 1  # and given back
