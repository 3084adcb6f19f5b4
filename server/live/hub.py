"""The hub: one per process, the single bus subscription fanned out to the open views.

A message wakes every view it concerns; views that ask the same thing after the same message
(one viewer's several open pages, say) share one database read and one rendering."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from server.live.bus import BusMessage
from server.live.render import Renderer
from server.shared.services import Services

if TYPE_CHECKING:
    from server.live.views.base import View

SHARE_FOR = 1.0  # seconds a rendered snapshot may be shared between a viewer's open pages


class Hub:
    def __init__(self, svc: Services, renderer: Renderer) -> None:
        self.svc = svc
        self.renderer = renderer
        self.views: set[View] = set()
        self.seq = 0  # messages dispatched so far
        self._cache: dict[tuple[Any, ...], tuple[float, asyncio.Future[Any]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready), name="live-hub")
        await ready.wait()

    async def stop(self) -> None:
        for view in list(self.views):
            view.shutdown()  # the page reconnects, to this process or another
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self, ready: asyncio.Event) -> None:
        async with self.svc.bus.subscribe() as messages:
            ready.set()
            async for message in messages:
                self.dispatch(message)

    def dispatch(self, message: BusMessage) -> None:
        self.seq += 1
        # Snapshots are shared only between views woken by the same message.
        self._cache.clear()
        for view in list(self.views):
            view.notify(message)

    def attach(self, view: View) -> None:
        self.views.add(view)

    def detach(self, view: View) -> None:
        self.views.discard(view)

    async def shared(self, key: tuple[Any, ...], factory: Callable[[], Awaitable[Any]]) -> Any:
        """Run `factory` once for every view asking the same thing after the same message."""
        key = (self.seq, *key)
        now = asyncio.get_running_loop().time()
        cached = self._cache.get(key)
        # Short-lived too: what changes with time alone (overdue) must not be served stale.
        if cached is None or now - cached[0] > SHARE_FOR:
            if len(self._cache) > 512:
                self._cache = {k: v for k, v in self._cache.items() if now - v[0] <= SHARE_FOR}
            task = asyncio.ensure_future(factory())
            task.add_done_callback(_retrieve)
            cached = self._cache[key] = (now, task)
        return await asyncio.shield(cached[1])


def _retrieve(task: asyncio.Future[Any]) -> None:
    # Every waiter may have gone away; don't let an exception go unobserved.
    if not task.cancelled():
        task.exception()
