"""Line caps by jurisdiction profile (SIMKYC_JURISDICTION_PROFILES): pure checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from simkyc.errors import LineCapExceeded, UnknownJurisdiction
from simkyc.rules.profiles import JurisdictionProfile

PER_OPERATOR = "max_lines_per_operator"
TOTAL = "max_lines_total"


@dataclass(frozen=True)
class Holdings:
    """Lines a person holds (not cancelled): at this operator, and in the jurisdiction."""

    at_operator: int
    in_jurisdiction: int


def profile_for(profiles: Mapping[str, JurisdictionProfile], jurisdiction: str
                ) -> JurisdictionProfile:
    """The jurisdiction's profile; an operator without one cannot register lines."""
    try:
        return profiles[jurisdiction]
    except KeyError:
        raise UnknownJurisdiction(
            f"no rules profile for jurisdiction {jurisdiction!r}.") from None


def check_one_more(profile: JurisdictionProfile, jurisdiction: str, held: Holdings) -> None:
    """Refuse a new line that would take the person over a cap, naming the cap."""
    caps = ((PER_OPERATOR, profile.max_lines_per_operator, held.at_operator, "at this operator"),
            (TOTAL, profile.max_lines_total, held.in_jurisdiction, "across all operators"))
    for cap, limit, count, scope in caps:
        if limit is not None and count + 1 > limit:
            raise LineCapExceeded(
                f"{jurisdiction} allows at most {limit} lines per person {scope}; this person "
                f"already holds {count}.", cap=cap, limit=limit, jurisdiction=jurisdiction)
