"""Filing a request: checked, routed to the organisation that serves it, photos attached.

One transaction writes the request, its first timeline entry, its photos and the outbox; photos
are re-encoded on a worker thread before it opens, and the id goes out on the bus after commit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, make_transient_to_detached

from server.accounts.people import find_or_create_caller, normalise_phone
from server.db.models import (
    Attachment,
    Building,
    Category,
    Organisation,
    Request,
    TimelineEntry,
    User,
    UTCDateTime,
    utcnow,
)
from server.i18n import gettext as _
from server.incidents import linking
from server.phone.calls import record_call
from server.requests import media
from server.requests.deadlines import DeadlineRule, due_at
from server.requests.routing import BuildingRoute, CategoryRoute, Handler, route
from server.requests.timeline import event_of, timeline_entry
from server.requests.workflow import State
from server.shared.errors import Forbidden, InvalidInput
from server.shared.forms import clean_text
from server.shared.roles import Actor, Role
from server.shared.services import Services

MAX_DESCRIPTION = 4000
SOURCES = ("web", "phone", "api", "open311")


@dataclass
class NewRequest:
    building_id: int | None
    category_id: int | None
    description: str
    flat: str = ""
    idempotency_key: str | None = None
    photos: list[bytes] = field(default_factory=list)
    # Filing by phone: the operator names the caller.
    caller_phone: str | None = None
    caller_name: str = ""
    # The call on the single number the operator took it on (server/phone/).
    call_id: int | None = None
    # Filing through an integration on behalf of a known resident.
    resident_id: int | None = None
    source: str = "web"
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class Outcome:
    request: Request
    created: bool = True  # False when a repeated submission found the earlier result


async def file_request(svc: Services, actor: Actor, form: NewRequest) -> Outcome:
    errors: dict[str, str] = {}
    description = clean_text(form.description)[: MAX_DESCRIPTION + 1]
    if len(description) < 5:
        errors["description"] = _("Опишите проблему (хотя бы несколько слов).")
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = _("Описание слишком длинное (до 4000 знаков).")
    flat = clean_text(form.flat)[:21]
    if len(flat) > 20:
        errors["flat"] = _("Номер квартиры слишком длинный.")
    if form.building_id is None:
        errors["building_id"] = _("Выберите адрес из списка.")
    if form.category_id is None:
        errors["category_id"] = _("Выберите, что случилось.")
    if len(form.photos) > media.MAX_PHOTOS:
        errors["photos"] = _("Не больше 5 фотографий.")
    caller_phone = None
    if actor.role is Role.OPERATOR:
        caller_phone = normalise_phone(form.caller_phone or "")
        if caller_phone is None:
            errors["caller_phone"] = _("Укажите телефон звонящего.")
    elif actor.role is Role.RESIDENT:
        pass
    elif actor.role is Role.SYSTEM:
        if form.resident_id is None:
            errors["resident_id"] = _("Не указан житель.")
    else:
        raise Forbidden()
    processed: list[media.ProcessedImage] = []
    # Most filings have no photo: no hop to a worker thread for nothing.
    if form.photos:
        try:
            photos = form.photos[: media.MAX_PHOTOS]
            processed = await asyncio.to_thread(media.process_images, photos)
        except InvalidInput as exc:
            errors.update(exc.fields)
    if errors:
        raise InvalidInput(**errors)

    key = (form.idempotency_key or "").strip()[:64] or None
    stored: list[str] = []
    if processed:
        stored = await asyncio.to_thread(media.store_all, svc.settings.media_dir, processed)
    try:
        with media.removed_on_failure(svc.settings.media_dir, stored):
            async with svc.db.begin() as session:
                filed = await _insert_request(
                    session, actor, form, description, flat, caller_phone, key, processed, stored
                )
                await record_call(
                    session, actor, filed.request, form.call_id, filed.request.created_at
                )
                event = event_of(filed.request, filed.entry)
                await svc.record(session, event)
    except IntegrityError:
        # The unique key, not a read before every filing, tells a repeated submission: the
        # first one's request is read only when it happens.
        if key is not None and (existing := await _by_idempotency_key(svc, key)) is not None:
            return Outcome(existing, created=False)
        raise
    await svc.announce([event])
    return Outcome(filed.request)


async def _by_idempotency_key(svc: Services, key: str) -> Request | None:
    async with svc.db.read() as session:
        return (
            await session.scalars(select(Request).where(Request.idempotency_key == key))
        ).first()


@dataclass
class _Filed:
    request: Request
    entry: TimelineEntry
    # Held so that the outbox writers, in the same transaction, find them in the session
    # instead of reading them again.
    building: Building
    category: Category


@dataclass
class _Place:
    """What filing needs to know before it writes, read in one statement."""

    building: Building
    category: Category
    route: BuildingRoute
    category_route: CategoryRoute
    next_id: int
    incident_id: int | None  # the active incident that absorbs the request


def _place_query(dialect: str) -> Select[Any]:
    """The one lookup before the INSERT: building, category, the two organisations routing
    needs, and the id the new request will have (so that its number is written with it, no
    UPDATE after). SQLite writers hold the database from BEGIN IMMEDIATE, so the next rowid is
    theirs; PostgreSQL draws it from the id's sequence. Built once per dialect: building a
    statement costs more than running it."""
    if dialect == "postgresql":
        next_id: ColumnElement[Any] = func.nextval(
            func.pg_get_serial_sequence(Request.__tablename__, "id")
        )
    else:
        next_id = select(func.coalesce(func.max(Request.id), 0) + 1).scalar_subquery()
    manager, supplier = aliased(Organisation), aliased(Organisation)
    return (
        select(
            Building,
            Category,
            manager.id,
            manager.active,
            supplier.id,
            supplier.active,
            next_id.label("next_id"),
            linking.absorbing_incident(
                Building.id, Category.id, bindparam("now", type_=UTCDateTime())
            ).label("incident_id"),
        )
        .select_from(Building)
        .join(Category, Category.id == bindparam("category_id"))
        .outerjoin(manager, manager.id == Building.manager_id)
        .outerjoin(supplier, supplier.id == Category.handler_organisation_id)
        .where(Building.id == bindparam("building_id"), Category.active.is_(True))
    )


_PLACE_QUERIES = {d: _place_query(d) for d in ("postgresql", "sqlite")}


async def _place(
    session: AsyncSession, building_id: int, category_id: int, now: datetime
) -> _Place:
    query = _PLACE_QUERIES[session.get_bind().dialect.name]
    params = {"building_id": building_id, "category_id": category_id, "now": now}
    row = (await session.execute(query, params)).first()
    if row is None:
        errors: dict[str, str] = {}
        if await session.get(Building, building_id) is None:
            errors["building_id"] = _("Такого адреса нет в реестре домов.")
        category = await session.get(Category, category_id)
        if category is None or not category.active:
            errors["category_id"] = _("Такой категории нет.")
        raise InvalidInput(**errors)
    (
        building,
        category,
        manager_id,
        manager_active,
        supplier_id,
        supplier_active,
        next_id,
        incident,
    ) = row
    return _Place(
        building=building,
        category=category,
        route=BuildingRoute(manager_id=manager_id, manager_active=bool(manager_active)),
        category_route=CategoryRoute(
            handler=Handler(category.handler),
            organisation_id=supplier_id,
            organisation_active=bool(supplier_active),
        ),
        next_id=int(next_id),
        incident_id=incident,
    )


async def _insert_request(
    session: AsyncSession,
    actor: Actor,
    form: NewRequest,
    description: str,
    flat: str,
    caller_phone: str | None,
    key: str | None,
    photos: list[media.ProcessedImage],
    stored: list[str],
) -> _Filed:
    assert form.building_id is not None and form.category_id is not None
    now = utcnow()
    place = await _place(session, form.building_id, form.category_id, now)
    building, category = place.building, place.category

    if actor.role is Role.OPERATOR:
        assert caller_phone is not None
        resident = await find_or_create_caller(session, caller_phone, form.caller_name.strip())
        resident_id, source, contact = resident.id, "phone", caller_phone
    elif actor.role is Role.RESIDENT:
        assert actor.user_id is not None
        resident_id, source, contact = actor.user_id, "web", None
    else:
        resident_id = form.resident_id  # type: ignore[assignment]
        source = form.source if form.source in SOURCES else "api"
        contact = None
        if await session.get(User, resident_id) is None:
            raise InvalidInput(resident_id=_("Не указан житель."))

    organisation_id = route(place.route, place.category_route)
    rule = DeadlineRule(category.deadline_minutes, category.summer_deadline_minutes)
    request = Request(
        id=place.next_id,
        number=f"{now.year}-{place.next_id:06d}",
        resident_id=resident_id,
        building_id=building.id,
        flat=flat,
        category_id=category.id,
        description=description,
        source=source,
        contact_phone=contact,
        state=State.NEW,
        organisation_id=organisation_id,
        due_at=due_at(now, rule),
        created_at=now,
        updated_at=now,
        idempotency_key=key,
        latitude=form.latitude,
        longitude=form.longitude,
    )
    entry = timeline_entry(
        request,
        actor,
        "file",
        to_state=State.NEW,
        data={
            "source": source,
            "organisation_id": organisation_id,
            "triage": organisation_id is None,
        },
        at=now,
    )
    entry.id = await _write(session, request, entry)
    # Written above, every column set: the session holds them as stored, for the outbox
    # writers and the events of the same transaction, without writing them again.
    for written in (request, entry):
        make_transient_to_detached(written)
        session.add(written)
    if place.incident_id is not None:
        linking.link(session, request.id, place.incident_id)
    for image, name in zip(photos, stored, strict=True):
        session.add(
            Attachment(
                request_id=request.id,
                timeline_entry_id=entry.id,
                kind="photo",
                filename=name,
                width=image.width,
                height=image.height,
                size=len(image.data),
                uploaded_by=actor.user_id,
            )
        )
    if photos or place.incident_id is not None:
        await session.flush()
    return _Filed(request, entry, building, category)


_REQUESTS: Table = Request.__table__  # type: ignore[assignment]
_ENTRIES: Table = TimelineEntry.__table__  # type: ignore[assignment]
_ENTRY_COLUMNS = (
    *("request_id", "at", "kind", "from_state", "to_state", "actor_id"),
    *("actor_role", "actor_organisation_id", "text", "data"),
)


def _write_query(dialect: str) -> list[Executable]:
    """The INSERTs of a new request and its first entry, the entry's id returned. The unit of
    work would cost more than the two statements themselves, and on PostgreSQL they are one
    (the request's INSERT in a WITH): one round trip. SQLite has no INSERT in WITH: two."""
    # Parameter names that are no column's: an INSERT would take a column's name as a value.
    values = {c.name: bindparam(f"new_request_{c.name}", type_=c.type) for c in _REQUESTS.c}
    to_request = insert(_REQUESTS).values(values)
    entry: dict[str, Any] = {
        n: bindparam(f"new_entry_{n}", type_=_ENTRIES.c[n].type) for n in _ENTRY_COLUMNS
    }
    to_timeline = insert(_ENTRIES).returning(_ENTRIES.c.id)
    if dialect != "postgresql":
        return [to_request, to_timeline.values(entry)]
    filed = to_request.returning(_REQUESTS.c.id).cte("filed")
    entry["request_id"] = select(filed.c.id).scalar_subquery()
    return [to_timeline.values(entry).add_cte(filed)]


_WRITE_QUERIES = {d: _write_query(d) for d in ("postgresql", "sqlite")}


def _as_written(row: Request) -> None:
    """Every column the constructor left out takes what the INSERT writes for it (its scalar
    default, else NULL): the object then stands for the stored row without being read back."""
    state = inspect(row)
    for attribute in row.__mapper__.column_attrs:
        if attribute.key not in state.dict:
            default = attribute.columns[0].default
            scalar = default is not None and default.is_scalar
            setattr(row, attribute.key, default.arg if scalar else None)


async def _write(session: AsyncSession, request: Request, entry: TimelineEntry) -> int:
    """Insert both; the entry's id."""
    _as_written(request)
    params = {
        f"new_request_{column.name}": getattr(request, attribute.key)
        for attribute in Request.__mapper__.column_attrs
        for column in attribute.columns
    }
    params.update({f"new_entry_{n}": getattr(entry, n) for n in _ENTRY_COLUMNS})
    *first, last = _WRITE_QUERIES[session.get_bind().dialect.name]
    for statement in first:
        await session.execute(statement, params)
    return int((await session.execute(last, params)).scalar_one())
