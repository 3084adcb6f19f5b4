"""The request page: timeline entries, state badge, details and this viewer's actions."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from server.i18n import gettext as _
from server.live.audience import request_audience
from server.live.hub import Hub
from server.live.render import CSRF_INPUT, control, oob
from server.live.views.base import CLOSE_GONE, Closed, View, Viewer
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
    """One request as one audience sees it, rendered; shared by all its open pages."""

    entries: list[int]  # the timeline entries the audience sees, in order
    # An entry's fragment, rendered when a page first needs it: most pages have all but the
    # newest entry, and a change then renders that one alone, once for the audience.
    entry: Callable[[int], str]
    pieces: dict[str, str]
    due_at: datetime | None  # when the request turns overdue, if it has not yet


@dataclass(frozen=True)
class Shown:
    """What a page shows: the entries it had or was sent, and the pieces it was sent."""

    baseline: int = 0  # the last entry the page had when it said hello
    seen: frozenset[int] = frozenset()  # entries after the baseline sent since
    pieces: tuple[tuple[str, int], ...] = ()  # (element id, hash of what was sent)


async def request_snapshot(
    hub: Hub, viewer: Viewer, request_id: int, *, opening: bool = False
) -> RequestSnapshot | None:
    """The request as the page shows it to `viewer`, or None if they may not see it."""
    # One read of the request for all its audiences; each then sees what it may of it. Who
    # follows it is part of the read, so its followers make one audience of their own.
    read = await hub.shared(
        _read_key(request_id),
        lambda: queries.read_request(hub.svc, request_id),
        opening=opening,
    )
    if read is None:
        return None
    audience = request_audience(viewer.actor, read.facts, locale=viewer.locale)
    return await hub.shared(
        ("request", request_id, audience),
        lambda: _render(hub, viewer, read),
        opening=opening,
    )


def _read_key(request_id: int) -> Hashable:
    return ("request-read", request_id)


# Requests read in one go by `RequestView.read_ahead`: a few statements each time, whatever
# their number, and bounded so that no one statement grows too long.
READ_AHEAD = 500


async def _render(hub: Hub, viewer: Viewer, read: queries.RequestRead) -> RequestSnapshot | None:
    try:
        page = await queries.page_as(hub.svc, viewer.actor, read)
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
    shown = {entry.id: entry for entry in page.timeline}

    @cache
    def entry(entry_id: int) -> str:
        return render.template(
            "requests/_timeline_entry.html",
            {
                "entry": shown[entry_id],
                "viewer_role": viewer.actor.role,
                "following": page.following,
            },
        )

    request = page.request
    open_work = State(request.state) in OPEN_WORK_STATES and not page.overdue
    return RequestSnapshot(
        entries=list(shown),
        entry=entry,
        pieces=pieces,
        due_at=request.due_at if open_work else None,
    )


def catch_up(snapshot: RequestSnapshot, shown: Shown) -> tuple[str, Shown]:
    """The message that brings a page showing `shown` to `snapshot`, and what it shows then."""
    parts: list[str] = []
    new = [
        entry_id
        for entry_id in snapshot.entries
        if entry_id > shown.baseline and entry_id not in shown.seen
    ]
    if new:
        parts.append(
            '<ol id="timeline" hx-swap-oob="beforeend">'
            + "".join(snapshot.entry(entry_id) for entry_id in new)
            + "</ol>"
        )
    sent = dict(shown.pieces)
    for name, fragment in snapshot.pieces.items():
        digest = hash(fragment)
        if sent.get(name) != digest:
            sent[name] = digest
            if fragment:
                parts.append(fragment)
    after = Shown(
        baseline=shown.baseline,
        seen=shown.seen | set(new),
        pieces=tuple(sorted(sent.items())),
    )
    return "\n".join(parts), after


class RequestView(View):
    kind = "request"

    def __init__(self, hub: Hub, viewer: Viewer, request_id: int) -> None:
        super().__init__(hub, viewer)
        self.request_id = request_id
        self.shown = Shown()
        self.due_at: datetime | None = None

    def concerns(self, event: RequestEvent) -> bool:
        return event.request_id == self.request_id

    def watched_request(self) -> int | None:
        return self.request_id

    def group(self) -> Hashable:
        return (self.kind, self.audience, self.request_id)

    def next_due(self) -> datetime | None:
        return self.due_at

    @classmethod
    async def read_ahead(cls, hub: Hub, views: list[View]) -> None:
        wanted = {view.request_id for view in views if isinstance(view, RequestView)}
        ids = sorted(i for i in wanted if not hub.has(_read_key(i)))
        if len(ids) < 2:
            return  # one request: its pages share one read anyway
        for start in range(0, len(ids), READ_AHEAD):
            chunk = ids[start : start + READ_AHEAD]
            reads = await queries.read_requests(hub.svc, chunk)
            for request_id in chunk:
                hub.provide(_read_key(request_id), reads.get(request_id))

    async def start(self, hello: dict[str, Any]) -> str:
        try:
            baseline = max(0, int(hello.get("last_entry") or 0))
        except (TypeError, ValueError):
            baseline = 0
        self.shown = Shown(baseline=baseline)
        return await self.sync(opening=True)

    async def update(self, pending: set[int], *, resync: bool, fresh: bool) -> str:
        return await self.sync(opening=False)

    async def sync(self, *, opening: bool) -> str:
        snapshot = await request_snapshot(self.hub, self.viewer, self.request_id, opening=opening)
        if snapshot is None:
            raise Closed(
                CLOSE_GONE, control("gone", message=_("Эта заявка вам больше не доступна."))
            )
        message, self.shown = self.hub.memo(
            ("request-message", id(snapshot), self.shown), lambda: catch_up(snapshot, self.shown)
        )
        self.due_at = snapshot.due_at
        return message
