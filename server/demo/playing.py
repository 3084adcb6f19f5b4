"""Playing the script: each request filed and moved on by the person who would, then moved
back in time to the moments a working town would have taken its steps."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from server.db.models import (
    Attachment,
    Building,
    Category,
    Rating,
    Request,
    TimelineEntry,
    User,
    WorkOrder,
)
from server.demo.pictures import resident_photo, signed_work_order
from server.demo.script import (
    HABIT,
    RESIDENT_ACTIONS,
    STAFF_ACTIONS,
    WORK_CAP,
    WORK_SHARE,
    Spec,
    Step,
    contractor_for,
)
from server.requests.actions import ActionInput, perform
from server.requests.deadlines import TOWN_TZ, DeadlineRule, due_at, warn_at
from server.requests.filing import NewRequest, file_request
from server.requests.qr import job_url
from server.requests.timeline import active_work_order
from server.requests.work_orders import PRINTED, record_printing
from server.requests.workflow import OPEN_STATES, OPEN_WORK_STATES, Action, State
from server.shared.roles import Actor, Role
from server.shared.services import Services

if TYPE_CHECKING:
    from server.demo.loading import Town


def filed_at(ago: str, now: datetime) -> datetime:
    if ago.endswith("m"):
        return now - timedelta(minutes=float(ago[:-1]))
    if ago.endswith("h"):
        return now - timedelta(hours=float(ago[:-1]))
    days, clock = ago.split()
    hour, minute = (int(part) for part in clock.split(":"))
    local = (now - timedelta(days=int(days.rstrip("d")))).astimezone(TOWN_TZ)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), organisation_id=user.organisation_id)


async def play(
    svc: Services, town: Town, spec: Spec, now: datetime, rng: random.Random, index: int
) -> None:
    """File one request as its resident or the operator would, then take each step."""
    category = town.categories[spec.category]
    building = town.buildings[spec.building]
    if spec.who.startswith("+"):
        phone, name = spec.who.split("|")
        filer = _actor(town.users["operator"])
        form = NewRequest(building.id, category.id, spec.text, spec.flat, caller_phone=phone,
                          caller_name=name)  # fmt: skip
    else:
        filer = _actor(town.users[spec.who])
        form = NewRequest(building.id, category.id, spec.text, spec.flat)
    if spec.photo:
        form.photos = [resident_photo(index)]
    request = (await file_request(svc, filer, form)).request
    groups = [await _entry_ids(svc, request.id)]
    for step in spec.steps:
        request = await _take(svc, town, request, step, category, building)
        seen = {i for group in groups for i in group}
        groups.append([i for i in await _entry_ids(svc, request.id) if i not in seen])
    times = _moments(spec, category, now, rng)
    await _backdate(svc, request.id, groups, times, category, now)


async def _entry_ids(svc: Services, request_id: int) -> list[int]:
    async with svc.db.read() as session:
        return list(
            await session.scalars(
                select(TimelineEntry.id)
                .where(TimelineEntry.request_id == request_id)
                .order_by(TimelineEntry.id)
            )
        )


async def _take(
    svc: Services, town: Town, request: Request, step: Step, category: Category, building: Building
) -> Request:
    resident = Actor(request.resident_id, Role.RESIDENT)
    dispatcher = (
        _actor(town.dispatchers[request.organisation_id]) if request.organisation_id else None
    )
    contractor = (
        _actor(town.contractor_staff[request.contractor_id]) if request.contractor_id else None
    )
    if step.action == "print":
        async with svc.db.read() as session:
            order = await active_work_order(session, request.id)
        assert order is not None and contractor is not None
        await record_printing(svc, contractor, order.id)
        async with svc.db.read() as session:
            printed = await session.get(Request, request.id)
        assert printed is not None
        return printed
    data = ActionInput(expected_version=request.version)
    action = Action.COMPLETE if step.action == "complete_noqr" else Action(step.action)
    actor = dispatcher
    if action is Action.ASSIGN:
        choice = next(
            town.orgs[key]
            for key in contractor_for(category.code)
            if (request.organisation_id, town.orgs[key]) in town.contracts
        )
        data.contractor_id = choice
    elif action is Action.ASSIGN_WORKER:
        actor = contractor
        crew = town.workers[request.contractor_id or 0]
        # The first worker of each crew gets most jobs, so the demo `worker` has a full list.
        data.worker_id = (crew[-1] if request.id % 3 == 0 else crew[0]).id
    elif action is Action.START:
        # Back for rework the crew already holds the sheet; a first start is the desk's.
        rework = request.state == State.REWORK
        actor = (await _crew_member(svc, request) if rework else None) or contractor
    elif action is Action.COMPLETE:
        async with svc.db.read() as session:
            order = await active_work_order(session, request.id)
        assert order is not None
        actor = await _crew_member(svc, request) or contractor
        url = (
            None if step.action == "complete_noqr" else job_url(svc.settings.base_url, order.token)
        )
        data.photo = signed_work_order(
            f"{request.number}/{order.id}", building.address, category.name, url
        )
    elif action in (Action.CONFIRM, Action.DISPUTE, Action.RATE):
        actor = resident
        if action is Action.RATE:
            data.score, data.reason = step.arg
        else:
            data.reason = step.arg or ""
    elif action is Action.CANCEL:
        actor = _actor(town.users["operator"]) if request.source == "phone" else resident
        data.reason = step.arg or ""
    elif action in (Action.TRANSFER, Action.ROUTE):
        key, data.reason = step.arg
        data.organisation_id = town.orgs[key]
        if action is Action.ROUTE:
            actor = _actor(town.users["admin"])
    elif action is Action.COMMENT:
        who, data.reason = step.arg
        actor = {"dispatcher": dispatcher, "contractor": contractor, "resident": resident}[who]
    elif action is Action.MARK_DUPLICATE:
        data.original_number, data.reason = await _first_of_its_kind(svc, request), step.arg
    else:  # verify, return, decline
        data.reason = step.arg or ""
    assert actor is not None, (step, request.id)
    return (await perform(svc, actor, request.id, action, data)).request


async def _first_of_its_kind(svc: Services, request: Request) -> str:
    """The number of the earliest open request of the same house, category and organisation."""
    async with svc.db.read() as session:
        number = await session.scalar(
            select(Request.number)
            .where(
                Request.building_id == request.building_id,
                Request.category_id == request.category_id,
                Request.organisation_id == request.organisation_id,
                Request.state.in_(OPEN_STATES),
                Request.id != request.id,
            )
            .order_by(Request.id)
            .limit(1)
        )
    assert number is not None, request.id
    return number


async def _crew_member(svc: Services, request: Request) -> Actor | None:
    """The worker holding the request's work order, if one was named."""
    async with svc.db.read() as session:
        order = await active_work_order(session, request.id)
        worker = await session.get(User, order.worker_id) if order and order.worker_id else None
    return _actor(worker) if worker is not None else None


