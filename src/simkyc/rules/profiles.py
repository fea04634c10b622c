"""Jurisdiction profiles: each jurisdiction's SIM-registration rules as data, with the source
of each (line caps, accepted documents, minimum age and what happens to minors). Settings
carries them (`SIMKYC_JURISDICTION_PROFILES` overrides `default_profiles`); `line_caps` and
`document_policy` apply them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class AcceptedDocument(StrEnum):
    """Identity documents a jurisdiction can accept (the proofing API's document kinds)."""

    CN_RESIDENT_ID = "cn_resident_id"
    PASSPORT = "passport"


class MinorRule(StrEnum):
    """What happens when the document shows an applicant under the minimum age."""

    REFUSE = "refuse"
    GUARDIAN = "guardian"
    """The line is registered by a parent or guardian, in their own name."""


class JurisdictionProfile(BaseModel):
    """A jurisdiction's SIM-registration rules; `None` means no such cap."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_lines_per_operator: int | None = Field(default=None, ge=0)
    max_lines_total: int | None = Field(default=None, ge=0)
    quarantine_days: int = Field(default=90, ge=0)
    accepted_documents: frozenset[AcceptedDocument] = frozenset(AcceptedDocument)
    expiry_grace_days: int = Field(default=0, ge=0)
    min_age: int = Field(default=18, ge=0, le=120)
    minors: MinorRule = MinorRule.REFUSE
    source: str = ""


def default_profiles() -> dict[str, JurisdictionProfile]:
    """The rules as the issue states them; operators override with SIMKYC_JURISDICTION_PROFILES."""
    return {
        "CN": JurisdictionProfile(
            max_lines_per_operator=5, source="MIIT: at most 5 lines per person per operator"
        ),
        "IN": JurisdictionProfile(
            max_lines_total=9, source="DoT: at most 9 connections per person, all operators"
        ),
        "NG": JurisdictionProfile(
            max_lines_per_operator=4, source="NCC: at most 4 lines per person per operator"
        ),
        "PH": JurisdictionProfile(
            minors=MinorRule.GUARDIAN,
            source="RA 11934 (SIM Registration Act): no cap; a minor's SIM is registered "
            "under a parent or guardian",
        ),
    }
