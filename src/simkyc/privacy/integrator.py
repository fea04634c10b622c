"""The integrator's loop: a daemon thread in `simkyc serve`, or `simkyc audit integrate`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from simkyc.privacy.tlog import Integration, LogKeys, integrate

log = logging.getLogger(__name__)


class Integrator:
    """Calls `tlog.integrate` every `interval_s` until stopped; with several processes only
    the one holding the advisory lock integrates in a round, the others skip it."""

    def __init__(self, *, sessions: sessionmaker[Session], keys: LogKeys, interval_s: float,
                 clock: Callable[[], datetime]) -> None:
        self._sessions, self._keys, self._interval = sessions, keys, interval_s
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def round(self) -> Integration | None:
        """One integration, in its own session; a database error is logged, not raised (the
        next round tries again)."""
        try:
            with self._sessions() as session:
                return integrate(session, keys=self._keys, now=self._clock())
        except DBAPIError as exc:
            log.warning("audit integration failed, retrying: %s", type(exc).__name__)
            return None

    def run(self, *, once: bool = False) -> None:
        """Integrate until stop() (or one round with `once`)."""
        while not self._stop.is_set():
            done = self.round()
            if done is not None and done.size > done.before:
                log.debug("audit log integrated %d..%d", done.before, done.size)
            if once:
                return
            self._stop.wait(self._interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="audit-integrator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
