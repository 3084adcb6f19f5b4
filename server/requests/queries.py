"""What each person may read: one request with its timeline, and the lists of requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from server.accounts.people import normalise_phone
from server.catalog.buildings import HouseOrder, house_order
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
from server.requests.timeline import QR_FLAGGED, active_work_order, facts_of, followers_of
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
# A contractor's job filters by the states they show: «В работе» is the work still owed,
# «Ждут проверки» the work reported done that the dispatcher has yet to check.
JOB_FILTERS: dict[str, frozenset[State]] = {
    "open": CONTRACTOR_WORK_STATES,
    "checking": AWAITING_CHECK_STATES,
}
EMERGENCY_PRIORITY = "emergency"  # a category's priority that makes its requests emergencies


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
    # Seen as a follower: without the flat, the description, photos, rating and entry texts
    # of the resident who filed it, any of which may say who they are.
    following: bool = False

    @property
    def last_entry_id(self) -> int:
        return self.timeline[-1].id if self.timeline else 0


# What a page, a list row or the API shows of a request besides its own columns: each one row
# at most, so they are joined into the request's own SELECT rather than read one by one.
REQUEST_DETAILS = (
    joinedload(Request.building),
    joinedload(Request.category),
    joinedload(Request.organisation),
    joinedload(Request.contractor),
    joinedload(Request.resident),
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
    order = await active_work_order(session, request.id, with_worker=True)
    rating = (await session.scalars(select(Rating).where(Rating.request_id == request.id))).first()
    followers = await followers_of(session, request.id)
    facts = facts_of(request, order, rated=rating is not None, followers=followers)
    timeline = list(
        await session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.request_id == request.id, TimelineEntry.id > after_entry)
            .options(
                joinedload(TimelineEntry.actor),
                joinedload(TimelineEntry.actor_organisation),
            )
            .order_by(TimelineEntry.id)
        )
    )
    attachments = list(
        await session.scalars(
            select(Attachment).where(Attachment.request_id == request.id).order_by(Attachment.id)
        )
    )
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
    if workflow.is_follower(actor, read.facts):
        return RequestPage(
            request=request,
            timeline=[e for e in read.timeline if e.kind != QR_FLAGGED],
            attachments=[],
            work_order=None,
            rating=None,
            actions=[],
            overdue=is_overdue(read.facts.state, request.due_at, utcnow()),
            following=True,
        )
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
    # A State, or a named group: "open" (default), "overdue", "emergency", "to_check", "all".
    state: str | None = None
    category_id: int | None = None
    query: str = ""


@dataclass(frozen=True)
class ContractorLoad:
    """A contractor's open jobs for one organisation, and how many of them are overdue."""

    open_jobs: int = 0
    overdue: int = 0


@dataclass
class BoardRow:
    request: Request
    overdue: bool
    work_order: WorkOrder | None = None
    # Who held the job before the current contractor (or before it was taken away).
    previous_contractor_id: int | None = None
    # The board's contractors and their load: read once per board and shared by its rows, so
    # that the page, a row answered in place and the live board show the same numbers.
    contractor_loads: Mapping[int, ContractorLoad] = field(default_factory=dict)


def _is_overdue(now: datetime) -> ColumnElement[bool]:
    return Request.state.in_(OPEN_WORK_STATES) & (Request.due_at < now)


def _is_emergency() -> ColumnElement[bool]:
    emergency_categories = select(Category.id).where(Category.priority == EMERGENCY_PRIORITY)
    return Request.state.in_(OPEN_STATES) & Request.category_id.in_(emergency_categories)


def _apply_filters(query: Select[Request], filters: BoardFilters, now: datetime) -> Select[Request]:
    state = filters.state or "open"
    if state == "open":
        query = query.where(Request.state.in_(OPEN_STATES))
    elif state == "overdue":
        query = query.where(_is_overdue(now))
    elif state == "emergency":
        query = query.where(_is_emergency())
    elif state == "to_check":
        query = query.where(Request.state.in_(AWAITING_CHECK_STATES))
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
    overdue = case((_is_overdue(now), 0), else_=1)
    return query.order_by(overdue, Request.due_at, Request.id.desc())


async def _rows(session: AsyncSession, query: Select[Request], now: datetime) -> list[BoardRow]:
    requests = list(await session.scalars(_with_details(query).limit(PAGE_SIZE * 4)))
    orders: dict[int, WorkOrder] = {}
    if requests:
        for order in await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.request_id.in_([r.id for r in requests]), WorkOrder.active.is_(True))
            .options(joinedload(WorkOrder.worker))
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
        return await _board_rows(session, actor, query, now)


async def board_row(svc: Services, actor: Actor, request_id: int) -> BoardRow:
    """One row of the board, as the board shows it. NotFound outside the person's reach."""
    now = utcnow()
    query = select(Request).where(Request.id == request_id, visible_to(actor))
    async with svc.db.read() as session:
        rows = await _board_rows(session, actor, query, now)
    if not rows:
        raise NotFound(_("Заявка не найдена."))
    return rows[0]