def _moments(spec: Spec, category: Category, now: datetime, rng: random.Random) -> list[datetime]:
    """When the filing and each step happened: a believable pace, before now."""
    filed = filed_at(spec.ago, now)
    times = [filed]
    for step in spec.steps:
        name = "complete" if step.action == "complete_noqr" else step.action
        if step.after is not None:
            minutes = step.after
        elif name in WORK_SHARE:
            minutes = min(category.deadline_minutes * WORK_SHARE[name], WORK_CAP[name])
            minutes = max(3.0, minutes * rng.uniform(0.6, 1.3))
        else:
            low, high = HABIT[name]
            minutes = rng.uniform(low, high)
        moment = times[-1] + timedelta(minutes=minutes)
        if name in STAFF_ACTIONS and category.priority == "normal":
            moment = _awake(moment, rng, 8, 20)
        elif name in RESIDENT_ACTIONS:
            moment = _awake(moment, rng, 7, 23)
        times.append(moment)
    latest = now - timedelta(minutes=2)
    if times[-1] > latest:
        # The script asked for more than has happened since filing: squeeze the steps in.
        span = (times[-1] - filed).total_seconds()
        room = max((latest - filed).total_seconds(), 60.0)
        times = [filed + (t - filed) * (room / span) for t in times]
    return times


