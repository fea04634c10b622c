"""Findings 7 and 8 (this lane's parts): the idempotency record undid the pseudonym (a plain
SHA-256 of the typed applicant data); the keyring sat in the database's folder; /v1 replies
carrying keys, tokens or personal data could be cached; staff reads of a line were not
audited."""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

import pytest
from api_world import Api, applicant
from sqlalchemy import select

from simkyc.config import Settings
from simkyc.db.idempotency import IdempotencyRecord
from simkyc.privacy.canonical import canonical_json
from simkyc.privacy.keyring import keyring_path, load_keyring


def test_a_dump_of_the_idempotency_record_cannot_be_checked_against_a_guess(api: Api) -> None:
    """From a dump, knowing a name and birth date, the ID number came back by enumerating
    plain SHA-256 digests of the request; the digest is now keyed."""
    agent = api.staff("agent", api.operator())
    key = f"k-{uuid.uuid4().hex}"
    body = {"purpose": "registration", "line_id": None, "applicant": applicant(),
            "consent": {"given": True, "version": "consent-v1"}}
    first = api.ok("POST", "/v1/proofing-sessions", agent, json=body,
                   headers={"Idempotency-Key": key})
    with api.services.sessions() as db:
        stored = db.execute(select(IdempotencyRecord.request_sha256)
                            .where(IdempotencyRecord.key == key)).scalar_one()
    full = {**body, "applicant": {**body["applicant"], "country": "CN",
                                  "document_kind": "cn_resident_id", "mrz": None}}
    guesses = {hashlib.sha256(canonical_json(b).encode()).hexdigest() for b in (body, full)}
    assert stored not in guesses
    # The key still does its job: the retry replays, another body is refused.
    again = api.call("POST", "/v1/proofing-sessions", agent, json=body,
                     headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    other = {**body, "applicant": {**body["applicant"], "name": "Someone Else"}}
    refused = api.call("POST", "/v1/proofing-sessions", agent, json=other,
                       headers={"Idempotency-Key": key})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize("path", ["/v1/me/lines", "/v1/admin/principals"])
def test_v1_replies_say_no_store(api: Api, path: str) -> None:
    denied = api.call("GET", path, None)
    assert denied.headers.get("cache-control") == "no-store"
    created = api.call("POST", "/v1/admin/principals", api.admin,
                       json={"role": "auditor", "label": "cache test", "operator_id": None})
    assert created.status_code == 201 and created.headers.get("cache-control") == "no-store"


def test_a_staff_read_of_a_line_is_audited(api: Api) -> None:
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    proofing_id = api.approved(agent, reviewer, applicant())
    line = api.line(agent, proofing_id).json()
    person_id = api.ok("GET", f"/v1/proofing-sessions/{proofing_id}", agent)["person_id"]
    api.ok("GET", f"/v1/lines/{line['id']}", reviewer)
    entries = api.ok("GET", f"/v1/audit/persons/{person_id}/entries", api.staff("auditor"))
    reads = [e for e in entries if e["action"] == "line.read"]
    assert [(e["object_id"], e["purpose"]) for e in reads] == [(line["id"], "customer_service")]


def test_the_keyring_is_kept_apart_from_the_database(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(state_dir=tmp_path / "state", keyring=None, keyring_file=None)
    load_keyring(settings, database=f"sqlite:///{tmp_path / 'state' / 'simkyc.db'}")
    assert keyring_path(settings).parent != settings.state_dir
    assert keyring_path(settings).exists()
    beside = Settings(state_dir=tmp_path / "state",
                      keyring_file=tmp_path / "state" / "keys.json", keyring=None)
    with caplog.at_level(logging.WARNING, logger="simkyc.privacy.keyring"):
        load_keyring(beside, database=f"sqlite:///{tmp_path / 'state' / 'simkyc.db'}")
    assert "database's folder" in caplog.text