async def _board_rows(
    session: AsyncSession, actor: Actor, query: Select[Request], now: datetime
) -> list[BoardRow]:
    rows = await _rows(session, query, now)
    if not rows:
        return rows
    loads = await contractor_loads(session, actor.organisation_id, now)
    previous = await _previous_contractors(session, [row.request for row in rows])
    for row in rows:
        row.contractor_loads = loads
        row.previous_contractor_id = previous.get(row.request.id)
    return rows


async def contractor_loads(
    session: AsyncSession, organisation_id: int | None, now: datetime
) -> dict[int, ContractorLoad]:
    """Open jobs and overdue ones per contractor, counting this organisation's requests only
    (another organisation's work is not the dispatcher's to see). One query for all."""
    overdue = func.count(case((Request.due_at < now, 1)))
    counted = await session.execute(
        select(Request.contractor_id, func.count(), overdue)
        .where(
            Request.organisation_id == organisation_id,
            Request.contractor_id.is_not(None),
            Request.state.in_(CONTRACTOR_WORK_STATES),
        )
        .group_by(Request.contractor_id)
    )
    return {cid: ContractorLoad(jobs, late) for cid, jobs, late in counted.tuples() if cid}


async def _previous_contractors(session: AsyncSession, requests: list[Request]) -> dict[int, int]:
    """For each request, the contractor of its latest work order that is no longer valid, when
    another contractor (or nobody) holds the job now."""
    held = {r.id: r.contractor_id for r in requests}
    previous: dict[int, int] = {}
    ended = await session.execute(
        select(WorkOrder.request_id, WorkOrder.contractor_id)
        .where(WorkOrder.request_id.in_(list(held)), WorkOrder.active.is_(False))
        .order_by(WorkOrder.id)
    )
    for request_id, contractor_id in ended.tuples():
        if contractor_id != held[request_id]:
            previous[request_id] = contractor_id
        else:
            previous.pop(request_id, None)
    return previous


@dataclass(frozen=True)
class BoardCounts:
    """The figures above the board; each one opens the board filtered to what it counts."""

    new: int
    overdue: int
    emergency: int
    to_check: int


async def board_counts(svc: Services, actor: Actor) -> BoardCounts:
    """The organisation's new, overdue, emergency and checkable requests, in one query."""
    now = utcnow()

    def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count(case((condition, 1)))

    query = select(
        counted(Request.state.in_(UNASSIGNED_STATES)),
        counted(_is_overdue(now)),
        counted(_is_emergency()),
        counted(Request.state.in_(AWAITING_CHECK_STATES)),
    ).where(visible_to(actor), Request.state.in_(OPEN_STATES))
    async with svc.db.read() as session:
        new, overdue, emergency, to_check = (await session.execute(query)).one()
    return BoardCounts(new, overdue, emergency, to_check)


async def contractor_jobs(svc: Services, actor: Actor, filters: BoardFilters) -> list[BoardRow]:
    """Work orders of a contractor (or of one worker), overdue first."""
    now = utcnow()
    query = select(Request).where(visible_to(actor))
    states = JOB_FILTERS.get(filters.state or "open")
    if states is not None:
        query = query.where(Request.state.in_(states))
        filters = BoardFilters(state="all", category_id=filters.category_id, query=filters.query)
    query = _overdue_first(_apply_filters(query, filters, now), now)
    async with svc.db.read() as session:
        return await _rows(session, query, now)


async def resident_requests(svc: Services, actor: Actor) -> list[BoardRow]:
    """The resident's own requests; those they follow are listed apart (`duplicates`)."""
    now = utcnow()
    own = Request.resident_id == actor.user_id
    query = select(Request).where(visible_to(actor), own).order_by(Request.id.desc())
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


# How many matching houses are read to put the shown few in natural order: the whole of a
# street, and then some; a house typed exactly is read first, so it is never cut off.
SEARCH_CANDIDATES = 300


async def search_buildings(svc: Services, text: str, limit: int = 12) -> list[Building]:
    """Houses matching every word typed: an exact house number first, then street by street
    in natural order of house numbers (5, 5А, 5к1, 5/2, 15), which SQL cannot sort."""
    words = [w for w in text.lower().replace(",", " ").split() if w][:4]
    if not words:
        return []
    exact = or_(*(Building.search_key.endswith(f" {word}", autoescape=True) for word in words))
    query = select(Building)
    for word in words:
        query = query.where(Building.search_key.contains(word, autoescape=True))
    query = query.order_by(case((exact, 0), else_=1), Building.street, Building.id)
    async with svc.db.read() as session:
        found = list(await session.scalars(query.limit(SEARCH_CANDIDATES)))

    def order(building: Building) -> tuple[bool, str, HouseOrder]:
        typed_exactly = building.house.lower() in words
        return (not typed_exactly, building.street.lower(), house_order(building.house))

    return sorted(found, key=order)[:limit]


async def last_address(svc: Services, actor: Actor) -> tuple[int, str] | None:
    """The house and flat of the resident's latest request: most people file from home."""
    query = (
        select(Request.building_id, Request.flat)
        .where(Request.resident_id == actor.user_id)
        .order_by(Request.id.desc())
        .limit(1)
    )
    async with svc.db.read() as session:
        row = (await session.execute(query)).first()
    return None if row is None else (row.building_id, row.flat)


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
