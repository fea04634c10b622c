"""Idempotent service calls: replay a stored response, store a new one, recover from a race.
Stored responses are sealed with the keyring (`sealed_response`): a line's numbers, like
everything else in them, are never at rest in clear.

A flow calls `replayed()` once it holds the person's lock (so a twin that committed first is
visible), does its work, and ends with `finish()`. `guarded()` turns a unique-constraint
failure at commit (a twin that raced past the lock, or a number taken meanwhile) into the
twin's stored response, or into the domain error the flow names.

`once()` keys a call whose service takes no key (reviews, disputes, admin, proofing start
and conclude, citizen tokens): the response is stored right after the service commits, so
a crash between the two leaves the operation done but unkeyed: a retry then acts again
(for proofing sessions: a second pending session, harmless).
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


def replayed(session: Session, *, actor: Actor, key: str | None, operation: str,
             request: Mapping[str, Any], kind: type[M], keyring: Keyring) -> M | None:
    """The response stored for this key, if the request was made before."""
    if key is None:
        return None
    stored = replay(session, principal_id=actor.principal_id, key=key, operation=operation,
                    request=request)
    if stored is None:
        return None
    return kind.model_validate_json(opened_response(
        keyring, principal_id=actor.principal_id, key=key, stored=stored))


def finish(session: Session, *, actor: Actor, key: str | None, operation: str,
           request: Mapping[str, Any], result: M, now: datetime, keyring: Keyring) -> M:
    """Store the response (sealed) under the key, if any, and commit, in one transaction."""
    if key is not None:
        response = sealed_response(keyring, principal_id=actor.principal_id, key=key,
                                   text=result.model_dump_json())
        remember(session, principal_id=actor.principal_id, key=key, operation=operation,
                 request=request, response=response, now=now)
    session.commit()
    return result


def once(
    db: Session, *, actor: Actor, key: str | None, operation: str, request: Mapping[str, Any],
    kind: type[M], now: datetime, act: Callable[[], M], secret: Keyring | None = None,
) -> M:
    """`act()`'s result, or the stored result of the first request with this key. `act` may
    only flush: its writes and the stored result are committed together, so a crash before
    the commit leaves nothing and a retry acts once; a concurrent twin that stored first
    wins and its result is returned. A result carrying a secret (an API key, a citizen
    token) is stored sealed with `secret`, the keyring: never in clear, and gone with the
    record when it expires."""
    if key is None:
        result = act()
        db.commit()
        return result
    stored = _stored(db, actor=actor, key=key, operation=operation, request=request,
                     kind=kind, secret=secret)
    if stored is not None:
        return stored
    try:
        result = act()
        response = result.model_dump_json()
        if secret is not None:
            response = sealed_response(secret, principal_id=actor.principal_id, key=key,
                                       text=response)
        remember(db, principal_id=actor.principal_id, key=key, operation=operation,
                 request=request, response=response, now=now)
        db.commit()
    except IntegrityError:
        db.rollback()
        twin = _stored(db, actor=actor, key=key, operation=operation, request=request,
                       kind=kind, secret=secret)
        if twin is None:
            raise
        return twin
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


def guarded(session: Session, flow: Callable[[], M], *, actor: Actor, key: str | None,
            operation: str, request: Mapping[str, Any], kind: type[M],
            conflict: Callable[[], SimkycError], keyring: Keyring) -> M:
    """Run `flow`; on a unique-constraint failure, replay the twin's response or raise."""
    try:
        with rolled_back_on_error(session):
            return flow()
    except IntegrityError:
        again = replayed(session, actor=actor, key=key, operation=operation, request=request,
                         kind=kind, keyring=keyring)
        if again is not None:
            return again
        raise conflict() from None
