"""Image retention: off by default (images live in memory only); on, they are sealed and
purged after a number of days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from simkyc.config import Settings
from simkyc.db.base import new_id
from simkyc.errors import RecordNotFound
from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.models import MediaKind, RetainedMedia


@dataclass(frozen=True)
class RetentionPolicy:
    """Whether images are kept, and for how long."""

    enabled: bool
    days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(enabled=settings.retain_images, days=settings.image_retention_days)


def retain_image(
    session: Session, *, policy: RetentionPolicy, keyring: Keyring, proofing_id: str,
    kind: MediaKind, image: bytes, now: datetime,
) -> str | None:
    """Keep a sealed copy when retention is on (flushed, not committed); returns its id."""
    if not policy.enabled:
        return None
    media_id = new_id()
    sealed = seal(keyring, image, where=place("retained_media", "sealed", media_id))
    session.add(RetainedMedia(
        id=media_id, proofing_id=proofing_id, kind=kind, sealed=sealed, created_at=now,
        purge_after=now + timedelta(days=policy.days),
    ))
    session.flush()
    return media_id


def open_image(session: Session, *, keyring: Keyring, media_id: str) -> tuple[str, bytes]:
    """The retained image and its proofing session id (callers audit the access)."""
    media = session.get(RetainedMedia, media_id)
    if media is None:
        raise RecordNotFound("retained image", media_id)
    image = unseal(keyring, media.sealed, where=place("retained_media", "sealed", media.id))
    return media.proofing_id, image


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete every retained image past its date (committed); returns how many."""
    ids = list(session.execute(
        select(RetainedMedia.id).where(RetainedMedia.purge_after <= now)).scalars())
    if ids:
        session.execute(delete(RetainedMedia).where(RetainedMedia.id.in_(ids)))
    session.commit()
    return len(ids)
