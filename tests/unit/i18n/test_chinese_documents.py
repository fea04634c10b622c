"""Chinese names and ID numbers as people type them: characters kept as they are (never
forced to Latin letters) and compared with the card's text; a final `x` read as `X`."""

from __future__ import annotations

from datetime import date

from simkyc.api.schemas import ApplicantIn
from simkyc.documents.cn_id import validate_cn_resident_id
from simkyc.documents.crosscheck import same_name

TODAY = date(2026, 12, 1)


def test_an_id_number_ending_in_lower_case_x_is_accepted_as_x() -> None:
    upper = validate_cn_resident_id("11010519491231002X", today=TODAY)
    lower = validate_cn_resident_id("11010519491231002x", today=TODAY)
    assert upper.valid and lower.valid
    assert lower.errors == upper.errors == ()


def test_a_chinese_name_is_kept_as_typed() -> None:
    applicant = ApplicantIn.model_validate({
        "document_kind": "cn_resident_id", "country": "CN", "number": "11010519491231002x",
        "name": "张伟", "birth_date": "1949-12-31"})
    assert applicant.name == "张伟"


def test_a_chinese_name_is_compared_with_the_cards_characters() -> None:
    assert same_name("张伟", "张伟")
    assert same_name("张 伟", "张伟")  # a space typed between surname and given name
    assert not same_name("张伟", "张玮")
    assert not same_name("张伟", "ZHANG WEI")  # never transliterated to match
