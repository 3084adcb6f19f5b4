"""What each person may read of one request: its page with the timeline, and what the forms
around it pick from (categories, houses, contractors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, case, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

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
from server.requests.lists import (
    ContractorLoad,
    contractor_loads,
    previous_contractors,
    with_details,
)
from server.requests.timeline import (
    QR_FLAGGED,
    active_work_order,
    active_work_orders,
    facts_of,
    followers_of_all,
)
from server.requests.visibility import visible_to
from server.requests.workflow import (
    Action,
    RequestFacts,
)
from server.shared.errors import NotFound
from server.shared.roles import HANDLING_KINDS, Actor, Role
from server.shared.services import Services

Owned = TypeVar("Owned", WorkOrder, Attachment)  # rows that belong to one request


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
    # Beside each contractor, as on the board: its open and overdue jobs, and who had it before.
    contractor_loads: dict[int, ContractorLoad] = field(default_factory=dict)
    previous_contractor_id: int | None = None
    organisations: list[Organisation] = field(default_factory=list)  # for TRANSFER / ROUTE
    workers: list[User] = field(default_factory=list)  # for ASSIGN_WORKER
    # Seen as a follower: without the flat, the description, photos, rating and entry texts
    # of the resident who filed it, any of which may say who they are.
    following: bool = False

    @property
    def last_entry_id(self) -> int:
        return self.timeline[-1].id if self.timeline else 0


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
    return (await _read_all(session, [request_id], visible, after_entry)).get(request_id)


async def _read_all(
    session: AsyncSession,
    request_ids: Sequence[int],
    visible: ColumnElement[bool],
    after_entry: int,
) -> dict[int, RequestRead]:
    """`_read` of many requests in the statements of one: each read is for all of them."""
    requests = list(
        await session.scalars(
            with_details(select(Request).where(Request.id.in_(request_ids), visible))
        )
    )
    if not requests:
        return {}
    ids = [request.id for request in requests]
    orders = await active_work_orders(session, ids, with_worker=True)
    ratings = {
        rating.request_id: rating
        for rating in await session.scalars(select(Rating).where(Rating.request_id.in_(ids)))
    }
    followers = await followers_of_all(session, ids)
    timelines = await _owned_by(
        session,
        ids,
        select(TimelineEntry)
        .where(TimelineEntry.request_id.in_(ids), TimelineEntry.id > after_entry)
        .options(
            joinedload(TimelineEntry.actor),
            joinedload(TimelineEntry.actor_organisation),
        )
        .order_by(TimelineEntry.id),
    )
    attachments = await _owned_by(
        session,
        ids,
        select(Attachment).where(Attachment.request_id.in_(ids)).order_by(Attachment.id),
    )
    reads = {}
    for request in requests:
        order, rating = orders.get(request.id), ratings.get(request.id)
        facts = facts_of(request, order, rated=rating is not None, followers=followers[request.id])
        reads[request.id] = RequestRead(
            request, order, rating, facts, timelines[request.id], attachments[request.id]
        )
    return reads


Listed = TypeVar("Listed", TimelineEntry, Attachment)  # rows listed on a request page


async def _owned_by(
    session: AsyncSession, ids: list[int], query: Select[Listed]
) -> dict[int, list[Listed]]:
    """The rows of `query` by the request they belong to, in its order; every id has a list."""
    found: dict[int, list[Listed]] = {request_id: [] for request_id in ids}
    for row in await session.scalars(query):
        found[row.request_id].append(row)
    return found


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


async def read_requests(svc: Services, request_ids: Sequence[int]) -> dict[int, RequestRead]:
    """`read_request` of many at once (the live pages of one change of many requests); a
    request that is gone is left out."""
    async with svc.db.read() as session:
        return await _read_all(session, request_ids, true(), 0)


async def page_as(svc: Services, actor: Actor, read: RequestRead) -> RequestPage:
    """What `actor` sees of a request read for everyone: `workflow.may_view` is the rule
    `visible_to` writes as SQL (tests/integration/requests/test_visibility.py)."""
    if not workflow.may_view(actor, read.facts):
        raise NotFound(_("Заявка не найдена."))
    if not CHOOSING & set(workflow.available_actions(actor, read.facts)):
        # Nothing to pick from: no session at all (a thousand live pages render at once).
        return await _page_of(None, actor, read)
    async with svc.db.read() as session:
        return await _page_of(session, actor, read)


# The actions whose forms pick from rows read for the page (contractors, organisations,
# workers).
CHOOSING = frozenset({Action.ASSIGN, Action.TRANSFER, Action.ROUTE, Action.ASSIGN_WORKER})


async def _page_of(session: AsyncSession | None, actor: Actor, read: RequestRead) -> RequestPage:
    """The page `actor` sees; `session` reads what its forms pick from (None: nothing to)."""
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
    if session is None or not CHOOSING & set(actions):
        return page
    if Action.ASSIGN in actions:
        page.contractors = await contractors_of(session, request.organisation_id)
        page.contractor_loads = await contractor_loads(session, request.organisation_id, utcnow())
        before = await previous_contractors(session, [request])
        page.previous_contractor_id = before.get(request.id)
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
