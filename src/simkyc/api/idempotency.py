"""Idempotency-Key for the POSTs whose services take no key: the first response is stored
(db.idempotency) and a retry with the same key and body gets it back instead of acting twice.

The registry's line operations and a proofing session's start and evidence steps take the
key themselves (stored in their own transaction). Here the response is stored right after
the service commits, so a crash between the two leaves the operation done but unkeyed: a
retry then acts again (a conclusion: PROOFING_ALREADY_DECIDED).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from simkyc.db.idempotency import remember, replay
from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring
from simkyc.registry.accounts import Actor

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
    where = place("idempotency_keys", "response", f"{actor.principal_id}/{key}")
    stored = replay(db, principal_id=actor.principal_id, key=key, operation=operation,
                    request=request)
    if stored is not None:
        if secret is not None:
            stored = unseal(secret, base64.b64decode(stored), where=where).decode()
        return kind.model_validate_json(stored)
    result = act()
    response = result.model_dump_json()
    if secret is not None:
        response = base64.b64encode(seal(secret, response.encode(), where=where)).decode()
    remember(db, principal_id=actor.principal_id, key=key, operation=operation,
             request=request, response=response, now=now)
    db.commit()
    return result
