"""WebSocket endpoints of the live pages. Each checks the Origin, the session and the viewer's
right to see what they ask for *before* accepting; the views re-check on every update.

Refusals are HTTP 403 at the handshake, except for a missing session (expired, or signed out in
another tab): that socket is accepted and closed at once with 4401, because a refused handshake
reaches the page as a code-less failure that it would retry for ever; on 4401 it stops and
offers to sign in again."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket, websocket

from server.accounts.people import actor_of
from server.db.models import User
from server.live.channels import (
    BoardView,
    CountsView,
    FieldView,
    Hub,
    JobsView,
    MyRequestsView,
    RequestView,
    Viewer,
    serve,
)
from server.settings import Settings
from server.shared.roles import Role

CSRF_COOKIE = "zayavka_csrf"
REFUSED = 4403  # before accept(): the server answers the handshake with HTTP 403
SIGNED_OUT = 4401  # after accept(): nobody is signed in; the page stops and offers to sign in


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
    socket: WebSocket[Any, Any, Any], settings: Settings, *allowed: Role
) -> Viewer | None:
    """The viewer, or None after refusing the handshake."""
    user: User | None = socket.scope.get("user")  # type: ignore[assignment]
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
    return Viewer(user=user, actor=actor_of(user), csrf_token=socket.cookies.get(CSRF_COOKIE, ""))


@websocket("/live/requests/{request_id:int}")
async def live_request(
    socket: WebSocket[Any, Any, Any], settings: Settings, hub: Hub, request_id: int
) -> None:
    viewer = await _admit(socket, settings)
    if viewer is None:
        return
    # The same read the page did, as this viewer: refused exactly when the page is.
    if await hub.request_snapshot(viewer, request_id) is None:
        await socket.close(code=REFUSED)
        return
    await serve(socket, RequestView(hub, viewer, request_id))


@websocket("/live/board")
async def live_board(socket: WebSocket[Any, Any, Any], settings: Settings, hub: Hub) -> None:
    viewer = await _admit(socket, settings, Role.DISPATCHER)
    if viewer is not None:
        await serve(socket, BoardView(hub, viewer))


@websocket("/live/jobs")
async def live_jobs(socket: WebSocket[Any, Any, Any], settings: Settings, hub: Hub) -> None:
    viewer = await _admit(socket, settings, Role.CONTRACTOR, Role.WORKER)
    if viewer is not None:
        await serve(socket, JobsView(hub, viewer))


@websocket("/live/field")
async def live_field(socket: WebSocket[Any, Any, Any], settings: Settings, hub: Hub) -> None:
    viewer = await _admit(socket, settings, Role.CONTRACTOR, Role.WORKER)
    if viewer is not None:
        await serve(socket, FieldView(hub, viewer))


@websocket("/live/my-requests")
async def live_my_requests(socket: WebSocket[Any, Any, Any], settings: Settings, hub: Hub) -> None:
    viewer = await _admit(socket, settings, Role.RESIDENT)
    if viewer is not None:
        await serve(socket, MyRequestsView(hub, viewer))


@websocket("/live/counts")
async def live_counts(socket: WebSocket[Any, Any, Any], settings: Settings, hub: Hub) -> None:
    viewer = await _admit(socket, settings, Role.CITY_ADMIN)
    if viewer is not None:
        await serve(socket, CountsView(hub, viewer))


ROUTES = [live_request, live_board, live_jobs, live_field, live_my_requests, live_counts]
