"""A resident's own requests («Мои заявки»), newest first, incl. those filed by phone."""

from __future__ import annotations

from server.live.views.lists import ListView
from server.requests import lists as request_lists
from server.requests.lists import BoardRow
from server.shared.events import RequestEvent
from server.shared.roles import Role


class MyRequestsView(ListView):
    kind = list_id = "my-requests"
    roles = (Role.RESIDENT,)
    list_block = "my_requests"
    page_template, row_template = "resident/list.html", "requests/_row.html"
    pin_new = False  # newest first already

    def in_scope(self, event: RequestEvent) -> bool:
        return event.resident_id is not None and event.resident_id == self.viewer.user.id

    async def fetch(self) -> list[BoardRow]:
        return await request_lists.resident_requests(self.hub.svc, self.viewer.actor)
