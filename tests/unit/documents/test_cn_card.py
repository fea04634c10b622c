"""The PRC second-generation resident ID card, drawn as printed (front and back) and read by
its labels with real OCR; its ethnicity (民族) is never read or kept, its sex (性别) only
checked against the number's sex digit and never kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from shared_files import require

from simkyc.documents.cn_card import CnField, read_cn_card, read_cn_lines
from simkyc.documents.cn_id import check_character
from simkyc.documents.findings import DocumentError
from simkyc.documents.ocr import CardReader, TextLine
from simkyc.synth.cn_card_specimen import (
    ETHNICITY_PLACEHOLDER,
    CnCardData,
    render_back,
    render_front,
)
from simkyc.synth.specimen import cjk_font_path

FIRST_17 = "11010519870309002"
DATA = CnCardData(
    name="\u738b\u4f1f",  # 王伟
    birth_date=date(1987, 3, 9),
    address="\u5317\u4eac\u5e02\u4e1c\u57ce\u533a\u666f\u5c71\u524d\u88574\u53f7\u9662"
            "2\u53f7\u697c3\u5355\u5143101\u5ba4",  # 北京市东城区景山前街4号院2号楼3单元101室
    number=FIRST_17 + check_character(FIRST_17),
    authority="\u5317\u4eac\u5e02\u516c\u5b89\u5c40\u4e1c\u57ce\u5206\u5c40",
    valid_from=date(2015, 5, 1),
    valid_until=date(2035, 5, 1),
)

WQY_MICROHEI = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian's


@pytest.fixture(scope="module")
def reader() -> CardReader:
    require(cjk_font_path() or WQY_MICROHEI, "a CJK font (run.sh installs fonts-wqy-microhei)")
    return CardReader(threads=2)


@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_the_front_is_read_by_its_labels(reader: CardReader) -> None:
    text = read_cn_card(reader, render_front(DATA, None))
    assert text.values[CnField.NAME] == DATA.name
    assert text.birth_date == DATA.birth_date
    assert text.number == DATA.number
    assert text.values[CnField.ADDRESS] == DATA.address


@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_the_front_never_yields_ethnicity_or_sex(reader: CardReader) -> None:
    text = read_cn_card(reader, render_front(DATA, None))
    kept = "".join(text.values.values())
    assert ETHNICITY_PLACEHOLDER not in kept and DATA.sex_printed not in kept
    assert set(text.values) <= set(CnField)


@pytest.mark.parametrize("until", [date(2035, 5, 1), None])
def test_the_back_gives_authority_and_validity_including_lifelong(
    reader: CardReader, until: date | None
) -> None:
    text = read_cn_card(reader, render_back(replace(DATA, valid_until=until)))
    assert text.values[CnField.AUTHORITY] == DATA.authority
    assert text.validity == (DATA.valid_from, until, until is None)


def _line(text: str, left: float, top: float) -> TextLine:
    return TextLine(text, 0.99, left, top, left + 30 * len(text), top + 40)


def test_a_value_joined_after_the_ethnicity_label_is_cut_off() -> None:
    # OCR may join a whole row into one line: 性别 男 民族 汉 — nothing of it is kept.
    lines = [_line("\u59d3\u540d \u674e\u660e", 70, 80),
             _line("\u6027\u522b\u7537\u6c11\u65cf\u6c49", 70, 160)]
    text = read_cn_lines(lines)
    assert text.values == {CnField.NAME: "\u674e\u660e"}


def test_a_label_read_apart_from_its_value_takes_the_text_to_its_right() -> None:
    lines = [_line("\u59d3\u540d", 70, 80), _line("\u674e\u660e", 200, 82)]
    assert read_cn_lines(lines).values == {CnField.NAME: "\u674e\u660e"}


# 性别 is compared with the number's 17th digit (odd: 男, even: 女), then dropped.
MALE_17, FEMALE_17 = FIRST_17[:16] + "1", FIRST_17[:16] + "2"
MALE_NUMBER = MALE_17 + check_character(MALE_17)
FEMALE_NUMBER = FEMALE_17 + check_character(FEMALE_17)
MAN, WOMAN = "\u7537", "\u5973"


def _front(sex: str, number: str, *, joined: bool = True) -> list[TextLine]:
    sex_row = ([_line(f"\u6027\u522b{sex}\u6c11\u65cf\u6c49", 70, 160)] if joined else
               [_line("\u6027\u522b", 70, 160), _line(sex, 200, 162),
                _line("\u6c11\u65cf", 400, 160)])
    return [_line("\u59d3\u540d \u674e\u660e", 70, 80), *sex_row,
            _line(f"\u516c\u6c11\u8eab\u4efd\u53f7\u7801 {number}", 70, 500)]


@pytest.mark.parametrize("joined", [True, False])
@pytest.mark.parametrize(("sex", "number"), [(MAN, MALE_NUMBER), (WOMAN, FEMALE_NUMBER)])
def test_a_printed_sex_that_agrees_with_the_number_raises_no_finding(
    sex: str, number: str, joined: bool
) -> None:
    text = read_cn_lines(_front(sex, number, joined=joined))
    assert text.sex_consistent is True and text.findings == ()
    assert text.number == number


@pytest.mark.parametrize("joined", [True, False])
@pytest.mark.parametrize(("sex", "number"), [(WOMAN, MALE_NUMBER), (MAN, FEMALE_NUMBER)])
def test_a_printed_sex_that_disagrees_with_the_number_is_a_document_inconsistency(
    sex: str, number: str, joined: bool
) -> None:
    text = read_cn_lines(_front(sex, number, joined=joined))
    assert text.sex_consistent is False
    assert [f.code for f in text.findings] == [DocumentError.INCONSISTENT_DOCUMENT]
    # No sex value leaves the check: not in the fields, not in the finding's words.
    shown = "".join(text.values.values()) + str(text.findings[0].to_dict())
    assert MAN not in shown and WOMAN not in shown
    assert not any(word in shown.lower() for word in ("male", "female", " sex"))


def test_without_a_readable_sex_or_number_the_check_says_nothing() -> None:
    assert read_cn_lines(_front("?", MALE_NUMBER)).sex_consistent is None
    wrong_check = MALE_NUMBER[:17] + ("0" if MALE_NUMBER[17] != "0" else "1")
    unread = read_cn_lines(_front(WOMAN, wrong_check))
    assert unread.sex_consistent is None and unread.findings == ()


def test_a_drawn_card_whose_sex_disagrees_with_its_number_is_flagged(
    reader: CardReader,
) -> None:
    man = replace(DATA, number=MALE_NUMBER, sex_printed=MAN)
    agreeing = read_cn_card(reader, render_front(man, None))
    altered = read_cn_card(reader, render_front(replace(man, sex_printed=WOMAN), None))
    assert agreeing.sex_consistent is True
    assert altered.sex_consistent is False
    assert [f.code for f in altered.findings] == [DocumentError.INCONSISTENT_DOCUMENT]
