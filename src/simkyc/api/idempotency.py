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
from simkyc.registry.accounts import Actor

M = TypeVar("M", bound=BaseModel)


def once(
    db: Session, *, actor: Actor, key: str | None, operation: str, request: Mapping[str, Any],
    kind: type[M], now: datetime, act: Callable[[], M],
) -> M:
    """`act()`'s result, or the stored result of the first request with this key."""
    if key is None:
        return act()
    stored = replay(db, principal_id=actor.principal_id, key=key, operation=operation,
                    request=request)
    if stored is not None:
        return kind.model_validate_json(stored)
    result = act()
    remember(db, principal_id=actor.principal_id, key=key, operation=operation,
             request=request, response=result.model_dump_json(), now=now)
    db.commit()
    return result
