"""MSISDN and ICCID checks, masking, and the cap rule."""

from __future__ import annotations

import pytest

from simkyc.config import Settings
from simkyc.errors import InvalidIccid, InvalidMsisdn, LineCapExceeded, UnknownJurisdiction
from simkyc.registry.numbers import luhn_valid, mask_msisdn, normalise_iccid, normalise_msisdn
from simkyc.rules.line_caps import Holdings, check_one_more, profile_for
from simkyc.rules.profiles import JurisdictionProfile, default_profiles


@pytest.mark.parametrize(("raw", "expected"), [
    ("+86 138 1234 5678", "+8613812345678"), ("0086-138-1234-5678", "+8613812345678"),
    ("+234 (803) 123 4567", "+2348031234567"), ("+91 98765 43210", "+919876543210"),
])
def test_msisdns_normalise_to_e164(raw: str, expected: str) -> None:
    assert normalise_msisdn(raw) == expected


@pytest.mark.parametrize("raw", ["13812345678", "+0123456789", "+86", "+8613812345678901",
                                 "+86abc12345678"])
def test_bad_msisdns_are_refused(raw: str) -> None:
    with pytest.raises(InvalidMsisdn):
        normalise_msisdn(raw)


def test_iccids_need_89_and_a_luhn_digit() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert normalise_iccid("8986 0012 3456 7890 120") == "8986001234567890120"
    for bad in ("8986001234567890126", "1234001234567890120", "898600123456"):
        with pytest.raises(InvalidIccid):
            normalise_iccid(bad)


def test_masking_keeps_the_last_four() -> None:
    assert mask_msisdn("+8613812345678") == "+*********5678"


def test_the_cap_names_which_rule() -> None:
    cn, ph = default_profiles()["CN"], default_profiles()["PH"]
    check_one_more(cn, "CN", Holdings(at_operator=4, in_jurisdiction=40))
    with pytest.raises(LineCapExceeded) as refused:
        check_one_more(cn, "CN", Holdings(at_operator=5, in_jurisdiction=5))
    assert refused.value.cap == "max_lines_per_operator"
    check_one_more(ph, "PH", Holdings(at_operator=500, in_jurisdiction=500))
    both = JurisdictionProfile(max_lines_per_operator=3, max_lines_total=4)
    with pytest.raises(LineCapExceeded, match="across all operators"):
        check_one_more(both, "XX", Holdings(at_operator=1, in_jurisdiction=4))
    with pytest.raises(UnknownJurisdiction):
        profile_for(default_profiles(), "FR")


def test_profiles_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMKYC_JURISDICTION_PROFILES",
                       '{"KE": {"max_lines_per_operator": 10, "quarantine_days": 60}}')
    profiles = Settings().jurisdiction_profiles
    assert list(profiles) == ["KE"] and profiles["KE"].max_lines_per_operator == 10
