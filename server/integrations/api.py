"""The JSON API's use cases: list and read requests with their timelines, file a request.

A token sees what the staff role of its organisation sees (tokens.TokenHolder.actor), narrowed
in SQL by `visibility.visible_to` as the pages are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from server.accounts.people import find_or_create_caller, normalise_phone
from server.db.models import Category, Request, TimelineEntry, utcnow
from server.i18n import gettext as _
from server.integrations.api_docs import Id, text
from server.integrations.open311.addresses import match_address
from server.integrations.tokens import TokenHolder
from server.requests import workflow
from server.requests.actions import ActionInput, perform
from server.requests.deadlines import is_overdue
from server.requests.filing import NewRequest, file_request
from server.requests.labels import entry_body, entry_label, state_label
from server.requests.lists import REQUEST_DETAILS
from server.requests.visibility import visible_to
from server.requests.workflow import Action, State
from server.shared.errors import InvalidInput, NotFound
from server.shared.forms import Count
from server.shared.services import Services

MAX_PER_PAGE = 200


class StateGroup(StrEnum):
    """Besides the states themselves, the list filters by these groups of states."""

    OPEN = "open"  # not final
    OVERDUE = "overdue"  # work still owed and past its deadline


STATE_FILTERS = (*(s.value for s in State), *(g.value for g in StateGroup))


# --------------------------------------------------------------------------------------------
# What the API returns (dataclasses, so the OpenAPI schema documents them)


@dataclass
class NamedRef:
    id: int
    name: str


@dataclass
class CategoryOut:
    code: str
    name: str
    priority: str
    deadline_minutes: int
    summer_deadline_minutes: int | None = None


@dataclass
class BuildingOut:
    id: int
    address: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class ResidentOut:
    name: str
    phone: str | None


@dataclass
class TimelineEntryOut:
    id: int
    at: datetime
    kind: str
    label: str
    from_state: State | None
    to_state: State | None
    actor_role: str
    actor_organisation: str | None
    text: str
    data: dict[str, Any]


@dataclass
class RequestOut:
    id: int
    number: str
    state: State
    state_label: str
    category: CategoryOut
    building: BuildingOut
    flat: str
    description: str
    source: str
    organisation: NamedRef | None
    contractor: NamedRef | None
    resident: ResidentOut
    filed_at: datetime
    due_at: datetime
    overdue: bool
    assigned_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    rework_count: int
    version: int
    url: str
    timeline: list[TimelineEntryOut] | None = None


@dataclass
class RequestPageOut:
    items: list[RequestOut]
    page: int
    per_page: int
    total: int
    next_page: int | None


class NewRequestIn(msgspec.Struct, kw_only=True):
    """A request filed by an integration on behalf of a caller."""

    category: Annotated[str, text(64)]  # a category code, see GET /api/v1/categories
    description: Annotated[str, text(4000)]
    phone: Annotated[str, text(40)]  # the resident's phone; a new resident is made if unknown
    building_id: Id | None = None  # or:
    address: Annotated[str, text(300)] | None = None  # «улица Ленина, 12»
    flat: Annotated[str, text(20)] = ""
    name: Annotated[str, text(200)] = ""  # the resident's name, for a new resident
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    idempotency_key: Annotated[str, text(200)] | None = None  # one key twice files one request


class ActionIn(msgspec.Struct, kw_only=True):
    """A workflow action on one request; each action reads the fields it needs."""

    # The request's `version` as last read: a request changed since is 409.
    expected_version: Count = msgspec.field(name="version")
    reason: Annotated[str, text(2000)] = ""  # the comment, or the reason a refusal needs
    contractor_id: Id | None = None  # assign: one of the organisation's contractors
    organisation_id: Id | None = None  # transfer, route: the organisation to hand it to
    worker_id: Id | None = None  # assign_worker: one of the contractor's workers
    score: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None  # rate
    original_number: Annotated[str, text(20)] = ""  # mark_duplicate: «2026-000123»


@dataclass
class ApiFilters:
    state: str | None = None  # a state, «open», «overdue» or «closed»
    category: str | None = None  # category code
    organisation_id: int | None = None
    filed_from: datetime | None = None
    filed_to: datetime | None = None
    updated_since: datetime | None = None
    page: int = 1
    per_page: int = 50


# --------------------------------------------------------------------------------------------
# Reading


def _category(c: Category) -> CategoryOut:
    return CategoryOut(c.code, c.name, c.priority, c.deadline_minutes, c.summer_deadline_minutes)


def request_out(svc: Services, r: Request, now: datetime) -> RequestOut:
    b = r.building
    return RequestOut(
        id=r.id,
        number=r.number or "",
        state=State(r.state),
        state_label=state_label(r.state),
        category=_category(r.category),
        building=BuildingOut(b.id, b.address, b.latitude, b.longitude),
        flat=r.flat,
        description=r.description,
        source=r.source,
        organisation=NamedRef(r.organisation.id, r.organisation.name) if r.organisation else None,
        contractor=NamedRef(r.contractor.id, r.contractor.name) if r.contractor else None,
        resident=ResidentOut(r.resident.name, r.contact_phone or r.resident.phone),
        filed_at=r.created_at,
        due_at=r.due_at,
        overdue=is_overdue(State(r.state), r.due_at, now),
        assigned_at=r.assigned_at,
        done_at=r.done_at,
        closed_at=r.closed_at,
        updated_at=r.updated_at,
        rework_count=r.rework_count,
        version=r.version,
        url=f"{svc.settings.base_url}/requests/{r.id}",
    )


def _entry_out(e: TimelineEntry) -> TimelineEntryOut:
    # Names of people stay out: the role and the organisation say who acted.
    return TimelineEntryOut(
        id=e.id,
        at=e.at,
        kind=e.kind,
        label=entry_label(e.kind),
        from_state=State(e.from_state) if e.from_state else None,
        to_state=State(e.to_state) if e.to_state else None,
        actor_role=e.actor_role,
        actor_organisation=e.actor_organisation.name if e.actor_organisation else None,
        text=entry_body(e),
        data=dict(e.data or {}),
    )


def _moment(value: datetime | None, name: str) -> datetime | None:
    """A moment of a filter in UTC; one that has no UTC equivalent (year 1 at +23:59) is refused."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise InvalidInput(**{name: _("Дата вне допустимого диапазона.")}) from None


