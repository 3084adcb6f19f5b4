"""The shared outbox with made-up channels: leases, back-off, giving up, one channel's trouble
kept from the others, per-target order, and waking the worker after commit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import OutboxMessage, utcnow
from server.db.session import Database
from server.live.bus import EventBus
from server.notify.delivery import Message, Outcome, Result, RetryPolicy
from server.notify.outbox import OutboxWorker, enqueue
from server.settings import Settings
from server.shared.events import RequestEvent
from server.shared.services import Services
from tests.conftest import run_async
from tests.integration.notify.test_push_worker import Clock

T = TypeVar("T")
SENT = Result(Outcome.SENT, 200)
BUSY = Result(Outcome.RETRY, 503, error="HTTP 503")
STEADY = RetryPolicy(attempts=8, base=10.0, ceiling=100.0, jitter=0.0)


class Channel:
    """A deliverer that answers as told (an exception is raised) and remembers what it saw."""

    def __init__(
        self, channel: str, *answers: Result | Exception, otherwise: Result = SENT, **retry: Any
    ) -> None:
        self.channel = channel
        self.retry = RetryPolicy(**{"base": 10.0, "ceiling": 100.0, "jitter": 0.0, **retry})
        self.answers = list(answers)
        self.otherwise = otherwise
        self.seen: list[tuple[int, int]] = []  # (message id, target id)
        self.settled: list[tuple[int, Outcome]] = []
        self.hold: asyncio.Event | None = None  # set: the next delivery waits for it
        self.called = asyncio.Event()
        self.by_target: dict[int, Result] = {}  # answers that depend on the target alone

    async def deliver(self, message: Message) -> Result:
        self.seen.append((message.id, message.target_id))
        self.called.set()
        if self.hold is not None:
            await self.hold.wait()
        if message.target_id in self.by_target:
            return self.by_target[message.target_id]
        answer = self.answers.pop(0) if self.answers else self.otherwise
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def settle(self, session: AsyncSession, message: Message, result: Result) -> None:
        self.settled.append((message.id, result.outcome))


async def put(db: Database, clock: Clock, channel: str, *targets: int) -> list[int]:
    async with db.begin() as session:
        for target in targets:
            enqueue(session, channel, target, {"n": target})
    clock.now = max(clock.now, utcnow())  # the messages are due on the worker's clock
    async with db.read() as session:
        return list(
            await session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.channel == channel)
                .order_by(OutboxMessage.id)
            )
        )


async def rows(db: Database) -> dict[int, OutboxMessage]:
    async with db.read() as session:
        return {r.id: r for r in await session.scalars(select(OutboxMessage))}


def scenario(settings: Settings, body: Callable[[Database, Clock], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(settings.database_url)
        try:
            return await body(db, Clock())
        finally:
            await db.dispose()

    return run_async(run)


def test_an_expired_lease_lets_another_worker_take_the_message(settings: Settings) -> None:
    async def body(db: Database, clock: Clock) -> None:
        [mid] = await put(db, clock, "sms", 1)
        stuck, healthy = Channel("sms", Result(Outcome.FAILED, error="too late")), Channel("sms")
        stuck.hold = asyncio.Event()
        first = OutboxWorker(db, [stuck], lease=60, clock=clock)
        second = OutboxWorker(db, [healthy], lease=60, clock=clock)

        hanging = asyncio.create_task(first.run_once())
        await asyncio.wait_for(stuck.called.wait(), timeout=10)
        assert await second.run_once() == 0  # leased to the first worker
        assert (await rows(db))[mid].status == "sending"

        clock.advance(61)
        assert await second.run_once() == 1
        assert healthy.seen == [(mid, 1)]

        stuck.hold.set()  # the first worker wakes up long after its lease
        assert await hanging == 1
        row = (await rows(db))[mid]
        assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
        assert stuck.settled == []  # its late answer changed nothing

    scenario(settings, body)


def test_back_off_doubles_up_to_its_ceiling_and_honours_retry_after(settings: Settings) -> None:
    async def body(db: Database, clock: Clock) -> list[float]:
        [mid] = await put(db, clock, "sms", 1)
        told = Result(Outcome.RETRY, 429, retry_after=7.0, error="HTTP 429")
        channel = Channel("sms", *[BUSY] * 6, told, told, otherwise=BUSY, attempts=20)
        worker = OutboxWorker(db, [channel], clock=clock)
        waits = []
        for _ in range(8):
            assert await worker.run_once() == 1
            row = (await rows(db))[mid]
            assert row.status == "pending"
            wait = (row.next_attempt_at - clock.now).total_seconds()
            assert await worker.run_once() == 0  # nothing before its time
            waits.append(wait)
            clock.advance(wait)
        return waits

    assert scenario(settings, body) == [10, 20, 40, 80, 100, 100, 7, 7]


def test_jitter_spreads_retries_without_shortening_them() -> None:
    policy = RetryPolicy(base=30.0)
    delays = {policy.delay(2) for _ in range(50)}
    assert all(60 <= d <= 66 for d in delays) and len(delays) > 1
    assert policy.delay(3, rand=lambda: 0.0) == 120
    assert policy.delay(30) <= policy.ceiling * 1.1
    assert policy.delay(1, retry_after=10 * policy.ceiling) == policy.ceiling


def test_giving_up_after_the_limit_leaves_a_visible_final_state(settings: Settings) -> None:
    async def body(db: Database, clock: Clock) -> Channel:
        [mid] = await put(db, clock, "sms", 1)
        channel = Channel("sms", otherwise=BUSY, attempts=3)
        worker = OutboxWorker(db, [channel], clock=clock)
        for _ in range(5):
            await worker.run_once()
            clock.advance(3600)
        row = (await rows(db))[mid]
        assert (row.status, row.attempts, row.last_error) == ("failed", 3, "HTTP 503")
        assert row.sent_at is None
        return channel

    channel = scenario(settings, body)
    assert len(channel.seen) == 3
    assert [outcome for _, outcome in channel.settled] == [Outcome.RETRY] * 3


def test_a_worker_that_dies_on_the_last_attempt_leaves_the_message_failed(
    settings: Settings,
) -> None:
    async def body(db: Database, clock: Clock) -> None:
        [mid] = await put(db, clock, "sms", 1)
        stuck = Channel("sms", attempts=1)
        stuck.hold = asyncio.Event()
        hanging = asyncio.create_task(OutboxWorker(db, [stuck], lease=60, clock=clock).run_once())
        await asyncio.wait_for(stuck.called.wait(), timeout=10)
        hanging.cancel()  # the process died mid-send
        with contextlib.suppress(asyncio.CancelledError):
            await hanging

        clock.advance(61)
        other = Channel("sms", attempts=1)
        assert await OutboxWorker(db, [other], clock=clock).run_once() == 0
        assert other.seen == []
        row = (await rows(db))[mid]
        assert (row.status, row.attempts) == ("failed", 1)
        assert row.last_error == "lease ran out"

    scenario(settings, body)


def test_a_failing_channel_does_not_hold_up_another(settings: Settings) -> None:
    async def body(db: Database, clock: Clock) -> None:
        broken_ids = await put(db, clock, "broken", 7, 7, 7, 7, 7)  # one target: tried in order
        [fine_id] = await put(db, clock, "fine", 1)
        broken = Channel("broken", otherwise=BUSY)
        broken.answers = [RuntimeError("a bug in the channel")]
        fine = Channel("fine")
        worker = OutboxWorker(db, [broken, fine], batch_size=2, clock=clock)

        assert await worker.run_once() == 3  # two of «broken», and «fine» all the same
        found = await rows(db)
        assert found[fine_id].status == "sent"
        assert fine.seen == [(fine_id, 1)]
        assert [found[i].status for i in broken_ids] == ["pending"] * 5
        assert found[broken_ids[0]].last_error == "RuntimeError: a bug in the channel"
        assert found[broken_ids[1]].last_error == "HTTP 503"
        assert [found[i].attempts for i in broken_ids] == [1, 1, 0, 0, 0]

    scenario(settings, body)


def test_one_targets_messages_go_in_order_and_stop_once_it_is_gone(settings: Settings) -> None:
    async def body(db: Database, clock: Clock) -> None:
        ids = await put(db, clock, "sms", 1, 2, 1, 2, 1)
        channel = Channel("sms")
        channel.by_target[2] = Result(Outcome.GONE, 410, error="HTTP 410")
        assert await OutboxWorker(db, [channel], clock=clock).run_once() == 5
        found = await rows(db)
        first, second, third, fourth, fifth = ids
        assert [m for m, target in channel.seen if target == 1] == [first, third, fifth]
        assert [m for m, target in channel.seen if target == 2] == [second]
        assert [found[i].status for i in ids] == ["sent", "gone", "sent", "gone", "sent"]
        assert found[fourth].last_error == "HTTP 410"

    scenario(settings, body)


def test_only_a_commit_that_wrote_outbox_rows_wakes_the_worker(settings: Settings) -> None:
    async def body(db: Database, clock: Clock) -> list[str]:
        woken: list[str] = []
        svc = Services(settings=settings, db=db, bus=EventBus())
        svc.outbox_committed = lambda: woken.append("woken")
        event = RequestEvent(request_id=1, entry_id=None)

        async def writes(session: AsyncSession, events: Sequence[RequestEvent]) -> None:
            enqueue(session, "sms", 1, {})

        async with db.begin() as session:
            await svc.record(session, event)  # no writer wrote anything
        assert woken == []

        svc.outbox_writers.append(writes)

        class Undone(Exception):
            pass

        try:
            async with db.begin() as session:
                await svc.record(session, event)
                raise Undone
        except Undone:
            pass
        assert woken == []  # rolled back: nothing to deliver

        async with db.begin() as session:
            await svc.record(session, event)
            assert woken == []  # not before the commit
        return woken

    assert scenario(settings, body) == ["woken"]
