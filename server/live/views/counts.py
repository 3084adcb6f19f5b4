"""The administration's figures: a signal to re-fetch `#live-counts`, at most every 2 s."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, ClassVar

from server.db.models import utcnow
from server.live.hub import Hub
from server.live.render import control
from server.live.views.base import View, Viewer
from server.shared.events import RequestEvent
from server.shared.roles import Role

COUNTS_INTERVAL = 2.0  # the administration's figures refresh at most this often
SIGNAL = control("refresh", target="live-counts")


class CountsView(View):
    kind = "counts"
    roles: ClassVar[tuple[Role, ...]] = (Role.CITY_ADMIN,)
    # What the page is told to re-fetch, and how often at most.
    signal: str = SIGNAL
    interval: float = COUNTS_INTERVAL

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        super().__init__(hub, viewer)
        self.last_sent = 0.0
        self.held: datetime | None = None  # a change waits until then, folded with the next

    def concerns(self, event: RequestEvent) -> bool:
        return True  # the city administration sees every request

    def next_due(self) -> datetime | None:
        return self.held

    async def start(self, hello: dict[str, Any]) -> str:
        return self._signal()

    async def update(self, pending: set[int], *, resync: bool, fresh: bool) -> str:
        wait = self.last_sent + self.interval - asyncio.get_running_loop().time()
        if wait > 0:
            if self.held is None:
                self.held = utcnow() + timedelta(seconds=wait)
            return ""
        return self._signal()

    def _signal(self) -> str:
        self.held = None
        self.last_sent = asyncio.get_running_loop().time()
        return self.signal
