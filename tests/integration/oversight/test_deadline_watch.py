"""Dispatchers are warned before a deadline passes: once per request, in one transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.app import create_app
from server.db.models import Request, TimelineEntry, utcnow
from server.db.session import Database
from server.live.bus import EventBus
from server.oversight import deadline_watch
from server.requests.filing import NewRequest, file_request
from server.requests.labels import entry_body
from server.shared.events import RequestEvent
from server.shared.roles import Actor, Role
from server.shared.services import Services
from tests.conftest import run_async
from tests.http import login
from tests.world import World


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


async def _file(svc: Services, world: World, category: str, filed: datetime, due: datetime) -> int:
    resident = Actor(world.users["resident"], Role.RESIDENT)
    outcome = await file_request(
        svc,
        resident,
        NewRequest(
            building_id=world.buildings["lenina12"],
            category_id=world.categories[category],
            description="Течёт труба на кухне",
        ),
    )
    async with svc.db.begin() as session:
        await session.execute(
            update(Request)
            .where(Request.id == outcome.request.id)
            .values(created_at=filed, due_at=due)
        )
    return outcome.request.id


class Recorded:
    """What the watch hands to the outbox (inside the transaction) and to the bus (after)."""

    def __init__(self) -> None:
        self.recorded: list[RequestEvent] = []
        self.announced: list[RequestEvent] = []

    async def writer(self, session: AsyncSession, events: Sequence[RequestEvent]) -> None:
        for event in events:
            if event.kind != deadline_watch.KIND:
                continue  # filing the test's requests
            # Runs inside the transaction: the entry it names is already there.
            entry = await session.get(TimelineEntry, event.entry_id)
            assert entry is not None and entry.kind == event.kind
            self.recorded.append(event)


async def _scenario(world: World, body: Any) -> Any:
    db = Database(world.settings.database_url)
    bus = EventBus()
    svc = Services(settings=world.settings, db=db, bus=bus)
    seen = Recorded()
    svc.outbox_writers.append(seen.writer)
    try:
        async with bus.subscribe() as events:

            async def listen() -> None:
                async for event in events:
                    if event.kind == deadline_watch.KIND:
                        seen.announced.append(event)

            listener = asyncio.create_task(listen())
            result = await body(svc)
            await asyncio.sleep(0.05)
            listener.cancel()
        return result, seen
    finally:
        await db.dispose()


async def _entries(svc: Services, request_id: int) -> list[TimelineEntry]:
    async with svc.db.read() as session:
        return list(
            await session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.request_id == request_id)
                .order_by(TimelineEntry.id)
            )
        )


async def _request(svc: Services, request_id: int) -> Request:
    async with svc.db.read() as session:
        request = await session.get(Request, request_id)
        assert request is not None
        return request


def test_request_past_its_warning_time_is_warned_once(world: World) -> None:
    now = utcnow()

    async def body(svc: Services) -> Any:
        # A 30-minute emergency filed 25 minutes ago: the warning comes 10 minutes before.
        due_soon = await _file(svc, world, "leak", now - timedelta(minutes=25), now + m(5))
        version = (await _request(svc, due_soon)).version
        first = await deadline_watch.run_once(svc, now=now)
        second = await deadline_watch.run_once(svc, now=now + m(1))
        return (
            due_soon,
            version,
            first,
            second,
            await _entries(svc, due_soon),
            await _request(svc, due_soon),
        )

    (request_id, version, first, second, entries, request), seen = run_async(_scenario, world, body)
    assert [e.request_id for e in first] == [request_id] and second == []
    warnings = [e for e in entries if e.kind == "deadline_warning"]
    assert len(warnings) == 1
    warning = warnings[0]
    assert warning.actor_role == "system" and warning.actor_id is None
    # Stored as its kind and the deadline; worded in each reader's language when shown.
    assert warning.at == now and warning.text == ""
    assert "Срок выполнения истекает" in entry_body(warning)
    assert request.due_warned_at == now
    assert request.version == version  # a warning changes nothing anyone is editing
    assert [e.kind for e in seen.recorded] == ["deadline_warning"]
    assert [(e.request_id, e.entry_id) for e in seen.announced] == [(request_id, warning.id)]
    assert seen.announced[0].organisation_id == world.orgs["uk1"]


@pytest.mark.parametrize(
    ("category", "filed_ago", "due_in", "warned"),
    [
        # leak, 30 min allowed: warned from 10 min before the deadline.
        ("leak", 19, 11, False),
        ("leak", 21, 9, True),
        # «other», 8 days allowed: warned from 20 % of that (38.4 h) before the deadline.
        ("other", 60 * 24 * 6, 60 * 24 * 2, False),
        ("other", 60 * 24 * 6.5, 60 * 24 * 1.5, True),
        # Already past its deadline: it shows as overdue instead.
        ("leak", 40, -10, False),
    ],
    ids=["leak-not-yet", "leak-due", "ordinary-not-yet", "ordinary-due", "already-overdue"],
)
def test_warning_time_follows_the_deadline_rule(
    world: World, category: str, filed_ago: float, due_in: float, warned: bool
) -> None:
    now = utcnow()

    async def body(svc: Services) -> Any:
        request_id = await _file(svc, world, category, now - m(filed_ago), now + m(due_in))
        await deadline_watch.run_once(svc, now=now)
        return await _request(svc, request_id)

    request, _seen = run_async(_scenario, world, body)
    assert (request.due_warned_at is not None) is warned


def test_finished_work_is_not_warned_about(world: World) -> None:
    now = utcnow()

    async def body(svc: Services) -> Any:
        ids = []
        for state in ("done", "verified", "closed", "declined", "cancelled"):
            request_id = await _file(svc, world, "leak", now - m(25), now + m(5))
            async with svc.db.begin() as session:
                await session.execute(
                    update(Request).where(Request.id == request_id).values(state=state)
                )
            ids.append(request_id)
        return await deadline_watch.run_once(svc, now=now)

    events, seen = run_async(_scenario, world, body)
    assert events == [] and seen.recorded == []


def test_two_watchers_at_once_warn_once(world: World) -> None:
    now = utcnow()

    async def body(svc: Services) -> Any:
        request_id = await _file(svc, world, "leak", now - m(25), now + m(5))
        other = Services(settings=svc.settings, db=Database(svc.settings.database_url), bus=svc.bus)
        try:
            results = await asyncio.gather(
                deadline_watch.run_once(svc, now=now), deadline_watch.run_once(other, now=now)
            )
        finally:
            await other.db.dispose()
        return results, await _entries(svc, request_id)

    (results, entries), _seen = run_async(_scenario, world, body)
    assert sum(len(r) for r in results) == 1
    assert [e.kind for e in entries].count("deadline_warning") == 1


def test_running_app_warns_by_itself_and_the_request_page_shows_it(world: World) -> None:
    now = utcnow()

    async def body(svc: Services) -> int:
        return await _file(svc, world, "leak", now - m(25), now + m(5))

    request_id, _seen = run_async(_scenario, world, body)
    settings = dataclasses.replace(world.settings, extra={"deadline_watch_seconds": "0.2"})
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:

            async def warned(svc: Services) -> bool:
                return (await _request(svc, request_id)).due_warned_at is not None

            done, _ = run_async(_scenario, world, warned)
            if done:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the watch did not warn within 10 s")
        login(client, "dispatcher")
        page = client.get(f"/requests/{request_id}").text
        assert "Срок скоро истекает" in page


def test_watch_can_be_turned_off(world: World) -> None:
    settings = dataclasses.replace(world.settings, extra={"deadline_watch_seconds": "0"})
    svc = Services(settings=settings, db=None, bus=EventBus())  # type: ignore[arg-type]
    watcher = deadline_watch.Watcher(svc)

    async def go() -> None:
        watcher.start()
        assert watcher.task is None
        await watcher.close()

    asyncio.run(go())
