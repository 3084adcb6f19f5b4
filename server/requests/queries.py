"""What each person may read: one request with its timeline, and the lists of requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.accounts.people import normalise_phone
from server.db.models import (
    Attachment,
    Building,
    Category,
    Organisation,
    OrganisationContractor,
    Rating,
    Request,
    TimelineEntry,
    User,
    WorkOrder,
    utcnow,
)
from server.i18n import gettext as _
from server.requests import workflow
from server.requests.deadlines import is_overdue
from server.requests.timeline import active_work_order, facts_of
from server.requests.workflow import OPEN_WORK_STATES, Action, State
from server.shared.errors import NotFound
from server.shared.roles import HANDLING_KINDS, Actor, OrgKind, Role
from server.shared.services import Services

PAGE_SIZE = 50


@dataclass
class RequestPage:
    request: Request
    timeline: list[TimelineEntry]
    attachments: list[Attachment]
    work_order: WorkOrder | None
    rating: Rating | None
    actions: list[Action]
    overdue: bool
    contractors: list[Organisation] = field(default_factory=list)  # for ASSIGN
    organisations: list[Organisation] = field(default_factory=list)  # for TRANSFER / ROUTE
    workers: list[User] = field(default_factory=list)  # for ASSIGN_WORKER

    @property
    def last_entry_id(self) -> int:
        return self.timeline[-1].id if self.timeline else 0


def _with_details(query: Select[tuple[Request]]) -> Select[tuple[Request]]:
    return query.options(
        selectinload(Request.building),
        selectinload(Request.category),
        selectinload(Request.organisation),
        selectinload(Request.contractor),
        selectinload(Request.resident),
    )


async def request_page(
    svc: Services, actor: Actor, request_id: int, *, after_entry: int = 0
) -> RequestPage:
    """One request as this person may see it. NotFound for anyone else."""
    async with svc.db.read() as session:
        request = (
            await session.scalars(_with_details(select(Request).where(Request.id == request_id)))
        ).first()
        if request is None:
            raise NotFound(_("Заявка не найдена."))
        order = await active_work_order(session, request.id)
        rating = (
            await session.scalars(select(Rating).where(Rating.request_id == request.id))
        ).first()
        facts = facts_of(request, order, rated=rating is not None)
        if not workflow.may_view(actor, facts):
            raise NotFound(_("Заявка не найдена."))
        timeline = list(
            await session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.request_id == request.id, TimelineEntry.id > after_entry)
                .options(
                    selectinload(TimelineEntry.actor),
                    selectinload(TimelineEntry.actor_organisation),
                )
                .order_by(TimelineEntry.id)
            )
        )
        attachments = list(
            await session.scalars(
                select(Attachment)
                .where(Attachment.request_id == request.id)
                .order_by(Attachment.id)
            )
        )
        if order is not None:
            order = (
                await session.scalars(
                    select(WorkOrder)
                    .where(WorkOrder.id == order.id)
                    .options(selectinload(WorkOrder.worker))
                )
            ).first()
        actions = workflow.available_actions(actor, facts)
        page = RequestPage(
            request=request,
            timeline=timeline,
            attachments=attachments,
            work_order=order,
            rating=rating,
            actions=actions,
            overdue=is_overdue(facts.state, request.due_at, utcnow()),
        )
        if Action.ASSIGN in actions:
            page.contractors = await contractors_of(session, request.organisation_id)
        if Action.TRANSFER in actions or Action.ROUTE in actions:
            page.organisations = [
                o for o in await handling_organisations(session) if o.id != request.organisation_id
            ]
        if Action.ASSIGN_WORKER in actions:
            page.workers = list(
                await session.scalars(
                    select(User)
                    .where(
                        User.organisation_id == request.contractor_id,
                        User.role == Role.WORKER,
                        User.active.is_(True),
                    )
                    .order_by(User.name)
                )
            )
        return page


async def contractors_of(session: AsyncSession, organisation_id: int | None) -> list[Organisation]:
    return list(
        await session.scalars(
            select(Organisation)
            .join(OrganisationContractor, OrganisationContractor.contractor_id == Organisation.id)
            .where(
                OrganisationContractor.organisation_id == organisation_id,
                Organisation.active.is_(True),
            )
            .order_by(Organisation.name)
        )
    )


async def handling_organisations(session: AsyncSession) -> list[Organisation]:
    return list(
        await session.scalars(
            select(Organisation)
            .where(
                Organisation.kind.in_([k.value for k in HANDLING_KINDS]),
                Organisation.active.is_(True),
            )
            .order_by(Organisation.name)
        )
    )


@dataclass
class BoardFilters:
    state: str | None = None  # a State, "open" (default), "overdue" or "all"
    category_id: int | None = None
    query: str = ""


@dataclass
class BoardRow:
    request: Request
    overdue: bool
    work_order: WorkOrder | None = None


def _apply_filters(
    query: Select[tuple[Request]], filters: BoardFilters, now: datetime
) -> Select[tuple[Request]]:
    state = filters.state or "open"
    if state == "open":
        query = query.where(Request.state.in_([s.value for s in workflow.OPEN_STATES]))
    elif state == "overdue":
        query = query.where(
            Request.state.in_([s.value for s in OPEN_WORK_STATES]), Request.due_at < now
        )
    elif state != "all":
        query = query.where(Request.state == state)
    if filters.category_id:
        query = query.where(Request.category_id == filters.category_id)
    text = filters.query.strip()
    if text:
        query = query.join(Building, Building.id == Request.building_id).where(
            or_(Request.number.contains(text), Building.search_key.contains(text.lower()))
        )
    return query


def _overdue_first(query: Select[tuple[Request]], now: datetime) -> Select[tuple[Request]]:
    from sqlalchemy import case

    overdue = case(
        (Request.state.in_([s.value for s in OPEN_WORK_STATES]) & (Request.due_at < now), 0),
        else_=1,
    )
    return query.order_by(overdue, Request.due_at, Request.id.desc())


async def _rows(
    session: AsyncSession, query: Select[tuple[Request]], now: datetime
) -> list[BoardRow]:
    requests = list(await session.scalars(_with_details(query).limit(PAGE_SIZE * 4)))
    orders: dict[int, WorkOrder] = {}
    if requests:
        for order in await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.request_id.in_([r.id for r in requests]), WorkOrder.active.is_(True))
            .options(selectinload(WorkOrder.worker))
        ):
            orders[order.request_id] = order
    return [
        BoardRow(r, is_overdue(State(r.state), r.due_at, now), orders.get(r.id)) for r in requests
    ]


async def dispatcher_board(svc: Services, actor: Actor, filters: BoardFilters) -> list[BoardRow]:
    """The organisation's requests, overdue first, then by due time."""
    now = utcnow()
    query = select(Request).where(Request.organisation_id == actor.organisation_id)
    query = _overdue_first(_apply_filters(query, filters, now), now)
    async with svc.db.read() as session:
        return await _rows(session, query, now)


