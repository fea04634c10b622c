"""Typed data against the card's text: normalisation, and match / mismatch / unreadable."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from simkyc.documents.card_text import CardText, Field, compact, read_card_text
from simkyc.documents.crosscheck import FieldStatus, Typed, TypedField, cross_check, same_name
from simkyc.documents.mrz_correct import correct_mrz
from simkyc.documents.ocr import TextLine
from simkyc.synth.specimen import td3_mrz

TODAY = date(2026, 11, 22)
SURE = 0.95


@pytest.mark.parametrize(("typed", "read"), [
    ("Wang Chao", "WANGCHAO"),  # OCR drops the space
    ("chao wang", "WANG CHAO"),  # the other order
    ("  Zoë  O'Brien ", "ZOE OBRIEN"),  # accents, punctuation, spacing
    ("Müller Jörg", "MUELLER JOERG"),  # ICAO transliteration
    ("Müller Jörg", "MULLER JORG"),  # or marks dropped
    ("Strauß", "STRAUSS"),
    ("王超", "王 超"),
])
def test_the_same_name_matches(typed: str, read: str) -> None:
    assert same_name(typed, read)


@pytest.mark.parametrize(("typed", "read"), [
    ("Wang Chao", "WANG CHEN"),
    ("Wang", "WANG CHAO"),  # a part missing is not the same name
    ("王超", "王娟"),
    ("", "WANG"),
])
def test_another_name_does_not(typed: str, read: str) -> None:
    assert not same_name(typed, read)


def test_numbers_compare_without_case_spaces_or_dashes() -> None:
    assert compact(" rd-085 8304 ") == "RD0858304"


def _text(values: dict[Field, str], score: float = 0.99, mrz: tuple[str, ...] = (),
          hint: str | None = None) -> CardText:
    reading = correct_mrz(mrz, today=TODAY, number_hint=hint) if mrz else None
    return CardText(values, dict.fromkeys(values, score), reading, None)


PASSPORT = td3_mrz("RD0858304", "BALOGUN", "AVERY", date(1996, 11, 21), date(2032, 3, 22))
VISUAL = {Field.SURNAME: "BALOGUN", Field.GIVEN_NAMES: "AVERY", Field.BIRTH_DATE: "21.11.1996",
          Field.NUMBER: "RD0858304", Field.VALIDITY: "22.03.2022 - 22.03.2032"}
TYPED = Typed("rd0858304", "Avery Balogun", date(1996, 11, 21), date(2032, 3, 22))


def _statuses(text: CardText, typed: Typed) -> dict[TypedField, FieldStatus]:
    return {check.field: check.status for check in cross_check(text, typed, sure_score=SURE)}


def test_every_typed_field_matches_the_card() -> None:
    checks = cross_check(_text(VISUAL, mrz=PASSPORT), TYPED, sure_score=SURE)
    assert {c.status for c in checks} == {FieldStatus.MATCH}
    assert {c.field: c.source for c in checks}[TypedField.DOCUMENT_NUMBER] == "mrz"


def test_a_typo_is_a_mismatch_and_the_typed_data_is_not_changed() -> None:
    typo = Typed("RD0858305", "Avery Balogan", date(1996, 11, 12), date(2032, 3, 22))
    checks = {c.field: c for c in cross_check(_text(VISUAL, mrz=PASSPORT), typo,
                                              sure_score=SURE)}
    assert checks[TypedField.DOCUMENT_NUMBER].status is FieldStatus.MISMATCH
    assert checks[TypedField.DOCUMENT_NUMBER].read == "RD0858304"
    assert checks[TypedField.NAME].status is FieldStatus.MISMATCH
    assert checks[TypedField.BIRTH_DATE].read == "1996-11-21"
    assert checks[TypedField.EXPIRY_DATE].status is FieldStatus.MATCH
    assert typo.number == "RD0858305"  # frozen: reported, never fixed


def test_an_unsure_reading_that_differs_is_unreadable_not_a_mismatch() -> None:
    typo = Typed("RD0858305", "Avery Balogan")
    statuses = _statuses(_text(VISUAL, score=0.7), typo)  # no MRZ, shaky OCR
    assert set(statuses.values()) == {FieldStatus.UNREADABLE}


def test_a_field_not_on_the_card_is_unreadable_and_one_not_typed_is_not_checked() -> None:
    text = _text({Field.SURNAME: "BALOGUN", Field.GIVEN_NAMES: "AVERY"})
    statuses = _statuses(text, Typed(number="RD0858304", name="Avery Balogun"))
    assert statuses == {TypedField.DOCUMENT_NUMBER: FieldStatus.UNREADABLE,
                        TypedField.NAME: FieldStatus.MATCH}


def test_a_chinese_name_is_compared_with_the_chinese_name_only() -> None:
    text = _text({Field.NAME: "王超", Field.NAME_LATIN: "WANGCHAO"})
    assert _statuses(text, Typed(name="王超"))[TypedField.NAME] is FieldStatus.MATCH
    assert _statuses(text, Typed(name="Wang Chao"))[TypedField.NAME] is FieldStatus.MATCH
    assert _statuses(text, Typed(name="王娟"))[TypedField.NAME] is FieldStatus.MISMATCH
    latin_only = _text({Field.NAME_LATIN: "WANGCHAO"})
    assert _statuses(latin_only, Typed(name="王超"))[TypedField.NAME] is FieldStatus.UNREADABLE


def test_dates_on_the_card_are_read_in_its_format_despite_confusions() -> None:
    text = _text({Field.BIRTH_DATE: "2I.11.I996", Field.VALIDITY: "22.O3.2022-22.O3.2O32"})
    assert text.birth_date == date(1996, 11, 21) and text.expiry_date == date(2032, 3, 22)
    bent = _text({Field.BIRTH_DATE: "28L08.1994", Field.VALIDITY: "29.032019-28.03.2029"})
    assert bent.birth_date == date(1994, 8, 28) and bent.expiry_date == date(2029, 3, 28)


def test_a_confident_reading_differing_only_by_look_alikes_proves_no_mismatch() -> None:
    text = _text({Field.NUMBER: "ML175437A"}, score=0.97)  # the 4 read as A, confidently
    assert _statuses(text, Typed(number="ML1754374"))[TypedField.DOCUMENT_NUMBER] is (
        FieldStatus.UNREADABLE)
    assert _statuses(text, Typed(number="ML1754375"))[TypedField.DOCUMENT_NUMBER] is (
        FieldStatus.MISMATCH)


def test_values_whose_labels_were_lost_are_placed_by_content() -> None:
    def line(text: str, top: float) -> TextLine:
        return TextLine(text, 0.99, 380.0, top, 700.0, top + 36.0)

    read = [line("XUNA", 170), line("05.06.1971", 233), line("230727197106059100", 295),
            line("12.04.2023-12.04.2033", 363)]  # no label read at all
    text = read_card_text(read, np.zeros((648, 1027, 3), np.uint8), today=TODAY)
    assert text.birth_date == date(1971, 6, 5) and text.expiry_date == date(2033, 4, 12)
    assert text.number == "230727197106059100"
