"""What every outbox channel shares: a claimed message, a deliverer's answer, the retry rule.

A channel is one `Deliverer`: it names its channel, says how patiently to retry, sends one
message, and settles what the answer means for its own tables (forget a dead subscription,
remember a success) inside the transaction that records the outcome. The outbox
(`server.notify.outbox`) does the rest: claiming, leases, back-off, giving up, pruning.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # the receiver is busy or unreachable: try again later
    GONE = "gone"  # the target no longer exists: never try it again
    FAILED = "failed"  # refused for good: retrying would not help


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    status: int | None = None  # the receiver's HTTP status, when there was one
    retry_after: float | None = None  # seconds, when the receiver said how long to wait
    error: str = ""


@dataclass(frozen=True)
class Message:
    """One claimed outbox row, as a deliverer sees it (no database object escapes)."""

    id: int
    channel: str
    target_id: int
    payload: dict[str, Any]
    urgency: str
    topic: str | None
    attempts: int  # including this one


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # tries before giving up
    base: float = 30.0  # seconds before the second try; doubled for each further one
    ceiling: float = 6 * 3600.0
    jitter: float = 0.1  # so that many messages refused together do not return together

    def delay(
        self,
        attempts: int,
        retry_after: float | None = None,
        *,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds before the next try: the receiver's word if it gave one, else exponential."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.ceiling)
        delay = min(self.base * 2 ** max(attempts - 1, 0), self.ceiling)
        return delay * (1 + rand() * self.jitter)

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.attempts


class Deliverer(Protocol):
    """One channel of the outbox (push, webhook, …), registered in `create_app`."""

    @property
    def channel(self) -> str: ...

    @property
    def retry(self) -> RetryPolicy: ...

    async def deliver(self, message: Message) -> Result:
        """Send one message. Exceptions count as RETRY; never hold a transaction open here."""
        ...

    async def settle(self, session: AsyncSession, message: Message, result: Result) -> None:
        """Inside the transaction that records `result`: the channel's own bookkeeping."""
        ...


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait: Retry-After is either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
