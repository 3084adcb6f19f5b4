"""The delivery worker: takes due push messages from the outbox and sends them.

Runs inside the web process by default (`PUSH_WORKER_IN_PROCESS=1`) and as a separate process
with `python -m server push-worker`. Any number may run together: on PostgreSQL each claims
its rows with `FOR UPDATE SKIP LOCKED`; on SQLite writers queue at `BEGIN IMMEDIATE`.

A claimed message is marked `sending` with a lease; if the process dies while sending, the
lease runs out and another worker takes the message again, so nothing is lost (a message may,
rarely, arrive twice; the notification `tag` makes the second one replace the first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from server.db.models import OutboxMessage, PushSubscription, utcnow
from server.db.session import Database
from server.notify.push_keys import load_keys
from server.notify.push_outbox import CHANNEL
from server.notify.push_sender import Delivery, Outcome, PushSender, Target
from server.settings import Settings

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, GONE, FAILED = "pending", "sending", "sent", "gone", "failed"
KEEP_FINISHED = timedelta(days=7)


@dataclass(frozen=True)
class Job:
    id: int
    attempts: int
    data: bytes
    urgency: str
    topic: str | None
    subscription_id: int
    target: Target | None  # None: the subscription is gone


class PushWorker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        sender: PushSender | None = None,
        batch_size: int = 50,
        concurrency: int = 8,
        max_attempts: int = 8,
        base_delay: float = 30.0,
        max_delay: float = 6 * 3600.0,
        lease: float = 120.0,
        poll_interval: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self._sender = sender
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease = lease
        self.poll_interval = poll_interval
        self.clock = clock
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_prune: datetime | None = None

    # ---------------------------------------------------------------------------------------
    # Waking up

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
        while not stop.is_set():
            self._wake.clear()
            handled = 0
            try:
                handled = await self.run_once()
                await self._prune()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("push delivery round failed")
            if handled >= self.batch_size:
                continue  # there is more waiting
            await _first_of(stop, self._wake, seconds=self.poll_interval)

    # ---------------------------------------------------------------------------------------
    # One round

    def sender(self) -> PushSender | None:
        if self._sender is None:
            keys = load_keys(self.settings)
            if keys is None:
                return None
            self._sender = PushSender(keys, self.settings.vapid_subject)
        return self._sender

    async def run_once(self) -> int:
        """Send every due message once. Returns how many were handled."""
        now = self.clock()
        if not await self._anything_due(now):
            return 0
        sender = self.sender()
        if sender is None:
            return 0  # push is not configured: messages wait until it is
        jobs = await self._claim(now)
        if not jobs:
            return 0
        limit = asyncio.Semaphore(self.concurrency)

        async def deliver(job: Job) -> Delivery:
            if job.target is None:
                return Delivery(Outcome.GONE, error="subscription removed")
            async with limit:
                return await sender.send(job.target, job.data, urgency=job.urgency, topic=job.topic)

        results = await asyncio.gather(*(deliver(job) for job in jobs))
        await self._record(jobs, results)
        return len(jobs)

    async def _anything_due(self, now: datetime) -> bool:
        # A cheap read first: on SQLite a write transaction would queue behind real work.
        async with self.db.read() as session:
            found = await session.scalar(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.channel == CHANNEL,
                    OutboxMessage.status.in_((PENDING, SENDING)),
                    OutboxMessage.next_attempt_at <= now,
                )
                .limit(1)
            )
        return found is not None

    async def _claim(self, now: datetime) -> list[Job]:
        async with self.db.begin() as session:
            query = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.channel == CHANNEL,
                    OutboxMessage.status.in_((PENDING, SENDING)),
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.batch_size)
            )
            if self.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = list(await session.scalars(query))
            if not rows:
                return []
            subscriptions = {
                s.id: s
                for s in await session.scalars(
                    select(PushSubscription).where(
                        PushSubscription.id.in_({r.target_id for r in rows})
                    )
                )
            }
            jobs = []
            lease_until = now + timedelta(seconds=self.lease)
            for row in rows:
                row.status = SENDING
                row.attempts += 1
                row.next_attempt_at = lease_until
                sub = subscriptions.get(row.target_id)
                jobs.append(
                    Job(
                        id=row.id,
                        attempts=row.attempts,
                        data=json.dumps(row.payload, ensure_ascii=False).encode(),
                        urgency=row.urgency or "normal",
                        topic=row.topic,
                        subscription_id=row.target_id,
                        target=Target(sub.endpoint, sub.p256dh, sub.auth) if sub else None,
                    )
                )
        return jobs

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Seconds before the next try: the push service's word if it gave one, otherwise
        exponential (30 s, 1 min, 2 min … up to 6 h) with a little jitter so that many
        messages refused together do not come back together."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        delay = min(self.base_delay * (2 ** max(attempts - 1, 0)), self.max_delay)
        return delay * (1 + random.random() * 0.1)

    async def _record(self, jobs: list[Job], results: list[Delivery]) -> None:
        now = self.clock()
        async with self.db.begin() as session:
            rows = {
                r.id: r
                for r in await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id.in_([j.id for j in jobs]))
                )
            }
            gone: set[int] = set()
            delivered: set[int] = set()
            for job, result in zip(jobs, results, strict=True):
                row = rows.get(job.id)
                if row is None:
                    continue
                row.last_error = result.error[:1000]
                if result.outcome is Outcome.SENT:
                    row.status = SENT
                    row.sent_at = now
                    delivered.add(job.subscription_id)
                elif result.outcome is Outcome.GONE:
                    row.status = GONE
                    gone.add(job.subscription_id)
                elif result.outcome is Outcome.RETRY and job.attempts < self.max_attempts:
                    row.status = PENDING
                    row.next_attempt_at = now + timedelta(
                        seconds=self.backoff(job.attempts, result.retry_after)
                    )
                else:
                    row.status = FAILED
                    log.warning("push message %s given up: %s", job.id, result.error)
            if gone:
                await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
            for subscription_id in delivered - gone:
                subscription = await session.get(PushSubscription, subscription_id)
                if subscription is not None:
                    subscription.last_success_at = now

    async def _prune(self) -> None:
        """Forget finished messages after a week, checking at most once an hour."""
        now = self.clock()
        if self._last_prune is not None and now - self._last_prune < timedelta(hours=1):
            return
        self._last_prune = now
        async with self.db.begin() as session:
            await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.channel == CHANNEL,
                    OutboxMessage.status.in_((SENT, GONE, FAILED)),
                    OutboxMessage.created_at < now - KEEP_FINISHED,
                )
            )


async def _first_of(*events: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


# -------------------------------------------------------------------------------------------
# Inside the web process


@dataclass
class RunningWorker:
    worker: PushWorker
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def close(self) -> None:
        self.stop.set()
        self.worker.wake()
        try:
            await asyncio.wait_for(self.task, timeout=15)
        except (TimeoutError, asyncio.CancelledError):
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


def start_in_process(worker: PushWorker) -> RunningWorker:
    worker._loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="push-worker")
    return RunningWorker(worker, stop, task)


# -------------------------------------------------------------------------------------------
# As its own process: python -m server push-worker


async def _wake_on_bus(settings: Settings, worker: PushWorker, stop: asyncio.Event) -> None:
    """With a shared bus (Redis, PostgreSQL) a separate worker hears of changes at once;
    without one it polls, which is enough."""
    from server.live.bus import make_bus

    bus = make_bus(settings.broadcast_url)
    try:
        await bus.start()
        async with bus.subscribe() as events:
            async for _event in events:
                if stop.is_set():
                    break
                worker.wake()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("push worker: no bus to listen to, polling only", exc_info=True)
    finally:
        with contextlib.suppress(Exception):
            await bus.stop()


async def run_worker(settings: Settings) -> None:
    db = Database(settings.database_url)
    worker = PushWorker(db, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    listener = None
    if not settings.broadcast_url.startswith("memory://"):
        listener = asyncio.create_task(_wake_on_bus(settings, worker, stop))
    if load_keys(settings) is None:
        log.warning("push worker: VAPID keys are missing, messages will wait")
    log.info("push worker started")
    try:
        await worker.run(stop)
    finally:
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener
        await db.dispose()
        log.info("push worker stopped")
