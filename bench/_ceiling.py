"""The ceiling the live benchmark compares the project with: a bare Litestar WebSocket program.

No database, no templates, no sessions: a socket says hello and gets «ready»; `POST /poke`
answers at once and then sends one fragment of `size` bytes to every open socket in one loop,
the fastest a Litestar process on uvicorn can fan a message out. Started by `bench/live.py`
with the same uvicorn settings as the project (`tests.server_process.running_server`)."""

from __future__ import annotations

import asyncio

from litestar import Litestar, Request, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect

SOCKETS: set[WebSocket] = set()  # type: ignore[type-arg]
TASKS: set[asyncio.Task[None]] = set()


@get("/login", sync_to_thread=False)
def ready() -> str:
    return "ok"


@websocket("/ws")
async def live(socket: WebSocket) -> None:  # type: ignore[type-arg]
    await socket.accept()
    await socket.receive_text()
    await socket.send_text("ready")
    SOCKETS.add(socket)
    try:
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        SOCKETS.discard(socket)


async def _fan_out(fragment: str) -> None:
    for socket in list(SOCKETS):
        try:
            await socket.send_text(fragment)
        except Exception:
            SOCKETS.discard(socket)


@post("/poke", status_code=204)
async def poke(request: Request) -> None:  # type: ignore[type-arg]
    size = int(request.query_params.get("size", "1024"))
    mark = request.query_params.get("mark", "")
    fragment = f'<div id="mark" data-mark="{mark}">' + "x" * max(0, size - 40) + "</div>"
    task = asyncio.create_task(_fan_out(fragment))
    TASKS.add(task)
    task.add_done_callback(TASKS.discard)


app = Litestar([ready, live, poke])
