"""The event bus between processes, behind our own small interface.

`broadcaster` carries the messages (its `Broadcast` fans them out inside a process); the
backends for PostgreSQL and Redis are ours, because the stock ones share one connection between
LISTEN and publishing (upstream issue #22) and never reconnect: a dropped connection silently
stops every live page. Ours

- listen on a connection of their own and publish through another (a small pool);
- notice a dropped listening connection (asyncpg's termination callback, a periodic health
  query, Redis read errors), reconnect with capped, jittered exponential backoff, and then
  hand every subscriber a `Resync`: whatever was published meanwhile is lost to the bus, but
  not to the database, from which subscribers catch up.

Publishing never raises into a request handler and never waits long on a broken connection:
the change is already committed. A failed publish is delivered to this process's own
subscribers directly, and a `Resync` is broadcast once the bus carries messages again, so other
processes' pages catch up too.

Messages carry ids only (`RequestEvent`); receivers re-read everything from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from broadcaster import Broadcast, BroadcastBackend, Event

from server.shared.events import RequestEvent

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "zayavka_events"
RESYNC_PAYLOAD = '{"resync":true,"reason":"reconnect"}'
PEER_RESYNC_PAYLOAD = '{"resync":true,"reason":"publish-gap"}'
# Tags our bus connections in pg_stat_activity / CLIENT LIST, so operators (and the tests that
# cut them on purpose) can tell them apart.
LISTEN_NAME = "zayavka-bus-listen"
PUBLISH_NAME = "zayavka-bus-publish"


@dataclass(frozen=True, slots=True)
class Resync:
    """Something may have been missed: re-read what you show from the database."""

    reason: str = "reconnect"


BusMessage = RequestEvent | Resync


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
    try:
        return RequestEvent.loads(raw)
    except (TypeError, ValueError):
        log.warning("bus: ignoring a malformed event %.200r", raw)
        return None


class Backoff:
    """Capped exponential backoff with jitter, so that many processes don't reconnect in step."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self.attempt = 0

    def reset(self) -> None:
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2**self.attempt)
        self.attempt = min(self.attempt + 1, 16)
        return delay * random.uniform(0.5, 1.0)


# --------------------------------------------------------------------------------------------
# Backends


class _SupervisedBackend(BroadcastBackend):
    """Shared shape of our networked backends: one supervised listening loop, one queue."""

    health_interval = 10.0

    def __init__(self, url: str) -> None:
        self.url = url
        self.connected = asyncio.Event()
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._supervisor: asyncio.Task[None] | None = None
        self.reconnects = 0  # how many times the listening connection came back (for tests)
        self.label = ""  # appended to connection names: which channel this process serves

    def connection_name(self, base: str) -> str:
        return f"{base}.{self.label}"[:63] if self.label else base

    async def next_published(self) -> Event:
        return await self._queue.get()

    def _resync_all(self) -> None:
        for channel in self._channels:
            self._queue.put_nowait(Event(channel, RESYNC_PAYLOAD))

    async def _supervise(self) -> None:
        backoff = Backoff()
        while True:
            try:
                await self._listen(backoff)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus: listening connection lost (%s: %s)", type(exc).__name__, exc)
            finally:
                self.connected.clear()
            delay = backoff.next()
            log.info("bus: reconnecting in %.1f s", delay)
            await asyncio.sleep(delay)

    async def _listen(self, backoff: Backoff) -> None:
        raise NotImplementedError

    def _came_up(self, backoff: Backoff) -> None:
        backoff.reset()
        self.reconnects += 1
        self.connected.set()
        # Every (re)connection may follow a gap: tell subscribers to catch up. On the first
        # one this reaches nobody or a page that would re-read anyway.
        self._resync_all()
        log.info("bus: listening on %s", ", ".join(sorted(self._channels)))

    async def _stop_supervisor(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor
            self._supervisor = None


class PostgresBackend(_SupervisedBackend):
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


class RedisBackend(_SupervisedBackend):
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


def split_url(url: str) -> tuple[str, str, str]:
    """(scheme, backend URL, channel). `?channel=NAME` picks a channel: several deployments
    (or test runs) can then share one Redis, whose pub/sub ignores database numbers."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    query = dict(parse_qsl(parts.query))
    channel = query.pop("channel", "") or DEFAULT_CHANNEL
    if scheme == "postgres":
        scheme = "postgresql"
    clean = urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
    return scheme, clean, channel


def _backend(scheme: str, url: str) -> BroadcastBackend:
    if scheme == "memory":
        return MemoryBackend(url)
    if scheme == "postgresql":
        return PostgresBackend(url)
    if scheme in ("redis", "rediss"):
        return RedisBackend(url)
    raise ValueError(f"BROADCAST_URL: unsupported scheme {scheme!r} (memory, postgresql, redis)")


# --------------------------------------------------------------------------------------------
# The bus


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
        self.backend = _backend(self.scheme, backend_url)
        if isinstance(self.backend, _SupervisedBackend):
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
        return self.backend.connected.is_set()  # type: ignore[attr-defined,no-any-return]

    async def start(self) -> None:
        if self._started:
            return
        await self._broadcast.connect()
        subscribed = asyncio.Event()
        self._pump = asyncio.create_task(self._run_pump(subscribed), name="bus-pump")
        await subscribed.wait()
        self._started = True
        try:
            await asyncio.wait_for(self.backend.connected.wait(), self.start_wait)  # type: ignore[attr-defined]
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

    async def publish(self, event: RequestEvent) -> None:
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

    def _fallback(self, event: RequestEvent) -> None:
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
