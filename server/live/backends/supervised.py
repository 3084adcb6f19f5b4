"""What our networked backends share: one supervised listening loop that reconnects with
capped, jittered exponential backoff, and hands every subscriber a resync when it is lost and
again when it comes back."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from broadcaster import BroadcastBackend, Event

from server.shared.outage import Backoff

log = logging.getLogger("server.live.bus")

# The payload every subscriber gets after the listening connection came back.
RESYNC_PAYLOAD = '{"resync":true,"reason":"reconnect"}'
# Tags our bus connections in pg_stat_activity / CLIENT LIST, so operators (and the tests that
# cut them on purpose) can tell them apart.
LISTEN_NAME = "zayavka-bus-listen"
PUBLISH_NAME = "zayavka-bus-publish"


class SupervisedBackend(BroadcastBackend):
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
                if self.connected.is_set():
                    log.warning("bus: listening connection lost (%s: %s)", type(exc).__name__, exc)
                else:
                    log.info("bus: cannot listen yet (%s: %s)", type(exc).__name__, exc)
            finally:
                if self.connected.is_set():
                    self.connected.clear()
                    # Messages may have gone with the connection, and the database may have
                    # gone with the bus: views re-read now (and find out), and again once the
                    # bus is back.
                    self._resync_all()
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
