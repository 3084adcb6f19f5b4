"""A small, fixed town for tests, written straight to the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.accounts.people import hash_password
from server.db.models import (
    Building,
    Category,
    Organisation,
    OrganisationContractor,
    User,
)
from server.db.session import Database
from server.settings import Settings
from server.shared.roles import OrgKind, Role

PASSWORD = "password123"
_HASH = hash_password(PASSWORD)  # hashing once keeps the suite fast


@dataclass
class World:
    settings: Settings
    orgs: dict[str, int] = field(default_factory=dict)
    buildings: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


ORGS = [
    ("uk1", OrgKind.UK, "ООО «УК Заинск-Сервис»", "УК Заинск-Сервис"),
    ("uk2", OrgKind.UK, "ООО «УК Уютный дом»", "УК Уютный дом"),
    ("tsj", OrgKind.TSJ, "ТСЖ «Ленина 5»", "ТСЖ Ленина 5"),
    ("rso", OrgKind.RSO, "МУП «Заинский водоканал»", "Водоканал"),
    ("c1", OrgKind.CONTRACTOR, "ООО «Сантехмонтаж»", "Сантехмонтаж"),
    ("c2", OrgKind.CONTRACTOR, "ООО «ЛифтСервис»", "ЛифтСервис"),
    ("c3", OrgKind.CONTRACTOR, "ИП Гарипов", "ИП Гарипов"),
    ("admin", OrgKind.ADMINISTRATION, "Исполнительный комитет Заинского района", "Исполком"),
]
LINKS = [("uk1", "c1"), ("uk1", "c2"), ("uk2", "c3"), ("tsj", "c1"), ("rso", "c1")]
BUILDINGS = [
    ("lenina12", "улица Ленина", "12", "uk1"),
    ("mira3", "проспект Мира", "3", "uk1"),
    ("sovet7", "улица Советская", "7", "uk2"),
    ("lenina5", "улица Ленина", "5", "tsj"),
    ("orphan", "улица Новая", "1", None),
]
CATEGORIES = [
    # key, name, priority, minutes, summer, handler, handler org
    ("leak", "Протечка трубы", "emergency", 30, None, "manager", None),
    ("lift", "Не работает лифт", "urgent", 1440, None, "manager", None),
    ("window", "Разбито окно в подъезде", "normal", 1440, 4320, "manager", None),
    ("water", "Нет холодной воды", "emergency", 120, None, "organisation", "rso"),
    ("other", "Прочее", "normal", 11520, None, "manager", None),
]
USERS = [
    # key, role, org, phone
    ("resident", Role.RESIDENT, None, "+79170000001"),
    ("resident2", Role.RESIDENT, None, "+79170000002"),
    ("operator", Role.OPERATOR, None, None),
    ("dispatcher", Role.DISPATCHER, "uk1", None),
    ("dispatcher_b", Role.DISPATCHER, "uk1", None),
    ("dispatcher2", Role.DISPATCHER, "uk2", None),
    ("dispatcher_rso", Role.DISPATCHER, "rso", None),
    ("contractor", Role.CONTRACTOR, "c1", None),
    ("contractor2", Role.CONTRACTOR, "c2", None),
    ("contractor3", Role.CONTRACTOR, "c3", None),
    ("worker", Role.WORKER, "c1", None),
    ("worker_b", Role.WORKER, "c1", None),
    ("worker2", Role.WORKER, "c2", None),
    ("cityadmin", Role.CITY_ADMIN, "admin", None),
    ("sysadmin", Role.SYSADMIN, None, None),
]


async def build_world(settings: Settings) -> World:
    world = World(settings)
    db = Database(settings.database_url)
    try:
        async with db.begin() as session:
            for key, kind, name, short in ORGS:
                org = Organisation(kind=kind, name=name, short_name=short, phone="+78555800000")
                session.add(org)
                await session.flush()
                world.orgs[key] = org.id
            for org_key, contractor_key in LINKS:
                session.add(
                    OrganisationContractor(
                        organisation_id=world.orgs[org_key],
                        contractor_id=world.orgs[contractor_key],
                    )
                )
            for key, street, house, manager in BUILDINGS:
                building = Building(
                    street=street,
                    house=house,
                    search_key=f"{street} {house}".lower(),
                    manager_id=world.orgs[manager] if manager else None,
                )
                session.add(building)
                await session.flush()
                world.buildings[key] = building.id
            for sort, (key, name, priority, minutes, summer, handler, org) in enumerate(CATEGORIES):
                category = Category(
                    code=key,
                    name=name,
                    priority=priority,
                    deadline_minutes=minutes,
                    summer_deadline_minutes=summer,
                    handler=handler,
                    handler_organisation_id=world.orgs[org] if org else None,
                    sort=sort,
                )
                session.add(category)
                await session.flush()
                world.categories[key] = category.id
            for key, role, org, phone in USERS:
                user = User(
                    login=key,
                    phone=phone,
                    name=f"Тест {key}",
                    role=role,
                    organisation_id=world.orgs[org] if org else None,
                    password_hash=_HASH,
                )
                session.add(user)
                await session.flush()
                world.users[key] = user.id
    finally:
        await db.dispose()
    return world


async def add_houses(settings: Settings, street: str, houses: list[str]) -> dict[str, int]:
    """More houses on one street, unmanaged (their requests wait in triage): house → id."""
    db = Database(settings.database_url)
    try:
        async with db.begin() as session:
            added = [
                Building(street=street, house=house, search_key=f"{street} {house}".lower())
                for house in houses
            ]
            session.add_all(added)
            await session.flush()
            return {b.house: b.id for b in added}
    finally:
        await db.dispose()
