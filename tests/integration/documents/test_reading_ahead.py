"""The document reader's MRZ search started ahead, beside the portrait, gives what the
sequential reading gives (real specimens: evaluation data, required in CI, skipped
elsewhere): a passport page with no card's text, and card-shaped documents whose text is read
first (the search paused, then taken, or cancelled and made again with the card's hint)."""

from __future__ import annotations

from datetime import date

import pytest
from settings_for_tests import make_settings
from shared_files import require

from simkyc.documents.crosscheck import TextCheck, Typed
from simkyc.documents.portrait import extract_portrait
from simkyc.documents.reading import DocumentReader
from simkyc.errors import SimkycError
from simkyc.eval.document_specimens import load_manifest
from simkyc.faces.pipeline import FaceEncoder

pytestmark = pytest.mark.data

TODAY = date(2026, 12, 5)
# A passport page read by the quick pass (no card), a card-shaped passport scan and an ID
# card photographed on a table (card outlines: their text is read first).
NAMES = ("isl-passport-td3-2.jpg", "uto-passport-td3-1.jpg", "uto-id-card-td1-1.jpg")


@pytest.fixture(scope="module")
def reader() -> DocumentReader:
    documents = DocumentReader.from_settings(make_settings())
    documents.warm()
    return documents


def _sequential(documents: DocumentReader, pixels: object, encoder: FaceEncoder) -> TextCheck:
    try:
        card = extract_portrait(pixels, encoder, require_quality=False).card  # type: ignore[arg-type]
    except SimkycError:
        card = None
    return documents.text(pixels, card=card, typed=Typed(), today=TODAY)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", NAMES)
def test_the_search_ahead_reads_as_the_sequential_reading(
    name: str, reader: DocumentReader, encoder: FaceEncoder
) -> None:
    folder = require(make_settings().data_dir / "documents-specimens",
                     "evaluation data (set SIMKYC_DATA_DIR)")
    specimen = next(s for s in load_manifest(folder) if s.path.name == name)
    pixels = encoder.decoder.decode(specimen.path.read_bytes()).pixels
    ahead = reader.read(pixels, encoder=encoder, today=TODAY)
    alone = _sequential(reader, pixels, encoder)
    assert ahead.text.to_dict() == alone.to_dict()
    assert ahead.mrz_verified
