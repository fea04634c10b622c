"""Idempotent service calls: replay a stored response, store a new one, recover from a race.

A flow calls `replayed()` once it holds the person's lock (so a twin that committed first is
visible), does its work, and ends with `finish()`. `guarded()` turns a unique-constraint
failure at commit (a twin that raced past the lock, or a number taken meanwhile) into the
twin's stored response, or into the domain error the flow names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from simkyc.db.idempotency import remember, replay
from simkyc.errors import SimkycError
from simkyc.registry.accounts import Actor

M = TypeVar("M", bound=BaseModel)


@contextmanager
def rolled_back_on_error(session: Session) -> Iterator[None]:
    """Leave no half-done work (and no locks) behind when a flow raises."""
    try:
        yield
    except BaseException:
        session.rollback()
        raise


def replayed(session: Session, *, actor: Actor, key: str | None, operation: str,
             request: Mapping[str, Any], kind: type[M]) -> M | None:
    """The response stored for this key, if the request was made before."""
    if key is None:
        return None
    text = replay(session, principal_id=actor.principal_id, key=key, operation=operation,
                  request=request)
    return None if text is None else kind.model_validate_json(text)


def finish(session: Session, *, actor: Actor, key: str | None, operation: str,
           request: Mapping[str, Any], result: M, now: datetime) -> M:
    """Store the response under the key (if any) and commit, in one transaction."""
    if key is not None:
        remember(session, principal_id=actor.principal_id, key=key, operation=operation,
                 request=request, response=result.model_dump_json(), now=now)
    session.commit()
    return result


def guarded(session: Session, flow: Callable[[], M], *, actor: Actor, key: str | None,
            operation: str, request: Mapping[str, Any], kind: type[M],
            conflict: Callable[[], SimkycError]) -> M:
    """Run `flow`; on a unique-constraint failure, replay the twin's response or raise."""
    try:
        with rolled_back_on_error(session):
            return flow()
    except IntegrityError:
        again = replayed(session, actor=actor, key=key, operation=operation, request=request,
                         kind=kind)
        if again is not None:
            return again
        raise conflict() from None
