"""What every live view does: wake on the messages that concern it, greet, refresh, close."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from server.db.models import User, utcnow
from server.live.bus import BusMessage, Resync
from server.shared.events import RequestEvent
from server.shared.roles import Actor, Role

if TYPE_CHECKING:
    from server.live.hub import Hub

Send = Callable[[str], Awaitable[None]]

HELLO_TIMEOUT = 5.0  # a page that never says what it has gets everything
MAX_CLIENT_MESSAGE = 64 * 1024
CLOSE_GONE = 4403  # the viewer may no longer see this: the page must not reconnect
CLOSE_RESTART = 1012  # server going away: the htmx ws extension reconnects (elsewhere)
CLOSE_TRY_LATER = 1013  # the database does not answer: the extension reconnects with back-off


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Viewer:
    user: User
    actor: Actor
    csrf_token: str


class View:
    kind: ClassVar[str] = "view"
    # Who may open this page kind (empty: anybody signed in; the view checks the rest).
    roles: ClassVar[tuple[Role, ...]] = ()

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        self.hub = hub
        self.viewer = viewer
        self.wake = asyncio.Event()
        self.greeted = asyncio.Event()
        self.hello: dict[str, Any] | None = None
        self.pending: set[int] = set()
        self.resync = False
        self.closing: int | None = None

    # Called by the hub (same thread, no awaits): decide cheaply, work later in run().
    def concerns(self, event: RequestEvent) -> bool:
        raise NotImplementedError

    def notify(self, message: BusMessage) -> None:
        if isinstance(message, Resync):
            self.resync = True
        elif self.concerns(message):
            self.pending.add(message.request_id)
        else:
            return
        self.wake.set()

    def shutdown(self, code: int = CLOSE_RESTART) -> None:
        self.closing = code
        self.wake.set()

    def on_client(self, raw: str) -> None:
        if len(raw) > MAX_CLIENT_MESSAGE:
            return
        try:
            data = json.loads(raw)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("type") == "hello":
            self.hello = data
            self.greeted.set()
            self.wake.set()

    def next_due(self) -> datetime | None:
        return None

    async def start(self, send: Send, hello: dict[str, Any]) -> None:
        raise NotImplementedError

    async def refresh(self, send: Send, pending: set[int], *, fresh: bool) -> None:
        raise NotImplementedError

    async def run(self, send: Send) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.greeted.wait(), HELLO_TIMEOUT)
        started = False
        timer_fired = False
        while True:
            if self.closing is not None:
                raise Closed(self.closing)
            hello, self.hello = self.hello, None
            resync, self.resync = self.resync, False
            pending, self.pending = self.pending, set()
            self.wake.clear()
            if hello is not None or not started:
                started = True
                await self.start(send, hello or {})
            elif resync or pending or timer_fired:
                await self.refresh(send, pending, fresh=timer_fired)
            timeout = None
            due = self.next_due()
            if due is not None:
                # A little after the deadline, so that "now > due" holds when we re-read.
                timeout = max(0.0, (due - utcnow()).total_seconds()) + 0.5
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
                timer_fired = False
            except TimeoutError:
                timer_fired = True
