"""Warn before a deadline passes.

A periodic task finds requests whose work is still owed and whose warning time
(`requests.deadlines.warn_at`) has come, writes a «deadline_warning» timeline entry and sets
`due_warned_at` in one transaction, records the event (the push outbox tells the dispatchers)
and announces it after commit. Several processes may run the watch at once: the update only
takes a request whose `due_warned_at` is still empty, so each request is warned once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update

from server.db.models import Request, utcnow
from server.requests.deadlines import warn_at
from server.requests.timeline import event_of, timeline_entry
from server.requests.workflow import OPEN_WORK_STATES
from server.shared.events import RequestEvent
from server.shared.outage import OutagePause, is_outage
from server.shared.roles import SYSTEM_ACTOR
from server.shared.services import Services

log = logging.getLogger(__name__)

KIND = "deadline_warning"
DEFAULT_INTERVAL = 60.0
_OPEN_WORK = [s.value for s in OPEN_WORK_STATES]


def interval_of(svc: Services) -> float:
    """Seconds between rounds: settings.extra["deadline_watch_seconds"] or the environment
    (DEADLINE_WATCH_SECONDS); 0 turns the watch off."""
    raw = svc.settings.extra.get("deadline_watch_seconds") or os.environ.get(
        "DEADLINE_WATCH_SECONDS", ""
    )
    try:
        return float(raw) if raw != "" else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


async def due_for_warning(svc: Services, now: datetime) -> list[int]:
    """Requests to warn about now, most urgent first."""
    # Every open, unwarned request not yet due: a few thousand rows at most, and no bound on
    # the allowance, so a deadline edited since filing is still honoured.
    async with svc.db.read() as session:
        rows = (
            await session.execute(
                select(Request.id, Request.created_at, Request.due_at)
                .where(
                    Request.state.in_(_OPEN_WORK),
                    Request.due_warned_at.is_(None),
                    Request.due_at > now,
                )
                .order_by(Request.due_at)
            )
        ).all()
    return [request_id for request_id, filed, due in rows if warn_at(filed, due) <= now]


async def warn(svc: Services, request_id: int, now: datetime) -> RequestEvent | None:
    """Warn about one request, unless someone (another process) already has."""
    async with svc.db.begin() as session:
        taken = await session.execute(
            update(Request)
            .where(
                Request.id == request_id,
                Request.due_warned_at.is_(None),
                Request.state.in_(_OPEN_WORK),
                Request.due_at > now,
            )
            .values(due_warned_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        request = await session.get(Request, request_id)
        assert request is not None
        entry = timeline_entry(
            request,
            SYSTEM_ACTOR,
            KIND,
            data={"due_at": request.due_at.isoformat()},
            at=now,
        )
        session.add(entry)
        await session.flush()
        event = replace(event_of(request, entry), kind=KIND)
        await svc.record(session, event)
    return event


async def run_once(svc: Services, *, now: datetime | None = None) -> list[RequestEvent]:
    """One round: warn about everything due for a warning; returns what was announced."""
    now = now or utcnow()
    events: list[RequestEvent] = []
    for request_id in await due_for_warning(svc, now):
        try:
            event = await warn(svc, request_id, now)
        except Exception as exc:
            if is_outage(exc):
                raise  # the rest would fail too: the round ends and the watch pauses
            log.exception("deadline warning for request %s failed", request_id)
            continue
        if event is not None:
            events.append(event)
            await svc.announce([event])
    return events


async def watch(svc: Services, interval: float, stop: asyncio.Event) -> None:
    """Rounds every `interval` seconds until `stop` is set; a failed round is logged only.
    While the database does not answer, rounds pause with growing waits: a warning is late by
    at most that wait, never lost, because the next round finds it still due."""
    pause = OutagePause("deadline watch", log)
    wait = interval
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
        if stop.is_set():
            break
        wait = interval
        try:
            await run_once(svc)
            pause.succeeded()
        except Exception as exc:
            paused_for = pause.failed(exc, interval)
            if paused_for is None:
                log.exception("deadline watch round failed")
            else:
                wait = paused_for


class Watcher:
    """The running task, owned by the app's lifespan."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        interval = interval_of(self.svc)
        if interval > 0:
            self.task = asyncio.create_task(watch(self.svc, interval, self.stop))

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
