"""A town of 37 buildings for incident tests, residents with push devices, and readers of
what was written: push messages (as the people told), states, timelines."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from server.db.models import (
    Building,
    BuildingSubscription,
    IncidentEntry,
    OutboxMessage,
    PushSubscription,
    Request,
    TimelineEntry,
    User,
)
from server.db.session import Database
from server.settings import Settings
from server.shared.roles import Role
from tests.conftest import run_async
from tests.world import _HASH, World

STREET = "улица Строителей"


@dataclass
class Town:
    world: World
    # The five buildings of the incident, and one of the same УК that is not affected.
    affected: list[int] = field(default_factory=list)
    unaffected: int = 0
    residents: dict[str, int] = field(default_factory=dict)


async def _build(settings: Settings, world: World, names: list[str]) -> Town:
    town = Town(world)
    db = Database(settings.database_url)
    try:
        async with db.begin() as session:
            houses = [
                Building(
                    street=STREET,
                    house=str(n),
                    search_key=f"{STREET} {n}".lower(),
                    manager_id=world.orgs["uk1"],
                )
                for n in range(1, 33)
            ]
            session.add_all(houses)
            await session.flush()
            town.affected = [world.buildings["lenina12"], world.buildings["mira3"]] + [
                h.id for h in houses[:3]
            ]
            town.unaffected = houses[3].id
            for name in names:
                user = User(
                    login=name, name=f"Житель {name}", role=Role.RESIDENT, password_hash=_HASH
                )
                session.add(user)
                await session.flush()
                town.residents[name] = user.id
                session.add(
                    PushSubscription(
                        user_id=user.id,
                        endpoint=f"https://push.example.net/{name}",
                        p256dh="k",
                        auth="a",
                    )
                )
    finally:
        await db.dispose()
    return town


def build_town(settings: Settings, world: World, names: list[str]) -> Town:
    return run_async(_build, settings, world, names)


def _read(settings: Settings, fn):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        db = Database(settings.database_url)
        try:
            async with db.read() as session:
                return await fn(session)
        finally:
            await db.dispose()

    return run_async(go)


def last_outbox_id(settings: Settings) -> int:
    async def fn(session):  # type: ignore[no-untyped-def]
        return await session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())) or 0

    return _read(settings, fn)


def told_since(settings: Settings, after: int) -> dict[str, str]:
    """login → the push's reason, for every push written after outbox row `after`."""

    async def fn(session):  # type: ignore[no-untyped-def]
        rows = await session.execute(
            select(User.login, OutboxMessage.payload)
            .join(PushSubscription, PushSubscription.id == OutboxMessage.target_id)
            .join(User, User.id == PushSubscription.user_id)
            .where(OutboxMessage.channel == "push", OutboxMessage.id > after)
        )
        return {login: payload["reason"] for login, payload in rows}

    return _read(settings, fn)


def state_of(settings: Settings, request_id: int) -> str:
    async def fn(session):  # type: ignore[no-untyped-def]
        return (await session.get(Request, request_id)).state

    return _read(settings, fn)


def request_timeline(settings: Settings, request_id: int) -> list[str]:
    async def fn(session):  # type: ignore[no-untyped-def]
        return list(
            await session.scalars(
                select(TimelineEntry.kind)
                .where(TimelineEntry.request_id == request_id)
                .order_by(TimelineEntry.id)
            )
        )

    return _read(settings, fn)


def incident_timeline(settings: Settings, incident_id: int) -> list[str]:
    async def fn(session):  # type: ignore[no-untyped-def]
        return list(
            await session.scalars(
                select(IncidentEntry.kind)
                .where(IncidentEntry.incident_id == incident_id)
                .order_by(IncidentEntry.id)
            )
        )

    return _read(settings, fn)


def subscribe(settings: Settings, user_id: int, building_id: int) -> None:
    async def go() -> None:
        db = Database(settings.database_url)
        try:
            async with db.begin() as session:
                session.add(BuildingSubscription(user_id=user_id, building_id=building_id))
        finally:
            await db.dispose()

    run_async(go)
