"""Live channels: what one open page watches, how it catches up, and who may watch it.

One `Hub` per process takes every message off the bus and wakes the views that care. A view is
one open WebSocket: the request page, a dispatcher's board, a contractor's or worker's job list,
the worker's phone list, a resident's own requests, or the city administration's counts. Views
never trust the bus for content: a message only says "request N changed"; the view re-reads the
request from the database *as its viewer* (`queries.request_page` / the board queries, which
apply `workflow.may_view`), so a viewer only ever receives what they may see, and a view that
missed messages loses nothing by re-reading.

Catch-up protocol (request page): the page knows the last timeline entry it shows and sends it
in its hello. The view subscribes first, then reads the database and sends every entry after it,
then keeps streaming. It remembers the entry ids it sent; the page drops ids it already has.
Lists (board, jobs) are sent whole on (re)connect and then kept in step by small row-level diffs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from server.db.models import Organisation, User, utcnow
from server.i18n import gettext as _
from server.live.bus import BusMessage, Resync
from server.live.render import (
    CSRF_INPUT,
    Renderer,
    control,
    delete_oob,
    oob,
    personalise,
    wrap_oob,
)
from server.requests import field as field_mode
from server.requests import queries
from server.requests.queries import BoardFilters, BoardRow
from server.requests.workflow import OPEN_WORK_STATES, State
from server.shared.errors import NotFound
from server.shared.events import RequestEvent
from server.shared.roles import Actor
from server.shared.services import Services

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]

HELLO_TIMEOUT = 5.0  # a page that never says what it has gets everything
MAX_CLIENT_MESSAGE = 64 * 1024
MAX_ROW_OPS = 40  # beyond this many row changes, sending the whole list is simpler
COUNTS_INTERVAL = 2.0  # the administration's figures refresh at most this often
SHARE_FOR = 1.0  # seconds a rendered snapshot may be shared between a viewer's open pages
CLOSE_GONE = 4403  # the viewer may no longer see this: the page must not reconnect
CLOSE_RESTART = 1012  # server going away: the htmx ws extension reconnects (elsewhere)


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Viewer:
    user: User
    actor: Actor
    csrf_token: str


# --------------------------------------------------------------------------------------------
# Views


class View:
    kind: ClassVar[str] = "view"

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        self.hub = hub
        self.viewer = viewer
        self.wake = asyncio.Event()
        self.greeted = asyncio.Event()
        self.hello: dict[str, Any] | None = None
        self.pending: set[int] = set()
        self.resync = False
        self.closing: int | None = None

    # Called by the hub (same thread, no awaits): decide cheaply, work later in run().
    def concerns(self, event: RequestEvent) -> bool:
        raise NotImplementedError

    def notify(self, message: BusMessage) -> None:
        if isinstance(message, Resync):
            self.resync = True
        elif self.concerns(message):
            self.pending.add(message.request_id)
        else:
            return
        self.wake.set()

    def shutdown(self, code: int = CLOSE_RESTART) -> None:
        self.closing = code
        self.wake.set()

    def on_client(self, raw: str) -> None:
        if len(raw) > MAX_CLIENT_MESSAGE:
            return
        try:
            data = json.loads(raw)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("type") == "hello":
            self.hello = data
            self.greeted.set()
            self.wake.set()

    def next_due(self) -> datetime | None:
        return None

    async def start(self, send: Send, hello: dict[str, Any]) -> None:
        raise NotImplementedError

    async def refresh(self, send: Send, pending: set[int], *, fresh: bool) -> None:
        raise NotImplementedError

    async def run(self, send: Send) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.greeted.wait(), HELLO_TIMEOUT)
        started = False
        timer_fired = False
        while True:
            if self.closing is not None:
                raise Closed(self.closing)
            hello, self.hello = self.hello, None
            resync, self.resync = self.resync, False
            pending, self.pending = self.pending, set()
            self.wake.clear()
            if hello is not None or not started:
                started = True
                await self.start(send, hello or {})
            elif resync or pending or timer_fired:
                await self.refresh(send, pending, fresh=timer_fired)
            timeout = None
            due = self.next_due()
            if due is not None:
                # A little after the deadline, so that "now > due" holds when we re-read.
                timeout = max(0.0, (due - utcnow()).total_seconds()) + 0.5
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
                timer_fired = False
            except TimeoutError:
                timer_fired = True


@dataclass
class RequestSnapshot:
    """One request as one viewer sees it, rendered; shared by that viewer's open pages."""

    entries: list[tuple[int, str]]
    pieces: dict[str, str]
    due_at: datetime | None  # when the request turns overdue, if it has not yet


