"""A list of requests kept in step with the database: the board, the job lists.

Sent whole on (re)connect, then by row: `list_diff` decides which rows to take out, replace or
move, this module renders those operations as out-of-band swaps."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs

from server.db.models import Request, utcnow
from server.live.hub import Hub
from server.live.list_diff import RowPatch, diff_rows, pinned_order
from server.live.render import CSRF_INPUT, delete_oob, oob, wrap_oob
from server.live.views.base import View, Viewer
from server.requests.lists import BoardFilters
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


@dataclass(frozen=True)
class ListState:
    """What a page's list shows: its rows top to bottom, each row's hash, the pinned rows."""

    order: tuple[int, ...] = ()
    hashes: tuple[int, ...] = ()  # of the rows in `order`, in that order
    pinned: tuple[int, ...] = ()  # arrived while watching: on top, highlighted
    due_at: datetime | None = None  # the next moment a row turns overdue

    def hash_of(self) -> dict[int, int]:
        return dict(zip(self.order, self.hashes, strict=True))


class Fetched:
    """One read of a list for one audience, and its rows rendered as they are asked for."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        self.by_id = {r.request.id: r for r in rows}
        self.rendered: dict[tuple[int, str], str] = {}


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
        self.state = ListState()
        self.context: dict[str, Any] = {}

    def in_scope(self, event: RequestEvent) -> bool:
        raise NotImplementedError

    def concerns(self, event: RequestEvent) -> bool:
        # A request that leaves (transferred away, reassigned) must leave the list too.
        return self.in_scope(event) or event.request_id in self.state.order

    def group(self) -> tuple[Hashable, ...]:
        return (self.kind, self.audience, self.filters)

    def next_due(self) -> datetime | None:
        return self.state.due_at

    def parse_filters(self, search: str) -> BoardFilters:
        return BoardFilters()

    async def fetch(self) -> list[Any]:
        raise NotImplementedError

    async def load_context(self) -> dict[str, Any]:
        return {}

    async def fetched(self, *, opening: bool = False) -> Fetched:
        async def read() -> Fetched:
            return Fetched(await self.fetch())

        return await self.hub.shared(("rows", *self.group()), read, opening=opening)

    async def start(self, hello: dict[str, Any]) -> str:
        self.filters = self.parse_filters(str(hello.get("search") or ""))
        self.context = await self.hub.shared(
            ("context", self.kind, self.audience), self.load_context, opening=True
        )
        fetched = await self.fetched(opening=True)
        pinned: tuple[int, ...] = ()
        known_raw = hello.get("rows")
        if isinstance(known_raw, list) and self.pin_new:
            known = {int(i) for i in known_raw if str(i).isdigit()}
            arrived = [
                r.request.id for r in fetched.rows if r.request.id not in known and is_new(r)
            ]
            pinned = tuple(reversed(arrived))
        message, self.state = self.planned(fetched, ListState(pinned=pinned), whole=True)
        return message

    async def update(self, pending: set[int], *, resync: bool, fresh: bool) -> str:
        message, self.state = self.planned(await self.fetched(), self.state, whole=False)
        return message

    def planned(self, fetched: Fetched, state: ListState, *, whole: bool) -> tuple[str, ListState]:
        """`plan`, once per list read and page state: pages in one state share the message."""
        return self.hub.memo(
            ("list-message", id(fetched), self.list_id, state, whole),
            lambda: self.plan(fetched, state, whole=whole),
        )

    def row_html(self, fetched: Fetched, rid: int, row_class: str = "") -> str:
        key = (rid, row_class)
        html = fetched.rendered.get(key)
        if html is None:
            html = fetched.rendered[key] = self.hub.renderer.template(
                self.row_template,
                {
                    "row": fetched.by_id[rid],
                    "row_class": row_class,
                    "csrf_input": CSRF_INPUT,
                    "user": self.viewer.user,
                    "viewer_role": self.viewer.actor.role,
                    **self.context,
                },
            )
        return html

    def plan(self, fetched: Fetched, state: ListState, *, whole: bool) -> tuple[str, ListState]:
        """The message that turns what a page in `state` shows into `fetched`, and the state
        the page is in afterwards."""
        rows = fetched.rows
        due_at = next_deadline(rows, utcnow())
        if not whole and not rows and not state.order:
            return "", replace(state, due_at=due_at)  # empty before, empty now
        shown = state.hash_of()
        pinned_list, desired = pinned_order(
            list(state.pinned),
            [(r.request.id, is_new(r)) for r in rows],
            shown,
            pin_arrivals=self.pin_new and not whole,
        )
        pinned = set(pinned_list)
        fragments = {
            rid: self.row_html(fetched, rid, "is-new" if rid in pinned else "") for rid in desired
        }
        hashes = {rid: hash(fragment) for rid, fragment in fragments.items()}
        patch = None
        if not whole and state.order and desired:
            patch = diff_rows(list(state.order), shown, desired, hashes)
        if patch is None:
            message = self._whole(desired, fragments, rows)
        else:
            message = "\n".join(self._patch(patch, fragments, fetched, pinned, shown))
        after = ListState(
            order=tuple(desired),
            hashes=tuple(hashes[rid] for rid in desired),
            pinned=tuple(pinned_list),
            due_at=due_at,
        )
        return message, after

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
        self,
        patch: RowPatch,
        fragments: dict[int, str],
        fetched: Fetched,
        pinned: set[int],
        shown: dict[int, int],
    ) -> list[str]:
        def fragment(rid: int) -> str:
            # A brief highlight for rows that changed (or, without pinning, arrived) under the
            # viewer's eyes; not part of the remembered hash, so it is no change next time.
            if rid in pinned or (self.pin_new and rid not in shown):
                return fragments[rid]
            return self.row_html(fetched, rid, "is-updated")

        parts = [delete_oob(f"row-{rid}") for rid in patch.removed]
        parts += [oob(fragment(rid), f"row-{rid}") for rid in patch.replaced]
        parts += [delete_oob(f"row-{rid}") for rid in patch.lifted]
        for rid, successor in patch.placed:
            where = (
                f"beforeend:#{self.list_id}"
                if successor is None
                else f"beforebegin:#row-{successor}"
            )
            parts.append(wrap_oob(where, fragment(rid)))
        return parts
