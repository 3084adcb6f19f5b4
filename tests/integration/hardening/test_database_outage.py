"""The database stops under a running server (a private cluster, never the shared one)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx
import pytest

from server.db.migrate import upgrade
from server.settings import Settings, normalise_database_url
from tests.conftest import run_async
from tests.live_client import Browser, Timeline, comment, entry_ids, file_request, hello, last_entry
from tests.private_postgres import PrivateCluster, private_cluster
from tests.server_process import running_server
from tests.world import World, build_world

pytestmark = pytest.mark.slow


def test_outage_gives_a_russian_503_and_the_open_page_catches_up(settings: Settings) -> None:
    with private_cluster() as cluster:
        own = dataclasses.replace(
            settings, database_url=normalise_database_url(cluster.url), broadcast_url=cluster.url
        )
        upgrade(own.database_url)
        world = run_async(build_world, own)
        with running_server(own) as base:
            run_async(_scenario, base, cluster, world)


def _wait_ready(base: str, ready: bool, within: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = httpx.get(base + "/readyz", timeout=5)
        if (response.status_code == 200) == ready or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


async def _scenario(base: str, cluster: PrivateCluster, world: World) -> None:
    resident = await Browser(base, "resident").sign_in()
    dispatcher = await Browser(base, "dispatcher").sign_in()
    try:
        request_id = await file_request(
            resident, world.buildings["lenina12"], world.categories["leak"], "Течёт стояк"
        )
        html = await resident.page(f"/requests/{request_id}")
        timeline = Timeline(entry_ids(html))
        ws = await resident.live(f"/live/requests/{request_id}")
        await ws.send(hello(last_entry=last_entry(html)))

        await asyncio.to_thread(cluster.stop)

        page = await resident.client.get(f"/requests/{request_id}")
        assert page.status_code == 503
        assert page.headers["retry-after"].isdigit()
        assert "Сервис временно недоступен" in page.text
        assert "Войти" not in page.text, "a signed-in person is not told they are signed out"
        assert "/static/css/app.css" in page.text, "the same design"
        api = await resident.client.get("/api/v1/categories", headers={"Authorization": "Bearer x"})
        assert api.status_code == 503 and api.json()["error"] == "unavailable"
        not_ready = await asyncio.to_thread(_wait_ready, base, False)
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["database"] is False
        assert (await resident.client.get("/healthz")).status_code == 200

        # The live socket is told to come back later instead of being dropped.
        closed_with = None
        try:
            async with asyncio.timeout(30):
                while True:
                    timeline.take(await ws.recv())
        except Exception as exc:  # websockets' ConnectionClosed carries the close frame
            closed_with = getattr(getattr(exc, "rcvd", None), "code", None)
        assert closed_with == 1013, f"closed with {closed_with!r}"

        await asyncio.to_thread(cluster.start)
        assert (await asyncio.to_thread(_wait_ready, base, True)).status_code == 200

        await comment(dispatcher, request_id, "Слесарь выезжает")
        ws = await resident.live(f"/live/requests/{request_id}")
        try:
            await ws.send(hello(last_entry=timeline.ids[-1]))
            expected = entry_ids(await resident.page(f"/requests/{request_id}"))
            await timeline.read_until(ws, set(expected), within=20)
        finally:
            await ws.close()
        assert timeline.ids == expected, "the page ends with the whole timeline, in order"
        assert timeline.duplicates == []
    finally:
        await resident.close()
        await dispatcher.close()