def _filters(filters: ApiFilters, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    filed_from = _moment(filters.filed_from, "filed_from")
    filed_to = _moment(filters.filed_to, "filed_to")
    updated_since = _moment(filters.updated_since, "updated_since")
    state = (filters.state or "").strip()
    if state == StateGroup.OPEN:
        conditions.append(Request.state.in_([s.value for s in workflow.OPEN_STATES]))
    elif state == StateGroup.OVERDUE:
        conditions.append(Request.state.in_([s.value for s in workflow.OPEN_WORK_STATES]))
        conditions.append(Request.due_at < now)
    elif state:
        if state not in {s.value for s in State}:
            raise InvalidInput(state=_("Неизвестное состояние «%(s)s».", s=state))
        conditions.append(Request.state == state)
    if filters.category:
        conditions.append(
            Request.category_id.in_(select(Category.id).where(Category.code == filters.category))
        )
    if filters.organisation_id is not None:
        conditions.append(Request.organisation_id == filters.organisation_id)
    if filed_from is not None:
        conditions.append(Request.created_at >= filed_from)
    if filed_to is not None:
        conditions.append(Request.created_at < filed_to)
    if updated_since is not None:
        conditions.append(Request.updated_at >= updated_since)
    return conditions


async def list_requests(svc: Services, holder: TokenHolder, filters: ApiFilters) -> RequestPageOut:
    now = utcnow()
    per_page = max(1, min(filters.per_page, MAX_PER_PAGE))
    page = max(1, filters.page)
    conditions = [visible_to(holder.actor), *_filters(filters, now)]
    async with svc.db.read() as session:
        total = int(
            await session.scalar(select(func.count()).select_from(Request).where(*conditions)) or 0
        )
        found = await session.scalars(
            select(Request)
            .where(*conditions)
            .options(*REQUEST_DETAILS)
            .order_by(Request.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        items = [request_out(svc, r, now) for r in found]
    return RequestPageOut(
        items, page, per_page, total, page + 1 if page * per_page < total else None
    )


async def read_request(svc: Services, holder: TokenHolder, request_id: int) -> RequestOut:
    """One request with its whole timeline; NotFound for a request out of the token's reach."""
    async with svc.db.read() as session:
        request = (
            await session.scalars(
                select(Request)
                .where(Request.id == request_id, visible_to(holder.actor))
                .options(*REQUEST_DETAILS)
            )
        ).first()
        if request is None:
            raise NotFound(_("Заявка не найдена."))
        entries = await session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.request_id == request.id)
            .options(selectinload(TimelineEntry.actor_organisation))
            .order_by(TimelineEntry.id)
        )
        out = request_out(svc, request, utcnow())
        out.timeline = [_entry_out(e) for e in entries]
        return out


async def categories(svc: Services) -> list[CategoryOut]:
    async with svc.db.read() as session:
        found = await session.scalars(
            select(Category).where(Category.active.is_(True)).order_by(Category.sort, Category.name)
        )
        return [_category(c) for c in found]


# --------------------------------------------------------------------------------------------
# Filing


async def file(svc: Services, holder: TokenHolder, data: NewRequestIn) -> tuple[RequestOut, bool]:
    """File on a caller's behalf; returns the request and whether it is new."""
    errors: dict[str, str] = {}
    phone = normalise_phone(data.phone or "")
    if phone is None:
        errors["phone"] = _("Укажите телефон жителя, например +7 917 123-45-67.")
    async with svc.db.read() as session:
        category = (
            await session.scalars(
                select(Category).where(Category.code == (data.category or "").strip())
            )
        ).first()
    if category is None or not category.active:
        errors["category"] = _("Такой категории нет: см. GET /api/v1/categories.")
    building_id = data.building_id
    if building_id is None and data.address:
        building = await match_address(svc, data.address)
        if building is None:
            errors["address"] = _("Адрес не найден в реестре домов: укажите улицу и номер дома.")
        else:
            building_id = building.id
    elif building_id is None:
        errors["building_id"] = _("Укажите building_id или address.")
    if errors:
        raise InvalidInput(**errors)
    assert phone is not None and category is not None
    async with svc.db.begin() as session:
        resident = await find_or_create_caller(session, phone, " ".join(data.name.split())[:200])
        resident_id = resident.id
    key = None
    if data.idempotency_key:
        # Keys of different integrations must not collide.
        key = hashlib.sha256(f"{holder.token_id}:{data.idempotency_key}".encode()).hexdigest()
    outcome = await file_request(
        svc,
        holder.filer,
        NewRequest(
            building_id=building_id,
            category_id=category.id,
            description=data.description,
            flat=data.flat,
            idempotency_key=key,
            resident_id=resident_id,
            source="api",
            latitude=data.latitude,
            longitude=data.longitude,
        ),
    )
    async with svc.db.read() as session:
        request = (
            await session.scalars(
                select(Request).where(Request.id == outcome.request.id).options(*REQUEST_DETAILS)
            )
        ).one()
        return request_out(svc, request, utcnow()), outcome.created


# --------------------------------------------------------------------------------------------
# Workflow actions


async def act(
    svc: Services, holder: TokenHolder, request_id: int, action: Action, data: ActionIn
) -> RequestOut:
    """Take one action as the token's organisation; the same rules as on the request page."""
    await perform(
        svc, holder.actor, request_id, action, ActionInput(**msgspec.structs.asdict(data))
    )
    return await read_request(svc, holder, request_id)
