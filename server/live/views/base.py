"""What every live view does: say which changes concern it, build its messages, close.

A view holds what its page shows; the hub calls `start` once the page has said hello and
`update` after changes. Both return the message to send (or raise `Closed`), and views of one
audience in one state return the very same string, built once (`Hub.memo`)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from server.db.models import User
from server.live.audience import Audience, audience_of
from server.live.connection import Outbox
from server.shared.events import IncidentEvent, RequestEvent
from server.shared.outage import is_outage
from server.shared.roles import Actor, Role

if TYPE_CHECKING:
    from server.live.hub import Hub

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 5.0  # a page that never says what it has gets everything
MAX_CLIENT_MESSAGE = 64 * 1024
CLOSE_GONE = 4403  # the viewer may no longer see this: the page must not reconnect
CLOSE_RESTART = 1012  # server going away: the htmx ws extension reconnects (elsewhere)
CLOSE_FAILED = 1011  # the view broke: the htmx ws extension reconnects after 1011
CLOSE_TRY_LATER = 1013  # the database does not answer: the extension reconnects with back-off


class Closed(Exception):
    """End the page's channel with `code`, after `last_word` if there is one."""

    def __init__(self, code: int, last_word: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.last_word = last_word


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The signed-in person as far as live templates look at them (`user.role`,
    `actions_for(user, …)`), kept instead of the ORM `User` for as long as a socket is open."""

    id: int
    role: str
    organisation_id: int | None

    @classmethod
    def of(cls, user: User) -> SignedIn:
        return cls(id=user.id, role=user.role, organisation_id=user.organisation_id)


@dataclass(frozen=True, slots=True)
class Viewer:
    user: SignedIn
    actor: Actor
    locale: str  # what the page is read and rendered in, as the pages it came from


class View:
    kind: ClassVar[str] = "view"
    # Who may open this page kind (empty: anybody signed in; the view checks the rest).
    roles: ClassVar[tuple[Role, ...]] = ()
    # Whether calls on the single number change what this page shows (`CallEvent`).
    follows_calls: ClassVar[bool] = False

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        self.hub = hub
        self.viewer = viewer
        self.audience: Audience = audience_of(viewer.actor, locale=viewer.locale)
        self.outbox: Outbox | None = None
        self.greeted = False
        self.hello: dict[str, Any] | None = None
        # Set by the hub: changes not yet shown, and what it is doing with this view.
        self.pending: set[int] = set()
        self.resync = False
        self.timer_fired = False
        self.started = False
        self.busy = False
        self._timer: asyncio.TimerHandle | None = None
        self._due: datetime | None = None

    # ---- asked by the hub, in its own loop: decide cheaply ----

    def concerns(self, event: RequestEvent) -> bool:
        raise NotImplementedError

    def watched_request(self) -> int | None:
        """The one request whose changes alone concern this view, if so (the hub then asks
        it about no other)."""
        return None

    def concerns_incident(self, event: IncidentEvent) -> bool:
        """Only pages that show incidents care about them."""
        return False

    def group(self) -> Hashable:
        """Views refreshed together, one after another, sharing what the first one reads."""
        return (self.kind, self.audience)

    def next_due(self) -> datetime | None:
        return None

    @classmethod
    async def read_ahead(cls, hub: Hub, views: list[View]) -> None:
        """Before a flush brings `views` (all of this kind) up to date: read for many of them
        at once what each would read alone, and leave it with `hub.provide`."""

    async def start(self, hello: dict[str, Any]) -> str:
        raise NotImplementedError

    async def update(self, pending: set[int], *, resync: bool, fresh: bool) -> str:
        raise NotImplementedError

    # ---- the page's side ----

    def on_client(self, raw: str) -> None:
        if len(raw) > MAX_CLIENT_MESSAGE:
            return
        try:
            data = json.loads(raw)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("type") == "hello":
            # A second hello: the page re-synced (it came back to the tab, say).
            self.hello = data
            self.greeted = True
            self.hub.open(self, data)

    def hello_missing(self) -> None:
        """The page never said what it shows: it gets everything."""
        if not self.greeted:
            self.greeted = True
            self.hub.open(self, {})

    async def deliver(self, message: Awaitable[str]) -> None:
        """Put what `start` or `update` built in the outbox; close on `Closed` or failure."""
        outbox = self.outbox
        try:
            text = await message
        except Closed as closed:
            if outbox is not None:
                outbox.offer(closed.last_word)
                outbox.close(closed.code)
            return
        except Exception as exc:
            if is_outage(exc):
                # Not 1011: the page comes back with back-off and catches up from its last entry.
                log.info("live %s view closed: database unavailable (%s)", self.kind, exc)
                code = CLOSE_TRY_LATER
            else:
                log.exception("live %s view failed", self.kind)
                code = CLOSE_FAILED
            if outbox is not None:
                outbox.close(code)
            return
        if outbox is not None:
            outbox.offer(text)
        due = self.next_due()
        if self._timer is None or due != self._due:  # else already set for that moment
            self.disarm()
            self._due = due
            self._timer = self.hub.arm(self)

    def behind(self) -> None:
        """The page missed messages (its outbox overflowed): it gets its whole state again."""
        self.hub.open(self, self.hello or {})

    def shutdown(self, code: int = CLOSE_RESTART) -> None:
        if self.outbox is not None:
            self.outbox.close(code)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
