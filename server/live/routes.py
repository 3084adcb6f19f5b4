"""WebSocket endpoints of the live pages. Each checks the Origin, the session and the viewer's
right to see what they ask for *before* accepting; the views re-check on every update.

Refusals are HTTP 403 at the handshake, except for a missing session (expired, or signed out in
another tab): that socket is accepted and closed at once with 4401, because a refused handshake
reaches the page as a code-less failure that it would retry for ever; on 4401 it stops and
offers to sign in again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.handlers import WebsocketRouteHandler

from server.accounts.people import actor_of
from server.accounts.sessions import forget_sign_in
from server.db.models import User
from server.i18n import current_locale
from server.live.connection import RAW_SEND, Outbox, RawSend
from server.live.hub import Hub
from server.live.views.base import HELLO_TIMEOUT, SignedIn, View, Viewer
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


def _origin_allowed(socket: WebSocket[Any, Any, Any], base_url: str) -> bool:
    """Only our own pages may open a live channel (cross-site WebSocket hijacking: browsers
    send cookies with a WebSocket handshake from any site, and CSRF protection skips them)."""
    origin = _header(socket, b"origin")
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
    host = _header(socket, b"host")
    scheme = "https" if socket.scope.get("scheme") == "wss" else "http"
    return bool(host) and (parts.scheme, parts.netloc) == (scheme, host)


def _header(socket: WebSocket[Any, Any, Any], name: bytes) -> str | None:
    """One header of the handshake, read from the scope: `socket.headers` would parse them
    all and keep them for as long as the socket is open."""
    for key, value in socket.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


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
    viewer = Viewer(user=SignedIn.of(user), actor=actor_of(user), locale=current_locale())
    forget_sign_in(socket.scope)
    return viewer


async def serve(socket: WebSocket[Any, Any, Any], view: View) -> None:
    """Accept the socket, then read what the page says until either side goes away.

    The hub writes to the socket from its own loop (`Outbox`), with the server's own send,
    past the HTTP middleware, which has nothing to add to a frame of an accepted socket; this
    task only reads, and ends when the outbox has closed the socket or given up on it."""
    hub = view.hub
    await socket.accept()
    raw_send: RawSend = socket.scope.get(RAW_SEND) or socket.send  # type: ignore[assignment]
    task = asyncio.current_task()
    assert task is not None
    outbox = view.outbox = Outbox(raw_send, view.behind, task.cancel)
    hub.attach(view)
    no_hello = asyncio.get_running_loop().call_later(HELLO_TIMEOUT, view.hello_missing)
    try:
        while True:
            view.on_client(await socket.receive_text())
    except asyncio.CancelledError:
        if not outbox.ended:
            raise
        task.uncancel()  # the outbox closed the socket or dropped it: done
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # the page went away
    finally:
        no_hello.cancel()
        outbox.abandon()
        hub.detach(view)


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
