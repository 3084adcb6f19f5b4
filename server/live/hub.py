"""The hub: one per process, the single bus subscription fanned out to the open views.

A message marks the views it concerns; one flush then brings them up to date, group by group
(`View.group`: the pages of one audience that show the same thing). Within a group the first
view reads and renders, the others find the result in the hub's memo: the database is read and
each row rendered once per audience and change, and the message for each distinct page state
is built once and put, as the same string, into every socket's outbox of that state, which
writes it at once from this loop (`server.live.connection`). No view runs a task of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

from server.db.models import utcnow
from server.i18n import set_locale
from server.live.bus import BusMessage, Resync
from server.live.render import Renderer
from server.shared.events import (
    AccountEvent,
    CallEvent,
    IncidentEvent,
    RequestEvent,
    RequestsChanged,
)
from server.shared.services import Services

if TYPE_CHECKING:
    from server.live.views.base import View

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long a page that opens may reuse what another page of its audience read: opening a
# thousand pages at once reads once, yet a page opened later never starts from old data.
OPEN_SHARE_FOR = 1.0
LATE = 0.5  # seconds after a deadline at which the views that show it re-read


class Hub:
    def __init__(self, svc: Services, renderer: Renderer) -> None:
        self.svc = svc
        self.renderer = renderer
        self.views: set[View] = set()
        # The views that watch one request only, by it, and the rest: a change of a request
        # asks only its own pages and the general ones (lists, boards) whether it concerns them.
        self._of_request: dict[int, set[View]] = {}
        self._general: set[View] = set()
        self.seq = 0  # changes dispatched so far (messages and deadlines that passed)
        self._memo: dict[Hashable, tuple[float, Any]] = {}
        self._dirty: set[View] = set()
        self._flushing: asyncio.Task[None] | None = None
        self._starting: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready), name="live-hub")
        await ready.wait()

    async def stop(self) -> None:
        for view in list(self.views):
            view.shutdown()  # the page reconnects, to this process or another
        tasks = [t for t in (self._task, self._flushing, *self._starting) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._task = self._flushing = None

    async def _run(self, ready: asyncio.Event) -> None:
        async with self.svc.bus.subscribe() as messages:
            ready.set()
            async for message in messages:
                self.dispatch(message)

    # ---- who is watching ----

    def attach(self, view: View) -> None:
        self.views.add(view)
        one = view.watched_request()
        if one is None:
            self._general.add(view)
        else:
            self._of_request.setdefault(one, set()).add(view)

    def detach(self, view: View) -> None:
        self.views.discard(view)
        self._general.discard(view)
        one = view.watched_request()
        if one is not None and one in self._of_request:
            self._of_request[one].discard(view)
            if not self._of_request[one]:
                del self._of_request[one]
        self._dirty.discard(view)
        view.disarm()

    # ---- what changed ----

    def dispatch(self, message: BusMessage) -> None:
        if isinstance(message, AccountEvent):
            # Who may watch was decided at the handshake: the pages reconnect and are asked
            # again (a switched-off account is then signed out, a new role sees its own pages).
            for view in self.views:
                if view.viewer.user.id == message.user_id:
                    view.shutdown()
            return
        self._next_change()
        if isinstance(message, RequestEvent | RequestsChanged):
            # Many requests of one transaction arrive as one message: one change, so the
            # pages of all of them are brought up to date by one flush, read together.
            for event in message.events if isinstance(message, RequestsChanged) else (message,):
                for view in (*self._general, *self._of_request.get(event.request_id, ())):
                    if view.concerns(event):
                        view.pending.add(event.request_id)
                        self._dirty.add(view)
            self._schedule()
            return
        for view in self.views:
            if isinstance(message, IncidentEvent):
                if not view.concerns_incident(message):
                    continue
            elif isinstance(message, Resync):
                view.resync = True
            elif isinstance(message, CallEvent) and not view.follows_calls:
                continue
            self._dirty.add(view)
        self._schedule()

    def deadline_passed(self, view: View) -> None:
        """A deadline the view shows has passed: it re-reads, though nothing was published."""
        self._next_change()
        view.disarm()  # fired: the next delivery sets it again
        view.timer_fired = True
        self._dirty.add(view)
        self._schedule()

    def open(self, view: View, hello: dict[str, Any]) -> None:
        """The page said what it shows (or never will): send it its first state."""
        task = asyncio.create_task(self._open(view, hello), name=f"live-open-{view.kind}")
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    def _next_change(self) -> None:
        self.seq += 1
        # What was read and rendered for the last change is of no use for the next.
        self._memo.clear()

    def _schedule(self) -> None:
        if self._dirty and (self._flushing is None or self._flushing.done()):
            self._flushing = asyncio.create_task(self._flush(), name="live-flush")

    async def _open(self, view: View, hello: dict[str, Any]) -> None:
        set_locale(view.viewer.locale)  # this task's own: it renders in the page's language
        view.busy = True
        view.pending.clear()
        view.resync = False
        try:
            await view.deliver(view.start(hello))
            view.started = True
        finally:
            view.busy = False
        if view.pending or view.resync:
            self._dirty.add(view)
            self._schedule()

    async def _flush(self) -> None:
        while self._dirty:
            waiting = [v for v in self._dirty if v.started and not v.busy]
            self._dirty.difference_update(waiting)
            if not waiting:
                return  # views being opened come back here once they are
            groups: dict[Hashable, list[View]] = {}
            for view in waiting:
                groups.setdefault(view.group(), []).append(view)
            await self._read_ahead(waiting)
            await asyncio.gather(*(self._update(group) for group in groups.values()))

    async def _read_ahead(self, views: list[View]) -> None:
        """One change of many requests (an incident resolved) marks many pages at once: each
        kind of page reads for all of them together. Should that fail, each reads alone."""
        kinds: dict[type[View], list[View]] = {}
        for view in views:
            kinds.setdefault(type(view), []).append(view)
        for kind, of_kind in kinds.items():
            try:
                await kind.read_ahead(self, of_kind)
            except Exception:
                log.info("live %s pages read one by one", kind.kind, exc_info=True)

    async def _update(self, group: list[View]) -> None:
        # One after another: the first reads, the rest find the result in the memo. A group
        # is one audience, and so one language, set for this task alone.
        set_locale(group[0].viewer.locale)
        for view in group:
            if view not in self.views:
                continue
            pending, view.pending = view.pending, set()
            resync, view.resync = view.resync, False
            fresh, view.timer_fired = view.timer_fired, False
            view.busy = True
            try:
                await view.deliver(view.update(pending, resync=resync, fresh=fresh))
            finally:
                view.busy = False

    # ---- shared work ----

    async def shared(
        self, key: Hashable, factory: Callable[[], Awaitable[T]], *, opening: bool = False
    ) -> T:
        """`factory()` run once for every view asking `key` about the same change. A page
        that is opening takes only what was read in the last `OPEN_SHARE_FOR` seconds."""
        now = asyncio.get_running_loop().time()
        cached = self._memo.get(key)
        if cached is None or (opening and now - cached[0] > OPEN_SHARE_FOR):
            task = asyncio.get_running_loop().create_task(_awaited(factory), name="live-read")
            task.add_done_callback(_retrieve)
            cached = self._memo[key] = (now, task)
        result: T = await asyncio.shield(cached[1])
        return result

    def provide(self, key: Hashable, value: object) -> None:
        """What `shared(key, …)` would read, read already (`View.read_ahead`)."""
        done = asyncio.get_running_loop().create_future()
        done.set_result(value)
        self._memo[key] = (asyncio.get_running_loop().time(), done)

    def has(self, key: Hashable) -> bool:
        return key in self._memo

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """`build()` once per key and change: the message for one page state, a row."""
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = (0.0, build())
        value: T = cached[1]
        return value

    def arm(self, view: View) -> asyncio.TimerHandle | None:
        due = view.next_due()
        if due is None:
            return None
        delay = max(0.0, (due - utcnow()).total_seconds()) + LATE
        return asyncio.get_running_loop().call_later(delay, self.deadline_passed, view)


async def _awaited(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


def _retrieve(task: asyncio.Future[Any]) -> None:
    # Every waiter may have gone away; don't let an exception go unobserved.
    if not task.cancelled():
        task.exception()
