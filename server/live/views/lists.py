"""A list of requests kept in step with the database: the board, the job lists.

Sent whole on (re)connect, then by row: `list_diff` decides which rows to take out, replace or
move, this module renders those operations as out-of-band swaps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs

from server.db.models import Request, utcnow
from server.live.hub import Hub
from server.live.list_diff import RowPatch, diff_rows, pinned_order
from server.live.render import CSRF_INPUT, delete_oob, oob, personalise, wrap_oob
from server.live.views.base import Send, View, Viewer
from server.requests.queries import BoardFilters
from server.requests.workflow import OPEN_WORK_STATES, UNASSIGNED_STATES, State
from server.shared.events import RequestEvent


class Row(Protocol):
    """A `BoardRow`, or anything shaped like one."""

    @property
    def request(self) -> Request: ...
    @property
    def overdue(self) -> bool: ...


def is_new(row: Row) -> bool:
    return State(row.request.state) in UNASSIGNED_STATES


def search_value(search: str, name: str) -> str:
    """The first value of `name` in the page's query string («?state=open&q=…»)."""
    return (parse_qs(search.lstrip("?")).get(name) or [""])[0]


def next_deadline(rows: list[Any], now: datetime) -> datetime | None:
    """The next moment a row of open work turns overdue."""
    upcoming = [
        r.request.due_at
        for r in rows
        if State(r.request.state) in OPEN_WORK_STATES and not r.overdue
    ]
    return min((d for d in upcoming if d > now), default=None)


class ListView(View):
    list_id: ClassVar[str]
    # The page template's block that renders the list element (default: named like its id).
    list_block: ClassVar[str | None] = None
    page_template: ClassVar[str]
    row_template: ClassVar[str]
    # New requests that arrive while the page is open go on top, highlighted (`.is-new`): the
    # dispatcher's triage order. Lists in their own fixed order (by deadline, newest first)
    # leave that off and briefly highlight every row that arrives instead.
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
        return BoardFilters()

    async def fetch(self) -> list[Any]:
        raise NotImplementedError

    async def load_context(self) -> None:
        return None

    async def start(self, send: Send, hello: dict[str, Any]) -> None:
        self.filters = self.parse_filters(str(hello.get("search") or ""))
        await self.load_context()
        rows = await self.fetch()
        known_raw = hello.get("rows")
        if isinstance(known_raw, list) and self.pin_new:
            known = {int(i) for i in known_raw if str(i).isdigit()}
            self.pinned = [r.request.id for r in rows if r.request.id not in known and is_new(r)]
            self.pinned.reverse()
        self.order, self.hashes = [], {}
        await send(personalise(self.plan(rows, whole=True), self.viewer.csrf_token))

    async def refresh(self, send: Send, pending: set[int], *, fresh: bool) -> None:
        message = self.plan(await self.fetch(), whole=False)
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
        """The message that turns what the page shows into `rows`, and remember the result."""
        if not whole and not rows and not self.order:
            return ""  # empty before, empty now
        by_id = {r.request.id: r for r in rows}
        self.pinned, desired = pinned_order(
            self.pinned,
            [(r.request.id, is_new(r)) for r in rows],
            self.hashes,
            pin_arrivals=self.pin_new and not whole,
        )
        pinned = set(self.pinned)
        fragments = {
            rid: self.row_html(by_id[rid], "is-new" if rid in pinned else "") for rid in desired
        }
        hashes = {rid: hash(fragment) for rid, fragment in fragments.items()}
        self.due_at = next_deadline(rows, utcnow())
        patch = None
        if not whole and self.order and desired:
            patch = diff_rows(self.order, self.hashes, desired, hashes)
        if patch is None:
            message = self._whole(desired, fragments, rows)
        else:
            message = "\n".join(self._patch(patch, fragments, by_id))
        self.order, self.hashes = desired, hashes
        return message

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

    def _patch(
        self, patch: RowPatch, fragments: dict[int, str], by_id: dict[int, Any]
    ) -> list[str]:
        def shown(rid: int) -> str:
            # A brief highlight for rows that changed (or, without pinning, arrived) under the
            # viewer's eyes; not part of the remembered hash, so it is no change next time.
            if rid in self.pinned or (self.pin_new and rid not in self.hashes):
                return fragments[rid]
            return self.row_html(by_id[rid], "is-updated")

        parts = [delete_oob(f"row-{rid}") for rid in patch.removed]
        parts += [oob(shown(rid), f"row-{rid}") for rid in patch.replaced]
        parts += [delete_oob(f"row-{rid}") for rid in patch.lifted]
        for rid, successor in patch.placed:
            where = (
                f"beforeend:#{self.list_id}"
                if successor is None
                else f"beforebegin:#row-{successor}"
            )
            parts.append(wrap_oob(where, shown(rid)))
        return parts
