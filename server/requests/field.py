"""Field mode: a worker's jobs for the day, one job on the phone, and completing it from there.

Completing goes through `requests.perform` like every other change; this module only adds what
a phone on a weak connection needs: an answer that tells a retried send from a new one, and a
send that raced its own retry reported as the success it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.db.models import Attachment, Request, WorkOrder, utcnow
from server.i18n import gettext as _
from server.requests import queries
from server.requests.actions import ActionInput, perform
from server.requests.deadlines import TOWN_TZ, is_overdue
from server.requests.visibility import visible_to
from server.requests.workflow import CONTRACTOR_WORK_STATES, FIXED_STATES, Action, State
from server.shared.errors import InvalidInput, StaleChange, TransitionRefused
from server.shared.roles import Actor
from server.shared.services import Services

SOON = timedelta(hours=2)
MAX_KEY = 64


@dataclass
class FieldJob:
    request: Request
    work_order: WorkOrder | None
    overdue: bool
    due_soon: bool

    @property
    def phone(self) -> str | None:
        return self.request.contact_phone or self.request.resident.phone

    @property
    def work_owed(self) -> bool:
        """Still to go and do: the deadline and the resident's phone matter."""
        return State(self.request.state) in CONTRACTOR_WORK_STATES


@dataclass
class FieldDay:
    to_do: list[FieldJob]
    done_today: list[FieldJob]


@dataclass
class Completion:
    request_id: int
    created: bool  # False: this completion key was already recorded, nothing changed
    state: str
    qr_status: str  # confirmed | mismatch | missing
    message: str


def start_of_local_day(now: datetime) -> datetime:
    local = now.astimezone(TOWN_TZ)
    return datetime.combine(local.date(), time.min, tzinfo=TOWN_TZ)


async def worker_day(svc: Services, actor: Actor) -> FieldDay:
    """Open jobs of this worker (or of the whole contractor), overdue first, then by deadline.

    Finished jobs stay listed for the day, so the worker sees that the send arrived."""
    now = utcnow()
    query = (
        select(Request)
        .where(visible_to(actor))
        .options(
            selectinload(Request.building),
            selectinload(Request.category),
            selectinload(Request.resident),
        )
    )
    open_query = query.where(Request.state.in_(CONTRACTOR_WORK_STATES)).order_by(
        Request.due_at, Request.id
    )
    done_query = query.where(
        Request.state.in_(FIXED_STATES),
        Request.done_at >= start_of_local_day(now),
    ).order_by(Request.done_at.desc())
    async with svc.db.read() as session:
        open_requests = list(await session.scalars(open_query.limit(200)))
        done_requests = list(await session.scalars(done_query.limit(50)))
        ids = [r.id for r in open_requests + done_requests]
        active = select(WorkOrder).where(WorkOrder.request_id.in_(ids), WorkOrder.active.is_(True))
        orders = {o.request_id: o for o in await session.scalars(active)} if ids else {}

    def job(request: Request) -> FieldJob:
        overdue = is_overdue(State(request.state), request.due_at, now)
        owed = State(request.state) in CONTRACTOR_WORK_STATES
        soon = not overdue and owed and request.due_at - now < SOON
        return FieldJob(request, orders.get(request.id), overdue, soon)

    to_do = [job(r) for r in open_requests]
    # Sorted by deadline already; a stable sort lifts the overdue ones to the top.
    to_do.sort(key=lambda j: not j.overdue)
    return FieldDay(to_do=to_do, done_today=[job(r) for r in done_requests])


async def complete(
    svc: Services,
    actor: Actor,
    request_id: int,
    photo: bytes | None,
    key: str | None,
    version: int,
) -> Completion:
    """Mark the job done with the photo of the signed sheet; a repeated key changes nothing.

    `version` is the request's as the phone showed the job, however long the send waited: a
    request changed since is StaleChange, and the phone keeps the photo to send again."""
    key = (key or "").strip()[:MAX_KEY] or None
    data = ActionInput(expected_version=version, photo=photo, completion_key=key)
    try:
        outcome = await perform(svc, actor, request_id, Action.COMPLETE, data)
    except (StaleChange, TransitionRefused):
        # Two sends of one completion (the page and the service worker, or a retry after a
        # lost answer) can overlap: the loser finds the winner's result by the key.
        if key is None:
            raise
        outcome = await perform(svc, actor, request_id, Action.COMPLETE, data)
    if outcome.request.id != request_id:
        # A key is made on the phone for one job; reused for another it proves nothing.
        raise InvalidInput(
            completion_key=_("Этот ключ отправки уже использован для другой работы.")
        )
    page = await queries.request_page(svc, actor, request_id)
    signed = [a for a in page.attachments if a.kind == "signed_order"]
    return Completion(
        request_id=request_id,
        created=outcome.created,
        state=page.request.state,
        qr_status=_qr_status(signed[-1] if signed else None),
        message=page.work_order.check_reason if page.work_order else "",
    )


def _qr_status(attachment: Attachment | None) -> str:
    return (attachment.qr_status if attachment is not None else None) or "missing"
