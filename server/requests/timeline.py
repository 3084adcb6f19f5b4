"""What every change of a request is made of: the facts the rules read, its timeline entry,
and the event announced after commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from server.db.models import Rating, Request, RequestFollower, TimelineEntry, WorkOrder, utcnow
from server.requests.workflow import RequestFacts, State
from server.shared.events import RequestEvent
from server.shared.roles import Actor

# What the QR check of a signed photo writes on the timeline.
QR_CONFIRMED = "qr_confirmed"
QR_FLAGGED = "qr_flagged"  # shown only where `workflow.sees_photo_check` holds


def facts_of(
    request: Request,
    work_order: WorkOrder | None,
    rated: bool = False,
    followers: frozenset[int] = frozenset(),
) -> RequestFacts:
    return RequestFacts(
        state=State(request.state),
        resident_id=request.resident_id,
        organisation_id=request.organisation_id,
        contractor_id=request.contractor_id,
        worker_id=work_order.worker_id if work_order is not None else None,
        rated=rated,
        followers=followers,
    )


def event_of(request: Request, entry: TimelineEntry | None) -> RequestEvent:
    return RequestEvent(
        request_id=request.id,
        entry_id=entry.id if entry is not None else None,
        organisation_id=request.organisation_id,
        contractor_id=request.contractor_id,
        resident_id=request.resident_id,
    )


def timeline_entry(
    request: Request,
    actor: Actor,
    kind: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    text: str = "",
    data: dict[str, object] | None = None,
    at: datetime | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        request_id=request.id,
        at=at or utcnow(),
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        **actor.stamp(),
        text=text,
        data=data or {},
    )


async def active_work_order(
    session: AsyncSession, request_id: int, *, with_worker: bool = False
) -> WorkOrder | None:
    query = (
        select(WorkOrder)
        .where(WorkOrder.request_id == request_id, WorkOrder.active.is_(True))
        .order_by(WorkOrder.id.desc())
        .limit(1)
    )
    if with_worker:  # for a page that names the worker: read in the same statement
        query = query.options(joinedload(WorkOrder.worker))
    return (await session.scalars(query)).first()


async def is_rated(session: AsyncSession, request_id: int) -> bool:
    return (
        await session.scalar(select(Rating.id).where(Rating.request_id == request_id))
    ) is not None


async def followers_of(session: AsyncSession, request_id: int) -> frozenset[int]:
    """The residents who follow the request."""
    return frozenset(
        await session.scalars(
            select(RequestFollower.user_id).where(RequestFollower.request_id == request_id)
        )
    )


async def active_work_orders(
    session: AsyncSession, request_ids: Sequence[int], *, with_worker: bool = False
) -> dict[int, WorkOrder]:
    """`active_work_order` of many requests, in one read."""
    if not request_ids:
        return {}
    query = (
        select(WorkOrder)
        .where(WorkOrder.request_id.in_(request_ids), WorkOrder.active.is_(True))
        .order_by(WorkOrder.id)
    )
    if with_worker:
        query = query.options(joinedload(WorkOrder.worker))
    orders = await session.scalars(query)
    # The newest wins, as in `active_work_order`.
    return {order.request_id: order for order in orders}


async def followers_of_all(
    session: AsyncSession, request_ids: Sequence[int]
) -> dict[int, frozenset[int]]:
    """`followers_of` many requests, in one read; every request given has an entry."""
    found: dict[int, set[int]] = {request_id: set() for request_id in request_ids}
    if request_ids:
        rows = await session.execute(
            select(RequestFollower.request_id, RequestFollower.user_id).where(
                RequestFollower.request_id.in_(request_ids)
            )
        )
        for request_id, user_id in rows:
            found[request_id].add(user_id)
    return {request_id: frozenset(users) for request_id, users in found.items()}
