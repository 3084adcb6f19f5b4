"""What people do with incidents: declare, update, resolve, follow, subscribe to a building.

Each change is ONE transaction: the incident (version-checked), its timeline entry, the push
messages in the outbox and, on resolve, every linked request moved on with its own timeline
entry and notices (`requests.workflow.Action.RESOLVE_INCIDENT`, through the action table's use
case, all the requests at once: `requests.many`). Ids go out on the bus after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from server.db.models import (
    Building,
    BuildingSubscription,
    Category,
    Incident,
    IncidentBuilding,
    IncidentEntry,
    IncidentFollower,
    IncidentRequest,
    Organisation,
    Request,
    utcnow,
)
from server.i18n import gettext as _
from server.incidents import linking, notices
from server.incidents.rules import (
    LINKABLE_STATES,
    Change,
    Declarer,
    IncidentKind,
    may_declare,
    may_manage,
)
from server.requests import many
from server.requests.routing import BuildingRoute, CategoryRoute, Handler, route
from server.requests.timeline import event_of
from server.requests.workflow import Action
from server.shared.errors import Forbidden, InvalidInput, NotFound, StaleChange
from server.shared.events import IncidentEvent
from server.shared.forms import clean_text
from server.shared.roles import Actor, OrgKind, Role
from server.shared.services import Services

MAX_TEXT = 1000


class Scope:
    """How the buildings are chosen on the declaration form."""

    PICKED = "picked"
    STREET = "street"
    ALL = "all"


SCOPES = (Scope.PICKED, Scope.STREET, Scope.ALL)


@dataclass
class Declaration:
    kind: str
    category_id: int | None
    text: str
    starts_at: datetime | None
    expected_end: datetime | None
    scope: str = Scope.PICKED
    building_ids: list[int] = field(default_factory=list)
    street: str = ""


@dataclass
class Revision:
    expected_version: int
    text: str = ""
    expected_end: datetime | None = None


async def declarer_of(session: AsyncSession, actor: Actor) -> Declarer:
    kind = None
    if actor.organisation_id is not None:
        org = await session.get(Organisation, actor.organisation_id)
        if org is not None and org.active:
            kind = OrgKind(org.kind)
    return Declarer(actor.role, actor.organisation_id, kind)


def _checked_text(raw: str) -> str:
    text = clean_text(raw)
    if len(text) < 5:
        raise InvalidInput(text=_("Напишите текст для жителей (хотя бы несколько слов)."))
    if len(text) > MAX_TEXT:
        raise InvalidInput(text=_("Текст слишком длинный (до 1000 знаков)."))
    return text


def _check(form: Declaration) -> str:
    errors: dict[str, str] = {}
    try:
        text = _checked_text(form.text)
    except InvalidInput as exc:
        errors.update(exc.fields)
        text = ""
    if form.kind not in tuple(IncidentKind):
        errors["kind"] = _("Выберите: авария или плановое отключение.")
    if form.category_id is None:
        errors["category_id"] = _("Выберите, что случилось.")
    if form.starts_at is None:
        errors["starts_at"] = _("Укажите начало.")
    if form.expected_end is None:
        errors["expected_end"] = _("Укажите ожидаемое окончание.")
    elif form.starts_at is not None and form.expected_end <= form.starts_at:
        errors["expected_end"] = _("Окончание должно быть позже начала.")
    if form.scope not in SCOPES:
        errors["scope"] = _("Выберите дома.")
    elif form.scope == Scope.PICKED and not form.building_ids:
        errors["building_ids"] = _("Выберите хотя бы один дом.")
    elif form.scope == Scope.STREET and not clean_text(form.street):
        errors["street"] = _("Укажите улицу.")
    if errors:
        raise InvalidInput(**errors)
    return text


async def _chosen_buildings(
    session: AsyncSession, person: Declarer, category: Category, form: Declaration
) -> list[int]:
    """The buildings chosen, each checked against the rules (all served, or the admin)."""
    query = select(Building.id, Building.manager_id, Organisation.active).outerjoin(
        Organisation, Organisation.id == Building.manager_id
    )
    if form.scope == Scope.PICKED:
        query = query.where(Building.id.in_(form.building_ids))
    elif form.scope == Scope.STREET:
        query = query.where(Building.street == clean_text(form.street))
    supplier_active = True
    if category.handler_organisation_id is not None:
        supplier = await session.get(Organisation, category.handler_organisation_id)
        supplier_active = supplier is not None and supplier.active
    category_route = CategoryRoute(
        Handler(category.handler), category.handler_organisation_id, supplier_active
    )
    rows = (await session.execute(query.order_by(Building.id))).all()
    if form.scope == Scope.PICKED and len(rows) != len(set(form.building_ids)):
        raise InvalidInput(building_ids=_("Такого адреса нет в реестре домов."))
    served = {
        building_id: route(BuildingRoute(manager_id, bool(active)), category_route)
        == person.organisation_id
        for building_id, manager_id, active in rows
    }
    if form.scope == Scope.PICKED:
        if not may_declare(person, list(served.values())):
            raise Forbidden()
        return list(served)
    # «All we serve» (on a street): the served ones; every one, for the administration.
    chosen = [b for b, own in served.items() if may_declare(person, [own])]
    if not chosen:
        field_name = "street" if form.scope == Scope.STREET else "scope"
        raise InvalidInput(**{field_name: _("Нет домов, которые вы обслуживаете.")})
    return chosen


def _entry(
    incident: Incident, actor: Actor, change: Change, now: datetime, **data: object
) -> IncidentEntry:
    return IncidentEntry(
        incident_id=incident.id,
        at=now,
        kind=change.value,
        **actor.stamp(),
        text=incident.text,
        data=data,
    )


async def declare(svc: Services, actor: Actor, form: Declaration) -> Incident:
    text = _check(form)
    assert form.starts_at is not None and form.expected_end is not None
    async with svc.db.begin() as session:
        person = await declarer_of(session, actor)
        if not may_declare(person, [True]):
            raise Forbidden()
        category = await session.get(Category, form.category_id)
        if category is None or not category.active:
            raise InvalidInput(category_id=_("Такой категории нет."))
        buildings = await _chosen_buildings(session, person, category, form)
        now = utcnow()
        assert person.organisation_id is not None
        incident = Incident(
            organisation_id=person.organisation_id,
            kind=form.kind,
            category_id=category.id,
            text=text,
            starts_at=form.starts_at,
            expected_end=form.expected_end,
            created_at=now,
            announced_at=now,
        )
        session.add(incident)
        await session.flush()
        session.add_all(IncidentBuilding(incident_id=incident.id, building_id=b) for b in buildings)
        linked = await _link_open_requests(session, incident, buildings)
        session.add(
            _entry(incident, actor, Change.DECLARE, now, buildings=len(buildings), linked=linked)
        )
        await notices.write(session, incident, Change.DECLARE, actor.user_id)
        await notices.text_residents(session, svc.settings, incident, resolved=False)
        svc.wake_after_commit(session)
    await svc.announce([IncidentEvent(incident.id)])
    return incident


async def _link_open_requests(
    session: AsyncSession, incident: Incident, buildings: list[int]
) -> int:
    """Requests already filed about it since it started: absorbed at once."""
    if not buildings:
        return 0
    ids = (
        await session.scalars(
            select(Request.id)
            .outerjoin(IncidentRequest, IncidentRequest.request_id == Request.id)
            .where(
                IncidentRequest.request_id.is_(None),
                Request.building_id.in_(buildings),
                Request.category_id == incident.category_id,
                Request.state.in_(LINKABLE_STATES),
                Request.created_at >= incident.starts_at,
            )
        )
    ).all()
    session.add_all(IncidentRequest(request_id=i, incident_id=incident.id) for i in ids)
    return len(ids)


async def _managed(
    session: AsyncSession, actor: Actor, incident_id: int, *, active: bool = True
) -> Incident:
    """The incident `actor` may manage; `active`: one not yet resolved."""
    incident = await session.get(Incident, incident_id)
    person = await declarer_of(session, actor)
    if incident is None or not may_manage(person, incident.organisation_id):
        raise NotFound(_("Авария не найдена."))
    if active and incident.resolved_at is not None:
        raise InvalidInput(text=_("Авария уже устранена."))
    return incident


async def update(svc: Services, actor: Actor, incident_id: int, form: Revision) -> Incident:
    text = _checked_text(form.text) if clean_text(form.text) else ""
    try:
        async with svc.db.begin() as session:
            incident = await _managed(session, actor, incident_id)
            if incident.version != form.expected_version:
                raise StaleChange()
            changed: dict[str, object] = {}
            if text and text != incident.text:
                incident.text = changed["text"] = text
            if form.expected_end is not None and form.expected_end != incident.expected_end:
                if form.expected_end <= incident.starts_at:
                    raise InvalidInput(expected_end=_("Окончание должно быть позже начала."))
                incident.expected_end = form.expected_end
                changed["expected_end"] = form.expected_end.isoformat()
            if not changed:
                raise InvalidInput(text=_("Измените текст или ожидаемое окончание."))
            session.add(_entry(incident, actor, Change.UPDATE, utcnow(), **changed))
            await session.flush()
            await notices.write(session, incident, Change.UPDATE, actor.user_id)
            svc.wake_after_commit(session)
    except StaleDataError:
        raise StaleChange() from None
    await svc.announce([IncidentEvent(incident.id)])
    return incident


@dataclass
class Resolution:
    incident: Incident
    moved: list[int]  # the requests moved to «выполнена»


async def resolve(
    svc: Services, actor: Actor, incident_id: int, expected_version: int
) -> Resolution:
    try:
        async with svc.db.begin() as session:
            incident = await _managed(session, actor, incident_id)
            if incident.version != expected_version:
                raise StaleChange()
            now = utcnow()
            incident.resolved_at = now
            requests = (
                await session.scalars(
                    select(Request)
                    .join(IncidentRequest, IncidentRequest.request_id == Request.id)
                    .where(IncidentRequest.incident_id == incident.id)
                    .order_by(Request.id)
                )
            ).all()
            reason = _("Авария устранена: %(text)s", text=incident.text)
            taken = await many.take_on_all(
                session, actor, Action.RESOLVE_INCIDENT, requests, reason, now
            )
            moved = [request for request, _last in taken]
            events = [event_of(request, entry) for request, entry in taken]
            await svc.record_all(session, events)
            session.add(_entry(incident, actor, Change.RESOLVE, now, moved=len(moved)))
            await session.flush()
            await notices.write(
                session,
                incident,
                Change.RESOLVE,
                actor.user_id,
                skip={r.resident_id for r in moved},
            )
            await notices.text_residents(session, svc.settings, incident, resolved=True)
            svc.wake_after_commit(session)
    except StaleDataError:
        raise StaleChange() from None
    await svc.announce([*events, IncidentEvent(incident.id)])
    return Resolution(incident, [r.id for r in moved])


async def verify_linked(svc: Services, actor: Actor, incident_id: int) -> int:
    """The dispatcher checks at once the work on every request the resolution moved to
    «выполнена» (their own organisation's): each then waits for its resident to confirm or
    dispute it, as after any check. How many were checked."""
    async with svc.db.begin() as session:
        await _managed(session, actor, incident_id, active=False)
        requests = await linking.linked_for(session, actor, incident_id, Action.VERIFY)
        taken = await many.take_on_all(session, actor, Action.VERIFY, requests, "", utcnow())
        events = [event_of(request, entry) for request, entry in taken]
        await svc.record_all(session, events)
    await svc.announce(events)
    return len(events)


async def follow(svc: Services, actor: Actor, incident_id: int) -> Incident:
    """«Меня это тоже касается»: the resident is told of its changes instead of filing."""
    if actor.role is not Role.RESIDENT or actor.user_id is None:
        raise Forbidden()
    async with svc.db.read() as session:
        incident = await session.get(Incident, incident_id)
    if incident is None or incident.resolved_at is not None:
        raise NotFound(_("Авария не найдена."))
    try:
        async with svc.db.begin() as session:
            known = await session.get(IncidentFollower, (incident.id, actor.user_id))
            if known is None:
                session.add(IncidentFollower(incident_id=incident.id, user_id=actor.user_id))
    except IntegrityError:
        pass  # followed twice at once: once is enough
    await svc.announce([IncidentEvent(incident.id)])
    return incident


async def subscribe(svc: Services, actor: Actor, building_id: int, on: bool) -> None:
    """Be told of the outages and planned shut-offs of a building, request or not."""
    if actor.role is not Role.RESIDENT or actor.user_id is None:
        raise Forbidden()
    try:
        async with svc.db.begin() as session:
            if await session.get(Building, building_id) is None:
                raise NotFound(_("Дом не найден."))
            if not on:
                await session.execute(
                    delete(BuildingSubscription).where(
                        BuildingSubscription.user_id == actor.user_id,
                        BuildingSubscription.building_id == building_id,
                    )
                )
            elif await session.get(BuildingSubscription, (actor.user_id, building_id)) is None:
                session.add(BuildingSubscription(user_id=actor.user_id, building_id=building_id))
    except IntegrityError:
        pass
