"""Which database errors are an outage (the API answers 503 DATABASE_UNAVAILABLE, never a
traceback) rather than a bug."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

UNAVAILABLE = "the database is not answering; try again shortly."


def is_outage(error: BaseException) -> bool:
    """A failure of the connection (down, restarting, unreachable, dropped mid-transaction),
    as opposed to a bad statement or a constraint: the same request may succeed later."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated
