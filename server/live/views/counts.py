"""The administration's figures: a signal to re-fetch `#live-counts`, at most every 2 s."""

from __future__ import annotations

import asyncio
from typing import Any

from server.live.hub import Hub
from server.live.render import control
from server.live.views.base import Send, View, Viewer
from server.shared.events import RequestEvent
from server.shared.roles import Role

COUNTS_INTERVAL = 2.0  # the administration's figures refresh at most this often


class CountsView(View):
    kind = "counts"
    roles = (Role.CITY_ADMIN,)
    target = "live-counts"

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        super().__init__(hub, viewer)
        self.last_sent = 0.0

    def concerns(self, event: RequestEvent) -> bool:
        return True  # the city administration sees every request

    async def start(self, send: Send, hello: dict[str, Any]) -> None:
        await self._signal(send)

    async def refresh(self, send: Send, pending: set[int], *, fresh: bool) -> None:
        wait = self.last_sent + COUNTS_INTERVAL - asyncio.get_running_loop().time()
        if wait > 0:
            # Changes arriving meanwhile are folded into this one refresh.
            await asyncio.sleep(wait)
            self.pending.clear()
            self.resync = False
            self.wake.clear()
        await self._signal(send)

    async def _signal(self, send: Send) -> None:
        self.last_sent = asyncio.get_running_loop().time()
        await send(control("refresh", target=self.target))
