"""Idempotent service calls: replay a stored response, store a new one, recover from a race.
Stored responses are sealed with the keyring (`sealed_response`): a line's numbers, like
everything else in them, are never at rest in clear.

`once()` is the one mechanism for a keyed call (reviews, disputes, admin, proofing start and
conclude, citizen tokens, SIM swaps, cancellations): the act's writes and its stored
response commit together; a flow that locks a person first (`first`) sees a twin that
committed before it and replays it; a unique-constraint failure at commit becomes the
twin's response or the flow's domain error (`conflict`). A batch of registrations keys
each item inside its own transaction (simkyc.registry.batch, on the same records and
sealing).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor
from simkyc.db.idempotency import remember, replay
from simkyc.errors import SimkycError
from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring

M = TypeVar("M", bound=BaseModel)


@contextmanager
def rolled_back_on_error(session: Session) -> Iterator[None]:
    """Leave no half-done work (and no locks) behind when a flow raises."""
    try:
        yield
    except BaseException:
        session.rollback()
        raise


def response_place(principal_id: str, key: str) -> str:
    """The associated data of a stored response: its record's principal and key."""
    return place("idempotency_keys", "response", f"{principal_id}/{key}")


def sealed_response(keyring: Keyring, *, principal_id: str, key: str, text: str) -> str:
    """A response as stored: sealed for its record, base64."""
    where = response_place(principal_id, key)
    return base64.b64encode(seal(keyring, text.encode(), where=where)).decode("ascii")


def opened_response(keyring: Keyring, *, principal_id: str, key: str, stored: str) -> str:
    """A stored response, in clear."""
    where = response_place(principal_id, key)
    return unseal(keyring, base64.b64decode(stored), where=where).decode()


def once(
    db: Session, *, actor: Actor, key: str | None, operation: str, request: Mapping[str, Any],
    kind: type[M], now: datetime, act: Callable[[], M], secret: Keyring | None = None,
    first: Callable[[], object] | None = None, conflict: Callable[[], SimkycError] | None = None,
) -> M:
    """`act()`'s result, or the stored result of the first request with this key. `act` may
    only flush: its writes and the stored result are committed together, so a crash before
    the commit leaves nothing and a retry acts once; a concurrent twin that stored first
    wins and its result is returned. A result carrying a secret (an API key, a citizen
    token, a line's numbers) is stored sealed with `secret`, the keyring: never in clear, and
    gone with the record when it expires.

    `first()` runs before the stored result is looked up: it takes the locks a twin also
    takes (a person's row), so a twin that committed first is seen and replayed rather than
    judged again. `conflict()` is the domain error for a unique-constraint failure at commit
    that no stored twin explains (a number taken meanwhile). Any failure rolls back."""
    with rolled_back_on_error(db):
        if first is not None:
            first()
        if key is not None and (stored := _stored(
                db, actor=actor, key=key, operation=operation, request=request, kind=kind,
                secret=secret)) is not None:
            return stored
        try:
            result = act()
            if key is not None:
                response = result.model_dump_json()
                if secret is not None:
                    response = sealed_response(secret, principal_id=actor.principal_id,
                                               key=key, text=response)
                remember(db, principal_id=actor.principal_id, key=key, operation=operation,
                         request=request, response=response, now=now)
            db.commit()
        except IntegrityError:
            db.rollback()
            twin = None if key is None else _stored(
                db, actor=actor, key=key, operation=operation, request=request, kind=kind,
                secret=secret)
            if twin is not None:
                return twin
            if conflict is not None:
                raise conflict() from None
            raise
    return result


def _stored(db: Session, *, actor: Actor, key: str, operation: str,
            request: Mapping[str, Any], kind: type[M], secret: Keyring | None) -> M | None:
    """The result stored for this key (opened with `secret` when it was sealed), if any."""
    stored = replay(db, principal_id=actor.principal_id, key=key, operation=operation,
                    request=request)
    if stored is None:
        return None
    if secret is not None:
        stored = opened_response(secret, principal_id=actor.principal_id, key=key,
                                 stored=stored)
    return kind.model_validate_json(stored)


