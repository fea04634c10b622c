"""The jurisdiction document policy: accepted types, expiry with its grace, minimum age."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkyc.faces.match import Decision as FaceDecision
from simkyc.proofing.decision import decide
from simkyc.proofing.documents import document_checks
from simkyc.proofing.models import FaceCheck, LivenessCheck, LivenessVerdict, Reason
from simkyc.rules.document_policy import PolicyFinding, age_on, policy_checks
from simkyc.rules.profiles import AcceptedDocument, JurisdictionProfile, MinorRule, default_profiles

TODAY = date(2026, 11, 22)
CN = default_profiles()["CN"]


def _codes(profile: JurisdictionProfile, **kwargs: object) -> dict[str, PolicyFinding | None]:
    args: dict[str, object] = {"kind": AcceptedDocument.CN_RESIDENT_ID,
                               "birth_date": date(1990, 1, 1), "expiry": date(2030, 1, 1),
                               "today": TODAY, **kwargs}
    return {c.name: c.code for c in policy_checks(profile, **args)}  # type: ignore[arg-type]


@pytest.mark.parametrize(("birth", "on", "age"), [
    (date(2008, 11, 22), TODAY, 18),      # the birthday itself
    (date(2008, 11, 23), TODAY, 17),      # the day before it
    (date(2008, 2, 29), date(2026, 2, 28), 17),  # a leap-day birth, in a common year
    (date(2008, 2, 29), date(2026, 3, 1), 18),
])
def test_age_counts_completed_years(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY), st.integers(0, 40_000))
def test_age_never_decreases_and_a_year_later_is_one_more(birth: date, days: int) -> None:
    later = TODAY + timedelta(days=days)
    assert age_on(birth, later) >= age_on(birth, TODAY)
    if (2, 29) not in ((birth.month, birth.day), (later.month, later.day)):
        assert age_on(birth, later.replace(year=later.year + 1)) == age_on(birth, later) + 1


def test_a_current_document_of_an_adult_passes() -> None:
    assert set(_codes(CN).values()) == {None}


@pytest.mark.parametrize(("expiry", "grace", "code"), [
    (TODAY, 0, None),                                   # valid through its expiry date
    (TODAY - timedelta(days=1), 0, PolicyFinding.DOCUMENT_EXPIRED),
    (TODAY - timedelta(days=30), 30, None),             # the last day of the grace
    (TODAY - timedelta(days=31), 30, PolicyFinding.DOCUMENT_EXPIRED),
    (None, 0, PolicyFinding.EXPIRY_NOT_GIVEN),
])
def test_expiry_with_its_grace(expiry: date | None, grace: int, code: PolicyFinding | None
                               ) -> None:
    profile = JurisdictionProfile(expiry_grace_days=grace)
    check = policy_checks(profile, kind=AcceptedDocument.CN_RESIDENT_ID,
                          birth_date=date(1990, 1, 1), expiry=expiry, today=TODAY)[1]
    assert check.code == code
    # Passed, failed, or (no expiry given) not judged.
    assert check.passed is (None if expiry is None else code is None)


def test_a_type_the_jurisdiction_does_not_accept_is_refused_naming_those_it_does() -> None:
    profile = JurisdictionProfile(
        accepted_documents=frozenset({AcceptedDocument.CN_RESIDENT_ID}))
    check = policy_checks(profile, kind=AcceptedDocument.PASSPORT, birth_date=date(1990, 1, 1),
                          expiry=date(2030, 1, 1), today=TODAY)[0]
    assert (check.passed, check.code) == (False, PolicyFinding.DOCUMENT_NOT_ACCEPTED)
    assert "cn_resident_id" in check.message


@pytest.mark.parametrize(("rule", "code"), [(MinorRule.REFUSE, PolicyFinding.UNDER_MINIMUM_AGE),
                                            (MinorRule.GUARDIAN, PolicyFinding.GUARDIAN_REQUIRED)])
def test_a_minor_is_refused_with_the_rule_that_applies(rule: MinorRule, code: PolicyFinding
                                                       ) -> None:
    profile = JurisdictionProfile(min_age=16, minors=rule)
    assert _codes(profile, birth_date=date(2010, 11, 23))["minimum_age"] == code
    assert _codes(profile, birth_date=date(2010, 11, 22))["minimum_age"] is None


def test_profiles_read_from_json_settings() -> None:
    profile = JurisdictionProfile.model_validate_json(
        '{"accepted_documents": ["passport"], "expiry_grace_days": 90, "min_age": 16, '
        '"minors": "guardian"}')
    assert profile.accepted_documents == frozenset({AcceptedDocument.PASSPORT})
    assert (profile.expiry_grace_days, profile.min_age, profile.minors) == (
        90, 16, MinorRule.GUARDIAN)


def test_the_mrz_expiry_is_used_when_none_was_typed_and_a_different_one_mismatches() -> None:
    td3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",  # ICAO 9303 part 4 specimen
           "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    kwargs = {"kind": AcceptedDocument.PASSPORT, "number": "L898902C3",
              "birth_date": date(1974, 8, 12), "today": TODAY, "profile": CN, "mrz": td3}
    checks = {c.name: c for c in document_checks(**kwargs)}  # type: ignore[arg-type]
    assert checks["document_expiry"].code == "DOCUMENT_EXPIRED"  # 2012-04-15
    assert checks["mrz_matches_typed_data"].passed is True
    typed = {c.name: c for c in document_checks(**kwargs, expiry=date(2032, 4, 15))}  # type: ignore[arg-type]
    assert typed["mrz_matches_typed_data"].passed is False


def test_an_mrz_without_an_expiry_field_does_not_contradict_the_typed_expiry() -> None:
    # France's 1988-2021 card (FRA_CNI, its published specimen): no expiry in its MRZ, so the
    # typed one is the policy's, and the MRZ still matches the typed number and birth date.
    cni = ["IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<", "9409923102854CORINNE<<<<<<<6512068F4"]
    checks = {c.name: c for c in document_checks(
        kind=AcceptedDocument.PASSPORT, number="940992310285", birth_date=date(1965, 12, 6),
        today=TODAY, profile=CN, mrz=cni, expiry=date(2030, 1, 1))}
    assert checks["mrz"].passed is True
    assert checks["mrz_matches_typed_data"].passed is True
    assert checks["document_expiry"].passed is True


def test_policy_findings_are_their_own_reasons_in_the_decision() -> None:
    checks = document_checks(kind=AcceptedDocument.CN_RESIDENT_ID, number="11010519491231002X",
                             birth_date=date(1949, 12, 31), expiry=date(2020, 1, 1),
                             today=TODAY, profile=CN)
    result = decide(consent=True, documents=checks, face=_face_match(),
                    liveness=LivenessCheck(LivenessVerdict.LIVE, "v1"))
    assert result.reasons == (Reason.DOCUMENT_EXPIRED,)


def _face_match() -> FaceCheck:
    return FaceCheck(score=0.99, threshold=0.9, decision=FaceDecision.MATCH, model_id="m",
                     calibration_id="c")