async def board_row(svc: Services, actor: Actor, request_id: int) -> BoardRow | None:
    """One row of a board, if this person may see it (for live updates)."""
    now = utcnow()
    async with svc.db.read() as session:
        rows = await _rows(session, select(Request).where(Request.id == request_id), now)
        if not rows:
            return None
        row = rows[0]
        facts = facts_of(row.request, row.work_order)
        return row if workflow.may_view(actor, facts) else None


async def contractor_jobs(svc: Services, actor: Actor, filters: BoardFilters) -> list[BoardRow]:
    """Work orders of a contractor (or of one worker), overdue first."""
    now = utcnow()
    query = select(Request).where(Request.contractor_id == actor.organisation_id)
    if filters.state in (None, "open"):
        query = query.where(
            Request.state.in_([State.ASSIGNED, State.IN_PROGRESS, State.REWORK, State.DONE])
        )
        filters = BoardFilters(state="all", category_id=filters.category_id, query=filters.query)
    if actor.role is Role.WORKER:
        query = query.join(
            WorkOrder, (WorkOrder.request_id == Request.id) & WorkOrder.active.is_(True)
        ).where(or_(WorkOrder.worker_id == actor.user_id, WorkOrder.worker_id.is_(None)))
    query = _overdue_first(_apply_filters(query, filters, now), now)
    async with svc.db.read() as session:
        return await _rows(session, query, now)


