"""The live channel of pages that show incidents: a signal to re-fetch `#incident-notices`.

The message says only «incidents changed»: the fragment it makes the page fetch is read as
its viewer (`queries.for_resident`, `queries.for_staff`), so nothing crosses the socket that
the page itself could not read. Signals are folded to at most one a second per page."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from server.db.models import utcnow
from server.live.hub import Hub
from server.live.render import control
from server.live.views.base import View, Viewer
from server.shared.events import IncidentEvent, RequestEvent
from server.shared.roles import Role

INTERVAL = 1.0
SIGNAL = control("refresh", target="incident-notices")


class IncidentsView(View):
    kind = "incidents"
    roles = (Role.RESIDENT, Role.OPERATOR, Role.DISPATCHER, Role.CITY_ADMIN)

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        super().__init__(hub, viewer)
        self.last_sent = 0.0
        self.held: datetime | None = None

    def concerns(self, event: RequestEvent) -> bool:
        return False

    def concerns_incident(self, event: IncidentEvent) -> bool:
        return True

    def next_due(self) -> datetime | None:
        return self.held

    async def start(self, hello: dict[str, Any]) -> str:
        return self._signal()

    async def update(self, pending: set[int], *, resync: bool, fresh: bool) -> str:
        wait = self.last_sent + INTERVAL - asyncio.get_running_loop().time()
        if wait > 0:
            if self.held is None:
                self.held = utcnow() + timedelta(seconds=wait)
            return ""
        return self._signal()

    def _signal(self) -> str:
        self.held = None
        self.last_sent = asyncio.get_running_loop().time()
        return SIGNAL
