"""Line identifiers: E.164 MSISDNs, ICCIDs with their Luhn check digit, masking."""

from __future__ import annotations

import re

from simkyc.errors import InvalidIccid, InvalidMsisdn

# ITU-T E.164: at most 15 digits, country code first (never 0); 8 is the shortest in use.
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# ITU-T E.118: 89 (telecom) + country + issuer + account + Luhn digit; 19 or 20 digits.
_ICCID = re.compile(r"^89\d{17,18}$")
_SEPARATORS = re.compile(r"[\s\-().]")


def normalise_msisdn(raw: str) -> str:
    """`+8613812345678` from common spellings; refuses anything not E.164."""
    number = _SEPARATORS.sub("", raw)
    if number.startswith("00"):
        number = "+" + number[2:]
    if not _E164.match(number):
        raise InvalidMsisdn("an MSISDN is + then 8 to 15 digits, country code first (E.164).")
    return number


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check over the whole string, check digit last."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def normalise_iccid(raw: str) -> str:
    """The ICCID's digits, checked for form and Luhn digit."""
    iccid = _SEPARATORS.sub("", raw)
    if not _ICCID.match(iccid):
        raise InvalidIccid("an ICCID is 19 or 20 digits starting with 89.")
    if not luhn_valid(iccid):
        raise InvalidIccid("the ICCID's check digit is wrong (Luhn).")
    return iccid


def mask_msisdn(msisdn: str) -> str:
    """All digits but the last four hidden: `+*********5678`."""
    return "+" + "*" * (len(msisdn) - 5) + msisdn[-4:]
