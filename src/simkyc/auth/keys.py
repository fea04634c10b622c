"""Bearer tokens: `sk_<id>_<secret>`, a 12-hex-digit public id to find the row and 32 random
bytes (base64url) of which only the SHA-256 is stored. A slow password hash is not needed: the
secret has 256 bits of entropy, so its SHA-256 cannot be brute-forced."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor
from simkyc.auth.models import ApiKey, Principal
from simkyc.errors import InvalidCredentials

TOKEN_PREFIX = "sk"


def authenticate(session: Session, *, token: str, now: datetime) -> Actor:
    """The actor a token stands for; every failure looks the same to the caller."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    found = session.execute(  # the key and its principal in one round trip (every request)
        select(ApiKey, Principal).join(Principal, Principal.id == ApiKey.principal_id)
        .where(ApiKey.id == key_id)).first() if prefix == TOKEN_PREFIX and secret else None
    if found is None or not hmac.compare_digest(found[0].secret_sha256, hash_secret(secret)):
        raise InvalidCredentials("unknown or malformed key.")
    key, principal = found
    if _unusable(key, principal, now):
        raise InvalidCredentials("this key is revoked or expired.")
    return Actor(principal_id=principal.id, role=principal.role,
                 operator_id=principal.operator_id, person_id=principal.person_id)


def _unusable(key: ApiKey, principal: Principal, now: datetime) -> bool:
    expired = key.expires_at is not None and key.expires_at <= now
    return expired or key.revoked_at is not None or principal.disabled_at is not None


def hash_secret(secret: str) -> str:
    """The SHA-256 (hex) a key's secret is stored as."""
    return hashlib.sha256(secret.encode("ascii", "replace")).hexdigest()