async def resident_requests(svc: Services, actor: Actor) -> list[BoardRow]:
    now = utcnow()
    query = select(Request).where(Request.resident_id == actor.user_id).order_by(Request.id.desc())
    async with svc.db.read() as session:
        return await _rows(session, query, now)


async def triage_queue(svc: Services) -> list[BoardRow]:
    now = utcnow()
    query = _overdue_first(
        select(Request).where(Request.organisation_id.is_(None), Request.state == State.NEW), now
    )
    async with svc.db.read() as session:
        return await _rows(session, query, now)


@dataclass
class CallerLookup:
    phone: str | None
    resident: User | None
    rows: list[BoardRow]


async def operator_lookup(svc: Services, text: str) -> CallerLookup:
    """A caller by phone, or a request by its number."""
    now = utcnow()
    text = text.strip()
    phone = normalise_phone(text)
    async with svc.db.read() as session:
        if phone:
            resident = (await session.scalars(select(User).where(User.phone == phone))).first()
            if resident is None:
                return CallerLookup(phone, None, [])
            query = (
                select(Request)
                .where(Request.resident_id == resident.id)
                .order_by(Request.id.desc())
            )
            return CallerLookup(phone, resident, await _rows(session, query, now))
        if text:
            query = select(Request).where(Request.number.contains(text)).order_by(Request.id.desc())
            return CallerLookup(None, None, await _rows(session, query, now))
        query = select(Request).order_by(Request.id.desc())
        return CallerLookup(None, None, (await _rows(session, query, now))[:20])


async def categories(svc: Services) -> list[Category]:
    async with svc.db.read() as session:
        return list(
            await session.scalars(
                select(Category)
                .where(Category.active.is_(True))
                .order_by(Category.sort, Category.name)
            )
        )


async def search_buildings(svc: Services, text: str, limit: int = 12) -> list[Building]:
    words = [w for w in text.lower().replace(",", " ").split() if w]
    if not words:
        return []
    query = select(Building)
    for word in words[:4]:
        query = query.where(Building.search_key.contains(word))
    async with svc.db.read() as session:
        return list(
            await session.scalars(query.order_by(Building.street, Building.house).limit(limit))
        )


async def building(svc: Services, building_id: int) -> Building | None:
    async with svc.db.read() as session:
        return await session.get(Building, building_id)


async def job_by_token(svc: Services, actor: Actor, token: str) -> int:
    """The request behind a printed QR code, for a worker or dispatcher of its contractor."""
    async with svc.db.read() as session:
        order = (await session.scalars(select(WorkOrder).where(WorkOrder.token == token))).first()
        if order is None:
            raise NotFound(_("Заказ-наряд не найден."))
        request = await session.get(Request, order.request_id)
        assert request is not None
        current = await active_work_order(session, request.id)
        if not workflow.may_view(actor, facts_of(request, current)) or actor.role not in (
            Role.CONTRACTOR,
            Role.WORKER,
        ):
            raise NotFound(_("Заказ-наряд не найден."))
        if current is None or current.id != order.id:
            raise NotFound(
                _("Этот заказ-наряд больше не действует: заявку передали другому подрядчику.")
            )
        return request.id


async def attachment_for(svc: Services, actor: Actor, filename: str) -> Attachment:
    async with svc.db.read() as session:
        attachment = (
            await session.scalars(select(Attachment).where(Attachment.filename == filename))
        ).first()
        if attachment is None:
            raise NotFound()
        request = await session.get(Request, attachment.request_id)
        assert request is not None
        order = await active_work_order(session, request.id)
        if not workflow.may_view(actor, facts_of(request, order)):
            raise NotFound()
        return attachment


async def count_by_state(svc: Services, organisation_id: int | None = None) -> dict[str, int]:
    query = select(Request.state, func.count()).group_by(Request.state)
    if organisation_id is not None:
        query = query.where(Request.organisation_id == organisation_id)
    async with svc.db.read() as session:
        return {state: n for state, n in (await session.execute(query)).all()}


def org_kind(org: Organisation | None) -> OrgKind | None:
    return OrgKind(org.kind) if org else None