class RequestView(View):
    """The request page: timeline entries, state badge, details and this viewer's actions."""

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
        snapshot = await self.hub.request_snapshot(self.viewer, self.request_id, fresh=fresh)
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


class ListView(View):
    """A list of requests kept in step with the database: the board, the job lists."""

    list_id: ClassVar[str]
    # The page template's block that renders the list element (default: named like its id).
    list_block: ClassVar[str | None] = None
    page_template: ClassVar[str]
    row_template: ClassVar[str]
    # New requests (state "new") that arrive while the page is open go on top, highlighted
    # (`.is-new`): the dispatcher's triage order. Lists in their own fixed order (by deadline,
    # newest first) leave that off and briefly highlight every row that arrives instead.
    pin_new: ClassVar[bool] = True

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        super().__init__(hub, viewer)
        self.filters = BoardFilters()
        self.order: list[int] = []  # row ids as the page shows them, top to bottom
        self.hashes: dict[int, int] = {}
        self.pinned: list[int] = []  # arrived while watching: on top, highlighted
        self.due_at: datetime | None = None
        self.context: dict[str, Any] = {}

    def in_scope(self, event: RequestEvent) -> bool:
        raise NotImplementedError

    def concerns(self, event: RequestEvent) -> bool:
        # A request that leaves (transferred away, reassigned) must leave the list too.
        return self.in_scope(event) or event.request_id in self.hashes

    def next_due(self) -> datetime | None:
        return self.due_at

    def parse_filters(self, search: str) -> BoardFilters:
        raise NotImplementedError

    async def fetch(self) -> list[BoardRow]:
        raise NotImplementedError

    async def load_context(self) -> None:
        return None

    async def start(self, send: Send, hello: dict[str, Any]) -> None:
        self.filters = self.parse_filters(str(hello.get("search") or ""))
        await self.load_context()
        rows = await self.fetch()
        known_raw = hello.get("rows")
        known = (
            {int(i) for i in known_raw if str(i).isdigit()} if isinstance(known_raw, list) else None
        )
        if known is not None and self.pin_new:
            self.pinned = [r.request.id for r in rows if r.request.id not in known and _is_new(r)][
                ::-1
            ]
        self.order, self.hashes = [], {}
        await send(personalise(self.plan(rows, whole=True), self.viewer.csrf_token))

    async def refresh(self, send: Send, pending: set[int], *, fresh: bool) -> None:
        rows = await self.fetch()
        message = self.plan(rows, whole=False)
        if message:
            await send(personalise(message, self.viewer.csrf_token))

    def row_html(self, row: Any, row_class: str = "") -> str:
        return self.hub.renderer.template(
            self.row_template,
            {
                "row": row,
                "row_class": row_class,
                "csrf_input": CSRF_INPUT,
                "user": self.viewer.user,
                "viewer_role": self.viewer.actor.role,
                **self.context,
            },
        )

    def plan(self, rows: list[Any], *, whole: bool) -> str:
        """The message that turns what the page shows into `rows`, and remember the result.

        `rows` are `BoardRow`s or anything shaped like them (`.request`, `.overdue`)."""
        if not whole and not rows and not self.order:
            return ""  # empty before, empty now
        by_id = {r.request.id: r for r in rows}
        for row in rows:
            rid = row.request.id
            if (
                self.pin_new
                and not whole
                and rid not in self.hashes
                and rid not in self.pinned
                and _is_new(row)
            ):
                self.pinned.insert(0, rid)
        self.pinned = [p for p in self.pinned if p in by_id and _is_new(by_id[p])]
        pinned = set(self.pinned)
        desired = self.pinned + [r.request.id for r in rows if r.request.id not in pinned]
        fragments = {
            rid: self.row_html(by_id[rid], "is-new" if rid in pinned else "") for rid in desired
        }
        hashes = {rid: hash(fragment) for rid, fragment in fragments.items()}
        now = utcnow()
        upcoming = [
            r.request.due_at
            for r in rows
            if State(r.request.state) in OPEN_WORK_STATES and not r.overdue
        ]
        self.due_at = min((d for d in upcoming if d > now), default=None)

        parts: list[str] | None = None
        if not whole and self.order and desired:
            parts = self._diff(desired, fragments, hashes, by_id)
        if parts is None:
            parts = [self._whole(desired, fragments, rows)]
        self.order, self.hashes = desired, hashes
        return "\n".join(parts)

    def _whole(self, desired: list[int], fragments: dict[int, str], rows: list[Any]) -> str:
        if not desired:
            block = self.hub.renderer.block(
                self.page_template,
                self.list_block or self.list_id,
                {"rows": [], "csrf_input": CSRF_INPUT, "user": self.viewer.user, **self.context},
            )
            return oob(block, self.list_id)
        inner = "".join(fragments[rid] for rid in desired)
        return f'<ul id="{self.list_id}" hx-swap-oob="innerHTML">{inner}</ul>'

    def _diff(
        self,
        desired: list[int],
        fragments: dict[int, str],
        hashes: dict[int, int],
        by_id: dict[int, Any],
    ) -> list[str] | None:
        removed = [rid for rid in self.order if rid not in hashes]
        changed = [rid for rid in desired if self.hashes.get(rid) != hashes[rid]]
        changed_set = set(changed)
        if len(removed) + len(changed) > MAX_ROW_OPS:
            return None

        def shown(rid: int) -> str:
            # A brief highlight for rows that changed (or, without pinning, arrived) under the
            # viewer's eyes; not part of the remembered hash, so it is no change next time.
            if rid in self.pinned or (self.pin_new and rid not in self.hashes):
                return fragments[rid]
            return self.row_html(by_id[rid], "is-updated")

        parts = [delete_oob(f"row-{rid}") for rid in removed]
        kept = [rid for rid in self.order if rid in hashes]
        if kept == desired:
            # Same order: replace changed rows where they stand.
            parts += [oob(shown(rid), f"row-{rid}") for rid in changed]
            return parts
        stable_now = [rid for rid in desired if rid not in changed_set]
        stable_before = [rid for rid in kept if rid not in changed_set]
        if stable_now != stable_before:
            return None
        # Changed rows move: take them out, then put each before its successor, working
        # upwards so that every successor is already where it belongs.
        parts += [delete_oob(f"row-{rid}") for rid in changed if rid in self.hashes]
        for index in range(len(desired) - 1, -1, -1):
            rid = desired[index]
            if rid not in changed_set:
                continue
            if index + 1 < len(desired):
                parts.append(wrap_oob(f"beforebegin:#row-{desired[index + 1]}", shown(rid)))
            else:
                parts.append(wrap_oob(f"beforeend:#{self.list_id}", shown(rid)))
        return parts


