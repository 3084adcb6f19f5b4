"""A contractor's work orders, or a worker's own."""

from __future__ import annotations

from server.live.views.lists import ListView, search_value
from server.requests import lists as request_lists
from server.requests.lists import JOB_FILTERS, BoardFilters, BoardRow
from server.shared.events import RequestEvent
from server.shared.roles import Role

STATES = (*JOB_FILTERS, "all")


class JobsView(ListView):
    kind = list_id = "jobs"
    roles = (Role.CONTRACTOR, Role.WORKER)
    page_template, row_template = "contractor/jobs.html", "contractor/_job_row.html"

    def in_scope(self, event: RequestEvent) -> bool:
        return event.contractor_id == self.viewer.actor.organisation_id

    def parse_filters(self, search: str) -> BoardFilters:
        state = search_value(search, "state")
        return BoardFilters(state=state if state in STATES else "open")

    async def fetch(self) -> list[BoardRow]:
        return await request_lists.contractor_jobs(self.hub.svc, self.viewer.actor, self.filters)
