"""The organisation dispatcher's board."""

from __future__ import annotations

from typing import Any

from server.db.models import Organisation
from server.live.views.lists import ListView, search_value
from server.requests import lists as request_lists
from server.requests import queries
from server.requests.lists import BoardFilters, BoardRow
from server.shared.events import RequestEvent
from server.shared.roles import Role


class BoardView(ListView):
    kind = list_id = "board"
    roles = (Role.DISPATCHER,)
    page_template, row_template = "dispatch/board.html", "dispatch/_board_row.html"

    def in_scope(self, event: RequestEvent) -> bool:
        return event.organisation_id == self.viewer.actor.organisation_id

    def parse_filters(self, search: str) -> BoardFilters:
        category = search_value(search, "category")
        return BoardFilters(
            state=search_value(search, "state") or "open",
            category_id=int(category) if category.isdigit() else None,
            query=search_value(search, "q")[:100],
        )

    async def load_context(self) -> dict[str, Any]:
        async with self.hub.svc.db.read() as session:
            contractors: list[Organisation] = await queries.contractors_of(
                session, self.viewer.actor.organisation_id
            )
        return {"contractors": contractors}

    async def fetch(self) -> list[BoardRow]:
        return await request_lists.dispatcher_board(self.hub.svc, self.viewer.actor, self.filters)
