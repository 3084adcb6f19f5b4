"""The operator's live call cards: a call that rings appears on every free operator's page,
an answered one stays on its operator's page only, and both go when the call is over.

All operators' pages are one group: the first reads the open calls, the others take that read
from the hub, and each distinct set of cards is rendered once."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from server.live.hub import Hub
from server.live.render import oob
from server.live.views.base import View, Viewer
from server.phone.cards import CallCard, open_calls, shown_to
from server.shared.events import RequestEvent
from server.shared.roles import Role

TEMPLATE, BLOCK, ELEMENT = "operator/index.html", "call_cards", "call-cards"


class CallsView(View):
    kind = "calls"
    roles = (Role.OPERATOR,)
    follows_calls = True

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        super().__init__(hub, viewer)
        self.residents: set[int] = set()  # the callers on the cards shown, for their requests
        self.last = ""

    def concerns(self, event: RequestEvent) -> bool:
        return event.resident_id is not None and event.resident_id in self.residents

    def group(self) -> Hashable:
        return (self.kind, self.viewer.locale)

    async def start(self, hello: dict[str, Any]) -> str:
        self.last = ""
        return await self._message(opening=True)

    async def update(self, pending: set[int], *, resync: bool, fresh: bool) -> str:
        return await self._message()

    async def _message(self, *, opening: bool = False) -> str:
        cards = await self.hub.shared(("calls",), self._read, opening=opening)
        mine = shown_to(cards, self.viewer.user.id)
        self.residents = {c.resident.id for c in mine if c.resident is not None}
        key = ("calls-html", id(cards), self.viewer.locale, tuple(c.call.id for c in mine))
        text = self.hub.memo(key, lambda: self._render(mine))
        if text == self.last:
            return ""  # nothing this operator sees has changed
        self.last = text
        return text

    async def _read(self) -> list[CallCard]:
        async with self.hub.svc.db.read() as session:
            return await open_calls(session)

    def _render(self, cards: list[CallCard]) -> str:
        fragment = self.hub.renderer.block(TEMPLATE, BLOCK, {"call_cards": cards})
        return oob(fragment, ELEMENT)
