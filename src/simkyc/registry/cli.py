"""`simkyc admin`: bootstrap the registry - operators, and principals with an API key (printed
once, never stored in clear) - and purge what retention allows. Exit 0, or 3 with a code and
a sentence on a domain error."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from simkyc.config import get_settings
from simkyc.errors import SimkycError
from simkyc.registry.models import Role

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
        console.print(f"[red]{error.code}[/red]: {error.message}")
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
    """Delete what retention allows: retained images past SIMKYC_IMAGE_RETENTION_DAYS and
    idempotency records past SIMKYC_IDEMPOTENCY_RETENTION_HOURS, ended web sign-ins; prints
    the counts as JSON.
    Run it periodically (cron, a systemd timer)."""
    from simkyc.registry import maintenance
    from simkyc.registry.accounts import SYSTEM

    retention = timedelta(hours=get_settings().idempotency_retention_hours)

    def work(session: Session) -> dict[str, int]:
        now = datetime.now(UTC)
        return {"images": maintenance.purge_images(session, actor=SYSTEM, now=now),
                "idempotency_keys": maintenance.purge_idempotency_keys(
                    session, actor=SYSTEM, now=now, retention=retention),
                "web_sessions": maintenance.purge_web_sessions(session, actor=SYSTEM, now=now)}

    print(json.dumps(_run(work)))


audit_app = typer.Typer(no_args_is_help=True, help="Check the hash-chained audit log.")


@audit_app.command("verify")
def verify_audit() -> None:
    """Recompute the whole audit chain; prints the verdict as JSON. Exit 0 intact, 1 broken
    (an entry edited, removed or added out of turn; the problems name where)."""
    from dataclasses import asdict

    from simkyc.privacy.audit import verify_chain

    verdict = _run(verify_chain)
    print(json.dumps(asdict(verdict)))
    if not verdict.ok:
        raise typer.Exit(1)
