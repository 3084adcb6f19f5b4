"""The event bus between processes, behind our own small interface.

Publishing never raises into a request handler and never waits long on a broken connection:
the change is already committed. A failed publish is delivered to this process's own
subscribers directly, and a `Resync` is broadcast once the bus carries messages again, so other
processes' pages catch up too. A dropped listening connection is the backends' business
(`server.live.backends`): they reconnect and hand every subscriber a `Resync`.

Messages carry ids only (`RequestEvent`); receivers re-read everything from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from broadcaster import Broadcast

from server.live.backends import SupervisedBackend, backend_for, split_url
from server.shared.events import (
    AccountEvent,
    CallEvent,
    IncidentEvent,
    RequestEvent,
    RequestsChanged,
)
from server.shared.outage import Backoff

log = logging.getLogger(__name__)

PEER_RESYNC_PAYLOAD = '{"resync":true,"reason":"publish-gap"}'


@dataclass(frozen=True, slots=True)
class Resync:
    """Something may have been missed: re-read what you show from the database."""

    reason: str = "reconnect"


Event = RequestEvent | RequestsChanged | AccountEvent | CallEvent | IncidentEvent
BusMessage = Event | Resync


def parse_message(raw: str) -> BusMessage | None:
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("bus: ignoring a malformed message %.200r", raw)
        return None
    if not isinstance(data, dict):
        return None
    if data.get("resync"):
        return Resync(str(data.get("reason") or "peer"))
    if data.get("kind") == "account":
        user_id = data.get("user_id")
        return AccountEvent(user_id) if isinstance(user_id, int) else None
    if data.get("kind") == "call":
        call_id = data.get("call_id")
        return CallEvent(call_id) if isinstance(call_id, int) else None
    if data.get("kind") == "incident":
        incident_id = data.get("incident_id")
        return IncidentEvent(incident_id) if isinstance(incident_id, int) else None
    if data.get("kind") == "requests":
        try:
            return RequestsChanged.from_rows(data["rows"])
        except (KeyError, TypeError, ValueError):
            log.warning("bus: ignoring a malformed batch %.200r", raw)
            return None
    try:
        return RequestEvent.loads(raw)
    except (TypeError, ValueError):
        log.warning("bus: ignoring a malformed event %.200r", raw)
        return None


class Subscription:
    """What one subscriber receives. Bounded: a subscriber that falls behind gets one
    `Resync` instead of an ever-growing queue."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[BusMessage | None] = asyncio.Queue(size)

    def deliver(self, message: BusMessage | None) -> None:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(Resync("overflow") if message is not None else None)

    async def get(self) -> BusMessage | None:
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[BusMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[BusMessage]:
        while (message := await self._queue.get()) is not None:
            yield message


class EventBus:
    """publish(event) after commit; subscribe() to receive `RequestEvent`s and `Resync`s.

    BROADCAST_URL chooses the carrier: memory:// (one process), postgresql://… (LISTEN/NOTIFY)
    or redis://….
    """

    publish_timeout = 1.0  # seconds a request handler may spend telling the bus
    pause_after_failure = 2.0  # seconds publishing is skipped after a failure
    start_wait = 3.0  # seconds start() waits for the first connection before serving anyway

    def __init__(self, url: str = "memory://", *, queue_size: int = 1000) -> None:
        self.url = url
        self.scheme, backend_url, self.channel = split_url(url)
        self.backend = backend_for(self.scheme, backend_url)
        if isinstance(self.backend, SupervisedBackend):
            self.backend.label = self.channel
        self._broadcast = Broadcast(backend=self.backend)
        self._subscriptions: set[Subscription] = set()
        self._queue_size = queue_size
        self._pump: asyncio.Task[None] | None = None
        self._repair: asyncio.Task[None] | None = None
        self._paused_until = 0.0
        self._started = False
        self.published = 0
        self.dropped = 0

    @property
    def connected(self) -> bool:
        return self.backend.connected.is_set()

    async def start(self) -> None:
        if self._started:
            return
        await self._broadcast.connect()
        subscribed = asyncio.Event()
        self._pump = asyncio.create_task(self._run_pump(subscribed), name="bus-pump")
        await subscribed.wait()
        self._started = True
        try:
            await asyncio.wait_for(self.backend.connected.wait(), self.start_wait)
        except TimeoutError:
            log.warning("bus: %s is not reachable yet; serving, will keep trying", self.scheme)

    async def stop(self) -> None:
        for task in (self._repair, self._pump):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._repair = self._pump = None
        for subscription in list(self._subscriptions):
            subscription.deliver(None)
        if self._started:
            with contextlib.suppress(Exception):
                await self._broadcast.disconnect()
        self._started = False

    async def _run_pump(self, subscribed: asyncio.Event) -> None:
        async with self._broadcast.subscribe(self.channel) as subscriber:
            subscribed.set()
            async for event in subscriber:  # type: ignore[union-attr]
                if event is None:
                    continue
                message = parse_message(event.message)
                if message is not None:
                    self._deliver(message)

    def _deliver(self, message: BusMessage) -> None:
        for subscription in list(self._subscriptions):
            subscription.deliver(message)

    async def publish(self, event: Event) -> None:
        """Tell every process. Never raises; waits at most `publish_timeout`."""
        if not self._started:
            self._deliver(event)
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._paused_until:
            self._fallback(event)
            return
        try:
            await asyncio.wait_for(
                self._broadcast.publish(self.channel, event.dumps()), self.publish_timeout
            )
            self.published += 1
        except Exception as exc:
            log.warning("bus: publish failed (%s: %s); pages catch up", type(exc).__name__, exc)
            self._paused_until = loop.time() + self.pause_after_failure
            self._fallback(event)

    def _fallback(self, event: Event) -> None:
        # This process's pages still hear of it; the others get a resync once the bus works.
        self.dropped += 1
        self._deliver(event)
        if self._repair is None or self._repair.done():
            self._repair = asyncio.create_task(self._broadcast_resync(), name="bus-repair")

    async def _broadcast_resync(self) -> None:
        backoff = Backoff(first=self.pause_after_failure)
        while True:
            await asyncio.sleep(backoff.next())
            try:
                await asyncio.wait_for(
                    self._broadcast.publish(self.channel, PEER_RESYNC_PAYLOAD), self.publish_timeout
                )
            except Exception as exc:
                log.info("bus: still cannot publish (%s)", type(exc).__name__)
                continue
            self._paused_until = 0.0
            log.info("bus: publishing again; asked every process to resync")
            return

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription(self._queue_size)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)


def make_bus(url: str) -> EventBus:
    return EventBus(url or os.environ.get("BROADCAST_URL", "memory://"))


__all__ = [
    "BusMessage",
    "EventBus",
    "RequestEvent",
    "Resync",
    "Subscription",
    "make_bus",
]
