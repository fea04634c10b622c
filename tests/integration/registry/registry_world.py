"""Registry test helpers: scratch databases on both backends, and a World that builds
operators, agents, applicants, proofed sessions and lines through the services.

PostgreSQL comes from SIMKYC_TEST_POSTGRES_URL (scripts/postgres.sh prints one); without it
the PostgreSQL cases fail in CI and skip elsewhere.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from shared_files import missing
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor
from simkyc.auth.models import Role
from simkyc.db.engine import create_db_engine
from simkyc.db.migrate import upgrade
from simkyc.faces.match import Decision as FaceDecision
from simkyc.faces.policy import FacePolicy
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.pseudonyms import DocumentIdentity
from simkyc.privacy.templates import Template
from simkyc.privacy.tlog import LogKeys, LogVerification, integrate, verify_log
from simkyc.proofing import service as proofing
from simkyc.proofing.models import (
    CheckKind,
    DocumentCheck,
    FaceCheck,
    LivenessCheck,
    LivenessVerdict,
    Purpose,
)
from simkyc.proofing.schemas import Consent, ProofingView
from simkyc.records.models import ServiceType
from simkyc.records.persons import Applicant
from simkyc.registry import accounts, lines
from simkyc.registry.numbers import luhn_valid
from simkyc.registry.schemas import LineView
from simkyc.rules.profiles import JurisdictionProfile
from simkyc.types import Embedding

BACKENDS = ("sqlite", "postgresql")
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
APPROVAL_TTL_S = 1800.0
MODEL = "test-recognizer"


def postgres_url() -> str:
    """The test server's URL; missing: fail in CI, skip elsewhere."""
    url = os.environ.get("SIMKYC_TEST_POSTGRES_URL")
    if not url:
        missing("SIMKYC_TEST_POSTGRES_URL is not set (run scripts/postgres.sh)")
    return url


@contextmanager
def scratch_database(backend: str, folder: Path) -> Iterator[str]:
    """A new empty database's URL: a SQLite file in `folder`, or a database on the test
    PostgreSQL server (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'simkyc-{uuid.uuid4().hex[:8]}.db'}"
        return
    server = make_url(postgres_url())
    name = f"simkyc_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def migrated_engine(backend: str, folder: Path, pool_size: int = 5) -> Iterator[Engine]:
    """An engine on a fresh, migrated scratch database."""
    with scratch_database(backend, folder) as url:
        engine = create_db_engine(url, pool_size=pool_size)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


def unit_vector(seed: int, size: int = 128) -> Embedding:
    vector = np.random.default_rng(seed).standard_normal(size).astype(np.float32)
    return vector / np.linalg.norm(vector)


def iccid(seed: int | None = None) -> str:
    """A valid 19-digit ICCID (89, 16 digits, Luhn check digit)."""
    body = "89" + (f"{seed:016d}" if seed is not None else
                   "".join(secrets.choice("0123456789") for _ in range(16)))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@dataclass
class World:
    """Builds operators, agents, applicants and proofed sessions through the services."""

    db: Session
    keyring: Keyring
    profiles: dict[str, JurisdictionProfile]
    now: datetime = START
    _numbers: int = 0
    agents: dict[str, Actor] = field(default_factory=dict)

    def tick(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def operator(self, name: str, jurisdiction: str) -> Actor:
        """An operator and one agent of it (returned)."""
        op = accounts.create_operator(self.db, name=name, jurisdiction=jurisdiction,
                                      profiles=self.profiles, now=self.now)
        agent = accounts.create_principal(self.db, role=Role.AGENT, label=f"{name} agent",
                                          operator_id=op.id, now=self.now)
        actor = Actor(principal_id=agent.id, role=Role.AGENT, operator_id=op.id)
        self.agents[name] = actor
        return actor

    def staff(self, agent: Actor, role: Role) -> Actor:
        principal = accounts.create_principal(self.db, role=role, label=role.value,
                                              operator_id=agent.operator_id, now=self.now)
        return Actor(principal_id=principal.id, role=role, operator_id=agent.operator_id)

    def unbound(self, role: Role) -> Actor:
        principal = accounts.create_principal(self.db, role=role, label=role.value, now=self.now)
        return Actor(principal_id=principal.id, role=role)

    @staticmethod
    def applicant(number: str, name: str = "LI Ming", born: date = date(1990, 5, 17)
                  ) -> Applicant:
        return Applicant(DocumentIdentity("national_id", "CN", number), name, born)

    def proofed(
        self, agent: Actor, applicant: Applicant, *, purpose: Purpose = Purpose.REGISTRATION,
        line_id: str | None = None, probe: Template | None = None,
        face: FaceDecision = FaceDecision.MATCH, face_policy: FacePolicy | None = None,
    ) -> ProofingView:
        """A session taken to its decision with passing checks (unless `face` says not)."""
        started = proofing.start_session(
            self.db, actor=agent, purpose=purpose, applicant=applicant,
            consent=Consent(True, "consent-v1", self.now), keyring=self.keyring, now=self.now,
            line_id=line_id)
        score = {FaceDecision.MATCH: 0.8, FaceDecision.REVIEW: 0.6}.get(face, 0.2)
        return proofing.conclude(
            self.db, actor=agent, proofing_id=started.id,
            documents=[DocumentCheck("cn_id_checksum", True), *(
                # Self-service is approved on the card with its text read and matching.
                [DocumentCheck("card_text_name", True, kind=CheckKind.CROSS_CHECK)]
                if purpose is Purpose.SELF_SERVICE else [])],
            face=FaceCheck(score, 0.6, face, MODEL, "test-calibration"),
            liveness=LivenessCheck(LivenessVerdict.LIVE, "liveness-v1"),
            keyring=self.keyring, approval_ttl_s=APPROVAL_TTL_S, now=self.now, probe=probe,
            images={"selfie": "0" * 64}, face_policy=face_policy)

    def msisdn(self, prefix: str = "+86138") -> str:
        self._numbers += 1
        return f"{prefix}{self._numbers:08d}"

    def register(self, agent: Actor, applicant: Applicant, *, msisdn: str | None = None,
                 probe: Template | None = None, key: str | None = None) -> LineView:
        session = self.proofed(agent, applicant, probe=probe)
        return lines.register_line(
            self.db, actor=agent, proofing_id=session.id, msisdn=msisdn or self.msisdn(),
            iccid=iccid(), service=ServiceType.MOBILE, profiles=self.profiles,
            keyring=self.keyring, now=self.now, idempotency_key=key)


def log_verdict(db: Session, keyring: Keyring, origin: str = "simkyc.local/audit"
                ) -> LogVerification:
    """Integrate whatever is committed into the transparency log, then verify all of it."""
    keys = LogKeys.from_keyring(keyring, origin=origin)
    integrate(db, keys=keys, now=datetime.now(UTC))
    return verify_log(db, keys=keys)
