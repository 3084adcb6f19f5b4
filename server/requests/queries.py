"""What each person may read: one request with its timeline, and the lists of requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, case, or_, select, true
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
from server.requests.timeline import QR_FLAGGED, active_work_order, facts_of
from server.requests.visibility import visible_to
from server.requests.workflow import (
    CONTRACTOR_WORK_STATES,
    OPEN_STATES,
    OPEN_WORK_STATES,
    UNASSIGNED_STATES,
    Action,
    RequestFacts,
    State,
)
from server.shared.errors import NotFound
from server.shared.roles import HANDLING_KINDS, Actor, Role
from server.shared.services import Services

Owned = TypeVar("Owned", WorkOrder, Attachment)  # rows that belong to one request

PAGE_SIZE = 50
# Reported done and waiting for the dispatcher's check.
AWAITING_CHECK_STATES = frozenset(s for s in State if workflow.is_possible(s, Action.VERIFY))
# A contractor's «В работе»: the work owed, and work reported done until it is checked.
JOBS_IN_WORK_STATES = CONTRACTOR_WORK_STATES | AWAITING_CHECK_STATES


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


# What a page, a list row or the API shows of a request besides its own columns.
REQUEST_DETAILS = (
    selectinload(Request.building),
    selectinload(Request.category),
    selectinload(Request.organisation),
    selectinload(Request.contractor),
    selectinload(Request.resident),
)


def _with_details(query: Select[Request]) -> Select[Request]:
    return query.options(*REQUEST_DETAILS)


@dataclass
class RequestRead:
    """One request with all its page shows, as read for whoever asks; `page_as` decides
    what one person sees of it."""

    request: Request
    work_order: WorkOrder | None
    rating: Rating | None
    facts: RequestFacts
    timeline: list[TimelineEntry]
    attachments: list[Attachment]


async def _read(
    session: AsyncSession, request_id: int, visible: ColumnElement[bool], after_entry: int
) -> RequestRead | None:
    request = (
        await session.scalars(
            _with_details(select(Request).where(Request.id == request_id, visible))
        )
    ).first()
    if request is None:
        return None
    order = await active_work_order(session, request.id)
    rating = (await session.scalars(select(Rating).where(Rating.request_id == request.id))).first()
    facts = facts_of(request, order, rated=rating is not None)
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
            select(Attachment).where(Attachment.request_id == request.id).order_by(Attachment.id)
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
    return RequestRead(request, order, rating, facts, timeline, attachments)


async def request_page(
    svc: Services, actor: Actor, request_id: int, *, after_entry: int = 0
) -> RequestPage:
    """One request as this person may see it. NotFound for anyone else."""
    async with svc.db.read() as session:
        read = await _read(session, request_id, visible_to(actor), after_entry)
        if read is None:
            raise NotFound(_("Заявка не найдена."))
        return await _page_of(session, actor, read)


async def read_request(svc: Services, request_id: int) -> RequestRead | None:
    """The request for every audience at once (live pages); `page_as` applies who may see."""
    async with svc.db.read() as session:
        return await _read(session, request_id, true(), 0)


async def page_as(svc: Services, actor: Actor, read: RequestRead) -> RequestPage:
    """What `actor` sees of a request read for everyone: `workflow.may_view` is the rule
    `visible_to` writes as SQL (tests/integration/requests/test_visibility.py)."""
    if not workflow.may_view(actor, read.facts):
        raise NotFound(_("Заявка не найдена."))
    async with svc.db.read() as session:
        return await _page_of(session, actor, read)


async def _page_of(session: AsyncSession, actor: Actor, read: RequestRead) -> RequestPage:
    request = read.request
    actions = workflow.available_actions(actor, read.facts)
    page = RequestPage(
        request=request,
        # The QR check's doubts are the organisation's business, not the resident's.
        timeline=[
            entry
            for entry in read.timeline
            if entry.kind != QR_FLAGGED or workflow.sees_photo_check(actor.role)
        ],
        attachments=read.attachments,
        work_order=read.work_order,
        rating=read.rating,
        actions=actions,
        overdue=is_overdue(read.facts.state, request.due_at, utcnow()),
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


@dataclass(frozen=True)
class BoardFilters:
    state: str | None = None  # a State, "open" (default), "overdue" or "all"
    category_id: int | None = None
    query: str = ""


@dataclass
class BoardRow:
    request: Request
    overdue: bool
    work_order: WorkOrder | None = None


def _apply_filters(query: Select[Request], filters: BoardFilters, now: datetime) -> Select[Request]:
    state = filters.state or "open"
    if state == "open":
        query = query.where(Request.state.in_(OPEN_STATES))
    elif state == "overdue":
        query = query.where(Request.state.in_(OPEN_WORK_STATES), Request.due_at < now)
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


def _overdue_first(query: Select[Request], now: datetime) -> Select[Request]:
    overdue = case((Request.state.in_(OPEN_WORK_STATES) & (Request.due_at < now), 0), else_=1)
    return query.order_by(overdue, Request.due_at, Request.id.desc())


async def _rows(session: AsyncSession, query: Select[Request], now: datetime) -> list[BoardRow]:
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
    query = select(Request).where(visible_to(actor))
    query = _overdue_first(_apply_filters(query, filters, now), now)
    async with svc.db.read() as session:
        return await _rows(session, query, now)


async def contractor_jobs(svc: Services, actor: Actor, filters: BoardFilters) -> list[BoardRow]:
    """Work orders of a contractor (or of one worker), overdue first."""
    now = utcnow()
    query = select(Request).where(visible_to(actor))
    if filters.state in (None, "open"):
        query = query.where(Request.state.in_(JOBS_IN_WORK_STATES))
        filters = BoardFilters(state="all", category_id=filters.category_id, query=filters.query)
    query = _overdue_first(_apply_filters(query, filters, now), now)
    async with svc.db.read() as session:
        return await _rows(session, query, now)


async def resident_requests(svc: Services, actor: Actor) -> list[BoardRow]:
    now = utcnow()
    query = select(Request).where(visible_to(actor)).order_by(Request.id.desc())
    async with svc.db.read() as session:
        return await _rows(session, query, now)


async def triage_queue(svc: Services) -> list[BoardRow]:
    now = utcnow()
    query = _overdue_first(
        select(Request).where(
            Request.organisation_id.is_(None), Request.state.in_(UNASSIGNED_STATES)
        ),
        now,
    )
    async with svc.db.read() as session:
        return await _rows(session, query, now)


@dataclass
class CallerLookup:
    phone: str | None
    resident: User | None
    rows: list[BoardRow]


async def operator_lookup(svc: Services, actor: Actor, text: str) -> CallerLookup:
    """A caller by phone, or a request by its number."""
    now = utcnow()
    text = text.strip()
    phone = normalise_phone(text)
    requests = select(Request).where(visible_to(actor)).order_by(Request.id.desc())
    async with svc.db.read() as session:
        if phone:
            resident = (await session.scalars(select(User).where(User.phone == phone))).first()
            if resident is None:
                return CallerLookup(phone, None, [])
            query = requests.where(Request.resident_id == resident.id)
            return CallerLookup(phone, resident, await _rows(session, query, now))
        if text:
            query = requests.where(Request.number.contains(text))
            return CallerLookup(None, None, await _rows(session, query, now))
        return CallerLookup(None, None, (await _rows(session, requests, now))[:20])


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


async def _of_visible_request(
    session: AsyncSession, actor: Actor, model: type[Owned], condition: ColumnElement[bool]
) -> Owned | None:
    """The row of `model` meeting `condition`, if it belongs to a request the actor may see."""
    query = (
        select(model)
        .join(Request, Request.id == model.request_id)
        .where(condition, visible_to(actor))
    )
    return (await session.scalars(query)).first()


async def job_by_token(svc: Services, actor: Actor, token: str) -> int:
    """The request behind a printed QR code, for a worker or dispatcher of its contractor."""
    if actor.role not in {Role.CONTRACTOR, Role.WORKER}:
        raise NotFound(_("Заказ-наряд не найден."))
    async with svc.db.read() as session:
        order = await _of_visible_request(session, actor, WorkOrder, WorkOrder.token == token)
        if order is None:
            raise NotFound(_("Заказ-наряд не найден."))
        current = await active_work_order(session, order.request_id)
        if current is None or current.id != order.id:
            raise NotFound(
                _("Этот заказ-наряд больше не действует: заявку передали другому подрядчику.")
            )
        return order.request_id


async def attachment_for(svc: Services, actor: Actor, filename: str) -> Attachment:
    async with svc.db.read() as session:
        attachment = await _of_visible_request(
            session, actor, Attachment, Attachment.filename == filename
        )
        if attachment is None:
            raise NotFound()
        return attachment
