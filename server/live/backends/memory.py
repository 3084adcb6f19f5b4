"""One process, no network."""

from __future__ import annotations

import asyncio
from typing import Any

from broadcaster import BroadcastBackend, Event


class MemoryBackend(BroadcastBackend):
    """One process: broadcaster's own memory backend cannot fail, so nothing to add."""

    def __init__(self, url: str) -> None:
        from broadcaster._backends.memory import MemoryBackend as Stock

        self._stock = Stock(url)
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def connect(self) -> None:
        await self._stock.connect()
        self.connected.set()

    async def disconnect(self) -> None:
        await self._stock.disconnect()

    async def subscribe(self, channel: str) -> None:
        await self._stock.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        await self._stock.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._stock.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._stock.next_published()
