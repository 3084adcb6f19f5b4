"""The outbox: messages written with the change, delivered after commit by one worker.

Writers call `enqueue` inside the change's transaction, so a message exists exactly when the
change does. The worker claims due rows of every registered channel, hands each to its
channel's `Deliverer` and records the outcome:

- **Claiming.** One write transaction takes up to `batch_size` due rows per channel (a channel
  whose rows keep failing cannot crowd out another), marks them `sending`, counts the attempt
  and sets `next_attempt_at` to the end of a lease. On PostgreSQL the rows are taken with
  `FOR UPDATE SKIP LOCKED`; on SQLite write transactions queue at `BEGIN IMMEDIATE`, so two
  workers never take the same row. Any number of workers may run together.
- **Leases.** A worker that dies while sending leaves its rows `sending`; when the lease runs
  out another worker takes them again (a message may, rarely, arrive twice). An outcome that
  comes back after its lease was taken over is ignored.
- **Retries.** RETRY puts the row back as `pending` after the channel's back-off (the
  receiver's Retry-After if it gave one); after the channel's last attempt the row stays
  `failed` with its last error. GONE and FAILED are final at once.
- **Order.** Messages for the same target go out one after another, oldest first (and once
  the target is gone, the rest are not sent); different targets are served concurrently.
- **Outages.** While the database does not answer the worker pauses, with growing waits and
  one warning, and picks up where it stopped once it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from server.db.models import OutboxMessage, utcnow
from server.db.session import Database
from server.notify.delivery import Deliverer, Message, Outcome, Result
from server.shared.outage import OutagePause
from server.shared.services import OUTBOX_WRITTEN

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, GONE, FAILED = "pending", "sending", "sent", "gone", "failed"
WAITING = (PENDING, SENDING)
FINISHED = (SENT, GONE, FAILED)
KEEP_FINISHED = timedelta(days=7)
FINAL_STATUS = {Outcome.SENT: SENT, Outcome.GONE: GONE, Outcome.FAILED: FAILED}


def enqueue(
    session: AsyncSession,
    channel: str,
    target_id: int,
    payload: dict[str, Any],
    *,
    urgency: str = "normal",
    topic: str | None = None,
    not_before: datetime | None = None,
) -> None:
    """Add one message to the outbox, in the caller's transaction: pending, due at once (or
    at `not_before`: an SMS written at night waits for the morning).

    The messages of a transaction are written together just before it commits, in one
    multi-row INSERT (ORM rows would each need their own INSERT … RETURNING on SQLite), in the
    order they were enqueued."""
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        sa_event.listen(session.sync_session, "before_commit", _write_rows)
        sa_event.listen(session.sync_session, "after_rollback", _forget_rows)
    session.info.setdefault(_ROWS, []).append(
        {
            "channel": channel,
            "target_id": target_id,
            "payload": payload,
            "status": PENDING,
            "urgency": urgency,
            "topic": topic,
            "next_attempt_at": not_before or utcnow(),
        }
    )
    session.info[OUTBOX_WRITTEN] = True


_ROWS, _LISTENING = "outbox_rows", "outbox_listening"
OUTBOX_TABLE = cast(Table, OutboxMessage.__table__)


def _write_rows(session: Session) -> None:
    rows = session.info.pop(_ROWS, None)
    if rows:
        # The table, not the mapped class: one executemany, Nones included.
        session.execute(insert(OUTBOX_TABLE), rows)


def _forget_rows(session: Session) -> None:
    session.info.pop(_ROWS, None)


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        deliverers: Sequence[Deliverer],
        *,
        batch_size: int = 50,
        concurrency: int = 8,
        lease: float = 120.0,
        poll_interval: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.channels = {d.channel: d for d in deliverers}
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self.clock = clock
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_prune: datetime | None = None
        self._pause = OutagePause("outbox worker", log)

    # ---------------------------------------------------------------------------------------
    # Waking up and running

    def wake(self) -> None:
        """Look at the outbox now (safe to call from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: at once when woken, otherwise every poll interval."""
        self._loop = asyncio.get_running_loop()
        async with contextlib.AsyncExitStack() as stack:
            for deliverer in self.channels.values():
                # A deliverer holding connections (an HTTP client) opens them for the run.
                if isinstance(deliverer, contextlib.AbstractAsyncContextManager):
                    await stack.enter_async_context(deliverer)
            while not stop.is_set():
                self._wake.clear()
                handled = 0
                wait = self.poll_interval
                try:
                    handled = await self.run_once()
                    await self._prune()
                    self._pause.succeeded()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    paused_for = self._pause.failed(exc, self.poll_interval)
                    if paused_for is None:
                        log.exception("outbox delivery round failed")
                    else:
                        # Messages keep in the outbox; a commit once it is back wakes us early.
                        wait = paused_for
                if handled >= self.batch_size:
                    continue  # there is more waiting
                await _first_of(stop, self._wake, seconds=wait)

    # ---------------------------------------------------------------------------------------
    # One round

    async def run_once(self) -> int:
        """Try every due message once. Returns how many were handled."""
        return len(await self.deliver_due())

    async def deliver_due(self) -> list[tuple[Message, Result]]:
        now = self.clock()
        if not self.channels or not await self._anything_due(now):
            return []
        messages = await self._claim(now)
        if not messages:
            return []
        done = await self._deliver_all(messages)
        await self._record(done)
        return done

    async def _anything_due(self, now: datetime) -> bool:
        # A cheap read first: on SQLite a write transaction would queue behind real work.
        async with self.db.read() as session:
            found = await session.scalar(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.channel.in_(self.channels),
                    OutboxMessage.status.in_(WAITING),
                    OutboxMessage.next_attempt_at <= now,
                )
                .limit(1)
            )
        return found is not None

    async def _claim(self, now: datetime) -> list[Message]:
        lease_until = now + timedelta(seconds=self.lease)
        messages: list[Message] = []
        async with self.db.begin() as session:
            for channel, deliverer in sorted(self.channels.items()):
                query = (
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.channel == channel,
                        OutboxMessage.status.in_(WAITING),
                        OutboxMessage.next_attempt_at <= now,
                    )
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(self.batch_size)
                )
                if self.db.is_postgres:
                    query = query.with_for_update(skip_locked=True)
                for row in await session.scalars(query):
                    if row.status == SENDING and deliverer.retry.gives_up(row.attempts):
                        # Its last attempt died with the worker that made it.
                        row.status = FAILED
                        row.last_error = (row.last_error or "lease ran out")[:1000]
                        continue
                    row.status = SENDING
                    row.attempts += 1
                    row.next_attempt_at = lease_until
                    messages.append(_message_of(row))
        return messages

    async def _deliver_all(self, messages: list[Message]) -> list[tuple[Message, Result]]:
        limit = asyncio.Semaphore(self.concurrency)
        results: dict[int, Result] = {}
        by_target: dict[tuple[str, int], list[Message]] = {}
        for message in messages:
            by_target.setdefault((message.channel, message.target_id), []).append(message)

        async def in_order(group: list[Message]) -> None:
            gone: Result | None = None
            async with limit:
                for message in group:
                    if gone is None:
                        results[message.id] = await self._deliver(message)
                        if results[message.id].outcome is Outcome.GONE:
                            gone = results[message.id]
                    else:
                        results[message.id] = gone  # the target is gone: nothing to send to

        await asyncio.gather(*(in_order(group) for group in by_target.values()))
        return [(message, results[message.id]) for message in messages]

    async def _deliver(self, message: Message) -> Result:
        try:
            return await self.channels[message.channel].deliver(message)
        except Exception as exc:
            # One channel's bug must not stop the others: treat it as a passing failure.
            log.exception("%s delivery of outbox message %s failed", message.channel, message.id)
            return Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}"[:500])

    async def _record(self, done: list[tuple[Message, Result]]) -> None:
        now = self.clock()
        async with self.db.begin() as session:
            rows = {
                r.id: r
                for r in await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id.in_([m.id for m, _ in done]))
                )
            }
            for message, result in done:
                row = rows.get(message.id)
                if row is None or (row.status, row.attempts) != (SENDING, message.attempts):
                    continue  # the lease ran out and another worker took the message over
                deliverer = self.channels[message.channel]
                row.last_error = result.error[:1000]
                if result.outcome is Outcome.SENT:
                    row.sent_at = now
                if result.outcome is Outcome.RETRY and not deliverer.retry.gives_up(
                    message.attempts
                ):
                    row.status = PENDING
                    delay = deliverer.retry.delay(message.attempts, result.retry_after)
                    row.next_attempt_at = now + timedelta(seconds=delay)
                else:
                    row.status = FINAL_STATUS.get(result.outcome, FAILED)
                    if row.status == FAILED:
                        log.warning(
                            "%s message %s given up: %s", message.channel, message.id, result.error
                        )
                await deliverer.settle(session, message, result)

    async def _prune(self) -> None:
        """Forget finished messages after a week, checking at most once an hour."""
        now = self.clock()
        if self._last_prune is not None and now - self._last_prune < timedelta(hours=1):
            return
        self._last_prune = now
        async with self.db.begin() as session:
            await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.status.in_(FINISHED),
                    OutboxMessage.created_at < now - KEEP_FINISHED,
                )
            )


def _message_of(row: OutboxMessage) -> Message:
    urgency = row.urgency or "normal"
    payload = dict(row.payload)
    return Message(row.id, row.channel, row.target_id, payload, urgency, row.topic, row.attempts)


async def _first_of(*events: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
