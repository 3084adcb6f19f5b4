"""What people read about incidents: the notices residents see, the lists and the page staff
see. Who may see what: residents and the operator see the active incidents of a building
(their text is written for everyone); a dispatcher manages those of their own organisation,
the administration all of them (`rules.may_manage`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, ScalarSelect, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

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
from server.i18n import local_time
from server.incidents import linking
from server.incidents.commands import declarer_of
from server.incidents.rules import IncidentKind, is_overdue, may_manage, reach_of
from server.requests.workflow import Action
from server.shared.errors import NotFound
from server.shared.roles import Actor, OrgKind, Role
from server.shared.services import Services

MAX_LISTED = 100


@dataclass
class Notice:
    """One incident as a resident or the operator reads it."""

    id: int
    kind: str
    category: str
    category_id: int
    text: str
    starts_at: datetime
    expected_end: datetime
    resolved_at: datetime | None
    organisation: str
    version: int
    followed: bool = False
    followers: int = 0
    linked: int = 0
    buildings: int = 0

    @property
    def planned(self) -> bool:
        return self.kind == IncidentKind.PLANNED

    @property
    def overdue(self) -> bool:
        return is_overdue(self.expected_end, self.resolved_at, utcnow())

    @property
    def upcoming(self) -> bool:
        return self.resolved_at is None and self.starts_at > utcnow()

    @property
    def kind_label(self) -> str:
        return _("Плановое отключение") if self.planned else _("Авария")


@dataclass
class Page:
    notice: Notice
    addresses: list[str]
    entries: list[IncidentEntry] = field(default_factory=list)
    may_manage: bool = False
    to_verify: int = 0  # linked requests done whose work this viewer may check at once


def _count_of(
    model: type[IncidentFollower | IncidentRequest | IncidentBuilding],
    *where: ColumnElement[bool],
) -> ScalarSelect[Any]:
    """How many rows of `model` belong to the incident being selected (and match `where`)."""
    return (
        select(func.count())
        .select_from(model)
        .where(model.incident_id == Incident.id, *where)
        .scalar_subquery()
    )


def _notices(where: list[ColumnElement[bool]], follower_id: int | None = None) -> Select[Any]:
    followers = _count_of(IncidentFollower)
    linked = _count_of(IncidentRequest)
    buildings = _count_of(IncidentBuilding)
    followed = _count_of(IncidentFollower, IncidentFollower.user_id == (follower_id or 0))
    return (
        select(
            Incident,
            Category.name,
            Organisation.short_name,
            followers,
            linked,
            buildings,
            followed,
        )
        .join(Category, Category.id == Incident.category_id)
        .join(Organisation, Organisation.id == Incident.organisation_id)
        .where(*where)
        .order_by(Incident.starts_at.desc(), Incident.id.desc())
        .limit(MAX_LISTED)
    )


async def _read(session: AsyncSession, query: Select[Any]) -> list[Notice]:
    return [
        Notice(
            id=i.id,
            kind=i.kind,
            category=category,
            category_id=i.category_id,
            text=i.text,
            starts_at=i.starts_at,
            expected_end=i.expected_end,
            resolved_at=i.resolved_at,
            organisation=org,
            version=i.version,
            followers=int(followers),
            linked=int(linked),
            buildings=int(buildings),
            followed=bool(followed),
        )
        for i, category, org, followers, linked, buildings, followed in await session.execute(query)
    ]


def _of_buildings(building_ids: Select[Any] | CompoundSelect) -> ColumnElement[bool]:
    return Incident.id.in_(
        select(IncidentBuilding.incident_id).where(IncidentBuilding.building_id.in_(building_ids))
    )


def _active_now() -> ColumnElement[bool]:
    return (Incident.resolved_at.is_(None)) & (Incident.starts_at <= utcnow())


async def of_building(
    svc: Services, actor: Actor, building_id: int, category_id: int | None = None
) -> list[Notice]:
    """The active incidents of one building (of one category, if given)."""
    where = [_active_now(), _of_buildings(select(Building.id).where(Building.id == building_id))]
    if category_id is not None:
        where.append(Incident.category_id == category_id)
    async with svc.db.read() as session:
        return await _read(session, _notices(where, actor.user_id))


async def active_in(session: AsyncSession, buildings: Select[Any] | CompoundSelect) -> list[Notice]:
    """The active incidents of these buildings, read in the caller's session (the call card)."""
    return await _read(session, _notices([_active_now(), _of_buildings(buildings)]))


def resident_buildings(user_id: int) -> CompoundSelect:
    """The buildings a resident lives in as far as we know: of their requests, or subscribed."""
    return (
        select(Request.building_id)
        .where(Request.resident_id == user_id)
        .union(
            select(BuildingSubscription.building_id).where(BuildingSubscription.user_id == user_id)
        )
    )


