"""The transparency log over HTTP: the signed checkpoint, proofs, and a citizen's access list
whose every integrated entry carries a proof that checks offline (`simkyc audit
verify-proof`), and fails once the entry is modified."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from api_world import Api, applicant
from typer.testing import CliRunner

from simkyc.cli.main import app as cli
from simkyc.privacy.merkle import leaf_hash, verify_consistency, verify_inclusion
from simkyc.privacy.note import VerifierKey
from simkyc.privacy.proof import EntryProof, check_entry_proof
from simkyc.privacy.tlog import integrate


def integrated(api: Api) -> None:
    """One integrator round now (the serving thread also runs them, on its own clock)."""
    with api.services.sessions() as db:
        integrate(db, keys=api.services.log_keys, now=datetime.now(UTC))


def test_a_citizens_accesses_carry_proofs_that_check_offline(api: Api, tmp_path: Path
                                                            ) -> None:
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    person = applicant()
    api.line(agent, api.approved(agent, reviewer, person))
    selfservice = api.approved(agent, reviewer, person, purpose="self_service")
    token = api.ok("POST", f"/v1/proofing-sessions/{selfservice}/citizen-token", agent)["token"]
    integrated(api)
    head = api.ok("GET", "/v1/audit/checkpoint", None)
    accesses = api.ok("GET", "/v1/me/accesses", token)
    proven = [a for a in accesses if a["proof"] is not None]
    assert any(a["action"] == "line.registered" for a in proven)
    key = VerifierKey.decode(head["vkey"])
    for access in proven:  # every entry shown is the one proven, and its proof holds
        entry = json.loads(access["proof"]["entry"])
        assert (entry["seq"], entry["action"], entry["purpose"], entry["actor_role"]) == (
            access["seq"], access["action"], access["purpose"], access["actor_role"])
        assert datetime.fromisoformat(entry["at"]) == datetime.fromisoformat(access["at"])
        check_entry_proof(EntryProof.from_json(json.dumps(access["proof"])), key)
    sample = proven[0]["proof"]
    assert sample["vkey"] == head["vkey"] and json.loads(sample["entry"])["seq"] == proven[0]["seq"]
    root = base64.b64decode(head["root"]) if sample["tree_size"] == head["size"] else None
    if root is not None:
        hashes = [base64.b64decode(h) for h in sample["inclusion"]]
        assert verify_inclusion(leaf=leaf_hash(sample["entry"].encode()), index=sample["index"],
                                size=sample["tree_size"], proof=hashes, root=root)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(sample))
    forged = {**sample, "entry": sample["entry"].replace('"purpose":"', '"purpose":"x', 1)}
    bad.write_text(json.dumps(forged))
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify-proof", str(good), "--vkey", head["vkey"]])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["verified"] is True, ok.stdout
    refused = runner.invoke(cli, ["audit", "verify-proof", str(bad), "--vkey", head["vkey"]])
    assert refused.exit_code == 1 and json.loads(refused.stdout)["code"] == "CHECKPOINT_INVALID"


def test_proofs_between_checkpoints(api: Api) -> None:
    integrated(api)
    first = api.ok("GET", "/v1/audit/checkpoint", None)
    api.operator()  # more audited work
    api.staff("auditor")
    api.start(api.staff("agent", api.operator()), applicant())
    for _ in range(50):  # an entry is folded once every older transaction has ended
        integrated(api)
        second = api.ok("GET", "/v1/audit/checkpoint", None)
        if second["size"] > first["size"]:
            break
        time.sleep(0.1)
    assert second["size"] > first["size"]
    proof = api.ok("GET", "/v1/audit/proof/consistency", None,
                   params={"first": first["size"], "second": second["size"]})
    assert verify_consistency(old_size=first["size"], new_size=second["size"],
                              old_root=base64.b64decode(first["root"]),
                              new_root=base64.b64decode(second["root"]),
                              proof=[base64.b64decode(h) for h in proof["hashes"]])
    inclusion = api.ok("GET", "/v1/audit/proof/inclusion", None,
                       params={"index": 0, "tree_size": second["size"]})
    assert inclusion["hashes"]
    beyond = api.call("GET", "/v1/audit/proof/inclusion", None,
                      params={"index": 0, "tree_size": second["size"] + 10**6})
    assert beyond.status_code == 404 and beyond.json()["error"]["code"] == "PROOF_UNAVAILABLE"
