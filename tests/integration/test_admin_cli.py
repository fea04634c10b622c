"""`simkyc admin`: an operator, then an agent whose printed key the API accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from simkyc.auth.keys import authenticate
from simkyc.cli.main import app
from simkyc.config import Settings
from simkyc.db.engine import engine_from_settings, session_factory


def test_bootstrap_an_operator_and_an_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setenv("SIMKYC_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("SIMKYC_DATABASE_URL", raising=False)
    runner = CliRunner()
    made = runner.invoke(app, ["admin", "create-operator", "China Mobile"])
    assert made.exit_code == 0, made.output
    operator = json.loads(made.stdout)["id"]
    agent = runner.invoke(app, ["admin", "create-principal", "desk 1", "--operator", operator])
    assert agent.exit_code == 0, agent.output
    key = json.loads(agent.stdout)["api_key"]
    engine = engine_from_settings(Settings(state_dir=tmp_path))
    try:
        with session_factory(engine)() as session:
            actor = authenticate(session, token=key, now=datetime.now(UTC))
    finally:
        engine.dispose()
    assert (actor.role, actor.operator_id) == ("agent", operator)
    refused = runner.invoke(app, ["admin", "create-principal", "x", "--operator", "nope"])
    assert refused.exit_code == 3 and "NOT_FOUND" in refused.output
    assert "Traceback" not in refused.output


def test_purge_reports_what_it_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMKYC_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("SIMKYC_DATABASE_URL", raising=False)
    done = CliRunner().invoke(app, ["admin", "purge"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"images": 0, "idempotency_keys": 0, "attempts": 0,
                                       "proofing_state": 0, "web_sessions": 0}


def test_audit_verify_finds_a_deleted_entry(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMKYC_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("SIMKYC_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["admin", "purge"]).exit_code == 0  # four audited purges
    assert runner.invoke(app, ["audit", "integrate", "--once"]).exit_code == 0
    intact = runner.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert json.loads(intact.stdout)["size"] == 4
    exported = runner.invoke(app, ["audit", "export-proof", "2"])
    assert exported.exit_code == 0, exported.output
    proof = tmp_path / "proof.json"
    proof.write_text(exported.stdout)
    checked = runner.invoke(app, ["audit", "verify-proof", str(proof)])
    assert checked.exit_code == 0 and json.loads(checked.stdout)["verified"] is True
    engine = engine_from_settings(Settings(state_dir=tmp_path))
    try:
        with engine.begin() as connection:  # someone with the file bypasses the trigger
            connection.execute(text("DROP TRIGGER audit_entries_no_delete"))
            connection.execute(text("DELETE FROM audit_entries WHERE seq = 1"))
    finally:
        engine.dispose()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    verdict = json.loads(broken.stdout)
    assert verdict["first_bad_index"] == 0
    assert verdict["problems"][0]["kind"] == "missing_entry"
