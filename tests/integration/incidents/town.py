"""A town of 37 buildings for incident tests, residents with push devices, and readers of
what was written: push messages (as the people told), states, timelines; and an incident that
already absorbed many requests, written straight to the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import insert, select

from server.db.models import (
    Building,
    BuildingSubscription,
    Incident,
    IncidentBuilding,
    IncidentEntry,
    IncidentFollower,
    IncidentRequest,
    OutboxMessage,
    PushSubscription,
    Request,
    TimelineEntry,
    User,
    WorkOrder,
    utcnow,
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


TEXT = "Нет холодной воды: порыв на магистрали, устраняем"
OPEN_STATES = ["new", "assigned", "in_progress", "rework"]


@dataclass
class Linked:
    incident_id: int
    version: int
    moving: dict[int, int] = field(default_factory=dict)  # request → its resident
    staying: dict[int, int] = field(default_factory=dict)  # verified: left as it is
    follower: int = 0
    logins: dict[int, str] = field(default_factory=dict)  # resident → login


async def absorbing_incident(db: Database, world: World, tag: str, n: int) -> Linked:
    """An incident of two buildings that absorbed `n` open requests (states in turn, the
    assigned ones with a work order), one verified request and a follower; everyone has a
    push device."""
    now = utcnow()
    buildings = [world.buildings["lenina12"], world.buildings["mira3"]]
    async with db.begin() as session:
        incident = Incident(
            organisation_id=world.orgs["uk1"],
            kind="emergency",
            category_id=world.categories["leak"],
            text=TEXT,
            starts_at=now - timedelta(hours=1),
            expected_end=now + timedelta(hours=2),
        )
        session.add(incident)
        await session.flush()
        session.add_all(IncidentBuilding(incident_id=incident.id, building_id=b) for b in buildings)
        logins = [f"{tag}-{i}" for i in range(n + 2)]
        await session.execute(
            insert(User),
            [
                {"login": login, "name": login, "role": Role.RESIDENT, "password_hash": _HASH}
                for login in logins
            ],
        )
        users = list(
            await session.scalars(select(User.id).where(User.login.in_(logins)).order_by(User.id))
        )
        await session.execute(
            insert(PushSubscription),
            [
                {"user_id": u, "endpoint": f"https://push.example/{u}", "p256dh": "k", "auth": "a"}
                for u in users
            ],
        )
        states = [OPEN_STATES[i % len(OPEN_STATES)] for i in range(n)] + ["verified"]
        requests = []
        for i, (user, state) in enumerate(zip(users, states, strict=False)):
            request = Request(
                number=f"{tag}-{i}",
                resident_id=user,
                building_id=buildings[i % 2],
                category_id=world.categories["leak"],
                description="Нет воды",
                source="web",
                state=state,
                organisation_id=world.orgs["uk1"],
                contractor_id=world.orgs["c1"] if state != "new" else None,
                due_at=now + timedelta(hours=2),
                created_at=now,
                updated_at=now,
            )
            session.add(request)
            requests.append(request)
        await session.flush()
        session.add_all(
            WorkOrder(request_id=r.id, contractor_id=world.orgs["c1"], token=f"{tag}-{r.id}")
            for r in requests
            if r.state != "new"
        )
        session.add_all(IncidentRequest(request_id=r.id, incident_id=incident.id) for r in requests)
        session.add(IncidentFollower(incident_id=incident.id, user_id=users[-1]))
        await session.flush()
        return Linked(
            incident.id,
            incident.version,
            moving={r.id: r.resident_id for r in requests[:n]},
            staying={r.id: r.resident_id for r in requests[n:]},
            follower=users[-1],
            logins=dict(zip(users, logins, strict=True)),
        )
