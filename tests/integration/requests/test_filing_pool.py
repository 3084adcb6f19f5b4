"""Concurrent filings reuse the pool's connections: none is opened per request.

Counted with the pool's `connect` event (each new DBAPI connection) while 20 residents' filings
are in flight at once, 60 in all, through the whole stack: uvicorn serving the app in this
process, so that the requests really overlap. Both databases keep
a queue pool sized from the settings (docs/requests.md, «Connections»); a pool with overflow
would open and close a connection for each request beyond its size.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import uvicorn
from sqlalchemy import event, func, select

from server.app import create_app
from server.db.models import Request
from server.db.session import Database, PoolSize
from server.live.bus import make_bus
from server.shared.services import Services
from tests.conftest import run_async
from tests.http import CSRF_COOKIE
from tests.server_process import free_port
from tests.world import PASSWORD, World

CONCURRENT, FILINGS = 20, 60


async def _filings(world: World) -> tuple[int, int, int]:
    """Connections opened during the filings, the pool's size, and the requests stored."""
    settings = world.settings
    pool = PoolSize(settings.db_pool_size, settings.db_pool_overflow, settings.db_pool_timeout)
    db = Database(settings.database_url, pool)
    svc = Services(settings=settings, db=db, bus=make_bus("memory://"))
    opened = 0

    def connected(*_args: object) -> None:
        nonlocal opened
        opened += 1

    try:
        port = free_port()
        config = uvicorn.Config(
            create_app(settings, services=svc), host="127.0.0.1", port=port, log_level="warning"
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        for _ in range(500):  # up to 10 s for the lifespan to start
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                await client.get("/login")
                headers = {"x-csrftoken": client.cookies[CSRF_COOKIE]}
                signed_in = await client.post(
                    "/login", data={"login": "resident", "password": PASSWORD}, headers=headers
                )
                assert signed_in.status_code == 303
                event.listen(db.engine.sync_engine.pool, "connect", connected)
                gate = asyncio.Semaphore(CONCURRENT)

                async def file(n: int) -> None:
                    form = {
                        "building_id": str(world.buildings["lenina12"]),
                        "category_id": str(world.categories["leak"]),
                        "description": f"Течёт труба в подвале, заявка {n}",
                        "idempotency_key": uuid.uuid4().hex,
                    }
                    async with gate:
                        response = await client.post("/requests/new", data=form, headers=headers)
                    assert response.status_code == 303, response.text

                await asyncio.gather(*(file(n) for n in range(FILINGS)))
        finally:
            server.should_exit = True
            await serving
        async with db.read() as session:
            stored = int(await session.scalar(select(func.count()).select_from(Request)) or 0)
        return opened, settings.db_pool_size, stored
    finally:
        await db.dispose()


def test_concurrent_filings_open_no_connection_beyond_the_pool(world: World) -> None:
    opened, size, stored = run_async(_filings, world)
    assert stored == FILINGS
    assert opened <= size, f"{opened} connections opened for {FILINGS} filings (pool {size})"
