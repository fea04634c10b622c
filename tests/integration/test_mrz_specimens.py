"""The MRZ of real specimen documents (evaluation data: required in CI, skipped elsewhere)
read by the project's own OCR-B recognizer, RapidOCR and Tesseract: verified, and equal to
the transcription."""

from __future__ import annotations

from datetime import date

import cv2
import pytest
from settings_for_tests import make_settings
from shared_files import require

from simkyc.documents.mrz_locate import find_bands, morphology_boxes
from simkyc.documents.mrz_read import find_mrz
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.tesseract import TesseractLines
from simkyc.eval.document_specimens import Specimen, load_manifest
from simkyc.types import Image

pytestmark = pytest.mark.data

TODAY = date(2026, 12, 1)
# A passport page, an ID card and a visa, each of another issuer and layout; Utopia's visa,
# whose first line the own recognizer reads with a mark before it (`1V<UTO...`): as a
# passport's TD3 it "verified" with a `4` for its last filler; Spain's ID card, whose name
# line the CTC path read shifted (`ESPANOILA<ESPANLA`), read at the line's pitch since;
# Serbia's card, its two sides side by side (the MRZ's rows joined to the front's text, its
# last line not found whole: found in parts, the line guessed); France's residence permit
# (RapidOCR's `K` for the name's fillers, which the own recognizer reads `<` at a lead of
# 20: outweighed); France's old national ID card (its own 2 x 36 layout); Qatar's passport
# (a red stamp over `AL`: read `AI` surely in grey, and verified wrong by the quick pass at
# 2 MP, before the colours were dropped too); Germany's passport (Tesseract's line one
# character long vouches for its start against the own recognizer's `B` for `O`);
# Azerbaijan's dim table photo (its italic names line: the own recognizer's sure `V` for
# `N` outvoted by the runs Tesseract reads in place); the UK's residence permit (the
# placeholder nationality `COU`: two readers agreeing outvote RapidOCR's `CUU`). Of these
# four, Qatar's and Azerbaijan's fail on the fourth stop's code; Germany's and the UK's
# verified there at their own size too (not at 2 MP: `bench/documents.py --megapixels 2`).
NAMES = ("uto-passport-td3-1.jpg", "nld-id-card-td1-1.jpg", "usa-visa-mrva-1.png",
         "uto-visa-mrva-1.jpg", "esp-id-card-td1-1.png", "srb-id-card-td1-1.png",
         "fra-residence-permit-td1-1.png", "fra-id-card-td2-1.jpg", "qat-passport-td3-1.png",
         "deu-passport-td3-2.bmp", "aze-passport-td3-2.jpg", "gbr-residence-permit-td1-1.png")


def _specimens() -> dict[str, Specimen]:
    folder = require(make_settings().data_dir / "documents-specimens",
                     "evaluation data (set SIMKYC_DATA_DIR)")
    return {s.path.name: s for s in load_manifest(folder) if s.path.name in NAMES}


def _pixels(specimen: Specimen) -> Image:
    return cv2.cvtColor(cv2.imread(str(specimen.path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("name", NAMES)
def test_a_real_specimen_mrz_is_verified_as_transcribed(name: str) -> None:
    specimen = _specimens().get(name)
    if specimen is None:
        pytest.fail(f"{name} is not in the specimens' manifest")
    # As the service's reader reads: the own recognizer, RapidOCR, Tesseract as a witness.
    found = find_mrz(CardReader(threads=2), _pixels(specimen), today=TODAY,
                     own=OcrbRecognizer.load(), second=TesseractLines())
    assert found.verified
    assert found.reading is not None and found.reading.lines == specimen.mrz_lines


def test_morphology_finds_the_band_the_own_recognizer_reads() -> None:
    specimen = _specimens()["uto-passport-td3-1.jpg"]
    image = _pixels(specimen)
    bands = find_bands(image, morphology_boxes(image))
    assert any(len(band.rows) == 2 for band in bands)
