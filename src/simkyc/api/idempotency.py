"""Idempotency-Key for the POSTs whose services take no key: the first response is stored
(db.idempotency) and a retry with the same key and body gets it back instead of acting twice.

The registry's line operations take the key themselves (stored in their own transaction).
Here the response is stored right after the service commits, so a crash between the two
leaves the operation done but unkeyed: a retry then acts again (for proofing sessions: a
second pending session, harmless).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from simkyc.db.idempotency import remember, replay
from simkyc.privacy.keyring import Keyring
from simkyc.registry.accounts import Actor
from simkyc.registry.idempotent import opened_response, sealed_response

M = TypeVar("M", bound=BaseModel)


def once(
    db: Session, *, actor: Actor, key: str | None, operation: str, request: Mapping[str, Any],
    kind: type[M], now: datetime, act: Callable[[], M], secret: Keyring | None = None,
) -> M:
    """`act()`'s result, or the stored result of the first request with this key. A result
    carrying a secret (an API key, a citizen token) is stored sealed with `secret`, the
    keyring: never in clear, and gone with the record when it expires."""
    if key is None:
        return act()
    who = actor.principal_id
    stored = replay(db, principal_id=who, key=key, operation=operation, request=request)
    if stored is not None:
        if secret is not None:
            stored = opened_response(secret, principal_id=who, key=key, stored=stored)
        return kind.model_validate_json(stored)
    result = act()
    response = result.model_dump_json()
    if secret is not None:
        response = sealed_response(secret, principal_id=who, key=key, text=response)
    remember(db, principal_id=who, key=key, operation=operation, request=request,
             response=response, now=now)
    db.commit()
    return result
