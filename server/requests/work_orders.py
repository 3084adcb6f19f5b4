"""Work orders (заказ-наряды): the printed sheet, and the note on the timeline that it was printed.

Printing says nothing about the work: the request keeps its state until the worker or the
contractor's dispatcher presses «Начать работы» (or completes the job). Showing the sheet writes
nothing, so a link preview or a reload leaves no trace; the «Печать» button posts the note."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from server.db.models import Request, WorkOrder, utcnow
from server.i18n import gettext as _
from server.requests import workflow
from server.requests.qr import job_url, qr_svg
from server.requests.timeline import active_work_order, event_of, facts_of, timeline_entry
from server.requests.workflow import CONTRACTOR_WORK_STATES, State
from server.shared.errors import NotFound
from server.shared.roles import Actor, Role
from server.shared.services import Services

# Who is offered the printed sheet on the request page: the people who hand it out or carry it.
PRINTING_ROLES = frozenset({Role.DISPATCHER, Role.CONTRACTOR, Role.WORKER})
# The timeline entry that says the sheet was printed (labels.entry_label names it).
PRINTED = "print"


def prints_work_orders(role: str) -> bool:
    return role in PRINTING_ROLES


@dataclass
class PrintSheet:
    order: WorkOrder
    request: Request
    url: str
    qr: Markup
    is_current: bool


async def _load(svc: Services, actor: Actor, order_id: int) -> tuple[WorkOrder, Request, bool]:
    async with svc.db.read() as session:
        order = (
            await session.scalars(
                select(WorkOrder)
                .where(WorkOrder.id == order_id)
                .options(selectinload(WorkOrder.worker), selectinload(WorkOrder.contractor))
            )
        ).first()
        if order is None:
            raise NotFound(_("Заказ-наряд не найден."))
        request = (
            await session.scalars(
                select(Request)
                .where(Request.id == order.request_id)
                .options(
                    selectinload(Request.building),
                    selectinload(Request.category),
                    selectinload(Request.resident),
                    selectinload(Request.organisation),
                    selectinload(Request.contractor),
                )
            )
        ).one()
        current = await active_work_order(session, request.id)
        facts = facts_of(request, current)
        if not workflow.may_view(actor, facts):
            raise NotFound(_("Заказ-наряд не найден."))
        if (
            actor.role in (Role.CONTRACTOR, Role.WORKER)
            and order.contractor_id != actor.organisation_id
        ):
            raise NotFound(_("Заказ-наряд не найден."))
        return order, request, current is not None and current.id == order.id


async def print_sheet(svc: Services, actor: Actor, order_id: int) -> PrintSheet:
    """The sheet to print. Reading it changes nothing."""
    order, request, is_current = await _load(svc, actor, order_id)
    url = job_url(svc.settings.base_url, order.token)
    return PrintSheet(order, request, url, Markup(qr_svg(url)), is_current)


async def record_printing(svc: Services, actor: Actor, order_id: int) -> bool:
    """Note «Заказ-наряд распечатан» on the timeline, once per work order; the state stays.

    False when nothing was written: the sheet was printed before, it no longer holds, or the
    contractor no longer holds the job (a sheet printed for the file)."""
    await _load(svc, actor, order_id)  # NotFound for anyone who may not see the sheet
    try:
        async with svc.db.begin() as session:
            order = await session.get(WorkOrder, order_id)
            request = await session.get(Request, order.request_id) if order else None
            if (
                order is None
                or request is None
                or not order.active
                or order.printed_at is not None
                or State(request.state) not in CONTRACTOR_WORK_STATES
            ):
                return False
            now = utcnow()
            order.printed_at = now
            # Touching the request raises its version: of two prints at once, one writes.
            request.updated_at = now
            entry = timeline_entry(
                request,
                actor,
                PRINTED,
                from_state=request.state,
                to_state=request.state,
                data={"work_order_id": order.id},
                at=now,
            )
            session.add(entry)
            await session.flush()
            event = event_of(request, entry)
            await svc.record(session, event)
    except StaleDataError:
        return False
    await svc.announce([event])
    return True
