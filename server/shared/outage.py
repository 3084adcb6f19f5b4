"""When the database does not answer: how to tell that from a fault in our code, and how a
background loop waits it out (one warning when it pauses, one note when it resumes, growing
waits in between instead of a traceback every round)."""

from __future__ import annotations

import logging
import random
import time

from sqlalchemy import exc as sa_exc

# asyncpg's own errors for a connection that is gone or refused (SQLSTATE classes 08 and 57),
# named rather than imported: SQLite deployments never load the driver.
_DRIVER_OUTAGES = frozenset(
    {"PostgresConnectionError", "OperatorInterventionError", "ConnectionDoesNotExistError"}
)


def is_outage(exc: BaseException) -> bool:
    """Is this the database (or the network to it) not answering, rather than a bug?"""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError
        ):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, OSError):  # refused, reset, unreachable, timed out
            return True
        if any(k.__name__ in _DRIVER_OUTAGES for k in type(current).__mro__):
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


class Backoff:
    """Capped exponential backoff with jitter, so that many processes don't retry in step."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self.attempt = 0

    def reset(self) -> None:
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2**self.attempt)
        self.attempt = min(self.attempt + 1, 16)
        return delay * random.uniform(0.5, 1.0)


class OutagePause:
    """Tells a background loop how long to wait after a round that failed for an outage."""

    def __init__(self, name: str, log: logging.Logger, *, first: float = 2.0, cap: float = 60.0):
        self.name = name
        self.log = log
        self.backoff = Backoff(first=first, cap=cap)
        self.since: float | None = None

    @property
    def paused(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException, interval: float = 0.0) -> float | None:
        """Seconds to wait (at least the loop's own `interval`) if `exc` is an outage; None
        if it is not, for the caller to report as the fault it is."""
        if not is_outage(exc):
            return None
        if self.since is None:
            self.since = time.monotonic()
            self.log.warning(
                "%s: database unavailable (%s: %s); pausing until it answers",
                self.name,
                type(exc).__name__,
                str(exc).splitlines()[0][:200] if str(exc) else "",
            )
        return max(interval, self.backoff.next())

    def succeeded(self) -> None:
        """After a round that reached the database."""
        if self.since is None:
            return
        self.log.info(
            "%s: database answers again after %.0f s; resuming",
            self.name,
            time.monotonic() - self.since,
        )
        self.since = None
        self.backoff.reset()
