"""The service's document reader (`DocumentReader.text`, what the proofing flow and
`simkyc document check` run) on the PRC resident ID card drawn as printed: read by its own
labels and cross-checked; its 性别 only checked against the number, never shown; 民族 never
read."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from shared_files import require

from simkyc.documents.cn_id import check_character
from simkyc.documents.crosscheck import FieldStatus, TextCheck, Typed, TypedField
from simkyc.documents.findings import DocumentError
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.reading import DocumentReader
from simkyc.synth.cn_card_specimen import (
    ETHNICITY_PLACEHOLDER,
    CnCardData,
    example_card,
    render_front,
)
from simkyc.synth.specimen import cjk_font_path

pytestmark = pytest.mark.slow  # each OCRs a whole card: over 5 s (pytest --durations)

TODAY = date(2026, 12, 5)
WQY_MICROHEI = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian's
MAN, WOMAN = "\u7537", "\u5973"  # 男, 女
DATA = example_card()


@pytest.fixture(scope="module")
def reader() -> DocumentReader:
    require(cjk_font_path() or WQY_MICROHEI, "a CJK font (run.sh installs fonts-wqy-microhei)")
    return DocumentReader(CardReader(threads=2), OcrbRecognizer.load())


def _typed(data: CnCardData, *, resident_id: bool = True) -> Typed:
    return Typed(data.number, data.name, data.birth_date, data.valid_until,
                 resident_id=resident_id)


def _read(reader: DocumentReader, data: CnCardData, typed: Typed) -> TextCheck:
    card = render_front(data, None)
    return reader.text(card, card=card, typed=typed, today=TODAY)


def test_a_prc_card_is_read_by_its_labels_and_matches_the_typed_data(
    reader: DocumentReader,
) -> None:
    check = _read(reader, DATA, _typed(DATA))
    fields = {field.field: field for field in check.fields}
    assert fields[TypedField.NAME].status is FieldStatus.MATCH
    assert fields[TypedField.NAME].source == "cn_card"
    assert fields[TypedField.DOCUMENT_NUMBER].status is FieldStatus.MATCH
    assert fields[TypedField.BIRTH_DATE].status is FieldStatus.MATCH
    assert check.consistent is True
    assert check.text.mrz is None  # a resident ID card has no MRZ: none looked for


def test_another_persons_prc_data_is_a_mismatch(reader: DocumentReader) -> None:
    other = "11010519900101003"
    typed = replace(_typed(DATA), number=other + check_character(other),
                    name="\u674e\u660e")  # 李明
    fields = {field.field: field.status for field in _read(reader, DATA, typed).fields}
    assert fields[TypedField.DOCUMENT_NUMBER] is FieldStatus.MISMATCH


def test_an_altered_card_is_inconsistent_and_its_sex_and_ethnicity_are_never_shown(
    reader: DocumentReader,
) -> None:
    # Read as a PRC card by what is printed on it, though the agent selected no such card.
    check = _read(reader, replace(DATA, sex_printed=WOMAN), _typed(DATA, resident_id=False))
    assert check.consistent is False
    shown = json.dumps(check.to_dict(), ensure_ascii=False)
    assert check.to_dict()["cn_card"] == {
        "fields_read": check.to_dict()["cn_card"]["fields_read"],  # type: ignore[index]
        "consistent": False, "errors": [DocumentError.INCONSISTENT_DOCUMENT.value]}
    assert MAN not in shown and WOMAN not in shown and ETHNICITY_PLACEHOLDER not in shown
