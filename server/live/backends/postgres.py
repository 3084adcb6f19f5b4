"""PostgreSQL LISTEN/NOTIFY on a listening connection of its own."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from broadcaster import Event

from server.live.backends.supervised import LISTEN_NAME, PUBLISH_NAME, SupervisedBackend
from server.shared.outage import Backoff


class PostgresBackend(SupervisedBackend):
    """LISTEN/NOTIFY, with LISTEN and NOTIFY on separate connections."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._conn: Any = None  # asyncpg.Connection while listening
        self._pool: Any = None  # asyncpg.Pool for publishing

    async def connect(self) -> None:
        import asyncpg

        # min_size=0: creating the pool opens nothing, so a database that is down at start
        # does not stop the app from starting.
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=0,
            max_size=2,
            timeout=5,
            command_timeout=5,
            max_inactive_connection_lifetime=60,
            server_settings={"application_name": self.connection_name(PUBLISH_NAME)},
        )
        self._supervisor = asyncio.create_task(self._supervise(), name="bus-postgres-listen")

    async def disconnect(self) -> None:
        await self._stop_supervisor()
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.add_listener(channel, self._on_notify)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(Exception):
                await self._conn.remove_listener(channel, self._on_notify)

    async def publish(self, channel: str, message: Any) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_notify($1, $2)", channel, message)

    def _on_notify(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        self._queue.put_nowait(Event(channel, payload))

    async def _listen(self, backoff: Backoff) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            self.url,
            timeout=5,
            server_settings={"application_name": self.connection_name(LISTEN_NAME)},
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _c: lost.set())
        try:
            for channel in self._channels:
                await conn.add_listener(channel, self._on_notify)
            self._conn = conn
            self._came_up(backoff)
            while not lost.is_set() and not conn.is_closed():
                try:
                    await asyncio.wait_for(lost.wait(), timeout=self.health_interval)
                except TimeoutError:
                    # A half-open TCP connection delivers nothing and reports nothing.
                    await conn.fetchval("SELECT 1", timeout=5)
            raise ConnectionError("the listening connection was closed")
        finally:
            self._conn = None
            conn.terminate()
