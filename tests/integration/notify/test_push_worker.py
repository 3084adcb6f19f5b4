"""The delivery worker against a push service that refuses: 429 and 503 are retried later
(Retry-After honoured), 410 removes the subscription, and it gives up after N attempts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from server.app import create_app
from server.cli import main
from server.db.models import OutboxMessage, PushSubscription, utcnow
from server.db.session import Database
from server.notify.delivery import RetryPolicy
from server.notify.outbox import OutboxWorker
from server.notify.push_sender import PushDeliverer
from server.settings import Settings
from tests.conftest import run_async
from tests.http import people
from tests.integration.notify.test_push_delivery import act, file_request, push_settings, subscribe
from tests.push_service import PushService, push_service
from tests.server_process import ROOT
from tests.world import World

T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def push_worker(
    db: Database, settings: Settings, *, max_attempts: int = 8, **kw: Any
) -> OutboxWorker:
    """An outbox worker that serves the push channel only."""
    push = PushDeliverer.from_settings(db, settings)
    assert push is not None
    push.retry = RetryPolicy(attempts=max_attempts)
    return OutboxWorker(db, [push], **kw)


def with_worker(
    settings: Settings,
    scenario: Callable[[OutboxWorker, Clock, Database], Awaitable[T]],
    **kw: Any,
) -> T:
    """Run a scenario with a worker whose clock the test moves (one event loop, one pool)."""

    async def run() -> T:
        db = Database(settings.database_url)
        clock = Clock()
        try:
            return await scenario(push_worker(db, settings, clock=clock, **kw), clock, db)
        finally:
            await db.dispose()

    return run_async(run)


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def subscription_ids(db: Database) -> set[int]:
    async with db.read() as session:
        return set(await session.scalars(select(PushSubscription.id)))


def new_request_for_dispatcher(world: World, service: PushService, settings: Settings) -> int:
    """A resident files; the dispatcher's device gets one message in the outbox."""
    with people(create_app(settings), "resident", "dispatcher") as clients:
        subscribe(clients["dispatcher"], service, "dispatcher")
        return file_request(clients["resident"], world)


