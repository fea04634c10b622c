"""Jobs and privileged reads: re-sealing after a key rotation, purging retained images,
expired idempotency records, expired proofing state and ended web sign-ins, reading a
person's data in clear. Each is audited."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from simkyc.auth import cookie_store as web_store
from simkyc.auth.actors import Actor, require
from simkyc.auth.models import Role
from simkyc.db.attempts import purge_attempts
from simkyc.db.idempotency import purge_before
from simkyc.errors import PermissionDenied
from simkyc.liveness import store as challenges
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.retention import purge_expired
from simkyc.privacy.rotation import reencrypt
from simkyc.proofing import held, replies
from simkyc.records.persons import PersonDetails, lock_person, open_details
from simkyc.tables import SEALED_COLUMNS

logger = logging.getLogger(__name__)


def reseal_all(session: Session, *, actor: Actor, keyring: Keyring, now: datetime) -> int:
    """Re-seal every encrypted value with the active data key; returns how many changed."""
    require(actor, Role.SYSTEM, Role.ADMIN)
    count = reencrypt(session, keyring=keyring, columns=SEALED_COLUMNS)
    _done(session, actor, AuditAction.DATA_RESEALED, now, count, key_id=keyring.data.active)
    logger.info("re-sealed %d values with data key %s", count, keyring.data.active)
    return count


def purge_images(session: Session, *, actor: Actor, now: datetime) -> int:
    """Delete retained images past their retention; returns how many."""
    require(actor, Role.SYSTEM, Role.ADMIN)
    count = purge_expired(session, now=now)
    _done(session, actor, AuditAction.MEDIA_PURGED, now, count)
    logger.info("purged %d retained images", count)
    return count


def purge_idempotency_keys(session: Session, *, actor: Actor, now: datetime,
                           retention: timedelta) -> int:
    """Delete idempotency records older than `retention` (their keys may then be used
    afresh); returns how many."""
    require(actor, Role.SYSTEM, Role.ADMIN)
    count = purge_before(session, before=now - retention)
    _done(session, actor, AuditAction.IDEMPOTENCY_PURGED, now, count)
    logger.info("purged %d idempotency records", count)
    return count


def purge_web_sessions(session: Session, *, actor: Actor, now: datetime) -> int:
    """Delete web sign-in sessions that have ended; returns how many."""
    require(actor, Role.SYSTEM, Role.ADMIN)
    count = web_store.purge_expired(session, now=now)
    _done(session, actor, AuditAction.WEB_SESSIONS_PURGED, now, count)
    logger.info("purged %d ended web sessions", count)
    return count


def purge_attempt_counters(session: Session, *, actor: Actor, now: datetime,
                           older_than: timedelta) -> int:
    """Delete attempt counters past every limit's window (they count nothing any more; they
    hold no personal data, so the purge is logged, not audited); returns how many."""
    require(actor, Role.SYSTEM, Role.ADMIN)
    count = purge_attempts(session, before=now - older_than)
    session.commit()
    logger.info("purged %d attempt counters", count)
    return count


def purge_proofing_state(session: Session, *, actor: Actor, now: datetime,
                         keep_s: float) -> int:
    """Delete what pending proofing sessions held past its expiry: held evidence, upload
    replies, liveness challenges, attempts and lockouts that can no longer matter (answered
    or expired challenges are kept `keep_s` so a replay still gets its own error); returns
    how many rows."""
    require(actor, Role.SYSTEM, Role.ADMIN)
    count = (held.purge(session, now=now) + replies.purge(session, now=now)
             + challenges.purge(session, now=now, keep_s=keep_s))
    _done(session, actor, AuditAction.PROOFING_STATE_PURGED, now, count)
    logger.info("purged %d rows of proofing state", count)
    return count


def _done(session: Session, actor: Actor, action: AuditAction, now: datetime, count: int,
          **detail: str) -> None:
    """Audit a maintenance job with what it touched, and commit its work with the entry."""
    audit.append(session, actor=actor, action=action, purpose=AccessPurpose.MAINTENANCE,
                 subject_id=None, object_id=None, now=now, detail={"count": count, **detail})
    session.commit()


def read_person(
    session: Session, *, actor: Actor, keyring: Keyring, person_id: str,
    purpose: AccessPurpose, now: datetime,
) -> PersonDetails:
    """A person's name and birth date in clear: reviewers, auditors, admins, or the citizen
    themself; logged with the stated purpose."""
    require(actor, Role.REVIEWER, Role.AUDITOR, Role.ADMIN, Role.CITIZEN)
    if actor.role is Role.CITIZEN and actor.person_id != person_id:
        raise PermissionDenied("citizens see their own data only.")
    details = open_details(keyring, lock_person(session, person_id))
    audit.append(session, actor=actor, action=AuditAction.PERSON_READ, purpose=purpose,
                 subject_id=person_id, object_id=None, now=now)
    session.commit()
    return details
