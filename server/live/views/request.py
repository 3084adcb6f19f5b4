"""The request page: timeline entries, state badge, details and this viewer's actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.i18n import gettext as _
from server.live.hub import Hub
from server.live.render import CSRF_INPUT, control, oob, personalise
from server.live.views.base import CLOSE_GONE, Closed, Send, View, Viewer
from server.requests import queries
from server.requests.workflow import OPEN_WORK_STATES, State
from server.shared.errors import NotFound
from server.shared.events import RequestEvent

# The blocks of requests/detail.html a live update replaces, by the element each renders.
PIECES = (
    ("state", "request-state"),
    ("explanation", "request-explanation"),
    ("details", "request-details"),
    ("actions", "request-actions"),
)


@dataclass
class RequestSnapshot:
    """One request as one viewer sees it, rendered; shared by that viewer's open pages."""

    entries: list[tuple[int, str]]
    pieces: dict[str, str]
    due_at: datetime | None  # when the request turns overdue, if it has not yet


async def request_snapshot(
    hub: Hub, viewer: Viewer, request_id: int, *, fresh: bool = False
) -> RequestSnapshot | None:
    """The request as the page shows it to `viewer`, or None if they may not see it."""
    if fresh:
        return await _render(hub, viewer, request_id)
    return await hub.shared(
        ("request", request_id, viewer.user.id), lambda: _render(hub, viewer, request_id)
    )


async def _render(hub: Hub, viewer: Viewer, request_id: int) -> RequestSnapshot | None:
    try:
        page = await queries.request_page(hub.svc, viewer.actor, request_id)
    except NotFound:
        return None
    context = {
        "user": viewer.user,
        "page": page,
        "req": page.request,
        "errors": {},
        "viewer_role": viewer.actor.role,
        "csrf_input": CSRF_INPUT,
    }
    render = hub.renderer
    pieces = {
        element_id: oob(render.block("requests/detail.html", block, context), element_id)
        for block, element_id in PIECES
    }
    entries = [
        (
            entry.id,
            render.template(
                "requests/_timeline_entry.html",
                {"entry": entry, "viewer_role": viewer.actor.role},
            ),
        )
        for entry in page.timeline
    ]
    request = page.request
    open_work = State(request.state) in OPEN_WORK_STATES and not page.overdue
    return RequestSnapshot(
        entries=entries, pieces=pieces, due_at=request.due_at if open_work else None
    )


class RequestView(View):
    kind = "request"

    def __init__(self, hub: Hub, viewer: Viewer, request_id: int) -> None:
        super().__init__(hub, viewer)
        self.request_id = request_id
        self.baseline = 0
        self.seen: set[int] = set()
        self.sent: dict[str, int] = {}
        self.due_at: datetime | None = None

    def concerns(self, event: RequestEvent) -> bool:
        return event.request_id == self.request_id

    def next_due(self) -> datetime | None:
        return self.due_at

    async def start(self, send: Send, hello: dict[str, Any]) -> None:
        try:
            self.baseline = max(0, int(hello.get("last_entry") or 0))
        except (TypeError, ValueError):
            self.baseline = 0
        self.seen = set()
        self.sent = {}
        await self.sync(send, fresh=False)

    async def refresh(self, send: Send, pending: set[int], *, fresh: bool) -> None:
        await self.sync(send, fresh=fresh)

    async def sync(self, send: Send, *, fresh: bool) -> None:
        snapshot = await request_snapshot(self.hub, self.viewer, self.request_id, fresh=fresh)
        if snapshot is None:
            await send(control("gone", message=_("Эта заявка вам больше не доступна.")))
            raise Closed(CLOSE_GONE)
        parts: list[str] = []
        new = [
            (entry_id, fragment)
            for entry_id, fragment in snapshot.entries
            if entry_id > self.baseline and entry_id not in self.seen
        ]
        if new:
            parts.append(
                '<ol id="timeline" hx-swap-oob="beforeend">'
                + "".join(fragment for _, fragment in new)
                + "</ol>"
            )
            self.seen.update(entry_id for entry_id, _ in new)
        for name, fragment in snapshot.pieces.items():
            digest = hash(fragment)
            if self.sent.get(name) != digest:
                self.sent[name] = digest
                if fragment:
                    parts.append(fragment)
        self.due_at = snapshot.due_at
        if parts:
            await send(personalise("\n".join(parts), self.viewer.csrf_token))
