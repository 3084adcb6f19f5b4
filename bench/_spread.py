"""The «spread» scenario of `bench/live.py`: a whole town of organisations, each dispatcher's
boards open at once, and the changes landing on a different organisation every round.

N pages are N/10 organisations × 10 boards (one signed-in dispatcher each). Round n files a
request at organisation n's house; the time is until the last of that organisation's ten boards
shows the row. The ceiling's sockets join groups of ten in the same way and each poke reaches one
group, so both sides deliver to ten pages out of N. At the end every board of an organisation
that no round touched is drained: a row there would be a leak between organisations."""

from __future__ import annotations

import asyncio
from typing import Any

import websockets

from bench._pages import ceiling_round, last_arrival, open_sides
from server.db.models import Building, Organisation, User
from server.db.session import Database
from server.settings import Settings
from server.shared.roles import OrgKind, Role
from tests.live_client import Browser, file_request, hello
from tests.world import _HASH, World

BOARDS_PER_ORGANISATION = 10
STREET = "улица Бенчмарка"


async def add_organisations(settings: Settings, count: int) -> list[tuple[str, int]]:
    """`count` management companies, each with one house and one dispatcher: (login, house)."""
    db = Database(settings.database_url)
    made: list[tuple[str, int]] = []
    try:
        async with db.begin() as session:
            for i in range(count):
                org = Organisation(kind=OrgKind.UK, name=f"ООО «УК {i}»", short_name=f"УК {i}")
                session.add(org)
                await session.flush()
                house = Building(
                    street=STREET,
                    house=str(i + 1),
                    search_key=f"{STREET} {i + 1}".lower(),
                    manager_id=org.id,
                )
                login = f"spread{i}"
                session.add_all(
                    [
                        house,
                        User(
                            login=login,
                            name=f"Диспетчер {i}",
                            role=Role.DISPATCHER,
                            organisation_id=org.id,
                            password_hash=_HASH,
                        ),
                    ]
                )
                await session.flush()
                made.append((login, house.id))
    finally:
        await db.dispose()
    return made


async def _stray_rows(sockets: list[Any]) -> int:
    async def drain(ws: Any) -> int:
        rows = 0
        while True:
            try:
                message = await asyncio.wait_for(ws.recv(), 0.2)
            except (TimeoutError, websockets.ConnectionClosed):
                return rows
            rows += 'id="row-' in message

    return sum(await asyncio.gather(*(drain(ws) for ws in sockets)))


async def measure_spread(
    _scenario: str,
    post_base: str,
    watch_base: str,
    watch_pid: int,
    ceiling_base: str,
    ceiling_pid: int,
    clients: int,
    rounds: int,
    world: World,
) -> dict[str, Any]:
    organisations = await add_organisations(world.settings, clients // BOARDS_PER_ORGANISATION)
    resident = await Browser(post_base, "resident").sign_in()
    dispatchers = [await Browser(watch_base, login).sign_in() for login, _house in organisations]
    category = world.categories["leak"]

    async def project_page(i: int) -> Any:
        ws = await dispatchers[i % len(dispatchers)].live("/live/board")
        await ws.send(hello(search="", rows=[]))
        await asyncio.wait_for(ws.recv(), 60)
        return ws

    async def ceiling_page(i: int) -> Any:
        ws = await websockets.connect(
            ceiling_base.replace("http://", "ws://") + "/ws", open_timeout=10
        )
        await ws.send(f"hello {i % len(dispatchers)}")
        await asyncio.wait_for(ws.recv(), 60)
        return ws

    def of_organisation(sockets: list[Any], k: int) -> list[Any]:
        return [ws for i, ws in enumerate(sockets) if i % len(dispatchers) == k]

    pages = len(dispatchers) * BOARDS_PER_ORGANISATION
    sides = await open_sides(
        pages, (watch_pid, project_page), (ceiling_pid, ceiling_page), ceiling_base
    )
    project, ceiling = sides.project, sides.ceiling
    try:
        for n in range(rounds):
            k = n % len(dispatchers)
            house = organisations[k][1]

            async def change() -> None:
                await file_request(resident, house, category, f"Замер {n}")  # noqa: B023

            sides.arrived(
                *await last_arrival(
                    of_organisation(project.sockets, k), lambda m: 'id="row-' in m, change
                )
            )
            await asyncio.sleep(0.2)

            sides.bare.append(
                await ceiling_round(of_organisation(ceiling.sockets, k), sides.poke, n, str(k))
            )
            await asyncio.sleep(0.2)
        untouched = [
            ws
            for k in range(min(rounds, len(dispatchers)), len(dispatchers))
            for ws in of_organisation(project.sockets, k)
        ]
        stray = await _stray_rows(untouched)
        if stray:
            print(f"spread: {stray} rows reached boards of organisations no round touched")
    finally:
        await sides.close()
        for browser in [resident, *dispatchers]:
            await browser.close()
    return sides.figures()
