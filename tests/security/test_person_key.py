"""Finding 3: line caps were bypassed with the `country` field, typed freely, never checked
against the document, and part of the person's pseudonym. The document now decides; what
was split before is found by `simkyc admin find-split-persons`."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from api_world import Api, applicant
from sqlalchemy import func, select
from typer.testing import CliRunner

from simkyc import errors
from simkyc.auth.actors import SYSTEM
from simkyc.cli.main import app
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction
from simkyc.privacy.pseudonyms import DocumentIdentity
from simkyc.records.models import Person
from simkyc.records.persons import Applicant, find_or_enrol, find_person
from simkyc.registry import splits

CONSENT = {"given": True, "version": "consent-v1"}


def start(api: Api, agent: str, person: dict[str, Any]) -> Any:
    return api.call("POST", "/v1/proofing-sessions", agent,
                    json={"applicant": person, "consent": CONSENT})


def persons(api: Api) -> int:
    with api.services.sessions() as db:
        return int(db.execute(select(func.count()).select_from(Person)).scalar_one())


def test_another_spelling_of_the_country_does_not_lift_the_line_cap(api: Api) -> None:
    operator = api.operator("CN")
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    person = {**applicant(), "country": "CN"}
    for _ in range(5):
        assert api.line(agent, api.approved(agent, reviewer, person)).status_code == 201
    again = api.approved(agent, reviewer, {**person, "country": "CHN"})
    refused = api.line(agent, again)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "LINE_CAP_EXCEEDED"
    for country in ("C N", "XX"):
        typed = start(api, agent, {**person, "country": country})
        assert typed.status_code == 422, typed.text
        assert typed.json()["error"]["code"] == "UNKNOWN_COUNTRY"
        assert "ISO 3166-1" in typed.json()["error"]["message"]


def test_a_country_that_disagrees_with_the_document_is_refused(api: Api) -> None:
    agent = api.staff("agent", api.operator())
    refused = start(api, agent, {**applicant(), "country": "USA"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "DOCUMENT_COUNTRY_MISMATCH"
    assert "CHN" in refused.json()["error"]["message"]


def test_a_number_that_fails_validation_creates_no_person(api: Api) -> None:
    agent = api.staff("agent", api.operator())
    before = persons(api)
    bad = {**applicant(), "number": "110105194912310021"}  # wrong check character
    refused = start(api, agent, bad)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "INVALID_DOCUMENT_NUMBER"
    assert persons(api) == before


def _legacy_row(api: Api, country: str, number: str) -> str:
    """A person keyed as before the fix: on the typed country."""
    with api.services.sessions() as db:
        made = find_or_enrol(db, keyring=api.services.keyring, now=api.services.clock(),
                             applicant=Applicant(DocumentIdentity("national_id", country,
                                                                  number), "LI Lei",
                                                 date(1949, 12, 31)))
        made.keyed_from_document = False
        db.commit()
        return made.id


def test_split_persons_are_found_and_the_old_row_is_kept(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = applicant()
    cn_row, xx_row = (_legacy_row(api, c, person["number"]) for c in ("CN", "XX"))
    agent = api.staff("agent", api.operator())
    started = start(api, agent, person)  # no country typed: CHN, from the card
    assert started.status_code == 201, started.text
    assert started.json()["person_id"] == cn_row  # found under its old spelling, re-keyed
    monkeypatch.setenv("SIMKYC_DATABASE_URL", api.services.engine.url.render_as_string(
        hide_password=False))
    monkeypatch.setenv("SIMKYC_KEYRING", api.services.keyring.to_json())
    found = CliRunner().invoke(app, ["admin", "find-split-persons", "--number",
                                     person["number"]])
    assert found.exit_code == 0, found.output
    groups = json.loads(found.stdout)
    assert [sorted(m["person_id"] for m in g["members"]) for g in groups] == [
        sorted([cn_row, xx_row])]
    assert groups[0]["exact"] is True
    scanned = CliRunner().invoke(app, ["admin", "find-split-persons"])
    assert scanned.exit_code == 0, scanned.output
    assert any({cn_row, xx_row} <= {m["person_id"] for m in g["members"]}
               for g in json.loads(scanned.stdout))


def test_one_document_under_two_rows_is_refused_until_merged(api: Api) -> None:
    number = applicant()["number"]
    _legacy_row(api, "CN", number)
    _legacy_row(api, "CHN", number)
    with api.services.sessions() as db, pytest.raises(errors.SimkycError) as refused:
        find_person(db, keyring=api.services.keyring,
                    document=DocumentIdentity("national_id", "CHN", number),
                    legacy=(DocumentIdentity("national_id", "CN", number),))
    assert refused.value.code == "PERSON_RECORDS_SPLIT"


def test_the_scan_audits_every_person_whose_details_it_opens(api: Api) -> None:
    with api.services.sessions() as db:
        alone = find_or_enrol(db, keyring=api.services.keyring, now=api.services.clock(),
                              applicant=Applicant(DocumentIdentity(
                                  "national_id", "CHN", applicant()["number"]), "WANG Fang",
                                  date(1990, 1, 1))).id  # in no split, but its name opened
        db.commit()
        groups = splits.by_scan(db, keyring=api.services.keyring, actor=SYSTEM,
                                now=api.services.clock())
        assert alone not in {m.person_id for g in groups for m in g.members}
        reads = [e for e in audit.entries_about(db, subject_id=alone)
                 if e.action is AuditAction.PERSON_READ]
    assert [e.purpose for e in reads] == [AccessPurpose.MAINTENANCE]


def test_the_scan_groups_names_as_self_service_compares_them(api: Api) -> None:
    """A full-width spelling (typed at a Chinese-reading shop) is the same name at sign-in,
    so the scan groups it too."""
    number = applicant()["number"]
    with api.services.sessions() as db:
        rows = []
        for country, name in (("CN", "\uff3a\uff28\uff2f\uff35 Xun"), ("XX", "Zhou  XUN")):
            made = find_or_enrol(db, keyring=api.services.keyring, now=api.services.clock(),
                                 applicant=Applicant(DocumentIdentity("national_id", country,
                                                                      number), name,
                                                     date(1971, 3, 5)))
            made.keyed_from_document = False
            rows.append(made.id)
        db.commit()
        groups = splits.by_scan(db, keyring=api.services.keyring, actor=SYSTEM,
                                now=api.services.clock())
    assert any(set(rows) <= {m.person_id for m in g.members} for g in groups)