async def for_resident(svc: Services, actor: Actor) -> list[Notice]:
    """Active incidents of the resident's buildings, those they follow, and planned ones
    announced for their buildings that have not started yet."""
    assert actor.user_id is not None
    followed = Incident.id.in_(
        select(IncidentFollower.incident_id).where(IncidentFollower.user_id == actor.user_id)
    )
    where = [
        Incident.resolved_at.is_(None),
        or_(_of_buildings(resident_buildings(actor.user_id)), followed),
    ]
    async with svc.db.read() as session:
        return await _read(session, _notices(where, actor.user_id))


async def subscribed(svc: Services, actor: Actor) -> set[int]:
    async with svc.db.read() as session:
        return set(
            await session.scalars(
                select(BuildingSubscription.building_id).where(
                    BuildingSubscription.user_id == actor.user_id
                )
            )
        )


async def for_staff(svc: Services, actor: Actor, *, active_only: bool = False) -> list[Notice]:
    """A dispatcher's: their organisation's; the administration's and the operator's: all."""
    where: list[ColumnElement[bool]] = []
    async with svc.db.read() as session:
        if actor.role is Role.DISPATCHER:
            where.append(Incident.organisation_id == actor.organisation_id)
        elif (
            actor.role is not Role.OPERATOR and reach_of(await declarer_of(session, actor)) is None
        ):
            return []
        if active_only or actor.role is Role.OPERATOR:
            where.append(Incident.resolved_at.is_(None))
        return await _read(session, _notices(where))


async def page(svc: Services, actor: Actor, incident_id: int) -> Page:
    """An incident's page: only for those who may manage it."""
    async with svc.db.read() as session:
        incident = await session.get(Incident, incident_id)
        if incident is None or not may_manage(
            await declarer_of(session, actor), incident.organisation_id
        ):
            raise NotFound(_("Авария не найдена."))
        notices = await _read(session, _notices([Incident.id == incident_id]))
        addresses = [
            f"{street}, {house}"
            for street, house in await session.execute(
                select(Building.street, Building.house)
                .join(IncidentBuilding, IncidentBuilding.building_id == Building.id)
                .where(IncidentBuilding.incident_id == incident_id)
                .order_by(Building.street, Building.id)
            )
        ]
        entries = list(
            await session.scalars(
                select(IncidentEntry)
                .where(IncidentEntry.incident_id == incident_id)
                .order_by(IncidentEntry.id)
            )
        )
        to_verify = await linking.linked_for(session, actor, incident_id, Action.VERIFY)
        return Page(notices[0], addresses, entries, may_manage=True, to_verify=len(to_verify))


async def served_buildings(svc: Services, actor: Actor) -> list[Building]:
    """The houses a УК/ТСЖ manages, to tick on the declaration form (others type ids)."""
    async with svc.db.read() as session:
        person = await declarer_of(session, actor)
        if person.org_kind not in (OrgKind.UK, OrgKind.TSJ):
            return []
        return list(
            await session.scalars(
                select(Building)
                .where(Building.manager_id == actor.organisation_id)
                .order_by(Building.street, Building.id)
                .limit(MAX_LISTED * 5)
            )
        )


async def served_streets(svc: Services, actor: Actor) -> list[str]:
    """Streets for «all buildings we serve on a street»: a УК/ТСЖ's own; otherwise all."""
    async with svc.db.read() as session:
        person = await declarer_of(session, actor)
        query = select(Building.street).distinct().order_by(Building.street)
        if person.org_kind in (OrgKind.UK, OrgKind.TSJ):
            query = query.where(Building.manager_id == actor.organisation_id)
        return list(await session.scalars(query))


async def notices_by_building(svc: Services, building_ids: set[int]) -> dict[int, str]:
    """For integrations (Open311 `service_notice`): what is known of each building now."""
    if not building_ids:
        return {}
    async with svc.db.read() as session:
        rows = await session.execute(
            select(IncidentBuilding.building_id, Incident, Category.name)
            .join(Incident, Incident.id == IncidentBuilding.incident_id)
            .join(Category, Category.id == Incident.category_id)
            .where(IncidentBuilding.building_id.in_(building_ids), _active_now())
            .order_by(Incident.id)
        )
        said: dict[int, list[str]] = {}
        for building_id, incident, category in rows:
            kind = (
                _("Плановое отключение") if incident.kind == IncidentKind.PLANNED else _("Авария")
            )
            said.setdefault(building_id, []).append(
                _(
                    "%(kind)s: %(what)s. %(text)s Ожидаемое окончание: %(end)s.",
                    kind=kind,
                    what=category,
                    text=incident.text,
                    end=local_time(incident.expected_end),
                )
            )
    return {building_id: " ".join(texts) for building_id, texts in said.items()}
