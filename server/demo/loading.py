"""Demo data: the town of Zainsk with its companies, houses, people and three weeks of requests.

Loaded only into an empty database (`python -m server demo`, or `serve` with DEMO=1). Every
request is filed and moved through the same services the app uses, by the people who would
do it (`server.demo.playing`), so each timeline is exactly what the app writes. Only the
moments are moved back afterwards, to spread the requests over the last three weeks as a
working town would.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.people import hash_password
from server.db.models import (
    ApiToken,
    Building,
    Category,
    Organisation,
    OrganisationContractor,
    Request,
    User,
    utcnow,
)
from server.db.session import Database
from server.demo.incidents import declare_incidents
from server.demo.names import CATEGORY_NAMES, ORGANISATION_NAMES
from server.demo.playing import filed_at, play
from server.demo.script import SCRIPT
from server.demo.town import (
    BUILDINGS,
    CATEGORIES,
    CONTRACTS,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    OPEN311_DEMO_KEY,
    ORGANISATIONS,
    STREETS,
    USERS,
)
from server.settings import Settings
from server.shared.events import IncidentEvent, RequestEvent
from server.shared.roles import Role
from server.shared.services import Services


class _QuietBus:
    """Nobody is watching while the demo loads: events go nowhere."""

    async def publish(self, event: RequestEvent | IncidentEvent) -> None:
        return None


@dataclass
class Town:
    """The town as loaded: its rows by their keys in the data."""

    orgs: dict[str, int] = field(default_factory=dict)
    buildings: dict[str, Building] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    dispatchers: dict[int, User] = field(default_factory=dict)  # organisation → its first
    contractor_staff: dict[int, User] = field(default_factory=dict)
    workers: dict[int, list[User]] = field(default_factory=dict)
    contracts: set[tuple[int, int]] = field(default_factory=set)


def _fast_commits(url: str) -> dict[str, Any]:
    """Hundreds of small transactions: on PostgreSQL, don't wait for each to reach the disk.
    A crash while loading can only cost demo data, which is reloaded into a fresh database."""
    if url.startswith("postgresql"):
        return {"connect_args": {"server_settings": {"synchronous_commit": "off"}}}
    return {}


async def _is_empty(db: Database) -> bool:
    async with db.read() as session:
        for model in (Organisation, User, Building, Category, Request):
            if await session.scalar(select(func.count()).select_from(model)):
                return False
    return True


async def load_demo(settings: Settings) -> bool:
    """Fill an empty database with the demo town. False, changing nothing, when not empty."""
    if settings.production and not settings.demo:
        raise RuntimeError("Демо-данные с паролем «demo» не загружаются в рабочую базу.")
    db = Database(settings.database_url, **_fast_commits(settings.database_url))
    try:
        if not await _is_empty(db):
            return False
        svc = Services(settings=settings, db=db, bus=_QuietBus())  # type: ignore[arg-type]
        now = utcnow()
        town = await create_town(db, now)
        rng = random.Random(416)
        # In the order they were filed, so that request numbers grow with time.
        script = sorted(SCRIPT, key=lambda spec: filed_at(spec.ago, now))
        for index, spec in enumerate(script):
            await play(svc, town, spec, now, rng, index)
        await declare_incidents(svc, town, now)
        return True
    finally:
        await db.dispose()


async def create_town(db: Database, now: datetime) -> Town:
    town = Town()
    since = now - timedelta(days=120)
    async with db.begin() as session:
        await _organisations(session, town, since)
        _buildings(session, town, since)
        _categories(session, town)
        await _people(session, town, since)
        session.add(
            ApiToken(
                name="Демо Open311",
                kind="open311",
                token_hash=hashlib.sha256(OPEN311_DEMO_KEY.encode()).hexdigest(),
                created_at=since,
            )
        )
        await session.flush()
    return town


async def _organisations(session: AsyncSession, town: Town, since: datetime) -> None:
    for key, kind, name, short, phone, inn in ORGANISATIONS:
        email = f"{key}@zainsk.example"
        name_tt, name_en, short_tt, short_en = ORGANISATION_NAMES.get(key, ("", "", "", ""))
        org = Organisation(kind=kind, name=name, short_name=short, phone=phone, inn=inn,
                           email=email, created_at=since, name_tt=name_tt, name_en=name_en,
                           short_name_tt=short_tt, short_name_en=short_en)  # fmt: skip
        session.add(org)
        await session.flush()
        town.orgs[key] = org.id
    for client, contractor in CONTRACTS:
        pair = town.orgs[client], town.orgs[contractor]
        session.add(OrganisationContractor(organisation_id=pair[0], contractor_id=pair[1]))
        town.contracts.add(pair)


def _buildings(session: AsyncSession, town: Town, since: datetime) -> None:
    for key, street, house, manager, floors, flats in BUILDINGS:
        # Houses stand along their street in the order of their numbers.
        lat, lon, dlat, dlon = STREETS[street]
        step = int("".join(c for c in house if c.isdigit()) or 1) - 1
        building = Building(
            street=street,
            house=house,
            search_key=f"{street} {house}".lower(),
            manager_id=town.orgs[manager] if manager else None,
            latitude=round(lat + dlat * step, 6),
            longitude=round(lon + dlon * step, 6),
            floors=floors,
            flats=flats,
            created_at=since,
        )
        session.add(building)
        town.buildings[key] = building


def _categories(session: AsyncSession, town: Town) -> None:
    for sort, (code, name, group, priority, minutes, summer, handler, text) in enumerate(
        CATEGORIES, start=1
    ):
        category = Category(
            code=code,
            name=name,
            name_tt=CATEGORY_NAMES.get(code, ("", ""))[0],
            name_en=CATEGORY_NAMES.get(code, ("", ""))[1],
            group=group,
            priority=priority,
            deadline_minutes=minutes,
            summer_deadline_minutes=summer,
            handler="organisation" if handler else "manager",
            handler_organisation_id=town.orgs[handler] if handler else None,
            description=text,
            sort=sort * 10,
        )
        session.add(category)
        town.categories[code] = category


async def _people(session: AsyncSession, town: Town, since: datetime) -> None:
    password = hash_password(DEMO_PASSWORD)  # once: hashing is slow on purpose
    for login, role, employer, name, phone in USERS:
        user = User(
            login=login,
            name=name,
            role=role,
            organisation_id=town.orgs[employer] if employer else None,
            phone=phone,
            password_hash=password,
            created_at=since + timedelta(days=len(town.users)),
        )
        session.add(user)
        await session.flush()
        town.users[login] = user
        staff_of = user.organisation_id or 0
        if role is Role.DISPATCHER:
            town.dispatchers.setdefault(staff_of, user)
        elif role is Role.CONTRACTOR:
            town.contractor_staff.setdefault(staff_of, user)
        elif role is Role.WORKER:
            town.workers.setdefault(staff_of, []).append(user)


__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "OPEN311_DEMO_KEY", "load_demo"]
