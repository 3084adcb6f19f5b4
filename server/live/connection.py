"""One open live socket's way out: a short queue of shared messages and the loop that writes them.

The hub puts the same bytes in every queue of an audience without waiting on anyone; each
socket writes its own at the pace of its client. A client that lets its queue fill up is not
allowed to hold memory or slow the others: its queue is emptied and it is told to resync (the
view sends it its whole state again). A send that takes too long drops the connection, which the
page then reopens."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

RawSend = Callable[[dict[str, Any]], Awaitable[None]]

# Where the application keeps the server's own `send` of a WebSocket scope (`server.app.App`).
RAW_SEND = "zayavka.raw_send"

BACKLOG = 16  # messages a socket may have waiting before it must resync
SEND_TIMEOUT = 10.0  # seconds one message may take to leave


class Behind(Exception):
    """The client fell too far behind: the view must send its whole state again."""


class SendTimeout(Exception):
    pass


class Outbox:
    def __init__(self, send: RawSend, backlog: int = BACKLOG) -> None:
        self._send = send
        self._queue: deque[str] = deque()
        self._backlog = backlog
        self._ready = asyncio.Event()
        self.behind = False
        self.closing: int | None = None

    def offer(self, message: str) -> None:
        if not message or self.closing is not None:
            return
        if len(self._queue) >= self._backlog:
            self._queue.clear()
            self.behind = True
        else:
            self._queue.append(message)
        self._ready.set()

    def close(self, code: int) -> None:
        """Close after what is already queued (a last word such as «gone» still arrives)."""
        if self.closing is None:
            self.closing = code
        self._ready.set()

    async def write(self, on_behind: Callable[[], None]) -> int:
        """Write queued messages until the view closes; the close code. Runs in the socket's
        own task, so only its own client's pace decides how long an `await` here takes."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            if self.behind:
                self.behind = False
                on_behind()
            while self._queue:
                message = self._queue.popleft()
                try:
                    async with asyncio.timeout(SEND_TIMEOUT):
                        await self._send({"type": "websocket.send", "text": message})
                except TimeoutError:
                    raise SendTimeout from None
            if self.closing is not None:
                return self.closing
