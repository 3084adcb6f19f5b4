"""Redis pub/sub on a connection of its own."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from broadcaster import Event

from server.live.backends.supervised import LISTEN_NAME, PUBLISH_NAME, SupervisedBackend
from server.shared.outage import Backoff


class RedisBackend(SupervisedBackend):
    """Redis pub/sub: a pub/sub connection of its own, and a separate client for publishing."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._publisher: Any = None
        self._pubsub: Any = None
        self._has_channels = asyncio.Event()

    async def connect(self) -> None:
        from redis import asyncio as redis

        self._publisher = redis.Redis.from_url(
            self.url,
            client_name=self.connection_name(PUBLISH_NAME),
            socket_connect_timeout=2,
            socket_timeout=2,
        )
        self._supervisor = asyncio.create_task(self._supervise(), name="bus-redis-listen")

    async def disconnect(self) -> None:
        await self._stop_supervisor()
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.aclose()
            self._publisher = None

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        self._has_channels.set()
        if self._pubsub is not None and self.connected.is_set():
            await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None and self.connected.is_set():
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def _listen(self, backoff: Backoff) -> None:
        from redis import asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        await self._has_channels.wait()
        # No retries: redis-py would otherwise reconnect and re-subscribe on its own, and the
        # messages published in between would vanish without anybody noticing.
        client = redis.Redis.from_url(
            self.url,
            client_name=self.connection_name(LISTEN_NAME),
            socket_connect_timeout=5,
            socket_keepalive=True,
            health_check_interval=int(self.health_interval),
            retry=Retry(NoBackoff(), 0),
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            # A server that accepts but never answers must not hang the supervisor.
            await asyncio.wait_for(pubsub.subscribe(*self._channels), 10)
            self._pubsub = pubsub
            self._came_up(backoff)
            while True:
                message = await pubsub.get_message(timeout=self.health_interval)
                if message and message.get("type") == "message":
                    channel, data = message["channel"], message["data"]
                    self._queue.put_nowait(
                        Event(
                            channel.decode() if isinstance(channel, bytes) else channel,
                            data.decode() if isinstance(data, bytes) else str(data),
                        )
                    )
        finally:
            self._pubsub = None
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()
