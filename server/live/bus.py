"""The event bus behind our own small interface.

Publishing never raises into a request handler and never waits on a broken connection:
the change is already committed, and clients catch up from the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.live.events import RequestEvent

log = logging.getLogger(__name__)


class EventBus:
    """In-process fan-out (BROADCAST_URL=memory://)."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._queues: set[asyncio.Queue[RequestEvent | None]] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for queue in list(self._queues):
            queue.put_nowait(None)

    async def publish(self, event: RequestEvent) -> None:
        for queue in list(self._queues):
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[RequestEvent]]:
        queue: asyncio.Queue[RequestEvent | None] = asyncio.Queue()
        self._queues.add(queue)

        async def events() -> AsyncIterator[RequestEvent]:
            while (event := await queue.get()) is not None:
                yield event

        try:
            yield events()
        finally:
            self._queues.discard(queue)


def make_bus(url: str) -> EventBus:
    return EventBus(url)