def _awake(moment: datetime, rng: random.Random, first: int, last: int) -> datetime:
    """Move a moment into the hours people act in, town time. Ordinary requests wait for the
    day shift (8:00–20:00); urgent ones don't; residents answer from 7:00 to 23:00."""
    local = moment.astimezone(TOWN_TZ)
    if local.hour >= last:
        local = (local + timedelta(days=1)).replace(hour=first, minute=0)
    elif local.hour < first:
        local = local.replace(hour=first, minute=0)
    else:
        return moment
    return local + timedelta(minutes=rng.randint(5, 70))


async def _backdate(
    svc: Services,
    request_id: int,
    groups: list[list[int]],
    times: list[datetime],
    category: Category,
    now: datetime,
) -> None:
    """Move the request, its timeline and everything made along it to their moments."""
    at = {entry_id: times[i] for i, group in enumerate(groups) for entry_id in group}
    filed = times[0]
    async with svc.db.begin() as session:
        for entry_id, moment in at.items():
            await session.execute(
                update(TimelineEntry).where(TimelineEntry.id == entry_id).values(at=moment)
            )
        entries = list(
            await session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.request_id == request_id)
                .order_by(TimelineEntry.id)
            )
        )
        orders = {
            o.id: o
            for o in await session.scalars(
                select(WorkOrder).where(WorkOrder.request_id == request_id)
            )
        }
        for order in orders.values():
            order.started_at = order.printed_at = order.completed_at = None
        request = await session.get(Request, request_id)
        assert request is not None
        current: WorkOrder | None = None
        assigned_at = done_at = closed_at = None
        for entry in entries:
            moment = at.get(entry.id, filed)
            if entry.kind == "assign":
                current = orders[int(entry.data["work_order_id"])]
                current.created_at = moment
                assigned_at = assigned_at or moment
            elif entry.kind == PRINTED and current is not None:
                current.printed_at = current.printed_at or moment
            elif entry.kind == "start" and current is not None:
                current.started_at = current.started_at or moment
            elif entry.kind == "complete":
                order = orders[int(entry.data["work_order_id"])]
                order.completed_at = moment
                order.started_at = order.started_at or moment
                done_at = moment
            elif entry.kind == "confirm":
                closed_at = moment
            elif entry.kind == "rate":
                await session.execute(
                    update(Rating).where(Rating.request_id == request_id).values(created_at=moment)
                )
        for attachment in await session.scalars(
            select(Attachment).where(Attachment.request_id == request_id)
        ):
            attachment.created_at = at.get(attachment.timeline_entry_id or 0, filed)
        rule = DeadlineRule(category.deadline_minutes, category.summer_deadline_minutes)
        request.created_at = filed
        request.number = f"{filed.year}-{request.id:06d}"
        request.due_at = due_at(filed, rule)
        request.updated_at = times[-1]
        request.assigned_at = assigned_at
        request.done_at = done_at
        request.closed_at = closed_at
        # Warnings the deadline watcher would have sent already count as sent, so starting the
        # demo does not ring every dispatcher's phone at once.
        if State(request.state) in OPEN_WORK_STATES and warn_at(filed, request.due_at) < now:
            request.due_warned_at = warn_at(filed, request.due_at)
        caller = await session.get(User, request.resident_id)
        if caller is not None and caller.created_at > filed:
            caller.created_at = filed - timedelta(minutes=1)
