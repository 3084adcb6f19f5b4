"""Work orders (заказ-наряды): the printed sheet, and starting work by printing it."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.db.models import Request, WorkOrder, utcnow
from server.i18n import gettext as _
from server.requests import workflow
from server.requests.actions import ActionInput, perform
from server.requests.qr import job_url, qr_svg
from server.requests.timeline import active_work_order, facts_of
from server.requests.workflow import Action
from server.shared.errors import NotFound
from server.shared.roles import Actor, Role
from server.shared.services import Services

# Who is offered the printed sheet on the request page: the people who hand it out or carry it.
PRINTING_ROLES = frozenset({Role.DISPATCHER, Role.CONTRACTOR, Role.WORKER})


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
    """The sheet to print. Printing at the contractor's desk starts the work."""
    order, request, is_current = await _load(svc, actor, order_id)
    if (
        is_current
        and actor.role is Role.CONTRACTOR
        and workflow.may(actor, Action.START, facts_of(request, order))
    ):
        printed = ActionInput(expected_version=request.version, reason=_("Заказ-наряд распечатан"))
        await perform(svc, actor, request.id, Action.START, printed)
        async with svc.db.begin() as session:
            stored = await session.get(WorkOrder, order.id)
            if stored is not None:
                stored.printed_at = stored.printed_at or utcnow()
        order, request, is_current = await _load(svc, actor, order_id)
    url = job_url(svc.settings.base_url, order.token)
    return PrintSheet(order, request, url, Markup(qr_svg(url)), is_current)
