"""One open live socket's way out: shared messages written from the hub's own loop.

The hub puts the same string in every outbox of an audience. An outbox starts the server's
`send` right there (`Outbox.offer`): with uvicorn a frame goes straight to the transport unless
the client stopped reading, so the common case wakes no task and queues nothing. Only when a
send has to wait does a task of the outbox's own take over that send and the messages queued
behind it, at the pace of that one client. A client that lets its queue fill up is not allowed
to hold memory or slow the others: its queue is emptied and it is told to resync (the view
sends it its whole state again). A send that takes too long drops the connection, which the
page then reopens."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from typing import Any

log = logging.getLogger(__name__)

RawSend = Callable[[dict[str, Any]], Awaitable[None]]

# Where the application keeps the server's own `send` of a WebSocket scope (`server.app.App`).
RAW_SEND = "zayavka.raw_send"

BACKLOG = 16  # messages a socket may have waiting before it must resync
SEND_TIMEOUT = 10.0  # seconds one message may take to leave


class _Resumed:
    """Awaits a coroutine that was started by hand and is waiting on `waiting`: what it yields
    goes to the task that awaits this, and what the task sends or throws goes back to it."""

    __slots__ = ("_coro", "_waiting")

    def __init__(self, coro: Generator[Any, Any, Any], waiting: Any) -> None:
        self._coro = coro
        self._waiting = waiting

    def __await__(self) -> Generator[Any, Any, None]:
        coro, waiting = self._coro, self._waiting
        while True:
            try:
                sent = yield waiting
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # a cancellation or timeout: the coroutine decides
                try:
                    waiting = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting = coro.send(sent)
                except StopIteration:
                    return


class Outbox:
    """`offer` writes at once or queues behind a send that waits; `close` closes after what is
    queued (a last word such as «gone» still arrives). `on_behind` asks the view for its whole
    state; `on_ended` ends the socket's task once the close frame is out, or a send failed or
    timed out."""

    __slots__ = (
        "_backlog",
        "_on_behind",
        "_on_ended",
        "_queue",
        "_send",
        "_writer",
        "behind",
        "closing",
        "ended",
    )

    def __init__(
        self,
        send: RawSend,
        on_behind: Callable[[], None],
        on_ended: Callable[[], object],
        backlog: int = BACKLOG,
    ) -> None:
        self._send = send
        self._on_behind = on_behind
        self._on_ended = on_ended
        self._backlog = backlog
        # Exists only while a send waits for its client: the messages queued behind it.
        self._queue: deque[dict[str, Any]] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.closing: int | None = None
        self.behind = False
        self.ended = False

    def offer(self, message: str) -> None:
        if message and self.closing is None:
            self._put({"type": "websocket.send", "text": message})

    def close(self, code: int) -> None:
        if self.closing is None:
            self.closing = code
            self._put({"type": "websocket.close", "code": code})

    def abandon(self) -> None:
        """The page went away: nothing more is sent, a waiting send is given up."""
        self.ended = True
        if self.closing is None:
            self.closing = 0
        if self._writer is not None:
            self._writer.cancel()

    def _put(self, message: dict[str, Any]) -> None:
        if self.ended:
            return
        queue = self._queue
        if queue is not None:
            if message["type"] != "websocket.send":
                queue.append(message)
            elif self.behind:
                pass  # the whole state it will be sent makes this message moot
            elif len(queue) >= self._backlog:
                queue.clear()
                self.behind = True
            else:
                queue.append(message)
            return
        coro = self._send(message).__await__()
        try:
            waiting = coro.send(None)
        except StopIteration:
            # Written, without a task: the common case.
            if message["type"] == "websocket.close":
                self._end()
            return
        except Exception:
            # The client is gone (its disconnect reaches the socket's task too) or the socket
            # broke; either way this connection is over.
            self._end()
            return
        self._queue = deque()
        self._writer = asyncio.get_running_loop().create_task(
            self._write_rest(coro, waiting, message)
        )

    async def _write_rest(
        self, coro: Generator[Any, Any, Any], waiting: Any, last: dict[str, Any]
    ) -> None:
        """The send that had to wait (`last`), then what queued up behind it, one by one."""
        queue = self._queue
        assert queue is not None
        failed = False
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await _Resumed(coro, waiting)
            while not self.ended and last["type"] != "websocket.close":
                if self.behind:
                    self.behind = False
                    self._on_behind()
                if not queue:
                    break
                last = queue.popleft()
                async with asyncio.timeout(SEND_TIMEOUT):
                    await self._send(last)
        except asyncio.CancelledError:
            raise  # abandoned: the socket is already being closed
        except TimeoutError:
            log.info("live: a page stopped reading; dropped")
            failed = True
        except Exception:
            failed = True
        finally:
            self._queue = None
            self._writer = None
        if failed or last["type"] == "websocket.close":
            self._end()

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            if self.closing is None:
                self.closing = 0
            self._on_ended()
