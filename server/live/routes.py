"""WebSocket endpoints of the live pages. Each checks the Origin, the session and the viewer's
right to see what they ask for *before* accepting; the views re-check on every update.

Refusals are HTTP 403 at the handshake, except for a missing session (expired, or signed out in
another tab): that socket is accepted and closed at once with 4401, because a refused handshake
reaches the page as a code-less failure that it would retry for ever; on 4401 it stops and
offers to sign in again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.handlers import WebsocketRouteHandler

from server.accounts.people import actor_of
from server.db.models import User
from server.live.connection import RAW_SEND, Outbox, RawSend, SendTimeout
from server.live.hub import Hub
from server.live.views.base import HELLO_TIMEOUT, View, Viewer
from server.live.views.board import BoardView
from server.live.views.counts import CountsView
from server.live.views.field import FieldView
from server.live.views.jobs import JobsView
from server.live.views.my_requests import MyRequestsView
from server.live.views.request import RequestView, request_snapshot
from server.phone.live import CallsView
from server.settings import Settings
from server.shared.roles import Role

log = logging.getLogger(__name__)

REFUSED = 4403  # before accept(): the server answers the handshake with HTTP 403
SIGNED_OUT = 4401  # after accept(): nobody is signed in; the page stops and offers to sign in
GONE_AWAY = 0  # not a close code: the page closed the socket itself


def _origin_allowed(socket: WebSocket[Any, Any, Any], base_url: str) -> bool:
    """Only our own pages may open a live channel (cross-site WebSocket hijacking: browsers
    send cookies with a WebSocket handshake from any site, and CSRF protection skips them)."""
    origin = socket.headers.get("origin")
    if not origin:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    base = urlsplit(base_url)
    if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
        return True
    # Behind a proxy BASE_URL names the public address; without one, the Host the page was
    # served from, over the same kind of connection (ws → http, wss → https).
    host = socket.headers.get("host")
    scheme = "https" if socket.url.scheme == "wss" else "http"
    return bool(host) and (parts.scheme, parts.netloc) == (scheme, host)


async def _admit(
    socket: WebSocket[Any, Any, Any], settings: Settings, allowed: tuple[Role, ...]
) -> Viewer | None:
    """The viewer, or None after refusing the handshake."""
    user: User | None = socket.scope.get("user")
    if not _origin_allowed(socket, settings.base_url):
        await socket.close(code=REFUSED)
        return None
    if user is None:
        # Nothing is sent: the close code is the whole answer.
        await socket.accept()
        await socket.close(code=SIGNED_OUT)
        return None
    if allowed and Role(user.role) not in allowed:
        await socket.close(code=REFUSED)
        return None
    return Viewer(user=user, actor=actor_of(user))


async def serve(socket: WebSocket[Any, Any, Any], view: View) -> None:
    """Accept the socket and write what the hub gives the view until either side goes away.

    The socket's own task is the writer; one more task reads what the page says. Messages go
    out through the server's own send, past the HTTP middleware, which has nothing to add to
    a frame of an accepted socket."""
    hub = view.hub
    await socket.accept()
    raw_send: RawSend = socket.scope.get(RAW_SEND) or socket.send  # type: ignore[assignment]
    outbox = view.outbox = Outbox(raw_send)

    async def read() -> None:
        while True:
            view.on_client(await socket.receive_text())

    def page_went_away(task: asyncio.Task[None]) -> None:
        outbox.close(GONE_AWAY)

    hub.attach(view)
    loop = asyncio.get_running_loop()
    no_hello = loop.call_later(HELLO_TIMEOUT, view.hello_missing)
    reader = asyncio.create_task(read())
    reader.add_done_callback(page_went_away)
    code: int | None = None
    try:
        code = await outbox.write(view.behind)
    except SendTimeout:
        log.info("live %s: a page stopped reading; dropped", view.kind)
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # the page went away while we wrote to it
    finally:
        no_hello.cancel()
        reader.cancel()
        hub.detach(view)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await reader
    if code is not None and code != GONE_AWAY:
        with contextlib.suppress(Exception):
            await socket.close(code=code)


@websocket("/live/requests/{request_id:int}")
async def live_request(
    socket: WebSocket[Any, Any, Any], settings: Settings, hub: Hub, request_id: int
) -> None:
    viewer = await _admit(socket, settings, RequestView.roles)
    if viewer is None:
        return
    # The same read the page did, as this viewer: refused exactly when the page is.
    if await request_snapshot(hub, viewer, request_id, opening=True) is None:
        await socket.close(code=REFUSED)
        return
    await serve(socket, RequestView(hub, viewer, request_id))


def page_route(path: str, view: type[View]) -> WebsocketRouteHandler:
    """The endpoint of a page kind whose view needs nothing but its viewer."""

    async def live_page(socket: WebSocket[Any, Any, Any], settings: Settings, hub: Hub) -> None:
        viewer = await _admit(socket, settings, view.roles)
        if viewer is not None:
            await serve(socket, view(hub, viewer))

    live_page.__name__ = live_page.__qualname__ = f"live_{view.kind.replace('-', '_')}"
    return websocket(path)(live_page)


ROUTES = [
    live_request,
    page_route("/live/board", BoardView),
    page_route("/live/jobs", JobsView),
    page_route("/live/field", FieldView),
    page_route("/live/my-requests", MyRequestsView),
    page_route("/live/counts", CountsView),
    page_route("/live/calls", CallsView),
]
