"""Two uvicorn processes on one PostgreSQL, with the PostgreSQL bus and with the Redis bus:
a change made through process A reaches a live page on process B, and when the bus connections
are cut in the middle of the stream, the page still ends with the whole timeline, each entry
exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import asyncpg
import pytest
from redis import asyncio as redis

from server.live.backends import LISTEN_NAME, split_url
from server.settings import Settings
from tests.conftest import run_async
from tests.live_client import Browser, Timeline, comment, entry_ids, file_request, hello, last_entry
from tests.server_process import running_server
from tests.world import World

pytestmark = pytest.mark.slow


def test_change_on_one_process_reaches_a_page_on_another_even_when_the_bus_drops(
    bus_url: str, world: World, settings: Settings
) -> None:
    with servers(settings, 2, BROADCAST_URL=bus_url) as (a, b):
        run_async(_scenario, a, b, bus_url, world)


@contextmanager
def servers(settings: Settings, count: int, **env: str) -> Iterator[list[str]]:
    """Several server processes, started side by side (each takes seconds to import)."""
    with ExitStack() as stack:
        managers = [running_server(settings, **env) for _ in range(count)]
        bases: list[str] = []
        failures: list[BaseException] = []
        with ThreadPoolExecutor(count) as pool:
            futures = [pool.submit(m.__enter__) for m in managers]
            for manager, future in zip(managers, futures, strict=True):
                try:
                    bases.append(future.result())
                    stack.push(manager)  # only started servers are stopped
                except Exception as exc:
                    failures.append(exc)
        if failures:
            raise failures[0]
        yield bases


async def _scenario(a: str, b: str, bus_url: str, world: World) -> None:
    resident = await Browser(a, "resident").sign_in()
    dispatcher = await Browser(a, "dispatcher").sign_in()
    watcher = Browser(b, "resident")  # the same person, their page served by process B
    watcher.client.cookies = resident.client.cookies
    try:
        request_id = await file_request(
            resident, world.buildings["lenina12"], world.categories["leak"], "Течёт стояк"
        )
        html = await watcher.page(f"/requests/{request_id}")
        timeline = Timeline(entry_ids(html))
        ws = await watcher.live(f"/live/requests/{request_id}")
        try:
            await ws.send(hello(last_entry=last_entry(html)))

            # 1. Across processes: written through A, shown by B.
            await comment(dispatcher, request_id, "Слесарь выезжает")
            await timeline.read_until(ws, set(await _timeline(resident, request_id)))
            assert "Слесарь выезжает" in "".join(timeline.messages)

            # 2. Cut every bus connection that listens for this deployment, change things
            # while it is down, and watch the page end complete.
            killed = await _cut_listeners(bus_url)
            assert len(killed) == 2, "one listening connection per process"
            for n in range(3):
                await comment(dispatcher, request_id, f"Пока шина лежит {n}")
            await timeline.read_until(ws, set(await _timeline(resident, request_id)), within=20)

            # 3. The bus is back on its own and carries new changes live again.
            await _wait_listening(bus_url, killed)
            await comment(dispatcher, request_id, "Шина снова работает")
            expected = await _timeline(resident, request_id)
            await timeline.read_until(ws, set(expected))

            assert timeline.ids == expected, "no gaps, in order"
            assert timeline.duplicates == [], "no entry shown twice"
        finally:
            await ws.close()
    finally:
        for browser in (resident, dispatcher, watcher):
            await browser.close()


async def _timeline(browser: Browser, request_id: int) -> list[int]:
    return entry_ids(await browser.page(f"/requests/{request_id}"))


async def _listeners(bus_url: str) -> set[str]:
    scheme, url, channel = split_url(bus_url)
    name = f"{LISTEN_NAME}.{channel}"
    if scheme == "postgresql":
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()",
                name,
            )
            return {str(r["pid"]) for r in rows}
        finally:
            await conn.close()
    client = redis.Redis.from_url(url)
    try:
        return {str(c["id"]) for c in await client.client_list(_type="pubsub") if c["name"] == name}
    finally:
        await client.aclose()


async def _cut_listeners(bus_url: str) -> set[str]:
    scheme, url, _ = split_url(bus_url)
    ids = await _listeners(bus_url)
    if scheme == "postgresql":
        conn = await asyncpg.connect(url)
        try:
            for pid in ids:
                await conn.execute("SELECT pg_terminate_backend($1)", int(pid))
        finally:
            await conn.close()
    else:
        client = redis.Redis.from_url(url)
        try:
            for client_id in ids:
                await client.execute_command("CLIENT", "KILL", "ID", client_id)
        finally:
            await client.aclose()
    return ids


async def _wait_listening(bus_url: str, killed: set[str]) -> None:
    for _ in range(200):
        now = await _listeners(bus_url)
        if len(now) == 2 and not now & killed:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the bus did not reconnect")
