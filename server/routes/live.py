"""WebSocket endpoints of the live pages. Each checks the Origin, the session and the viewer's
right to see what they ask for *before* accepting; the views re-check on every update.

Refusals are HTTP 403 at the handshake, except for a missing session (expired, or signed out in
another tab): that socket is accepted and closed at once with 4401, because a refused handshake
reaches the page as a code-less failure that it would retry for ever; on 4401 it stops and
offers to sign in again."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar, WebSocket, websocket

from server.app import services_of
from server.db.models import User
from server.domain.roles import Role
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
from server.live.render import Renderer
from server.services.accounts import actor_of

CSRF_COOKIE = "zayavka_csrf"
REFUSED = 4403  # before accept(): the server answers the handshake with HTTP 403
SIGNED_OUT = 4401  # after accept(): nobody is signed in; the page stops and offers to sign in


def _origin_allowed(socket: WebSocket[Any, Any, Any]) -> bool:
    """Only our own pages may open a live channel (cross-site WebSocket hijacking: browsers
    send cookies with a WebSocket handshake from any site, and CSRF protection skips them)."""
    origin = socket.headers.get("origin")
    if not origin:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    base = urlsplit(services_of(socket).settings.base_url)  # type: ignore[arg-type]
    if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
        return True
    # Behind a proxy BASE_URL names the public address; without one, the Host the page was
    # served from, over the same kind of connection (ws → http, wss → https).
    host = socket.headers.get("host")
    scheme = "https" if socket.url.scheme == "wss" else "http"
    return bool(host) and (parts.scheme, parts.netloc) == (scheme, host)


async def _admit(socket: WebSocket[Any, Any, Any], *allowed: Role) -> Viewer | None:
    """The viewer, or None after refusing the handshake."""
    user: User | None = socket.scope.get("user")  # type: ignore[assignment]
    if not _origin_allowed(socket):
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


def _hub(socket: WebSocket[Any, Any, Any]) -> Hub:
    return socket.app.state.live_hub  # type: ignore[no-any-return]


@websocket("/live/requests/{request_id:int}")
async def live_request(socket: WebSocket[Any, Any, Any], request_id: int) -> None:
    viewer = await _admit(socket)
    if viewer is None:
        return
    hub = _hub(socket)
    # The same read the page did, as this viewer: refused exactly when the page is.
    if await hub.request_snapshot(viewer, request_id) is None:
        await socket.close(code=REFUSED)
        return
    await serve(socket, RequestView(hub, viewer, request_id))


@websocket("/live/board")
async def live_board(socket: WebSocket[Any, Any, Any]) -> None:
    viewer = await _admit(socket, Role.DISPATCHER)
    if viewer is not None:
        await serve(socket, BoardView(_hub(socket), viewer))


@websocket("/live/jobs")
async def live_jobs(socket: WebSocket[Any, Any, Any]) -> None:
    viewer = await _admit(socket, Role.CONTRACTOR, Role.WORKER)
    if viewer is not None:
        await serve(socket, JobsView(_hub(socket), viewer))


@websocket("/live/field")
async def live_field(socket: WebSocket[Any, Any, Any]) -> None:
    viewer = await _admit(socket, Role.CONTRACTOR, Role.WORKER)
    if viewer is not None:
        await serve(socket, FieldView(_hub(socket), viewer))


@websocket("/live/my-requests")
async def live_my_requests(socket: WebSocket[Any, Any, Any]) -> None:
    viewer = await _admit(socket, Role.RESIDENT)
    if viewer is not None:
        await serve(socket, MyRequestsView(_hub(socket), viewer))


@websocket("/live/counts")
async def live_counts(socket: WebSocket[Any, Any, Any]) -> None:
    viewer = await _admit(socket, Role.CITY_ADMIN)
    if viewer is not None:
        await serve(socket, CountsView(_hub(socket), viewer))


async def on_startup(app: Litestar) -> None:
    hub = Hub(app.state.services, Renderer(app.template_engine.engine))  # type: ignore[union-attr]
    await hub.start()
    app.state.live_hub = hub


async def on_shutdown(app: Litestar) -> None:
    hub: Hub | None = getattr(app.state, "live_hub", None)
    if hub is not None:
        await hub.stop()


ROUTES = [live_request, live_board, live_jobs, live_field, live_my_requests, live_counts]
