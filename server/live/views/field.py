"""The worker's phone list (`/field`): open jobs by deadline, and what was done today.

The same reach as the page (`field.worker_day`): a worker's own jobs and the contractor's jobs
not yet given to anyone; a contractor dispatcher's, all of the contractor's."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from server.db.models import utcnow
from server.live.hub import Hub
from server.live.render import CSRF_INPUT, oob
from server.live.views.base import View, Viewer
from server.live.views.lists import Fetched, ListView
from server.requests import field as field_mode
from server.shared.events import RequestEvent
from server.shared.roles import Role


class FieldList(ListView):
    """One list of the phone page; `FieldView` keeps both in step on one socket."""

    kind = "field"
    page_template, row_template = "field/jobs.html", "field/_job.html"
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
    kind = "field"
    roles = (Role.CONTRACTOR, Role.WORKER)

    def __init__(self, hub: Hub, viewer: Viewer) -> None:
        super().__init__(hub, viewer)
        self.lists: tuple[FieldList, FieldList] = (FieldToDo(hub, viewer), FieldDone(hub, viewer))
        self.soon_at: datetime | None = None

    def concerns(self, event: RequestEvent) -> bool:
        # A job taken away (another contractor, withdrawn) concerns the list showing it.
        return event.contractor_id == self.viewer.actor.organisation_id or any(
            event.request_id in part.state.order for part in self.lists
        )

    def next_due(self) -> datetime | None:
        # Overdue flips at the deadline, the amber "due soon" two hours before it.
        times = [part.state.due_at for part in self.lists] + [self.soon_at]
        return min((t for t in times if t is not None), default=None)

    async def start(self, hello: dict[str, Any]) -> str:
        return await self.sync(whole=True)

    async def update(self, pending: set[int], *, resync: bool, fresh: bool) -> str:
        return await self.sync(whole=False)

    async def sync(self, *, whole: bool) -> str:
        async def read() -> tuple[Fetched, Fetched, datetime | None]:
            day = await field_mode.worker_day(self.hub.svc, self.viewer.actor)
            now = utcnow()
            turns_amber = (job.request.due_at - field_mode.SOON for job in day.to_do)
            soon_at = min((t for t in turns_amber if t > now), default=None)
            return Fetched(day.to_do), Fetched(day.done_today), soon_at

        to_do_rows, done_rows, self.soon_at = await self.hub.shared(
            ("field-day", self.audience), read, opening=whole
        )
        to_do, done = self.lists
        # To do first: a finished job leaves it before it arrives under «done today».
        to_do_message, to_do.state = to_do.planned(to_do_rows, to_do.state, whole=whole)
        done_message, done.state = done.planned(done_rows, done.state, whole=whole)
        return "\n".join(part for part in (to_do_message, done_message) if part)
