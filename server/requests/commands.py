"""Requests: filing, every workflow action, and what each person may read.

Each use case is one transaction that writes the request (version-checked), its timeline
entry and the outbox; ids go out on the bus only after commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from server.accounts.people import find_or_create_caller, normalise_phone
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
from server.requests import media, workflow
from server.requests.deadlines import DeadlineRule, due_at
from server.requests.qr import QrCheck, check_work_order_photo
from server.requests.routing import BuildingRoute, CategoryRoute, Handler, route
from server.requests.timeline import active_work_order, event_of, facts_of, is_rated, timeline_entry
from server.requests.workflow import Action, State
from server.shared.errors import Forbidden, InvalidInput, NotFound, StaleChange, TransitionRefused
from server.shared.roles import HANDLING_KINDS, Actor, OrgKind, Role
from server.shared.services import Services

MAX_DESCRIPTION = 4000
MAX_REASON = 2000
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
    # Filing through an integration on behalf of a known resident.
    resident_id: int | None = None
    source: str = "web"
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class Outcome:
    request: Request
    created: bool = True  # False when a repeated submission found the earlier result


def _clean_text(value: str | None, limit: int) -> str:
    return (value or "").replace("\r\n", "\n").strip()[:limit]


# --------------------------------------------------------------------------------------------
# Filing


async def file_request(svc: Services, actor: Actor, form: NewRequest) -> Outcome:
    errors: dict[str, str] = {}
    description = _clean_text(form.description, MAX_DESCRIPTION + 1)
    if len(description) < 5:
        errors["description"] = _("Опишите проблему (хотя бы несколько слов).")
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = _("Описание слишком длинное (до 4000 знаков).")
    flat = _clean_text(form.flat, 21)
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
    for raw in form.photos[: media.MAX_PHOTOS]:
        try:
            processed.append(media.process_image(raw))
        except InvalidInput as exc:
            errors.update(exc.fields)
            break
    if errors:
        raise InvalidInput(**errors)

    key = (form.idempotency_key or "").strip()[:64] or None
    if key is not None:
        existing = await _by_idempotency_key(svc, key)
        if existing is not None:
            return Outcome(existing, created=False)

    stored = [media.store(svc.settings.media_dir, image) for image in processed]
    try:
        async with svc.db.begin() as session:
            request, entry = await _insert_request(
                session, actor, form, description, flat, caller_phone, key, processed, stored
            )
            event = event_of(request, entry)
            await svc.record(session, event)
    except IntegrityError:
        media.remove(svc.settings.media_dir, stored)
        if key is not None and (existing := await _by_idempotency_key(svc, key)) is not None:
            return Outcome(existing, created=False)
        raise
    except BaseException:
        media.remove(svc.settings.media_dir, stored)
        raise
    await svc.announce([event])
    return Outcome(request)


async def _by_idempotency_key(svc: Services, key: str) -> Request | None:
    async with svc.db.read() as session:
        return (
            await session.scalars(select(Request).where(Request.idempotency_key == key))
        ).first()


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
) -> tuple[Request, TimelineEntry]:
    building = await session.get(Building, form.building_id)
    category = await session.get(Category, form.category_id)
    errors: dict[str, str] = {}
    if building is None:
        errors["building_id"] = _("Такого адреса нет в реестре домов.")
    if category is None or not category.active:
        errors["category_id"] = _("Такой категории нет.")
    if errors:
        raise InvalidInput(**errors)
    assert building is not None and category is not None

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

    organisation_id = await _route(session, building, category)
    now = utcnow()
    rule = DeadlineRule(category.deadline_minutes, category.summer_deadline_minutes)
    request = Request(
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
    session.add(request)
    await session.flush()
    request.number = f"{now.year}-{request.id:06d}"
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
    session.add(entry)
    await session.flush()
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
    await session.flush()
    return request, entry


async def _route(session: AsyncSession, building: Building, category: Category) -> int | None:
    manager = await session.get(Organisation, building.manager_id) if building.manager_id else None
    supplier = (
        await session.get(Organisation, category.handler_organisation_id)
        if category.handler_organisation_id
        else None
    )
    return route(
        BuildingRoute(
            manager_id=manager.id if manager else None,
            manager_active=bool(manager and manager.active),
        ),
        CategoryRoute(
            handler=Handler(category.handler),
            organisation_id=supplier.id if supplier else None,
            organisation_active=bool(supplier and supplier.active),
        ),
    )


# --------------------------------------------------------------------------------------------
# Workflow actions


@dataclass
class ActionInput:
    expected_version: int | None = None
    reason: str = ""
    contractor_id: int | None = None
    organisation_id: int | None = None
    worker_id: int | None = None
    score: int | None = None
    photo: bytes | None = None
    completion_key: str | None = None


async def perform(
    svc: Services, actor: Actor, request_id: int, action: Action, data: ActionInput
) -> Outcome:
    """Take one workflow action. Raises NotFound, Forbidden, StaleChange, InvalidInput."""
    if action is Action.COMPLETE and data.completion_key:
        done = await _completed_with_key(svc, data.completion_key)
        if done is not None:
            return Outcome(done, created=False)
    reason = _clean_text(data.reason, MAX_REASON + 1)
    if len(reason) > MAX_REASON:
        raise InvalidInput(reason=_("Слишком длинный текст (до 2000 знаков)."))
    if action in workflow.REASON_REQUIRED and not reason:
        raise InvalidInput(
            reason=_("Укажите причину.")
            if action is not Action.COMMENT
            else _("Напишите комментарий.")
        )
    photo = None
    if action is Action.COMPLETE:
        if not data.photo:
            raise InvalidInput(photo=_("Приложите фото подписанного заказ-наряда."))
        photo = media.process_image(data.photo, field="photo")

    stored: list[str] = []
    try:
        async with svc.db.begin() as session:
            request = await session.get(Request, request_id)
            if request is None:
                raise NotFound(_("Заявка не найдена."))
            order = await active_work_order(session, request.id)
            facts = facts_of(request, order, rated=await is_rated(session, request.id))
            if not workflow.may_view(actor, facts) and not (
                action is Action.ROUTE and actor.role is Role.CITY_ADMIN
            ):
                raise NotFound(_("Заявка не найдена."))
            if data.expected_version is not None and data.expected_version != request.version:
                raise StaleChange()
            if not workflow.is_possible(facts.state, action):
                raise TransitionRefused()
            if not workflow.may(actor, action, facts):
                raise Forbidden()
            entries = await _apply(
                session, svc, actor, request, order, action, data, reason, photo, stored
            )
            request.updated_at = utcnow()
            await session.flush()
            event = event_of(request, entries[-1] if entries else None)
            await svc.record(session, event)
    except StaleDataError:
        media.remove(svc.settings.media_dir, stored)
        raise StaleChange() from None
    except IntegrityError:
        media.remove(svc.settings.media_dir, stored)
        if action is Action.COMPLETE and data.completion_key:
            done = await _completed_with_key(svc, data.completion_key)
            if done is not None:
                return Outcome(done, created=False)
        raise
    except BaseException:
        media.remove(svc.settings.media_dir, stored)
        raise
    await svc.announce([event])
    return Outcome(request)


async def _completed_with_key(svc: Services, key: str) -> Request | None:
    async with svc.db.read() as session:
        order = (
            await session.scalars(select(WorkOrder).where(WorkOrder.completion_key == key[:64]))
        ).first()
        return await session.get(Request, order.request_id) if order else None


async def _apply(
    session: AsyncSession,
    svc: Services,
    actor: Actor,
    request: Request,
    order: WorkOrder | None,
    action: Action,
    data: ActionInput,
    reason: str,
    photo: media.ProcessedImage | None,
    stored: list[str],
) -> list[TimelineEntry]:
    state = State(request.state)
    new_state = workflow.next_state(state, action)
    now = utcnow()
    entry_data: dict[str, object] = {}
    extra: list[TimelineEntry] = []

    if action is Action.ASSIGN:
        contractor = await _contractor_for(session, request, data.contractor_id)
        if order is not None:
            order.active = False
        order = WorkOrder(
            request_id=request.id,
            contractor_id=contractor.id,
            token=secrets.token_urlsafe(24),
            created_at=now,
        )
        session.add(order)
        await session.flush()
        request.contractor_id = contractor.id
        request.assigned_at = request.assigned_at or now
        entry_data = {"contractor_id": contractor.id, "work_order_id": order.id}
    elif action in (Action.TRANSFER, Action.ROUTE):
        target = await session.get(Organisation, data.organisation_id or 0)
        if (
            target is None
            or not target.active
            or OrgKind(target.kind) not in HANDLING_KINDS
            or target.id == request.organisation_id
        ):
            raise InvalidInput(organisation_id=_("Выберите другую обслуживающую организацию."))
        entry_data = {
            "from_organisation_id": request.organisation_id,
            "to_organisation_id": target.id,
        }
        request.organisation_id = target.id
        request.contractor_id = None
    elif action is Action.START:
        if order is not None:
            order.started_at = order.started_at or now
    elif action is Action.COMPLETE:
        assert order is not None and photo is not None
        check = check_work_order_photo(photo.image, order.token, svc.settings.base_url)
        name = media.store(svc.settings.media_dir, photo)
        stored.append(name)
        order.completed_at = now
        order.started_at = order.started_at or now
        order.completion_key = (data.completion_key or "")[:64] or None
        order.needs_check = check.status != "confirmed"
        order.check_reason = check.reason
        request.done_at = now
        entry_data = {"work_order_id": order.id}
        extra.append(_qr_entry(request, check, now))
    elif action is Action.RETURN or action is Action.DISPUTE:
        request.rework_count += 1
    elif action is Action.CONFIRM:
        request.closed_at = now
    elif action is Action.ASSIGN_WORKER:
        worker = await session.get(User, data.worker_id or 0)
        if (
            worker is None
            or worker.role != Role.WORKER
            or worker.organisation_id != request.contractor_id
            or not worker.active
        ):
            raise InvalidInput(worker_id=_("Выберите исполнителя своей организации."))
        assert order is not None
        order.worker_id = worker.id
        entry_data = {"worker_id": worker.id}
    elif action is Action.RATE:
        if data.score is None or not 1 <= data.score <= 5:
            raise InvalidInput(score=_("Поставьте оценку от 1 до 5."))
        session.add(
            Rating(
                request_id=request.id,
                resident_id=request.resident_id,
                score=data.score,
                comment=reason,
            )
        )
        entry_data = {"score": data.score}

    request.state = new_state
    entry = timeline_entry(
        request,
        actor,
        action.value,
        from_state=state,
        to_state=new_state,
        text=reason,
        data=entry_data,
        at=now,
    )
    session.add(entry)
    await session.flush()
    if action is Action.COMPLETE:
        assert photo is not None and order is not None
        session.add(
            Attachment(
                request_id=request.id,
                work_order_id=order.id,
                timeline_entry_id=entry.id,
                kind="signed_order",
                filename=stored[-1],
                width=photo.width,
                height=photo.height,
                size=len(photo.data),
                uploaded_by=actor.user_id,
                qr_status=extra[0].data["status"],
                qr_text=extra[0].data.get("found"),
            )
        )
    for item in extra:
        item.at = now
        session.add(item)
    await session.flush()
    return [entry, *extra]


def _qr_entry(request: Request, check: QrCheck, at: datetime) -> TimelineEntry:
    system = Actor(user_id=None, role=Role.SYSTEM)
    kind = "qr_confirmed" if check.status == "confirmed" else "qr_flagged"
    data: dict[str, object] = {"status": check.status}
    if check.found:
        data["found"] = check.found[:500]
    return timeline_entry(request, system, kind, text=check.reason, data=data, at=at)


async def _contractor_for(
    session: AsyncSession, request: Request, contractor_id: int | None
) -> Organisation:
    contractor = await session.get(Organisation, contractor_id or 0)
    linked = await session.scalar(
        select(OrganisationContractor.contractor_id).where(
            OrganisationContractor.organisation_id == request.organisation_id,
            OrganisationContractor.contractor_id == (contractor_id or 0),
        )
    )
    if contractor is None or not contractor.active or linked is None:
        raise InvalidInput(contractor_id=_("Выберите подрядчика вашей организации."))
    return contractor