def test_429_waits_as_told_and_503_backs_off_then_the_message_arrives(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with push_service(settings.vapid_public_key or "") as service:
        rid = new_request_for_dispatcher(world, service, settings)
        service.answer("dispatcher", (429, {"Retry-After": "120"}), (503, {}))

        async def scenario(worker: OutboxWorker, clock: Clock, db: Database) -> None:
            start = clock.now
            assert await worker.run_once() == 1
            [row] = await outbox(db)
            assert (row.status, row.attempts) == ("pending", 1)
            assert row.next_attempt_at == start + timedelta(seconds=120)

            clock.advance(60)  # too early: the push service asked for two minutes
            assert await worker.run_once() == 0
            assert len(service.attempts) == 1

            clock.advance(61)
            assert await worker.run_once() == 1
            [row] = await outbox(db)
            assert (row.status, row.attempts) == ("pending", 2)
            wait = (row.next_attempt_at - clock.now).total_seconds()
            assert 60 <= wait <= 66, wait  # the second try backs off twice the base delay

            clock.advance(wait + 1)
            assert await worker.run_once() == 1
            [row] = await outbox(db)
            assert (row.status, row.attempts) == ("sent", 3)
            assert row.sent_at == clock.now

        with_worker(settings, scenario)
        assert service.attempts == [("dispatcher", 429), ("dispatcher", 503), ("dispatcher", 201)]
        assert service.problems == []
        [delivered] = service.to("dispatcher")
        assert delivered.payload["request_id"] == rid
        assert delivered.topic == f"req-{rid}"


def test_gives_up_after_the_last_attempt(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with push_service(settings.vapid_public_key or "") as service:
        new_request_for_dispatcher(world, service, settings)
        service.answer("dispatcher", *[(503, {})] * 10)

        async def scenario(worker: OutboxWorker, clock: Clock, db: Database) -> None:
            for _ in range(5):
                await worker.run_once()
                clock.advance(3600)
            [row] = await outbox(db)
            assert (row.status, row.attempts) == ("failed", 3)
            assert row.last_error.startswith("503")

        with_worker(settings, scenario, max_attempts=3)
        assert service.attempts == [("dispatcher", 503)] * 3
        assert service.delivered == []


def test_410_removes_the_subscription_and_later_news_skips_it(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with push_service(settings.vapid_public_key or "") as service:
        app = create_app(settings)
        with people(app, "resident", "dispatcher") as clients:
            subscribe(clients["resident"], service, "old-phone")
            subscribe(clients["resident"], service, "new-phone")
            rid = file_request(clients["resident"], world)
            act(clients["dispatcher"], rid, "assign", contractor_id=world.orgs["c1"])
        service.answer("old-phone", (410, {}))

        async def first(worker: OutboxWorker, clock: Clock, db: Database) -> set[int]:
            assert await worker.run_once() == 2
            statuses = sorted(row.status for row in await outbox(db))
            assert statuses == ["gone", "sent"]
            return await subscription_ids(db)

        remaining = with_worker(settings, first)
        assert len(remaining) == 1

        with people(app, "dispatcher") as clients:
            act(clients["dispatcher"], rid, "decline", reason="Ошибочная заявка")

        async def second(worker: OutboxWorker, clock: Clock, db: Database) -> None:
            await worker.run_once()
            rows = await outbox(db)
            assert len(rows) == 3  # one new message: for the phone that still exists
            assert rows[-1].target_id in remaining

        with_worker(settings, second)
        assert [t for t in service.titles("new-phone") if "Отклонена" in t]
        assert service.attempts.count(("old-phone", 410)) == 1
        assert len([a for a in service.attempts if a[0] == "old-phone"]) == 1


def test_a_message_for_a_removed_device_is_dropped_without_sending(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with push_service(settings.vapid_public_key or "") as service:
        app = create_app(settings)
        with people(app, "resident", "dispatcher") as clients:
            device = subscribe(clients["dispatcher"], service, "dispatcher")
            file_request(clients["resident"], world)
            response = clients["dispatcher"].post(
                f"/push/devices/{device}/delete",
                headers={"x-csrftoken": clients["dispatcher"].cookies["zayavka_csrf"]},
            )
            assert response.status_code == 200

        async def scenario(worker: OutboxWorker, clock: Clock, db: Database) -> None:
            await worker.run_once()
            [row] = await outbox(db)
            assert row.status == "gone"

        with_worker(settings, scenario)
        assert service.attempts == []


def test_two_workers_never_send_the_same_message_twice(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with push_service(settings.vapid_public_key or "") as service:
        with people(create_app(settings), "resident", "dispatcher") as clients:
            subscribe(clients["dispatcher"], service, "dispatcher")
            for _ in range(12):
                file_request(clients["resident"], world, category="window")

        async def scenario(worker: OutboxWorker, clock: Clock, db: Database) -> None:
            other = push_worker(Database(settings.database_url), settings, batch_size=3)
            mine = push_worker(db, settings, batch_size=3)
            try:
                for _ in range(6):
                    await asyncio.gather(mine.run_once(), other.run_once())
            finally:
                await other.db.dispose()
            assert {row.status for row in await outbox(db)} == {"sent"}

        with_worker(settings, scenario)
        assert len(service.attempts) == 12
        assert len({d.payload["request_id"] for d in service.delivered}) == 12


def test_a_separate_worker_process_delivers_and_stops_cleanly(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "VAPID_PRIVATE_KEY": settings.vapid_private_key or "",
        "VAPID_PUBLIC_KEY": settings.vapid_public_key or "",
        "VAPID_SUBJECT": settings.vapid_subject,
        "BROADCAST_URL": "memory://",
    }
    with push_service(settings.vapid_public_key or "") as service:
        worker = subprocess.Popen(
            [sys.executable, "-m", "server", "push-worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            rid = new_request_for_dispatcher(world, service, settings)
            service.wait_for(1, timeout=20)
        finally:
            worker.send_signal(signal.SIGTERM)
            output = worker.communicate(timeout=20)[0].decode()
        assert worker.returncode == 0, output
        assert "outbox worker stopped" in output
        assert service.problems == []
        [delivered] = service.to("dispatcher")
        assert delivered.payload["request_id"] == rid


def test_worker_is_the_general_name_of_the_push_worker_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("worker", "push-worker"):
        with pytest.raises(SystemExit) as exited:
            main([name, "--help"])
        assert exited.value.code == 0
        assert "отдельным процессом" in capsys.readouterr().out
