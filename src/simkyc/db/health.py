"""Is the database there? One round trip, and the one translation of "it is not" into the
domain's DATABASE_UNAVAILABLE (the API answers 503 with it, never a traceback)."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from simkyc.errors import DatabaseUnavailable

UNAVAILABLE = "the database is not answering; try again shortly."


def is_outage(error: BaseException) -> bool:
    """A failure of the connection (down, restarting, unreachable, dropped mid-transaction),
    as opposed to a bad statement or a constraint: the same request may succeed later."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def ping(engine: Engine) -> None:
    """`SELECT 1`; DatabaseUnavailable when it cannot be run."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as error:
        if is_outage(error):
            raise DatabaseUnavailable(UNAVAILABLE) from error
        raise
