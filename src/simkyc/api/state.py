"""What the app builds once at startup and every request shares (kept on `app.state.services`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from simkyc.api.evidence import EvidenceStore
from simkyc.api.metrics import Metrics
from simkyc.config import Settings
from simkyc.db.engine import database_url, engine_from_settings, session_factory
from simkyc.db.migrate import upgrade
from simkyc.documents.ocr import CardReader
from simkyc.faces.pipeline import FacePipeline
from simkyc.liveness.service import LivenessService
from simkyc.privacy.keyring import Keyring, load_keyring


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass
class Services:
    """The engines, the registry's database and the in-memory evidence of open sessions."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring
    pipeline: FacePipeline
    liveness: LivenessService
    evidence: EvidenceStore
    metrics: Metrics
    reader: CardReader | None = None  # the card OCR (None: SIMKYC_DOCUMENT_OCR off)
    clock: Callable[[], datetime] = utc_now
    # Detector sessions are not thread-safe; requests take turns on the pipeline.
    pipeline_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> Services:
        """Engine (migrated to head), keyring, face pipeline, liveness service and card OCR
        (its models load on the first card), once."""
        engine = engine_from_settings(settings)
        upgrade(engine)
        pipeline = FacePipeline.from_settings(settings)
        keyring = load_keyring(settings, database=database_url(settings))
        return cls(
            settings=settings, engine=engine, sessions=session_factory(engine, keyring),
            keyring=keyring, pipeline=pipeline,
            liveness=LivenessService.from_settings(settings, pipeline),
            evidence=EvidenceStore(ttl_s=settings.challenge_ttl_s + settings.approval_ttl_s),
            metrics=metrics,
            reader=CardReader.from_settings(settings) if settings.document_ocr else None,
        )