def _is_new(row: BoardRow) -> bool:
    return row.request.state == State.NEW


def _first(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[0]


class BoardView(ListView):
    """The organisation dispatcher's board."""

    kind = "board"
    list_id = "board"
    page_template = "dispatch/board.html"
    row_template = "dispatch/_board_row.html"

    def in_scope(self, event: RequestEvent) -> bool:
        return event.organisation_id == self.viewer.actor.organisation_id

    def parse_filters(self, search: str) -> BoardFilters:
        query = parse_qs(search.lstrip("?"))
        category = _first(query, "category")
        return BoardFilters(
            state=_first(query, "state") or "open",
            category_id=int(category) if category.isdigit() else None,
            query=_first(query, "q")[:100],
        )

    async def load_context(self) -> None:
        async with self.hub.svc.db.read() as session:
            contractors: list[Organisation] = await queries.contractors_of(
                session, self.viewer.actor.organisation_id
            )
        self.context = {"contractors": contractors}

    async def fetch(self) -> list[BoardRow]:
        return await queries.dispatcher_board(self.hub.svc, self.viewer.actor, self.filters)


class JobsView(ListView):
    """A contractor's work orders, or a worker's own."""

    kind = "jobs"
    list_id = "jobs"
    page_template = "contractor/jobs.html"
    row_template = "requests/_row.html"

    def in_scope(self, event: RequestEvent) -> bool:
        return event.contractor_id == self.viewer.actor.organisation_id

    def parse_filters(self, search: str) -> BoardFilters:
        state = _first(parse_qs(search.lstrip("?")), "state")
        return BoardFilters(state=state if state in ("open", "all") else "open")

    async def fetch(self) -> list[BoardRow]:
        return await queries.contractor_jobs(self.hub.svc, self.viewer.actor, self.filters)


class MyRequestsView(ListView):
    """A resident's own requests («Мои заявки»), newest first, incl. those filed by phone."""

    kind = "my-requests"
    list_id = "my-requests"
    list_block = "my_requests"
    page_template = "resident/list.html"
    row_template = "requests/_row.html"
    pin_new = False  # newest first already

    def in_scope(self, event: RequestEvent) -> bool:
        return event.resident_id is not None and event.resident_id == self.viewer.user.id

    def parse_filters(self, search: str) -> BoardFilters:
        return BoardFilters()

    async def fetch(self) -> list[BoardRow]:
        return await queries.resident_requests(self.hub.svc, self.viewer.actor)


class FieldList(ListView):
    """One list of the worker's phone page; `FieldView` keeps both in step on one socket."""

    kind = "field"
    page_template = "field/jobs.html"
    row_template = "field/_job.html"
    pin_new = False  # the phone list is in deadline order: arrivals stay where they belong
    part: ClassVar[str]  # the FieldDay attribute this list shows
    whole_id: ClassVar[str]  # the element the page template's block renders

    def _whole(self, desired: list[int], fragments: dict[int, str], rows: list[Any]) -> str:
        # Always the block: it also carries the empty state, and a heading that only exists
        # while the list has rows.
        day = {"to_do": [], "done_today": [], self.part: rows}
        block = self.hub.renderer.block(
            self.page_template,
            self.list_block or self.list_id,
            {"day": day, "csrf_input": CSRF_INPUT, "user": self.viewer.user},
        )
        return oob(block, self.whole_id)


class FieldToDo(FieldList):
    list_id = whole_id = "field-jobs"
    list_block = part = "to_do"


class FieldDone(FieldList):
    list_id = "field-done"
    whole_id = "field-done-today"
    list_block = part = "done_today"


class FieldView(View):
    """The worker's phone list (`/field`): open jobs by deadline, and what was done today.

    The same reach as the page (`field.worker_day`): a worker's own jobs and the contractor's
    jobs not yet given to anyone; a contractor dispatcher's, all of the contractor's."""

    kind = "field"

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        super().__init__(hub, viewer)
        self.lists: tuple[FieldList, FieldList] = (FieldToDo(hub, viewer), FieldDone(hub, viewer))
        self.soon_at: datetime | None = None

    def concerns(self, event: RequestEvent) -> bool:
        # A job taken away (another contractor, withdrawn) concerns the list showing it.
        return event.contractor_id == self.viewer.actor.organisation_id or any(
            event.request_id in part.hashes for part in self.lists
        )

    def next_due(self) -> datetime | None:
        # Overdue flips at the deadline, the amber "due soon" two hours before it.
        times = [part.due_at for part in self.lists] + [self.soon_at]
        return min((t for t in times if t is not None), default=None)

    async def start(self, send: Send, hello: dict[str, Any]) -> None:
        await self.sync(send, whole=True)

    async def refresh(self, send: Send, pending: set[int], *, fresh: bool) -> None:
        await self.sync(send, whole=False)

    async def sync(self, send: Send, *, whole: bool) -> None:
        day = await field_mode.worker_day(self.hub.svc, self.viewer.actor)
        now = utcnow()
        turns_amber = (job.request.due_at - field_mode.SOON for job in day.to_do)
        self.soon_at = min((t for t in turns_amber if t > now), default=None)
        to_do, done = self.lists
        # To do first: a finished job leaves it before it arrives under «done today».
        parts = [to_do.plan(day.to_do, whole=whole), done.plan(day.done_today, whole=whole)]
        message = "\n".join(part for part in parts if part)
        if message:
            await send(personalise(message, self.viewer.csrf_token))


class CountsView(View):
    """The administration's figures: a signal to re-fetch `#live-counts`, at most every 2 s."""

    kind = "counts"
    target = "live-counts"

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        super().__init__(hub, viewer)
        self.last_sent = 0.0

    def concerns(self, event: RequestEvent) -> bool:
        return True  # the city administration sees every request

    async def start(self, send: Send, hello: dict[str, Any]) -> None:
        await self._signal(send)

    async def refresh(self, send: Send, pending: set[int], *, fresh: bool) -> None:
        wait = self.last_sent + COUNTS_INTERVAL - asyncio.get_running_loop().time()
        if wait > 0:
            # Changes arriving meanwhile are folded into this one refresh.
            await asyncio.sleep(wait)
            self.pending.clear()
            self.resync = False
            self.wake.clear()
        await self._signal(send)

    async def _signal(self, send: Send) -> None:
        self.last_sent = asyncio.get_running_loop().time()
        await send(control("refresh", target=self.target))


# --------------------------------------------------------------------------------------------
# The hub


@dataclass
class Hub:
    """One per process: the single bus subscription, fanned out to the open views."""

    svc: Services
    renderer: Renderer
    views: set[View] = field(default_factory=set)
    seq: int = 0
    _cache: dict[tuple[Any, ...], tuple[float, asyncio.Future[Any]]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready), name="live-hub")
        await ready.wait()

    async def stop(self) -> None:
        for view in list(self.views):
            view.shutdown(CLOSE_RESTART)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self, ready: asyncio.Event) -> None:
        async with self.svc.bus.subscribe() as messages:
            ready.set()
            async for message in messages:
                self.dispatch(message)

    def dispatch(self, message: BusMessage) -> None:
        self.seq += 1
        # Snapshots are shared only between views woken by the same message.
        self._cache.clear()
        for view in list(self.views):
            view.notify(message)

    def attach(self, view: View) -> None:
        self.views.add(view)

    def detach(self, view: View) -> None:
        self.views.discard(view)

    async def shared(self, key: tuple[Any, ...], factory: Callable[[], Awaitable[Any]]) -> Any:
        """Run `factory` once for every view asking the same thing after the same message."""
        key = (self.seq, *key)
        now = asyncio.get_running_loop().time()
        cached = self._cache.get(key)
        # Short-lived too: what changes with time alone (overdue) must not be served stale.
        if cached is None or now - cached[0] > SHARE_FOR:
            if len(self._cache) > 512:
                self._cache = {k: v for k, v in self._cache.items() if now - v[0] <= SHARE_FOR}
            task = asyncio.ensure_future(factory())
            task.add_done_callback(_retrieve)
            cached = self._cache[key] = (now, task)
        return await asyncio.shield(cached[1])

    async def request_snapshot(
        self, viewer: Viewer, request_id: int, *, fresh: bool = False
    ) -> RequestSnapshot | None:
        if fresh:
            return await self._request_snapshot(viewer, request_id)
        return await self.shared(  # type: ignore[no-any-return]
            ("request", request_id, viewer.user.id),
            lambda: self._request_snapshot(viewer, request_id),
        )

    async def _request_snapshot(self, viewer: Viewer, request_id: int) -> RequestSnapshot | None:
        try:
            page = await queries.request_page(self.svc, viewer.actor, request_id)
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
        render = self.renderer
        pieces = {
            element_id: oob(render.block("requests/detail.html", block, context), element_id)
            for block, element_id in (
                ("state", "request-state"),
                ("explanation", "request-explanation"),
                ("details", "request-details"),
                ("actions", "request-actions"),
            )
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
        due_at = (
            request.due_at
            if State(request.state) in OPEN_WORK_STATES and not page.overdue
            else None
        )
        return RequestSnapshot(entries=entries, pieces=pieces, due_at=due_at)


def _retrieve(task: asyncio.Future[Any]) -> None:
    # Every waiter may have gone away; don't let an exception go unobserved.
    if not task.cancelled():
        task.exception()


# --------------------------------------------------------------------------------------------
# One connection


async def serve(socket: WebSocket[Any, Any, Any], view: View) -> None:
    """Accept the socket and run the view until either side goes away."""
    hub = view.hub
    hub.attach(view)
    await socket.accept()

    async def read() -> None:
        while True:
            view.on_client(await socket.receive_text())

    reader = asyncio.create_task(read())
    writer = asyncio.create_task(view.run(socket.send_text))
    try:
        done, pending = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        code: int | None = None
        for task in done:
            exc = task.exception()
            if isinstance(exc, Closed):
                code = exc.code
            elif exc is not None and not isinstance(exc, WebSocketDisconnect | OSError):
                log.exception("live %s view failed", view.kind, exc_info=exc)
                code = 1011  # the htmx ws extension reconnects after 1011
        if code is not None:
            with contextlib.suppress(Exception):
                await socket.close(code=code)
    finally:
        reader.cancel()
        writer.cancel()
        hub.detach(view)


__all__ = [
    "BoardView",
    "Closed",
    "CountsView",
    "FieldView",
    "Hub",
    "JobsView",
    "MyRequestsView",
    "RequestView",
    "Viewer",
    "serve",
]
