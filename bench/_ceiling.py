"""The ceiling the live benchmark compares the project with: a bare Litestar WebSocket program.

No database, no templates, no sessions: a socket says hello and gets «ready»; `POST /poke`
answers at once and then sends one fragment of `size` bytes to every open socket in one loop,
the fastest a Litestar process on uvicorn can fan a message out. A socket that says «hello G»
joins group G, and `POST /poke?group=G` reaches only that group (one organisation's boards);
`POST /poke?distinct=1` sends each socket a text of its own (pages of different requests).
Started by `bench/live.py` with the same uvicorn settings as the project
(`tests.server_process.running_server`)."""

from __future__ import annotations

import asyncio

from litestar import Litestar, Request, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect

SOCKETS: dict[WebSocket, str] = {}  # type: ignore[type-arg]  # socket → its group
TASKS: set[asyncio.Task[None]] = set()


@get("/login", sync_to_thread=False)
def ready() -> str:
    return "ok"


@websocket("/ws")
async def live(socket: WebSocket) -> None:  # type: ignore[type-arg]
    await socket.accept()
    said = await socket.receive_text()
    await socket.send_text("ready")
    SOCKETS[socket] = said.removeprefix("hello").strip()
    try:
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        SOCKETS.pop(socket, None)


async def _fan_out(fragment: str, group: str | None, distinct: bool) -> None:
    for i, (socket, joined) in enumerate(list(SOCKETS.items())):
        if group is not None and joined != group:
            continue
        try:
            # Distinct: each socket its own text (as a page of its own request), built here.
            await socket.send_text(f'<p data-socket="{i}"></p>{fragment}' if distinct else fragment)
        except Exception:
            SOCKETS.pop(socket, None)


@post("/poke", status_code=204)
async def poke(request: Request) -> None:  # type: ignore[type-arg]
    size = int(request.query_params.get("size", "1024"))
    mark = request.query_params.get("mark", "")
    group = request.query_params.get("group")
    distinct = request.query_params.get("distinct") == "1"
    fragment = f'<div id="mark" data-mark="{mark}">' + "x" * max(0, size - 40) + "</div>"
    task = asyncio.create_task(_fan_out(fragment, group, distinct))
    TASKS.add(task)
    task.add_done_callback(TASKS.discard)


app = Litestar([ready, live, poke])
