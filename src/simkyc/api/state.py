"""What the app builds once at startup and every request shares (kept on `app.state.services`).

Nothing here holds a proofing session's state: that is in the database (simkyc.proofing.flow),
so any number of processes can serve one session's steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from simkyc.api.metrics import Metrics
from simkyc.config import Settings
from simkyc.db.engine import database_url, engine_from_settings, session_factory
from simkyc.db.migrate import upgrade
from simkyc.documents.reading import DocumentReader
from simkyc.faces.pipeline import FacePipeline
from simkyc.liveness.challenge import ChallengeBook
from simkyc.privacy.keyring import Keyring, load_keyring
from simkyc.privacy.tlog import LogKeys
from simkyc.proofing.engines import EnginePool
from simkyc.proofing.flow import ProofingFlow


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass
class Services:
    """The engines, the registry's database and the keyring."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring
    engines: EnginePool
    book: ChallengeBook  # how challenges are made (tests script the actions here)
    metrics: Metrics
    documents: DocumentReader | None = None  # the document reader (None: SIMKYC_DOCUMENT_OCR off)
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> Services:
        """Engine (migrated to head), keyring, a pool of face and liveness engines and the
        document reader (the own OCR-B recognizer checked against its pinned SHA-256 here;
        the OCR models load in `startup.warm_models`), once per process."""
        engine = engine_from_settings(settings)
        upgrade(engine)
        keyring = load_keyring(settings, database=database_url(settings))
        return cls(
            settings=settings, engine=engine, sessions=session_factory(engine, keyring),
            keyring=keyring, engines=EnginePool.from_settings(settings),
            book=ChallengeBook(ttl_s=settings.challenge_ttl_s, slot_s=settings.challenge_slot_s),
            metrics=metrics,
            documents=(DocumentReader.from_settings(settings) if settings.document_ocr
                       else None),
        )

    @property
    def pipeline(self) -> FacePipeline:
        """A face pipeline for what needs no detector (its calibrated policy, comparisons)."""
        return self.engines.first.pipeline

    @cached_property
    def log_keys(self) -> LogKeys:
        """The transparency log's origin and keys (from the keyring and SIMKYC_LOG_ORIGIN),
        derived once per process: signers and verifiers are not rebuilt per request."""
        return LogKeys.from_keyring(self.keyring, origin=self.settings.log_origin)

    def flow(self) -> ProofingFlow:
        """The proofing flow over these services (cheap: built per request)."""
        return ProofingFlow(settings=self.settings, keyring=self.keyring, engines=self.engines,
                            book=self.book, documents=self.documents)
