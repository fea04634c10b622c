"""`simkyc admin`: bootstrap the registry - operators, and principals with an API key (printed
once, never stored in clear) - and purge what retention allows. Exit 0, or 3 with a code and
a sentence on a domain error."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from simkyc.auth.models import Role
from simkyc.cli.lang import said
from simkyc.config import get_settings
from simkyc.errors import SimkycError

if TYPE_CHECKING:
    from simkyc.privacy.tlog import LogKeys

admin_app = typer.Typer(no_args_is_help=True,
                        help="Bootstrap operators and API keys; purge expired data.")
console = Console(stderr=True)
T = TypeVar("T")


@contextmanager
def _registry() -> Iterator[Session]:
    """A session on the configured registry, migrated to head first."""
    from simkyc.db.engine import engine_from_settings, session_factory
    from simkyc.db.migrate import upgrade

    engine = engine_from_settings(get_settings())
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _run(work: Callable[[Session], T]) -> T:
    try:
        with _registry() as session:
            return work(session)
    except SimkycError as error:
        console.print(f"[red]{error.code}[/red]: {said(error)}")
        raise typer.Exit(3) from None


@admin_app.command("create-operator")
def create_operator(
    name: Annotated[str, typer.Argument(help="The operator's name.")],
    jurisdiction: Annotated[str, typer.Option(help="A jurisdiction with a rules profile.")] = "CN",
) -> None:
    """Create an operator; prints its id as JSON."""
    from simkyc.registry import accounts

    profiles = get_settings().jurisdiction_profiles
    made = _run(lambda s: accounts.create_operator(
        s, name=name, jurisdiction=jurisdiction, profiles=profiles, now=datetime.now(UTC)))
    print(made.model_dump_json())


@admin_app.command("create-principal")
def create_principal(
    label: Annotated[str, typer.Argument(help="Who this is (a name, a team).")],
    role: Annotated[Role, typer.Option(help="agent, reviewer, auditor or admin.")] = Role.AGENT,
    operator: Annotated[str | None, typer.Option(help="Operator id (agents, reviewers).")] = None,
) -> None:
    """Create a principal and its API key; the key is printed this once."""
    from simkyc.registry import accounts

    def work(session: Session) -> dict[str, object]:
        now = datetime.now(UTC)
        principal = accounts.create_principal(session, role=role, label=label, now=now,
                                              operator_id=operator)
        key = accounts.issue_api_key(session, principal_id=principal.id, now=now)
        return {"principal_id": principal.id, "role": role.value, "operator_id": operator,
                "key_id": key.key_id, "api_key": key.token}

    print(json.dumps(_run(work)))


@admin_app.command("purge")
def purge() -> None:
    """Delete what retention allows: retained images past SIMKYC_IMAGE_RETENTION_DAYS,
    idempotency records past SIMKYC_IDEMPOTENCY_RETENTION_HOURS, attempt counters past
    their limits' windows, and the state of proofing sessions idle past
    SIMKYC_PROOFING_IDLE_S (held evidence, upload replies, liveness challenges, attempts,
    lockouts); prints the counts as JSON. Run it periodically (cron, a systemd timer)."""
    from simkyc import maintenance
    from simkyc.auth.actors import SYSTEM

    settings = get_settings()
    retention = timedelta(hours=settings.idempotency_retention_hours)
    windows = timedelta(seconds=max(settings.selfservice_window_s,
                                    settings.faces_verify_window_s))
    # Answered or expired challenges stay a while, so a replayed nonce gets its own error.
    keep_s = max(10 * settings.challenge_ttl_s, settings.lockout_window_s)

    def work(session: Session) -> dict[str, int]:
        now = datetime.now(UTC)
        return {"images": maintenance.purge_images(session, actor=SYSTEM, now=now),
                "idempotency_keys": maintenance.purge_idempotency_keys(
                    session, actor=SYSTEM, now=now, retention=retention),
                "attempts": maintenance.purge_attempt_counters(
                    session, actor=SYSTEM, now=now, older_than=windows),
                "proofing_state": maintenance.purge_proofing_state(
                    session, actor=SYSTEM, now=now, keep_s=keep_s),
                "web_sessions": maintenance.purge_web_sessions(session, actor=SYSTEM, now=now)}

    print(json.dumps(_run(work)))


@admin_app.command("find-split-persons")
def find_split_persons(
    number: Annotated[str | None, typer.Option(
        help="A document number: list every person row it is keyed under, whatever country "
        "was typed (exact). Unset: scan for rows sharing a name and birth date.")] = None,
    document_kind: Annotated[str, typer.Option(
        help="cn_resident_id or passport (with --number).")] = "cn_resident_id",
) -> None:
    """Find persons split by the typed-country bug (before 0003_bind, one document typed with
    CN, CHN or XX made several persons, each with its own line cap); prints JSON groups of
    person ids for an administrator to merge. Every row read is audited."""
    from dataclasses import asdict

    from simkyc.auth.actors import SYSTEM
    from simkyc.privacy.keyring import load_keyring
    from simkyc.proofing.documents import document_type
    from simkyc.registry import splits
    from simkyc.rules.profiles import AcceptedDocument

    keyring = load_keyring(get_settings())
    kind = document_type(AcceptedDocument(document_kind))

    def work(session: Session) -> list[splits.SplitGroup]:
        now = datetime.now(UTC)
        if number is None:
            return splits.by_scan(session, keyring=keyring, actor=SYSTEM, now=now)
        found = splits.by_document(session, keyring=keyring, actor=SYSTEM, doc_type=kind,
                                   number=number, now=now)
        return [found] if found is not None else []

    print(json.dumps([asdict(g) for g in _run(work)], default=str))


audit_app = typer.Typer(no_args_is_help=True,
                        help="The transparency log: integrate, verify, export and check proofs.")


def _log_keys() -> LogKeys:
    from simkyc.privacy.keyring import load_keyring
    from simkyc.privacy.tlog import LogKeys

    settings = get_settings()
    return LogKeys.from_keyring(load_keyring(settings), origin=settings.log_origin)


@audit_app.command("verify")
def verify_audit() -> None:
    """Recompute every leaf and the Merkle tree from the entries, check every stored
    checkpoint's signature and root (so they are consistent with one another) and look for
    entries inserted behind the integrator; prints the verdict as JSON. Exit 0 intact, 1 not
    (`first_bad_index` names the earliest broken leaf)."""
    from dataclasses import asdict

    from simkyc.privacy.tlog import verify_log

    keys = _log_keys()
    verdict = _run(lambda s: verify_log(s, keys=keys))
    print(json.dumps(asdict(verdict)))
    if not verdict.ok:
        raise typer.Exit(1)


@audit_app.command("integrate")
def integrate_audit(
    once: Annotated[bool, typer.Option(help="One round, then exit.")] = False,
) -> None:
    """Run the integrator (a dedicated worker; `simkyc serve` runs one unless
    SIMKYC_LOG_INTEGRATOR=0): folds new entries into the tree and signs checkpoints."""
    from simkyc.db.engine import engine_from_settings, session_factory
    from simkyc.db.migrate import upgrade
    from simkyc.privacy.integrator import Integrator

    settings = get_settings()
    engine = engine_from_settings(settings)
    upgrade(engine)
    worker = Integrator(sessions=session_factory(engine), keys=_log_keys(),
                        interval_s=settings.log_integrate_interval_s,
                        clock=lambda: datetime.now(UTC))
    try:
        worker.run(once=once)
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


@audit_app.command("export-proof")
def export_proof(seq: Annotated[int, typer.Argument(help="The audit entry's number.")]) -> None:
    """Print an entry with its inclusion proof and the signed checkpoint, as JSON (the file
    `verify-proof` checks)."""
    from simkyc.privacy.tlog import entry_proof

    keys = _log_keys()
    print(json.dumps(_run(lambda s: entry_proof(s, seq=seq, keys=keys)).to_json()))


@audit_app.command("verify-proof")
def verify_proof(
    file: Annotated[Path, typer.Argument(help="A proof file (export-proof, or an entry of "
                                              "GET /v1/me/accesses).")],
    vkey: Annotated[str | None, typer.Option(help="The log's verifier key, obtained apart "
                                             "from the file; unset: the file's own.")] = None,
) -> None:
    """Check an entry and its proof offline, without the database: the checkpoint is signed
    by the key and the entry is the leaf it claims. Exit 0 verified, 1 not."""
    from simkyc.privacy.note import VerifierKey
    from simkyc.privacy.proof import EntryProof, check_entry_proof

    try:
        proof = EntryProof.from_json(file.read_text())
        key = VerifierKey.decode(vkey or proof.vkey)
        checkpoint = check_entry_proof(proof, key)
    except SimkycError as error:
        print(json.dumps({"verified": False, "code": error.code, "message": said(error)}))
        raise typer.Exit(1) from None
    print(json.dumps({"verified": True, "index": proof.index, "tree_size": checkpoint.size,
                      "origin": checkpoint.origin, "key": key.encode(),
                      "key_from_file": vkey is None}))
