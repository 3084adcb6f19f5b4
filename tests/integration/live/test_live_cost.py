"""What one change costs the live pages: the same database work for 5 open pages as for 50,
and the same bytes for every page of one audience.

The app runs under uvicorn in the test's own event loop (the test client's WebSockets poll,
which would measure the client), so the statements can be counted on its engine."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from server.app import create_app
from server.db.session import Database
from server.live.bus import make_bus
from server.shared.services import Services
from tests.http import version_of
from tests.live_client import Browser, file_request, hello, last_entry
from tests.server_process import free_port
from tests.statements import Recorder, statements
from tests.world import World

# Four audiences of the request page, and the board of uk1's dispatchers.
REQUEST_VIEWERS = ("resident", "dispatcher", "operator", "cityadmin")
COMMENT = "Бригада выезжает"


@contextlib.asynccontextmanager
async def _serving(world: World, db: Database) -> AsyncIterator[str]:
    svc = Services(settings=world.settings, db=db, bus=make_bus("memory://"))
    port = free_port()
    config = uvicorn.Config(
        create_app(world.settings, services=svc), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn says so only through this flag
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _until(ws: Any, wanted: str) -> str:
    while True:
        message = str(await asyncio.wait_for(ws.recv(), 10))
        if wanted in message:
            return message


async def _one_change(world: World, pages: int) -> tuple[list[str], dict[str, set[str]]]:
    """Open `pages` request pages (the four viewers in turn) and `pages` boards, comment once;
    the statements the live views ran for it, and what each viewer's pages received."""
    db = Database(world.settings.database_url)
    async with _serving(world, db) as base:
        people = {who: await Browser(base, who).sign_in() for who in REQUEST_VIEWERS}
        request_id = await file_request(
            people["resident"], world.buildings["lenina12"], world.categories["leak"], "Течёт"
        )
        opened: list[tuple[str, Any]] = []
        for i in range(pages):
            who = REQUEST_VIEWERS[i % len(REQUEST_VIEWERS)]
            shown = last_entry(await people[who].page(f"/requests/{request_id}"))
            ws = await people[who].live(f"/live/requests/{request_id}")
            await ws.send(hello(last_entry=shown))
            await _until(ws, "request-state")
            opened.append((who, ws))
        for _ in range(pages):
            ws = await people["dispatcher"].live("/live/board")
            await ws.send(hello(search="", rows=[request_id]))
            await _until(ws, f"row-{request_id}")
            opened.append(("board", ws))

        recorder = Recorder(db)
        dispatcher = people["dispatcher"]
        version = version_of(await dispatcher.page(f"/requests/{request_id}"))
        response = await dispatcher.post(
            f"/requests/{request_id}/actions/comment", {"version": version, "reason": COMMENT}
        )
        assert response.status_code == 303, response.text
        received: dict[str, set[str]] = {}
        for who, ws in opened:
            wanted = COMMENT if who != "board" else f"row-{request_id}"
            received.setdefault(who, set()).add(await _until(ws, wanted))
        live = [
            s
            for task, s in recorder.log
            if task is not None and task.get_name().startswith("live-")
        ]
        for _who, ws in opened:
            await ws.close()
        for browser in people.values():
            await browser.close()
    await db.dispose()
    return statements(live), received


async def test_one_change_costs_the_same_database_work_for_5_and_for_50_open_pages(
    world: World,
) -> None:
    few, few_received = await _one_change(world, 5)
    many, many_received = await _one_change(world, 50)
    assert few, "the live views read the change from the database"
    assert len(many) == len(few), "\n".join(many)
    # Pages of one audience share the bytes: one message per state the pages are in, and they
    # are in at most two (pages opened more than a second apart read the request afresh, and
    # a relative time on it may have moved on), whatever the number of pages.
    for who in (*REQUEST_VIEWERS, "board"):
        assert len(many_received[who]) <= 2, who
        assert len(few_received[who]) <= 2, who
    # And the audiences differ: the resident is not shown what the dispatcher is.
    assert many_received["resident"] != many_received["dispatcher"]


async def test_pages_opening_at_once_share_the_session_read_and_the_first_state(
    world: World,
) -> None:
    """A dispatcher's twenty boards coming back at once (after a restart, say): each handshake
    needs who is signed in and each page its first state, but what is read for one serves all
    that ask while it is read."""
    pages = 20
    db = Database(world.settings.database_url)
    async with _serving(world, db) as base:
        dispatcher = await Browser(base, "dispatcher").sign_in()
        recorder = Recorder(db)

        async def open_board() -> Any:
            ws = await dispatcher.live("/live/board")
            await ws.send(hello(search="", rows=[]))
            await _until(ws, 'id="board"')
            return ws

        opened = await asyncio.gather(*(open_board() for _ in range(pages)))
        ran = statements([s for _task, s in recorder.log])
        for ws in opened:
            await ws.close()
        await dispatcher.close()
    await db.dispose()
    session_reads = [s for s in ran if "FROM web_sessions" in s]
    assert session_reads, "the handshakes read the session"
    assert len(session_reads) < pages, "\n".join(ran)
    assert len(ran) < pages, "\n".join(ran)
