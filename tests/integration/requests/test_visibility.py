"""«Who may see» is one rule: the SQL clause every list uses agrees with `workflow.may_view`.

A generated town holds a request for every state × resident (own / other) × organisation (own /
foreign / the triage queue) × contractor (own / other / none) × work order (none, nobody on
it, this worker, a colleague, a stranger, a reassigned one). For every kind of viewer, the ids
the database returns for `visible_to` must be exactly those `may_view` allows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.db.models import Request, RequestFollower, WorkOrder, utcnow
from server.db.session import Database
from server.live.bus import EventBus
from server.requests.field import worker_day
from server.requests.lists import BoardFilters, BoardRow, contractor_jobs, dispatcher_board
from server.requests.timeline import facts_of
from server.requests.visibility import visible_to
from server.requests.workflow import RequestFacts, State, may_view
from server.shared.roles import SYSTEM_ACTOR, Actor, Role
from server.shared.services import Services
from tests.conftest import run_async
from tests.world import USERS, World

# Who is on the request's work orders, oldest first: (worker login or None, still active).
ORDER_HISTORIES: dict[str, list[tuple[str | None, bool]]] = {
    "no order": [],
    "nobody on it": [(None, True)],
    "this worker": [("worker", True)],
    "a colleague": [("worker_b", True)],
    "a stranger": [("worker2", True)],
    "taken from this worker": [("worker", False), (None, True)],
    "withdrawn": [("worker", False)],
}

# Who follows the request besides its resident: nobody, a resident, or the other resident (so
# that a resident follows requests of their own too, which they see as its resident).
FOLLOWERS: tuple[tuple[str, ...], ...] = ((), ("resident",), ("resident2",))


@dataclass
class Generated:
    request_id: int
    facts: RequestFacts  # read as the pages read it, from the request and its active order
    history: str


async def _generate(world: World) -> list[Generated]:
    now = utcnow()
    generated: list[Generated] = []
    db = Database(world.settings.database_url)
    try:
        async with db.begin() as session:
            combinations = itertools.product(
                State,
                ("resident", "resident2"),
                ("uk1", "uk2", None),
                ("c1", "c2", None),
                ORDER_HISTORIES,
            )
            for n, (state, resident, org, contractor, history) in enumerate(combinations):
                request = Request(
                    resident_id=world.users[resident],
                    building_id=world.buildings["lenina12"],
                    category_id=world.categories["leak"],
                    description="Сгенерированная заявка",
                    source="web",
                    state=state,
                    organisation_id=world.orgs[org] if org else None,
                    contractor_id=world.orgs[contractor] if contractor else None,
                    due_at=now + timedelta(hours=1),
                    created_at=now,
                    updated_at=now,
                )
                session.add(request)
                await session.flush()
                followers = FOLLOWERS[n % len(FOLLOWERS)]
                for login in followers:
                    session.add(RequestFollower(request_id=request.id, user_id=world.users[login]))
                active: WorkOrder | None = None
                for k, (worker, is_active) in enumerate(ORDER_HISTORIES[history]):
                    order = WorkOrder(
                        request_id=request.id,
                        contractor_id=world.orgs[contractor or "c1"],
                        worker_id=world.users[worker] if worker else None,
                        token=f"t{n}-{k}",
                        active=is_active,
                    )
                    session.add(order)
                    await session.flush()
                    if is_active:
                        active = order
                follower_ids = frozenset(world.users[login] for login in followers)
                facts = facts_of(request, active, followers=follower_ids)
                generated.append(Generated(request.id, facts, history))
    finally:
        await db.dispose()
    return generated


async def _visible_ids(world: World, actors: list[Actor]) -> list[set[int]]:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            return [
                set(await session.scalars(select(Request.id).where(visible_to(actor))))
                for actor in actors
            ]
    finally:
        await db.dispose()


def _viewers(world: World) -> dict[str, Actor]:
    viewers = {
        login: Actor(world.users[login], role, world.orgs[org] if org else None)
        for login, role, org, _phone in USERS
    }
    viewers["system"] = SYSTEM_ACTOR
    # Half-known viewers: may_view matches nobody's missing id, not even a missing column.
    viewers["resident without an id"] = Actor(None, Role.RESIDENT)
    viewers["dispatcher without an organisation"] = Actor(
        world.users["dispatcher"], Role.DISPATCHER
    )
    viewers["contractor without an organisation"] = Actor(
        world.users["contractor"], Role.CONTRACTOR
    )
    viewers["worker without an id"] = Actor(None, Role.WORKER, world.orgs["c1"])
    return viewers


@pytest.fixture
def town(world: World) -> list[Generated]:
    return run_async(_generate, world)


def test_the_sql_clause_shows_each_viewer_exactly_what_may_view_allows(
    world: World, town: list[Generated]
) -> None:
    viewers = _viewers(world)
    found = run_async(_visible_ids, world, list(viewers.values()))
    for (name, actor), visible in zip(viewers.items(), found, strict=True):
        expected = {g.request_id for g in town if may_view(actor, g.facts)}
        assert visible == expected, (
            f"{name}: shown but not allowed {sorted(visible - expected)[:5]}, "
            f"allowed but not shown {sorted(expected - visible)[:5]}"
        )


def test_the_generated_town_gives_every_kind_of_viewer_something_to_see_and_to_miss(
    world: World, town: list[Generated]
) -> None:
    # Guards the test above against a world too thin to tell the rules apart.
    viewers = _viewers(world)
    everyone = {g.request_id for g in town}
    for name in ["resident", "dispatcher", "contractor", "worker", "worker_b", "worker2"]:
        allowed = {g.request_id for g in town if may_view(viewers[name], g.facts)}
        assert allowed and allowed != everyone, name
    resident = viewers["resident"]
    followed = {g.request_id for g in town if resident.user_id in g.facts.followers}
    others = {g.request_id for g in town if g.facts.resident_id != resident.user_id}
    assert {g.request_id for g in town if may_view(resident, g.facts)} & followed & others
    worker = viewers["worker"]
    seen_by_worker = {g.history for g in town if may_view(worker, g.facts)}
    assert seen_by_worker == {
        "no order",
        "nobody on it",
        "this worker",
        "taken from this worker",
        "withdrawn",
    }


async def _lists(world: World) -> dict[str, set[int]]:
    db = Database(world.settings.database_url)
    svc = Services(settings=world.settings, db=db, bus=EventBus())
    viewers = _viewers(world)
    in_work = BoardFilters(state="open")
    try:
        return {
            "contractor jobs": _ids(await contractor_jobs(svc, viewers["contractor"], in_work)),
            "worker jobs": _ids(await contractor_jobs(svc, viewers["worker"], in_work)),
            "worker day": {j.request.id for j in (await worker_day(svc, viewers["worker"])).to_do},
            "new on the board": _ids(
                await dispatcher_board(svc, viewers["dispatcher"], BoardFilters("new"))
            ),
        }
    finally:
        await db.dispose()


def _ids(rows: list[BoardRow]) -> set[int]:
    return {row.request.id for row in rows}


def test_the_lists_show_what_may_view_allows_in_the_states_they_are_for(
    world: World, town: list[Generated]
) -> None:
    viewers = _viewers(world)

    def allowed(viewer: str, states: set[State]) -> set[int]:
        return {
            g.request_id
            for g in town
            if g.facts.state in states and may_view(viewers[viewer], g.facts)
        }

    # «В работе»: the work the contractor still owes (work reported done waits under
    # «Ждут проверки»).
    owed = {State.ASSIGNED, State.IN_PROGRESS, State.REWORK}
    lists = run_async(_lists, world)
    assert lists["contractor jobs"] == allowed("contractor", owed)
    assert lists["worker jobs"] == allowed("worker", owed)
    assert lists["worker day"] == allowed("worker", owed)
    assert lists["new on the board"] == allowed("dispatcher", {State.NEW})
