"""The lists of requests each person works from: the dispatcher's board and its counters, a
contractor's jobs, a resident's own, the triage queue and the operator's lookup; and what a
row shows of a request besides its own columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from server.accounts.people import normalise_phone
from server.db.models import (
    Attachment,
    Building,
    Category,
    Request,
    User,
    WorkOrder,
    utcnow,
)
from server.i18n import gettext as _
from server.requests import workflow
from server.requests.deadlines import is_overdue
from server.requests.visibility import visible_to
from server.requests.workflow import (
    CONTRACTOR_WORK_STATES,
    OPEN_STATES,
    OPEN_WORK_STATES,
    UNASSIGNED_STATES,
    Action,
    State,
)
from server.shared.errors import NotFound
from server.shared.roles import Actor
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


# What a page, a list row or the API shows of a request besides its own columns: each one row
# at most, so they are joined into the request's own SELECT rather than read one by one.
REQUEST_DETAILS = (
    joinedload(Request.building),
    joinedload(Request.category),
    joinedload(Request.organisation),
    joinedload(Request.contractor),
    joinedload(Request.resident),
)


def with_details(query: Select[Request]) -> Select[Request]:
    return query.options(*REQUEST_DETAILS)


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
    requests = list(await session.scalars(with_details(query).limit(PAGE_SIZE * 4)))
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
    previous = await previous_contractors(session, [row.request for row in rows])
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


async def previous_contractors(session: AsyncSession, requests: list[Request]) -> dict[int, int]:
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
